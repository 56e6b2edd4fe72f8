"""The command line: newsqa index | ask | chat | remove | serve | follow (argv -> exit code).

A thin door onto the same engine as the API and the browser chat (``ui.web``): it turns
errors into messages and nothing else. The console script ``newsqa`` runs :func:`main`.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from index.errors import NewsQAError, SettingsError
from index.settings import IndexSettings, override, read_toml
from qa.records import Answer, Filters
from qa.settings import QASettings
from ui.follow import add_follow_parser, add_serve_options, cmd_follow, cmd_serve_following
from ui.text import terminal_safe, valid_unicode


def _quiet_libraries() -> None:
    """No model-loading chatter on a user's terminal (set before the libraries load)."""
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newsqa", description="Answers questions about news articles with quotes.")
    parser.add_argument("--config", type=Path, help="TOML settings file with [index] and [qa] tables")
    sub = parser.add_subparsers(dest="command", required=True)

    index = sub.add_parser("index", help="add articles (files or folders) to an index")
    index.add_argument("paths", nargs="+", type=Path)
    index.add_argument("--index", type=Path, help="index folder (default: the sample index)")
    index.add_argument("--rebuild", action="store_true", help="start a new index instead of adding to it")
    index.add_argument(
        "--embedder",
        help="sentence-transformers model name or path, MODEL:int8 to run it as int8 ONNX "
        "(default all-MiniLM-L6-v2:int8; new index only)",
    )
    index.add_argument("--fields", help="field names of JSON/CSV inputs, e.g. text=body,published=date")
    index.add_argument("--quiet", action="store_true", help="no progress bar, no per-file report")
    index.add_argument("--max-mb", type=float, default=50.0, help="reject files larger than this (MB; default 50)")
    index.add_argument(
        "--workers",
        type=int,
        help="embed in resumable shards with N Ray workers (0: this process, no Ray); builds a new index",
    )
    index.add_argument("--ray-address", help="Ray cluster for --workers, e.g. auto or head:6379 (default: local Ray)")
    index.add_argument("--store", choices=["faiss", "milvus"], help="where the chunk vectors live (new index only)")
    index.add_argument(
        "--milvus-uri",
        help="for --store milvus: http://host:19530 (token from NEWSQA_MILVUS_TOKEN) or a Milvus Lite .db path "
        "(default: Milvus Lite inside each index generation)",
    )
    index.add_argument(
        "--shards", type=Path, help="shard folder for --workers (default: INDEX.shards beside the index)"
    )

    def question_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--index", type=Path, help="index folder (default: the bundled sample)")
        p.add_argument("--today", type=_day, help="the day the question is asked (YYYY-MM-DD; default: the local date)")
        p.add_argument("--source", action="append", default=[], help="only articles from this source (repeatable)")
        p.add_argument("--from", dest="published_from", type=_day, help="only articles published on or after")
        p.add_argument("--to", dest="published_to", type=_day, help="only articles published on or before")
        p.add_argument("--retrieval", choices=["hybrid", "dense", "keyword"], help="search mode")

    ask = sub.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print Answer.to_dict() as JSON")
    question_options(ask)

    chat = sub.add_parser("chat", help="ask questions in a terminal conversation")
    question_options(chat)

    remove = sub.add_parser("remove", help="delete articles from an index by id")
    remove.add_argument("ids", nargs="+")
    remove.add_argument("--index", type=Path, required=True)

    serve = sub.add_parser("serve", help="start the browser chat")
    serve.add_argument("--index", type=Path, help="index folder (default: the bundled sample)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860)
    serve.add_argument("--share", action="store_true", help="also open a public share link (off by default)")
    add_serve_options(serve)
    add_follow_parser(sub)
    return parser


def _config(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    if args.config is None:
        return {}, {}
    data = read_toml(args.config)
    unknown = sorted(set(data) - {"index", "qa"})
    if unknown:
        raise SettingsError(f"{args.config}: unknown table(s) {', '.join(unknown)}; use [index] and [qa]")
    return dict(data.get("index", {})), dict(data.get("qa", {}))


def _qa_settings(args: argparse.Namespace, values: dict[str, Any]) -> QASettings:
    if getattr(args, "retrieval", None):
        values = {**values, "retrieval": args.retrieval}
    return override(QASettings(), values, str(args.config or "settings")) if values else QASettings()


def _filters(args: argparse.Namespace) -> Filters:
    return Filters(tuple(args.source), args.published_from, args.published_to)


def _print_answer(answer: Answer) -> None:
    """The answer, its quotes and sources as text; what the articles say passes through terminal_safe."""
    _say(answer.answer)
    if answer.standalone_question and answer.standalone_question != answer.question:
        _say(f"  (understood as: {answer.standalone_question})")
    for citation in answer.quotes:
        meta = ", ".join(
            x
            for x in [citation.title, citation.source, citation.published.isoformat() if citation.published else ""]
            if x
        )
        _say(f"\n[{citation.n}] “{citation.quote.text}”")
        _say(
            f"    {meta} (characters {citation.quote.start}–{citation.quote.end})"
            + (f" {citation.url}" if citation.url else "")
        )
    if answer.abstained and answer.passages:
        _say("\nClosest passages:")
        for passage in answer.passages[:3]:
            snippet = " ".join(passage.text.split())
            _say(f"  - {snippet[:200]}{'…' if len(snippet) > 200 else ''}")
    _say(f"\n({answer.timings_ms.get('total', 0.0):.0f} ms)")


def _say(text: str = "") -> None:
    """Print ``text`` from the articles or the user, with no escape sequence or control character."""
    print(terminal_safe(text))


def _cmd_index(args: argparse.Namespace, index_values: dict[str, Any]) -> int:
    from index.build import build_index
    from index.read.ingest import FieldMap
    from qa.sample import default_index_dir

    if args.embedder:
        index_values = {**index_values, "embedder": args.embedder}
    if args.store:
        index_values = {**index_values, "store": args.store}
    if args.milvus_uri:
        if index_values.get("store") != "milvus":
            raise SettingsError("--milvus-uri needs --store milvus")
        index_values = {**index_values, "milvus_uri": args.milvus_uri}
    settings = override(IndexSettings(), index_values, str(args.config or "settings"))
    fields = FieldMap()
    if args.fields:
        try:
            pairs = dict(item.split("=", 1) for item in args.fields.split(","))
        except ValueError as exc:
            raise SettingsError(f"--fields {args.fields!r}: use name=field pairs, e.g. text=body,url=link") from exc
        fields = override(FieldMap(), pairs, "--fields")
    root = args.index or default_index_dir()
    if args.workers is not None:
        return _index_distributed(args, settings, fields, root)
    if args.ray_address or args.shards:
        raise SettingsError("--ray-address and --shards need --workers")
    if not args.rebuild:
        _refuse_new_settings_on_existing(root, index_values)
    started = time.perf_counter()
    report = build_index(
        args.paths,
        root,
        settings,
        fields=fields,
        rebuild=args.rebuild,
        progress=not args.quiet,
        max_bytes=int(args.max_mb * 1024 * 1024),
    )
    elapsed = time.perf_counter() - started
    if not args.quiet:
        for line in report.ingest:
            detail = f" ({line.reason})" if line.reason else ""
            _say(f"{line.status:9} {line.articles:6d}  {line.path}{detail}")
    # a line whose path names a record ("file.jsonl:line 3") is one record, not a file
    records = [
        line for line in report.ingest if line.status == "rejected" and re.search(r":(line|record|entry) ", line.path)
    ]
    files = sum(1 for line in report.ingest if line.status == "rejected") - len(records)
    print(
        f"{root}: {report.added} added, {report.replaced} replaced, {report.unchanged} unchanged, "
        f"{report.duplicates} duplicates, {files} files and {len(records)} records rejected; "
        f"{report.articles_total} articles, "
        f"{report.chunks_total} chunks in {report.generation}"
    )
    if report.chunks_embedded:
        print(
            f"embedded {report.chunks_embedded} chunks in {report.embed_seconds:.1f} s "
            f"({report.chunks_per_second:.1f} chunks/s, {(report.added + report.replaced) / elapsed:.1f} articles/s); "
            f"total {elapsed:.1f} s"
        )
    return 0


def _refuse_new_settings_on_existing(root: Path, index_values: dict[str, Any]) -> None:
    """An existing index keeps the settings it was built with: asking for others is an error, not ignored."""
    from index.store.generations import current_generation, read_manifest

    if current_generation(root) is None or not index_values:
        return
    _, manifest = read_manifest(root)
    built = manifest.get("settings", {})
    differ = {k: v for k, v in index_values.items() if k in built and built[k] != v}
    if differ:
        asked = ", ".join(f"{k}={v!r} (index: {built[k]!r})" for k, v in sorted(differ.items()))
        raise SettingsError(f"{root} was built with other settings: {asked}; add --rebuild to start a new index")


def _index_distributed(args: argparse.Namespace, settings: IndexSettings, fields: Any, root: Path) -> int:
    """``newsqa index --workers N``: embed over Ray in resumable shards, then build the index from them."""
    from index.build import refuse_if_all_rejected
    from index.distributed import embed_to_shards, index_from_shards
    from index.read.ingest import ingest_paths
    from index.store.generations import current_generation

    if current_generation(root) is not None and not args.rebuild:
        raise SettingsError(
            f"{root}: --workers builds a whole new index; add --rebuild, or add articles without --workers"
        )
    if args.workers < 0:
        raise SettingsError(f"--workers {args.workers}: must be 0 (this process) or more")
    result = ingest_paths(args.paths, fields, max_bytes=int(args.max_mb * 1024 * 1024))
    if not args.quiet:
        for line in result.report:
            detail = f" ({line.reason})" if line.reason else ""
            _say(f"{line.status:9} {line.articles:6d}  {line.path}{detail}")
    refuse_if_all_rejected(result.articles, result.report)
    shards = args.shards or root.with_name(root.name + ".shards")
    report = embed_to_shards(result.articles, shards, settings, args.workers, args.ray_address)
    print(
        f"{shards}: {len(report.embedded)} shards embedded, {len(report.skipped)} already done, "
        f"of {report.shards_total}; {report.chunks_embedded} chunks in {report.seconds:.1f} s"
    )
    built = index_from_shards(shards, result.articles, root, settings)
    print(
        f"{root}: {built.articles_total} articles, {built.duplicates} duplicates, "
        f"{built.chunks_total} chunks in {built.generation}"
    )
    return 0


def _start_entity_model(question: str, settings: QASettings) -> None:
    """A question that will need spaCy's entities (a name question, or any with the trained
    reader): start loading the model in a process of its own before the index loads, so that
    the two load side by side on two cores (qa/ner_worker.py, docs/benchmarks/cold_cli.md)."""
    from qa.kinds import NAME_KINDS, answer_type
    from qa.ner import shared_tagger
    from qa.question import asking_sentence

    if settings.entities and (settings.reader == "trained" or answer_type(asking_sentence(question)) in NAME_KINDS):
        shared_tagger().start_worker()


def _cmd_ask(args: argparse.Namespace, qa_values: dict[str, Any]) -> int:
    from qa.assistant import load_assistant

    settings = _qa_settings(args, qa_values)
    question = valid_unicode(args.question)  # bytes that were not UTF-8 show as U+FFFD
    _start_entity_model(question, settings)
    assistant = load_assistant(args.index, settings)
    answer = assistant.ask(question, today=args.today, filters=_filters(args))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def _cmd_chat(args: argparse.Namespace, qa_values: dict[str, Any]) -> int:
    from qa.assistant import load_assistant
    from qa.records import Turn

    assistant = load_assistant(args.index, _qa_settings(args, qa_values))
    history: list[Turn] = []
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="replace")  # a line that is not UTF-8 is a question, not the end
    print("Ask about the articles (an empty line or Ctrl-D ends).")
    while True:
        try:
            question = input("\n> ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = assistant.chat(history, question, today=args.today, filters=_filters(args))
        except NewsQAError as exc:
            _say(f"newsqa: {exc}")
            continue
        _print_answer(answer)
        history.append(Turn.from_answer(answer))


def _cmd_remove(args: argparse.Namespace) -> int:
    from index.build import remove_articles

    report = remove_articles(args.index, args.ids)
    for line in report.ingest:
        print(f"not found: {line.path}")
    print(f"{args.index}: {report.removed} removed; {report.articles_total} articles in {report.generation}")
    return 0 if not report.ingest else 1


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.follow:
        return cmd_serve_following(args)
    from ui.web import serve

    serve(index_dir=args.index, host=args.host, port=args.port, share=args.share)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one command; user errors print ``newsqa: error: ...`` and exit with status 2."""
    _quiet_libraries()
    args = _parser().parse_args(argv)
    try:
        index_values, qa_values = _config(args)
        if args.command == "index":
            return _cmd_index(args, index_values)
        if args.command == "ask":
            return _cmd_ask(args, qa_values)
        if args.command == "chat":
            return _cmd_chat(args, qa_values)
        if args.command == "remove":
            return _cmd_remove(args)
        if args.command == "follow":
            return cmd_follow(args)
        return _cmd_serve(args)
    except NewsQAError as exc:
        print(terminal_safe(f"newsqa: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("newsqa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # output piped into a program that stopped reading (e.g. head): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
