"""newsqa indexing: articles in, a saved index out. Imports nothing from qa, ui or eval."""

from index.build import BuildReport, add_articles, build_index, remove_articles
from index.errors import (
    BadInputError,
    CorruptIndexError,
    IndexMismatchError,
    IndexNotFoundError,
    NewsQAError,
    SettingsError,
)
from index.read.ingest import FieldMap, IngestLine, IngestResult, ingest_paths
from index.records import Article, Chunk, make_article
from index.settings import IndexSettings

__all__ = [
    "Article",
    "BadInputError",
    "BuildReport",
    "Chunk",
    "CorruptIndexError",
    "FieldMap",
    "IndexMismatchError",
    "IndexNotFoundError",
    "IndexSettings",
    "IngestLine",
    "IngestResult",
    "NewsQAError",
    "SettingsError",
    "add_articles",
    "build_index",
    "ingest_paths",
    "make_article",
    "remove_articles",
]
