"""The interfaces over the one engine (``qa.Assistant``): the command line (``ui/cli.py``, the
``newsqa`` command) and the browser chat (``ui/web.py``: ``python -m ui`` or ``newsqa serve``)."""
