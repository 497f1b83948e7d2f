"""Word .docx files: paragraphs and table rows (python-docx), after a zip-bomb check."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from ingest.loaders.common import LoadError, same_text, size

MAX_DOCX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_DOCX_RATIO = 100
# Below this the ratio check is skipped: a small archive cannot hurt, and a tiny repetitive
# part (an empty settings file) can compress more than 100x in an ordinary document.
_DOCX_RATIO_MIN_BYTES = 1024 * 1024


def load_docx(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE2 container of Word 97-2003
        raise LoadError("not a valid .docx: an old Word .doc file (save it as .docx)")
    _check_zip(data)
    import docx

    document = docx.Document(io.BytesIO(data))
    paragraphs = [p.text.strip() for p in document.paragraphs if p.text.strip()]
    for table in document.tables:
        for row in table.rows:
            cells: list[str] = []
            seen: set[object] = set()  # lxml elements hash by identity
            for cell in row.cells:
                # A merged cell is returned once per grid column it spans.
                if cell._tc in seen:
                    continue
                seen.add(cell._tc)
                text = " ".join(cell.text.split())
                if text:
                    cells.append(text)
            if cells:
                paragraphs.append(" | ".join(cells))
    if not paragraphs:
        raise LoadError("no text found")

    core_title = " ".join((document.core_properties.title or "").split())
    if not core_title:
        if len(paragraphs) == 1:
            return path.stem, paragraphs[0], {}
        return paragraphs[0], "\n\n".join(paragraphs[1:]), {}
    if len(paragraphs) > 1 and same_text(paragraphs[0], core_title):
        paragraphs = paragraphs[1:]
    return core_title, "\n\n".join(paragraphs), {}


def _check_zip(data: bytes) -> None:
    """Refuse a zip bomb from its directory, before anything is decompressed."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
    # The declared sizes can be trusted as bounds: zipfile stops reading a member at its
    # declared size (and fails its CRC check if the data goes on).
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if unpacked > MAX_DOCX_UNCOMPRESSED_BYTES:
        raise LoadError(
            f"refusing .docx: {size(unpacked)} uncompressed, over the "
            f"{size(MAX_DOCX_UNCOMPRESSED_BYTES)} limit (zip bomb?)"
        )
    if unpacked > _DOCX_RATIO_MIN_BYTES and unpacked > MAX_DOCX_RATIO * max(packed, 1):
        raise LoadError(
            f"refusing .docx: compressed {unpacked // max(packed, 1)}x, "
            f"over the {MAX_DOCX_RATIO}x limit (zip bomb?)"
        )
