"""What an article's stored text holds: Markdown rendered to plain text, and only the article of
a news page (issue #22, "Boilerplate kept").

The news pages are ``tests/data/news_pages/*.html``, each with the article it holds as a
``.txt`` file (the title, then the paragraphs); ``benchmarks/boilerplate.py`` scores them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from files import load_article, load_failure, write

from ingest.chunking import make_chunks

sys.path.append(str(Path(__file__).resolve().parents[2] / "benchmarks"))

import boilerplate

PAGES = boilerplate.PAGES


def truth(name: str) -> tuple[str, str]:
    """The title and the paragraphs of a news page's article."""
    return boilerplate.read_truth(PAGES / f"{name}.txt")


# --- Markdown ----------------------------------------------------------------------------------

REPORT_MD = """# Si Dukun *Keliling*: Posyandu ke Dusun

**Selong, 12 Februari 2024 (Lombok Post)** — Layanan *Si Dukun Keliling* menjangkau
dusun di lereng [Gunung Rinjani](https://example.id/rinjani).

## Capaian

- 1.240 ibu hamil dilayani
- cakupan imunisasi naik ke **88 persen**

1. pendaftaran lewat `SMS`
2. pemeriksaan di dusun

> “Kami yang datang ke warga,” ujar Rahmawati.

```
jadwal: Kamis pagi
```

**Sumber:** Lombok Post
"""


def test_markdown_is_stored_as_plain_text(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "laporan.md", REPORT_MD))

    assert article.title == "Si Dukun Keliling: Posyandu ke Dusun"
    assert article.text == (
        "Selong, 12 Februari 2024 (Lombok Post) — Layanan Si Dukun Keliling menjangkau\n"
        "dusun di lereng Gunung Rinjani.\n\n"
        "Capaian\n\n"
        "1.240 ibu hamil dilayani\ncakupan imunisasi naik ke 88 persen\n\n"
        "1. pendaftaran lewat SMS\n2. pemeriksaan di dusun\n\n"
        "“Kami yang datang ke warga,” ujar Rahmawati.\n\n"
        "jadwal: Kamis pagi"
    )
    assert article.metadata == {"source_name": "Lombok Post"}
    chunks = make_chunks(article)
    assert chunks
    for chunk in chunks:
        assert chunk.text == article.text[chunk.start : chunk.end]
        assert not any(mark in chunk.text for mark in ("**", "](", "`", "# "))


def test_markdown_setext_title_and_plain_sumber_line(tmp_path: Path) -> None:
    text = "Inovasi *Kecamatan* Setu\n=====\n\nIsi laporan.\n\nSumber: Tangerang Ekspres\n"
    article = load_article(write(tmp_path / "a.markdown", text))

    assert (article.title, article.text) == ("Inovasi Kecamatan Setu", "Isi laporan.")
    assert article.metadata == {"source_name": "Tangerang Ekspres"}


def test_text_files_are_not_read_as_markdown(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "a.txt", "Judul\nIsi *laporan* # apa adanya."))
    assert article.text == "Isi *laporan* # apa adanya."


def test_raw_html_in_markdown_keeps_only_its_text(tmp_path: Path) -> None:
    text = (
        "Judul\n\n<div align=center>\nTeks <i>miring</i><br>baris &amp; dua\n"
        "<script>lacak()</script></div>\n\n<!-- catatan redaksi -->\n\nPenutup."
    )
    article = load_article(write(tmp_path / "a.md", text))

    assert article.text == "Teks miring\nbaris & dua\n\nPenutup."


def test_markdown_of_only_markup_has_no_text(tmp_path: Path) -> None:
    assert load_failure(write(tmp_path / "a.md", "---\n\n***\n")).reason == "no text found"
    # Unclosed comments and tags are read in one pass (a regular expression took minutes).
    hostile = write(tmp_path / "b.md", "<!--" * 200_000)
    assert load_failure(hostile).reason == "no text found"


# --- HTML --------------------------------------------------------------------------------------

