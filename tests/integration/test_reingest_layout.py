"""An article stored before pages and sections were kept gets them at its next ingest."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import docx
import pytest

import ingest.pipeline
from kb.knowledge_base import KnowledgeBase
from kb.types import Article


def test_an_article_stored_without_pages_gets_them_at_the_next_ingest(
    fake_kb: KnowledgeBase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    document = docx.Document()
    document.add_heading("Laporan Kinerja", level=0)
    document.add_heading("2.1 Layanan Malam", level=2)
    document.add_paragraph("Loket malam dibuka setiap Selasa dan Kamis pukul 18.30.")
    document.save(str(folder / "kinerja.docx"))
    real_load = ingest.pipeline.load

    def as_before(path: Path, limits: object) -> Iterator[object]:
        for item in real_load(path, limits):  # type: ignore[arg-type]
            yield replace(item, pages=(), sections=()) if isinstance(item, Article) else item

    monkeypatch.setattr(ingest.pipeline, "load", as_before)
    assert fake_kb.ingest([folder]).added
    assert fake_kb.retrieve("loket malam")[0].section == ""
    monkeypatch.setattr(ingest.pipeline, "load", real_load)

    again = fake_kb.ingest([folder])

    assert again.updated and not again.unchanged
    assert fake_kb.retrieve("loket malam")[0].section == "2.1 Layanan Malam"
    assert fake_kb.ingest([folder]).unchanged  # and then it is unchanged
