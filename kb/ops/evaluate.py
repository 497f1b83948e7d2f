"""``kb eval``: retrieval quality of the product against two baselines, in one run.

Questions are jsonl: ``{"id", "question", "context_id"}`` plus optional ``split``, ``lang``,
``answers`` / ``answer`` and ``answerable`` (false: no article answers it; such questions
are left out of the retrieval metrics). A hit counts when its ``doc_id`` is ``context_id``,
or when ``context_id`` is one of the copies it stands for (``Hit.also_in``: a duplicate
article collapsed into it).
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import bm25s

from kb.errors import KbError
from kb.knowledge_base import KnowledgeBase
from kb.text.analysis import plain_tokens
from kb.types import Hit

CUTOFFS = (1, 5, 10)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    context_id: str | None
    answers: tuple[str, ...] = ()
    split: str = ""
    lang: str = ""

    @property
    def answerable(self) -> bool:
        return self.context_id is not None


@dataclass(frozen=True)
class Metrics:
    """Retrieval metrics of one system on one set of questions."""

    system: str
    subset: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    mrr_at_10: float
    ndcg_at_10: float


@dataclass(frozen=True)
class EvalReport:
    metrics: tuple[Metrics, ...]
    unanswerable: int = 0
    rankings: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def get(self, system: str, subset: str = "all") -> Metrics:
        for m in self.metrics:
            if m.system == system and m.subset == subset:
                return m
        raise KeyError((system, subset))


def load_questions(path: str | Path, split: str | None = None) -> list[Question]:
    """Questions from a jsonl file, optionally only those of one ``split``."""
    questions: list[Question] = []
    with Path(path).open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if split and row.get("split") != split:
                    continue
                answers = [
                    a["text"] if isinstance(a, dict) else a for a in row.get("answers") or []
                ]
                if not answers and row.get("answer"):
                    answers = [row["answer"]]
                unanswerable = row.get("answerable") is False or not row.get("context_id")
                questions.append(
                    Question(
                        id=str(row.get("id", number)),
                        question=str(row["question"]),
                        context_id=None if unanswerable else str(row["context_id"]),
                        answers=tuple(str(a) for a in answers),
                        split=str(row.get("split", "")),
                        lang=str(row.get("lang", "")),
                    )
                )
            except (ValueError, KeyError, TypeError) as e:
                raise KbError(f"{path}:{number}: not a question line ({e})") from e
    if not questions:
        raise KbError(f"no questions in {path}" + (f" with split {split!r}" if split else ""))
    return questions


# Joins a hit's doc_id with those of the copies it stands for, in a ranking entry.
COPIES = "\x1f"


def ranking_ids(hits: Sequence[Hit]) -> list[str]:
    """A ranking: each hit's doc_id, with the copies collapsed into it."""
    return [COPIES.join([h.doc_id, *(c.doc_id for c in h.also_in)]) for h in hits]


def score(
    system: str, subset: str, rankings: Sequence[Sequence[str]], gold: Sequence[str]
) -> Metrics:
    """Recall@1/5/10, MRR@10 and nDCG@10 (one relevant article per question)."""
    n = len(gold)
    recall = {c: 0.0 for c in CUTOFFS}
    mrr = ndcg = 0.0
    for ranking, target in zip(rankings, gold, strict=True):
        top = [entry.split(COPIES) for entry in ranking[:10]]
        rank = next((i for i, ids in enumerate(top, 1) if target in ids), 0)
        if rank:
            mrr += 1 / rank
            ndcg += 1 / math.log2(rank + 1)
            for c in CUTOFFS:
                recall[c] += rank <= c
    div = max(n, 1)
    return Metrics(
        system, subset, n, recall[1] / div, recall[5] / div, recall[10] / div, mrr / div, ndcg / div
    )


