"""The one JSON form of an answer and of a hit (``Answer.to_record``, ``Hit.to_record``):
the same for ``kb ask --json``, ``kb search --json``, the app's ``/ask`` endpoint and
feedback, with what a reader of the result needs and none of the store's bookkeeping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import fake_settings, make_kb

from kb.cli import cli
from kb.embedders.models import HashingEmbeddings
from kb.knowledge_base import sample_path
from kb.types import Answer, ArticleCopy, Citation, Hit, IngestReport, to_jsonable
from kb.ui import Handlers

JAMBI_Q = "Siapa Kepala BPSDM Provinsi Jambi?"
HIT_KEYS = [
    "doc_id", "chunk_id", "title", "text", "score", "dense_score", "keyword_score",
    "dense_rank", "keyword_rank", "start", "end", "outlet", "date", "url", "regions", "page",
    "page_end", "section", "also_in",
]  # fmt: skip
CITATION_KEYS = [
    "n", "doc_id", "title", "quote", "start", "end", "outlet", "date", "url", "page",
    "page_end", "section", "also_in", "chunk_id",
]  # fmt: skip
ANSWER_KEYS = [
    "question", "query", "language", "text", "short", "short_citations", "abstained", "mode",
    "citations", "unsupported", "hits",
]  # fmt: skip
# What the /ask endpoint's answer held before it was this record: a caller may rely on them.
ASK_KEYS_BEFORE = {
    "text", "short", "short_citations", "abstained", "citations", "unsupported", "mode",
}  # fmt: skip
ASK_CITATION_KEYS_BEFORE = {
    "n", "doc_id", "title", "quote", "outlet", "date", "url", "page", "page_end", "section",
    "also_in",
}  # fmt: skip
# The store's bookkeeping: never in a record.
INTERNAL = {
    "metadata", "content_hash", "embedding_key", "date_int", "outlet_key", "page_breaks",
    "dup_signature", "duplicate_of", "chunk_index", "ingested_at",
}  # fmt: skip
SECRET_HASH = "3dad3d7cbb7c9f28ae80089ed30e741fcdf10e21f14bf836ee1924c5c9e88b74"


def stored_hit() -> Hit:
    """A hit as the store gives one: its metadata full of bookkeeping."""
    return Hit(
        doc_id="laporan-2024",
        chunk_id="laporan-2024#0003-ab12",
        title="Laporan Kinerja 2024",
        text="Mal Pelayanan Publik Coblong melayani 24 jenis layanan.",
        score=0.875,
        start=120,
        end=175,
        metadata={
            "doc_id": "laporan-2024",
            "title": "Laporan Kinerja 2024",
            "outlet": "Diskominfo",
            "outlet_key": "diskominfo",
            "date": "2024-03-05",
            "date_int": 20240305,
            "src_url": "https://contoh.go.id/laporan",
            "regions": ["Kota Bandung", "Kecamatan Coblong"],
            "content_hash": SECRET_HASH,
            "embedding_key": "c8bec124da32f430a10f",
            "page_breaks": "[[150, 13]]",
            "chunk_index": 3,
            "ingested_at": "2024-04-01T00:00:00+00:00",
        },
        dense_score=0.61,
        keyword_score=7.5,
        dense_rank=2,
        keyword_rank=None,
        page=12,
        page_end=13,
        section="BAB IV Hasil > 4.7 Mal Pelayanan Publik",
        also_in=(ArticleCopy("laporan-2024-salinan", "Laporan Kinerja 2024 (salinan)", ""),),
    )


def sample_answer() -> Answer:
    hit = stored_hit()
    citation = Citation(
        n=1, doc_id=hit.doc_id, title=hit.title, quote=hit.text, start=hit.start, end=hit.end,
        url="https://contoh.go.id/laporan", date="2024-03-05", outlet="Diskominfo",
        chunk_id=hit.chunk_id, page=12, page_end=13, section=hit.section, also_in=hit.also_in,
    )  # fmt: skip
    return Answer(
        question="Berapa jenis layanan di MPP Coblong?",
        text="Mal Pelayanan Publik Coblong melayani **24 jenis layanan**. [1]",
        citations=(citation,),
        hits=(hit,),
        query="jenis layanan MPP Coblong",
        short="24 jenis layanan",
        short_citations=(1,),
    )


def keys_anywhere(data: Any) -> set[str]:
    """Every key of every mapping in ``data``, however deep."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_anywhere(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_anywhere(v)}
    return set()


