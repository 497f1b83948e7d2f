"""Ingest and retrieve end to end on a real (embedded) Chroma, with the fast hashing embedder."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED_LIKE, fake_settings, make_kb

from kb import KnowledgeBase
from kb.embedders.models import HashingEmbeddings
from kb.errors import ConfigError, EmbedderMismatchError, KbError, NotFoundError, StoreLockedError

REPORT_A = (
    "Mobil Keliling Dukcapil Sambangi Desa\n"
    "Dinas Kependudukan Kabupaten Bogor mengoperasikan mobil keliling yang melayani perekaman "
    "KTP elektronik di desa-desa terpencil setiap Rabu dan Kamis. Warga tidak perlu lagi "
    "datang ke kantor kecamatan.\n"
)
REPORT_B = (
    "Aplikasi Aduan Warga Kota Bandung\n"
    "Pemkot Bandung meluncurkan aplikasi aduan warga yang menjawab laporan jalan rusak dan "
    "sampah dalam waktu rata-rata dua hari.\n"
)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    folder = tmp_path / "reports"
    write(folder, "seed.txt", SEED_LIKE)
    write(folder, "mobil.txt", REPORT_A)
    write(folder, "sub/aduan.md", "# " + REPORT_B)
    lines = [
        {"id": "j-1", "title": "Sabtu Melayani di MPP", "text": "Mal Pelayanan Publik Kota "
         "Depok buka setiap Sabtu dengan 120 jenis layanan.", "date": "2023-05-06",
         "outlet": "Warta Contoh", "region": "Kota Depok"},
        {"id": "j-2", "title": "Lomba Inovasi", "text": "Bappeda Kabupaten Sleman menggelar "
         "lomba inovasi daerah yang diikuti 85 peserta.", "date": "2022-09-01"},
    ]  # fmt: skip
    write(folder, "more.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    return folder


def test_ingest_a_folder_then_retrieve(fake_kb: KnowledgeBase, reports: Path) -> None:
    report = fake_kb.ingest([reports])
    assert report.ok, report.failed
    assert len(report.added) == 5 and not report.updated and not report.unchanged
    hits = fake_kb.retrieve("mobil keliling perekaman KTP desa", k=3)
    assert hits[0].title == "Mobil Keliling Dukcapil Sambangi Desa"
    article = fake_kb.article(hits[0].doc_id)
    assert article.text[hits[0].start : hits[0].end] == hits[0].text
    assert len({h.doc_id for h in hits}) == len(hits), "one passage per article by default"


def test_every_format_is_ingested_and_found(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    import docx
    from files import make_pdf

    folder = tmp_path / "formats"
    write(folder, "a.txt", "Layanan Malam Ciputat\nKecamatan Ciputat melayani warga malam hari.\n")
    write(folder, "b.md", "# Sabtu Melayani\n\nMal Pelayanan Publik buka hari Sabtu.\n")
    write(
        folder,
        "c.html",
        "<html><head><title>Aplikasi Aduan</title><script>alert('x')</script></head><body>"
        "<article><h1>Aplikasi Aduan</h1><p>Aplikasi aduan warga menjawab laporan.</p>"
        "</article></body></html>",
    )
    (folder / "d.pdf").write_bytes(make_pdf([["Mobil Keliling", "Mobil keliling merekam KTP."]]))
    document = docx.Document()
    document.add_paragraph("Lomba Inovasi")
    document.add_paragraph("Bappeda menggelar lomba inovasi daerah.")
    document.save(str(folder / "e.docx"))
    write(folder, "f.jsonl", json.dumps({"id": "f", "title": "Diklat", "text": "Diklat digital."}))
    report = fake_kb.ingest([folder])
    assert report.ok, report.failed
    assert len(report.added) == 6
    titles = {a.title for a in fake_kb.articles()}
    assert titles == {
        "Layanan Malam Ciputat", "Sabtu Melayani", "Aplikasi Aduan", "Mobil Keliling",
        "Lomba Inovasi", "Diklat",
    }  # fmt: skip
    for query, title in [
        ("mobil keliling merekam KTP", "Mobil Keliling"),
        ("Bappeda lomba inovasi daerah", "Lomba Inovasi"),
        ("aplikasi aduan warga", "Aplikasi Aduan"),
    ]:
        assert fake_kb.retrieve(query, k=1)[0].title == title
    assert "alert" not in fake_kb.article(fake_kb.retrieve("aplikasi aduan", k=1)[0].doc_id).text


def test_seed_shaped_article_gets_title_outlet_regions(
    fake_kb: KnowledgeBase, reports: Path
) -> None:
    fake_kb.ingest([reports / "seed.txt"])
    (info,) = fake_kb.articles()
    assert info.title == "Camat dari Jambi Belajar Tata Kelola Kecamatan di Tangsel"
    meta = info.metadata
    assert meta["outlet"] == "Tangerang Ekspres"
    assert meta["reporter"] == "bud/esa"
    assert meta["date_text"] == "Selasa (7/11)"
    assert "date" not in meta, "a date with no year stays unresolved"
    for region in (
        "Provinsi Jambi",
        "Kota Tangerang Selatan",
        "Kecamatan Setu",
        "Kecamatan Serpong Utara",
        "Kecamatan Pamulang",
        "Kecamatan Ciputat",
        "Provinsi Banten",
    ):
        assert region in meta["regions"]


def test_filters_by_region_outlet_and_date(fake_kb: KnowledgeBase, reports: Path) -> None:
    fake_kb.ingest([reports])
    q = "layanan kecamatan warga"
    tangsel = fake_kb.retrieve(q, k=10, filters={"region": "Tangsel"})
    assert [h.title for h in tangsel] == [
        "Camat dari Jambi Belajar Tata Kelola Kecamatan di Tangsel"
    ]
    banten = fake_kb.retrieve(q, k=10, filters={"region": "Banten"})
    assert {h.doc_id for h in banten} == {h.doc_id for h in tangsel}, "regions include ancestors"
    depok = fake_kb.retrieve(q, k=10, filters={"region": "depok"})
    assert [h.doc_id for h in depok] == ["j-1"]
    assert [h.doc_id for h in fake_kb.retrieve(q, k=10, filters={"outlet": "warta contoh"})] == [
        "j-1"
    ]
    dated = fake_kb.retrieve(q, k=10, filters={"date_from": "2023-01-01"})
    assert [h.doc_id for h in dated] == ["j-1"]
    older = fake_kb.retrieve(q, k=10, filters={"date_from": "2022-01-01", "date_to": "2022-12-31"})
    assert [h.doc_id for h in older] == ["j-2"]
    with pytest.raises(KbError, match="unknown filter"):
        fake_kb.retrieve(q, filters={"kota": "Depok"})


class Spy:
    def __init__(self) -> None:
        self.calls: list[str] = []


def spy_on_writes(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy()
    store = kb.store
    for collection in (store.chunks, store.articles):
        for method in ("add", "upsert", "update", "delete"):
            original = getattr(collection, method)

            def wrapped(*a: Any, _m: str = method, _o: Any = original, **kw: Any) -> Any:
                spy.calls.append(_m)
                return _o(*a, **kw)

            monkeypatch.setattr(collection, method, wrapped)
    original_embed = kb.embedder.embed_documents

    def embed(texts: list[str]) -> list[list[float]]:
        spy.calls.append("embed")
        return original_embed(texts)

    monkeypatch.setattr(kb.embedder, "embed_documents", embed)
    return spy


def test_reingest_unchanged_folder_writes_nothing(
    fake_kb: KnowledgeBase, reports: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_kb.ingest([reports])
    spy = spy_on_writes(fake_kb, monkeypatch)
    # The same files, named another way: still the same articles.
    monkeypatch.chdir(reports.parent)
    report = fake_kb.ingest([Path("reports"), Path("reports/seed.txt")])
    assert report.ok
    assert len(report.unchanged) == 5 and not report.added and not report.updated
    assert spy.calls == []


def test_changed_article_leaves_no_stale_chunk(fake_kb: KnowledgeBase, reports: Path) -> None:
    fake_kb.ingest([reports])
    before = {c.chunk_id for c, _ in fake_kb.store.iter_chunks()}
    write(reports, "mobil.txt", REPORT_A.replace("Rabu dan Kamis", "Senin dan Selasa"))
    report = fake_kb.ingest([reports])
    assert len(report.updated) == 1 and len(report.unchanged) == 4
    doc_id = report.updated[0]
    chunks = [c for c, _ in fake_kb.store.iter_chunks() if c.metadata["doc_id"] == doc_id]
    assert chunks and all("Senin dan Selasa" in c.text for c in chunks)
    assert not any("Rabu dan Kamis" in c.text for c, _ in fake_kb.store.iter_chunks())
    after = {c.chunk_id for c, _ in fake_kb.store.iter_chunks()}
    assert len(after) == len(before)
    assert fake_kb.store.count_chunks() == sum(a.chunks for a in fake_kb.articles())


def test_changed_article_embeds_only_its_changed_passages(
    fake_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paragraphs = [
        f"Paragraf {n}: Kecamatan Contoh ke-{n} membuka layanan malam untuk warga yang bekerja "
        f"pada siang hari, dengan {n * 7} jenis layanan administrasi kependudukan."
        for n in range(1, 13)
    ]
    path = write(tmp_path / "in", "panjang.txt", "Layanan Malam\n" + "\n".join(paragraphs))
    first = fake_kb.ingest([path])
    assert first.chunks_embedded == first.chunks_written >= 3
    stored = {c.text: v for c, v in fake_kb.store.iter_chunks(include_embeddings=True)}
    embedded: list[str] = []
    original = fake_kb.embedder.embed_documents

    def spy(texts: list[str]) -> list[list[float]]:
        embedded.extend(texts)
        return original(texts)

    monkeypatch.setattr(fake_kb.embedder, "embed_documents", spy)
    paragraphs[-1] = paragraphs[-1].replace("administrasi", "perizinan")
    path.write_text("Layanan Malam\n" + "\n".join(paragraphs), encoding="utf-8")
    second = fake_kb.ingest([path])
    assert len(second.updated) == 1 and second.chunks_written == first.chunks_written
    # Only the passage holding the edited sentence is embedded again; the others keep theirs.
    assert second.chunks_embedded == len(embedded) == 1
    assert "perizinan" in embedded[0]
    for chunk, vector in fake_kb.store.iter_chunks(include_embeddings=True):
        if "perizinan" not in chunk.text:
            assert list(vector) == list(stored[chunk.text])
    assert fake_kb.retrieve("jenis layanan perizinan", k=1)[0].text.count("perizinan") == 1
    # A new title changes what every passage is embedded with: all are embedded again.
    path.write_text("Layanan Malam Kecamatan\n" + "\n".join(paragraphs), encoding="utf-8")
    third = fake_kb.ingest([path])
    assert third.chunks_embedded == third.chunks_written == first.chunks_written
    assert len(embedded) == 1 + first.chunks_written


def test_a_moved_folder_is_ingested_without_embedding_again(
    fake_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "dokumen"
    old = docs / "arsip-2024"
    write(old, "mobil.txt", REPORT_A)
    write(old, "aduan.md", "# " + REPORT_B)
    first = fake_kb.ingest([docs])
    (docs / "arsip").mkdir()
    new = old.rename(docs / "arsip" / "2024")

    def refuse(texts: list[str]) -> list[list[float]]:
        raise AssertionError(f"embedded again: {texts}")

    monkeypatch.setattr(fake_kb.embedder, "embed_documents", refuse)
    # New paths make new articles; --prune drops the old records once the new ones are in.
    moved = fake_kb.ingest([docs], prune=True)
    assert moved.ok and len(moved.added) == 2 and len(moved.deleted) == 2, moved.summary()
    assert moved.chunks_written == first.chunks_written and moved.chunks_embedded == 0
    hit = fake_kb.retrieve("mobil keliling perekaman KTP", k=1)[0]
    assert hit.doc_id in moved.added and str(new) in hit.metadata["source"]


def test_a_passage_repeated_in_a_group_is_embedded_once(
    fake_kb: KnowledgeBase, tmp_path: Path
) -> None:
    row = {"title": "Rilis Pers", "text": "Pemkot Depok membuka MPP setiap Sabtu."}
    lines = [json.dumps({"id": f"outlet-{n}", **row}) for n in range(3)]
    report = fake_kb.ingest([write(tmp_path, "rilis.jsonl", "\n".join(lines))])
    assert len(report.added) == 3 and report.chunks_written == 3 and report.chunks_embedded == 1
    vectors = [list(v) for _, v in fake_kb.store.iter_chunks(include_embeddings=True)]
    assert len(vectors) == 3 and vectors[0] == vectors[1] == vectors[2]


def test_bad_files_are_reported_and_good_ones_ingested(
    fake_kb: KnowledgeBase, reports: Path
) -> None:
    write(reports, "rusak.pdf", "%PDF-1.4 this is not really a pdf")
    (reports / "biner.txt").write_bytes(bytes(range(256)) * 8)
    write(reports, "kosong.txt", "")
    with (reports / "more.jsonl").open("a", encoding="utf-8") as f:
        f.write('{"id": "j-3", "title": "rusak"\n')
    report = fake_kb.ingest([reports])
    assert not report.ok
    assert len(report.added) == 5
    failed = {(Path(f.source).name, f.line) for f in report.failed}
    assert failed == {
        ("rusak.pdf", None),
        ("biner.txt", None),
        ("kosong.txt", None),
        ("more.jsonl", 3),
    }
    assert fake_kb.store.count_articles() == 5


def test_one_doc_id_from_two_sources_is_a_failure(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    row = {"id": "same", "title": "A", "text": "Teks pertama yang cukup panjang."}
    write(tmp_path, "a.jsonl", json.dumps(row))
    write(tmp_path, "b.jsonl", json.dumps({**row, "text": "Teks kedua yang berbeda."}))
    report = fake_kb.ingest([tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    assert report.added == ("same",)
    (failure,) = report.failed
    assert failure.source.endswith("b.jsonl") and "already used" in failure.reason
    assert "pertama" in fake_kb.article("same").text


def test_delete_and_prune(fake_kb: KnowledgeBase, reports: Path) -> None:
    fake_kb.ingest([reports])
    fake_kb.delete("j-2")
    assert "j-2" not in {a.doc_id for a in fake_kb.articles()}
    with pytest.raises(NotFoundError):
        fake_kb.delete("j-2")
    (reports / "mobil.txt").unlink()
    report = fake_kb.ingest([reports], prune=True)
    assert len(report.deleted) == 1 and report.added == ("j-2",)
    titles = {a.title for a in fake_kb.articles()}
    assert "Mobil Keliling Dukcapil Sambangi Desa" not in titles
    assert fake_kb.store.count_chunks() == sum(a.chunks for a in fake_kb.articles())


def test_a_second_writer_gets_a_clear_error(fake_kb: KnowledgeBase, reports: Path) -> None:
    other = make_kb(settings=fake_kb.settings, embedder=HashingEmbeddings())
    fake_kb.create_store()
    with fake_kb.writing(), pytest.raises(StoreLockedError, match="another process"):
        other.ingest([reports])


def test_another_embedder_is_refused_until_rebuild(tmp_path: Path, reports: Path) -> None:
    settings = fake_settings(tmp_path / "store")
    make_kb(settings=settings, embedder=HashingEmbeddings(dim=256)).ingest([reports])
    other = make_kb(settings=settings, embedder=HashingEmbeddings(dim=64))
    with pytest.raises(EmbedderMismatchError, match="kb rebuild"):
        other.retrieve("layanan malam")
    assert (
        other.rebuild()
        == make_kb(settings=settings, embedder=HashingEmbeddings(dim=64)).store.count_chunks()
    )
    reopened = make_kb(settings=settings, embedder=HashingEmbeddings(dim=64))
    assert reopened.store.built_with == "fake:hashing-64"
    assert reopened.retrieve("mobil keliling KTP", k=1)[0].title.startswith("Mobil Keliling")


def test_empty_question_is_a_user_error(fake_kb: KnowledgeBase) -> None:
    with pytest.raises(KbError, match="empty"):
        fake_kb.retrieve("   ")


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="reads open files in /proc")
def test_close_releases_the_store_files_and_the_next_use_reopens(
    tmp_path: Path, reports: Path
) -> None:
    store = tmp_path / "a"

    def open_in_store() -> list[str]:
        targets = []
        for fd in Path("/proc/self/fd").iterdir():
            try:
                targets.append(os.readlink(fd))
            except OSError:  # closed since listed
                continue
        return [t for t in targets if t.startswith(str(store))]

    with KnowledgeBase(settings=fake_settings(store), embedder=HashingEmbeddings()) as kb:
        kb.ingest([reports])
        first = kb.retrieve("layanan malam", k=3)
        assert open_in_store(), "an open store holds its database files"
    assert open_in_store() == []
    # Closed is not broken: the next call opens the store again and sees the same articles.
    assert [h.chunk_id for h in kb.retrieve("layanan malam", k=3)] == [h.chunk_id for h in first]
    kb.close()
    assert open_in_store() == []


def test_import_kb_is_light_and_its_names_load_on_first_use() -> None:
    import subprocess
    import sys

    import kb

    assert set(kb.__all__) == set(kb._WHERE)
    code = (
        "import sys, kb\n"
        "heavy = ('chromadb', 'langchain_core', 'torch', 'numpy', 'bm25s', 'kb.knowledge_base')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
        "from kb import KnowledgeBase, ask, Answer, IngestReport\n"
        "print(KnowledgeBase.__module__, ask.__module__, 'chromadb' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[]", "kb.knowledge_base kb.knowledge_base True"]
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        kb.Nothing  # noqa: B018


def test_no_telemetry_without_the_environment_and_imports_set_none(tmp_path: Path) -> None:
    """Chroma's telemetry and Gradio's analytics are off by the product's own settings, not
    by variables set on import (the test suite's conftest sets them, so this runs apart)."""
    import subprocess
    import sys

    names = ("ANONYMIZED_TELEMETRY", "GRADIO_ANALYTICS_ENABLED")
    code = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "import kb.store.client, kb.ui\n"
        f"print(sorted(k for k in {names!r} if k in os.environ))\n"
        "from kb.embedders.models import HashingEmbeddings\n"
        "from kb.knowledge_base import KnowledgeBase\n"
        "from kb.settings import Settings\n"
        "store = Path(sys.argv[1])\n"
        "settings = Settings(store=store, embedding_model='fake', load_samples=False,"
        " reader='none')\n"
        "base = KnowledgeBase(settings=settings, embedder=HashingEmbeddings())\n"
        "assert base.load_samples().ok\n"
        "client = kb.store.client.make_client(store / 'other')\n"
        "app = kb.ui.build_app(base)\n"
        "print(client.get_settings().anonymized_telemetry, app.analytics_enabled)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in names}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "store")],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.splitlines()
    assert out == ["[]", "False False"]


def test_rebuild_leaves_no_list_metadata_of_deleted_chunks_behind(tmp_path: Path) -> None:
    """Chroma's delete_collection leaves list-valued metadata behind, which records written
    later with the same internal row id inherit (chroma-core/chroma#7594): after a rebuild
    (which drops the old chunks), the Sleman articles deleted and others ingested, the new
    chunks showed the regions of dropped ones, and a Sleman filter let them through."""
    sleman = [
        {"id": f"r-{i}", "title": f"Inovasi {i}", "region": "Kabupaten Sleman",
         "text": f"Bappeda Kabupaten Sleman menggelar lomba inovasi ke-{i} dengan 85 peserta."}
        for i in range(4)
    ]  # fmt: skip
    plain = [
        {"id": f"n-{i}", "title": f"Catatan {i}",
         "text": f"Petugas menambah loket ke-{i} untuk melayani warga pada sore hari."}
        for i in range(4)
    ]  # fmt: skip
    first = write(tmp_path / "in", "sleman.jsonl", "\n".join(json.dumps(r) for r in sleman))
    later = write(tmp_path / "in", "plain.jsonl", "\n".join(json.dumps(r) for r in plain))
    settings = fake_settings(tmp_path / "store")
    with KnowledgeBase(settings=settings, embedder=HashingEmbeddings(dim=256)) as kb:
        assert kb.ingest([first]).ok
    with KnowledgeBase(settings=settings, embedder=HashingEmbeddings(dim=64)) as kb:
        kb.rebuild()
        for row in sleman:
            kb.delete(row["id"])
        assert kb.ingest([later]).ok
        regions = {
            c.metadata["doc_id"]: c.metadata.get("regions") for c, _ in kb.store.iter_chunks()
        }
        assert regions == {f"n-{i}": None for i in range(4)}
        assert kb.retrieve("loket warga", k=10, filters={"region": "Sleman"}) == []


def test_a_chain_answers_with_the_settings_and_reader_asked_for(fake_kb: KnowledgeBase) -> None:
    chain = fake_kb.chain()
    assert fake_kb.chain() is chain and chain.reader is None and chain.settings is fake_kb.settings
    # the reader per chain, without touching the knowledge base's settings
    assert fake_kb.chain(reader="none") is chain
    with pytest.raises(ConfigError, match="KB_READER='other'"):
        fake_kb.chain(reader="other")
    # settings changed on the knowledge base: the next chain has them
    fake_kb.settings = fake_kb.settings.with_overrides(reader_margin=1.5)
    assert fake_kb.chain() is not chain and fake_kb.chain().settings.reader_margin == 1.5
