"""The Gradio app: ``build_app(kb)`` builds it, ``serve`` launches it.

A first chat page over ``kb.ask``: cited answers with their quoted passages, a region filter.
"""

from __future__ import annotations

import html
import os
from typing import Any

# Before gradio is imported: no analytics calls from an office machine that may be offline.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from kb.answer import CLOSEST, Answer
from kb.errors import KbError
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


def build_app(kb: KnowledgeBase) -> gr.Blocks:
    """The chat page over ``kb.retrieve``; built without serving, so tests can call it."""

    def respond(
        message: str, history: list[dict[str, Any]], region: str
    ) -> tuple[list[dict[str, Any]], str]:
        history = list(history or [])
        if not message or not message.strip():
            return history, ""
        filters = {"region": region} if region and region.strip() else None
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

    with gr.Blocks(title="Inovasi Layanan Publik — Basis Pengetahuan") as app:
        gr.Markdown("## Basis pengetahuan inovasi layanan publik daerah")
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
