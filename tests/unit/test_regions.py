"""The gazetteer: finding regions in news text, ancestors, and normalising filter input."""

from __future__ import annotations

import pytest

from kb.text.gazetteer import Region, all_region_names, ancestors, normalize_region
from kb.text.regions import find_regions

TANGSEL = Region("Kota Tangerang Selatan", "kabkota", "Provinsi Banten")
BEKASI_KAB = Region("Kabupaten Bekasi", "kabkota", "Provinsi Jawa Barat")
JAMBI = Region("Provinsi Jambi", "provinsi", None)
CIPUTAT = Region("Kecamatan Ciputat", "kecamatan", "Kota Tangerang Selatan")


def names(text: str) -> list[str]:
    return [r.name for r in find_regions(text)]


def test_seed_shaped_article_finds_every_level_in_order() -> None:
    text = (
        "Camat se-Jambi Menimba Ilmu di Tangsel\n"
        "CIPUTAT-Rombongan camat dari Provinsi Jambi datang ke Kota Tangsel. Mereka mengunjungi "
        "tiga kecamatan yakni Setu, Serpong Utara dan Pamulang. Sementara itu, layanan malam "
        "sudah ada di Kecamatan Ciputat. Masih menurut dia, Kota Tangsel siap berbagi ilmu."
    )
    assert find_regions(text) == [
        JAMBI,
        TANGSEL,
        CIPUTAT,
        Region("Kecamatan Setu", "kecamatan", "Kota Tangerang Selatan"),
        Region("Kecamatan Serpong Utara", "kecamatan", "Kota Tangerang Selatan"),
        Region("Kecamatan Pamulang", "kecamatan", "Kota Tangerang Selatan"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Sementara itu, Masih menurut dia, rapat digelar Selasa di Balai Kota.",
        "Kota itu ramai. Kabupaten lain belum. Kecamatan yang baik dipilih.",
        "Harga Batu Bara naik lagi.",  # coal, not Kabupaten Batu Bara
        "Timnas Papua Nugini kalah tipis.",  # the country
        "Ia membaca Jambi Ekspres tiap pagi.",  # the newspaper
        "Ia tinggal di Jalan Surabaya nomor 3.",  # a street
        "Ia berlibur ke Danau Toba lalu ke Selat Malaka.",
        "Ia dirawat di Bogor.",  # Kota and Kabupaten Bogor: cannot tell
        "Ia lahir di Pamulang.",  # a bare kecamatan with no kab/kota to anchor it
    ],
)
def test_false_positive_traps(text: str) -> None:
    assert names(text) == []


def test_common_word_kecamatan_only_after_kecamatan() -> None:
    # Larangan is a kecamatan of Kota Tangerang, and the word for "ban".
    assert names("Larangan merokok berlaku di Kota Tangerang.") == ["Kota Tangerang"]
    assert names("Benda itu ditemukan di Kota Tangerang.") == ["Kota Tangerang"]
    assert names("Kecamatan Larangan, Kota Tangerang") == ["Kecamatan Larangan", "Kota Tangerang"]


def test_name_shared_by_province_and_kota() -> None:
    assert names("Pemkot Jambi dan Pemprov Jambi") == ["Kota Jambi", "Provinsi Jambi"]
    assert names("Kota Jambi berbeda dengan Jambi.") == ["Kota Jambi", "Provinsi Jambi"]
    assert names("camat se-Jambi") == ["Provinsi Jambi"]


def test_kabkota_triggers_prefer_the_right_kind() -> None:
    assert names("Bupati Bogor menemui Wali Kota Bogor.") == ["Kabupaten Bogor", "Kota Bogor"]
    assert names("Pemkab Tangerang dan Walikota Tangsel") == ["Kabupaten Tangerang", TANGSEL.name]
    assert names("Kab. Lebak dan Kabupaten Batu Bara") == [
        "Kabupaten Lebak",
        "Kabupaten Batu Bara",
    ]
    assert names("Pemerintah Kota/Kabupaten Bekasi") == ["Kota Bekasi", "Kabupaten Bekasi"]


def test_unambiguous_bare_kabkota_counts() -> None:
    assert names("Ia bekerja di Surabaya dan Tangerang Selatan.") == [
        "Kota Surabaya",
        "Kota Tangerang Selatan",
    ]
    assert names("Banjir melanda Jakarta Selatan.") == ["Kota Jakarta Selatan"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Gubernur Jabar dan Jateng", ["Provinsi Jawa Barat", "Provinsi Jawa Tengah"]),
        ("Warga Jatim dan DIY", ["Provinsi Jawa Timur", "Provinsi DI Yogyakarta"]),
        ("Liburan ke Jogja", ["Provinsi DI Yogyakarta"]),
        ("Wali Kota Yogya", ["Kota Yogyakarta"]),
        ("Sumut, Sumbar, NTB dan NTT", [
            "Provinsi Sumatera Utara",
            "Provinsi Sumatera Barat",
            "Provinsi Nusa Tenggara Barat",
            "Provinsi Nusa Tenggara Timur",
        ]),
        ("Pemkot Jaksel dan Pemkot Jakut", ["Kota Jakarta Selatan", "Kota Jakarta Utara"]),
        ("di Jakarta", ["Provinsi DKI Jakarta"]),
        ("Pemprov DKI Jakarta", ["Provinsi DKI Jakarta"]),
        ("Kota Solo", ["Kota Surakarta"]),
    ],
)  # fmt: skip
def test_aliases(text: str, expected: list[str]) -> None:
    assert names(text) == expected


