"""Duplicates (issue 22, item 6): one report under two names, one press release run by two
outlets. Both copies stay stored; a search returns one of them, naming the other.

Each behaviour here failed before the change: the same report took two result slots.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import fake_settings, make_kb

from kb.cli import main
from kb.embedders.models import HashingEmbeddings
from kb.knowledge_base import KnowledgeBase
from kb.store.duplicates import LINKS_FIELD, SIGNATURE_FIELD, Signature, signature
from kb.ui import Handlers

# A press release of 134 words (near copies need at least ``MIN_WORDS``).
RELEASE = (
    "Pemerintah Kecamatan Ciputat resmi membuka layanan administrasi kependudukan pada "
    "malam hari mulai pekan ini. Camat Ciputat, Andi Rahmat, mengatakan layanan malam dibuka "
    "setiap Senin sampai Jumat pukul 18.00 hingga 21.00 di kantor kecamatan. Warga dapat "
    "mengurus kartu tanda penduduk elektronik, kartu keluarga, akta kelahiran dan surat "
    "pindah tanpa harus meninggalkan pekerjaan pada siang hari. Menurut Andi, dalam dua "
    "pekan uji coba tercatat 312 warga datang ke loket malam, sebagian besar pekerja "
    "pabrik dan pedagang pasar. Petugas yang berjaga malam mendapat jadwal bergilir "
    "sehingga pelayanan siang tidak terganggu. Kecamatan juga menyiapkan nomor antrean "
    "daring agar warga tidak menunggu terlalu lama. Sekretaris Daerah Kota Tangerang "
    "Selatan menyebut layanan ini akan dievaluasi setiap tiga bulan dan bisa ditiru "
    "kecamatan lain bila hasilnya baik. Warga yang membutuhkan informasi dapat menghubungi "
    "pusat layanan kecamatan melalui pesan singkat."
)
TITLE = "Kecamatan Ciputat Buka Layanan Adminduk Malam Hari"
# The same release as another outlet ran it: its own title, dateline, first line, outlet line.
NEAR = (
    "Layanan Malam Hadir untuk Warga Ciputat\n"
    "TANGERANG SELATAN, Warta Kota – Layanan malam akhirnya hadir bagi warga Ciputat. "
    + RELEASE
    + "\nSumber: Warta Kota\n"
)
# Another article on the same subject, written on its own.
SAME_TOPIC = (
    "Warga Pekerja Sambut Layanan Malam Kecamatan Ciputat\n"
    "Antrean panjang di kantor Kecamatan Ciputat kini berkurang setelah layanan malam "
    "dibuka. Rina, seorang buruh pabrik di Cipayung, bercerita ia dulu harus izin kerja "
    "setengah hari hanya untuk mencetak ulang kartu keluarga. Sekarang ia datang selepas "
    "magrib dan pulang membawa dokumen yang sudah jadi. Pantauan di lokasi pada Rabu malam "
    "menunjukkan belasan warga menunggu di ruang tunggu yang dilengkapi kipas angin dan "
    "televisi. Petugas loket mengaku lelah tetapi senang karena warga tidak lagi mengeluh. "
    "Beberapa warga berharap layanan serupa dibuka pada hari Sabtu, ketika pasar ramai dan "
    "banyak pekerja libur. Pengamat kebijakan publik dari sebuah universitas di Tangerang "
    "menilai layanan malam menjawab kebutuhan warga pekerja, namun mengingatkan agar "
    "kecamatan menambah petugas supaya pelayanan tetap cepat.\n"
)
ORIGINAL = f"{TITLE}\nCIPUTAT – {RELEASE}\n"
QUERY = "layanan administrasi kependudukan malam hari Kecamatan Ciputat"
QUESTION = "Siapa Camat Ciputat?"


def kb_at(store: Path, **overrides: Any) -> KnowledgeBase:
    return make_kb(settings=fake_settings(store, **overrides), embedder=HashingEmbeddings())


def write(folder: Path, **files: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    return folder


def doc_ids(kb: KnowledgeBase) -> dict[str, str]:
    """File name (without .txt) -> doc_id."""
    return {Path(a.source).stem: a.doc_id for a in kb.articles()}


# -- exact copies ------------------------------------------------------------------------------


def test_an_exact_copy_is_reported_and_returned_once_naming_the_other(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    report = kb.ingest([write(tmp_path / "docs", a=ORIGINAL, arsip_a=ORIGINAL)])
    ids = doc_ids(kb)
    assert report.ok and len(report.added) == 2 and len(kb.articles()) == 2  # both kept
    (dup,) = report.duplicates
    assert dup.exact and dup.similarity == 1.0
    # The file discovered second is the copy of the first.
    assert (dup.doc_id, dup.of_doc_id) == (ids["arsip_a"], ids["a"])
    assert dup.of_title == TITLE and dup.of_source.endswith("a.txt")
    assert "1 duplicate (" in report.summary()

    for mode in ("hybrid", "dense", "keyword"):
        hits = kb.retrieve(QUERY, k=5, mode=mode)  # type: ignore[arg-type]
        assert len(hits) == 1, mode  # was two results of one report, both scoring 1.000
        (hit,) = hits
        other = ids["arsip_a"] if hit.doc_id == ids["a"] else ids["a"]
        assert hit.also_in == ((other, TITLE, ""),), mode  # an ArticleCopy
    # Several passages of one article (what the answer chain asks for): still none of the copy.
    hits = kb.retrieve(QUERY, k=10, per_article=None)
    assert len({h.doc_id for h in hits}) == 1


def test_k_results_come_back_when_copies_fill_the_candidates(tmp_path: Path) -> None:
    """Four copies of a two-passage report and one other article: the copies' passages
    would fill each leg's candidates (``max(candidates, 4k)``), leaving one result."""
    kb = kb_at(tmp_path / "store", candidates=1, chunk_chars=500, chunk_overlap_chars=100)
    copies = {f"salinan_{i}": ORIGINAL for i in range(4)}
    kb.ingest([write(tmp_path / "docs", **copies, lain=SAME_TOPIC)])
    hits = kb.retrieve(QUERY, k=2)
    assert [h.title for h in hits] == [TITLE, SAME_TOPIC.splitlines()[0]]
    assert len(hits[0].also_in) == 3


