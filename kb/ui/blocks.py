"""The app's page: ``build_app(kb)`` lays out the two tabs and wires the handlers.

Every interactive element has a stable ``elem_id`` (the browser tests find them by it):
``question``, ``ask-button``, ``chat``, ``sources``, ``answer-markdown-export``,
``feedback-up``, ``feedback-down``, ``feedback-comment``, ``filter-region``,
``filter-outlet``, ``filter-date-from``, ``filter-date-to``, ``filter-indicator``, ``lang``,
``tab-chat``, ``tab-library``, ``library-search``, ``library-table``, ``upload-files``,
``upload-button``, ``upload-report``, ``delete-doc``, ``delete-button``.
"""

from __future__ import annotations

from typing import Any, Literal

import gradio as gr

from kb.formats import SUPPORTED_SUFFIXES
from kb.knowledge_base import KnowledgeBase
from kb.types import Answer
from kb.ui.handlers import Handlers, facets, progress_adapter
from kb.ui.labels import LANGUAGES, language, t
from kb.ui.render import SOURCES_CSS, SOURCES_JS, describe_filters, format_answer, sources_html

EXAMPLES = [
    "Kecamatan mana yang buka layanan Jumat malam?",
    "Siapa Kepala BPSDM Provinsi Jambi?",
    "Which district runs a mobile service car for civil registration?",
]
# Run once per page: a second copy of the click handler would scroll twice.
_ONCE_JS = f"if (!window.__kbSourceLinks) {{ window.__kbSourceLinks = true; {SOURCES_JS} }}"


