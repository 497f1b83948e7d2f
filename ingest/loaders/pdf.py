"""PDF files: the text layer of every page (pypdf), and a meaningful document title."""

from __future__ import annotations

import io
import logging
import re
import warnings
from pathlib import Path
from typing import Any

from ingest.loaders.common import LoadError, same_text, short, split_first_line, too_long

# Document-info titles that name the software or the file rather than the report.
_PLACEHOLDER_TITLE = re.compile(
    r"(untitled.*|document\s*\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|rtf|odt|txt))",
    re.IGNORECASE,
)


def load_pdf(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
    logger = logging.getLogger("pypdf")
    level = logger.level
    # pypdf logs and warns about every recoverable defect; a failure says what matters.
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read_pdf(data, path, max_chars)
    finally:
        logger.setLevel(level)


def _read_pdf(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
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
    pages: list[str] = []
    total = 0
    for page in reader.pages:
        text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if text:
            pages.append(text)
            total += len(text) + 2
            if total > max_chars:
                raise LoadError(too_long(total, max_chars))
    if not pages:
        raise LoadError("no text layer (scanned PDF?)")
    text = "\n\n".join(pages)

    info_title = _pdf_info_title(reader, path.stem)
    if not info_title:
        title, body = split_first_line(text, path.stem)
        return title, body, {}
    first, rest = split_first_line(text, path.stem)
    if rest and same_text(first, info_title):
        return info_title, rest, {}
    return info_title, text, {}


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
