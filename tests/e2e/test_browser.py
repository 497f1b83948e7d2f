"""End-to-end tests of the served app in headless Chromium (issue #5).

The app is served by ``kb serve`` on loopback over the sample articles and one hostile
article (``browser_fixtures``); Debian's Chromium is driven by Playwright. Elements are found
by the app's ``elem_id``s (``#question``, ``#ask-button``, ``#chat``, ``#sources`` ...).
A screenshot of each test's page is saved under ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import long_report
import pytest
from browser_fixtures import (
    ARTIFACTS,
    ROOT,
    XSS_QUESTION,
    Browser,
    ServedApp,
    app_env,
)

pytest_plugins = ["browser_fixtures"]
pytestmark = [pytest.mark.browser, pytest.mark.model]

TIMEOUT_MS = 90_000  # an answer on a busy 2-core machine, first question loads the model
STEP_MS = 30_000  # anything else: a click, a tab, a panel
BOT = "#chat [data-testid='bot']"


class Page:
    """A browser tab on the app, with the dialogs it raised."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def ask(self, question: str) -> str:
        """Type a question, press the ask button, return the text of the new answer."""
        from playwright.sync_api import expect

        answers = self.page.locator(BOT)
        before = answers.count()
        self.page.locator("#question textarea, #question input").first.fill(question)
        self.page.locator("#ask-button").click()
        expect(answers).to_have_count(before + 1, timeout=TIMEOUT_MS)
        latest = answers.nth(before)
        expect(latest).not_to_have_text("", timeout=TIMEOUT_MS)
        # The question must be in the conversation too: the answer belongs to it.
        expect(self.page.locator("#chat [data-testid='user']").last).to_contain_text(question)
        return str(latest.inner_text())

    def tab(self, elem_id: str) -> None:
        """Open a tab by its elem_id (Gradio gives the tab's button ``<elem_id>-button``)."""
        self.page.locator(f"#{elem_id}-button").click()

    def text(self, selector: str) -> str:
        return str(self.page.locator(selector).first.inner_text())