def test_ambiguous_kecamatan_keeps_no_parent_until_a_kabkota_decides() -> None:
    assert find_regions("Kecamatan Setu ramai.") == [Region("Kecamatan Setu", "kecamatan", None)]
    assert find_regions("Kecamatan Setu, Kabupaten Bekasi ramai.") == [
        Region("Kecamatan Setu", "kecamatan", "Kabupaten Bekasi"),
        BEKASI_KAB,
    ]
    assert find_regions("Camat Setu menyambut tamu dari luar Kota Tangsel.") == [
        Region("Kecamatan Setu", "kecamatan", "Kota Tangerang Selatan"),
        TANGSEL,
    ]
    # Kecamatan Ciputat exists only in Tangsel, so it settles Setu too.
    assert find_regions("Kecamatan Ciputat dan Kecamatan Setu")[1].parent == TANGSEL.name


def test_kecamatan_lists() -> None:
    assert names("di Kecamatan Ciputat dan Pamulang") == ["Kecamatan Ciputat", "Kecamatan Pamulang"]
    assert names("empat kecamatan, yaitu Cisauk, Curug, dan Kelapa Dua") == [
        "Kecamatan Cisauk",
        "Kecamatan Curug",
        "Kecamatan Kelapa Dua",
    ]
    # Without "dan ...", what follows a comma is not taken for a list.
    assert names("Kecamatan Ciputat, Bambang mengatakan hal itu.") == ["Kecamatan Ciputat"]


def test_bare_kecamatan_only_inside_a_kabkota_of_the_text() -> None:
    assert names("Kota Tangsel punya layanan malam; Pamulang yang pertama.") == [
        TANGSEL.name,
        "Kecamatan Pamulang",
    ]
    # Cisauk belongs to Kabupaten Tangerang, not to Tangsel.
    assert names("Kota Tangsel dan Cisauk") == [TANGSEL.name]


def test_dateline_names_a_place() -> None:
    assert find_regions("CIPUTAT-Warga antre sejak pagi.") == [CIPUTAT]
    assert names("SURABAYA – Hujan deras.") == ["Kota Surabaya"]
    assert names("JAKARTA, KOMPAS.com - Hujan deras.") == ["Provinsi DKI Jakarta"]
    assert names("BEKASI-Hujan deras.") == []  # the kota or the kabupaten
    assert names("BPJS-Kesehatan naik.") == []


def test_alternative_spellings_are_indexed_and_the_first_displayed() -> None:
    expected = Region("Kecamatan Johan Pahwalan", "kecamatan", "Kabupaten Aceh Barat")
    assert find_regions("Kecamatan Johan Pahlawan") == [expected]
    assert find_regions("Kecamatan Johan Pahwalan") == [expected]


def test_ancestors() -> None:
    assert ancestors(CIPUTAT) == [TANGSEL, Region("Provinsi Banten", "provinsi", None)]
    assert ancestors(TANGSEL) == [Region("Provinsi Banten", "provinsi", None)]
    assert ancestors(JAMBI) == []
    assert ancestors(Region("Kecamatan Setu", "kecamatan", None)) == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Tangsel", ["Kota Tangerang Selatan"]),
        ("Tangerang Selatan", ["Kota Tangerang Selatan"]),
        ("kota tangerang selatan", ["Kota Tangerang Selatan"]),
        ("  Kota   TANGSEL ", ["Kota Tangerang Selatan"]),
        ("Jambi", ["Provinsi Jambi", "Kota Jambi"]),
        ("Provinsi Jambi", ["Provinsi Jambi"]),
        ("Kec. Ciputat", ["Kecamatan Ciputat"]),
        ("ciputat", ["Kecamatan Ciputat"]),
        ("Banten", ["Provinsi Banten"]),
        ("Kab. Bogor", ["Kabupaten Bogor"]),
        ("bogor", ["Kota Bogor", "Kabupaten Bogor"]),
        ("DIY", ["Provinsi DI Yogyakarta"]),
        ("jakarta", ["Provinsi DKI Jakarta"]),
        ("johan pahlawan", ["Kecamatan Johan Pahwalan"]),
        ("Setu", ["Kecamatan Setu"]),
        ("Atlantis", []),
        ("Kota", []),
        # the level words are the matcher's trigger words, officials' titles too
        ("Bupati Bogor", ["Kabupaten Bogor"]),
        ("Walikota Bogor", ["Kota Bogor"]),
        ("Gubernur Jambi", ["Provinsi Jambi"]),
        ("bupati", []),
        ("", []),
    ],
)
def test_normalize_region(typed: str, expected: list[str]) -> None:
    assert normalize_region(typed) == expected


def test_all_region_names() -> None:
    all_names = all_region_names()
    assert len(all_names) == len(set(all_names))
    assert all_names[0] == "Provinsi Aceh"
    for name in ("Provinsi DKI Jakarta", "Kota Jakarta Selatan", "Kecamatan Ciputat"):
        assert name in all_names
    assert "Kabupaten Aceh Barat" in all_names
    assert not [n for n in all_names if "Kab." in n or "(" in n]
    assert sum(n.startswith("Provinsi ") for n in all_names) == 38
    assert sum(n.startswith(("Kota ", "Kabupaten ")) for n in all_names) == 514


def test_english_place_names_are_read_the_indonesian_way() -> None:
    from kb.text.regions import indonesian_place_names

    assert indonesian_place_names("in East Lombok regency") == "in Kabupaten Lombok Timur"
    assert indonesian_place_names("Central Java's contest") == "Jawa Tengah contest"
    assert indonesian_place_names("the South Tangerang city office") == (
        "the Kota Tangerang Selatan office"
    )
    text = indonesian_place_names("Who trained officials in West Nusa Tenggara?")
    assert [r.name for r in find_regions(text)] == ["Provinsi Nusa Tenggara Barat"]
