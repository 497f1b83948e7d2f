"""Fusion: how the dense and keyword legs' scores become one order (a pure function)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from kb.store.records import StoredChunk

Mode = Literal["hybrid", "dense", "keyword"]


RRF_K = 60


@dataclass(frozen=True)
class Candidate:
    chunk: StoredChunk
    dense: float
    keyword: float
    dense_rank: int | None
    keyword_rank: int | None
    score: float = 0.0


def fuse(
    candidates: Sequence[Candidate],
    mode: Mode = "hybrid",
    *,
    fusion: str = "score",
    dense_weight: float = 0.5,
    coverage: float = 1.0,
) -> list[Candidate]:
    """The candidates with their fused ``score``, best first (ties: the better dense rank,
    then the chunk id).

    ``score`` fusion: ``w * minmax(dense) + (1 - w) * coverage * minmax(keyword)`` over the
    candidates (``coverage``: the share of the query's words the articles use at all);
    ``rrf``: ``1 / (60 + rank)`` summed over the legs that found the candidate; the ``dense``
    and ``keyword`` modes: that leg's score alone.
    """
    if not candidates:
        return []
    if mode == "dense":
        scores = [c.dense for c in candidates]
    elif mode == "keyword":
        scores = [c.keyword for c in candidates]
    elif fusion == "rrf":
        scores = [
            (1 / (RRF_K + c.dense_rank) if c.dense_rank else 0.0)
            + (1 / (RRF_K + c.keyword_rank) if c.keyword_rank else 0.0)
            for c in candidates
        ]
    else:
        kw_weight = (1 - dense_weight) * coverage
        dense = _minmax([c.dense for c in candidates])
        keyword = _minmax([c.keyword for c in candidates])
        scores = [dense_weight * d + kw_weight * kw for d, kw in zip(dense, keyword, strict=True)]
    out = [
        Candidate(c.chunk, c.dense, c.keyword, c.dense_rank, c.keyword_rank, s)
        for c, s in zip(candidates, scores, strict=True)
    ]
    out.sort(key=lambda c: (-c.score, c.dense_rank or 10**9, c.chunk.chunk_id))
    return out


def _minmax(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    if high - low <= 1e-12:
        return [1.0 if high > 0 else 0.0 for _ in values]
    return [(v - low) / (high - low) for v in values]
