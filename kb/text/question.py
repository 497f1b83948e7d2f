"""What a question may be: cleaned of invisible characters, not empty, and not too long."""

from __future__ import annotations

import unicodedata

from kb.errors import QuestionError

# Control characters (NUL, escape sequences), format characters (zero-width spaces, the
# right-to-left override, BOMs) and lone surrogates: invisible, or unencodable as UTF-8, and
# never part of what was asked.
_DROPPED = frozenset({"Cc", "Cf", "Cs"})


def normalize_question(text: object, max_chars: int) -> str:
    """The question as the product searches it.

    NFKC-normalised (full-width letters become ASCII), invisible characters dropped, runs of
    whitespace collapsed, and cut to ``max_chars`` at the last space before the limit (a long
    question is shortened, not refused).

    Args:
        text: what the user typed.
        max_chars: the ``KB_MAX_QUESTION_CHARS`` setting.

    Returns:
        The cleaned question, at most ``max_chars`` characters.

    Raises:
        QuestionError: nothing is left to search for.
    """
    raw = "" if text is None else str(text)
    # Whitespace controls (tab, newline) separate words; the others vanish.
    kept = "".join(
        " " if c.isspace() else c
        for c in raw
        if c.isspace() or unicodedata.category(c) not in _DROPPED
    )
    question = " ".join(unicodedata.normalize("NFKC", kept).split())
    if not question:
        raise QuestionError("the question is empty: type a question or some keywords")
    if len(question) > max_chars > 0:
        cut = question.rfind(" ", 0, max_chars + 1)
        question = question[: cut if cut > max_chars // 2 else max_chars].rstrip()
    return question
