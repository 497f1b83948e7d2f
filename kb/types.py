"""Results handed to scripts, the CLI and the UI: small frozen dataclasses with plain fields."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Hit:
    """A retrieved passage.

    ``start``/``end`` are character offsets of ``text`` in the article's text, so
    ``article.text[start:end] == text``. ``score`` is the fused score (higher is better);
    the per-leg scores and ranks (``None``: not among that leg's candidates) explain it.
    """

    doc_id: str
    chunk_id: str
    title: str
    text: str
    score: float
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)
    dense_score: float | None = None
    keyword_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None


@dataclass(frozen=True)
class ArticleInfo:
    """An ingested article as the registry holds it (``text`` is empty in listings)."""

    doc_id: str
    title: str
    source: str
    chunks: int
    ingested_at: str
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = ""


def to_jsonable(value: Any) -> Any:
    """Dataclasses (and lists of them) as plain JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("ok",):
            if hasattr(type(value), name):
                out[name] = getattr(value, name)
        return out
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value
