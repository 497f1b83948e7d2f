"""Metadata read from an article's own text: outlet, reporter, dates, regions."""

from __future__ import annotations

import pytest

from ingest.extract import extract_metadata, find_outlet, find_reporter

TITLE = "Camat se-Jambi Belajar Pelayanan di Tangsel"
BODY = (
    "CIPUTAT-Puluhan camat dari Provinsi Jambi berkunjung ke Kota Tangsel untuk belajar "
    "manajemen pelayanan, 6 sampai 9 November. Rombongan akan melihat langsung tiga kecamatan "
    "yakni Setu, Serpong Utara dan Pamulang. “Layanan malam sudah berjalan di Kecamatan "
    "Ciputat,” ujarnya kepada Tangerang Ekspres, Selasa (7/11). Sementara itu, para camat "
    "berharap ilmu dari Tangsel bisa diterapkan di Jambi. Masih menurut dia, kunjungan ditutup "
    "Kamis (9/11). (bud/esa)\n"
    "Sumber:"
)


def test_seed_shaped_article() -> None:
    assert extract_metadata(TITLE, BODY) == {
        "outlet": "Tangerang Ekspres",
        "reporter": "bud/esa",
        "dates": ["6 sampai 9 November", "Selasa (7/11)", "Kamis (9/11)"],
        "date": None,  # no year anywhere: never guessed
        "regions": [
            "Provinsi Jambi",
            "Kota Tangerang Selatan",
            "Kecamatan Ciputat",
            "Kecamatan Setu",
            "Kecamatan Serpong Utara",
            "Kecamatan Pamulang",
            "Provinsi Banten",
        ],
        "provinsi": ["Provinsi Jambi", "Provinsi Banten"],
        "kabkota": ["Kota Tangerang Selatan"],
        "kecamatan": [
            "Kecamatan Ciputat",
            "Kecamatan Setu",
            "Kecamatan Serpong Utara",
            "Kecamatan Pamulang",
        ],
        "mentioned_regions": [],
    }


def test_seed_shaped_article_with_the_year_from_the_source() -> None:
    assert extract_metadata(TITLE, BODY, year=2017)["date"] == "2017-11-07"
    # In 2018, 7/11 was a Wednesday and 9/11 a Friday: the year does not fit "Selasa"/"Kamis".
    assert extract_metadata(TITLE, BODY, year=2018)["date"] is None


def test_nothing_found() -> None:
    assert extract_metadata("", "Hujan turun sejak pagi.") == {
        "outlet": None,
        "reporter": None,
        "dates": [],
        "date": None,
        "regions": [],
        "provinsi": [],
        "kabkota": [],
        "kecamatan": [],
        "mentioned_regions": [],
    }


def test_title_is_searched_first() -> None:
    meta = extract_metadata("Banjir di Surabaya", "Warga Provinsi Banten membantu.")
    assert meta["regions"] == ["Kota Surabaya", "Provinsi Banten", "Provinsi Jawa Timur"]
    assert meta["kabkota"] == ["Kota Surabaya"]


@pytest.mark.parametrize(
    ("text", "outlet"),
    [
        ("“Sudah siap,” ujarnya kepada Tangerang Ekspres, Selasa (7/11).", "Tangerang Ekspres"),
        ("kata Ani kepada Radar Bogor.", "Radar Bogor"),
        ("katanya kepada detikcom, Senin.", "detikcom"),
        ("seperti dikutip dari Antara, Senin.", "Antara"),
        ("Hal itu dilansir Reuters, Senin (6/11).", "Reuters"),
        ("Hal itu dilansir Straits Times hari ini.", "Straits Times"),
        ("melansir dari Kompas.com, harga naik.", "Kompas.com"),
        ("JAKARTA, KOMPAS.com - Harga cabai naik.", "KOMPAS.com"),
        ("Jakarta (ANTARA) - Harga cabai naik.", "ANTARA"),
        ("Harga cabai naik. (ant)\nSumber: Jambi Ekspres", "Jambi Ekspres"),
        ("Harga naik.\nSumber: https://www.antaranews.com/berita/1", "antaranews.com"),
        # not outlets
        ("“Sudah siap,” ujarnya kepada wartawan, Selasa (7/11).", None),
        ("kata Ani kepada Muhamad di kantornya.", None),
        ("Surat itu dikirim kepada Kantor Pos.", None),
        ("seperti dikutip dari Peraturan Menteri Dalam Negeri.", None),
        ("Sumber: BPS\nData itu dirilis Senin.", None),
        ("Harga naik.\nSumber:", None),
    ],
)
def test_outlet(text: str, outlet: str | None) -> None:
    assert find_outlet(text) == outlet
    assert extract_metadata("", text)["outlet"] == outlet