def build_app(kb: KnowledgeBase, ui_language: str | None = None) -> gr.Blocks:
    """The app over ``kb``, built without serving (``kb.ui.serve`` launches it).

    Args:
        kb: the knowledge base to answer from and to manage.
        ui_language: ``id`` or ``en``; default: the ``KB_UI_LANGUAGE`` setting.

    Returns:
        The Gradio Blocks; its chat endpoint is ``/ask``.

    Raises:
        ConfigError: an unknown UI language.
    """
    start = language(ui_language or kb.settings.ui_language)
    h = Handlers(kb)
    regions, outlets = facets(kb)

    limits = {"max_mb": f"{kb.settings.max_file_mb:g}"}

    def label(key: str) -> str:
        return t(start, key, **limits)

    # No analytics calls from an office machine that may be offline (every gradio call that
    # would send them asks the app's flag first).
    with gr.Blocks(title=label("page_title"), analytics_enabled=False) as app:
        lang_state = gr.State(start)
        answers = gr.State([])
        shown_answer = gr.State(None)
        with gr.Row(equal_height=True):
            heading = gr.Markdown(label("heading"))
            lang = gr.Radio(
                [(name, code) for code, name in LANGUAGES.items()],
                value=start,
                label=label("lang"),
                elem_id="lang",
                scale=0,
                min_width=240,
            )
        with gr.Tab(label("tab_chat"), elem_id="tab-chat") as tab_chat, gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label=label("chat"),
                    elem_id="chat",
                    height=520,
                    placeholder=label("chat_placeholder"),
                    latex_delimiters=[],
                    buttons=["copy"],
                )
                with gr.Row(equal_height=True):
                    question = gr.Textbox(
                        label=label("question"),
                        placeholder=label("question_placeholder"),
                        elem_id="question",
                        autofocus=True,
                        scale=5,
                    )
                    ask = gr.Button(label("ask"), variant="primary", elem_id="ask-button", scale=1)
                examples = gr.Examples(EXAMPLES, inputs=question, label=label("examples"))
                with gr.Group():
                    feedback_title = gr.Markdown(label("feedback"), padding=True)
                    with gr.Row():
                        up = gr.Button(label("feedback_up"), elem_id="feedback-up", size="sm")
                        down = gr.Button(label("feedback_down"), elem_id="feedback-down", size="sm")
                    comment = gr.Textbox(
                        label=label("feedback_comment"), elem_id="feedback-comment"
                    )
                    feedback_status = gr.Markdown(elem_id="feedback-status", padding=True)
                export = gr.Code(
                    label=label("export"),
                    language="markdown",
                    elem_id="answer-markdown-export",
                    buttons=["copy", "download"],
                    interactive=False,
                    wrap_lines=True,
                    show_line_numbers=False,
                    lines=3,
                )
            with gr.Column(scale=2):
                with gr.Accordion(label("filters"), open=True) as filters_box:
                    region = gr.Dropdown(
                        regions,
                        value=None,
                        label=label("region"),
                        elem_id="filter-region",
                        allow_custom_value=True,
                        filterable=True,
                    )
                    outlet = gr.Dropdown(
                        outlets,
                        value=None,
                        label=label("outlet"),
                        elem_id="filter-outlet",
                        allow_custom_value=True,
                    )
                    with gr.Row():
                        date_from = gr.Textbox(
                            label=label("date_from"),
                            placeholder="2017-01-01",
                            elem_id="filter-date-from",
                        )
                        date_to = gr.Textbox(
                            label=label("date_to"),
                            placeholder="2024-12-31",
                            elem_id="filter-date-to",
                        )
                indicator = gr.Markdown(elem_id="filter-indicator")
                sources = gr.HTML(
                    sources_html(None, h.article, start),
                    elem_id="sources",
                    css_template=SOURCES_CSS,
                    js_on_load=_ONCE_JS,
                )
                answer_json = gr.JSON(visible=False, elem_id="answer-json")

        with gr.Tab(label("tab_library"), elem_id="tab-library") as tab_library:
            search = gr.Textbox(label=label("library_search"), elem_id="library-search")
            table = gr.Dataframe(
                value=lambda: h.library_rows("", start),
                interactive=False,
                wrap=True,
                elem_id="library-table",
            )
            uploads = gr.File(
                label=label("upload_files"),
                file_count="multiple",
                file_types=sorted(SUPPORTED_SUFFIXES),
                elem_id="upload-files",
            )
            add = gr.Button(label("upload_button"), variant="primary", elem_id="upload-button")
            report = gr.Markdown(elem_id="upload-report")
            with gr.Row(equal_height=True):
                doc_id = gr.Textbox(label=label("delete_doc"), elem_id="delete-doc", scale=3)
                delete = gr.Button(
                    label("delete_button"), variant="stop", elem_id="delete-button", scale=1
                )
            deleted = gr.Markdown(elem_id="delete-report")

        # -- chat --------------------------------------------------------------------------
        chat_in = [question, chatbot, region, outlet, date_from, date_to, lang_state, answers]
        chat_out = [chatbot, answer_json, sources, export, question, answers, shown_answer]
        visibilities: tuple[tuple[Any, Literal["public", "private"]], ...] = (
            (ask.click, "public"),
            (question.submit, "private"),
        )
        for event, visibility in visibilities:
            # The last answer's feedback box is emptied first, not after the new answer: a
            # comment typed on the new answer must not be wiped by a late clear.
            event(
                lambda: ("", ""),
                None,
                [comment, feedback_status],
                queue=False,
                api_visibility="private",
            ).then(
                h.ask,
                chat_in,
                chat_out,
                api_name="ask" if visibility == "public" else None,
                api_visibility=visibility,
            )

        filters = [region, outlet, date_from, date_to, lang_state]
        for field in (region, outlet, date_from, date_to):
            field.change(describe_filters, filters, indicator, api_visibility="private")

        # -- feedback ----------------------------------------------------------------------
        def thumbs_up(comment: str, records: list[dict[str, Any]], lang: str) -> str:
            return h.rate(1, comment, records, lang)

        def thumbs_down(comment: str, records: list[dict[str, Any]], lang: str) -> str:
            return h.rate(-1, comment, records, lang)

        def comment_only(comment: str, records: list[dict[str, Any]], lang: str) -> str:
            return h.rate(0, comment, records, lang)

        def liked(comment: str, records: list[dict[str, Any]], lang: str, data: gr.LikeData) -> str:
            return h.like(data.liked, data.index, comment, records, lang)

        rated = [comment, answers, lang_state]
        up.click(thumbs_up, rated, feedback_status, api_visibility="private")
        down.click(thumbs_down, rated, feedback_status, api_visibility="private")
        comment.submit(comment_only, rated, feedback_status, api_visibility="private")
        chatbot.like(liked, rated, feedback_status, api_visibility="private")

        # -- library -----------------------------------------------------------------------
        def lists() -> tuple[Any, Any]:
            regions, outlets = facets(kb)
            return gr.update(choices=regions), gr.update(choices=outlets)

        def refresh(search: str, lang: str) -> Any:
            return h.library_rows(search, lang)

        def add_files(
            files: list[str] | None,
            search: str,
            lang: str,
            progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio injects it)
        ) -> tuple[Any, ...]:
            shown = h.upload(files, lang, progress=progress_adapter(progress))
            return (shown, h.library_rows(search, lang), *lists())

        def remove(doc_id: str, search: str, lang: str) -> tuple[Any, ...]:
            return (h.delete(doc_id, lang), h.library_rows(search, lang), *lists())

        def pick(event: gr.SelectData) -> str:
            row = event.row_value or []
            return str(row[-1]) if row else ""

        changed = [report, table, region, outlet]
        search.change(refresh, [search, lang_state], table, api_name="library")
        add.click(add_files, [uploads, search, lang_state], changed, api_name="upload")
        delete.click(
            remove,
            [doc_id, search, lang_state],
            [deleted, table, region, outlet],
            api_name="delete",
        )
        table.select(pick, None, doc_id, api_visibility="private")

        # -- language ----------------------------------------------------------------------
        # Each element and the labels it shows: {property: label key}.
        relabelled: list[tuple[Any, dict[str, str]]] = [
            (heading, {"value": "heading"}),
            (lang, {"label": "lang"}),
            (tab_chat, {"label": "tab_chat"}),
            (tab_library, {"label": "tab_library"}),
            (chatbot, {"label": "chat", "placeholder": "chat_placeholder"}),
            (question, {"label": "question", "placeholder": "question_placeholder"}),
            (ask, {"value": "ask"}),
            (examples.dataset, {"label": "examples"}),
            (feedback_title, {"value": "feedback"}),
            (up, {"value": "feedback_up"}),
            (down, {"value": "feedback_down"}),
            (comment, {"label": "feedback_comment"}),
            (export, {"label": "export"}),
            (filters_box, {"label": "filters"}),
            (region, {"label": "region"}),
            (outlet, {"label": "outlet"}),
            (date_from, {"label": "date_from"}),
            (date_to, {"label": "date_to"}),
            (search, {"label": "library_search"}),
            (uploads, {"label": "upload_files"}),
            (add, {"value": "upload_button"}),
            (doc_id, {"label": "delete_doc"}),
            (delete, {"value": "delete_button"}),
        ]

        def switch(
            code: str,
            search: str,
            region: str | None,
            outlet: str | None,
            date_from: str | None,
            date_to: str | None,
            answer: Answer | None,
        ) -> tuple[Any, ...]:
            code = language(code)
            updates = [
                gr.update(**{prop: t(code, key, **limits) for prop, key in props.items()})  # type: ignore[arg-type]
                for _, props in relabelled
            ]
            shown = describe_filters(region, outlet, date_from, date_to, code)
            panel = sources_html(answer, h.article, code)
            markdown = format_answer(answer, code) if answer is not None else ""
            return (code, *updates, shown, h.library_rows(search, code), panel, markdown)

        lang.change(
            switch,
            [lang, search, region, outlet, date_from, date_to, shown_answer],
            [lang_state, *(c for c, _ in relabelled), indicator, table, sources, export],
            api_visibility="private",
        )
    return app