def test_a_hit_record_has_the_readers_fields_and_none_of_the_stores() -> None:
    record = stored_hit().to_record()

    assert list(record) == HIT_KEYS
    assert not keys_anywhere(record) & INTERNAL
    assert SECRET_HASH not in json.dumps(record)
    assert record["outlet"] == "Diskominfo" and record["date"] == "2024-03-05"
    assert record["url"] == "https://contoh.go.id/laporan"  # a source's src_url
    assert record["regions"] == ["Kota Bandung", "Kecamatan Coblong"]
    assert (record["page"], record["page_end"]) == (12, 13)
    assert (record["dense_rank"], record["keyword_rank"]) == (2, None)
    assert record["also_in"] == [
        {"doc_id": "laporan-2024-salinan", "title": "Laporan Kinerja 2024 (salinan)", "outlet": ""}
    ]


def test_a_hit_without_metadata_has_empty_fields() -> None:
    record = Hit("a", "a#0", "Judul", "teks", 1.0, 0, 4).to_record()

    assert list(record) == HIT_KEYS
    assert (record["outlet"], record["date"], record["url"], record["regions"]) == ("", "", "", [])
    assert (record["page"], record["section"], record["also_in"]) == (None, "", [])


def test_an_answer_record_has_exact_keys_and_round_trips_through_json() -> None:
    answer = sample_answer()
    record = answer.to_record()

    assert list(record) == ANSWER_KEYS
    assert [list(c) for c in record["citations"]] == [CITATION_KEYS]
    assert [list(h) for h in record["hits"]] == [HIT_KEYS]
    assert record["hits"] == [h.to_record() for h in answer.hits]
    assert record["short_citations"] == [1] and record["query"] == "jenis layanan MPP Coblong"
    assert set(record) >= ASK_KEYS_BEFORE
    assert set(record["citations"][0]) >= ASK_CITATION_KEYS_BEFORE
    assert not keys_anywhere(record) & INTERNAL
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record


def test_to_jsonable_uses_the_records_and_keeps_other_dataclasses_whole() -> None:
    answer = sample_answer()

    assert to_jsonable(answer) == answer.to_record()
    assert to_jsonable(list(answer.hits)) == [h.to_record() for h in answer.hits]
    assert to_jsonable(answer.citations[0]) == answer.citations[0].to_record()
    assert to_jsonable({"answer": answer}) == {"answer": answer.to_record()}
    report = to_jsonable(IngestReport(added=("a",), chunks_written=2))
    assert report["added"] == ["a"] and report["ok"] is True and report["chunks_written"] == 2


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the sample articles (hashing embedder, no reader)."""
    folder = tmp_path_factory.mktemp("records") / "store"
    kb = make_kb(settings=fake_settings(folder), embedder=HashingEmbeddings())
    assert kb.ingest([sample_path()]).ok
    kb.close()
    return folder


def run_cli(store: Path, *args: str) -> Any:
    env = {
        "KB_STORE": str(store),
        "KB_EMBEDDING_MODEL": "fake",
        "KB_READER": "none",
        "KB_LOAD_SAMPLES": "false",
        "KB_LLM": "",
    }
    done = CliRunner().invoke(cli, [*args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_kb_ask_json_is_the_ask_endpoints_record(store: Path) -> None:
    printed = run_cli(store, "ask", JAMBI_Q)

    kb = make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())
    _, record, *_, records, answer = list(Handlers(kb).ask(JAMBI_Q, []))[-1]
    assert answer is not None and not answer.abstained and answer.hits
    assert printed == record == answer.to_record()
    assert list(printed) == ANSWER_KEYS and printed["hits"]
    assert not keys_anywhere(printed) & INTERNAL
    # The answers kept for feedback are the same record, with the chat's own keys.
    assert {k: v for k, v in records[-1].items() if k in record} == record


def test_kb_search_json_is_hit_records(store: Path) -> None:
    printed = run_cli(store, "search", "pelayanan Jumat malam Ciputat", "-k", "3")

    kb = make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())
    hits = kb.retrieve("pelayanan Jumat malam Ciputat", 3, None, per_article=1)
    assert printed == [h.to_record() for h in hits] and len(printed) == 3
    assert all(list(h) == HIT_KEYS for h in printed)
    assert not keys_anywhere(printed) & INTERNAL
    stored = kb.article(hits[0].doc_id).metadata.get("content_hash")
    assert stored and str(stored) not in json.dumps(printed)


def test_an_abstention_record_carries_the_closest_passages(tmp_path: Path) -> None:
    never = {"abstain_dense": 2.0, "abstain_lexical": 2.0, "abstain_dense_crosslingual": 2.0}
    kb = make_kb(settings=fake_settings(tmp_path / "store", **never), embedder=HashingEmbeddings())
    assert kb.ingest([sample_path()]).ok
    answer = kb.ask(JAMBI_Q)
    record = answer.to_record()

    assert record["abstained"] is True and record["citations"] == []
    assert [h["chunk_id"] for h in record["hits"]] == [h.chunk_id for h in answer.hits]
    assert record["hits"] and all(list(h) == HIT_KEYS for h in record["hits"])
