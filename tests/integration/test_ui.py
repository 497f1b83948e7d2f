"""The app's handlers and page, built without a browser, on the sample articles.

The knowledge bases use the hashing embedder (fast, deterministic); what the answers say is
tested elsewhere, here what the app shows of them: links, highlights, escaping, streaming,
uploads with progress, labels in two languages, serving with a login.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from conftest import fake_settings, make_kb, samples_kb
from openai_stub import OpenAIStub

from kb import KnowledgeBase
from kb.embedders.models import HashingEmbeddings
from kb.errors import ConfigError
from kb.settings import Settings
from kb.types import Answer, Citation
from kb.ui import Handlers, build_app, format_answer
from kb.ui.labels import LABELS
from kb.ui.render import chat_message, plain, plain_history, sources_html
from kb.ui.serving import launch_options, listen_address, parse_auth

JAMBI_Q = "Siapa Kepala BPSDM Provinsi Jambi?"
ELEM_IDS = {
    "question", "ask-button", "chat", "sources", "answer-markdown-export", "feedback-up",
    "feedback-down", "feedback-comment", "filter-region", "filter-outlet", "filter-date-from",
    "filter-date-to", "filter-indicator", "lang", "tab-chat", "tab-library", "library-search",
    "library-table", "upload-files", "upload-button", "upload-report", "delete-doc",
    "delete-button",
}  # fmt: skip
HOSTILE = {
    "id": "uji-xss",
    "title": "Uji <script>window.__xss = 1</script> Kelurahan Zamrud",
    "text": 'Kelurahan Zamrud membuka loket <img src=x onerror="alert(2)"> pengaduan warga '
    "setiap Rabu pagi. Lurah Zamrud, Ratna Kemuning, melayani 40 warga sehari.",
    "outlet": "Uji <b>Tebal</b>",
}


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The samples and one article with markup in it (read-only for the tests)."""
    base = samples_kb(tmp_path_factory.mktemp("ui") / "store")
    hostile = tmp_path_factory.mktemp("hostile") / "uji.jsonl"
    hostile.write_text(json.dumps(HOSTILE) + "\n", encoding="utf-8")
    assert base.ingest([hostile]).ok
    return base


def final(steps: Iterator[Any]) -> tuple[Any, ...]:
    *_, last = list(steps)
    return tuple(last)


def test_app_builds_with_named_endpoints_and_the_stable_element_ids(kb: KnowledgeBase) -> None:
    app = build_app(kb)
    assert isinstance(app, gr.Blocks)
    public = {
        d.get("api_name") for d in app.config["dependencies"] if d.get("api_visibility") == "public"
    }
    assert {"ask", "library", "upload", "delete"} <= public
    ids = {c.get("props", {}).get("elem_id") for c in app.config["components"]}
    assert ids >= ELEM_IDS, sorted(ELEM_IDS - ids)


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
    assert "<b>" not in chat_message(answer)
    # Quotes, "#" and "&" survive the round trip through the chat (no broken entity).
    tricky = Answer(question="q", text="Loket 'Rabu' #1 & <i>x</i> *dua* buka. [1]")
    shown = chat_message(tricky)
    assert "'Rabu'" in shown and "\\#1" in shown and "&lt;i&gt;" in shown and "\\*dua\\*" in shown
    assert shown.endswith("[[1]](#source-1)") and plain(shown) == tricky.text


def test_the_readers_span_is_bold_and_nothing_else_is() -> None:
    answer = Answer(
        question="q",
        text="Camat *Sukamaju*, **Rina <i>W</i>**, berkata. [1]",
        short="Rina <i>W</i>",
        short_citations=(1,),
    )
    shown = chat_message(answer)
    assert shown.startswith("Camat \\*Sukamaju\\*, **Rina &lt;i&gt;W&lt;/i&gt;**, berkata.")
    assert shown.endswith("[[1]](#source-1)") and plain(shown) == answer.text
    # without a span the same marks stay inert
    assert "\\*\\*Rina" in chat_message(Answer(question="q", text=answer.text))


