"""The app's event handlers, plain methods over a knowledge base (tested without a browser).

Gradio wires them in ``kb.ui.blocks``. User errors (``KbError``) are shown as one line; any
other error is logged with its traceback and shown as a one-line apology.
"""

from __future__ import annotations

import html
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from kb.errors import KbError, NotFoundError
from kb.knowledge_base import KnowledgeBase
from kb.ops.feedback import Feedback, FeedbackStore
from kb.retrieval.filters import from_fields
from kb.types import Answer, ArticleInfo
from kb.ui import uploads
from kb.ui.labels import t
from kb.ui.render import (
    chat_message,
    format_answer,
    partial_message,
    plain_history,
    sources_html,
)

log = logging.getLogger(__name__)

Message = dict[str, Any]
# What one step of the chat shows: conversation, answer (JSON), sources panel, Markdown
# export, the question box (cleared), the answers of this conversation (for feedback), and
# the answer the panels show (to draw them again in another language).
ChatOutputs = tuple[
    list[Message], dict[str, Any], str, str, str, list[dict[str, Any]], Answer | None
]


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


def failure(error: Exception, lang: str) -> str:
    """One line for the user: a ``KbError``'s message, else an apology (traceback logged)."""
    if isinstance(error, KbError):
        return f"⚠️ {html.escape(str(error))}"
    log.error("unexpected error in the app", exc_info=error)
    return f"⚠️ {t(lang, 'error')}"


class Handlers:
    """The app's behaviour over one knowledge base.

    Args:
        kb: the knowledge base the app serves.
        feedback: where feedback goes (default: ``<store>/feedback.sqlite3``).
    """

    def __init__(self, kb: KnowledgeBase, feedback: FeedbackStore | None = None) -> None:
        self.kb = kb
        self.feedback = feedback or FeedbackStore(kb.settings.store)

    # -- chat ------------------------------------------------------------------------------

    def article(self, doc_id: str) -> ArticleInfo | None:
        try:
            return self.kb.article(doc_id)
        except NotFoundError:  # deleted since the answer was given
            return None

    def ask(
        self,
        question: str,
        history: Sequence[Mapping[str, Any]] | None,
        region: str | None = None,
        outlet: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        lang: str = "id",
        answers: Sequence[Mapping[str, Any]] | None = None,
    ) -> Iterator[ChatOutputs]:
        """Answer ``question`` in the conversation ``history``.

        Yields the chat's outputs: in LLM mode while the model writes (unchecked text), then
        once more with the checked answer; in extractive mode once.
        """
        shown = [dict(m) for m in history or []]
        records = [dict(r) for r in answers or []]
        question = " ".join(str(question or "").split())
        if not question:
            yield shown, {}, sources_html(None, self.article, lang), "", "", records, None
            return
        filters = from_fields(region, outlet, date_from, date_to)
        earlier = plain_history(shown)
        shown.append({"role": "user", "content": question})
        final: Answer | None = None
        try:
            written = ""
            for step in self.kb.chain().stream(question, earlier, filters):
                if isinstance(step, Answer):
                    final = step
                    break
                if not step.strip() or step == written:  # nothing new to show
                    continue
                written = step
                writing = [*shown, {"role": "assistant", "content": partial_message(step)}]
                waiting = f'<div class="sources-empty">{t(lang, "writing")}</div>'
                yield writing, {}, waiting, "", "", records, None
        except Exception as e:  # the conversation goes on after any error
            shown.append({"role": "assistant", "content": failure(e, lang)})
            yield shown, {}, sources_html(None, self.article, lang), "", "", records, None
            return
        assert final is not None, "the answer chain ended without an answer"
        shown.append({"role": "assistant", "content": chat_message(final)})
        record = final.to_record()
        records.append(
            {
                **record,
                "answer_id": uuid.uuid4().hex,
                "index": len(shown) - 1,
                "question": question,
                "filters": filters or {},
            }
        )
        yield (
            shown,
            record,
            sources_html(final, self.article, lang),
            format_answer(final, lang),
            "",
            records,
            final,
        )

    # -- feedback --------------------------------------------------------------------------

    def rate(
        self,
        rating: int,
        comment: str,
        answers: Sequence[Mapping[str, Any]] | None,
        lang: str = "id",
        index: int | None = None,
    ) -> str:
        """Store feedback on an answer: the one at chat position ``index``, else the latest.

        Returns the line to show (thanks, or why nothing was stored).
        """
        chosen = [a for a in answers or [] if index is None or a.get("index") == index]
        if not chosen:
            return t(lang, "feedback_none")
        answer = chosen[-1]
        settings = self.kb.settings
        try:
            self.feedback.save(
                Feedback(
                    answer_id=str(answer["answer_id"]),
                    rating=rating,
                    comment=comment or "",
                    question=str(answer.get("question", "")),
                    answer=str(answer.get("text", "")),
                    abstained=bool(answer.get("abstained")),
                    citations=list(answer.get("citations") or []),
                    hits=list(answer.get("hits") or []),
                    filters=dict(answer.get("filters") or {}),
                    mode=str(answer.get("mode", "")),
                    embedder=self.kb.embedder_name,
                    llm=settings.llm,
                )
            )
        except Exception as e:
            return failure(e, lang)
        return t(lang, "feedback_saved")

    def like(
        self,
        liked: bool | str,
        index: int | Sequence[int],
        comment: str,
        answers: Sequence[Mapping[str, Any]] | None,
        lang: str = "id",
    ) -> str:
        """The chat's own thumbs on one message (``index`` is its position in the chat)."""
        position = index if isinstance(index, int) else int(index[0])
        rating = 0 if liked not in (True, False) else (1 if liked else -1)
        return self.rate(rating, comment, answers, lang, index=position)

    # -- library ---------------------------------------------------------------------------

    def library_rows(self, search: str, lang: str = "id") -> Any:
        """The library table (a DataFrame with the column names in ``lang``)."""
        import pandas as pd

        columns = [
            t(lang, key)
            for key in ("col_title", "col_date", "col_regions", "col_chunks", "col_ingested")
        ] + ["doc_id"]
        return pd.DataFrame(uploads.rows(self.kb, search or ""), columns=columns)

    def upload(
        self,
        files: Sequence[str] | None,
        lang: str = "id",
        progress: uploads.Progress | None = None,
    ) -> str:
        """Save, check and ingest uploaded files; returns the batch report (Markdown)."""
        if not files:
            return t(lang, "upload_none")
        labels = (
            t(lang, "upload_saving"),
            t(lang, "upload_reading"),
            t(lang, "upload_embedding"),
        )
        try:
            report = uploads.upload(self.kb, files, progress=progress, labels=labels)
        except Exception as e:
            return failure(e, lang)
        return uploads.format_report(report, t(lang, "report"))

    def delete(self, doc_id: str, lang: str = "id") -> str:
        """Delete an article by its doc_id; returns the line to show."""
        doc_id = (doc_id or "").strip()
        if not doc_id:
            return t(lang, "delete_none")
        try:
            self.kb.delete(doc_id)
        except Exception as e:
            return failure(e, lang)
        return f"{t(lang, 'deleted')}: {html.escape(doc_id)}"


def progress_adapter(progress: Any) -> Callable[[float, str], None]:
    """``gr.Progress`` as the library's ``(fraction, description)`` callback."""

    def report(fraction: float, description: str) -> None:
        progress(fraction, desc=description)

    return report
