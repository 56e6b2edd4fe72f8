"""``python -m ui [--index DIR] [--host 127.0.0.1] [--port 7860] [--share]``: open the browser chat."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from index.errors import NewsQAError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui", description="Open the newsqa browser chat.")
    parser.add_argument("--index", default=None, help="index folder (default: the bundled sample, built on first use)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="also open a public Gradio share link")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ui.web import serve

    try:
        serve(args.index, host=args.host, port=args.port, share=args.share)
    except NewsQAError as exc:
        print(f"newsqa: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