def test_answer_links_its_citations_and_highlights_the_cited_sentence(kb: KnowledgeBase) -> None:
    shown, answer, panel, markdown, cleared, records, given = final(Handlers(kb).ask(JAMBI_Q, []))
    assert [m["role"] for m in shown] == ["user", "assistant"] and cleared == ""
    assert not answer["abstained"] and answer["citations"]
    # The /ask endpoint's answer is the answer's record (what `kb ask --json` prints).
    assert answer == given.to_record() and answer["hits"]
    reply = shown[-1]["content"]
    for c in answer["citations"]:
        n = c["n"]
        assert f"[[{n}]](#source-{n})" in reply
        assert f'<div class="source" id="source-{n}">' in panel
    first = answer["citations"][0]
    # The first card's first <mark> holds the first citation's quote, inside its passage.
    card = panel.split('id="source-1">', 1)[1]
    marked = re.search(r"<mark>(.*?)</mark>", card, re.S)
    assert marked is not None and marked.group(1) == first["quote"]
    assert card.index("<mark>") < card.index("<details>")
    full = kb.article(first["doc_id"]).text
    assert "<summary>Baca artikel lengkap</summary>" in card
    assert full.splitlines()[-1].strip()[:40] in card.split("<details>", 1)[1]
    assert "**Sumber:**" in markdown and f"[1] **{first['title']}**" in markdown
    assert records[-1]["question"] == JAMBI_Q and records[-1]["index"] == 1
    # What goes back to the chain is the plain answer, as the chain wrote it.
    assert plain_history(shown)[-1]["content"] == answer["text"]


def test_follow_up_uses_the_conversation(kb: KnowledgeBase) -> None:
    h = Handlers(kb)
    shown, *_ = final(h.ask(JAMBI_Q, []))
    shown, answer, *_ = final(h.ask("Siapa kepala badannya?", shown))
    assert len(shown) == 4
    assert "Iskandar Nasuti" in answer["text"]


def test_abstention_is_a_notice_and_still_lists_the_closest_passages(tmp_path: Path) -> None:
    never = {"abstain_dense": 2.0, "abstain_lexical": 2.0, "abstain_dense_crosslingual": 2.0}
    kb = samples_kb(tmp_path / "store", **never)
    shown, answer, panel, markdown, *_ = final(Handlers(kb).ask(JAMBI_Q, [], lang="en"))
    assert answer["abstained"] and answer["citations"] == []
    assert shown[-1]["content"].startswith("⚠️ *")
    assert 'class="sources-panel abstained"' in panel and 'class="notice"' in panel
    assert "No answer in the reports" in panel and "The closest passages" in panel
    assert panel.count('class="source"') == 3 and "<mark>" not in panel
    assert "**The closest passages:**" in markdown
    assert plain(shown[-1]["content"]) == answer["text"]


def test_markup_in_articles_is_shown_as_text(kb: KnowledgeBase) -> None:
    h = Handlers(kb)
    shown, answer, panel, markdown, *_ = final(
        h.ask("Kapan Kelurahan Zamrud membuka loket pengaduan?", [])
    )
    assert "uji-xss" in {c["doc_id"] for c in answer["citations"]}
    for text in (panel, markdown, shown[-1]["content"]):
        assert "<script" not in text and "<img" not in text and "<b>" not in text
    assert "&lt;script&gt;window.__xss = 1&lt;/script&gt;" in panel
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in panel
    assert "Uji &lt;b&gt;Tebal&lt;/b&gt;" in panel


def test_filters_reach_the_answer_and_bad_ones_are_one_line(kb: KnowledgeBase) -> None:
    h = Handlers(kb)
    *_, records, _ = final(h.ask(JAMBI_Q, [], region="Jambi"))
    assert records[-1]["filters"] == {"region": "Jambi"}
    shown, answer, panel, *_ = final(h.ask(JAMBI_Q, [], date_from="kemarin"))
    reply = shown[-1]["content"]
    assert reply.startswith("⚠️") and "YYYY-MM-DD" in reply and answer == {}
    assert "Sumber jawaban akan tampil di sini." in panel


def test_unexpected_errors_show_one_line_and_go_to_the_log(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("chroma went away")

    h = Handlers(kb)
    monkeypatch.setattr(kb, "chain", broken)
    shown, *_ = final(h.ask(JAMBI_Q, [], lang="en"))
    assert shown[-1]["content"] == "⚠️ " + LABELS["en"]["error"]
    assert "chroma went away" in caplog.text


def test_llm_answers_stream_and_are_replaced_by_the_checked_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    kb = samples_kb(
        tmp_path / "store",
        llm="openai:stub",
        abstain_dense=0.0,
        abstain_lexical=0.0,
        abstain_dense_crosslingual=0.0,
    )
    hits = kb.retrieve(JAMBI_Q, k=5, per_article=None)
    sentence = next(s for s in re.split(r"(?<=\.)\s+", hits[0].text) if len(s) > 40)
    stub = OpenAIStub(piece_chars=7).start()
    try:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "test")
        stub.script(f"{sentence} [1] Kalimat karangan tanpa dasar 99 kali. [1]")
        steps = list(Handlers(kb).ask(JAMBI_Q, []))
    finally:
        stub.stop()
    assert stub.requests[0].get("stream") is True
    partial = [s[0][-1]["content"] for s in steps[:-1]]
    assert len(partial) >= 5, "the reply is shown while it is written"
    assert all(p.endswith(" ▌") for p in partial)
    texts = [p.removesuffix(" ▌") for p in partial]
    assert all(b.startswith(a) and b != a for a, b in itertools.pairwise(texts))
    assert all(s[1] == {} for s in steps[:-1])
    shown, answer, panel, *_ = steps[-1]
    assert answer["text"] == f"{sentence} [1]" and answer["mode"] == "llm:stub"
    assert answer["unsupported"] == ["Kalimat karangan tanpa dasar 99 kali."]
    assert shown[-1]["content"].endswith("[[1]](#source-1)") and len(shown) == 2
    assert "<mark>" in panel


