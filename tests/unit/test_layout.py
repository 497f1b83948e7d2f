"""Long reports (issue 19): PDF lines joined into whole sentences, pages and sections of each
passage, Word headings; the rules of ``ingest.layout`` on lines made here."""

from __future__ import annotations

from pathlib import Path

import docx
import long_report
import pytest

from ingest.chunking import make_chunks
from ingest.layout import Line, assemble, blocks, heading, sections, strip_running
from ingest.loaders import load_file
from kb.types import Article, page_label, pages_of


def lines(*texts: str, size: float = 10.0, spacing: float = 12.0, top: float = 700.0) -> list[Line]:
    """Lines set one under another at a fixed spacing (a paragraph of a typeset page)."""
    return [Line(t, y=top - i * spacing, x=72.0, size=size) for i, t in enumerate(texts)]


WRAPPED = lines(
    "MPP ini menyediakan 24 jenis layanan dari dua belas instansi, termasuk",
    "layanan kependudukan dan perizinan usaha. Camat Coblong,",
    "Rudi Hartono, mengatakan jumlah pengunjung naik setiap bulan sejak",
    "gedung itu dibuka pada bulan Januari.",
)


def test_wrapped_lines_become_whole_sentences() -> None:
    found = blocks(WRAPPED)

    assert [b.text for b in found] == [
        "MPP ini menyediakan 24 jenis layanan dari dua belas instansi, termasuk layanan "
        "kependudukan dan perizinan usaha. Camat Coblong, Rudi Hartono, mengatakan jumlah "
        "pengunjung naik setiap bulan sejak gedung itu dibuka pada bulan Januari."
    ]


def test_a_vertical_gap_or_a_short_last_line_ends_a_paragraph() -> None:
    first = lines(
        "Loket malam dibuka setiap Selasa dan Kamis sejak bulan Maret tahun lalu,",
        "dan warga datang sepulang kerja.",
    )
    second = lines(
        "Petugas yang bertugas malam masuk lebih siang keesokan harinya agar jam",
        "kerja mereka tetap sama.",
        top=first[-1].y - 20.0,  # type: ignore[operator]
    )

    assert [b.text for b in blocks(first + second)] == [
        "Loket malam dibuka setiap Selasa dan Kamis sejak bulan Maret tahun lalu, dan warga "
        "datang sepulang kerja.",
        "Petugas yang bertugas malam masuk lebih siang keesokan harinya agar jam kerja mereka "
        "tetap sama.",
    ]
    # Without positions (a recognised page): the short finished line still ends it.
    bare = [Line(line.text) for line in first + second]
    assert len(blocks(bare)) == 2


def test_hyphens_at_line_ends() -> None:
    page = lines(
        "Setiap hari kerja petugas kecamatan memberikan layanan dan pelaya-",
        "nan kepada warga yang datang ke kantor kecamatan, hampir sehari-",
        "hari tanpa antrean panjang, dan mengantar dokumen kependudukan bolak-",
        "balik ke kantor desa. Warga bolak-balik bertanya soal jadwal masing-",
        "masing.",
    )

    (paragraph,) = blocks(page, hyphenated=frozenset({"bolak-balik"}))

    assert "dan pelayanan kepada warga" in paragraph.text
    assert "sehari-hari" in paragraph.text  # a reduplication keeps its hyphen
    assert "kependudukan bolak-balik ke kantor" in paragraph.text  # written so elsewhere
    assert "masing-masing." in paragraph.text


@pytest.mark.parametrize(
    ("line", "level"),
    [
        ("BAB IV", 1),
        ("BAB IV HASIL DAN PEMBAHASAN", 1),
        ("4.2 Inovasi Pelayanan", 2),
        ("4.2.1 Layanan Malam Kecamatan Sukamaju", 3),
        ("IV. PENUTUP", 1),
        ("A. Latar Belakang", 2),
        ("KATA PENGANTAR", 1),
        ("12 Februari 2024", 0),  # a dateline
        ("2024 Kecamatan Sukamaju membuka loket malam", 0),  # a year, not chapter 2024
        ("4.2 Inovasi Pelayanan .......... 23", 0),  # a table of contents
        ("Camat Coblong, Rudi Hartono, mengatakan hal itu.", 0),
        ("1. Warga mengambil nomor antrean.", 0),  # a list item
        ("24 jenis layanan", 0),
    ],
)
def test_headings(line: str, level: int) -> None:
    assert heading(line)[0] == level


def test_headings_stay_lines_and_give_section_paths() -> None:
    page = [
        Line("BAB IV", y=760, size=14),
        Line("HASIL DAN PEMBAHASAN", y=740, size=14),
        Line("4.2 Inovasi Pelayanan", y=710, size=12),
        *lines(
            "Kecamatan Sukamaju membuka loket malam pada hari Selasa dan Kamis untuk",
            "warga yang bekerja pada siang hari.",
            top=690,
        ),
    ]

    found = blocks(page, body_size=10.0)
    assembled = assemble([found])

    # Two heading lines set large one under the other are one heading.
    assert [(b.level, b.text) for b in found[:2]] == [
        (1, "BAB IV HASIL DAN PEMBAHASAN"),
        (2, "4.2 Inovasi Pelayanan"),
    ]
    assert sections(assembled.headings)[-1] == (
        assembled.text.index("4.2"),
        "BAB IV HASIL DAN PEMBAHASAN > 4.2 Inovasi Pelayanan",
    )
    # Read without positions (OCR), "BAB IV" stays its own line and takes the next as title.
    bare = assemble([blocks([Line(line.text) for line in page])])
    assert bare.text.startswith("BAB IV\n\nHASIL DAN PEMBAHASAN\n\n4.2 Inovasi Pelayanan\n\n")
    assert [p for _, p in sections(bare.headings)] == [
        "BAB IV HASIL DAN PEMBAHASAN",
        "BAB IV HASIL DAN PEMBAHASAN > 4.2 Inovasi Pelayanan",
    ]


