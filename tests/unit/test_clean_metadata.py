"""What the store holds about an article (issue 22): dates as sources write them, outlets in
datelines, regions of English articles, and the regions an article is about rather than
every place it names."""

from __future__ import annotations

import pytest

from ingest.records import article_metadata, given_date
from kb.types import Article


@pytest.mark.parametrize(
    ("written", "iso"),
    [
        ("2024-03-05", "2024-03-05"),
        ("2024-03-05T10:00:00+07:00", "2024-03-05"),
        ("5 Maret 2024", "2024-03-05"),
        ("Selasa, 5 Maret 2024 pukul 10.00 WIB", "2024-03-05"),
        ("05/03/2024", "2024-03-05"),  # day first, as Indonesians write it
        ("5-3-2024", "2024-03-05"),
        ("March 5, 2024", "2024-03-05"),
        ("5 Mar 2024", "2024-03-05"),
        ("kemarin", None),  # relative: not an article's date
        ("Maret 2024", None),  # no day
        ("31/02/2024", None),
        ("tanggal belum diketahui", None),
    ],
)
def test_source_dates_in_common_forms(written: str, iso: str | None) -> None:
    parsed = given_date(written)

    assert (parsed.isoformat() if parsed else None) == iso


PAMULANG = (
    "PAMULANG — Kecamatan Pamulang membuka layanan administrasi kependudukan pada malam hari "
    "mulai pekan ini. Camat Pamulang mengatakan loket buka setiap Selasa dan Kamis. "
    + "Petugas mencatat permohonan warga dan menyerahkan dokumen keesokan harinya. "
    * 4
    + "Layanan itu memudahkan warga yang bekerja di Jakarta dan baru pulang pada malam hari. "
    "Di Kelurahan Benda Baru, ketua RT ikut membagikan jadwal layanan."
)


def test_a_place_named_in_passing_is_a_mention_not_a_region() -> None:
    meta = article_metadata(Article("pml", "Layanan Malam di Pamulang", PAMULANG, "x"))

    assert "Kecamatan Pamulang" in meta["regions"]
    assert "Kota Tangerang Selatan" in meta["regions"]  # an ancestor
    assert "Provinsi DKI Jakarta" not in meta["regions"]
    assert meta["mentioned_regions"] == ["Provinsi DKI Jakarta"]


def test_a_kecamatan_inside_the_city_an_article_is_about_stays_a_region() -> None:
    text = (
        "TANGSEL — Pemerintah Kota Tangerang Selatan menilai layanan kecamatan setiap tahun. "
        + "Penilaian melihat waktu tunggu dan keluhan warga. " * 10
        + "Kecamatan Ciputat bahkan sudah membuka pelayanan pada Jumat malam."
    )

    meta = article_metadata(Article("tsl", "Penilaian layanan kecamatan", text, "x"))

    assert "Kecamatan Ciputat" in meta["regions"] and meta["mentioned_regions"] == []
