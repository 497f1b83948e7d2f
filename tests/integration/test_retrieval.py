"""Hybrid retrieval: the Indonesian keyword leg, fusion, filters on both legs, staying in step."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import fake_settings, make_kb

from kb import KnowledgeBase
from kb.embedders.models import HashingEmbeddings
from kb.ops.evaluate import Question, evaluate, load_questions

ROWS = [
    {"id": "a", "title": "Layanan Malam Kecamatan Ciputat", "text": "Kecamatan Ciputat di Kota "
     "Tangerang Selatan melayani warga pada Jumat malam sampai pukul 21.00.", "date": "2017-11-07"},
    {"id": "b", "title": "Pasar Sleman", "text": "Pemkab Sleman merenovasi pasar rakyat dengan "
     "anggaran Rp 2,5 miliar.", "date": "2021-03-01", "outlet": "Warta Contoh"},
    {"id": "c", "title": "Aduan Warga Bandung", "text": "Pemkot Bandung menjawab 3.846 aduan warga "
     "lewat aplikasi dalam enam bulan.", "date": "2024-07-09"},
]  # fmt: skip


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS), encoding="utf-8")
    base = make_kb(settings=fake_settings(tmp_path / "s"), embedder=HashingEmbeddings())
    assert base.ingest([path]).ok
    return base


def test_keyword_leg_finds_numbers_and_short_forms(kb: KnowledgeBase) -> None:
    (hit,) = kb.retrieve("3.846 aduan", k=1, mode="keyword")
    assert hit.doc_id == "c" and hit.keyword_score and hit.keyword_rank == 1
    assert kb.retrieve("pelayanan malam di Tangsel", k=1, mode="keyword")[0].doc_id == "a"


def test_hybrid_hits_carry_both_legs(kb: KnowledgeBase) -> None:
    hits = kb.retrieve("renovasi pasar rakyat Sleman", k=3)
    assert hits[0].doc_id == "b"
    assert hits[0].dense_rank == 1 and hits[0].keyword_rank == 1
    assert hits[0].score == pytest.approx(1.0)
    assert all(h.dense_score is not None for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_filters_apply_to_both_legs(kb: KnowledgeBase) -> None:
    for mode in ("hybrid", "dense", "keyword"):
        hits = kb.retrieve("aduan warga pasar malam", k=5, filters={"region": "Bandung"}, mode=mode)
        assert {h.doc_id for h in hits} <= {"c"}, mode
        dated = kb.retrieve("aduan pasar malam", k=5, filters={"date_to": "2021-12-31"}, mode=mode)
        assert {h.doc_id for h in dated} <= {"a", "b"}, mode
        outlet = kb.retrieve("pasar aduan", k=5, filters={"outlet": "Warta Contoh"}, mode=mode)
        assert {h.doc_id for h in outlet} == {"b"}, mode


def test_keyword_index_follows_writes_from_another_instance(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    reader = make_kb(settings=kb.settings, embedder=HashingEmbeddings())
    assert reader.retrieve("perpustakaan keliling", k=1, mode="keyword") == []
    extra = tmp_path / "extra.jsonl"
    row = {"id": "d", "title": "Perpustakaan Keliling", "text": "Mobil perpustakaan keliling "
           "menyambangi sekolah di Kabupaten Kendal."}  # fmt: skip
    extra.write_text(json.dumps(row), encoding="utf-8")
    assert kb.ingest([extra]).added == ("d",)
    assert reader.retrieve("perpustakaan keliling", k=1, mode="keyword")[0].doc_id == "d"
    kb.delete("d")
    assert reader.retrieve("perpustakaan keliling", k=1, mode="keyword") == []


def test_several_passages_per_article_on_request(tmp_path: Path) -> None:
    text = " ".join(f"Kalimat {i} tentang layanan malam di kecamatan." for i in range(60))
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"id": "long", "title": "Panjang", "text": text}), encoding="utf-8")
    kb = make_kb(settings=fake_settings(tmp_path / "s", chunk_chars=300))
    kb.ingest([path])
    assert len(kb.retrieve("layanan malam", k=5)) == 1
    many = kb.retrieve("layanan malam", k=5, per_article=None)
    assert len(many) == 5 and len({h.chunk_id for h in many}) == 5


def test_eval_compares_product_and_baselines_in_one_run(kb: KnowledgeBase) -> None:
    questions = [
        Question("q1", "Kapan Kecamatan Ciputat melayani warga?", "a"),
        Question("q2", "Berapa anggaran renovasi pasar Sleman?", "b"),
        Question("q3", "Apakah ada layanan paspor?", None),
    ]
    report = evaluate(kb, questions)
    assert {m.system for m in report.metrics} == {"product", "dense-only", "plain-bm25"}
    assert report.unanswerable == 1
    assert report.get("product").questions == 2
    assert report.get("product").mrr_at_10 == 1.0


@pytest.mark.model
def test_own_question_set_with_the_default_model(tmp_path: Path) -> None:
    """Our own questions (Indonesian and English) over the samples and near-miss distractors."""
    root = Path(__file__).resolve().parents[2]
    kb = make_kb(settings=fake_settings(tmp_path / "s", embedding_model="e5-small"))
    report = kb.ingest([root / "kb/samples/samples.jsonl", root / "kb/samples/distractors.jsonl"])
    assert report.ok and len(report.added) >= 36
    questions = load_questions(root / "tests/data/sample_questions.jsonl")
    assert sum(q.lang == "id" for q in questions if q.answerable) >= 20
    assert sum(q.lang == "en" for q in questions if q.answerable) >= 20
    result = evaluate(kb, questions)
    product, plain = result.get("product"), result.get("plain-bm25")
    assert product.mrr_at_10 > plain.mrr_at_10, "the product beats plain BM25 in the same run"
    assert result.get("product", "id").mrr_at_10 >= 0.9
    assert result.get("product", "en").mrr_at_10 >= 0.85
    assert product.recall_at_5 >= 0.95


def test_answer_metrics_count_hits_lengths_and_abstentions(tmp_path: Path) -> None:
    from kb.ops.evaluate import evaluate_answers

    path = tmp_path / "rows.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS), encoding="utf-8")
    settings = fake_settings(tmp_path / "s", abstain_dense=0.0, abstain_lexical=0.0,
                             abstain_dense_crosslingual=0.0)  # fmt: skip
    kb = make_kb(settings=settings, embedder=HashingEmbeddings())
    kb.ingest([path])
    questions = [
        Question("q1", "Berapa aduan warga yang dijawab Pemkot Bandung?", "c", answers=("3.846",)),
        Question("q2", "Berapa anggaran renovasi pasar Sleman?", "b", answers=("Rp 9 miliar",)),
    ]
    m = evaluate_answers(kb, questions)
    assert m.answerable == 2 and m.unanswerable == 0
    assert m.contains_answer == 0.5
    assert m.abstained_answerable == 0.0
    assert 0 < m.words_mean <= m.words_max <= 80


def test_retrieve_reports_the_fused_scores_of_its_legs(kb: KnowledgeBase) -> None:
    """Every candidate returned (k covers them all): its score is the fusion of the two leg
    scores it reports, normalised over the candidates."""
    hits = kb.retrieve("pelayanan warga Jumat malam", k=50, per_article=None)
    assert len(hits) == 3
    dense = [h.dense_score or 0.0 for h in hits]
    keyword = [h.keyword_score or 0.0 for h in hits]
    w = kb.settings.dense_weight
    coverage = kb.ranker.index.coverage("pelayanan warga Jumat malam")

    def norm(v: float, vs: list[float]) -> float:
        return (v - min(vs)) / (max(vs) - min(vs))

    expected = [
        w * norm(d, dense) + (1 - w) * coverage * norm(k, keyword)
        for d, k in zip(dense, keyword, strict=True)
    ]
    assert [h.score for h in hits] == pytest.approx(expected, abs=1e-6)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
