"""Sentence splitting for Indonesian news text (ingesting and answering both use it)."""

from __future__ import annotations

import re

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
