"""Sentence-aware chunking with character offsets, so a citation can quote its exact passage."""

from __future__ import annotations

import hashlib
import re

from ingest.layout import page_at
from ingest.types import Article, Chunk

# Abbreviations common in Indonesian news whose period does not end a sentence.
_ABBREVIATIONS = frozenset(
    (
        "kec kab kel ds prov pemkot pemkab jl jln no nomor hlm tel telp dr drs dra ir h hj kh "
        "prof st sh se mm mh msi mpd mkes spd skm sos ssos amd bpk ibu sdr sdri yth tn ny nn "
        "pt cv tbk rp dll dsb dkk tsb sbb yg dgn utk thn tgl mr mrs ms jr sr vs cf etc inc ltd co"
    ).split(" ")
)

# A sentence ends at . ! ? (and any closing quotes/brackets after it) followed by whitespace.
# Possessive runs that start only at the first terminator of a run: a line of 100,000 dots is
# one linear scan, not a quadratic backtrack.
_END = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s)")
_NEXT_CHAR = re.compile(r"\s*+(\S)")
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_LONGEST_ABBREVIATION = max(len(a) for a in _ABBREVIATIONS)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans ``(start, end)`` of the sentences of ``text``, whitespace excluded.

    Line breaks end sentences too. Periods after abbreviations ("Kec.", "H.", "Rp.") and
    single letters (initials) do not.
    """
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        line = para.group()
        cursor = 0
        for m in _END.finditer(line):
            end = m.end()
            if _is_abbreviation(line, cursor, m.start()):
                continue
            nxt = _NEXT_CHAR.match(line, end)
            # "…rombongan tiba. kemudian" (lowercase next word) is most often not a new sentence.
            if nxt and nxt.group(1).islower():
                continue
            _add_span(spans, text, start + cursor, start + end)
            cursor = end
        _add_span(spans, text, start + cursor, start + len(line))
    return spans


def _is_abbreviation(line: str, cursor: int, stop: int) -> bool:
    """Whether the period at ``line[stop]`` follows an initial or a known abbreviation (the
    ASCII letters right before it, after ``cursor``)."""
    if line[stop] != ".":
        return False
    # Only the last few letters are looked at, so a long run of letters costs nothing.
    start = stop
    while start > cursor and line[start - 1] in _LETTERS and stop - start <= _LONGEST_ABBREVIATION:
        start -= 1
    word = line[start:stop]
    if not word or (start > cursor and line[start - 1] in _LETTERS):
        return False
    return len(word) == 1 or word.lower() in _ABBREVIATIONS


def _add_span(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


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


def embedding_text(title: str, text: str, section: str = "") -> str:
    """What is embedded for a chunk: the title (it often names the place and the topic), the
    section path of a long report, then the passage. The stored passage stays bare, so its
    offsets point into the article."""
    head = "\n".join(x for x in (title, section) if x)
    return f"{head}\n{text}" if head else text


def embedding_key(embedded: str) -> str:
    """A short fingerprint of an ``embedding_text``, stored with the chunk: a passage embedded
    before (in this article, another one, or the same file moved) keeps its vector."""
    return hashlib.sha1(embedded.encode("utf-8")).hexdigest()[:20]