ARTICLE_WITH_INLINE_LINKS = """<html><head><title>Pasar Malam Selong</title></head><body>
<article>
<h1>Pasar Malam Selong</h1>
<p>Pemerintah Kecamatan Selong membuka pasar malam di alun-alun setiap Sabtu. Puluhan
pedagang kecil mendapat lapak tanpa sewa selama tiga bulan pertama.</p>
<p>Baca juga: <a href="/kuliner">10 Kuliner Malam di Selong yang Wajib Dicoba</a></p>
<p>Camat Selong menyebut pasar malam menambah pendapatan pedagang rata-rata dua ratus ribu
rupiah setiap malam. Kebersihan alun-alun dijaga petugas kelurahan.</p>
<p><strong>BACA JUGA:</strong> <a href="/parkir">Tarif Parkir Alun-alun Selong Naik</a></p>
<p>Pasar malam akan dievaluasi setelah tiga bulan berjalan.</p>
</article></body></html>"""


def test_baca_juga_lines_inside_the_article_are_dropped(tmp_path: Path) -> None:
    article = load_article(write(tmp_path / "pasar.html", ARTICLE_WITH_INLINE_LINKS))

    assert "Baca juga" not in article.text and "BACA JUGA" not in article.text
    assert "Kuliner" not in article.text and "Tarif Parkir" not in article.text
    paragraphs = article.text.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("Pemerintah Kecamatan Selong membuka pasar malam")
    assert paragraphs[2] == "Pasar malam akan dievaluasi setelah tiga bulan berjalan."


def test_a_page_without_article_or_main_keeps_only_its_story() -> None:
    article = load_article(PAGES / "sleman-antrean-daring.html")
    title, text = truth("sleman-antrean-daring")

    assert article.title == title
    assert article.text == text
    for chrome in ("cookie", "Beranda", "Terpopuler", "Cabai Rawit", "Copyright", "Redaksi"):
        assert chrome not in article.text


@pytest.mark.parametrize(
    "name",
    [
        "sleman-antrean-daring",  # <title>: "Site - Headline", no og:title
        "makassar-sampah-tukar-beras",  # og:title "Headline - Site", og:site_name
        "ambon-pasar-qris",  # the only <h1> is the site's logo
        "padang-mpp-malam",  # no <h1>, no meta: "Site - Headline"
    ],
)
def test_the_title_loses_the_site_name(name: str) -> None:
    assert load_article(PAGES / f"{name}.html").title == truth(name)[0]


def test_metadata_comes_from_meta_tags_then_from_trafilatura() -> None:
    # As the page writes it in its meta tags.
    assert load_article(PAGES / "lombok-posyandu-keliling.html").metadata == {
        "date": "2024-02-12T15:20:00+08:00",
        "url": "https://kabarrinjani.example/daerah/2024/02/12/posyandu-keliling-lombok-timur",
        "outlet": "Kabar Rinjani",
        "author": "Baiq Nurul Aini",
    }
    # No meta tags: JSON-LD's publisher, author and date.
    assert load_article(PAGES / "pontianak-perahu-sekolah.html").metadata == {
        "outlet": "Borneo Kini",
        "author": "Dayang Fitriani",
        "date": "2024-07-15",
    }
    # The date from the byline or the URL; the URL's host is not taken for the outlet's name.
    assert load_article(PAGES / "ambon-pasar-qris.html").metadata == {
        "url": "https://malukutoday.example/ekonomi/2024/05/09/pasar-mardika-qris",
        "date": "2024-05-09",
    }


def test_the_news_pages_keep_their_story_and_little_else() -> None:
    scores = [boilerplate.score(page, boilerplate.load_new) for page in boilerplate.pages()]
    total = boilerplate.total(scores)

    assert total.boilerplate <= 0.05, boilerplate.table_rows(scores)
    assert total.lost <= 0.05, boilerplate.table_rows(scores)
    assert all(s.title_ok for s in scores), [s.name for s in scores if not s.title_ok]
