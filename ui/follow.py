"""``newsqa follow URL... --index DIR [--every MINUTES] [--once] [--json]``: argv -> lines printed, exit code.

A thin door onto ``index.follow``: one line per checked, fetched, skipped or failed URL
as it happens (``--json``: one JSON object per line), a summary after each pass.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path
from typing import Any

from index.errors import SettingsError


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
