"""PDF files: the text layer of every page (pypdf) as lines with their position and type size,
which pages show an image, the outline, and a meaningful document title. Pages without a usable
text layer are recognised by ``ocr``. ``pdf_article`` joins the lines into paragraphs and the
pages into one text with its pages and sections (``ingest.layout``)."""

from __future__ import annotations

import io
import itertools
import logging
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.layout import (
    Assembled,
    Heading,
    Line,
    assemble,
    blocks,
    body_size,
    hyphenated_words,
    sections,
    strip_running,
)
from ingest.loaders.common import LoadError, Parsed, same_text, short, too_long

# Document-info titles that name the software or the file rather than the report.
_PLACEHOLDER_TITLE = re.compile(
    r"(untitled.*|document\s*\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|rtf|odt|txt))",
    re.IGNORECASE,
)
NO_TEXT_LAYER = "no text layer (scanned PDF?)"


@dataclass(frozen=True)
class PdfLayer:
    """What pypdf reads of a PDF: each page's text layer as lines with their positions,
    whether each page shows an image (a scan is a picture of the page), the document-info
    title ("" when it says nothing) and the outline ``(level, page index, title)``."""

    lines: tuple[tuple[Line, ...], ...]
    images: tuple[bool, ...]
    info_title: str
    outline: tuple[tuple[int, int, str], ...] = ()

    @property
    def pages(self) -> tuple[str, ...]:
        """Each page's text layer as text."""
        return tuple(_page_text(page) for page in self.lines)


def _page_text(lines: tuple[Line, ...]) -> str:
    return "\n".join(line.text for line in lines).strip()


def read_layer(data: bytes, path: Path, max_chars: int) -> PdfLayer:
    """The text layer of every page (runs in the parser's child process); raises ``LoadError``."""
    logger = logging.getLogger("pypdf")
    level = logger.level
    # pypdf logs and warns about every recoverable defect; a failure says what matters.
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read_layer(data, path, max_chars)
    finally:
        logger.setLevel(level)


def _read_layer(data: bytes, path: Path, max_chars: int) -> PdfLayer:
    from pypdf import PasswordType, PdfReader

    if b"%PDF-" not in data[:1024]:
        raise LoadError("not a valid PDF: no PDF header")
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as e:
            raise LoadError(f"encrypted PDF that cannot be opened: {short(e)}") from e
        if opened == PasswordType.NOT_DECRYPTED:
            raise LoadError("encrypted PDF (needs a password)")
    lines: list[tuple[Line, ...]] = []
    images: list[bool] = []
    total = 0
    for page in reader.pages:
        found = page_lines(page)
        text = _page_text(found)
        lines.append(found)
        images.append(_shows_image(page))
        if text:
            total += len(text) + 2
            if total > max_chars:
                raise LoadError(too_long(total, max_chars))
    return PdfLayer(
        tuple(lines), tuple(images), _pdf_info_title(reader, path.stem), _outline(reader)
    )


def page_lines(page: Any) -> tuple[Line, ...]:
    """A page's text layer as lines, each with where its first piece of text stands and the
    type size of its longest piece (pypdf's text, read through its ``visitor_text``)."""
    lines: list[Line] = []
    parts: list[str] = []
    state: dict[str, Any] = {"at": None, "size": 0.0, "longest": 0}

    def end_line() -> None:
        text = "".join(parts).replace("\r", "").strip()
        at = state["at"]
        if text:
            x, y = (at[0], at[1]) if at else (None, None)
            lines.append(Line(text, y=y, x=x, size=state["size"] or None))
        parts.clear()
        state.update(at=None, size=0.0, longest=0)

    def visit(text: str, cm: Any, tm: Any, font: Any, font_size: Any) -> None:
        del font
        if not text:
            return
        pieces = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for n, piece in enumerate(pieces):
            if n:
                end_line()
            if not piece.strip():
                continue
            if state["at"] is None and n == 0:
                state["at"] = _position(cm, tm)
            if len(piece) > state["longest"]:
                state.update(longest=len(piece), size=_size(cm, tm, font_size))
            parts.append(piece)

    page.extract_text(visitor_text=visit)
    end_line()
    return tuple(lines)