@pytest.mark.parametrize(
    ("text", "reporter"),
    [
        ("Acara ditutup sore hari. (bud/esa)", "bud/esa"),
        ("Acara ditutup sore hari. (ynt/d03/d09/d15)\n", "ynt/d03/d09/d15"),
        ("Acara ditutup sore hari. (bud/esa)\nSumber:", "bud/esa"),
        ("Acara ditutup sore hari. (bud/esa)\nSumber: Tangerang Ekspres\n", "bud/esa"),
        ("Acara ditutup sore hari. (kor)", "kor"),
        ("Acara (bud/esa) ditutup sore hari.", None),  # not at the end
        ("Acara ditutup pada tahun (2017)", None),
        ("Acara ditutup. (BPS)", None),
        ("Acara ditutup. (panitia)", None),  # 7 letters: a word, not initials
        ("Acara ditutup. (a/esa)", None),
    ],
)
def test_reporter(text: str, reporter: str | None) -> None:
    assert find_reporter(text) == reporter
    assert extract_metadata("", text)["reporter"] == reporter


@pytest.mark.parametrize(
    ("text", "dates", "date"),
    [
        ("Rapat digelar Jumat (10/11/2017).", ["Jumat (10/11/2017)"], "2017-11-10"),
        ("Rapat digelar Jum'at (10/11/17).", ["Jum'at (10/11/17)"], "2017-11-10"),
        ("Rapat digelar 7 November 2017.", ["7 November 2017"], "2017-11-07"),
        ("Rapat digelar 7 Nov 2017.", ["7 Nov 2017"], "2017-11-07"),
        ("Rapat digelar 15 oktober 2003.", ["15 oktober 2003"], "2003-10-15"),
        ("Meeting on November 7, 2017.", ["November 7, 2017"], "2017-11-07"),
        ("Diunggah 2017-11-07 pukul 10.", ["2017-11-07"], "2017-11-07"),
        ("Surat bertanggal 10/11/2017.", ["10/11/2017"], "2017-11-10"),
        ("Rapat digelar Selasa (7/11) dan Selasa (7/11) lagi.", ["Selasa (7/11)"], None),
        # a year written once elsewhere resolves a date without one
        ("Rapat Selasa (7/11) membahas anggaran 2017.", ["Selasa (7/11)"], "2017-11-07"),
        ("Rapat 7 November membahas anggaran 2017.", ["7 November"], "2017-11-07"),
        # counts and prices are not years
        ("Selasa (7/11) dihadiri 2000 warga, anggaran 2017.", ["Selasa (7/11)"], "2017-11-07"),
        # two different years: which one is meant cannot be told
        ("Rapat Selasa (7/11) membahas anggaran 2017 dan 2018.", ["Selasa (7/11)"], None),
        # a year that does not fit the weekday is not borrowed (7/11/2016 was a Monday)
        ("Rapat Selasa (7/11) membahas anggaran 2016.", ["Selasa (7/11)"], None),
        # the first mention that resolves wins; a range is listed but not resolved
        (
            "Pameran 6 sampai 9 November, dibuka Senin (6/11/2017).",
            ["6 sampai 9 November", "Senin (6/11/2017)"],
            "2017-11-06",
        ),
        ("Rapat Selasa (31/2/2017).", ["Selasa (31/2/2017)"], None),  # no such day
    ],
)
def test_dates(text: str, dates: list[str], date: str | None) -> None:
    meta = extract_metadata("", text)
    assert meta["dates"] == dates
    assert meta["date"] == date


def test_year_from_the_caller_resolves_dates_without_one() -> None:
    text = "Rapat digelar 7 November dan Selasa (7/11)."
    assert extract_metadata("", text)["date"] is None
    assert extract_metadata("", text, year=2017)["date"] == "2017-11-07"
    # the caller's year wins over one written in the text
    assert extract_metadata("", text + " Anggaran 2016.", year=2017)["date"] == "2017-11-07"
    # a mention with its own year keeps it
    assert extract_metadata("", "Rapat 7 November 2016.", year=2017)["date"] == "2016-11-07"
