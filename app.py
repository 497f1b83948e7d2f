"""Launch the Gradio app: ``python app.py`` (the same app as ``kb serve``).

With the default store (``data/kb``) and an empty knowledge base, the sample articles are
ingested first, unless ``KB_LOAD_SAMPLES=false``; a store given by the user never gets samples.
"""

from __future__ import annotations

import logging

from kb.knowledge_base import KnowledgeBase
from kb.ui import serve

log = logging.getLogger("kb.app")


def prepare() -> KnowledgeBase:
    kb = KnowledgeBase()
    settings = kb.settings
    if settings.load_samples and settings.is_default_store and kb.store.count_articles() == 0:
        print("Empty knowledge base: ingesting the sample articles (first start only)…")
        print(kb.load_samples().summary())
    return kb


if __name__ == "__main__":
    serve(prepare())
