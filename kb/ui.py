"""The Gradio app: ``build_app(kb)`` builds it, ``serve`` launches it.

Two tabs: a chat over ``kb.ask`` (cited answers with their quoted passages, a region filter)
and the document library (list, search, upload, delete).
"""

from __future__ import annotations

import html
import os
from typing import Any

# Before gradio is imported: no analytics calls from an office machine that may be offline.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from ingest.loaders import SUPPORTED_SUFFIXES
from kb import library
from kb.answer import CLOSEST, Answer
from kb.errors import KbError
from kb.filters import from_fields
from kb.knowledge_base import KnowledgeBase

EXAMPLES = [
    "Kecamatan mana yang buka layanan Jumat malam?",
    "Siapa Kepala BPSDM Provinsi Jambi?",
    "Which district runs a mobile service car for civil registration?",
]


def format_answer(answer: Answer) -> str:
    """An answer and its numbered sources as Markdown; article text is escaped."""
    lines = [html.escape(answer.text)]
    if answer.citations:
        lines.append("**Sumber:**")
        for c in answer.citations:
            facts = " · ".join(html.escape(x) for x in (c.outlet, c.date) if x)
            head = f"[{c.n}] **{html.escape(c.title or c.doc_id)}**"
            lines.append(head + (f" — {facts}" if facts else ""))
            lines.append(f"> {html.escape(c.quote)}")
    elif answer.hits:
        lines.append(f"**{CLOSEST[answer.language]}**")
        for n, hit in enumerate(answer.hits[:3], 1):
            lines.append(f"{n}. **{html.escape(hit.title or hit.doc_id)}**")
            lines.append(f"> {html.escape(' '.join(hit.text.split()))}")
    return "\n\n".join(lines)


def describe_filters(
    region: str | None, outlet: str | None, date_from: str | None, date_to: str | None
) -> str:
    """The indicator shown when filters are on."""
    filters = from_fields(region, outlet, date_from, date_to)
    if not filters:
        return ""
    parts = [f"{html.escape(k)}: {html.escape(v)}" for k, v in filters.items()]
    return "🔎 **Filter aktif** — " + " · ".join(parts)


def facets(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """Regions and outlets named in the ingested articles, for the filter lists."""
    regions: set[str] = set()
    outlets: set[str] = set()
    for article in kb.articles():
        named = article.metadata.get("regions") or []
        regions.update(named if isinstance(named, list) else [str(named)])
        if article.metadata.get("outlet"):
            outlets.add(str(article.metadata["outlet"]))
    return sorted(regions), sorted(outlets)


def build_app(kb: KnowledgeBase) -> gr.Blocks:
    """The app: a chat over ``kb.ask`` and a document library; built without serving."""

    def respond(
        message: str,
        history: list[dict[str, Any]],
        region: str | None = None,
        outlet: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
    ) -> tuple[list[dict[str, Any]], str]:
        history = list(history or [])
        if not message or not message.strip():
            return history, ""
        filters = from_fields(region, outlet, date_from, date_to)
        earlier = [{"role": m["role"], "content": str(m["content"])} for m in history]
        try:
            reply = format_answer(kb.ask(message, history=earlier, filters=filters))
        except KbError as e:
            reply = f"⚠️ {html.escape(str(e))}"
        history += [
            {"role": "user", "content": message},
            {"role": "assistant", "content": reply},
        ]
        return history, ""

    def refresh(search: str) -> list[list[Any]]:
        return library.rows(kb, search or "")

    def add_files(
        files: list[str] | None,
        search: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects progress)
    ) -> tuple[str, list[list[Any]]]:
        if not files:
            return "Pilih berkas terlebih dahulu.", refresh(search)
        progress(0.1, desc="Memasukkan laporan…")
        try:
            report = library.upload(kb, files)
        except KbError as e:
            return f"⚠️ {html.escape(str(e))}", refresh(search)
        return library.format_report(report), refresh(search)

    def remove(doc_id: str, search: str) -> tuple[str, list[list[Any]]]:
        try:
            kb.delete((doc_id or "").strip())
        except KbError as e:
            return f"⚠️ {html.escape(str(e))}", refresh(search)
        return f"Dihapus: {html.escape(doc_id.strip())}", refresh(search)

    with gr.Blocks(title="Inovasi Layanan Publik — Basis Pengetahuan") as app:
        gr.Markdown("## Basis pengetahuan inovasi layanan publik daerah")
        with gr.Tab("Tanya"):
            chatbot = gr.Chatbot(label="Percakapan", height=480)
            with gr.Row():
                question = gr.Textbox(
                    label="Pertanyaan", placeholder="Tanyakan sesuatu tentang laporan…", scale=4
                )
                region = gr.Textbox(label="Wilayah (opsional)", placeholder="mis. Tangsel", scale=1)
            send = gr.Button("Kirim", variant="primary")
            gr.Examples(EXAMPLES, inputs=question)
            inputs, outputs = [question, chatbot, region], [chatbot, question]
            send.click(respond, inputs, outputs, api_name="ask")
            question.submit(respond, inputs, outputs, api_visibility="private")
        with gr.Tab("Pustaka dokumen"):
            search = gr.Textbox(label="Cari judul, wilayah atau doc_id")
            table = gr.Dataframe(
                headers=library.COLUMNS, value=lambda: refresh(""), interactive=False
            )
            uploads = gr.File(
                label="Unggah laporan (txt, md, html, pdf, docx, jsonl)",
                file_count="multiple",
                file_types=sorted(SUPPORTED_SUFFIXES),
            )
            add = gr.Button("Masukkan ke basis pengetahuan", variant="primary")
            with gr.Row():
                doc_id = gr.Textbox(label="doc_id yang akan dihapus", scale=3)
                delete = gr.Button("Hapus", variant="stop", scale=1)
            status = gr.Markdown()
            search.change(refresh, search, table, api_name="library")
            add.click(add_files, [uploads, search], [status, table], api_name="upload")
            delete.click(remove, [doc_id, search], [status, table], api_name="delete")
    return app


def serve(kb: KnowledgeBase, host: str | None = None, port: int | None = None) -> None:
    """Launch the app (blocking). Gradio's own GRADIO_SERVER_* variables apply when unset."""
    app = build_app(kb)
    # Build the keyword index now, not on the first question (stemming takes a moment).
    kb.retriever.sync()
    # System fonts: the default theme would fetch web fonts, and users may be offline.
    theme = gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])
    app.launch(
        theme=theme,
        server_name=host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=port or int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
    )
