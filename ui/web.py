"""The browser chat: Assistant -> Gradio Blocks (chat, sources, filters, adding articles); serve() runs it.

Everything the page does goes through the same ``Assistant`` as the CLI and the API
(``chat`` for questions, ``index.build.add_articles`` + ``reload`` for new articles).
Safe by default: bound to 127.0.0.1, no share link, analytics off, optional login from
``NEWSQA_USER`` / ``NEWSQA_PASSWORD``, no extra folder served, a bounded queue.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from index.errors import NewsQAError, SettingsError
from index.read.ingest import IngestLine, IngestResult, ingest_bytes, ingest_text
from index.records import Article
from index.store.tables import ArticleTable
from qa.assistant import Assistant, load_assistant, resolve_today
from qa.records import Turn
from ui.examples import example_questions
from ui.inputs import login_from_env, make_filters, parse_day, remove_uploads
from ui.render import render_answer, render_error, render_ingest, render_pending
from ui.text import valid_unicode
from ui.theme import CSS, HEAD, SCROLL_TO_ANSWER

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger("newsqa.ui")

ALLOWED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".csv", ".xml", ".rss", ".atom")
MAX_FILE_BYTES = 10 * 1024 * 1024  # per uploaded file
MAX_FILES = 20
EXAMPLE_POOL = 200  # newest articles whose titles suggest example questions
MAX_PASTE_CHARS = 200_000
QUEUE_SIZE = 64  # waiting requests beyond this are told the queue is full instead of piling up
CONCURRENCY = 2  # answers computed at once (2 CPU cores)
GENERIC_ERROR = "Something went wrong while answering. The error was logged; please try again."


def _gradio() -> Any:
    """Import gradio with its analytics off (the variable must be set before the import)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio

    return gradio


@dataclass(frozen=True)
class Exchange:
    """One turn as the page keeps it: the question, its rendered message, and the answer text (None on error)."""

    question: str
    html: str
    answer: str | None


def _messages(exchanges: Sequence[Exchange]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for ex in exchanges:
        out.append({"role": "user", "content": escape(ex.question)})
        out.append({"role": "assistant", "content": ex.html})
    return out


class ChatHandlers:
    """The page's callbacks, bound to one Assistant (plain methods: testable without a browser)."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    def sources(self) -> list[str]:
        articles = self.assistant.data.articles  # a loaded index's table: its source column, nothing parsed
        names = articles.source_names() if isinstance(articles, ArticleTable) else {a.source for a in articles.values()}
        return sorted(s for s in names if s)

    def examples(self) -> list[str]:
        articles = self.assistant.data.articles
        if isinstance(articles, ArticleTable):  # the newest few hundred, not a million parsed and sorted
            return example_questions(articles.newest(EXAMPLE_POOL))
        return example_questions(articles.values())

    def respond(
        self,
        message: str,
        exchanges: list[Exchange] | None,
        sources: Sequence[str] | None = None,
        published_from: object = None,
        published_to: object = None,
        today: object = None,
    ) -> Iterator[tuple[str, list[dict[str, str]], list[Exchange]]]:
        """Answer ``message`` in the context of the earlier exchanges; yields a pending message first."""
        history = list(exchanges or [])
        question = valid_unicode(message or "").strip()
        if not question:
            yield "", _messages(history), history
            return
        yield "", [*_messages(history), {"role": "user", "content": escape(question)},
                   {"role": "assistant", "content": render_pending()}], history  # fmt: skip
        answer_text: str | None = None
        try:
            unknown = sorted(set(sources or ()) - set(self.sources()))
            if unknown:
                raise SettingsError(f"no articles from {', '.join(unknown)}; choose a source from the list")
            filters = make_filters(sources, published_from, published_to)
            day = parse_day(today, "Today")  # empty: the local date, as at every door (resolve_today)
            turns = [Turn(ex.question, ex.answer) for ex in history if ex.answer is not None]
            answer = self.assistant.chat(turns, question, today=day, filters=filters)
            html = render_answer(answer, self.assistant.data.articles, turn=len(history) + 1)
            answer_text = Turn.from_answer(answer).answer
        except NewsQAError as exc:
            html = render_error(str(exc))
        except Exception:
            log.exception("answering %r failed", question)
            html = render_error(GENERIC_ERROR)
        history = [*history, Exchange(question, html, answer_text)]
        yield "", _messages(history), history

    def answer_json(self, question: str) -> dict[str, Any]:
        """The API endpoint: one question asked today (the local date), the Answer's JSON (the same
        as ``newsqa ask --json``)."""
        return self.assistant.ask(valid_unicode(question)).to_dict()

    def add(self, files: Sequence[str] | None, text: str, title: str, source: str) -> str:
        """Index uploaded files and/or a pasted article; returns the ingest report as HTML."""
        from index.build import add_articles

        lines: list[IngestLine] = []
        articles: list[Article] = []
        try:
            for result in self._ingest(files or [], text, title, source, lines):
                articles.extend(result.articles)
                lines.extend(result.report)
            if not articles:
                return render_ingest(_rows(lines), 0, 0, 0, len(self.assistant.data.articles)) + (
                    "" if lines else '<p class="nq-report-sum">Choose files or paste an article first.</p>'
                )
            report = add_articles(
                self.assistant.index_dir, articles, embedder=self.assistant.embedder, ingest_report=lines
            )
            self.assistant.reload()
        except NewsQAError as exc:
            return render_error(str(exc))
        except Exception:
            log.exception("adding articles failed")
            return render_error("Adding the articles failed. The error was logged.")
        finally:
            remove_uploads(files or [])  # read (or refused) now: Gradio's copies are not kept
        return render_ingest(
            _rows(lines), report.added + report.replaced, report.unchanged, report.duplicates, report.articles_total
        )

    def _ingest(
        self, files: Sequence[str], text: str, title: str, source: str, lines: list[IngestLine]
    ) -> Iterator[IngestResult]:
        if len(files) > MAX_FILES:
            raise SettingsError(f"{len(files)} files chosen; add at most {MAX_FILES} at a time")
        for path in map(Path, files):
            if path.suffix.lower() not in ALLOWED_SUFFIXES:
                lines.append(
                    IngestLine(path.name, "rejected", 0, f"{path.suffix or 'no extension'}: not an accepted type")
                )
                continue
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                lines.append(
                    IngestLine(path.name, "rejected", 0, f"{size:,} bytes: over the {MAX_FILE_BYTES:,}-byte limit")
                )
                continue
            yield ingest_bytes(path.name, path.read_bytes())
        if text.strip():
            if len(text) > MAX_PASTE_CHARS:
                lines.append(
                    IngestLine("pasted article", "rejected", 0, f"over the {MAX_PASTE_CHARS:,}-character limit")
                )
            else:
                yield ingest_text(text, title=title.strip(), source=source.strip() or "pasted")


def _rows(lines: Sequence[IngestLine]) -> list[tuple[str, str, int, str]]:
    return [(Path(line.path).name or line.path, line.status, line.articles, line.reason) for line in lines]


def _header(count: int) -> str:
    """The page header, with how many articles the index holds (refreshed after adding some)."""
    plural = "s" if count != 1 else ""
    return (
        '<div class="nq-brand"><span class="nq-logo">❝</span> newsqa <span class="nq-tag">answers quoted from '
        f'the articles, word for word</span></div><div class="nq-corpus">{count} article{plural} indexed</div>'
    )


@dataclass(frozen=True)
class _Side:
    """The side panel's inputs: filters and adding articles."""

    sources: Any
    published_from: Any
    published_to: Any
    today: Any
    files: Any
    paste_title: Any
    paste_source: Any
    paste_text: Any
    add: Any
    report: Any


