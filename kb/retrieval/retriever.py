"""The knowledge base as a LangChain retriever: ``KnowledgeBase.as_retriever()``.

A ``langchain_core`` ``BaseRetriever`` over the product's hybrid retrieval (``kb.retrieve``),
so analysts' own chains, agents and evaluation harnesses use it as any LangChain integration:
``invoke``, ``batch``, ``ainvoke`` (the sync path in a thread), ``|`` into a runnable. The
answer chain takes its passages through it too: there is one retrieval path.

Each ``Document`` is one passage: ``page_content`` is its text, ``id`` its ``chunk_id``, and
``metadata`` holds what its ``Hit`` carries: the chunk's stored metadata (``outlet``,
``date``, ``regions``, ``url``, ...) with the ``Hit``'s own fields over it (``doc_id``,
``chunk_id``, ``title``, ``score``, the legs' scores and ranks, ``start``/``end``, ``page``,
``page_end``, ``section``, ``also_in``). ``document_hit`` turns one back into its ``Hit``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from kb.retrieval.fusion import Mode
from kb.types import Hit

# The Hit's fields that a Document's metadata carries (its text is the page_content).
HIT_FIELDS = tuple(f.name for f in dataclasses.fields(Hit) if f.name not in ("text", "metadata"))
# Of those, the ones a chunk's stored metadata never holds (the ranking's own).
_RANKING_FIELDS = frozenset(
    {"chunk_id", "score", "dense_score", "keyword_score", "dense_rank", "keyword_rank", "also_in"}
)
# A per-call argument left out: the retriever's own value holds.
_UNSET: Any = object()


def hit_document(hit: Hit) -> Document:
    """The ``Document`` of a passage (see the module's docstring)."""
    own = {name: getattr(hit, name) for name in HIT_FIELDS}
    return Document(page_content=hit.text, metadata={**hit.metadata, **own}, id=hit.chunk_id)


def document_hit(document: Document) -> Hit:
    """The ``Hit`` a ``hit_document`` Document came from, equal to it."""
    meta = document.metadata
    own: dict[str, Any] = {name: meta.get(name) for name in HIT_FIELDS}
    own["section"] = own["section"] or ""
    # A stored chunk never holds None or an empty section: those keys came from the Hit.
    stored = {
        k: v
        for k, v in meta.items()
        if k not in _RANKING_FIELDS and v is not None and not (k == "section" and v == "")
    }
    return Hit(text=document.page_content, metadata=stored, **own)


class KnowledgeBaseRetriever(BaseRetriever):
    """Passages of a knowledge base for a query, as LangChain ``Document`` objects.

    Made by ``KnowledgeBase.as_retriever``. ``k``, ``filters``, ``mode``, ``per_article`` and
    ``rerank`` are the defaults of ``kb.retrieve``'s arguments of those names; each can also
    be given per call: ``retriever.invoke("...", k=3, filters={"region": "Tangsel"})``.
    """

    kb: Any  # the KnowledgeBase (typed Any: pydantic does not validate or copy it)
    k: int = 5
    filters: dict[str, Any] | None = None
    mode: Mode = "hybrid"
    per_article: int | None = 1
    rerank: bool = False

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        k: int | None = None,
        filters: dict[str, Any] | None = _UNSET,
        mode: Mode | None = None,
        per_article: int | None = _UNSET,
        rerank: bool | None = None,
    ) -> list[Document]:
        del run_manager
        hits = self.kb.retrieve(
            query,
            k=k if k is not None else self.k,
            filters=self.filters if filters is _UNSET else filters,
            per_article=self.per_article if per_article is _UNSET else per_article,
            mode=mode or self.mode,
            rerank=self.rerank if rerank is None else rerank,
        )
        return [hit_document(hit) for hit in hits]
