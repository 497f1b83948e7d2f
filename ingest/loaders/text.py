"""Plain text and Markdown: decoding (UTF-8, UTF-16 with a BOM, cp1252), title, "Sumber:" line.

Everything here is linear in the size of the file, so it runs in the caller's process.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ingest.loaders.common import SNIFF_BYTES, UTF16_BOMS, LoadError, Parsed, split_first_line

_SUMBER = re.compile(r"sumber\s*:\s*(.*)", re.IGNORECASE)
# A longer "Sumber: ..." line is a sentence of the report, not the name of a source.
_MAX_SOURCE_NAME = 200


def decode_text(data: bytes) -> str:
    """The text of a file's bytes, or ``LoadError`` for binary or undecodable data."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:SNIFF_BYTES]:
        raise LoadError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # cp1252 decodes almost any byte string, so it is only trusted on NUL-free data.
    if b"\x00" not in data:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise LoadError("cannot decode text (tried UTF-8, UTF-16 BOM, cp1252)")


def load_text(data: bytes, path: Path, max_chars: int) -> Parsed:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.rstrip().split("\n")
    if not text.strip():
        raise LoadError("empty file")
    metadata: dict[str, Any] = {}
    match = _SUMBER.fullmatch(lines[-1].strip())
    content_lines = sum(1 for line in lines if line.strip())
    if match and content_lines > 1 and len(match.group(1)) <= _MAX_SOURCE_NAME:
        lines.pop()
        if match.group(1).strip():
            metadata["source_name"] = match.group(1).strip()
    title, body = split_first_line("\n".join(lines), path.stem)
    first = next(line for line in lines if line.strip()).strip()
    if path.suffix.lower() in (".md", ".markdown") and title == first:
        # ATX heading: "# Title" or "# Title #"; a closing run needs a space before it.
        title = re.sub(r"\s+#+$", "", re.sub(r"^#+\s*", "", title)).strip() or path.stem
    return Parsed(title, body, metadata)