def _side_panel(gr: Any, handlers: ChatHandlers) -> _Side:
    """Filters (sources, dates, today) and the "Add articles" form, inside the current column."""
    with gr.Accordion("Filters", open=True):
        sources = gr.Dropdown(
            choices=handlers.sources(), multiselect=True, label="Sources", info="All sources when empty",
            allow_custom_value=True,  # sources added after the page was built; respond checks them
        )  # fmt: skip
        published_from = gr.DateTime(include_time=False, type="string", label="Published from")
        published_to = gr.DateTime(include_time=False, type="string", label="Published to")
        today = gr.DateTime(
            value=lambda: str(resolve_today()), include_time=False, type="string", label="Today",
            info="For questions like “this week”",
        )  # fmt: skip
    with gr.Accordion("Add articles", open=False):
        files = gr.File(
            file_count="multiple", file_types=list(ALLOWED_SUFFIXES), label="Files",
            height=120,
        )  # fmt: skip
        gr.Markdown(
            f"Text, HTML, JSON/JSONL, CSV, RSS/Atom; up to {MAX_FILE_BYTES // 2**20} MB a file.",
            elem_classes="nq-hint",
        )
        paste_title = gr.Textbox(label="Title", max_lines=1)
        paste_source = gr.Textbox(label="Outlet", max_lines=1)
        paste_text = gr.Textbox(label="Or paste an article", lines=4, max_lines=12)
        add = gr.Button("Add to the index", variant="secondary")
        report = gr.HTML()
    return _Side(
        sources, published_from, published_to, today, files, paste_title, paste_source, paste_text, add, report
    )


def _refreshed(gr: Any, handlers: ChatHandlers) -> tuple[str, Any]:
    """The header and the source list as the index is now (after an add, on each page load)."""
    handlers.assistant.reload()  # articles another process (newsqa index, follow) added meanwhile
    return _header(len(handlers.assistant.data.articles)), gr.update(choices=handlers.sources())


def _wire_adding(gr: Any, handlers: ChatHandlers, side: _Side, header: Any) -> None:
    """"Add to the index": index the files and/or pasted text, then refresh the sources and the header."""

    def add_and_refresh(
        chosen: list[str] | None,
        text: str,
        title: str,
        source: str,
        progress: Any = gr.Progress(),  # noqa: B008 (gradio's way to ask for progress)
    ) -> tuple[str, Any, str]:
        progress(0.1, desc="Reading and indexing the articles…")
        html = handlers.add(chosen, text, title, source)
        header_html, choices = _refreshed(gr, handlers)
        return html, choices, header_html

    side.add.click(
        add_and_refresh, [side.files, side.paste_text, side.paste_title, side.paste_source],
        [side.report, side.sources, header], api_visibility="private", concurrency_limit=1,
        concurrency_id="index-write",
    )  # fmt: skip


