"""``newsqa follow URL... --index DIR [--every MINUTES] [--once] [--json]``: argv -> lines printed, exit code;
``newsqa serve --follow URL...``: the browser chat, following in the background.

A thin door onto ``index.follow``: one line per checked, fetched, skipped or failed URL
as it happens (``--json``: one JSON object per line), a summary after each pass. In the
chat, a "Followed sources" panel shows when each source was last checked and what it added.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import SettingsError

if TYPE_CHECKING:
    from index.follow import FollowSettings
    from qa.assistant import Assistant

log = logging.getLogger(__name__)


def add_follow_parser(sub: Any) -> None:
    """Register the ``follow`` subcommand on the CLI's subparsers."""
    follow = sub.add_parser("follow", help="poll news feeds, sitemaps or pages into an index, keeping it fresh")
    follow.add_argument("urls", nargs="+", metavar="URL", help="RSS/Atom feed, sitemap, article page or home page")
    follow.add_argument("--index", type=Path, required=True, help="index folder (created if missing)")
    follow.add_argument("--every", type=float, default=15.0, help="minutes between polls (default 15)")
    follow.add_argument("--once", action="store_true", help="poll once and exit")
    follow.add_argument("--json", action="store_true", help="one JSON object per line")
    follow.add_argument("--delay", type=float, default=1.0, help="seconds between requests to one host (default 1)")
    follow.add_argument("--timeout", type=float, default=15.0, help="seconds before a request gives up (default 15)")
    follow.add_argument("--embedder", help="embedding model of a new index (default all-MiniLM-L6-v2:int8)")


def _print(obj: dict[str, Any] | str, as_json: bool) -> None:
    print(json.dumps(obj, ensure_ascii=False) if as_json else obj, flush=True)


def cmd_follow(args: argparse.Namespace) -> int:
    """Run ``newsqa follow``; Ctrl-C stops the loop cleanly (status 0)."""
    from index.follow import FetchSettings, FollowLine, FollowReport, FollowSettings, follow, follow_once
    from index.settings import IndexSettings

    if args.every <= 0:
        raise SettingsError("--every: minutes must be > 0")
    settings = FollowSettings(fetch=FetchSettings(delay=args.delay, timeout=args.timeout))
    index_settings = IndexSettings(embedder=args.embedder) if args.embedder else None

    def line(item: FollowLine) -> None:
        _print(item.to_dict() if args.json else item.text(), args.json)

    def summary(report: FollowReport) -> None:
        counts = {
            "status": "summary",
            "added": report.added,
            "replaced": report.replaced,
            "skipped": report.count("skipped"),
            "failed": report.count("failed"),
            "requests": report.requests,
            "articles": report.articles_total,
            "seconds": round(report.seconds, 2),
        }
        _print(counts if args.json else report.summary(), args.json)

    if args.once:
        summary(follow_once(args.urls, args.index, settings, index_settings, on_line=line))
        return 0
    stop = threading.Event()
    try:
        follow(args.urls, args.index, args.every, stop, settings, index_settings, on_line=line, on_report=summary)
    except KeyboardInterrupt:
        stop.set()
        print("newsqa follow: stopped", file=sys.stderr)
    return 0


