"""The browser chat (Gradio) over the same Assistant as the CLI: ``python -m ui`` or ``newsqa serve``."""
