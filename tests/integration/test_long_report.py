"""A 60-page report (``long_report``) ingested with the product's embedder and reader: whole
sentences from its wrapped lines, the page and the section of every passage and citation, in
the answer, the CLI, the ``/ask`` record, the Markdown copy and the sources panel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import long_report
import pytest
from click.testing import CliRunner
from conftest import fake_settings, make_kb

from ingest.loaders.ocr import ocr_spec
from kb import KnowledgeBase
from kb.cli import cli
from kb.types import Hit
from kb.ui.render import format_answer, sources_html

pytestmark = pytest.mark.model

SCANNED = not isinstance(ocr_spec("auto"), str)  # Tesseract with ind+eng: the scans are read


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("long-report") / "store"


@pytest.fixture(scope="module")
def kb(store: Path) -> Iterator[KnowledgeBase]:
    folder = store.parent / "laporan"
    folder.mkdir()
    # No outline: the sections come from the numbered headings the text shows.
    pdf = long_report.build(outline=False, scanned=SCANNED)
    assert long_report.page_count(pdf) >= 60
    (folder / "laporan-kinerja-2024.pdf").write_bytes(pdf)
    base = make_kb(settings=fake_settings(store, embedding_model="e5-small", reader="e5-reader"))
    report = base.ingest([folder])
    assert report.ok, report.failed
    yield base
    base.close()


def page_of(kb: KnowledgeBase, doc_id: str, offset: int) -> int:
    """The page an offset of the article is on, from the article's own page map."""
    return max(n for start, n in kb.article(doc_id).pages if start <= offset)


def test_passages_carry_pages_and_sections_and_offsets_hold(kb: KnowledgeBase) -> None:
    hits = kb.retrieve("antrean daring jumlah petugas", k=10, per_article=None)

    assert hits
    for hit in hits:
        article = kb.article(hit.doc_id)
        assert article.text[hit.start : hit.end] == hit.text
        assert hit.page == page_of(kb, hit.doc_id, hit.start)
        assert hit.page_end in (None, page_of(kb, hit.doc_id, hit.end - 1))
    assert any(h.section.startswith("BAB II INOVASI ADMINISTRASI KEPENDUDUKAN > 2.") for h in hits)


def test_the_mpp_sentence_is_quoted_whole_with_its_page_and_section(kb: KnowledgeBase) -> None:
    answer = kb.ask("Berapa jenis layanan di MPP Coblong?")

    assert not answer.abstained, answer.text
    (cited,) = [c for c in answer.citations if "24 jenis layanan" in c.quote]
    assert long_report.COBLONG_SERVICES in cited.quote  # the sentence ends where it ends
    assert cited.page == page_of(kb, cited.doc_id, cited.start)
    assert cited.section.endswith("4.7 Mal Pelayanan Publik Kecamatan Coblong")


def test_a_name_on_the_next_line_is_found(kb: KnowledgeBase) -> None:
    answer = kb.ask("Siapa Camat Coblong?")

    assert not answer.abstained, answer.text
    assert long_report.COBLONG_CAMAT in answer.text
    assert all(c.page is not None for c in answer.citations)


@pytest.mark.parametrize(
    "question", [q for q in long_report.QUESTIONS if q.middle and "petugas" in q.text][:4]
)
def test_a_passage_deep_in_a_chapter_is_found_by_its_subject(
    kb: KnowledgeBase, question: long_report.Question
) -> None:
    """The passage that holds the fact names neither the innovation nor the place: the
    section path embedded with it does."""
    hits = kb.retrieve(question.text, k=5, per_article=None)

    holding = [h for h in hits if question.answer in h.text]
    assert holding, [h.section for h in hits]
    assert question.innovation.program not in holding[0].text
    assert holding[0].section.endswith(question.innovation.heading)


@pytest.mark.skipif(not SCANNED, reason="Tesseract with ind+eng is not installed")
def test_a_scanned_page_is_cited_with_its_page(kb: KnowledgeBase) -> None:
    hits = kb.retrieve(
        "Berapa pengaduan yang diterima pojok pengaduan sepanjang 2024?", k=5, per_article=None
    )

    scanned = [h for h in hits if long_report.APPENDIX_FACT in h.text]
    assert scanned
    last = max(n for _, n in kb.article(scanned[0].doc_id).pages)
    assert scanned[0].page in (last - 1, last)


def test_pages_are_shown_in_every_view(kb: KnowledgeBase, store: Path) -> None:
    answer = kb.ask("Berapa jenis layanan di MPP Coblong?")
    cited = next(c for c in answer.citations if "24 jenis layanan" in c.quote)
    label = f"hal. {cited.page}"

    record = answer.to_record()
    (as_record,) = [c for c in record["citations"] if c["n"] == cited.n]
    assert (as_record["page"], as_record["section"]) == (cited.page, cited.section)
    assert label in format_answer(answer)
    assert f"p. {cited.page}" in format_answer(answer, "en")
    panel = sources_html(answer, kb.article, "id")
    assert label in panel
    # The full article opens at the cited page: a long report shows the pages around it,
    # the cited one marked for the view to scroll to.
    assert f'<div class="page-mark cited">{label}</div>' in panel
    assert "Halaman " in panel and " dari " in panel

    env = {"KB_STORE": str(store), "KB_EMBEDDING_MODEL": "e5-small", "KB_READER": "e5-reader"}
    env["KB_LOAD_SAMPLES"] = "false"
    shown = CliRunner().invoke(cli, ["ask", "Berapa jenis layanan di MPP Coblong?"], env=env)
    assert shown.exit_code == 0, shown.output
    assert label in shown.output
    listed = CliRunner().invoke(cli, ["search", "Mal Pelayanan Publik Coblong"], env=env)
    assert "hal. " in listed.output


def test_hits_without_pages_show_none() -> None:
    """A passage stored before pages were read (or of a text file) has no page."""
    hit = Hit("a", "a#0", "Judul", "teks", 1.0, 0, 4)

    assert (hit.page, hit.page_end, hit.section) == (None, None, "")
    assert hit.pages_of(0, 4) == (None, None)
