"""Sentence-aware chunking with character offsets, so a citation can quote its exact passage."""

from __future__ import annotations

import hashlib

from ingest.layout import page_at
from kb.text.sentences import split_sentences
from kb.types import Article, Chunk


def _split_long(text: str, span: tuple[int, int], max_chars: int) -> list[tuple[int, int]]:
    """Cut a sentence longer than ``max_chars`` at spaces (after a comma when one is near)."""
    start, end = span
    pieces: list[tuple[int, int]] = []
    while end - start > max_chars:
        window = text[start : start + max_chars]
        cut = window.rfind(", ")
        if cut < max_chars // 2:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = max_chars
        else:
            cut += 1
        pieces.append((start, start + cut))
        start += cut
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        pieces.append((start, end))
    return pieces


def chunk_spans(text: str, max_chars: int = 900, overlap_chars: int = 200) -> list[tuple[int, int]]:
    """Group whole sentences into spans of at most ``max_chars``.

    Each chunk after the first starts with the last sentences of the one before, as many as
    fit in ``overlap_chars``, so a fact told across a boundary is whole in one chunk.
    """
    if max_chars < 50:
        raise ValueError("max_chars must be at least 50")
    sentences: list[tuple[int, int]] = []
    for span in split_sentences(text):
        sentences.extend(_split_long(text, span, max_chars))
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(sentences):
        j = i
        while j + 1 < len(sentences) and sentences[j + 1][1] - sentences[i][0] <= max_chars:
            j += 1
        chunks.append((sentences[i][0], sentences[j][1]))
        if j + 1 >= len(sentences):
            break
        # Step back over trailing sentences that fit in the overlap, but always move forward.
        k = j + 1
        while k - 1 > i and sentences[j][1] - sentences[k - 1][0] <= overlap_chars:
            k -= 1
        i = k
    return chunks


def make_chunks(article: Article, max_chars: int = 900, overlap_chars: int = 200) -> list[Chunk]:
    """The chunks of an article; ids derive from the article id, the position and the text.

    A chunk stays inside one section (``Article.sections``), and records the pages it starts
    and ends on (``Article.pages``).
    """
    text = article.text
    chunks: list[Chunk] = []
    for lo, hi, section in _section_ranges(article.sections, text):
        for start, end in chunk_spans(text[lo:hi], max_chars, overlap_chars):
            start, end = start + lo, end + lo
            piece = text[start:end]
            digest = hashlib.sha1(piece.encode("utf-8")).hexdigest()[:10]
            page, page_end = page_at(article.pages, start), page_at(article.pages, end - 1)
            chunks.append(
                Chunk(
                    chunk_id=f"{article.doc_id}#{len(chunks):04d}-{digest}",
                    doc_id=article.doc_id,
                    index=len(chunks),
                    text=piece,
                    start=start,
                    end=end,
                    page=page,
                    page_end=page_end,
                    page_breaks=tuple((o, n) for o, n in article.pages if start < o < end),
                    section=section,
                )
            )
    return chunks


def _section_ranges(sections: tuple[tuple[int, str], ...], text: str) -> list[tuple[int, int, str]]:
    """``(start, end, path)`` of each stretch of the text under one section path. A heading
    with nothing under it but the next heading ("BAB IV" over "4.1 ...") joins the next
    stretch, whose path names it: it is no passage of its own."""
    length = len(text)
    bounds = [(0, "")] + [(o, p) for o, p in sections if 0 <= o < length]
    ranges: list[tuple[int, int, str]] = []
    carried: int | None = None
    for (start, path), (end, _) in zip(bounds, [*bounds[1:], (length, "")], strict=True):
        if end <= start:
            continue
        if carried is not None:
            start, carried = carried, None
        if path and end < length and "\n" not in text[start:end].strip():
            carried = start
            continue
        ranges.append((start, end, path))
    return ranges