TOPICS = ("layanan malam", "antrean daring", "ambulans desa", "posyandu perahu")


def test_running_headers_footers_and_page_numbers_are_not_text() -> None:
    pages = []
    for n in range(1, 5):
        pages.append(
            [
                Line(f"Laporan Tahunan 2024 - hal. {n}", y=30, size=8),
                Line("Laporan Tahunan Kecamatan Sukamaju", y=800, size=8),
                *lines(f"Isi halaman ke-{n}: {TOPICS[n - 1]}."),
                Line(str(n), y=20, size=8),
            ]
        )

    kept = strip_running(pages)

    assert [[line.text for line in page] for page in kept] == [
        [f"Isi halaman ke-{n}: {topic}."] for n, topic in enumerate(TOPICS, 1)
    ]


def test_a_sentence_across_a_page_break_is_whole_and_pages_are_where_they_start() -> None:
    page_one = blocks(lines("Paragraf pertama selesai di sini.", "Kalimat ini berlanjut ke"))
    page_two = blocks(lines("halaman berikutnya tanpa putus.", "Paragraf baru dimulai."))

    assembled = assemble([page_one, [], page_two])  # an empty page 2 between them

    assert "Kalimat ini berlanjut ke halaman berikutnya tanpa putus." in assembled.text
    start = assembled.text.index("halaman berikutnya")
    assert assembled.pages == ((0, 1), (start, 3))


def test_chunks_record_pages_sections_and_stay_in_their_section() -> None:
    text = (
        "Pendahuluan laporan.\n\nBAB I LAYANAN\n\nLoket malam dibuka. "
        + "Warga datang. " * 30
        + "\n\nBAB II ANTREAN\n\nAntrean daring dipakai sejak Februari."
    )
    page_two = text.index("Warga datang. " * 5)
    article = Article(
        "lap",
        "Laporan",
        text,
        "lap.pdf",
        pages=((0, 1), (page_two, 2)),
        sections=(
            (text.index("BAB I "), "BAB I LAYANAN"),
            (text.index("BAB II"), "BAB II ANTREAN"),
        ),
    )

    chunks = make_chunks(article, max_chars=200, overlap_chars=40)

    assert chunks[0].section == "" and chunks[0].page == 1
    assert chunks[-1].section == "BAB II ANTREAN"
    assert chunks[-1].text.startswith("BAB II ANTREAN")
    assert all(c.section != "BAB I LAYANAN" or "Antrean daring" not in c.text for c in chunks)
    spanning = next(c for c in chunks if c.page_breaks)
    assert (spanning.page, spanning.page_end) == (1, 2)
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_page_labels_and_the_pages_of_a_quote() -> None:
    breaks = "[[120,13]]"

    assert pages_of(12, breaks, 10, 100) == (12, None)
    assert pages_of(12, breaks, 100, 140) == (12, 13)
    assert pages_of(12, breaks, 130, 140) == (13, None)
    assert pages_of(None, None, 0, 10) == (None, None)
    assert page_label(12, None) == "hal. 12"
    assert page_label(12, 13) == "hal. 12-13"
    assert page_label(12, None, "en") == "p. 12"
    assert page_label(None, None) == ""


def test_word_headings_give_sections(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("Laporan Kinerja Kecamatan Sukamaju", level=0)
    document.add_heading("BAB II Inovasi", level=1)
    document.add_heading("2.1 Layanan Malam", level=2)
    document.add_paragraph("Loket malam dibuka setiap Selasa dan Kamis pukul 18.30.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Hari"
    table.rows[0].cells[1].text = "Selasa, Kamis"
    document.add_heading("2.2 Antrean Daring", level=2)
    document.add_paragraph("Nomor antrean diambil lewat pesan singkat.")
    path = tmp_path / "kinerja.docx"
    document.save(str(path))

    (article,) = load_file(path, timeout_s=0)

    assert isinstance(article, Article)
    assert article.title == "Laporan Kinerja Kecamatan Sukamaju"
    # Paragraphs and tables in document order.
    assert article.text.index("Hari | Selasa, Kamis") < article.text.index("2.2 Antrean Daring")
    assert [path for _, path in article.sections] == [
        "BAB II Inovasi",
        "BAB II Inovasi > 2.1 Layanan Malam",
        "BAB II Inovasi > 2.2 Antrean Daring",
    ]
    chunks = make_chunks(article, max_chars=80, overlap_chars=0)
    by_text = {c.text.split("\n")[-1]: c.section for c in chunks}
    assert by_text["Nomor antrean diambil lewat pesan singkat."].endswith("2.2 Antrean Daring")


def test_a_pdf_outline_gives_the_sections(tmp_path: Path) -> None:
    path = tmp_path / "laporan.pdf"
    path.write_bytes(long_report.build(outline=True, scanned=False))

    (article,) = load_file(path, timeout_s=0)

    assert isinstance(article, Article)
    paths = dict((p, o) for o, p in article.sections)
    inn = long_report.innovations()[9]
    chapter = next(f"BAB {r} {t}" for r, t in long_report.CHAPTERS if r == inn.chapter)
    offset = paths[f"{chapter} > {inn.heading}"]
    assert article.text[offset:].startswith(inn.heading)  # at the heading, not the page's top
    assert article.pages[0] == (0, 1) and len(article.pages) >= 60
    assert "Halaman" not in article.text  # the running footer is gone
