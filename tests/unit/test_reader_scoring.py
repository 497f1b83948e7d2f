"""The reader's scoring and training without the model: SQuAD 2.0 scores, AUC and the threshold,
reading sets, the shipped weights' manifest, the answer span, the training schedule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kb.answer import mrc
from kb.answer.extractive import compose_span
from kb.answer.reader import Reader, Span, load_manifest, shipped_files
from kb.types import Hit


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


def _ex(answers: tuple[tuple[str, int], ...]) -> mrc.Example:
    return mrc.Example("q", "?", "Rina Wulandari berkata.", answers, "p")


def test_squad2_scoring_counts_a_declined_unanswerable_as_right() -> None:
    examples = [_ex((("Rina Wulandari", 0),)), _ex(())]
    preds = [mrc.Prediction("Rina Wulandari", 2.0), mrc.Prediction("berkata", -1.0)]
    s = mrc.score(examples, preds, threshold=0.0)
    assert (s.f1, s.exact, s.unanswerable_declined, s.answerable_declined) == (1.0, 1.0, 1.0, 0.0)
    # at a threshold above both margins the answerable one is declined: F1 0 there
    s = mrc.score(examples, preds, threshold=3.0)
    assert (s.f1, s.has_answer_f1, s.span_f1, s.answerable_declined) == (0.5, 0.0, 1.0, 1.0)


def test_token_f1_ignores_case_and_punctuation() -> None:
    assert mrc.token_f1("rina wulandari,", "Rina Wulandari") == 1.0
    assert mrc.token_f1("Camat Rina Wulandari", "Rina Wulandari") == pytest.approx(0.8)
    assert mrc.token_f1("Kamis", "Selasa") == 0.0


def test_auc_and_best_threshold() -> None:
    assert mrc.auc([3.0, 2.0], [1.0, 0.0]) == 1.0
    assert mrc.auc([1.0], [1.0]) == 0.5
    examples = [_ex((("Rina Wulandari", 0),)), _ex(()), _ex(())]
    preds = [
        mrc.Prediction("Rina Wulandari", 1.5),
        mrc.Prediction("x", 0.5),
        mrc.Prediction("y", 1.0),
    ]
    t = mrc.best_threshold(examples, preds)
    assert 1.0 <= t < 1.5
    assert mrc.score(examples, preds, t).f1 == 1.0


def test_load_squad_finds_a_misaligned_answer(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "context": "Camat Sukamaju ialah Rina Wulandari.",
                "qas": [
                    {
                        "id": "a",
                        "question": "Siapa Camat Sukamaju?",
                        "is_impossible": False,
                        "answers": [{"text": "Rina Wulandari", "answer_start": 3}],
                    },
                    {"id": "b", "question": "Kapan?", "is_impossible": True, "answers": []},
                ],
            }
        ]
    }
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    a, b = mrc.load_squad(path)
    assert a.answers == (("Rina Wulandari", 21),) and a.group == b.group
    assert not b.answerable


def test_shipped_weights_match_their_manifest() -> None:
    import hashlib

    weights, _ = shipped_files()
    manifest = load_manifest()
    assert hashlib.sha256(weights.read_bytes()).hexdigest() == manifest["sha256"]
    assert weights.stat().st_size < 50_000_000


def test_the_answer_is_the_span_with_the_largest_margin() -> None:
    """The reader's order may put a passage first whose span has a smaller margin (it stood
    higher in the fusion order); the answer is still the most confident span, cited there."""
    texts = ["Camat Sukamaju: Rina Wulandari.", "Kepala desa Sukamaju: Budi Santoso."]
    first, second = (
        Hit(d, f"{d}#0", d, t, 1.0, 0, len(t), {}) for d, t in zip("ab", texts, strict=True)
    )
    spans = [
        Span("Rina Wulandari", texts[0].index("Rina"), len(texts[0]) - 1, 9.0, 4.0, 5.0, True),
        Span("Budi Santoso", texts[1].index("Budi"), len(texts[1]) - 1, 11.0, 3.0, 8.0, True),
    ]
    text, short = compose_span([first, second], spans)
    assert short == "Budi Santoso"
    assert re.findall(r"\[\d+\]", text) == ["[2]"]
    assert text.startswith("Kepala desa Sukamaju: **Budi Santoso**")


def test_training_goes_on_at_the_rate_of_its_start_step() -> None:
    import torch

    from kb.answer.reader_train import schedule

    def rates(start: int) -> list[float]:
        optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        scheduler = schedule(optimizer, 100, start)
        out = []
        for _ in range(start, 100):
            out.append(scheduler.get_last_lr()[0])
            optimizer.step()
            scheduler.step()
        return out

    whole = rates(0)
    assert whole[0] < whole[6] == max(whole) and whole[-1] < 0.02  # warm-up, then decay
    assert rates(50) == pytest.approx(whole[50:])
