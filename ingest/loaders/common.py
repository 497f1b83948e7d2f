"""What every loader shares: the failure exception, limits, and small text helpers."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
# Generous for a report; a parser stuck longer than this is stuck on a malformed file.
PARSE_TIMEOUT_S = 60.0
SNIFF_BYTES = 8192
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


@dataclass(frozen=True)
class LoadLimits:
    """How much a file may cost to read, and how scanned pages are read.

    Attributes:
        max_bytes: larger files are refused without being read (``KB_MAX_FILE_MB``); for a
            PDF or an image, the limit is a page's (see ``ingest.loaders.ocr``).
        max_chars: an article whose text is longer is refused.
        timeout_s: an HTML, PDF or Word file whose parsing takes longer is refused
            (``KB_PARSE_TIMEOUT_S``); those parsers run in a child process that is killed at
            the deadline. For OCR the limit is each page's. 0 parses in this process, with no
            time limit.
        ocr: ``auto`` (PDF pages without a usable text layer and images are recognised with
            Tesseract when it is installed) or ``off`` (``KB_OCR``).
        ocr_cache: the folder of the OCR cache (``<store>/ocr-cache``); ``None``: no cache.
        on_page: called as ``on_page(source, done, total)`` before a file's first page is
            recognised and after each (``total``: its pages that need OCR), for progress bars.
    """

    max_bytes: int = MAX_FILE_BYTES
    max_chars: int = MAX_TEXT_CHARS
    timeout_s: float = PARSE_TIMEOUT_S
    ocr: str = "auto"
    ocr_cache: Path | None = None
    on_page: Callable[[str, int, int], None] | None = None


@dataclass(frozen=True)
class Parsed:
    """What a parser read of a file: the article's title, its text, metadata the file gives,
    and for paged and sectioned documents (PDF, Word) where pages and sections start:
    ``pages`` ``(offset, page number)``, ``sections`` ``(offset, section path)``, offsets in
    ``text``."""

    title: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: tuple[tuple[int, int], ...] = ()
    sections: tuple[tuple[int, str], ...] = ()


class LoadError(Exception):
    """A file's content cannot become an article; the message is the Failure reason."""


def short(exc: BaseException | str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters."""
    message = " ".join(str(exc).split())
    if not message and isinstance(exc, BaseException):
        message = type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"


def too_long(n: int, limit: int) -> str:
    return f"text too long ({n:,} characters; limit {limit:,})"


def split_first_line(text: str, stem: str) -> tuple[str, str]:
    """Title = the first non-empty line, body = the rest; a single line is the body."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    body = "\n".join(lines[first + 1 :]).strip()
    if not body:
        return stem, lines[first].strip()
    return lines[first].strip(), body


def same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


_SURROGATE = re.compile("[\ud800-\udfff]")


def no_surrogates(text: str) -> str:
    """``text`` with lone surrogates (from a JSON ``"\\ud800"`` escape, say) replaced by U+FFFD.

    They cannot be encoded as UTF-8, so hashing or storing the text would fail; one
    character replaces one, so offsets into the text stay right."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text