@pytest.fixture
def app_page(
    browser: Browser, served_app: ServedApp, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A fresh tab on the served app; its screenshot is saved when the test ends."""
    from playwright.sync_api import expect

    page = browser.context.new_page()
    page.set_default_timeout(STEP_MS)
    expect.set_options(timeout=STEP_MS)
    tab = Page(page)
    page.goto(served_app.url)
    page.locator("#question").wait_for()
    try:
        yield tab
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        page.close()


def test_question_gets_a_cited_answer_and_a_highlighted_passage(app_page: Page) -> None:
    from playwright.sync_api import expect

    answer = app_page.ask("Siapa Kepala BPSDM Provinsi Jambi?")
    assert "Iskandar Nasuti" in answer
    assert "[1]" in answer
    cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer)})
    sources = app_page.page.locator("#sources .source")
    expect(sources).to_have_count(len(cited))  # a card per citation
    source = sources.first
    expect(source).to_contain_text("Tiga Puluh Camat Jambi")
    # The sentence naming the head is highlighted in the passage it was quoted from.
    mark = app_page.page.locator("#sources .source mark", has_text="Iskandar Nasuti").first
    expect(mark).to_be_visible()
    # The full article opens on demand: its first sentence is hidden until asked for.
    article = source.locator("details").first
    opening = article.get_by_text(re.compile("Rombongan 30 camat asal Provinsi Jambi"))
    expect(opening).to_be_hidden()
    article.locator("summary").click()
    expect(opening).to_be_visible()


def test_follow_up_question_uses_the_conversation(app_page: Page) -> None:
    first = app_page.ask("Apa nama layanan malam Kecamatan Tanah Sareal?")
    assert "[1]" in first
    follow_up = app_page.ask("Siapa camatnya?")
    assert "Yudi Permana" in follow_up


UPLOADED = (
    "Kelurahan Lembayung Antar Akta ke Rumah Warga Lansia\n"
    "CIPUTAT – Kelurahan Lembayung di Kecamatan Ciputat mengantar akta kelahiran dan kartu "
    "keluarga langsung ke rumah warga lanjut usia sejak Maret. Lurah Lembayung, Wiryo "
    "Pranoto, mengatakan 120 dokumen sudah diantar oleh petugas bersepeda. Layanan antar "
    "dokumen itu gratis dan dapat dipesan lewat ketua RT.\n"
)


def test_uploaded_report_can_be_asked_about_at_once(app_page: Page, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    question = "Berapa dokumen yang sudah diantar petugas bersepeda di Kelurahan Lembayung?"
    report = tmp_path / "laporan lembayung.txt"
    report.write_text(UPLOADED, encoding="utf-8")
    app_page.tab("tab-library")
    app_page.page.locator("#upload-files input[type=file]").set_input_files(str(report))
    app_page.page.locator("#upload-button").click()
    expect(app_page.page.locator("#upload-report")).to_contain_text(
        re.compile(r"1\D{0,8}(ditambahkan|added)"), timeout=TIMEOUT_MS
    )
    expect(app_page.page.locator("#library-table")).to_contain_text("Kelurahan Lembayung")
    app_page.tab("tab-chat")
    answer = app_page.ask(question)
    # Only the uploaded report names Lembayung: before the upload this question abstains.
    assert "Lembayung" in answer and "[1]" in answer
    expect(app_page.page.locator("#sources .source").first).to_contain_text("Kelurahan Lembayung")


def test_article_markup_is_shown_as_text_and_never_runs(app_page: Page) -> None:
    from playwright.sync_api import expect

    page = app_page.page
    app_page.ask(XSS_QUESTION)
    sources = page.locator("#sources")
    expect(sources).to_contain_text("Kelurahan Zamrud")
    # The markup is visible as text, so it was escaped rather than dropped or run.
    expect(sources).to_contain_text("<script>")
    app_page.tab("tab-library")
    table = page.locator("#library-table")
    expect(table).to_contain_text("Kelurahan Zamrud")
    expect(table).to_contain_text("<script>window.__xss")
    app_page.tab("tab-chat")
    assert app_page.dialogs == []
    assert page.evaluate("() => window.__xss") is None
    # The body only: the page's head holds Gradio's config, where the text is JSON data.
    injected = page.evaluate(
        """() => [...document.body.querySelectorAll('script')]
                 .filter(s => s.textContent.includes('__xss')).length
             + document.querySelectorAll('img[src="x"], [onerror*="__xss"]').length"""
    )
    assert injected == 0


def feedback_rows(served: ServedApp) -> list[dict[str, Any]]:
    """The feedback stored for the served app, as ``kb feedback export`` gives it."""
    done = subprocess.run(
        [sys.executable, "-m", "kb", "feedback", "export", "--store", str(served.store)],
        cwd=ROOT,
        env=app_env(served.store, 0),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def test_feedback_is_stored_with_the_question(app_page: Page, served_app: ServedApp) -> None:
    from playwright.sync_api import expect

    page = app_page.page
    question = "Berapa jenis layanan yang tersedia di MPP Balikpapan?"
    comment = "Jawaban uji umpan balik 7391"
    answer = app_page.ask(question)
    page.locator("#feedback-comment textarea, #feedback-comment input").first.fill(comment)
    page.locator("#feedback-up").click()
    # The confirmation is shown once the handler has written the row.
    expect(page.locator("#feedback-status")).to_contain_text(re.compile("disimpan|saved"))
    rows = [r for r in feedback_rows(served_app) if r.get("comment") == comment]
    assert len(rows) == 1, "one row for one rated answer"
    row = rows[0]
    assert row["question"] == question and row["rating"] == 1
    # the stored text is Markdown (the span in **bold**); the page shows it rendered
    assert row["citations"] and row["answer"].split("[")[0].replace("**", "").strip() in answer


def test_language_toggle_switches_the_labels(app_page: Page) -> None:
    from playwright.sync_api import expect

    page = app_page.page
    button = page.locator("#ask-button")
    indonesian = button.inner_text().strip()
    toggle = page.locator("#lang")
    english = toggle.get_by_text(re.compile(r"^\s*(English|EN)\s*$", re.IGNORECASE)).first
    english.click()
    expect(button).not_to_have_text(indonesian)
    assert re.search(r"\b(Ask|Send|Submit)\b", button.inner_text(), re.IGNORECASE)
    expect(page.locator("#tab-library-button")).to_contain_text(re.compile("Library|Document"))


def test_a_pdf_citation_shows_its_page_and_opens_the_article_there(
    app_page: Page, tmp_path: Path
) -> None:
    """A report uploaded as PDF: the source card names the page and section, and its
    full-article view opens scrolled to the quote, several pages into the report."""
    from playwright.sync_api import expect

    report = tmp_path / "laporan kinerja.pdf"
    report.write_bytes(long_report.build(outline=False, scanned=False, per_chapter=1))
    app_page.tab("tab-library")
    app_page.page.locator("#upload-files input[type=file]").set_input_files(str(report))
    app_page.page.locator("#upload-button").click()
    expect(app_page.page.locator("#upload-report")).to_contain_text(
        re.compile(r"1\D{0,8}(ditambahkan|added)"), timeout=TIMEOUT_MS
    )
    app_page.tab("tab-chat")
    answer = app_page.ask("Siapa Camat Coblong?")
    assert long_report.COBLONG_CAMAT in answer
    source = app_page.page.locator("#sources .source", has_text="Laporan Kinerja").first
    expect(source.locator(".source-meta")).to_contain_text(re.compile(r"hal\. \d+"))
    expect(source.locator(".source-meta")).to_contain_text("Mal Pelayanan Publik")
    source.locator("details summary").click()
    view = source.locator(".source-article")
    mark = view.locator("mark").first
    expect(mark).to_contain_text(long_report.COBLONG_CAMAT)
    # Opened at the quote: scrolled down, the marked sentence inside the visible view.
    assert view.evaluate("v => v.scrollTop") > 0
    inside = view.evaluate(
        "v => { const m = v.querySelector('mark').getBoundingClientRect();"
        " const b = v.getBoundingClientRect(); return m.top >= b.top && m.bottom <= b.bottom; }"
    )
    assert inside


def test_page_requests_stay_on_localhost(app_page: Page, browser: Browser) -> None:
    """Runs last: the requests of every page of this session, plus one more chat and tab."""
    from playwright.sync_api import expect

    app_page.ask("Kecamatan mana yang buka layanan Jumat malam?")
    app_page.tab("tab-library")
    # Gradio keeps its event stream open, so "network idle" never comes: wait for the table.
    expect(app_page.page.locator("#library-table")).to_contain_text("Tiga Puluh Camat")
    assert browser.requests, "no request was recorded: the check would prove nothing"
    remote = sorted(
        {
            url
            for url in browser.requests
            if urlsplit(url).scheme not in {"data", "blob", "about"}
            and urlsplit(url).hostname not in {"127.0.0.1", "localhost"}
        }
    )
    assert remote == [], f"requests left localhost: {remote[:10]}"
