"""PDF files: the text layer of every page (pypdf), which pages show an image, and a meaningful
document title. Pages without a usable text layer are recognised by ``ocr``."""

from __future__ import annotations

import io
import logging
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.loaders.common import LoadError, same_text, short, split_first_line, too_long

# Document-info titles that name the software or the file rather than the report.
_PLACEHOLDER_TITLE = re.compile(
    r"(untitled.*|document\s*\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|rtf|odt|txt))",
    re.IGNORECASE,
)
NO_TEXT_LAYER = "no text layer (scanned PDF?)"


@dataclass(frozen=True)
class PdfLayer:
    """What pypdf reads of a PDF: each page's text layer, whether each page shows an image (a
    scan is a picture of the page), and the document-info title ("" when it says nothing)."""

    pages: tuple[str, ...]
    images: tuple[bool, ...]
    info_title: str


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
    pages: list[str] = []
    images: list[bool] = []
    total = 0
    for page in reader.pages:
        text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        pages.append(text)
        images.append(_shows_image(page))
        if text:
            total += len(text) + 2
            if total > max_chars:
                raise LoadError(too_long(total, max_chars))
    return PdfLayer(tuple(pages), tuple(images), _pdf_info_title(reader, path.stem))


def _shows_image(page: Any) -> bool:
    try:
        return len(page.images) > 0
    except Exception:  # broken resources: the page is read from its text layer, as it was
        return False


def pdf_article(layer: PdfLayer, pages: list[str], stem: str) -> tuple[str, str, dict[str, Any]]:
    """Title and text from the final text of each page (its text layer or its OCR)."""
    kept = [p for p in pages if p]
    if not kept:
        raise LoadError(NO_TEXT_LAYER)
    text = "\n\n".join(kept)
    if not layer.info_title:
        title, body = split_first_line(text, stem)
        return title, body, {}
    first, rest = split_first_line(text, stem)
    if rest and same_text(first, layer.info_title):
        return layer.info_title, rest, {}
    return layer.info_title, text, {}


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
