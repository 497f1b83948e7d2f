"""The keyword leg: Indonesian-aware BM25 over the stored chunks, kept beside Chroma.

Local Chroma has no sparse index, so this index is derived from the chunks in Chroma and
rebuilt in memory when the store's ``generation`` (bumped by every write) changes: several
processes on one Chroma server stay in step, and nothing here needs a backup.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import bm25s
import numpy as np

from kb.text.analysis import analyze


class KeywordIndex:
    """BM25 (bm25s) over chunks; ``sync`` brings it in step with the store when needed.

    Args:
        analyzer: text -> tokens (``analyze`` by default; ``plain_tokens`` for the baseline).
        fields: the chunk metadata kept in memory for filtering (kept small on purpose).
    """

    FIELDS = ("doc_id", "title", "regions", "outlet_key", "date_int")

    def __init__(self, analyzer: Callable[[str], list[str]] = analyze) -> None:
        self.analyzer = analyzer
        self.generation: str | None = None
        self.ids: list[str] = []
        self.meta: list[dict[str, Any]] = []
        self.position: dict[str, int] = {}
        self._df: dict[str, int] = {}
        self._tokens: dict[str, tuple[str, ...]] = {}
        self._bm25: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def rebuild(
        self, chunks: Iterable[tuple[str, str, Mapping[str, Any]]], generation: str
    ) -> None:
        """Index ``(chunk_id, text, metadata)`` triples; analysis is reused for known chunks.

        ``chunks`` may be a generator: texts are analysed as they come and not kept, and the
        chunks of one article share one metadata record, so that 100k chunks fit in memory.
        """
        with self._lock:
            tokens: dict[str, tuple[str, ...]] = {}
            ids: list[str] = []
            meta: list[dict[str, Any]] = []
            shared: dict[tuple[Any, ...], dict[str, Any]] = {}
            for chunk_id, text, metadata in chunks:
                known = self._tokens.get(chunk_id)
                if known is None:
                    head = (metadata.get("title"), metadata.get("section"))
                    known = tuple(self.analyzer("\n".join([*(str(h) for h in head if h), text])))
                tokens[chunk_id] = known
                ids.append(chunk_id)
                key = tuple(_frozen(metadata.get(k)) for k in self.FIELDS)
                record = shared.get(key)
                if record is None:
                    record = shared[key] = {k: v for k, v in zip(self.FIELDS, key, strict=True)}
                meta.append(record)
            self._tokens = tokens
            self.ids = ids
            self.meta = meta
            self.position = {cid: i for i, cid in enumerate(ids)}
            df: dict[str, int] = {}
            for doc in tokens.values():
                for token in set(doc):
                    df[token] = df.get(token, 0) + 1
            self._df = df
            self._fit()
            self.generation = generation

    def _fit(self) -> None:
        if not self.ids:
            self._bm25 = None
            self._vocab = {}
            return
        corpus = [self._tokens[i] or ("∅",) for i in self.ids]
        vocab: dict[str, int] = {}
        for doc in corpus:
            for token in doc:
                vocab.setdefault(token, len(vocab))
        # One int32 array a chunk, not lists of Python ints (28 bytes each): at 100k chunks
        # that is the difference between about 30 MB and 200 MB while the index is built.
        tokenized = bm25s.tokenization.Tokenized(
            ids=[np.fromiter((vocab[t] for t in doc), np.int32, len(doc)) for doc in corpus],
            vocab=vocab,
        )
        model = bm25s.BM25()
        model.index(tokenized, show_progress=False)
        self._bm25 = model
        self._vocab = vocab

    def idf(self, token: str) -> float:
        """How rare a token is among the chunks (a token never seen is rarest)."""
        return math.log(1 + len(self.ids) / (self._df.get(token, 0) + 0.5))

    def coverage(self, query: str) -> float:
        """Share of the query's analysed tokens that occur in the index (0 when none)."""
        tokens = self.analyzer(query)
        if not tokens:
            return 0.0
        return sum(t in self._vocab for t in tokens) / len(tokens)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed chunk for ``query`` (zeros when nothing matches)."""
        if self._bm25 is None:
            return np.zeros(0, dtype=np.float32)
        ids = [self._vocab[t] for t in self.analyzer(query) if t in self._vocab]
        if not ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(ids), dtype=np.float32)


def _frozen(value: Any) -> Any:
    """A hashable form of a metadata value (lists, such as ``regions``, become tuples)."""
    return tuple(value) if isinstance(value, list) else value