def test_upload_reports_progress_and_is_searchable_at_once(tmp_path: Path) -> None:
    kb = samples_kb(tmp_path / "store")
    h = Handlers(kb)
    incoming = tmp_path / "in"
    incoming.mkdir()
    good = incoming / "lembayung.txt"
    good.write_text(
        "Kelurahan Lembayung Antar Akta ke Rumah\nLurah Lembayung, Wiryo Pranoto, mengantar "
        "akta kelahiran ke rumah warga lansia dengan sepeda.\n",
        encoding="utf-8",
    )
    bad = incoming / "<b>palsu<i>.pdf"
    bad.write_text("bukan pdf", encoding="utf-8")
    seen: list[tuple[float, str]] = []
    shown = h.upload([str(good), str(bad)], "en", progress=lambda f, d: seen.append((f, d)))
    assert shown.startswith("**1** added, **0** updated, **0** unchanged, **1** failed.")
    assert "<b>" not in shown
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(d.startswith("Checking and saving") for _, d in seen)
    assert any(d.startswith("Ingesting the reports") for _, d in seen)
    table = h.library_rows("lembayung", "en")
    assert list(table.columns) == ["Title", "Date", "Regions", "Chunks", "Ingested at", "doc_id"]
    assert list(table["Title"]) == ["Kelurahan Lembayung Antar Akta ke Rumah"]
    _, answer, *_ = final(h.ask("Siapa Lurah Lembayung?", []))
    assert "Wiryo Pranoto" in answer["text"]
    assert h.upload(None, "id") == "Pilih berkas terlebih dahulu."


def test_delete_removes_the_article_from_the_library(tmp_path: Path) -> None:
    kb = samples_kb(tmp_path / "store")
    h = Handlers(kb)
    doc_id = kb.articles()[0].doc_id
    assert h.delete(doc_id) == f"Dihapus: {doc_id}"
    assert doc_id not in set(h.library_rows("")["doc_id"])
    assert h.delete(doc_id).startswith("⚠️ no article")
    assert h.delete("  ", "en") == "Type or pick a doc_id first."


