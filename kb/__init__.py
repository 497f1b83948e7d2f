"""A knowledge base of reports on public-service innovation in Indonesian districts.

>>> from kb import KnowledgeBase, retrieve          # doctest: +SKIP
>>> hits = retrieve("Kecamatan mana yang buka layanan Jumat malam?", k=5)  # doctest: +SKIP
"""

from ingest.types import Failure, IngestReport
from kb.answer import Answer, Citation
from kb.errors import ConfigError, EmbedderMismatchError, KbError, NotFoundError, StoreLockedError
from kb.knowledge_base import KnowledgeBase, ask, retrieve
from kb.settings import Settings
from kb.types import ArticleInfo, Hit

__all__ = [
    "Answer",
    "ArticleInfo",
    "Citation",
    "ConfigError",
    "EmbedderMismatchError",
    "Failure",
    "Hit",
    "IngestReport",
    "KbError",
    "KnowledgeBase",
    "NotFoundError",
    "Settings",
    "StoreLockedError",
    "ask",
    "retrieve",
]
