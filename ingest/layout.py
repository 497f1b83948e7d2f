"""Pages, paragraphs and sections of long reports: whole sentences from PDF lines, the page
each passage is on, and the section path of each passage.

A PDF gives lines, not paragraphs: a sentence wraps over two or three lines, a name over a
line end ("Camat Coblong,⏎Rudi Hartono"), a word over a hyphen ("pelaya-⏎nan"). ``blocks``
joins the lines of each page into paragraphs, and ``assemble`` the pages into one text, with
the offset where each page starts and the headings found on the way; ``sections`` turns the
headings (or the PDF's outline, or a Word file's heading styles) into a section path per
offset. Offsets are offsets in the text built here, the article's text.

The rules, in order of trust:

- **Paragraph breaks**: an empty ``Line`` (Tesseract's blank line, a Word paragraph); a
  vertical gap over ``GAP_FACTOR`` times the page's usual line spacing, a change of type size,
  an indented first line; a line much shorter than the page's long lines (``SHORT_LINE``; on a
  page of short lines, only one that ends a sentence); a bullet or a numbered item after a
  finished sentence; a table of contents' line (dot leaders).
- **Joining**: lines of one paragraph are joined with a space; a word hyphenated at a line end
  is joined without the hyphen, unless the hyphen is part of the word: a reduplication
  ("sehari-⏎hari", "masing-⏎masing") or a form written with the hyphen elsewhere in the
  document. A paragraph left unfinished at the foot of a page goes on with the next page's
  first paragraph when that starts in lower case.
- **Running headers and footers**: a line repeated (digits aside) on at least half of the
  pages of a document of three or more, and a bare page number ("12", "- 12 -", "hal. 12",
  "Halaman 12 dari 80") at the top or the foot of a page, are not text.
- **Headings** stay lines of their own: "BAB IV" (with the title on the same or the next
  line), numbered headings ("4.2 Inovasi Pelayanan", "IV. PENUTUP", "A. Latar Belakang"),
  all-capital lines, and short lines set larger than the body. A heading is a short line
  without a closing period, never a table-of-contents line (dot leaders).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kb.text.words import MONTH_NUMBERS

# A vertical gap this many times the usual line spacing starts a new paragraph.
GAP_FACTOR = 1.35
# A line shorter than this share of the page's long lines (its 90th percentile) ends its
# paragraph.
SHORT_LINE = 0.7
# On a page whose long lines have at least this many characters, a short line ends its
# paragraph even without a closing period (a wrapped line is short only at its end).
MIN_MEASURE = 40
# Type this much larger than the body's marks a heading.
HEADING_SIZE = 1.15
MAX_HEADING_WORDS = 14
MAX_HEADING_CHARS = 120
SEPARATOR = " > "

_END = re.compile(r"[.!?…:;\"'”’)\]]$")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$")
_CHAPTER = re.compile(
    r"(?:BAB|Bab|BAGIAN|Bagian|CHAPTER|Chapter)\s+([IVXLC]+|\d{1,2})\b[.:]?\s*(.*)"
)
_NUMBERED = re.compile(r"(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*)")
_ROMAN = re.compile(r"([IVX]{1,5})\.\s+(\S.*)")
_LETTER = re.compile(r"([A-H])\.\s+(\S.*)")
_LEADERS = re.compile(r"(\.\s?){4,}|…{2,}|\.{3,}\s*\d+$")
_BULLET = re.compile(r"[•●▪◦·\-–*]\s|\(?[a-z0-9]{1,2}\)\s|\d{1,2}\.\s")
_PAGE_NUMBER = re.compile(
    r"(?:(?:hal(?:aman)?|hlm|page|p)\.?\s*)?[-–—]?\s*(\d{1,4}|[ivxlc]{1,6})\s*[-–—]?"
    r"(?:\s*(?:dari|of|/)\s*\d{1,4})?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    """A line of a page as the reader gives it. ``y``: its baseline, up from the page's foot;
    ``x``: where it starts; ``size``: its type size (``None`` when not known, as for OCR).
    An empty ``text`` is a paragraph break."""

    text: str
    y: float | None = None
    x: float | None = None
    size: float | None = None


@dataclass(frozen=True)
class Block:
    """A paragraph, or a heading (``level`` > 0) with its title as a section path names it."""

    text: str
    level: int = 0
    title: str = ""


@dataclass(frozen=True)
class Heading:
    """A heading in the assembled text: where it starts, its level and its title."""

    offset: int
    level: int
    title: str


@dataclass(frozen=True)
class Assembled:
    """A document's text, where each page starts ``(offset, page number)``, its headings."""

    text: str
    pages: tuple[tuple[int, int], ...]
    headings: tuple[Heading, ...]