def test_library_lists_searches_and_uploads(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
    from kb.ui import uploads

    incoming = tmp_path / "incoming"
    incoming.mkdir()
    good = incoming / "Laporan Malam.txt"
    good.write_text("Layanan Malam Kelurahan\nKelurahan melayani warga malam hari.\n", "utf-8")
    fake_pdf = incoming / "palsu.pdf"
    fake_pdf.write_text("bukan pdf", encoding="utf-8")
    binary = incoming / "biner.txt"
    binary.write_bytes(bytes(range(256)))
    report = uploads.upload(fake_kb, [good, fake_pdf, binary])
    assert len(report.added) == 1
    assert {Path(f.source).name for f in report.failed} == {"palsu.pdf", "biner.txt"}
    saved = Path(fake_kb.settings.store) / "uploads" / "Laporan_Malam.txt"
    assert saved.exists()
    assert [r[0] for r in uploads.rows(fake_kb, "malam")] == ["Layanan Malam Kelurahan"]
    assert uploads.rows(fake_kb, "tidak ada") == []
    assert "**1** ditambahkan" in uploads.format_report(report)


def test_the_upload_limit_follows_the_setting(tmp_path: Path) -> None:
    from kb.ui import uploads

    kb = make_kb(
        settings=fake_settings(tmp_path / "s", max_file_mb=0.001), embedder=HashingEmbeddings()
    )
    assert launch_options(kb.settings)["max_file_size"] == 1048
    small, big = tmp_path / "kecil.txt", tmp_path / "besar.txt"
    small.write_text("Layanan Malam\nKelurahan buka malam.\n", encoding="utf-8")
    big.write_text("Layanan Panjang\n" + "Kelurahan buka malam. " * 100, encoding="utf-8")
    report = uploads.upload(kb, [small, big])
    assert len(report.added) == 1
    assert [(f.source, f.reason) for f in report.failed] == [
        ("besar.txt", "file too large (2,216 bytes; limit 1,048 bytes, KB_MAX_FILE_MB)")
    ]
    labels = {c["props"].get("elem_id"): c["props"] for c in build_app(kb).config["components"]}
    assert "maks. 0.001 MB per berkas" in labels["upload-files"]["label"]


def test_upload_names_cannot_leave_the_uploads_folder(tmp_path: Path) -> None:
    from kb.ui import uploads

    assert uploads.clean_name("../../etc/passwd.txt") == "passwd.txt"
    assert uploads.clean_name("C:\\Windows\\evil.md") == "evil.md"
    assert uploads.clean_name("..") == "berkas"
    assert "/" not in uploads.clean_name("a/b/../c.TXT") and uploads.clean_name("x.TXT") == "x.txt"
    source = tmp_path / "..hidden.txt"
    source.write_text("Judul\nIsi laporan.\n", encoding="utf-8")
    saved, failed = uploads.save_uploads([source], tmp_path / "up")
    assert not failed and saved[0].parent == (tmp_path / "up").resolve()
    link = tmp_path / "link.txt"
    link.symlink_to(source)
    saved, failed = uploads.save_uploads([link], tmp_path / "up")
    assert not saved and failed[0].reason == "not a regular file"


def test_filter_facets_and_indicator(fake_kb: KnowledgeBase, tmp_path: Path) -> None:
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
    assert shown == "🔎 **Filter aktif** — wilayah: Kota Depok · dari: 2024-01-01"
    english = describe_filters("<i>x</i>", "Warta", None, "2024-12-31", "en")
    assert (
        english
        == "🔎 **Filters on** — region: &lt;i&gt;x&lt;/i&gt; · outlet: Warta · to: 2024-12-31"
    )


def test_labels_exist_in_both_languages_and_follow_the_setting(tmp_path: Path) -> None:
    assert LABELS["id"].keys() == LABELS["en"].keys()
    kb = samples_kb(tmp_path / "s", ui_language="en")
    values = {c["props"].get("elem_id"): c["props"] for c in build_app(kb).config["components"]}
    assert values["ask-button"]["value"] == "Ask" and values["question"]["label"] == "Question"
    app = build_app(kb, "id")
    buttons = {c["props"].get("elem_id"): c["props"].get("value") for c in app.config["components"]}
    assert buttons["ask-button"] == "Tanyakan" and buttons["upload-button"].startswith("Masukkan")
    # The toggle: the handler behind the ``lang`` radio relabels the page.
    switch = next(f.fn for f in app.fns.values() if f.name == "switch")
    assert switch is not None
    *_, answer = final(Handlers(kb).ask(JAMBI_Q, []))
    assert answer is not None
    code, *updates, indicator, table, panel, markdown = switch(
        "en", "", "Jambi", None, None, None, answer
    )
    assert "<h4>Sources</h4>" in panel and "**Sources:**" in markdown
    shown = [u.get("label") or u.get("value") for u in updates]
    assert code == "en" and {"Ask", "Document library", "Question", "Region"} <= set(shown)
    assert indicator == "🔎 **Filters on** — region: Jambi" and "Title" in table.columns
    with pytest.raises(ConfigError, match="id or en"):
        build_app(kb, "fr")
    assert sources_html(None, str, "en") == (
        '<div class="sources-empty">The sources of the answer will show here.</div>'
    )


def test_login_setting_and_listen_address(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_auth("") is None
    assert parse_auth("camat:rahasia:123") == [("camat", "rahasia:123")]
    users = tmp_path / "users.txt"
    users.write_text("# petugas\nani:satu\n\nbudi:dua\n", encoding="utf-8")
    assert parse_auth(str(users)) == [("ani", "satu"), ("budi", "dua")]
    users.write_text("ani:satu\nbudi\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2"):
        parse_auth(str(users))
    with pytest.raises(ConfigError, match="user:password"):
        parse_auth("hanya-nama")
    for name in ("GRADIO_SERVER_NAME", "GRADIO_SERVER_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert listen_address(Settings()) == ("127.0.0.1", 7860)
    monkeypatch.setenv("GRADIO_SERVER_NAME", "0.0.0.0")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "8123")
    assert listen_address(Settings()) == ("0.0.0.0", 8123)
    env = {"KB_HOST": "127.0.0.2", "KB_PORT": "9000", "KB_SHARE": "false", "KB_AUTH": "a:b"}
    settings = Settings.from_env(env)
    assert listen_address(settings) == ("127.0.0.2", 9000)
    assert listen_address(settings, "localhost", 9001) == ("localhost", 9001)
    options = launch_options(settings)
    assert options["auth"] == [("a", "b")] and options["share"] is False
    assert options["max_file_size"] == 50 * 2**20
    assert "KB_AUTH" not in repr(settings) and "'a:b'" not in repr(settings)
    with pytest.raises(ConfigError, match="out of range"):
        listen_address(settings, port=70000)