# -- near copies and different articles ------------------------------------------------------


def test_the_same_release_from_another_outlet_is_a_near_copy(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    report = kb.ingest([write(tmp_path / "docs", a=ORIGINAL, warta=NEAR)])
    ids = doc_ids(kb)
    (dup,) = report.duplicates
    assert (dup.doc_id, dup.of_doc_id) == (ids["warta"], ids["a"])
    assert not dup.exact and 0.8 <= dup.similarity < 1.0
    (hit,) = kb.retrieve(QUERY, k=5)
    assert {hit.doc_id, hit.also_in[0].doc_id} == {ids["a"], ids["warta"]}
    titles = {hit.title, hit.also_in[0].title}
    assert titles == {TITLE, "Layanan Malam Hadir untuk Warga Ciputat"}


def test_two_articles_on_one_subject_are_not_copies(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    report = kb.ingest([write(tmp_path / "docs", a=ORIGINAL, lain=SAME_TOPIC)])
    assert report.duplicates == () and "duplicate" not in report.summary()
    hits = kb.retrieve(QUERY, k=5)
    assert len(hits) == 2 and all(h.also_in == () for h in hits)
    assert signature(ORIGINAL).similarity(signature(SAME_TOPIC)) < 0.2


def test_short_notices_that_differ_in_one_name_are_not_copies() -> None:
    """Under ``MIN_WORDS`` words only an exact copy counts."""
    notice = "Kecamatan {} membuka layanan KTP elektronik pada malam hari setiap Jumat."
    ciputat, pamulang = signature(notice.format("Ciputat")), signature(notice.format("Pamulang"))
    assert ciputat.minhash is None and ciputat.similarity(pamulang) == 0.0
    assert ciputat.similarity(signature(notice.format("CIPUTAT") + "!")) == 1.0


# -- answers, the app, the API, the command line ------------------------------------------------


def test_ask_cites_one_copy_and_names_the_other(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    kb.ingest([write(tmp_path / "docs", a=ORIGINAL, warta=NEAR)])
    ids = doc_ids(kb)
    answer = kb.ask(QUESTION)
    assert not answer.abstained and "Andi Rahmat" in answer.text
    cited = {c.doc_id for c in answer.citations}
    assert len(cited) == 1
    (citation, *_) = answer.citations
    other = ids["warta"] if citation.doc_id == ids["a"] else ids["a"]
    assert [c.doc_id for c in citation.also_in] == [other]
    assert {h.doc_id for h in answer.hits} == cited

    # The app: source card, Markdown copy, and the /ask record.
    _, record, panel, markdown, *_ = list(Handlers(kb).ask(QUESTION, []))[-1]
    (first, *_) = record["citations"]
    assert first["also_in"] == [
        {"doc_id": c.doc_id, "title": c.title, "outlet": c.outlet} for c in citation.also_in
    ]
    copy_title = citation.also_in[0].title
    assert f'<div class="source-copies">juga di: {copy_title}' in panel
    assert f"juga di: {copy_title}" in markdown
    *_, panel_en, markdown_en, _, _, _ = list(Handlers(kb).ask(QUESTION, [], lang="en"))[-1]
    assert f"also in: {copy_title}" in panel_en and f"also in: {copy_title}" in markdown_en


def test_the_command_line_reports_and_shows_copies(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = write(tmp_path / "docs", a=ORIGINAL, arsip_a=ORIGINAL)
    store = str(tmp_path / "store")
    settings_env = {"KB_EMBEDDING_MODEL": "fake", "KB_READER": "none"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in settings_env.items():
            mp.setenv(key, value)
        main(["ingest", str(docs), "--store", store])
        out = capsys.readouterr().out
        assert "arsip_a.txt" in out and "is a copy of" in out and "exact copy" in out
        assert "1 duplicate (" in out

        main(["search", QUERY, "--store", store, "--json"])
        (hit,) = json.loads(capsys.readouterr().out)
        assert hit["also_in"] == [
            {"doc_id": hit["also_in"][0]["doc_id"], "title": TITLE, "outlet": ""}
        ]
        main(["search", QUERY, "--store", store])
        assert f"juga di: {TITLE} [{hit['also_in'][0]['doc_id']}]" in capsys.readouterr().out
        main(["ask", QUESTION, "--store", store])
        assert f"    juga di: {TITLE} [" in capsys.readouterr().out
        main(["ingest", str(docs), "--store", store, "--json"])
        assert json.loads(capsys.readouterr().out)["duplicates"] == []  # nothing written


# -- delete, update, later batches, old stores --------------------------------------------------


@pytest.mark.parametrize("deleted", ["a", "arsip_a"])
def test_deleting_one_copy_keeps_the_other_searchable(tmp_path: Path, deleted: str) -> None:
    kb = kb_at(tmp_path / "store")
    kb.ingest([write(tmp_path / "docs", a=ORIGINAL, arsip_a=ORIGINAL)])
    ids = doc_ids(kb)
    kept = ids["arsip_a" if deleted == "a" else "a"]
    kb.delete(ids[deleted])
    (hit,) = kb.retrieve(QUERY, k=5)
    assert hit.doc_id == kept and hit.also_in == ()
    answer = kb.ask(QUESTION)
    assert {c.doc_id for c in answer.citations} == {kept}
    assert all(c.also_in == () for c in answer.citations)


def test_a_copy_rewritten_with_other_text_is_no_longer_grouped(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    docs = write(tmp_path / "docs", a=ORIGINAL, arsip_a=ORIGINAL)
    kb.ingest([docs])
    write(docs, a=SAME_TOPIC)  # the first (the one the copy links to) now says other things
    report = kb.ingest([docs])
    assert len(report.updated) == 1 and report.duplicates == ()
    hits = kb.retrieve(QUERY, k=5)
    assert len(hits) == 2 and all(h.also_in == () for h in hits)
    write(docs, a=ORIGINAL)  # and back: it finds its copy again
    report = kb.ingest([docs])
    assert [d.of_doc_id for d in report.duplicates] == [doc_ids(kb)["arsip_a"]]
    assert len(kb.retrieve(QUERY, k=5)) == 1


def test_a_later_batchs_copy_of_a_stored_article_is_found(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    first = kb.ingest([write(tmp_path / "one", a=ORIGINAL, lain=SAME_TOPIC)])
    assert first.duplicates == ()
    later = kb.ingest([write(tmp_path / "two", warta=NEAR)])
    ids = doc_ids(kb)
    (dup,) = later.duplicates
    assert (dup.doc_id, dup.of_doc_id, dup.of_title) == (ids["warta"], ids["a"], TITLE)
    hits = kb.retrieve(QUERY, k=5)
    assert len(hits) == 2
    grouped = next(h for h in hits if h.also_in)
    assert {grouped.doc_id, grouped.also_in[0].doc_id} == {ids["a"], ids["warta"]}


def test_a_moved_file_is_no_copy_of_its_pruned_old_path(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    old = write(tmp_path / "docs" / "lama", a=ORIGINAL)
    kb.ingest([tmp_path / "docs"])
    old.rename(tmp_path / "docs" / "baru")
    report = kb.ingest([tmp_path / "docs"], prune=True)
    assert len(report.added) == 1 and len(report.deleted) == 1
    assert report.duplicates == ()


def test_check_finds_nothing_wrong_with_copies(tmp_path: Path) -> None:
    kb = kb_at(tmp_path / "store")
    kb.ingest([write(tmp_path / "docs", a=ORIGINAL, warta=NEAR, arsip_a=ORIGINAL)])
    records = kb.store.article_metadatas(list(doc_ids(kb).values()))
    assert all(SIGNATURE_FIELD in m for m in records.values())
    assert sum(LINKS_FIELD in m for m in records.values()) == 2  # the later two
    chunk_fields = set().union(*kb.store.chunk_metadatas(list(records)).values())
    assert not {SIGNATURE_FIELD, LINKS_FIELD} & chunk_fields  # the registry's only
    report = kb.check()
    assert report.ok and not report.problems, report.summary()


@pytest.mark.parametrize("few", [50, 0])  # old articles read one by one / in one pass
def test_a_store_made_before_signatures_keeps_working(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    monkeypatch.setattr("ingest.pipeline._FEW_UNSIGNED", few)
    kb = kb_at(tmp_path / "store")
    docs = write(tmp_path / "docs", a=ORIGINAL, arsip_a=ORIGINAL)
    kb.ingest([docs])
    ids = list(doc_ids(kb).values())
    # As a store written before this change: no signature, no link.
    kb.store.articles.update(
        ids=ids, metadatas=[{SIGNATURE_FIELD: None, LINKS_FIELD: None} for _ in ids]
    )
    kb.store.bump_generation()
    assert len(kb.retrieve(QUERY, k=5)) == 2  # served as before, not grouped
    # A new copy is compared with the old articles' text.
    later = kb.ingest([write(tmp_path / "two", warta=NEAR)])
    assert {d.of_doc_id for d in later.duplicates} <= set(ids) and later.duplicates
    (hit,) = kb.retrieve(QUERY, k=5)  # the new copy links both old ones: one group
    assert len(hit.also_in) == 2
    # Ingesting the old files again gives them signatures: written again, nothing embedded.
    again = kb.ingest([docs])
    assert sorted(again.updated) == sorted(ids) and again.chunks_embedded == 0
    assert len(again.duplicates) == 2
    (hit,) = kb.retrieve(QUERY, k=5)
    assert len(hit.also_in) == 2
    assert kb.check().ok


# -- signatures -------------------------------------------------------------------------------


def test_a_signature_survives_its_metadata_field() -> None:
    from kb.types import ArticleCopy, to_jsonable

    sig = signature(ORIGINAL)
    stored = Signature.decode(sig.encode())
    assert stored is not None and stored.similarity(sig) == 1.0 and stored.exact == sig.exact
    assert Signature.decode("mh0-old:abc:") is None and Signature.decode(None) is None
    assert json.dumps(to_jsonable(ArticleCopy("a", "b", "c"))) == (
        '{"doc_id": "a", "title": "b", "outlet": "c"}'
    )
