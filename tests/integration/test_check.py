"""``kb check`` and ``kb check --repair`` on stores broken on purpose; what readers serve from
such stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from crash_fixtures import ENV, marker, open_kb, write_corpus

from kb.cli import main
from kb.errors import StoreLockedError
from kb.knowledge_base import KnowledgeBase
from kb.store.store import EMBEDDER_KEY

ARTICLES = 6


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    write_corpus(reports, range(ARTICLES))
    return reports


@pytest.fixture
def kb(tmp_path: Path, folder: Path) -> KnowledgeBase:
    base = open_kb(tmp_path / "store")
    assert base.ingest([folder]).ok
    return base


def _doc(kb: KnowledgeBase, n: int) -> str:
    (doc_id,) = [a.doc_id for a in kb.articles() if a.source.endswith(f"laporan-{n:03d}.txt")]
    return doc_id


def _chunks(kb: KnowledgeBase, doc_id: str) -> dict[str, dict[str, object]]:
    return kb.store.chunk_metadatas([doc_id])


def _kinds(report: object) -> list[tuple[str, str]]:
    return sorted((p.kind, p.doc_id) for p in report.problems)  # type: ignore[attr-defined]


def _served(kb: KnowledgeBase, query: str) -> set[str]:
    return {
        h.doc_id
        for mode in ("hybrid", "dense", "keyword")
        for h in kb.retrieve(query, k=10, mode=mode, per_article=None)  # type: ignore[arg-type]
    }


def test_a_healthy_store_passes(kb: KnowledgeBase) -> None:
    report = kb.check()
    assert report.ok and report.problems == () and report.reingest == ()
    assert (report.articles, report.embedder) == (ARTICLES, "fake:hashing-256")
    assert report.chunks == sum(a.chunks for a in kb.articles()) > ARTICLES


def test_orphans_and_a_missing_registry_record(kb: KnowledgeBase) -> None:
    lost = _doc(kb, 2)
    assert lost in _served(kb, marker(2))
    kb.store.articles.delete(ids=[lost])  # the registry record is gone, the chunks are not
    # An orphan of an article that never was registered, found by its own made-up word.
    kb.store.chunks.add(
        ids=["ghost#0000-x"],
        documents=[f"Laporan hantu {marker(99)} tentang layanan kecamatan."],
        metadatas=[{"doc_id": "ghost", "chunk_index": 0, "content_hash": "h", "source": "g.txt"}],
        embeddings=[kb.embedder.embed_documents([f"hantu {marker(99)}"])[0]],
    )
    kb.store.bump_generation()
    # Never served, in any mode, although Chroma holds them.
    assert lost not in _served(kb, marker(2)) and "ghost" not in _served(kb, marker(99))

    found = kb.check()
    assert _kinds(found) == [("orphan", "ghost"), ("orphan", lost)]
    assert not found.ok and not any(p.mended for p in found.problems)
    assert len(_chunks(kb, lost)) > 0  # a check alone changes nothing

    repaired = kb.check(repair=True)
    assert all(p.mended for p in repaired.problems) and repaired.ok
    assert _chunks(kb, lost) == {} and _chunks(kb, "ghost") == {}
    assert kb.check().problems == ()


def test_a_wrong_chunk_count_drops_the_record_and_names_the_source(
    kb: KnowledgeBase, folder: Path
) -> None:
    doc_id = _doc(kb, 1)
    record = kb.store.get_article(doc_id)
    assert record is not None
    kb.store.articles.update(ids=[doc_id], metadatas=[{"chunks": record.metadata["chunks"] + 1}])
    source = str(folder.resolve() / "laporan-001.txt")

    found = kb.check()
    assert _kinds(found) == [("count", doc_id)] and found.reingest == (source,)
    repaired = kb.check(repair=True)
    assert _kinds(repaired) == [("count", doc_id)] and repaired.problems[0].mended
    assert repaired.reingest == (source,) and not repaired.ok  # the source is still to do
    assert kb.store.get_article(doc_id) is None and _chunks(kb, doc_id) == {}
    assert kb.check().ok  # consistent now, one article fewer

    report = kb.ingest([folder])
    assert report.added == (doc_id,) and len(report.unchanged) == ARTICLES - 1
    assert kb.check().ok and doc_id in _served(kb, marker(1))


def test_stale_duplicate_and_altered_chunks(kb: KnowledgeBase, folder: Path) -> None:
    stale, twice, altered, whole = _doc(kb, 0), _doc(kb, 3), _doc(kb, 4), _doc(kb, 5)
    stale_id = sorted(_chunks(kb, stale))[1]
    kb.store.chunks.update(ids=[stale_id], metadatas=[{"content_hash": "an-older-version"}])
    (copy_id,) = sorted(_chunks(kb, twice))[:1]
    original, vector = kb.store.get_chunks([copy_id])[copy_id]
    kb.store.chunks.add(
        ids=[copy_id + "-copy"],
        documents=[original.text],
        metadatas=[original.metadata],
        embeddings=[vector],
    )
    altered_id = sorted(_chunks(kb, altered))[0]
    altered_vector = kb.store.get_chunks([altered_id])[altered_id][1]
    kb.store.chunks.update(
        ids=[altered_id],
        documents=["Teks yang diubah di luar ingest."],
        embeddings=[altered_vector],
    )
    kb.store.bump_generation()
    stale_text = kb.store.get_chunks([stale_id])[stale_id][0].text
    assert stale_id not in {h.chunk_id for h in kb.retrieve(stale_text, k=20, per_article=None)}

    found = kb.check()
    assert _kinds(found) == sorted(
        [("stale", stale), ("count", stale), ("duplicate", twice), ("count", twice),
         ("text", altered)]
    )  # fmt: skip
    sources = {str(folder.resolve() / f"laporan-{n:03d}.txt") for n in (0, 3, 4)}
    assert set(found.reingest) == sources

    repaired = kb.check(repair=True)
    assert all(p.mended for p in repaired.problems) and set(repaired.reingest) == sources
    assert {a.doc_id for a in kb.articles()} == {_doc(kb, n) for n in (1, 2, 5)}
    assert whole in _served(kb, marker(5))
    kb.ingest([folder])
    assert kb.check().ok and kb.store.count_articles() == ARTICLES


def test_an_interrupted_write_is_finished(kb: KnowledgeBase) -> None:
    doc_id = _doc(kb, 2)
    half = sorted(_chunks(kb, doc_id))[1:]
    kb.store._set_pending([doc_id])  # as a write killed while deleting the old chunks
    kb.store.chunks.delete(ids=half)
    found = kb.check()
    assert _kinds(found) == [("count", doc_id), ("interrupted", "")]
    repaired = kb.check(repair=True)
    assert all(p.mended for p in repaired.problems) and len(repaired.reingest) == 1
    assert kb.store.pending == [] and kb.check().ok


def test_an_embedder_that_is_not_recorded_cannot_be_mended(kb: KnowledgeBase) -> None:
    fresh = kb.store.client.get_collection(f"{kb.store.name}_chunks")
    meta = {k: v for k, v in (fresh.metadata or {}).items() if k != EMBEDDER_KEY}
    kb.store.chunks.modify(metadata=meta)
    for report in (kb.check(), kb.check(repair=True)):
        assert _kinds(report) == [("embedder", "")] and not report.ok
        assert "kb rebuild" in report.problems[0].detail and not report.problems[0].mended


def test_check_waits_for_no_writer(kb: KnowledgeBase) -> None:
    other = open_kb(Path(kb.settings.store))
    with kb.writing(), pytest.raises(StoreLockedError, match="another process is writing"):
        other.check()


def test_the_command_exit_codes_and_json(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    store = str(kb.settings.store)
    main(["check", "--store", store])
    assert "no problem found" in capsys.readouterr().out

    doc_id = _doc(kb, 4)
    kb.store.articles.update(ids=[doc_id], metadatas=[{"chunks": 99}])
    with pytest.raises(SystemExit) as exited:
        main(["check", "--store", store, "--json"])
    assert exited.value.code == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and [p["kind"] for p in data["problems"]] == ["count"]

    with pytest.raises(SystemExit) as exited:
        main(["check", "--repair", "--store", store])
    out = capsys.readouterr().out
    assert exited.value.code == 1  # a source is still to be ingested again
    assert "mended: count" in out and "ingest again: " in out and "laporan-004.txt" in out
    main(["check", "--store", store])
    assert "no problem found" in capsys.readouterr().out