def heading(text: str, *, larger: bool = False) -> tuple[int, str]:
    """``(level, title)`` when the line reads as a heading, else ``(0, "")``. ``larger``: the
    line is set in larger type than the body."""
    line = " ".join(text.split())
    if not line or len(line) > MAX_HEADING_CHARS or len(line.split()) > MAX_HEADING_WORDS:
        return 0, ""
    if _LEADERS.search(line) or not any(c.isalpha() for c in line):
        return 0, ""
    if _CHAPTER.fullmatch(line):  # "BAB IV", "BAB IV. PENUTUP"
        return 1, line
    if _SENTENCE_END.search(line):  # a sentence, or an item of a list
        return 0, ""
    if (m := _NUMBERED.fullmatch(line)) and _titled(m.group(2)):
        number = m.group(1)
        if "." not in number and int(number) > 30:  # "2024 Kecamatan ..." is not chapter 2024
            return 0, ""
        if m.group(2).split()[0].casefold().strip(",.") in MONTH_NUMBERS:  # "12 Februari 2024"
            return 0, ""
        return number.count(".") + 1, line
    if (m := _ROMAN.fullmatch(line)) and _titled(m.group(2)):
        return 1, line
    if (m := _LETTER.fullmatch(line)) and _titled(m.group(2)) and len(line.split()) <= 8:
        return 2, line
    letters = [c for c in line if c.isalpha()]
    if len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.8 * len(letters):
        return 1, line
    if larger and line[0].isupper() and not line.endswith((",", ";")):
        return 1, line
    return 0, ""


def _titled(rest: str) -> bool:
    """The words after a heading's number read as a title: a capital first, no number alone."""
    first = rest.lstrip("“\"'(")
    return bool(first) and first[0].isupper() and not rest.rstrip().endswith((",", ";"))