class BackgroundFollower:
    """Polls ``urls`` into ``assistant``'s index from a daemon thread; the assistant reloads after a
    pass that added articles. ``status_markdown()`` is what the chat shows."""

    def __init__(
        self, assistant: Assistant, urls: Sequence[str], every_minutes: float, settings: FollowSettings | None = None
    ) -> None:
        self.assistant = assistant
        self.urls = list(urls)
        self.every = every_minutes
        self.settings = settings
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="newsqa-follow", daemon=True)
        self.last_error = ""

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=60)

    def _loop(self) -> None:
        from index.errors import NewsQAError
        from index.follow import follow_once

        while not self.stop_event.is_set():
            try:
                report = follow_once(self.urls, self.assistant.index_dir, self.settings, None, self.assistant.embedder)
                self.last_error = ""
                if report.added or report.replaced:
                    self.assistant.reload()
            except NewsQAError as exc:  # an index or state problem: shown in the panel, tried again next time
                self.last_error = str(exc)
                log.warning("newsqa follow: %s", exc)
            self.stop_event.wait(self.every * 60)

    def status_markdown(self) -> str:
        """The followed sources: when each was last checked and what it last added."""
        from index.errors import NewsQAError
        from index.follow import load_state

        try:
            sources = load_state(self.assistant.index_dir).sources
        except NewsQAError as exc:
            return f"Following is paused: {exc}"
        rows = ["| source | last checked | added |", "|---|---|---|"]
        for url in self.urls:
            state = sources.get(url)
            checked = _clock(state.checked) if state else "not yet"
            if state and state.error:
                checked += f" (failed: {state.error})"
            added = "nothing yet"
            if state and state.added_at:
                added = f"{state.added} new article{'s' if state.added != 1 else ''}, {_clock(state.added_at)}"
            rows.append(f"| {url} | {checked} | {added} |")
        note = f"\n\nLast pass failed: {self.last_error}" if self.last_error else ""
        return f"Checked every {self.every:g} minutes.\n\n" + "\n".join(rows) + note


def _clock(iso: str) -> str:
    """``09:40`` today, ``2026-03-02 09:40`` another day (local time)."""
    from datetime import datetime

    if not iso:
        return "never"
    moment = datetime.fromisoformat(iso).astimezone()
    today = datetime.now().astimezone().date()
    return moment.strftime("%H:%M" if moment.date() == today else "%Y-%m-%d %H:%M")


def serve_following(
    urls: Sequence[str],
    every_minutes: float,
    index_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
) -> None:
    """``newsqa serve --follow URL...``: the browser chat, with the sources polled in the background
    and shown under it. A new index is filled by one pass before the chat opens."""
    from index.follow import follow_once
    from index.store.generations import current_generation
    from qa import load_assistant
    from qa.sample import default_index_dir
    from ui.inputs import login_from_env
    from ui.web import launch

    root = index_dir or default_index_dir()
    if current_generation(root) is None:
        follow_once(urls, root, on_line=lambda line: print(line.text(), flush=True))
    assistant = load_assistant(root)
    assistant.warm_up()
    follower = BackgroundFollower(assistant, urls, every_minutes)
    follower.start()
    try:
        launch(build_following_app(follower), host, port, share, login_from_env())
    finally:
        follower.stop_event.set()


def build_following_app(follower: BackgroundFollower) -> Any:
    """The chat page of ``follower.assistant`` with a "Followed sources" panel under it, refreshed every 30 s."""
    import gradio as gr  # imported here: `newsqa follow` never loads Gradio

    from ui.web import build_app

    with gr.Blocks(title="newsqa: ask the news", analytics_enabled=False, fill_width=True) as page:
        chat: Any = build_app(follower.assistant)
        chat.render()
        with gr.Accordion("Followed sources", open=True, elem_id="nq-follow"):
            panel = gr.Markdown(follower.status_markdown())
        gr.Timer(30).tick(follower.status_markdown, None, panel, api_visibility="private")
    return page


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    """``newsqa serve --follow URL... [--every MINUTES]``."""
    serve.add_argument("--follow", nargs="+", metavar="URL", default=[], help="poll these feeds or pages meanwhile")
    serve.add_argument("--every", type=float, default=15.0, help="minutes between polls with --follow (default 15)")


def cmd_serve_following(args: argparse.Namespace) -> int:
    """Run ``newsqa serve --follow URL...``."""
    if args.every <= 0:
        raise SettingsError("--every: minutes must be > 0")
    serve_following(args.follow, args.every, args.index, args.host, args.port, args.share)
    return 0
