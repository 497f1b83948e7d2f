"""One entry point for the parsers of whole files: ``parse`` never raises.

It runs in the sandbox's child process for HTML, PDF and Word (see ``ingest.loaders.sandbox``)
and in the caller's process for text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.loaders.common import LoadError, short, too_long
from ingest.loaders.pdf import load_pdf
from ingest.loaders.text import load_text
from ingest.loaders.webpage import load_html
from ingest.loaders.word import load_docx

Parsed = tuple[str, str, dict[str, Any]]

_PARSERS: dict[str, Callable[[bytes, Path, int], Parsed]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
}
# Prefix of the reason when a parser raises something we did not anticipate.
_PARSE_ERROR = {
    ".txt": "cannot read text",
    ".md": "cannot read text",
    ".markdown": "cannot read text",
    ".html": "cannot parse HTML",
    ".htm": "cannot parse HTML",
    ".pdf": "not a valid PDF",
    ".docx": "not a valid .docx",
}
# Parsers whose running time on a malformed file is not bounded by its size.
SANDBOXED = frozenset({".html", ".htm", ".pdf", ".docx"})


def parse(suffix: str, data: bytes, path: Path, max_chars: int) -> Parsed | str:
    """``(title, text, metadata)`` of a file's bytes, or the reason it cannot be read."""
    try:
        title, text, metadata = _PARSERS[suffix](data, path, max_chars)
        if len(text) > max_chars:
            raise LoadError(too_long(len(text), max_chars))
    except LoadError as e:
        return str(e)
    except MemoryError:
        return f"{_PARSE_ERROR[suffix]}: it needs too much memory to parse"
    except RecursionError:
        return f"{_PARSE_ERROR[suffix]}: nested too deeply"
    except Exception as e:  # a parser choking on bad content must not stop the batch
        return f"{_PARSE_ERROR[suffix]}: {short(e)}"
    return title, text, metadata


def preload() -> None:
    """Import the parser libraries (run once when the sandbox's child starts)."""
    import bs4
    import docx
    import pypdf

    del bs4, docx, pypdf
