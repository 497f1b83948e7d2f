"""Word .docx files: paragraphs and table rows in document order (python-docx), after a
zip-bomb check; sections from the heading styles (or, in a file without any, from numbered
and all-capital heading paragraphs, as in ``ingest.layout``)."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

from ingest.layout import Block, assemble, heading, sections
from ingest.loaders.common import LoadError, Parsed, same_text
from kb.formats import size

MAX_DOCX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_DOCX_RATIO = 100
# Below this the ratio check is skipped: a small archive cannot hurt, and a tiny repetitive
# part (an empty settings file) can compress more than 100x in an ordinary document.
_DOCX_RATIO_MIN_BYTES = 1024 * 1024
_HEADING_STYLE = re.compile(r"(?:heading|judul)\s*([1-9])", re.IGNORECASE)


def load_docx(data: bytes, path: Path, max_chars: int) -> Parsed:
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE2 container of Word 97-2003
        raise LoadError("not a valid .docx: an old Word .doc file (save it as .docx)")
    _check_zip(data)
    import docx

    document = docx.Document(io.BytesIO(data))
    found = _blocks(document)
    if not found:
        raise LoadError("no text found")
    if not any(b.level for b in found):  # no heading styles: numbered and capital headings
        found = [Block(b.text, *heading(b.text)) if b.level == 0 else b for b in found]

    core_title = " ".join((document.core_properties.title or "").split())
    if not core_title:
        if len(found) == 1:
            return Parsed(path.stem, found[0].text)
        title, found = found[0].text, found[1:]
    else:
        title = core_title
        if len(found) > 1 and same_text(found[0].text, core_title):
            found = found[1:]
    assembled = assemble([found])
    return Parsed(title, assembled.text, {}, sections=sections(assembled.headings))


def _blocks(document: Any) -> list[Block]:
    """Paragraphs (headings by their style: "Heading 2" is level 2) and table rows, in the
    order they stand in the document."""
    from docx.table import Table

    out: list[Block] = []
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            out.extend(Block(row) for row in _rows(item))
            continue
        text = item.text.strip()
        if text:
            out.append(Block(text, _style_level(item), " ".join(text.split())))
    return out


def _style_level(paragraph: Any) -> int:
    """A heading style's level ("Heading 1", Indonesian Word's "Judul 1"), else 0."""
    try:
        name = paragraph.style.name if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):  # a style the file names but lacks
        return 0
    m = _HEADING_STYLE.fullmatch(name or "")
    return int(m.group(1)) if m else 0


def _rows(table: Any) -> list[str]:
    rows: list[str] = []
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
            rows.append(" | ".join(cells))
    return rows


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
