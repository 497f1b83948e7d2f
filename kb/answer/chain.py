"""The answer chain, built from LangChain runnables and used by the CLI, the API and the UI:

question (+ history, filters) -> retrieval query -> hybrid retrieval -> evidence gate
-> answer (extractive, or a chat model) -> citation check -> ``Answer``
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough

from kb.answer.citations import check_citations
from kb.answer.extractive import RERANK, RERANK_CROSSLINGUAL, compose_extractive, compose_span
from kb.answer.followups import (
    Message,
    resolve_followup,
    rewrite_with_llm,
)
from kb.answer.gate import abstain, evidence, regions_not_covered
from kb.answer.llm import (
    llm_messages,
    message_text,
    model_errors,
    model_name,
)
from kb.answer.reader import Reader, Span
from kb.retrieval.retriever import document_hit
from kb.text.language import detect_language
from kb.text.question import normalize_question
from kb.types import Answer, Hit

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.retrievers import BaseRetriever

    from kb.settings import Settings

log = logging.getLogger(__name__)


class WordStats(Protocol):
    """What the evidence gate asks of the keyword index (``KeywordIndex``)."""

    def idf(self, token: str) -> float: ...

    def coverage(self, query: str) -> float: ...


class AnswerChain:
    """Builds and runs the chain for one answer mode (``KnowledgeBase.chain`` makes it).

    Args:
        retriever: the passages of a query: a LangChain retriever that takes ``k`` and
            ``filters`` per call and returns ``hit_document`` Documents
            (``KnowledgeBase.as_retriever``).
        embedder: the embeddings the sentence rules re-rank sentences with.
        index: the keyword index as it is now (the gate weighs words by its idf).
        settings: the limits and thresholds (``reader_passages``, ``reader_margin``,
            ``abstain_*``, ``max_question_chars``).
        reader: the trained reader, or ``None`` for the sentence rules.
        llm: ``None`` for extractive answers, or a LangChain chat model.
        k: passages retrieved per question.
    """

    def __init__(
        self,
        retriever: BaseRetriever,
        *,
        embedder: Embeddings,
        index: Callable[[], WordStats],
        settings: Settings,
        reader: Reader | None = None,
        llm: Any = None,
        k: int = 5,
    ) -> None:
        self.retriever = retriever
        self.embedder = embedder
        self.index = index
        self.settings = settings
        self.reader = reader
        self.llm = llm
        self.k = k
        self.mode = "extractive" if llm is None else f"llm:{model_name(llm)}"
        # question (+ history, filters) -> + query -> + hits; then the answer. ``stream`` runs
        # ``prepare`` and the answer's steps itself, to yield the chat model's text as it comes.
        self.prepare: Runnable[dict[str, Any], dict[str, Any]] = RunnablePassthrough.assign(
            query=RunnableLambda(self._query)
        ) | RunnablePassthrough.assign(hits=RunnableLambda(self._retrieve))
        self.runnable: Runnable[dict[str, Any], Answer] = self.prepare | RunnableLambda(
            self._answer
        )

    def with_settings(self, settings: Settings) -> AnswerChain:
        """This chain with other limits and thresholds (benchmarks sweep them)."""
        other = copy.copy(self)
        other.settings = settings
        return other

    def _query(self, state: dict[str, Any]) -> str:
        history = state.get("history") or []
        if history and self.llm is not None:
            return rewrite_with_llm(self.llm, state["question"], history)
        return resolve_followup(state["question"], history)

    def _retrieve(self, state: dict[str, Any], config: RunnableConfig | None = None) -> list[Hit]:
        """The passages, through the knowledge base's LangChain retriever (the one analysts
        use), its run a child of this chain's. Several passages of one article may be
        needed: the answer may sit in its second."""
        k = max(self.k, self.settings.reader_passages if self.reader else 0)
        documents = self.retriever.invoke(state["query"], config, k=k, filters=state.get("filters"))
        return [document_hit(d) for d in documents]

    def _declines(self, spans: Sequence[Span]) -> bool:
        """The reader's decision: no read passage's span beats "no answer" by the margin."""
        assert self.reader is not None
        limit = self.reader.threshold + self.settings.reader_margin
        return not spans or max(s.margin for s in spans) <= limit

    def _similarity(self, query: str) -> Callable[[list[str]], Sequence[float]]:
        embedder = self.embedder

        def similarity(texts: list[str]) -> list[float]:
            q = np.asarray(embedder.embed_query(query), dtype=np.float32)
            vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float32)
            return [float(v) for v in vectors @ q]

        return similarity

    def _gate(self, question: str, hits: Sequence[Hit], coverage: float) -> bool:
        """True when the evidence is too weak to answer (thresholds are settings), or when
        the question names a region none of the passages is about.

        When few of the question's words occur in the articles at all (an English question
        over Indonesian reports: ``coverage``, the share found, is under 0.5), word overlap
        says nothing and the embedding decides alone.
        """
        if regions_not_covered(question, hits):
            return True
        dense, lexical = evidence(question, hits, self.index().idf)
        settings = self.settings
        if coverage < 0.5:
            return dense < settings.abstain_dense_crosslingual
        return dense < settings.abstain_dense and lexical < settings.abstain_lexical

    def _plan(self, state: dict[str, Any]) -> _Plan:
        """Whether to answer, and from which passages in which order.

        The region rule first (a question naming a region none of the passages is about is
        declined); then, with a reader, its decision over the passages it read (which it puts
        in its order); without one, the evidence gate.
        """
        hits, query = state["hits"], state["query"]
        if not hits or regions_not_covered(query, hits):
            return _Plan(hits, declined=True)
        if self.reader is not None:
            hits, spans = self.reader.rank(query, hits, self.settings.reader_passages)
            return _Plan(hits, spans=spans, declined=self._declines(spans))
        coverage = self.index().coverage(query)
        return _Plan(hits, coverage=coverage, declined=self._gate(query, hits, coverage))

    def _extract(self, query: str, plan: _Plan) -> tuple[str, str]:
        """The answer without a chat model, and its short form: the reader's span in its
        sentence, or (no reader) the sentences the rules pick (no short form)."""
        if plan.spans is not None:
            return compose_span(plan.hits, plan.spans)
        assert plan.coverage is not None
        rerank = RERANK_CROSSLINGUAL if plan.coverage < 0.5 else RERANK
        text, _ = compose_extractive(query, plan.hits, self._similarity(query), rerank=rerank)
        return text, ""

    def _abstain(self, state: dict[str, Any], plan: _Plan) -> Answer:
        question = state["question"]
        return abstain(question, plan.hits, query=state["query"], mode=self.mode,
                       language=detect_language(question))  # fmt: skip

    def _finish(self, state: dict[str, Any], plan: _Plan, text: str, short: str = "") -> Answer:
        """The citation check of the written answer; the short form kept when it survives."""
        question = state["question"]
        answer = check_citations(question, text, plan.hits, query=state["query"], mode=self.mode,
                       language=detect_language(question))  # fmt: skip
        if not short or answer.abstained:
            return answer
        return replace(answer, short=short, short_citations=tuple(c.n for c in answer.citations))

    def _answer(self, state: dict[str, Any]) -> Answer:
        return self._respond(state, self._plan(state))

    def _respond(self, state: dict[str, Any], plan: _Plan) -> Answer:
        if plan.declined:
            return self._abstain(state, plan)
        if self.llm is None:
            return self._finish(state, plan, *self._extract(state["query"], plan))
        with model_errors():
            reply = self.llm.invoke(llm_messages(state["question"], plan.hits))
        return self._finish(state, plan, message_text(reply))

    def _state(
        self,
        question: str,
        history: Sequence[Message] | None,
        filters: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        question = normalize_question(question, self.settings.max_question_chars)
        return {"question": question, "history": list(history or []), "filters": filters}

    def invoke(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> Answer:
        """The checked ``Answer``.

        Raises:
            QuestionError: nothing to search for (a question too long is cut, not refused).
        """
        return self.runnable.invoke(self._state(question, history, filters))

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> Iterator[str | Answer]:
        """Partial answer texts as the chat model writes them, then the checked ``Answer``
        (the same steps as ``invoke``; without a chat model, or when declining, only the
        ``Answer``)."""
        state = self.prepare.invoke(self._state(question, history, filters))
        plan = self._plan(state)
        if plan.declined or self.llm is None:
            yield self._respond(state, plan)
            return
        text = ""
        with model_errors():
            for piece in self.llm.stream(llm_messages(state["question"], plan.hits)):
                text += message_text(piece)
                yield text
        yield self._finish(state, plan, text)


@dataclass(frozen=True)
class _Plan:
    """What the chain decided before writing: the passages in the order the answer uses,
    the reader's spans for the ones it read (``None``: no reader), the evidence coverage of
    the rules (``None``: the reader decided), and whether to decline."""

    hits: list[Hit]
    declined: bool
    spans: list[Span] | None = None
    coverage: float | None = None
