"""The chat page's handler, built without serving."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from kb import KnowledgeBase
from kb.answer import Answer, Citation
from kb.ui import build_app, format_answer


def test_app_builds_with_a_named_ask_endpoint(fake_kb: KnowledgeBase) -> None:
    app = build_app(fake_kb)
    assert isinstance(app, gr.Blocks)
    names = {d.get("api_name") for d in app.config["dependencies"]}
    assert "ask" in names


def test_article_text_is_escaped() -> None:
    answer = Answer(
        question="q",
        text="Kecamatan <b>buka</b> malam. [1]",
        citations=(
            Citation(1, "d", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", 0, 5),
        ),
    )
    shown = format_answer(answer)
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown and "&lt;img src=x onerror=alert(1)&gt;" in shown


def test_library_lists_searches_and_uploads(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    from kb import library

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "Laporan Malam.txt"
    good.write_text("Layanan Malam Kelurahan\nKelurahan melayani warga malam hari.\n", "utf-8")
    fake_pdf = incoming / "palsu.pdf"
    fake_pdf.write_text("bukan pdf", encoding="utf-8")
    binary = incoming / "biner.txt"
    binary.write_bytes(bytes(range(256)))
    report = library.upload(fake_kb, [good, fake_pdf, binary])
    assert len(report.added) == 1
    assert {Path(f.source).name for f in report.failed} == {"palsu.pdf", "biner.txt"}
    saved = Path(fake_kb.settings.store) / "uploads" / "Laporan_Malam.txt"
    assert saved.exists()
    assert [r[0] for r in library.rows(fake_kb, "malam")] == ["Layanan Malam Kelurahan"]
    assert library.rows(fake_kb, "tidak ada") == []
    assert "**1** ditambahkan" in library.format_report(report)


def test_upload_names_cannot_leave_the_uploads_folder(tmp_path: Path) -> None:
    from kb import library

    assert library.clean_name("../../etc/passwd.txt") == "passwd.txt"
    assert library.clean_name("C:\\Windows\\evil.md") == "evil.md"
    assert library.clean_name("..") == "berkas"
    assert "/" not in library.clean_name("a/b/../c.TXT") and library.clean_name("x.TXT") == "x.txt"
    source = tmp_path / "..hidden.txt"
    source.write_text("Judul\nIsi laporan.\n", encoding="utf-8")
    saved, failed = library.save_uploads([source], tmp_path / "up")
    assert not failed and saved[0].parent == (tmp_path / "up").resolve()
    link = tmp_path / "link.txt"
    link.symlink_to(source)
    saved, failed = library.save_uploads([link], tmp_path / "up")
    assert not saved and failed[0].reason == "not a regular file"


def test_filter_facets_and_indicator(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    import json

    from kb.ui import describe_filters, facets

    rows = tmp_path / "r.jsonl"
    row = {"id": "a", "title": "Layanan Sabtu", "text": "MPP Kota Depok buka hari Sabtu.",
           "outlet": "Warta Contoh", "region": "Kota Depok"}  # fmt: skip
    rows.write_text(json.dumps(row), encoding="utf-8")
    fake_kb.ingest([rows])
    regions, outlets = facets(fake_kb)
    assert "Kota Depok" in regions and "Provinsi Jawa Barat" in regions
    assert outlets == ["Warta Contoh"]
    assert describe_filters(None, "", " ", None) == ""
    shown = describe_filters("Kota Depok", None, "2024-01-01", "")
    assert (
        "Filter aktif" in shown
        and "region: Kota Depok" in shown
        and "date_from: 2024-01-01" in shown
    )
