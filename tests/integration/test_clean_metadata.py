"""What the store holds about an article (issue 22): dates as sources write them, outlets in
datelines, regions of English articles, and the regions an article is about rather than
every place it names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.records import article_metadata, given_date
from kb.knowledge_base import KnowledgeBase
from kb.types import Article


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


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


def test_dates_written_as_words_are_stored_and_filtered(
    fake_kb: KnowledgeBase, tmp_path: Path
) -> None:
    rows = [
        {
            "id": f"a{n}",
            "title": f"Layanan malam {n}",
            "text": f"Loket malam {w} dibuka.",
            "date": d,
        }
        for n, (d, w) in enumerate(
            zip(
                ["5 Maret 2024", "05/03/2024", "March 5, 2024", "2023-01-09"],
                ["Setu", "Ciputat", "Pamulang", "Serpong"],
                strict=True,
            )
        )
    ]
    assert fake_kb.ingest([write_jsonl(tmp_path / "a.jsonl", rows)]).ok

    march = fake_kb.retrieve(
        "loket malam", k=10, filters={"date_from": "2024-03-01", "date_to": "2024-03-31"}
    )

    assert sorted(h.doc_id for h in march) == ["a0", "a1", "a2"]
    assert {h.metadata["date"] for h in march} == {"2024-03-05"}


def test_an_outlet_after_a_dated_dateline(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    text = (
        "Sleman, 8 Januari 2024 (Harian Jogja) — Pemerintah Kabupaten Sleman membuka loket "
        "malam di setiap kecamatan untuk mengurus akta kelahiran."
    )
    rows = [{"id": "sleman", "title": "Loket malam Sleman", "text": text}]
    assert fake_kb.ingest([write_jsonl(tmp_path / "b.jsonl", rows)]).ok

    hits = fake_kb.retrieve("loket malam", filters={"outlet": "Harian Jogja"})

    assert [h.doc_id for h in hits] == ["sleman"]


ENGLISH = (
    "SELONG — The East Lombok regency government opened an evening service counter in Sakra "
    "district in February. Residents can renew identity cards after work, from 7 pm to 9 pm, "
    "and the district head said about 40 people came each night."
)


def test_english_articles_get_their_regions(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    meta = article_metadata(Article("en", "Evening counter in East Lombok", ENGLISH, "x"))
    assert {"Kabupaten Lombok Timur", "Kecamatan Sakra", "Provinsi Nusa Tenggara Barat"} <= set(
        meta["regions"]
    )
    rows = [{"id": "lotim-en", "title": "Evening counter in East Lombok", "text": ENGLISH}]
    assert fake_kb.ingest([write_jsonl(tmp_path / "c.jsonl", rows)]).ok

    assert [h.doc_id for h in fake_kb.retrieve("evening counter", filters={"region": "Sakra"})] == [
        "lotim-en"
    ]
    # The region check reads the article's regions: the question is answered, not declined.
    answer = fake_kb.ask("When is the evening service counter in East Lombok open?")
    assert not answer.abstained, answer.text
    assert answer.citations[0].doc_id == "lotim-en"


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


def test_region_filters_leave_out_articles_that_only_mention_a_place(
    fake_kb: KnowledgeBase, tmp_path: Path
) -> None:
    rows = [{"id": "pml", "title": "Layanan Malam di Pamulang", "text": PAMULANG}]
    assert fake_kb.ingest([write_jsonl(tmp_path / "d.jsonl", rows)]).ok

    assert fake_kb.retrieve("layanan malam", filters={"region": "Jakarta"}) == []
    assert [h.doc_id for h in fake_kb.retrieve("layanan malam", filters={"region": "Tangsel"})] == [
        "pml"
    ]


def test_the_ingest_report_lists_dates_it_could_not_read(
    fake_kb: KnowledgeBase, tmp_path: Path
) -> None:
    rows = [
        {"id": "ok", "title": "A", "text": "Loket malam dibuka.", "date": "5 Maret 2024"},
        {"id": "odd", "title": "B", "text": "Loket malam dibuka.", "date": "awal musim hujan"},
    ]

    report = fake_kb.ingest([write_jsonl(tmp_path / "e.jsonl", rows)])

    assert report.ok and sorted(report.added) == ["odd", "ok"]
    (warning,) = report.warnings
    assert warning.line == 2 and "'awal musim hujan' not read" in warning.reason
    assert "1 warning" in report.summary()