def strip_running(pages: Sequence[Sequence[Line]]) -> list[list[Line]]:
    """The pages without their running headers and footers and bare page numbers."""
    edge_keys: list[set[str]] = []
    for lines in pages:
        edge_keys.append({_running_key(line.text) for line in _edges(lines, 3)})
    counts = Counter(key for keys in edge_keys for key in keys if key)
    threshold = max(3, (len(pages) + 1) // 2)
    running = {key for key, n in counts.items() if n >= threshold} if len(pages) >= 3 else set()
    kept: list[list[Line]] = []
    for lines in pages:
        edges = {id(line) for line in _edges(lines, 2)}
        body = [
            line
            for line in lines
            if not (
                line.text.strip()
                and (
                    _running_key(line.text) in running
                    or (id(line) in edges and _PAGE_NUMBER.fullmatch(line.text.strip()))
                )
            )
        ]
        # Headers and footers stand beside a page's text: a page of nothing else keeps it.
        kept.append(body if any(line.text.strip() for line in body) else list(lines))
    return kept


def _running_key(text: str) -> str:
    return re.sub(r"\d+", "#", " ".join(text.split()).casefold())


def _edges(lines: Sequence[Line], n: int) -> list[Line]:
    """The ``n`` top and ``n`` bottom lines of a page (by position when known)."""
    real = [line for line in lines if line.text.strip()]
    if all(line.y is not None for line in real):
        real = sorted(real, key=lambda line: -(line.y or 0.0))
    return real[:n] + real[-n:]


def blocks(
    lines: Sequence[Line],
    body_size: float | None = None,
    hyphenated: frozenset[str] = frozenset(),
) -> list[Block]:
    """The paragraphs and headings of one page's lines, in order. ``body_size``: the type
    size of the document's body text (larger lines may be headings); ``hyphenated``: words
    that keep their hyphen at a line end (``hyphenated_words``)."""
    real = [line for line in lines if line.text.strip()]
    if not real:
        return []
    long_line = sorted(len(line.text.strip()) for line in real)[int(0.9 * (len(real) - 1))]
    spacing = _line_spacing(real)
    out: list[Block] = []
    para: list[str] = []
    prev: Line | None = None

    def flush() -> None:
        if para:
            out.append(Block(join_lines(para, hyphenated)))
            para.clear()

    for line in lines:
        text = " ".join(line.text.split())
        if not text:
            flush()
            prev = None
            continue
        larger = bool(
            body_size and line.size and line.size >= HEADING_SIZE * body_size and len(text) > 1
        )
        level, title = heading(text, larger=larger)
        if (
            larger
            and not para
            and out
            and out[-1].level
            and prev is not None
            and prev.size == line.size
            and not _gap_before(prev, line, spacing)
        ):
            # The second line of a heading set large ("BAB IV" over "HASIL DAN PEMBAHASAN").
            joined = f"{out[-1].text} {text}"
            out[-1] = Block(joined, out[-1].level, heading(joined, larger=True)[1] or joined)
            prev = line
            continue
        if level and (
            not para or _finished(para[-1]) or larger or _gap_before(prev, line, spacing)
        ):
            flush()
            out.append(Block(text, level, title))
            prev = line
            continue
        if para and (
            _gap_before(prev, line, spacing)
            or (
                len(para[-1]) < SHORT_LINE * long_line
                and (_finished(para[-1]) or long_line >= MIN_MEASURE)
            )
            or (_finished(para[-1]) and _BULLET.match(text))
            or _LEADERS.search(para[-1])  # an entry of a table of contents
            or (para[-1].endswith(":") and _BULLET.match(text))
        ):
            flush()
        para.append(text)
        prev = line
    flush()
    return out


def _finished(text: str) -> bool:
    return bool(_END.search(text))


def _line_spacing(lines: Sequence[Line]) -> dict[float, float]:
    """The usual distance between consecutive lines of each type size on a page."""
    gaps: dict[float, list[float]] = {}
    for a, b in itertools.pairwise(lines):
        if a.y is None or b.y is None or a.size != b.size:
            continue
        gap = a.y - b.y
        if gap > 0:
            gaps.setdefault(round(a.size or 0.0, 1), []).append(gap)
    return {size: sorted(g)[len(g) // 2] for size, g in gaps.items()}


def _gap_before(prev: Line | None, line: Line, spacing: dict[float, float]) -> bool:
    """Whether the position of ``line`` under ``prev`` says a new paragraph starts."""
    if prev is None or prev.y is None or line.y is None:
        return False
    if prev.size and line.size and abs(prev.size - line.size) > 0.5:
        return True
    gap = prev.y - line.y
    if gap <= 0:  # a new column, or text placed out of order
        return True
    size = line.size or 0.0
    usual = spacing.get(round(size, 1)) or 1.2 * size or gap
    if gap > GAP_FACTOR * usual:
        return True
    indent = 0.8 * (size or 10.0)
    return (
        prev.x is not None
        and line.x is not None
        and line.x > prev.x + indent
        and _finished(prev.text.strip())
    )


def join_lines(lines: Sequence[str], hyphenated: frozenset[str] = frozenset()) -> str:
    """The lines of one paragraph as one line (see the module's docstring for hyphens)."""
    text = ""
    for line in lines:
        text = join_two(text, line, hyphenated) if text else line
    return text


_HYPHEN_END = re.compile(r"(\w+)-$")
_WORD_START = re.compile(r"([a-z]\w*)")


def join_two(left: str, right: str, hyphenated: frozenset[str] = frozenset()) -> str:
    """``left`` and ``right`` (the next line) joined: with a space, or over a hyphen."""
    end = _HYPHEN_END.search(left)
    start = _WORD_START.match(right)
    if end and start and end.group(1)[-1].isalpha():
        before, after = end.group(1), start.group(1)
        whole = f"{before}-{after}".casefold()
        if _reduplicated(before, after) or whole in hyphenated:
            return left + right
        return left[:-1] + right
    return f"{left} {right}"


def _reduplicated(before: str, after: str) -> bool:
    """ "masing-masing", "sehari-hari", "berlari-lari", "kupu-kupu": the hyphen is the word's."""
    a, b = before.casefold(), after.casefold()
    return len(b) >= 2 and (a == b or a.endswith(b) or b.startswith(a) or b.endswith(a))


def hyphenated_words(texts: Iterable[str]) -> frozenset[str]:
    """Words written with a hyphen inside a line ("bolak-balik"): they keep it at a line end."""
    found: set[str] = set()
    for text in texts:
        found.update(m.casefold() for m in re.findall(r"\b[^\W\d_]+-[^\W\d_]+\b", text))
    return frozenset(found)


def body_size(pages: Sequence[Sequence[Line]]) -> float | None:
    """The type size most of a document's letters are set in (``None`` when not known)."""
    sizes: Counter[float] = Counter()
    for lines in pages:
        for line in lines:
            if line.size:
                sizes[round(line.size, 1)] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else None


def assemble(
    pages: Sequence[Sequence[Block]],
    first_page: int = 1,
    hyphenated: frozenset[str] = frozenset(),
) -> Assembled:
    """One text from each page's blocks, paragraphs apart by a blank line; a paragraph left
    unfinished at a page's foot goes on with the next page's first paragraph when that starts
    in lower case. ``pages``: empty pages included (their numbers count)."""
    parts: list[str] = []
    length = 0
    page_starts: list[tuple[int, int]] = []
    headings: list[Heading] = []
    last: Block | None = None
    for number, page in enumerate(pages, first_page):
        for i, block in enumerate(page):
            continues = (
                i == 0
                and last is not None
                and last.level == 0
                and block.level == 0
                and not _finished(last.text)
                and block.text[:1].islower()
            )
            if continues:
                joined = join_two(parts[-1], block.text, hyphenated)
                # The page starts at the first character of this page's part of the paragraph.
                start = length - len(parts[-1]) + len(joined) - len(block.text)
                length += len(joined) - len(parts[-1])
                parts[-1] = joined
                page_starts.append((start, number))
            else:
                if parts:
                    parts.append("\n\n")
                    length += 2
                if i == 0:
                    page_starts.append((length, number))
                if block.level:
                    headings.append(Heading(length, block.level, block.title or block.text))
                parts.append(block.text)
                length += len(block.text)
            last = block
    return Assembled("".join(parts), tuple(page_starts), tuple(headings))


def sections(headings: Sequence[Heading]) -> tuple[tuple[int, str], ...]:
    """``(offset, path)`` at each heading: its title under those of the open headings above
    it ("BAB IV Hasil > 4.2 Inovasi Pelayanan"). "BAB IV" alone takes the title on the next
    heading line."""
    merged: list[Heading] = []
    for h in headings:
        if (
            merged
            and (m := _CHAPTER.fullmatch(merged[-1].title))
            and not m.group(2)
            and merged[-1].level == 1
            and h.level == 1
            and not _CHAPTER.fullmatch(h.title)
            and not _NUMBERED.fullmatch(h.title)
        ):
            merged[-1] = Heading(merged[-1].offset, 1, f"{merged[-1].title} {h.title}")
            continue
        merged.append(h)
    out: list[tuple[int, str]] = []
    stack: list[Heading] = []
    for h in merged:
        while stack and stack[-1].level >= h.level:
            stack.pop()
        stack.append(h)
        out.append((h.offset, SEPARATOR.join(" ".join(s.title.split()) for s in stack)))
    return tuple(out)


def page_at(pages: Sequence[tuple[int, int]], offset: int) -> int | None:
    """The page ``offset`` is on (``None`` for a text without pages)."""
    page = None
    for start, number in pages:
        if start > offset:
            break
        page = number
    if page is None and pages:
        page = pages[0][1]
    return page


def text_lines(text: str) -> tuple[Line, ...]:
    """Lines of a page known only as text (Tesseract's): a blank line is a paragraph break."""
    return tuple(Line(line.strip()) for line in text.split("\n"))