class PlainBM25:
    """The baseline: bm25s defaults over lowercase ``\\w+`` tokens, no stemming, no stopwords."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.doc_ids: list[str] = []
        corpus: list[list[str]] = []
        for chunk, _ in kb.store.iter_chunks():
            title = str(chunk.metadata.get("title") or "")
            corpus.append(plain_tokens(f"{title}\n{chunk.text}"))
            self.doc_ids.append(str(chunk.metadata.get("doc_id")))
        self.model = bm25s.BM25()
        self.model.index(corpus, show_progress=False)

    def rank(self, question: str, k: int = 10) -> list[str]:
        tokens = plain_tokens(question)
        if not self.doc_ids or not tokens:
            return []
        scores = self.model.get_scores(tokens)
        order = sorted(range(len(scores)), key=lambda i: -scores[i])
        ranking: list[str] = []
        for i in order:
            if scores[i] <= 0:
                break
            if self.doc_ids[i] not in ranking:
                ranking.append(self.doc_ids[i])
            if len(ranking) == k:
                break
        return ranking


def evaluate(
    kb: KnowledgeBase, questions: Iterable[Question], k: int = 10, progress: bool = False
) -> EvalReport:
    """Rank every answerable question with the product, dense-only and plain BM25."""
    items = list(questions)
    answerable = [q for q in items if q.answerable]
    plain = PlainBM25(kb)
    systems: dict[str, Callable[[str], list[str]]] = {}
    if kb.reader is not None:
        # the order the answers use: the reader's for the passages it read, fusion's after
        systems["product+reader"] = lambda q: ranking_ids(kb.retrieve(q, k, rerank=True))
    systems |= {
        "product": lambda q: ranking_ids(kb.retrieve(q, k)),
        "dense-only": lambda q: ranking_ids(kb.retrieve(q, k, mode="dense")),
        "plain-bm25": lambda q: plain.rank(q, k),
    }
    rankings: dict[str, dict[str, list[str]]] = {name: {} for name in systems}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(answerable) * len(systems), unit="q", desc="evaluating")
    for name, run in systems.items():
        for q in answerable:
            rankings[name][q.id] = run(q.question)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    subsets: dict[str, list[Question]] = {"all": answerable}
    for q in answerable:
        if q.lang:
            subsets.setdefault(q.lang, []).append(q)
    metrics = [
        score(name, subset, [rankings[name][q.id] for q in qs], [str(q.context_id) for q in qs])
        for subset, qs in subsets.items()
        for name in systems
    ]
    return EvalReport(tuple(metrics), unanswerable=len(items) - len(answerable), rankings=rankings)


@dataclass(frozen=True)
class AnswerMetrics:
    """Extractive (or LLM) answers: how often they hold the gold answer, how long they are,
    how often the product declines."""

    answerable: int
    contains_answer: float
    abstained_answerable: float
    unanswerable: int
    abstained_unanswerable: float
    words_mean: float
    words_p50: float
    words_p90: float
    words_max: int


def evaluate_answers(
    kb: KnowledgeBase, questions: Iterable[Question], reader: str | None = None
) -> AnswerMetrics:
    """Ask every question; a hit is an answer text holding one of ``answers`` (any case).

    ``reader``: the ``reader`` setting to answer with (default: the knowledge base's)."""
    chain = kb.chain(reader=reader)
    items = list(questions)
    contains = abstained = declined = 0
    words: list[int] = []
    answerable = [q for q in items if q.answerable]
    for q in items:
        answer = chain.invoke(q.question)
        if not q.answerable:
            declined += answer.abstained
            continue
        if answer.abstained:
            abstained += 1
            continue
        text = re.sub(r"\s*\[\d+\]", "", answer.text).replace("**", "")
        words.append(len(text.split()))
        contains += any(a.lower() in text.lower() for a in q.answers)
    words.sort()
    n, m = max(len(answerable), 1), max(len(items) - len(answerable), 1)

    def pct(p: float) -> float:
        return float(words[min(len(words) - 1, int(p * len(words)))]) if words else 0.0

    return AnswerMetrics(
        answerable=len(answerable),
        contains_answer=contains / n,
        abstained_answerable=abstained / n,
        unanswerable=len(items) - len(answerable),
        abstained_unanswerable=declined / m if len(items) > len(answerable) else 0.0,
        words_mean=sum(words) / len(words) if words else 0.0,
        words_p50=pct(0.5),
        words_p90=pct(0.9),
        words_max=max(words, default=0),
    )


def format_answer_metrics(m: AnswerMetrics) -> str:
    return "\n".join(
        [
            f"answers: {m.answerable} answerable questions, "
            f"{m.contains_answer:.1%} hold the gold answer, {m.abstained_answerable:.1%} declined",
            f"answer length (words): mean {m.words_mean:.1f}, p50 {m.words_p50:.0f}, "
            f"p90 {m.words_p90:.0f}, max {m.words_max}",
            f"unanswerable: {m.unanswerable} questions, {m.abstained_unanswerable:.1%} declined",
        ]
    )


def check_context_ids(kb: KnowledgeBase, questions: Sequence[Question]) -> None:
    """Every ``context_id`` must be an article of the store: an unknown one would count as a
    miss and lower the scores silently. Raises ``KbError`` naming the first few."""
    stored = {a.doc_id for a in kb.articles()}
    unknown = [q for q in questions if q.context_id is not None and q.context_id not in stored]
    if unknown:
        named = ", ".join(f"{q.id} -> {q.context_id!r}" for q in unknown[:3])
        raise KbError(
            f"{len(unknown)} of {len(questions)} questions name a context_id that is no article "
            f"of the store ({named}{', …' if len(unknown) > 3 else ''}): compare them with "
            "'kb list', or give the articles with --corpus"
        )


def evaluate_files(
    kb: KnowledgeBase,
    questions_path: str | Path,
    corpus: Sequence[str | Path] = (),
    *,
    split: str | None = None,
    k: int = 10,
    progress: bool = False,
    answers: bool = False,
) -> tuple[EvalReport, dict[str, AnswerMetrics] | None]:
    """``kb eval``: with ``corpus``, ingest it into a throw-away store first. The answer
    metrics are keyed by the ``reader`` setting they were made with."""
    questions = load_questions(questions_path, split)

    def run(target: KnowledgeBase) -> tuple[EvalReport, dict[str, AnswerMetrics] | None]:
        check_context_ids(target, questions)
        report = evaluate(target, questions, k, progress)
        if not answers:
            return report, None
        # with the reader (when on) and with the sentence rules, next to each other
        modes = ["e5-reader", "none"] if target.reader is not None else ["none"]
        return report, {mode: evaluate_answers(target, questions, mode) for mode in modes}

    if not corpus:
        return run(kb)
    with tempfile.TemporaryDirectory(prefix="kb-eval-") as folder:
        settings = kb.settings.with_overrides(store=Path(folder), chroma_url="")
        with KnowledgeBase(settings=settings, embedder=kb.embedder) as scratch:
            report = scratch.ingest(corpus, progress=progress)
            if not report.ok:
                first = report.failed[0]
                raise KbError(f"the corpus did not ingest cleanly: {first.source}: {first.reason}")
            return run(scratch)


def format_table(report: EvalReport) -> str:
    header = (
        f"{'system':<12} {'subset':<6} {'n':>5} {'R@1':>6} {'R@5':>6} {'R@10':>6} "
        f"{'MRR@10':>7} {'nDCG@10':>8}"
    )
    lines = [header, "-" * len(header)]
    for m in report.metrics:
        lines.append(
            f"{m.system:<12} {m.subset:<6} {m.questions:>5} {m.recall_at_1:>6.3f} "
            f"{m.recall_at_5:>6.3f} {m.recall_at_10:>6.3f} {m.mrr_at_10:>7.3f} {m.ndcg_at_10:>8.3f}"
        )
    if report.unanswerable:
        lines.append(f"({report.unanswerable} unanswerable questions left out of these metrics)")
    return "\n".join(lines)
