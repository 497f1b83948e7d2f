"""Hybrid ranking: dense (Chroma) and keyword (BM25) legs, filtered first, then fused.

Passages of articles that are copies of one another (``kb.store.duplicates``) collapse into one
result, the best-ranked copy's, which names the others in ``Hit.also_in``.

Fusion ``score`` (the default): each leg's scores over the union of both legs' candidates
are min-max normalised and combined as ``w * dense + (1 - w) * keyword``; every candidate
has both scores (dense similarity is computed for keyword-only candidates from their stored
vectors, BM25 for dense-only ones). Fusion ``rrf``: reciprocal-rank fusion, for comparison.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from kb.retrieval.filters import check_regions, matcher, to_where
from kb.retrieval.fusion import Candidate, Mode, fuse
from kb.retrieval.keyword import KeywordIndex
from kb.store.duplicates import groups
from kb.store.store import Store
from kb.types import ArticleCopy, Hit

# The candidate pool grows with the largest group of copies, up to this factor: each copy of
# a passage takes a place in the pool that the collapse then empties.
MAX_POOL_FACTOR = 4


@dataclass(frozen=True)
class Registry:
    """The registered articles as a search needs them, read once per write (generation).

    ``hashes``: ``doc_id -> content hash`` (only chunks carrying it are served); ``groups``:
    ``doc_id -> its group of copies`` (first ingested first), for articles that have one;
    ``copies``: ``doc_id -> ArticleCopy`` of those articles."""

    hashes: dict[str, str]
    groups: dict[str, tuple[str, ...]]
    copies: dict[str, ArticleCopy]

    @classmethod
    def read(cls, store: Store) -> Registry:
        metas = {r.doc_id: r.metadata for r in store.iter_articles()}
        found = groups(metas.items())
        return cls(
            hashes={d: str(m.get("content_hash", "")) for d, m in metas.items()},
            groups=found,
            copies={
                d: ArticleCopy(d, str(metas[d].get("title", "")), str(metas[d].get("outlet", "")))
                for d in found
            },
        )

    def also_in(self, doc_id: str) -> tuple[ArticleCopy, ...]:
        """The other copies of ``doc_id`` (first ingested first)."""
        return tuple(self.copies[d] for d in self.groups.get(doc_id, ()) if d != doc_id)

    @property
    def pool_factor(self) -> int:
        largest = max((len(g) for g in self.groups.values()), default=1)
        return min(largest, MAX_POOL_FACTOR)


class HybridRanker:
    """Ranks the chunks of ``store`` for a query.

    Args:
        store: the Chroma store.
        embedder: embeds the query (the store's embedder).
        dense_weight: ``w`` of the convex combination.
        candidates: how many candidates each leg contributes.
        fusion: ``score`` (normalised-score convex combination) or ``rrf``.
    """

    def __init__(
        self,
        store: Store,
        embedder: Embeddings,
        *,
        dense_weight: float = 0.5,
        candidates: int = 50,
        fusion: str = "score",
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.dense_weight = dense_weight
        self.candidates = candidates
        self.fusion = fusion
        self.index = KeywordIndex()
        self._sync_lock = threading.Lock()
        self._regions: tuple[str | None, set[str]] | None = None
        self._registry: tuple[str, Registry] | None = None

    def registry(self) -> Registry:
        """The registered articles (``Registry``), re-read after every write.

        Only chunks carrying their article's registered hash are served: the chunks of an
        article whose write is under way, or was interrupted, never are (see ``kb.store.store``).
        """
        generation = self.store.generation
        cached = self._registry
        if cached is None or cached[0] != generation:
            cached = (generation, Registry.read(self.store))
            self._registry = cached
        return cached[1]

    def sync(self) -> None:
        """Bring the keyword index in step with Chroma (only when another write happened)."""
        generation = self.store.generation
        if generation == self.index.generation:
            return
        with self._sync_lock:
            if generation == self.index.generation:
                return
            self.index.rebuild(self._chunks(self.store.chunk_ids()), generation)

    def stored_regions(self) -> set[str]:
        """Every region an ingested chunk is tagged with (from the keyword index, kept until
        the next write)."""
        self.sync()
        generation = self.index.generation
        cached = self._regions
        if cached is None or cached[0] != generation:
            names: set[str] = set()
            for meta in self.index.meta:
                named = meta.get("regions") or []
                names.update(named if isinstance(named, list) else [str(named)])
            cached = self._regions = (generation, names)
        return cached[1]

    def _chunks(self, ids: Sequence[str]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
        """The store's chunks in ``ids`` order, a page at a time: chunks the index already
        holds come without their text (it keeps their tokens), new ones are fetched."""
        index = self.index
        for start in range(0, len(ids), 1000):
            page = ids[start : start + 1000]
            new = [cid for cid in page if cid not in index.position]
            fetched = self.store.get_chunks(new) if new else {}
            for cid in page:
                if cid in fetched:
                    chunk, _ = fetched[cid]
                    yield cid, chunk.text, chunk.metadata
                elif cid in index.position:
                    yield cid, "", index.meta[index.position[cid]]

    def rank(
        self,
        query: str,
        k: int,
        filters: Mapping[str, Any] | None = None,
        *,
        per_article: int | None = 1,
        mode: Mode = "hybrid",
    ) -> list[Hit]:
        where = to_where(filters)
        if filters and filters.get("region"):
            check_regions(filters, self.stored_regions())
        registry = self.registry()
        n = max(self.candidates, k * 4) * registry.pool_factor
        vector = (
            np.asarray(self.embedder.embed_query(query), dtype=np.float32)
            if mode != "keyword"
            else np.zeros(0, dtype=np.float32)
        )

        dense_hits = self.store.query(vector.tolist(), n, where) if mode != "keyword" else []
        pool: dict[str, dict[str, Any]] = {}
        for rank, chunk in enumerate(dense_hits, 1):
            pool[chunk.chunk_id] = {
                "chunk": chunk, "dense": 1.0 - (chunk.distance or 0.0), "dense_rank": rank,
            }  # fmt: skip

        keyword_scores = np.zeros(0, dtype=np.float32)
        if mode != "dense":
            self.sync()
            keyword_scores = self.index.scores(query)
            allowed = matcher(filters)
            order = np.argsort(-keyword_scores, kind="stable")
            rank = 0
            for position in order:
                if keyword_scores[position] <= 0 or rank >= n:
                    break
                if allowed is not None and not allowed(self.index.meta[position]):
                    continue
                rank += 1
                entry = pool.setdefault(self.index.ids[position], {})
                entry["keyword_rank"] = rank
        position_of = self.index.position if mode != "dense" else {}
        missing = [cid for cid, e in pool.items() if "chunk" not in e]
        if missing:
            for cid, (chunk, stored) in self.store.get_chunks(missing).items():
                pool[cid]["chunk"] = chunk
                if stored is not None and mode != "keyword":
                    pool[cid]["dense"] = float(np.dot(vector, np.asarray(stored, np.float32)))
        registered = registry.hashes
        candidates: list[Candidate] = []
        for cid, e in pool.items():
            if "chunk" not in e:  # deleted between the two reads
                continue
            meta = e["chunk"].metadata
            wanted = registered.get(str(meta.get("doc_id")))
            if wanted is None or wanted != meta.get("content_hash"):
                continue
            p = position_of.get(cid)
            kw = float(keyword_scores[p]) if p is not None and len(keyword_scores) else 0.0
            candidates.append(
                Candidate(e["chunk"], float(e.get("dense", 0.0)), kw,
                          e.get("dense_rank"), e.get("keyword_rank"))
            )  # fmt: skip
        # A question whose words the articles do not use (English over Indonesian reports)
        # gets keyword matches on a few names only: trust the keyword leg that much less.
        coverage = self.index.coverage(query) if mode == "hybrid" else 1.0
        fused = fuse(
            candidates, mode, fusion=self.fusion, dense_weight=self.dense_weight, coverage=coverage
        )
        return _top(fused, k, per_article, registry)


def _top(
    ranked: Sequence[Candidate], k: int, per_article: int | None, registry: Registry
) -> list[Hit]:
    """The first ``k`` hits: at most ``per_article`` passages of one article, and of a group
    of copies only the article of its best-ranked passage."""
    hits: list[Hit] = []
    per_doc: dict[str, int] = {}
    shown: dict[str, str] = {}  # a group (its first member) -> the copy returned for it
    for c in ranked:
        meta = c.chunk.metadata
        doc_id = str(meta.get("doc_id", ""))
        group = registry.groups.get(doc_id)
        if group and shown.setdefault(group[0], doc_id) != doc_id:
            continue
        if per_article and per_doc.get(doc_id, 0) >= per_article:
            continue
        per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        hits.append(
            Hit(
                doc_id=doc_id,
                chunk_id=c.chunk.chunk_id,
                title=str(meta.get("title", "")),
                text=c.chunk.text,
                score=float(c.score),
                start=int(meta.get("start", 0)),
                end=int(meta.get("end", len(c.chunk.text))),
                metadata=meta,
                dense_score=c.dense,
                keyword_score=c.keyword,
                dense_rank=c.dense_rank,
                keyword_rank=c.keyword_rank,
                also_in=registry.also_in(doc_id),
                **_layout(meta),
            )
        )
        if len(hits) == k:
            break
    return hits


def _layout(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A hit's ``page``, ``page_end`` (when another page) and ``section`` from its chunk."""
    out: dict[str, Any] = {"section": str(meta.get("section") or "")}
    page, end = meta.get("page"), meta.get("page_end")
    if isinstance(page, int):
        out["page"] = page
        out["page_end"] = end if isinstance(end, int) else None
    return out