def _answer_endpoint(gr: Any, handlers: ChatHandlers) -> Callable[[str], dict[str, Any]]:
    """``/answer``: a user's error (empty, too long, a bad date) goes back to the caller as its
    message (``gr.Error``, which Gradio sends even with ``show_error=False`` and logs without a
    traceback); anything else is logged and answered with the generic message."""

    def answer(question: str) -> dict[str, Any]:
        try:
            return handlers.answer_json(question)
        except (NewsQAError, TypeError) as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        except Exception as exc:
            log.exception("answering %r over /answer failed", question)
            raise gr.Error(GENERIC_ERROR, print_exception=False) from exc

    return answer


def build_app(assistant: Assistant) -> gr.Blocks:
    """The chat page for ``assistant`` (not launched; see :func:`launch`)."""
    gr = _gradio()
    handlers = ChatHandlers(assistant)
    examples = [{"text": q} for q in handlers.examples()]
    with gr.Blocks(title="newsqa: ask the news", analytics_enabled=False, fill_width=True) as demo:
        exchanges = gr.State([])
        with gr.Row(elem_id="nq-header"):
            header = gr.HTML(_header(len(assistant.data.articles)), elem_id="nq-corpus")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=480):
                chatbot = gr.Chatbot(
                    elem_id="nq-chat",
                    show_label=False,
                    height="68vh",
                    layout="panel",
                    examples=examples or None,
                    placeholder="**Ask a question about the news.** Every answer quotes the articles it comes from.",
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=[],
                    autoscroll=True,
                )
                with gr.Row(elem_id="nq-ask"):
                    message = gr.Textbox(
                        elem_id="nq-question", show_label=False, placeholder="Ask about the articles… (Enter to send)",
                        scale=8, max_lines=4, autofocus=True, submit_btn=False,
                    )  # fmt: skip
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="nq-send")
                clear = gr.Button("New conversation", size="sm", variant="secondary", elem_id="nq-clear")
            with gr.Column(scale=1, min_width=280, elem_id="nq-side"):
                side = _side_panel(gr, handlers)

        inputs = [message, exchanges, side.sources, side.published_from, side.published_to, side.today]
        outputs = [message, chatbot, exchanges]
        message.submit(handlers.respond, inputs, outputs, api_name="chat", show_progress="minimal").then(
            None, js=SCROLL_TO_ANSWER
        )
        send.click(handlers.respond, inputs, outputs, api_visibility="private", show_progress="minimal").then(
            None, js=SCROLL_TO_ANSWER
        )

        def pick(evt: Any) -> str:
            value = evt.value
            return str(value.get("text", "")) if isinstance(value, dict) else str(value)

        pick.__annotations__ = {"evt": gr.SelectData, "return": str}  # gradio passes the click by this type

        chatbot.example_select(pick, None, message, api_visibility="private").then(
            handlers.respond, inputs, outputs, api_visibility="private", show_progress="minimal"
        ).then(None, js=SCROLL_TO_ANSWER)
        clear.click(lambda: ([], [], ""), None, [chatbot, exchanges, message], api_visibility="private")
        chatbot.clear(lambda: ([], ""), None, [exchanges, message], api_visibility="private")
        _wire_adding(gr, handlers, side, header)
        # each page load shows the index as it is now (articles added since the server started)
        demo.load(lambda: _refreshed(gr, handlers), None, [header, side.sources], api_visibility="private")
        gr.api(_answer_endpoint(gr, handlers), api_name="answer")
    return demo  # type: ignore[no-any-return]  # gradio is imported lazily, as Any


def launch(
    demo: gr.Blocks,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    prevent_thread_lock: bool = False,
) -> None:
    """Start the server with the safe settings (bounded queue, nothing extra served, analytics off)."""
    gr = _gradio()
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=CONCURRENCY)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        allowed_paths=[],
        max_file_size=MAX_FILE_BYTES,
        show_error=False,
        prevent_thread_lock=prevent_thread_lock,
        quiet=prevent_thread_lock,
        footer_links=[],
        theme=gr.themes.Soft(
            primary_hue="indigo",
            neutral_hue="slate",
            font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],  # no web font to fetch
            font_mono=["ui-monospace", "monospace"],
        ),
        css=CSS,
        head=HEAD,
        ssr_mode=False,
        mcp_server=False,
        pwa=False,
    )


def serve(
    index_dir: Path | str | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
) -> None:
    """Open the chat on ``index_dir`` (None: the bundled sample, built on first use); blocks until stopped.

    ``auth`` None reads the optional login from ``NEWSQA_USER`` / ``NEWSQA_PASSWORD``.
    """
    assistant = load_assistant(index_dir)
    assistant.warm_up()  # the first visitor's question does not wait for the models
    launch(build_app(assistant), host, port, share, auth or login_from_env())
