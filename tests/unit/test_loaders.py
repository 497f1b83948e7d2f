"""Loaders: every input is built here, so the tests run on a fresh clone."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import docx
import pytest
from files import load_article, load_failure, load_one, make_pdf, write
from pypdf import PdfWriter

from ingest.loaders import (
    MAX_DOCX_UNCOMPRESSED_BYTES,
    SUPPORTED_SUFFIXES,
    discover,
    doc_id_for,
    load_file,
)
from kb.types import Article, Failure

SEED_TITLE = "30 Camat se-Jambi Timba Ilmu di Tangsel"
SEED_BODY = (
    "CIPUTAT-Sebanyak 30 camat dari Provini Jambi menimba ilmu manajemen di Kota Tangsel. "
    "“Walikota Tangsel cukup baik memberikan pelayanan di kecamatan,” kata dia, Selasa (7/11). "
    "  Ini yang ingin kita pelajari dan diterapkan di Jambi,” tutupnya. (bud/esa)"
)


# --- discover ----------------------------------------------------------------------------------


def test_supported_suffixes() -> None:
    expected = {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
    images = {
        ".png",
        ".jpg",
        ".jpeg",
        ".tif",
        ".tiff",
    }  # read with OCR (tests/integration/test_ocr.py)
    assert expected | images == SUPPORTED_SUFFIXES


def test_discover_walks_folders_sorted_skipping_hidden_and_other_types(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    for name in [
        "b.txt",
        "a.md",
        "sub/c.PDF",
        "sub/deeper/d.html",
        "sub/e.jsonl",
        "notes.csv",
        "image.gif",
        "scan.png",
        ".hidden.txt",
        ".git/config.txt",
        "sub/.cache/x.md",
        "~$draft.docx",
    ]:
        write(root / name, "x")

    found, failures = discover([root])

    assert failures == []
    assert found == [
        (root / name).resolve()
        for name in ["a.md", "b.txt", "scan.png", "sub/c.PDF", "sub/deeper/d.html", "sub/e.jsonl"]
    ]
    assert all(p.is_absolute() for p in found)


def test_discover_reports_missing_paths_and_unsupported_files(tmp_path: Path) -> None:
    csv = write(tmp_path / "table.csv", "a,b")
    hidden = write(tmp_path / ".named.txt", "x")
    missing = tmp_path / "nope.txt"

    found, failures = discover([missing, csv, hidden, str(tmp_path / "gone")])

    # A hidden file named explicitly is what the user asked for.
    assert found == [hidden.resolve()]
    assert failures[0] == Failure(str(missing), None, "no such file or folder")
    assert failures[1].source == str(csv)
    assert failures[1].line is None
    assert "'.csv'" in failures[1].reason
    for suffix in SUPPORTED_SUFFIXES:
        assert suffix in failures[1].reason
    assert failures[2] == Failure(str(tmp_path / "gone"), None, "no such file or folder")
    assert len(failures) == 3


def test_discover_deduplicates_one_file_reached_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = write(tmp_path / "reports" / "a.txt", "judul\nisi")
    monkeypatch.chdir(tmp_path)

    found, failures = discover([".", "reports/", "reports/a.txt", report])

    assert found == [report.resolve()]
    assert failures == []


# --- doc_id_for --------------------------------------------------------------------------------


def test_doc_id_is_the_same_for_relative_and_absolute_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = write(tmp_path / "reports" / "Laporan Camat (Jambi).txt", "x")
    monkeypatch.chdir(tmp_path / "reports")

    relative = doc_id_for(Path("Laporan Camat (Jambi).txt"))
    dotted = doc_id_for(Path("../reports/./Laporan Camat (Jambi).txt"))
    absolute = doc_id_for(report)

    digest = hashlib.sha1(report.resolve().as_posix().encode()).hexdigest()[:8]
    assert relative == dotted == absolute == f"laporan-camat-jambi-{digest}"


def test_doc_id_slug_is_ascii_folded_and_at_most_40_chars(tmp_path: Path) -> None:
    doc_id = doc_id_for(tmp_path / "Pelayanan Publik Kecamatan Ciputat—Tangsel.txt")
    slug, _, digest = doc_id.rpartition("-")
    assert slug == "pelayanan-publik-kecamatan-ciputat-tangs"
    assert len(digest) == 8
    assert doc_id_for(tmp_path / "Évaluasi Désa.md").startswith("evaluasi-desa-")
    # A cut at 40 characters that ends on a separator leaves no trailing dash.
    assert doc_id_for(tmp_path / ("a" * 39 + " b.txt")).startswith("a" * 39 + "-")
    assert doc_id_for(tmp_path / "---.txt").startswith("doc-")


def test_doc_ids_differ_for_same_name_in_different_folders(tmp_path: Path) -> None:
    assert doc_id_for(tmp_path / "a" / "x.txt") != doc_id_for(tmp_path / "b" / "x.txt")


# --- plain text --------------------------------------------------------------------------------


def test_seed_shaped_txt_body_is_exactly_the_second_line(tmp_path: Path) -> None:
    path = write(tmp_path / "000_fefeff9156222ba7.txt", f"{SEED_TITLE}\n{SEED_BODY}\nSumber:")

    article = load_article(path)

    assert article.title == SEED_TITLE
    assert article.text == SEED_BODY
    assert article.metadata == {}
    assert article.source == str(path.resolve())
    assert article.line is None
    assert article.doc_id == doc_id_for(path)
    assert article.doc_id.startswith("000-fefeff9156222ba7-")


def test_trailing_sumber_with_a_value_becomes_source_name(tmp_path: Path) -> None:
    text = (
        f"\n\n{SEED_TITLE}\r\n\r\nParagraf satu.\r\n\r\nParagraf dua.\r\n\r\n"
        "Sumber: Tangerang Ekspres\r\n\r\n"
    )
    article = load_article(write(tmp_path / "a.txt", text))

    assert article.title == SEED_TITLE
    assert article.text == "Paragraf satu.\n\nParagraf dua."
    assert article.metadata == {"source_name": "Tangerang Ekspres"}


def test_sumber_in_the_middle_is_kept(tmp_path: Path) -> None:
    text = "Judul\nSumber: data BPS 2023.\nParagraf penutup."
    article = load_article(write(tmp_path / "a.txt", text))

    assert article.text == "Sumber: data BPS 2023.\nParagraf penutup."
    assert article.metadata == {}


def test_single_line_file_uses_the_stem_as_title(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "catatan-camat.txt", "  Satu baris saja.  \n\n"))

    assert article.title == "catatan-camat"
    assert article.text == "Satu baris saja."


def test_markdown_title_loses_its_heading_marks(tmp_path: Path) -> None:
    text = "## Inovasi Kecamatan Setu ##\n\nIsi *laporan* tanpa tanda.\n\n# Bagian"
    article = load_article(write(tmp_path / "a.md", text))

    assert article.title == "Inovasi Kecamatan Setu"
    # The body is rendered too (tests/unit/test_boilerplate.py has the rest of the Markdown).
    assert article.text == "Isi laporan tanpa tanda.\n\nBagian"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_text_with_a_bom_is_decoded(tmp_path: Path, encoding: str) -> None:
    bom = {"utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}.get(encoding, b"")
    data = bom + "Judul “Tangsel”\r\nIsi berita – Pamulang.".encode(encoding)

    article = load_article(write(tmp_path / "a.txt", data))

    assert article.title == "Judul “Tangsel”"
    assert article.text == "Isi berita – Pamulang."


def test_cp1252_text_is_decoded(tmp_path: Path) -> None:
    data = "Judul “Ciputat”\nBiaya €5 – café.".encode("cp1252")

    article = load_article(write(tmp_path / "a.txt", data))

    assert article.title == "Judul “Ciputat”"
    assert article.text == "Biaya €5 – café."


def test_binary_file_named_txt_is_refused(tmp_path: Path) -> None:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    assert load_failure(write(tmp_path / "a.txt", data)).reason == "binary file, not text"


def test_undecodable_text_is_refused(tmp_path: Path) -> None:
    # 0x81 is invalid UTF-8 here and undefined in cp1252.
    failure = load_failure(write(tmp_path / "a.txt", b"Judul\n\x81\x8d isi"))
    assert failure.reason == "cannot decode text (tried UTF-8, UTF-16 BOM, cp1252)"


@pytest.mark.parametrize("data", [b"", b"  \n\r\n\t ", "\ufeff \n".encode()])
def test_empty_file_is_refused(tmp_path: Path, data: bytes) -> None:
    assert load_failure(write(tmp_path / "a.txt", data)).reason == "empty file"


def test_limits_on_file_size_and_text_length(tmp_path: Path) -> None:
    path = write(tmp_path / "a.txt", "Judul\n" + "kata " * 100)

    assert load_failure(path, max_bytes=100).reason.startswith("file too large (")
    assert load_failure(path, max_chars=50).reason.startswith("text too long (")
    assert isinstance(load_one(path, max_bytes=1000, max_chars=1000), Article)


def test_missing_and_unsupported_files_fail(tmp_path: Path) -> None:
    assert load_failure(tmp_path / "gone.txt").reason == "no such file or folder"
    assert load_failure(write(tmp_path / "a.csv", "a,b")).reason.startswith(
        "unsupported file type '.csv'"
    )


# --- HTML --------------------------------------------------------------------------------------

NEWS_PAGE = """<!doctype html>
<html><head>
  <meta charset="utf-8">
  <title>Camat Jambi Belajar di Tangsel | Tangerang Ekspres</title>
  <meta property="og:title" content="Camat Jambi Belajar di Tangsel">
  <meta property="og:site_name" content="Tangerang Ekspres">
  <meta property="og:url" content="https://example.id/berita/camat-jambi">
  <meta property="article:published_time" content="2017-11-07T10:00:00+07:00">
  <meta name="date" content="2017-11-08">
  <meta name="author" content="Budi">
  <script>var tracker = "JANGAN_MUNCUL";</script>
  <style>.x { color: red }</style>
