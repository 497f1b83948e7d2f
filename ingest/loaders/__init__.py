"""Read report files (text, Markdown, HTML, PDF, Word, jsonl, images of pages) into
``Article`` records.

Bad content never raises: a file or jsonl line that cannot be read becomes a ``Failure`` with a
one-line reason, so one broken file does not stop a batch. Every file is size-limited; HTML,
PDF and Word files are parsed in a child process under a time and memory limit
(``LoadLimits``), so a malformed file that would make a parser loop is refused, not waited for.
PDF pages without a usable text layer and images are recognised with Tesseract, page by page
in that child, with a page's time and size limits (``ocr``). The parsers (pypdf,
python-docx, BeautifulSoup, PDFium, Pillow, pytesseract) are imported only where they run.

Modules: ``files`` (discover, doc ids), ``text``, ``webpage``, ``pdf``, ``word``, ``jsonl``
(one per format), ``ocr`` (scanned pages: the text-layer rule, the cache), ``scan`` (a page
rendered and read by Tesseract), ``parsers`` (never-raising entries, the time limit),
``sandbox`` (the child process).
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Iterator
from pathlib import Path

from ingest.loaders.common import (
    MAX_FILE_BYTES,
    MAX_TEXT_CHARS,
    PARSE_TIMEOUT_S,
    LoadError,
    LoadLimits,
    Parsed,
    no_surrogates,
    short,
)
from ingest.loaders.files import discover, doc_id_for, unsupported
from ingest.loaders.jsonl import load_jsonl
from ingest.loaders.ocr import SCAN_FILE_FACTOR, read_image, read_pdf
from ingest.loaders.parsers import SANDBOXED, parse, run_limited
from ingest.loaders.word import MAX_DOCX_RATIO, MAX_DOCX_UNCOMPRESSED_BYTES
from kb.formats import IMAGE_SUFFIXES, SUPPORTED_SUFFIXES, size
from kb.types import Article, Failure

__all__ = [
    "IMAGE_SUFFIXES",
    "MAX_DOCX_RATIO",
    "MAX_DOCX_UNCOMPRESSED_BYTES",
    "MAX_FILE_BYTES",
    "MAX_TEXT_CHARS",
    "PARSE_TIMEOUT_S",
    "SUPPORTED_SUFFIXES",
    "LoadLimits",
    "discover",
    "doc_id_for",
    "load",
    "load_file",
]


def load_file(
    path: Path,
    *,
    max_bytes: int = MAX_FILE_BYTES,
    max_chars: int = MAX_TEXT_CHARS,
    timeout_s: float = PARSE_TIMEOUT_S,
    ocr: str = "auto",
    ocr_cache: Path | None = None,
    on_page: Callable[[str, int, int], None] | None = None,
) -> Iterator[Article | Failure]:
    """Read one file into articles: one per file, or one per line of a ``.jsonl`` file.

    Args:
        path: the file; its type is chosen by suffix (see ``SUPPORTED_SUFFIXES``).
        max_bytes: larger files are refused without being read; a PDF or an image may hold
            this much a page (up to ``SCAN_FILE_FACTOR`` times it in all).
        max_chars: an article whose text is longer is refused.
        timeout_s: HTML, Markdown, PDF and Word files are parsed in a child process killed after
            this many seconds (the file is then a ``Failure``); for OCR, each page has this
            long. 0 parses in this process without a limit.
        ocr: ``auto`` (recognise scanned PDF pages and images with Tesseract when it is
            installed) or ``off``.
        ocr_cache: a folder where the text of recognised pages is kept, so that a page is
            recognised once; ``None``: no cache.
        on_page: called as ``on_page(source, done, total)`` while a file's pages are
            recognised (see ``LoadLimits``).

    Returns:
        An iterator of ``Article`` and ``Failure``. Bad content never raises: each problem is
        a ``Failure`` with a short reason (and for jsonl the 1-based line number).
    """
    limits = LoadLimits(max_bytes, max_chars, timeout_s, ocr, ocr_cache, on_page)
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError, ValueError) as e:
        yield Failure(str(path), None, f"cannot resolve path: {short(e)}")
        return
    source = str(resolved)
    suffix = resolved.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Failure(source, None, unsupported(suffix))
        return
    try:
        if suffix == ".pdf" or suffix in IMAGE_SUFFIXES:  # the size limit is a page's
            note = f" for a PDF or image, {SCAN_FILE_FACTOR} pages' worth"
            data = _read_bytes(resolved, max_bytes * SCAN_FILE_FACTOR, note)
        else:
            data = _read_bytes(resolved, max_bytes)
    except LoadError as e:
        yield Failure(source, None, str(e))
        return
    if not data.strip():
        yield Failure(source, None, "empty file")
        return
    if suffix == ".jsonl":
        yield from load_jsonl(data, source, max_chars)
        return

    parsed = _parse(suffix, data, resolved, limits)
    if isinstance(parsed, str):
        yield Failure(source, None, parsed)
        return
    metadata = {
        k: no_surrogates(v) if isinstance(v, str) else v for k, v in parsed.metadata.items()
    }
    yield Article(
        doc_id=doc_id_for(resolved),
        title=no_surrogates(parsed.title),
        text=no_surrogates(parsed.text),
        source=source,
        metadata=metadata,
        pages=parsed.pages,
        sections=tuple((offset, no_surrogates(path)) for offset, path in parsed.sections),
    )


def load(path: Path, limits: LoadLimits) -> Iterator[Article | Failure]:
    """``load_file`` with its limits given as one ``LoadLimits``."""
    return load_file(
        path,
        max_bytes=limits.max_bytes,
        max_chars=limits.max_chars,
        timeout_s=limits.timeout_s,
        ocr=limits.ocr,
        ocr_cache=limits.ocr_cache,
        on_page=limits.on_page,
    )


def _parse(suffix: str, data: bytes, path: Path, limits: LoadLimits) -> Parsed | str:
    try:
        if suffix == ".pdf":
            return read_pdf(data, path, limits)
        if suffix in IMAGE_SUFFIXES:
            return read_image(suffix, data, path, limits)
        if suffix not in SANDBOXED:
            return parse(suffix, data, path, limits.max_chars)
        return run_limited(
            parse,
            suffix,
            data,
            path,
            limits.max_chars,
            timeout_s=limits.timeout_s,
        )
    except LoadError as e:
        return str(e)


def _read_bytes(path: Path, max_bytes: int, note: str = "") -> bytes:
    try:
        info = path.stat()
        # A FIFO or a device named report.txt would block the open or never end.
        if stat.S_ISDIR(info.st_mode):
            raise LoadError("is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise LoadError("not a regular file")
        if info.st_size > max_bytes:
            raise LoadError(f"file too large ({size(info.st_size)}; limit {size(max_bytes)}{note})")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError as e:
        raise LoadError("no such file or folder") from e
    except IsADirectoryError as e:
        raise LoadError("is a folder, not a file") from e
    except PermissionError as e:
        raise LoadError("permission denied") from e
    except OSError as e:
        raise LoadError(f"cannot read file: {e.strerror or e}") from e
    if len(data) > max_bytes:  # the file grew after stat
        raise LoadError(f"file too large (limit {size(max_bytes)}{note})")
    return data
