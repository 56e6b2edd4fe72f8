"""Reading articles: files, folders and feeds -> ``Article`` records, with a report line per file.

- ``ingest``: the entry point (``ingest_paths``), one report line per file or record;
- ``formats``: text, Markdown and HTML pages (trafilatura), dates, encodings;
- ``tabular``: JSON, JSONL and CSV records (``FieldMap`` names their fields);
- ``feed``: RSS and Atom feeds; ``clean``: boilerplate lines removed from article text.
"""
