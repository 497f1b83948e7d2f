"""Follow-up questions made whole: "Siapa camatnya?" after a question about Ciputat becomes
a question about Ciputat's camat (by rule, or by the chat model when there is one)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import HumanMessage

from kb.answer.llm import message_text, model_errors, prompt_text

if TYPE_CHECKING:
    pass


Message = Mapping[str, Any]


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


def rewrite_with_llm(llm: Any, question: str, history: Sequence[Message]) -> str:
    turns = "\n".join(f"{m.get('role')}: {m.get('content')}" for m in history[-6:])
    prompt = prompt_text("rewrite.txt").format(history=turns, question=question)
    with model_errors():
        reply = llm.invoke([HumanMessage(prompt)])
    text = message_text(reply).strip().splitlines()
    return text[0].strip() if text and text[0].strip() else question
