"""The citation check every answer passes (``check_citations``).

Markers that point at no passage are removed, sentences whose cited passage does not support
them are flagged, citations are renumbered in order of first use, and an answer with no
supported sentence becomes a decline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kb.answer.gate import abstain
from kb.text.analysis import analyze
from kb.text.language import detect_language
from kb.text.sentences import split_sentences
from kb.types import Answer, Citation, Hit

_MARKER = re.compile(r"\s*\[(\d+)\]")


def normalize_span(text: str) -> str:
    """Spans compared for sameness: lower case, words only."""
    return " ".join(re.findall(r"\w+", text.lower()))


def _supported(sentence: str, passages: Sequence[str]) -> bool:
    """A sentence is supported when it is in the passage verbatim, or when the passages hold
    its numbers and most of its words."""
    bare = " ".join(sentence.replace("**", "").replace("…", " ").split())
    joined = " ".join(" ".join(p.split()) for p in passages)
    if bare and bare in joined:
        return True
    numbers = re.findall(r"\d+(?:[.,]\d+)*", bare)
    if any(n not in joined for n in numbers):
        return False
    tokens = set(analyze(bare))
    if not tokens:
        return False
    have = set(analyze(joined))
    return len(tokens & have) / len(tokens) >= 0.6


def check_citations(
    question: str,
    text: str,
    hits: Sequence[Hit],
    *,
    query: str = "",
    mode: str = "extractive",
    language: str | None = None,
) -> Answer:
    """The citation check; every answer passes through it before it is final."""
    language = language or detect_language(question)
    kept: list[str] = []
    unsupported: list[str] = []
    order: list[int] = []  # hit indexes in order of first use
    quotes: dict[int, list[str]] = {}
    for sentence in answer_sentences(text):
        markers = [int(m) for m in _MARKER.findall(sentence)]
        valid = [m for m in markers if 1 <= m <= len(hits)]
        bare = _MARKER.sub("", sentence).strip()
        if not bare:
            continue
        if not valid:
            unsupported.append(bare)
            continue
        if not _supported(bare, [hits[m - 1].text for m in valid]):
            unsupported.append(bare)
            continue
        for m in valid:
            if m - 1 not in order:
                order.append(m - 1)
            quotes.setdefault(m - 1, []).append(_closest_sentence(bare, hits[m - 1].text))
        renumbered = " ".join(f"[{order.index(m - 1) + 1}]" for m in dict.fromkeys(valid))
        kept.append(f"{bare} {renumbered}")
    if not kept:
        return abstain(question, hits, query=query, mode=mode, language=language,
                       unsupported=unsupported)  # fmt: skip
    citations = tuple(_citation(n, hits[i], quotes[i]) for n, i in enumerate(order, 1))
    return Answer(
        question=question,
        text=" ".join(kept),
        citations=citations,
        hits=tuple(hits),
        unsupported=tuple(unsupported),
        query=query,
        mode=mode,
        language=language,
    )


def answer_sentences(text: str) -> list[str]:
    """Sentences of an answer, each with the ``[n]`` markers written after its full stop."""
    out: list[str] = []
    for start, end in split_sentences(text):
        piece = text[start:end]
        lead = re.match(r"^(?:\s*\[\d+\])+", piece)
        if lead and out:
            out[-1] += lead.group()
            piece = piece[lead.end() :].strip()
        if piece:
            out.append(piece)
    return out


def _closest_sentence(sentence: str, passage: str) -> str:
    """The passage's sentence that shares most words with an answer sentence (the quote)."""
    bare = " ".join(sentence.replace("**", "").replace("…", " ").split())
    best, best_overlap = passage, -1.0
    tokens = set(analyze(bare))
    for a, b in split_sentences(passage):
        piece = passage[a:b]
        if " ".join(piece.split()) == bare:
            return piece
        overlap = len(tokens & set(analyze(piece))) / (len(tokens) or 1)
        if overlap > best_overlap:
            best, best_overlap = piece, overlap
    return best


def _citation(n: int, hit: Hit, quotes: Sequence[str]) -> Citation:
    meta = hit.metadata
    quote = " ".join(dict.fromkeys(quotes))
    first = hit.text.find(quotes[0])
    start = hit.start + first if first >= 0 else hit.start
    last = hit.text.find(quotes[-1])
    end = hit.start + last + len(quotes[-1]) if last >= 0 else hit.end
    if 0 <= first <= last:
        # Two sentences of one passage that are not neighbours: quote the article from the
        # first to the last, so that the quote is what lies at start:end.
        quote = hit.text[first : last + len(quotes[-1])]
    end = max(end, start)
    page, page_end = hit.pages_of(start, end)
    return Citation(
        n=n,
        doc_id=hit.doc_id,
        title=hit.title,
        quote=quote,
        start=start,
        end=end,
        url=str(meta.get("url") or meta.get("src_url") or ""),
        date=str(meta.get("date") or meta.get("date_text") or ""),
        outlet=str(meta.get("outlet") or ""),
        chunk_id=hit.chunk_id,
        page=page,
        page_end=page_end,
        section=hit.section,
        also_in=hit.also_in,
    )
