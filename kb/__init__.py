"""A knowledge base of reports on public-service innovation in Indonesian districts.

>>> from kb import KnowledgeBase, retrieve          # doctest: +SKIP
>>> hits = retrieve("Kecamatan mana yang buka layanan Jumat malam?", k=5)  # doctest: +SKIP

``import kb`` loads nothing heavy: each name below is imported from its module when it is
first used (``kb.KnowledgeBase``, ``from kb import ask``), so Chroma, LangChain and the
models load only when something is asked of them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kb.errors import (
        ConfigError,
        EmbedderMismatchError,
        KbError,
        NotFoundError,
        StoreLockedError,
    )
    from kb.knowledge_base import KnowledgeBase, ask, retrieve
    from kb.settings import Settings
    from kb.types import Answer, ArticleInfo, Citation, Failure, Hit, IngestReport

# The public names and the modules that define them.
_WHERE = {
    "Answer": "kb.types",
    "ArticleInfo": "kb.types",
    "Citation": "kb.types",
    "ConfigError": "kb.errors",
    "EmbedderMismatchError": "kb.errors",
    "Failure": "kb.types",
    "Hit": "kb.types",
    "IngestReport": "kb.types",
    "KbError": "kb.errors",
    "KnowledgeBase": "kb.knowledge_base",
    "NotFoundError": "kb.errors",
    "Settings": "kb.settings",
    "StoreLockedError": "kb.errors",
    "ask": "kb.knowledge_base",
    "retrieve": "kb.knowledge_base",
}
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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'kb' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value  # the next use finds it here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
