"""When to decline: the evidence gate, the regions a question names that no passage covers,
and the decline itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from kb.text.analysis import analyze
from kb.text.language import detect_language
from kb.text.regions import find_regions, indonesian_place_names
from kb.types import Answer, Hit

if TYPE_CHECKING:
    pass


ABSTAIN_TEXT = {
    "id": "Laporan yang tersedia tidak memuat jawaban atas pertanyaan ini.",
    "en": "The available reports do not contain an answer to this question.",
}


CLOSEST = {"id": "Bagian laporan yang paling dekat:", "en": "The closest passages:"}


def abstain(
    question: str,
    hits: Sequence[Hit],
    *,
    query: str = "",
    mode: str = "extractive",
    language: str | None = None,
    unsupported: Sequence[str] = (),
) -> Answer:
    language = language or detect_language(question)
    return Answer(
        question=question,
        text=ABSTAIN_TEXT[language],
        hits=tuple(hits),
        abstained=True,
        unsupported=tuple(unsupported),
        query=query,
        mode=mode,
        language=language,
    )


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
