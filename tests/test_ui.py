"""The chat page's handler, built without serving."""

from __future__ import annotations

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
