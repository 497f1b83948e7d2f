"""The answer chain, built from LangChain runnables and used by the CLI, the API and the UI:

question (+ history, filters) -> retrieval query -> hybrid retrieval -> evidence gate
-> answer (extractive, or a chat model) -> citation check -> ``Answer``
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import Runnable, RunnableConfig, RunnableLambda, RunnablePassthrough

from kb.answer.extractive import (
    RERANK,
    RERANK_CROSSLINGUAL,
    Answer,
    abstain,
    check,
    compose_extractive,
    compose_span,
    detect_language,
)
from kb.answer.reader import Span
from kb.errors import ConfigError, KbError, ModelError
from kb.ops.redact import redact
from kb.retrieval.keyword import analyze
from kb.retrieval.retriever import document_hit
from kb.text.question import normalize_question
from kb.text.regions import find_regions, indonesian_place_names
from kb.types import Hit

if TYPE_CHECKING:
    from kb.knowledge_base import KnowledgeBase

Message = Mapping[str, Any]
log = logging.getLogger(__name__)

# Words that point back to an earlier turn: "badannya", "tersebut", "their", "there".
_ANAPHORA = re.compile(
    r"(\w+nya\b|\b(tersebut|itu|ini|dia|ia|beliau|mereka|di sana|sana|its|their|his|her|he|"
    r"she|it|they|them|there|that|this)\b)",
    re.IGNORECASE,
)
# The word that owns the question's last "-nya" ("camatnya?", "kepala badannya?").
_OWNED = re.compile(r"\b(\w{3,}?)nya\s*[?.!]?\s*$", re.IGNORECASE)
_NOT_OWNED = frozenset("ha pu ta berta sebelum selanjut lain biasa akhir misal".split())
_ENTITY = re.compile(r"\b(?:[A-Z][\w.-]*[A-Za-z0-9])(?:\s+(?:[A-Z][\w.-]*[A-Za-z0-9]|se-\w+))*")
_QUESTION_WORDS = frozenset(
    "Apa Apakah Siapa Kapan Mana Dimana Di Berapa Bagaimana Mengapa Kenapa Which What Who "
    "When Where How Why Does Do Is Are".split()
)


def prompt_text(name: str) -> str:
    return (resources.files("kb.answer") / "prompts" / name).read_text(encoding="utf-8")


def _entities(text: str) -> list[str]:
    found = []
    for m in _ENTITY.finditer(text):
        words = m.group().split()
        while words and words[0] in _QUESTION_WORDS:
            words = words[1:]
        if words:
            found.append(" ".join(words))
    return found


def resolve_followup(question: str, history: Sequence[Message] | None) -> str:
    """The retrieval query for a follow-up, without a chat model.

    When the question points back ("Siapa kepala badannya?") or names no entity of its own,
    the names and places of the previous user turns are added to it.
    """
    previous = [str(m.get("content") or "") for m in history or [] if m.get("role") == "user"]
    if not previous:
        return question
    own = _entities(question)
    if own and not _ANAPHORA.search(question):
        return question
    carried: list[str] = []
    for turn in reversed(previous[-2:]):
        for entity in _entities(turn):
            if entity not in carried and entity not in own:
                carried.append(entity)
    if not carried:
        return question
    names = " ".join(carried)
    # "Siapa camatnya?" asks for the camat of what was asked about: "Siapa camat Kecamatan
    # Kaliwungu?" reads as a whole question (the reader finds the name with a clearer margin).
    owned = _OWNED.search(question)
    if owned and owned.group(1).lower() not in _NOT_OWNED:
        return f"{question[: owned.start()]}{owned.group(1)} {names}{question[owned.end(1) + 3 :]}"
    return f"{question} {names}".strip()


def load_chat_model(spec: str, given_as: str = "KB_LLM") -> Any:
    """A LangChain chat model from ``provider:model`` (``ollama:qwen2.5:7b``, ``openai:gpt-4o``);
    ``given_as`` names where the value came from in error messages (``KB_LLM``, ``--llm``)."""
    provider, _, model = spec.partition(":")
    if not provider or not model:
        raise ConfigError(f"{given_as}={spec!r}: use provider:model, e.g. ollama:qwen2.5:7b")
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, temperature=0)
    except ImportError as e:
        raise ConfigError(
            f"the {provider!r} chat models need an extra package: pip install "
            f"'kb-inovasi[{provider}]' (or langchain-{provider})"
        ) from e
    except ValueError as e:
        raise ConfigError(f"{given_as}={spec!r}: {e}") from e


_TAG = re.compile(r"</?\s*passage", re.IGNORECASE)


def _text(message: Any) -> str:
    """A chat model reply as text (content may be a string or a list of blocks)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    return str(getattr(message, "content", message))


