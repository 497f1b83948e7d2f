"""The Gradio app: ``build_app(kb)`` builds it, ``serve`` launches it.

Two tabs: a chat over the answer chain (cited answers, a sources panel with the quoted
passages, filters, feedback, a Markdown export) and the document library (list, search,
upload with progress, delete). Labels in Indonesian or English (``kb.ui.labels``).
"""

from __future__ import annotations

import logging
import threading

from kb.knowledge_base import KnowledgeBase
from kb.ui.blocks import EXAMPLES, build_app
from kb.ui.handlers import Handlers, facets
from kb.ui.render import describe_filters, format_answer, sources_html
from kb.ui.serving import launch_options, parse_auth

log = logging.getLogger(__name__)

__all__ = [
    "EXAMPLES",
    "Handlers",
    "build_app",
    "describe_filters",
    "facets",
    "format_answer",
    "launch_options",
    "parse_auth",
    "serve",
    "sources_html",
]


def serve(
    kb: KnowledgeBase,
    host: str | None = None,
    port: int | None = None,
    *,
    share: bool | None = None,
    auth: str | None = None,
    ui_language: str | None = None,
) -> None:
    """Build the app and serve it (blocking); ``kb serve`` and ``python app.py`` call this.

    Args:
        kb: the knowledge base to serve.
        host, port: where to listen (default: ``KB_HOST``/``KB_PORT``, else Gradio's
            ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``, else 127.0.0.1:7860).
        share: open a public Gradio share link (default: ``KB_SHARE``).
        auth: ``user:password`` or a file of them (default: ``KB_AUTH``; empty: no login).
        ui_language: ``id`` or ``en`` (default: ``KB_UI_LANGUAGE``).

    Raises:
        ConfigError: a bad port, login or language setting.
    """
    options = launch_options(kb.settings, host, port, share, auth)
    # Load the embedding model while the page comes up, not on the first question.
    threading.Thread(target=warm_up, args=(kb,), name="kb-warm-up", daemon=True).start()
    app = build_app(kb, ui_language)
    # Build the keyword index now, not on the first question (stemming takes a moment).
    kb.ranker.sync()
    app.launch(**options)


def warm_up(kb: KnowledgeBase) -> None:
    """Load the embedding model (a first question waits for it to finish, not to start)."""
    try:
        kb.embedder.embed_query("pemanasan")
    except Exception:  # the first question reports it to the user
        log.warning("the embedding model could not be loaded in advance", exc_info=True)
