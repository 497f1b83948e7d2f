"""Markdown sections through the product: the hits of an ingested Markdown report carry its heading
path."""

from __future__ import annotations

from pathlib import Path

from conftest import fake_settings, make_kb
from files import REPORT, REPORT_SECTIONS, REPORT_TEXT, write

from kb.embedders.models import HashingEmbeddings


def test_ingested_markdown_hits_carry_the_heading_path(tmp_path: Path) -> None:
    folder = tmp_path / "laporan"
    write(folder / "kinerja.md", REPORT)
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())

    report = kb.ingest([folder])

    assert report.ok and report.added, report.failed
    (hit,) = kb.retrieve("loket malam Selasa Kamis pukul 18.30", k=1)
    assert hit.section == "BAB II Inovasi Pelayanan > 2.1 Loket Malam"
    assert hit.text == (
        "2.1 Loket Malam\n\nLoket malam dibuka setiap Selasa dan Kamis pukul 18.30 sampai 21.00."
    )
    stored = kb.article(hit.doc_id).text
    assert stored == REPORT_TEXT and stored[hit.start : hit.end] == hit.text
    assert hit.start == REPORT_SECTIONS[3][0]  # the chunk starts at its heading
    (queue,) = kb.retrieve("nomor antrean pesan singkat pengeras suara", k=1)
    assert queue.section == "BAB II Inovasi Pelayanan > 2.2 Antrean Daring"
    assert kb.ingest([folder]).unchanged  # the sections are stable from one ingest to the next
