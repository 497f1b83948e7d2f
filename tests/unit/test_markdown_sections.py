"""A Markdown file's headings are its sections, as a Word file's heading styles are: a heading of
level n (``#`` .. ``######``, setext ``===``/``---``) is a heading of level n of the section
path each chunk and citation carries; the rendered text stays what it was."""

from __future__ import annotations

from pathlib import Path

from files import REPORT, REPORT_SECTIONS, REPORT_TEXT, load_article, write

from ingest.chunking import make_chunks
from ingest.layout import Block
from ingest.loaders.text import load_text, markdown_blocks, markdown_to_text


def test_markdown_headings_give_the_sections_of_the_body() -> None:
    parsed = load_text(REPORT.encode("utf-8"), Path("kinerja.md"), 1_000_000)

    assert parsed.title == "Laporan Kinerja Kecamatan Sukamaju 2024"
    assert parsed.text == REPORT_TEXT
    assert parsed.metadata == {"source_name": "Sekretariat Kecamatan Sukamaju"}
    assert parsed.sections == REPORT_SECTIONS
    for offset, path in parsed.sections:  # each at its heading's text in the body
        assert parsed.text[offset:].startswith(path.split(" > ")[-1] + "\n\n")


def test_a_loaded_markdown_article_carries_its_sections_into_its_chunks(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "kinerja.md", REPORT))

    assert (article.title, article.text) == ("Laporan Kinerja Kecamatan Sukamaju 2024", REPORT_TEXT)
    assert article.sections == REPORT_SECTIONS
    chunks = make_chunks(article)
    assert [(c.section, c.text.split("\n")[0]) for c in chunks] == [
        ("", "Laporan ini merangkum pelayanan publik kecamatan selama 2024."),
        ("BAB I Pendahuluan", "BAB I Pendahuluan"),
        ("BAB I Pendahuluan > 1.1 Latar Belakang", "1.1 Latar Belakang"),
        ("BAB II Inovasi Pelayanan", "BAB II Inovasi Pelayanan"),
        ("BAB II Inovasi Pelayanan > 2.1 Loket Malam", "2.1 Loket Malam"),
        ("BAB II Inovasi Pelayanan > 2.2 Antrean Daring", "2.2 Antrean Daring"),
    ]
    assert all(c.text == article.text[c.start : c.end] for c in chunks)


def test_markdown_blocks_are_layout_blocks_with_the_heading_levels() -> None:
    source = (
        "Judul Setext\n============\n\nParagraf *satu*.\n\n"
        "Bagian   Dua\n------------\n\n#### Rincian ####\n\n"
        "> ## Dalam kutipan\n\n- # Dalam daftar\n- butir\n\n<h2>HTML</h2>\n\n######\n"
    )

    assert markdown_blocks(source) == [
        Block("Judul Setext", 1, "Judul Setext"),
        Block("Paragraf satu."),
        Block("Bagian   Dua", 2, "Bagian Dua"),
        Block("Rincian", 4, "Rincian"),
        # A heading quoted, in a list item or in raw HTML is not one of the document's.
        Block("Dalam kutipan"),
        Block("Dalam daftar\nbutir"),
        Block("HTML"),
    ]
    assert markdown_to_text(source) == "\n\n".join(b.text for b in markdown_blocks(source))


def test_title_heading_one_line_and_sumber_heading_give_no_section(tmp_path: Path) -> None:
    # The first heading is the title, however deep; a shallower one after it opens a path.
    titled = load_article(
        write(tmp_path / "a.md", "## Inovasi Setu ##\n\nIsi.\n\n# Bagian\n\nAkhir.")
    )
    assert (titled.title, titled.text) == ("Inovasi Setu", "Isi.\n\nBagian\n\nAkhir.")
    assert titled.sections == ((6, "Bagian"),)
    # A file of one heading: the title is the file's stem, the heading the body, no section.
    single = load_article(write(tmp_path / "catatan.md", "# Hanya Judul\n"))
    assert (single.title, single.text, single.sections) == ("catatan", "Hanya Judul", ())
    # A "Sumber:" line set as a heading is taken off the end with its section.
    source = "Judul\n\n## Bagian A\n\nIsi A.\n\n## Sumber: Diskominfo\n"
    sourced = load_article(write(tmp_path / "b.md", source))
    assert (sourced.text, sourced.metadata) == ("Bagian A\n\nIsi A.", {"source_name": "Diskominfo"})
    assert sourced.sections == ((0, "Bagian A"),)


def test_bab_alone_takes_the_next_heading_as_in_word(tmp_path: Path) -> None:
    text = "Laporan\n\n# BAB IV\n\n# HASIL DAN PEMBAHASAN\n\n## 4.1 Inovasi\n\nTeks."
    article = load_article(write(tmp_path / "a.md", text))

    assert article.text == "BAB IV\n\nHASIL DAN PEMBAHASAN\n\n4.1 Inovasi\n\nTeks."
    assert article.sections == (
        (0, "BAB IV HASIL DAN PEMBAHASAN"),
        (30, "BAB IV HASIL DAN PEMBAHASAN > 4.1 Inovasi"),
    )


def test_markdown_without_headings_renders_as_before(tmp_path: Path) -> None:
    source = (
        "Rapat *koordinasi* kecamatan\n\nDihadiri [lurah](https://contoh.id) se-kecamatan.\n"
        "Baris kedua.\n\n1. antrean\n2. loket\n   - malam\n\n| Hari | Jam |\n|---|--:|\n"
        "| Selasa | 18.30 |\n\n> Kami buka malam.\n\n```\n  jadwal: Kamis\n```\n\n"
        "Sumber: Humas\n"
    )
    expected = (
        "Dihadiri lurah se-kecamatan.\nBaris kedua.\n\n1. antrean\n2. loket\nmalam\n\n"
        "Hari | Jam\nSelasa | 18.30\n\nKami buka malam.\n\n  jadwal: Kamis"
    )

    article = load_article(write(tmp_path / "rapat.md", source))

    assert (article.title, article.text) == ("Rapat koordinasi kecamatan", expected)
    assert article.metadata == {"source_name": "Humas"}
    assert article.sections == ()


def test_text_files_have_no_sections(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "a.txt", "Judul\n\n# BAB I\n\nIsi.\n\n## 1.1 Sub\n"))

    assert (article.text, article.sections) == ("# BAB I\n\nIsi.\n\n## 1.1 Sub", ())