def _position(cm: Any, tm: Any) -> tuple[float, float] | None:
    """Where text drawn with these matrices starts, on the page (``None`` if unreadable)."""
    try:
        x, y = float(tm[4]), float(tm[5])
        a, b, c, d, e, f = (float(v) for v in cm)
    except (TypeError, ValueError, IndexError):
        return None
    return a * x + c * y + e, b * x + d * y + f


def _size(cm: Any, tm: Any, font_size: Any) -> float:
    """The type size on the page: the font size scaled by the text and page matrices."""
    try:
        scale = math.hypot(float(tm[2]), float(tm[3])) * math.hypot(float(cm[2]), float(cm[3]))
        return round(float(font_size) * (scale or 1.0), 1)
    except (TypeError, ValueError, IndexError):
        return 0.0


def _outline(reader: Any) -> tuple[tuple[int, int, str], ...]:
    """The PDF's outline (bookmarks) as ``(level, page index, title)``; () when it has none
    or it cannot be read."""
    found: list[tuple[int, int, str]] = []

    def walk(items: Any, level: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, level + 1)
                continue
            try:
                page = reader.get_destination_page_number(item)
                title = " ".join(str(item.title or "").split())
            except Exception:  # a broken entry costs only itself
                continue
            if title and page is not None and page >= 0:
                found.append((level, page, title))

    try:
        walk(reader.outline, 1)
    except Exception:  # a broken outline: sections come from the headings instead
        return ()
    return tuple(found)


def _shows_image(page: Any) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # broken resources: the page is read from its text layer, as it was
        return False


def pdf_article(layer: PdfLayer, pages: list[tuple[Line, ...]], stem: str) -> Parsed:
    """Title, text, pages and sections from the final lines of each page (its text layer or
    its OCR). The title is the document-info title, else the first line of text (as a title
    page or a first heading gives it); running headers and footers are never the title."""
    kept = strip_running(pages)
    real = [(i, line) for i, page in enumerate(kept) for line in page if line.text.strip()]
    if not real:
        raise LoadError(NO_TEXT_LAYER)
    first_page, first = real[0]
    title = layer.info_title
    if len(real) > 1 and (not title or same_text(first.text, title)):
        title = title or " ".join(first.text.split())
        kept[first_page] = [line for line in kept[first_page] if line is not first]
    title = title or stem
    hyphenated = hyphenated_words(line.text for page in kept for line in page)
    size = body_size(kept)
    found_blocks = [blocks(page, size, hyphenated) for page in kept]
    first_block = next(p for p in found_blocks if p)
    if len(real) > 1 and same_text(first_block[0].text, title):  # a title set over two lines
        first_block.pop(0)
    assembled = assemble(found_blocks, hyphenated=hyphenated)
    outline = [e for e in layer.outline if e[1] < len(pages)]
    found = _outline_sections(outline, assembled) if len(outline) >= 2 else None
    if found is None:
        found = sections(assembled.headings)
    return Parsed(title, assembled.text, {}, pages=assembled.pages, sections=found)


def _outline_sections(
    outline: list[tuple[int, int, str]], assembled: Assembled
) -> tuple[tuple[int, str], ...]:
    """Sections from the outline: each entry starts at its title on its page (the page's
    start when the title is not found there)."""
    starts = {number - 1: offset for offset, number in assembled.pages}
    ends = {}
    ordered = sorted(starts.items())
    for (page, _), (_, nxt) in itertools.pairwise(ordered):
        ends[page] = nxt
    lowered = assembled.text.casefold()
    headings: list[Heading] = []
    floor = 0
    for level, page, title in outline:
        start = starts.get(page)
        if start is None:  # an empty page: the next page that has text
            later = [o for p, o in ordered if p > page]
            start = later[0] if later else len(assembled.text)
        end = ends.get(page, len(assembled.text))
        pattern = r"\s+".join(re.escape(w) for w in title.casefold().split())
        m = re.compile(pattern).search(lowered, max(start, floor), max(end, start))
        offset = m.start() if m else max(start, floor)
        floor = offset
        headings.append(Heading(offset, level, title))
    return sections(headings)


def _pdf_info_title(reader: Any, stem: str) -> str:
    try:
        title = reader.metadata.title if reader.metadata else None
    except Exception:  # a broken info dictionary only costs us the title
        return ""
    title = " ".join(str(title or "").split())
    if (
        not title
        or not any(c.isalpha() for c in title)
        or _PLACEHOLDER_TITLE.fullmatch(title)
        or title == stem
    ):
        return ""
    return title
