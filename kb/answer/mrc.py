"""Reading-comprehension sets (SQuAD 2.0 layout) and how a reader is scored on them.

A file holds ``{"data": [{"context", "qas": [{"id", "question", "is_impossible", "answers":
[{"text", "answer_start"}]}]}]}`` (IDK-MRC and the translated SQuAD keep this layout;
``from_facqa`` reads facqa-dev's questions as the same ``Example`` records). Scoring is SQuAD
2.0's: an unanswerable question scores 1 only when declined, an answerable one scores the best
token F1 (or exact match) of the span against its gold answers, 0 when declined.
"""

from __future__ import annotations

import collections
import json
import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass(frozen=True)
class Example:
    """One question over one passage; ``answers`` is empty when the passage does not answer."""

    id: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]  # (text, character start)
    group: str  # the paragraph it belongs to (held-out slices are split by it)

    @property
    def answerable(self) -> bool:
        return bool(self.answers)


def load_squad(path: str | Path, *, prefix: str = "") -> list[Example]:
    """The examples of a SQuAD 2.0-layout file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    out = []
    for p_index, paragraph in enumerate(_paragraphs(data)):
        context = paragraph["context"]
        out += [_example(qa, context, prefix, f"p{p_index}") for qa in paragraph["qas"]]
    return out


def _example(qa: dict[str, Any], context: str, prefix: str, group: str) -> Example:
    """A question (SQuAD's ``qas`` entry, or a facqa-dev question) over its passage."""
    return Example(
        id=f"{prefix}{qa['id']}",
        question=qa["question"],
        context=context,
        answers=() if qa.get("is_impossible") else _answers(qa, context),
        group=f"{prefix}{group}",
    )


def _paragraphs(data: dict[str, Any]) -> Iterable[dict[str, Any]]:
    for entry in data["data"]:
        if "paragraphs" in entry:  # the original SQuAD nesting: articles, then paragraphs
            yield from entry["paragraphs"]
        else:
            yield entry


def _answers(qa: dict[str, Any], context: str) -> tuple[tuple[str, int], ...]:
    found = []
    for a in qa.get("answers", []):
        text, start = a["text"], int(a["answer_start"])
        if context[start : start + len(text)] != text:  # re-aligned spans can be off: find it
            start = context.find(text)
        if text.strip() and start >= 0:
            found.append((text, start))
    return tuple(found)


def load_facqa(folder: str | Path) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """facqa-dev's passages (id -> text) and questions (``split`` train or valid)."""
    folder = Path(folder)
    passages = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            passages[row["id"]] = row["text"]
    with open(folder / "questions.jsonl", encoding="utf-8") as fh:
        questions = [json.loads(line) for line in fh if line.strip()]
    return passages, questions


def from_facqa(
    questions: Iterable[dict[str, Any]], passages: dict[str, str], *, prefix: str = "facqa:"
) -> list[Example]:
    """facqa-dev questions (``{"id", "question", "answers", "context_id"}``) over their passages."""
    return [_example(q, passages[q["context_id"]], prefix, q["context_id"]) for q in questions]


# -- scoring -----------------------------------------------------------------------------------

_PUNCT = set(string.punctuation) | set("“”‘’«»–—…")


def normalize(text: str) -> str:
    """SQuAD's answer normalisation without English articles: lower case, no punctuation."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(text.split())


def token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize(prediction).split(), normalize(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = collections.Counter(pred) & collections.Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def best_scores(prediction: str, golds: Sequence[str]) -> tuple[float, float]:
    """(exact match, F1) of a span against the best of its gold answers."""
    exact = max(float(normalize(prediction) == normalize(g)) for g in golds)
    f1 = max(token_f1(prediction, g) for g in golds)
    return exact, f1


@dataclass(frozen=True)
class Prediction:
    """A reader's output for one example: its best span and the span's margin over no-answer."""

    span: str
    margin: float


@dataclass(frozen=True)
class MrcScores:
    """SQuAD 2.0 scores at one threshold (a span is an answer when its margin is above it)."""

    threshold: float
    questions: int
    answerable: int
    f1: float  # over all questions
    exact: float
    has_answer_f1: float  # answerable questions, declines count 0
    span_f1: float  # answerable questions, best span whatever its margin
    span_exact: float
    unanswerable_declined: float  # share of the unanswerable that were declined
    answerable_declined: float  # share of the answerable that were declined
    auc: float  # answerability: margins of answerable vs unanswerable (ROC AUC)


def score(
    examples: Sequence[Example], predictions: Sequence[Prediction], threshold: float
) -> MrcScores:
    """SQuAD 2.0 scores of ``predictions`` at ``threshold``."""
    f1s, exacts = [], []
    ans_f1, span_f1, span_exact, ans_declined, unans_declined = [], [], [], 0, 0
    for ex, pred in zip(examples, predictions, strict=True):
        declined = pred.margin <= threshold
        if not ex.answerable:
            f1s.append(float(declined))
            exacts.append(float(declined))
            unans_declined += declined
            continue
        exact, f1 = best_scores(pred.span, [a for a, _ in ex.answers])
        span_f1.append(f1)
        span_exact.append(exact)
        ans_declined += declined
        f1s.append(0.0 if declined else f1)
        exacts.append(0.0 if declined else exact)
        ans_f1.append(0.0 if declined else f1)
    n_ans = len(span_f1)
    n_unans = len(examples) - n_ans
    return MrcScores(
        threshold=threshold,
        questions=len(examples),
        answerable=n_ans,
        f1=_mean(f1s),
        exact=_mean(exacts),
        has_answer_f1=_mean(ans_f1),
        span_f1=_mean(span_f1),
        span_exact=_mean(span_exact),
        unanswerable_declined=unans_declined / n_unans if n_unans else 0.0,
        answerable_declined=ans_declined / n_ans if n_ans else 0.0,
        auc=auc(
            [p.margin for e, p in zip(examples, predictions, strict=True) if e.answerable],
            [p.margin for e, p in zip(examples, predictions, strict=True) if not e.answerable],
        ),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def auc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    """ROC AUC: the chance that a positive scores above a negative (ties count half)."""
    if not positives or not negatives:
        return float("nan")
    ranked = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum, i = 0.0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        mid = (i + j + 1) / 2  # mean 1-based rank of the tie group
        rank_sum += mid * sum(label for _, label in ranked[i:j])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def best_threshold(examples: Sequence[Example], predictions: Sequence[Prediction]) -> float:
    """The threshold with the highest SQuAD 2.0 F1 (candidates: the margins themselves)."""
    candidates = sorted({p.margin for p in predictions} | {0.0})
    best = max(candidates, key=lambda t: (score(examples, predictions, t).f1, -abs(t)))
    return float(best)


def curve(
    examples: Sequence[Example], predictions: Sequence[Prediction], points: int = 11
) -> list[tuple[float, float, float]]:
    """(threshold, unanswerable declined, answerable declined) at the margins' quantiles."""
    margins = sorted(p.margin for p in predictions)
    out = []
    for k in range(points):
        t = margins[min(len(margins) - 1, round(k * (len(margins) - 1) / (points - 1)))]
        s = score(examples, predictions, t)
        out.append((t, s.unanswerable_declined, s.answerable_declined))
    return out


def declined_at(
    examples: Sequence[Example], predictions: Sequence[Prediction], false_declines: float
) -> tuple[float, float]:
    """(threshold, unanswerable declined) with at most ``false_declines`` of the answerable."""
    answerable = sorted(
        p.margin for e, p in zip(examples, predictions, strict=True) if e.answerable
    )
    if not answerable:
        return 0.0, 0.0
    k = int(false_declines * len(answerable))  # this many answerable may sit at or below t
    t = answerable[k] - 1e-6 if k < len(answerable) else answerable[-1]
    if k > 0:
        t = max(t, answerable[k - 1])
    s = score(examples, predictions, t)
    return t, s.unanswerable_declined


class _Reads(Protocol):
    def read_many(self, pairs: Sequence[tuple[str, str]]) -> Sequence[Any]: ...


def predict(reader: _Reads, examples: Sequence[Example]) -> list[Prediction]:
    """The reader's best span and margin for each example (``kb.answer.reader.Reader``)."""
    spans = reader.read_many([(e.question, e.context) for e in examples])
    return [Prediction(s.text, s.margin) for s in spans]


@dataclass(frozen=True)
class ReaderReport:
    """``kb eval --reader``: scores at the reader's threshold, the decline curve, and the
    share of the unanswerable declined when 5% and 10% of the answerable are."""

    scores: MrcScores
    curve: list[tuple[float, float, float]]
    declined_at_5: float
    declined_at_10: float


def evaluate_reader(reader: _Reads, examples: Sequence[Example], threshold: float) -> ReaderReport:
    preds = predict(reader, examples)
    return ReaderReport(
        scores=score(examples, preds, threshold),
        curve=curve(examples, preds),
        declined_at_5=declined_at(examples, preds, 0.05)[1],
        declined_at_10=declined_at(examples, preds, 0.10)[1],
    )


def format_report(name: str, report: ReaderReport) -> str:
    lines = [format_scores(name, report.scores)]
    if report.scores.answerable < report.scores.questions:
        lines.append(
            f"unanswerable declined at 5% / 10% of the answerable declined: "
            f"{report.declined_at_5:.1%} / {report.declined_at_10:.1%}"
        )
        lines.append("threshold  unanswerable declined  answerable declined")
        lines += [f"{t:9.2f}  {u:21.1%}  {a:19.1%}" for t, u, a in report.curve]
    return "\n".join(lines)


def format_scores(name: str, s: MrcScores) -> str:
    return (
        f"{name}: {s.questions} questions ({s.answerable} answerable) at threshold "
        f"{s.threshold:.2f}: F1 {s.f1:.3f}, EM {s.exact:.3f}; answerable: F1 {s.has_answer_f1:.3f}"
        f" (span F1 {s.span_f1:.3f}, EM {s.span_exact:.3f} whatever the margin); declined: "
        f"{s.unanswerable_declined:.1%} of the unanswerable, {s.answerable_declined:.1%} of the "
        f"answerable; AUC {s.auc:.3f}"
    )
