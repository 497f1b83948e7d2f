"""The metadata read from articles, stored and filtered on: dates written as words, outlets after
datelines, regions of English articles, region filters, the ingest report's unread dates."""

from __future__ import annotations

import json
from pathlib import Path

from ingest.records import article_metadata
from kb.knowledge_base import KnowledgeBase
from kb.types import Article


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


ENGLISH = (
    "SELONG — The East Lombok regency government opened an evening service counter in Sakra "
    "district in February. Residents can renew identity cards after work, from 7 pm to 9 pm, "
    "and the district head said about 40 people came each night."
)


PAMULANG = (
    "PAMULANG — Kecamatan Pamulang membuka layanan administrasi kependudukan pada malam hari "
    "mulai pekan ini. Camat Pamulang mengatakan loket buka setiap Selasa dan Kamis. "
    + "Petugas mencatat permohonan warga dan menyerahkan dokumen keesokan harinya. "
    * 4
    + "Layanan itu memudahkan warga yang bekerja di Jakarta dan baru pulang pada malam hari. "
    "Di Kelurahan Benda Baru, ketua RT ikut membagikan jadwal layanan."
)


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
