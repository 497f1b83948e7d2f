"""Launch the Gradio app: ``python app.py`` (the same app as ``kb serve``).

With the default store (``data/kb``) and an empty knowledge base, the sample articles are
ingested first, unless ``KB_LOAD_SAMPLES=false``; a store given by the user never gets samples.
Every setting is a ``KB_*`` variable (host, port, share, login, UI language: see the README).
"""

from __future__ import annotations

import sys

from kb.cli import open_kb
from kb.errors import KbError
from kb.knowledge_base import KnowledgeBase
from kb.ui import serve


def prepare() -> KnowledgeBase:
    """The knowledge base of the ``KB_*`` settings (errors logged to ``<store>/kb.log``),
    with the samples ingested into an empty default store."""
    kb = open_kb(None)
    settings = kb.settings
    if settings.load_samples and settings.is_default_store and kb.store.count_articles() == 0:
        print("Empty knowledge base: ingesting the sample articles (first start only)…")
        print(kb.load_samples().summary())
    return kb


def main() -> None:
    """Serve the app; a setting the user got wrong prints one line, not a traceback."""
    try:
        serve(prepare())
    except KbError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