</head><body>
  <nav><a href="/">Beranda</a> <a href="/nasional">Nasional</a></nav>
  <header><h1>Situs Berita</h1></header>
  <article>
    <h1>Camat Jambi Belajar di Tangsel</h1>
    <p>CIPUTAT &ndash; Sebanyak   30 camat dari <b>Provinsi Jambi</b>
       menimba ilmu di Kota Tangsel.</p>
    <script>document.write("JUGA_TIDAK")</script>
    <p>Baris satu<br>baris dua</p>
    <!-- komentar tersembunyi -->
    <div>Teks lepas <span>dalam</span> div<p>paragraf bersarang</p>ekor div</div>
    <ul><li>poin satu</li><li>poin dua</li></ul>
  </article>
  <aside>Berita terkait</aside>
  <form><input name="q"> Cari berita</form>
  <footer>Hak cipta</footer>
</body></html>
"""


def test_html_news_page(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "berita.html", NEWS_PAGE))

    assert article.title == "Camat Jambi Belajar di Tangsel"
    assert article.text == "\n\n".join(
        [
            "CIPUTAT – Sebanyak 30 camat dari Provinsi Jambi menimba ilmu di Kota Tangsel.",
            "Baris satu",
            "baris dua",
            "Teks lepas dalam div",
            "paragraf bersarang",
            "ekor div",
            "poin satu",
            "poin dua",
        ]
    )
    assert article.metadata == {
        "date": "2017-11-07T10:00:00+07:00",
        "url": "https://example.id/berita/camat-jambi",
        "outlet": "Tangerang Ekspres",
        "author": "Budi",
    }
    for hidden in ["JANGAN_MUNCUL", "JUGA_TIDAK", "komentar", "Beranda", "terkait", "Cari"]:
        assert hidden not in article.text
    assert article.doc_id == doc_id_for(tmp_path / "berita.html")


def test_html_without_article_or_meta_falls_back(tmp_path: Path) -> None:
    page = """<html><head><title> Rapat   Camat </title>
    <link rel="canonical" href="https://example.id/rapat"></head>
    <body><main><p>Rapat Camat</p><p>Isi rapat di Serpong Utara.</p></main>
    <p>di luar main</p></body></html>"""

    article = load_article(write(tmp_path / "a.htm", page))

    assert article.title == "Rapat Camat"
    assert article.text == "Isi rapat di Serpong Utara."
    assert article.metadata == {"url": "https://example.id/rapat"}


def test_html_title_from_h1_and_page_wrapping_form_is_kept(tmp_path: Path) -> None:
    # ASP.NET pages put the whole page inside one <form>.
    page = """<html><body><form id="aspnetForm"><div><h1>Judul Dinas</h1>
    <p>Paragraf pertama yang panjang tentang pelayanan publik di Kecamatan Pamulang.</p>
    <p>Paragraf kedua.</p></div></form></body></html>"""

    article = load_article(write(tmp_path / "a.html", page))

    assert article.title == "Judul Dinas"
    assert article.text.startswith("Paragraf pertama yang panjang")
    assert article.text.endswith("Paragraf kedua.")


def test_html_without_text_fails(tmp_path: Path) -> None:
    page = "<html><head><title>Kosong</title><script>x()</script></head><body> </body></html>"
    assert load_failure(write(tmp_path / "a.html", page)).reason == "no text found"


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_text_is_extracted_and_first_line_becomes_title(tmp_path: Path) -> None:
    pdf = make_pdf(
        [
            ["Laporan Inovasi Kecamatan Setu", "Camat menimba ilmu di Tangsel."],
            ["Halaman kedua (lanjutan) tentang pelayanan."],
        ]
    )

    article = load_article(write(tmp_path / "laporan.pdf", pdf))

    assert article.title == "Laporan Inovasi Kecamatan Setu"
    assert article.text == (
        "Camat menimba ilmu di Tangsel.\n\nHalaman kedua (lanjutan) tentang pelayanan."
    )
    assert article.metadata == {}
    assert article.doc_id == doc_id_for(tmp_path / "laporan.pdf")


def test_pdf_info_title_is_used_when_meaningful(tmp_path: Path) -> None:
    lines = ["Laporan Inovasi", "Isi laporan."]
    with_title = write(tmp_path / "a.pdf", make_pdf([lines], title="Laporan Inovasi"))
    other_title = write(tmp_path / "b.pdf", make_pdf([lines], title="Inovasi Tangsel 2017"))
    placeholder = write(tmp_path / "c.pdf", make_pdf([lines], title="Microsoft Word - lap.docx"))

    # The first line repeats the info title, so it is not kept twice.
    assert (load_article(with_title).title, load_article(with_title).text) == (
        "Laporan Inovasi",
        "Isi laporan.",
    )
    # Two short lines at the same spacing, the first unfinished: one paragraph (ingest.layout).
    assert (load_article(other_title).title, load_article(other_title).text) == (
        "Inovasi Tangsel 2017",
        "Laporan Inovasi Isi laporan.",
    )
    assert (load_article(placeholder).title, load_article(placeholder).text) == (
        "Laporan Inovasi",
        "Isi laporan.",
    )


def test_pdf_repairs_are_not_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    pdf = make_pdf([["Judul", "isi panjang"]])
    broken_xref = pdf.replace(b"startxref\n", b"startxref\n9")
    path = write(tmp_path / "a.pdf", broken_xref)

    with caplog.at_level(logging.DEBUG):
        article = load_article(path)

    assert article.text == "isi panjang"
    assert [r for r in caplog.records if r.name.startswith("pypdf")] == []
    assert logging.getLogger("pypdf").level == logging.NOTSET


def test_pdf_without_text_layer_fails(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)

    failure = load_failure(write(tmp_path / "scan.pdf", buffer.getvalue()))

    assert failure.reason == "no text layer (scanned PDF?)"


def test_corrupt_pdf_fails(tmp_path: Path) -> None:
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096))
    assert load_failure(write(tmp_path / "noise.pdf", noise)).reason == (
        "not a valid PDF: no PDF header"
    )
    cut = write(tmp_path / "cut.pdf", make_pdf([["Judul", "isi"]])[:200])
    assert load_failure(cut).reason.startswith("not a valid PDF: ")


def test_encrypted_pdf(tmp_path: Path) -> None:
    def encrypted(user_password: str) -> bytes:
        writer = PdfWriter(clone_from=io.BytesIO(make_pdf([["Rahasia", "isi rahasia"]])))
        writer.encrypt(user_password=user_password, owner_password="pemilik", algorithm="AES-128")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()

    locked = write(tmp_path / "locked.pdf", encrypted("sandi"))
    open_to_all = write(tmp_path / "open.pdf", encrypted(""))

    assert load_failure(locked).reason == "encrypted PDF (needs a password)"
    assert load_article(open_to_all).text == "isi rahasia"


# --- Word --------------------------------------------------------------------------------------


def save_docx(document: docx.document.Document, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Rapat Koordinasi Camat")
    document.add_paragraph("")
    document.add_paragraph("Paragraf pertama.")
    document.add_paragraph("  Paragraf kedua.  ")
    table = document.add_table(rows=2, cols=3)
    rows = [["Kecamatan", "Inovasi", ""], ["Setu", "PATEN", "Ya"]]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Sel gabungan"

    article = load_article(save_docx(document, tmp_path / "rapat.docx"))

    assert article.title == "Rapat Koordinasi Camat"
    assert article.text == (
        "Paragraf pertama.\n\nParagraf kedua.\n\nKecamatan | Inovasi\n\nSetu | PATEN | Ya"
        "\n\nSel gabungan"
    )
    assert article.metadata == {}


def test_docx_core_title_wins(tmp_path: Path) -> None:
    document = docx.Document()
    document.core_properties.title = "Judul Dokumen"
    document.add_paragraph("Judul Dokumen")
    document.add_paragraph("Isi.")
    other = docx.Document()
    other.core_properties.title = "Judul Lain"
    other.add_paragraph("Baris pertama.")

    article = load_article(save_docx(document, tmp_path / "a.docx"))
    single = load_article(save_docx(other, tmp_path / "b.docx"))

    assert (article.title, article.text) == ("Judul Dokumen", "Isi.")
    assert (single.title, single.text) == ("Judul Lain", "Baris pertama.")


def test_docx_with_one_paragraph_uses_the_stem(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Hanya satu paragraf.")
    article = load_article(save_docx(document, tmp_path / "memo.docx"))
    assert (article.title, article.text) == ("memo", "Hanya satu paragraf.")


def test_invalid_docx_fails(tmp_path: Path) -> None:
    not_zip = write(tmp_path / "a.docx", "ini bukan zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "zip biasa")
    plain_zip = write(tmp_path / "b.docx", buffer.getvalue())

    old_word = write(tmp_path / "c.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504))

    assert load_failure(not_zip).reason == "not a valid .docx: File is not a zip file"
    assert load_failure(old_word).reason == (
        "not a valid .docx: an old Word .doc file (save it as .docx)"
    )
    assert load_failure(plain_zip).reason.startswith("not a valid .docx: ")


def test_docx_zip_bomb_is_refused_by_ratio(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w") as member,
    ):
        for _ in range(8):
            member.write(bytes(1024 * 1024))

    failure = load_failure(write(tmp_path / "bomb.docx", buffer.getvalue()))

    assert failure.reason.startswith("refusing .docx: compressed ")
    assert "zip bomb" in failure.reason


def test_docx_zip_bomb_is_refused_by_declared_size(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/document.xml", b"<w:document/>")
    data = bytearray(buffer.getvalue())
    # Declare 300 MB uncompressed in the central directory, which is what infolist() reads.
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 300 * 1024 * 1024)
    assert MAX_DOCX_UNCOMPRESSED_BYTES < 300 * 1024 * 1024

    failure = load_failure(write(tmp_path / "bomb.docx", bytes(data)))

    assert failure.reason == (
        "refusing .docx: 300.0 MB uncompressed, over the 200.0 MB limit (zip bomb?)"
    )


# --- jsonl -------------------------------------------------------------------------------------


def test_jsonl_good_and_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {
                "id": "berita-1",
                "title": "Camat Jambi",
                "text": " Teks apa adanya.\n",
                "date": "2017-11-07",
                "region": ["Kota Tangsel", "Kecamatan Setu"],
                "sample": True,
                "score": 0.5,
                "year": 2017,
                "nested": {"a": 1},
                "mixed": ["a", 1],
                "nothing": None,
            }
        ),
        "",
        '{"id": "rusak", "text": ',
        json.dumps({"id": "b", "title": "tanpa teks"}),
        json.dumps({"id": "c", "text": 5}),
        json.dumps({"id": 7, "text": "Teks tujuh."}),
        "   ",
    ]
    path = write(tmp_path / "corpus.jsonl", "\n".join(lines) + "\n")
    source = str(path.resolve())

    results = list(load_file(path))

    assert results[0] == Article(
        doc_id="berita-1",
        title="Camat Jambi",
        text=" Teks apa adanya.\n",
        source=source,
        line=1,
        metadata={
            "date": "2017-11-07",
            "region": "Kota Tangsel; Kecamatan Setu",
            "sample": True,
            "score": 0.5,
            "year": 2017,
        },
    )
    assert isinstance(results[1], Failure)
    assert (results[1].source, results[1].line) == (source, 3)
    assert results[1].reason.startswith("invalid JSON: ")
    assert results[2:] == [
        Failure(source, 4, "missing field 'text'"),
        Failure(source, 5, "field 'text' must be a string"),
        Article(doc_id="7", title="", text="Teks tujuh.", source=source, line=6),
    ]


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        ({"text": "x"}, "missing field 'id'"),
        ({"id": True, "text": "x"}, "field 'id' must be a string or an integer"),
        ({"id": " ", "text": "x"}, "field 'id' is empty"),
        ({"id": "a", "text": "  "}, "field 'text' is empty"),
        ({"id": "a", "text": "x", "title": 3}, "field 'title' must be a string"),
        (["id", "text"], "expected a JSON object, got list"),
    ],
)
def test_jsonl_field_errors(tmp_path: Path, record: object, reason: str) -> None:
    path = write(tmp_path / "a.jsonl", json.dumps(record))
    assert list(load_file(path)) == [Failure(str(path.resolve()), 1, reason)]


def test_jsonl_duplicate_ids_bom_and_bad_utf8(tmp_path: Path) -> None:
    data = (
        b"\xef\xbb\xbf"
        + json.dumps({"id": "a", "text": "satu", "title": None}).encode()
        + b"\r\n"
        + json.dumps({"id": "a", "text": "dua"}).encode()
        + b"\n"
        + b'{"id": "b", "text": "\xff"}\n'
    )
    path = write(tmp_path / "a.jsonl", data)
    source = str(path.resolve())

    assert list(load_file(path)) == [
        Article(doc_id="a", title="", text="satu", source=source, line=1),
        Failure(source, 2, "duplicate id 'a' (first on line 1)"),
        Failure(source, 3, "not valid UTF-8"),
    ]


def test_jsonl_keeps_id_as_given_and_survives_pathological_json(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": " spasi ", "text": "x"}),
        "[" * 100_000 + "]" * 100_000,
        '{"id": "n", "text": "x", "big": ' + "9" * 5000 + "}",
    ]
    path = write(tmp_path / "a.jsonl", "\n".join(lines))

    results = list(load_file(path))

    assert isinstance(results[0], Article)
    assert results[0].doc_id == " spasi "
    assert [(r.line, r.reason.split(":")[0]) for r in results[1:] if isinstance(r, Failure)] == [
        (2, "invalid JSON"),
        (3, "invalid JSON"),
    ]


def test_binary_jsonl_is_one_failure(tmp_path: Path) -> None:
    data = b'{"id": "a", "text": "b"}\n\x00\x01\x02\n\x00\n'
    assert load_failure(write(tmp_path / "a.jsonl", data)).reason == "binary file, not text"


def test_jsonl_text_limit_applies_per_line(tmp_path: Path) -> None:
    lines = [json.dumps({"id": "a", "text": "x" * 20}), json.dumps({"id": "b", "text": "y"})]
    path = write(tmp_path / "a.jsonl", "\n".join(lines))

    results = list(load_file(path, max_chars=10))

    assert results[0] == Failure(str(path.resolve()), 1, "text too long (20 characters; limit 10)")
    assert isinstance(results[1], Article)


# --- never raises ------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", sorted(SUPPORTED_SUFFIXES))
def test_garbage_never_raises(tmp_path: Path, suffix: str) -> None:
    samples = [
        bytes((i * 131 + 7) % 256 for i in range(3000)),
        b"PK\x03\x04" + bytes(100),
        b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog" * 20,
        b"<html><body><p>" * 2000,
        b'{"id": "a", "text": "b"}\n[1, 2\n\x01\n',
    ]
    for index, data in enumerate(samples):
        path = write(tmp_path / f"sample{index}{suffix}", data)
        results = list(load_file(path))
        assert results
        for result in results:
            assert isinstance(result, Article | Failure)
            if isinstance(result, Failure):
                assert result.reason
                assert "\n" not in result.reason


def test_parsing_works_with_over_1024_open_files(tmp_path: Path) -> None:
    """The parser process is watched with selectors, not select(), which cannot take a
    descriptor past 1,023 (a long test run or an app with many stores open has those)."""
    page = tmp_path / "halaman.html"
    page.write_text(
        "<html><head><title>Layanan Malam</title></head><body><article><p>Kecamatan Ciputat "
        "membuka layanan malam.</p></article></body></html>",
        encoding="utf-8",
    )
    script = (
        "import os, resource, sys\n"
        "from pathlib import Path\n"
        "soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
        "if hard != resource.RLIM_INFINITY and hard < 1200: sys.exit(3)\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (1200, hard))\n"
        "held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]\n"
        "from ingest.loaders import load_file\n"
        "(article,) = load_file(Path(sys.argv[1]))\n"
        "print(article.title)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(page)], capture_output=True, text=True, timeout=120
    )
    if done.returncode == 3:
        pytest.skip("this system allows fewer than 1,200 open files")
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip() == "Layanan Malam"
