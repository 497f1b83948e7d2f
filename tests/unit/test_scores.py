"""Scores computed exactly: Indonesian analysis, fusion of the two legs, retrieval metrics."""

from __future__ import annotations

import pytest

from kb.ops.evaluate import score
from kb.retrieval.fusion import Candidate, fuse
from kb.store.records import StoredChunk
from kb.text.analysis import analyze, plain_tokens


def _candidate(cid: str, dense: float, keyword: float, dense_rank: int | None,
               keyword_rank: int | None) -> Candidate:  # fmt: skip
    return Candidate(StoredChunk(cid, cid, {}), dense, keyword, dense_rank, keyword_rank)


def test_analysis_stems_expands_short_forms_and_keeps_numbers() -> None:
    assert analyze("Pelayanan Kec. Ciputat di Tangsel, Rp 3.846 juta") == [
        "layan", "camat", "ciputat", "tangerang", "selatan", "rp", "3.846", "juta",
    ]  # fmt: skip
    assert plain_tokens("Pelayanan Kec. Ciputat") == ["pelayanan", "kec", "ciputat"]


def test_metrics_are_exact() -> None:
    m = score("x", "all", [["a", "b"], ["c", "a"], ["z"]], ["a", "a", "a"])
    assert (m.recall_at_1, m.recall_at_5, m.recall_at_10) == pytest.approx((1 / 3, 2 / 3, 2 / 3))
    assert m.mrr_at_10 == pytest.approx((1 + 0.5) / 3)
    assert m.ndcg_at_10 == pytest.approx((1 + 1 / 1.5849625007) / 3)


def test_fusion_scores_exactly() -> None:
    pool = [
        _candidate("x", 0.9, 0.0, 1, None),  # dense only
        _candidate("y", 0.5, 4.0, 3, 1),
        _candidate("z", 0.7, 2.0, 2, 2),
    ]
    # min-max: dense (1, 0, 0.5), keyword (0, 1, 0.5)
    fused = fuse(pool, dense_weight=0.6)
    assert [(c.chunk.chunk_id, c.score) for c in fused] == [
        ("x", pytest.approx(0.6)), ("z", pytest.approx(0.5)), ("y", pytest.approx(0.4)),
    ]  # fmt: skip
    # a query whose words the articles barely use: the keyword leg counts for that share
    assert [c.score for c in fuse(pool, dense_weight=0.6, coverage=0.5)] == pytest.approx(
        [0.6, 0.3 + 0.1, 0.2]
    )
    rrf = {c.chunk.chunk_id: c.score for c in fuse(pool, fusion="rrf")}
    assert rrf == pytest.approx({"x": 1 / 61, "y": 1 / 63 + 1 / 61, "z": 2 / 62})
    assert [c.chunk.chunk_id for c in fuse(pool, "keyword")] == ["y", "z", "x"]
    # equal scores: the better dense rank first
    tied = [_candidate("b", 0.5, 1.0, 2, 1), _candidate("a", 0.5, 1.0, 1, 2)]
    assert [c.chunk.chunk_id for c in fuse(tied)] == ["a", "b"]