def format_passages(hits: Sequence[Hit]) -> str:
    """Numbered passages inside delimiters; neither title nor text can close a delimiter."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        title = _TAG.sub("[passage", " ".join(hit.title.split())).replace('"', "'")
        body = _TAG.sub("[passage", hit.text)
        blocks.append(f'<passage n="{n}" title="{title}">\n{body}\n</passage>')
    return "\n\n".join(blocks)


def llm_messages(question: str, hits: Sequence[Hit]) -> list[Any]:
    human = prompt_text("passages.txt").format(passages=format_passages(hits), question=question)
    return [SystemMessage(prompt_text("answer.txt")), HumanMessage(human)]


@contextlib.contextmanager
def model_errors() -> Iterator[None]:
    """A failing chat model call (refused key, server down) becomes a one-line ``ModelError``.

    Servers echo the key they were given in their error text, so the message and the log line
    are redacted, and the original exception is not chained (a traceback printed later would
    show it unredacted)."""
    try:
        yield
    except KbError:
        raise
    except Exception as e:
        log.warning("the chat model failed: %s", redact(traceback.format_exc()))
        reason = redact(" ".join(str(e).split()))[:200] or type(e).__name__
        raise ModelError(
            f"the chat model did not answer ({type(e).__name__}: {reason}): check KB_LLM, "
            "the API key and OPENAI_BASE_URL, or leave KB_LLM empty for extractive answers"
        ) from None


def _rewrite_with_llm(llm: Any, question: str, history: Sequence[Message]) -> str:
    turns = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in history[-6:])
    prompt = prompt_text("rewrite.txt").format(history=turns, question=question)
    with model_errors():
        reply = llm.invoke([HumanMessage(prompt)])
    text = _text(reply).strip().splitlines()
    return text[0].strip() if text and text[0].strip() else question


def evidence(
    question: str, hits: Sequence[Hit], idf: Callable[[str], float]
) -> tuple[float, float]:
    """How well the passages match the question: (embedding similarity of the best passage,
    the rarity-weighted share of the question's words found in one of the top 3 passages).

    A question whose rare words (names, places, numbers) no passage holds is most often one
    the articles do not answer.
    """
    if not hits:
        return 0.0, 0.0
    tokens = set(analyze(question))
    total = sum(idf(t) for t in tokens)
    lexical = 0.0
    if total > 0:
        for hit in hits[:3]:
            have = set(analyze(f"{hit.title} {hit.text}"))
            lexical = max(lexical, sum(idf(t) for t in tokens & have) / total)
    return float(hits[0].dense_score or 0.0), lexical


def regions_not_covered(question: str, hits: Sequence[Hit]) -> list[str]:
    """The regions the question names that no passage's article is about.

    "Apa aplikasi pengaduan Pemkab Cirebon?" is not answered by reports on Kuningan, however
    alike the words: a region asked for must be among the regions (with their ancestors) of
    the articles found.
    """
    have: set[str] = set()
    for hit in hits:
        have.update(hit.metadata.get("regions") or [])
    asked = find_regions(indonesian_place_names(question))
    return [r.name for r in asked if r.name not in have]


class AnswerChain:
    """Builds and runs the chain for one knowledge base and answer mode.

    Args:
        kb: the knowledge base to retrieve from.
        llm: ``None`` for extractive answers, or a LangChain chat model.
        k: passages retrieved per question.
    """

    def __init__(self, kb: KnowledgeBase, llm: Any = None, *, k: int = 5) -> None:
        self.kb = kb
        self.llm = llm
        self.k = k
        self.mode = "extractive" if llm is None else f"llm:{_model_name(llm)}"
        self.retriever = kb.as_retriever(k=k, per_article=None)
        # question (+ history, filters) -> + query -> + hits; then the answer. ``stream`` runs
        # ``prepare`` and the answer's steps itself, to yield the chat model's text as it comes.
        self.prepare: Runnable[dict[str, Any], dict[str, Any]] = RunnablePassthrough.assign(
            query=RunnableLambda(self._query)
        ) | RunnablePassthrough.assign(hits=RunnableLambda(self._retrieve))
        self.runnable: Runnable[dict[str, Any], Answer] = self.prepare | RunnableLambda(
            self._answer
        )

    def _query(self, state: dict[str, Any]) -> str:
        history = state.get("history") or []
        if history and self.llm is not None:
            return _rewrite_with_llm(self.llm, state["question"], history)
        return resolve_followup(state["question"], history)

    def _retrieve(self, state: dict[str, Any], config: RunnableConfig | None = None) -> list[Hit]:
        """The passages, through the knowledge base's LangChain retriever (the one analysts
        use), its run a child of this chain's. Several passages of one article may be
        needed: the answer may sit in its second."""
        k = max(self.k, self.kb.settings.reader_passages if self.kb.reader else 0)
        documents = self.retriever.invoke(state["query"], config, k=k, filters=state.get("filters"))
        return [document_hit(d) for d in documents]

    def _declines(self, spans: Sequence[Span]) -> bool:
        """The reader's decision: no read passage's span beats "no answer" by the margin."""
        reader = self.kb.reader
        assert reader is not None
        limit = reader.threshold + self.kb.settings.reader_margin
        return not spans or max(s.margin for s in spans) <= limit

    def _similarity(self, query: str) -> Callable[[list[str]], Sequence[float]]:
        embedder = self.kb.embedder

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
        index = self.kb.ranker.index
        dense, lexical = evidence(question, hits, index.idf)
        settings = self.kb.settings
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
        if self.kb.reader is not None:
            hits, spans = self.kb.reader.rank(query, hits, self.kb.settings.reader_passages)
            return _Plan(hits, spans=spans, declined=self._declines(spans))
        coverage = self.kb.ranker.index.coverage(query)
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
        answer = check(question, text, plan.hits, query=state["query"], mode=self.mode,
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
        return self._finish(state, plan, _text(reply))

    def _state(
        self,
        question: str,
        history: Sequence[Message] | None,
        filters: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        question = normalize_question(question, self.kb.settings.max_question_chars)
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
                text += _text(piece)
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


def _model_name(llm: Any) -> str:
    for attr in ("model_name", "model", "model_id"):
        value = getattr(llm, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(llm).__name__
