"""One entry point for the parsers of whole files: ``parse`` never raises; ``pdf_layer`` is
its counterpart for the text layer of a PDF's pages; ``run_limited`` runs either (or a page's
OCR) in the sandbox's child process under the parse time limit.

``parse`` runs in the sandbox's child process for HTML and Word (see
``ingest.loaders.sandbox``) and in the caller's process for text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ingest.loaders.common import LoadError, Parsed, short, too_long
from ingest.loaders.pdf import PdfLayer, read_layer
from ingest.loaders.sandbox import SandboxCrash, SandboxError, SandboxTimeout, shared
from ingest.loaders.text import load_text
from ingest.loaders.webpage import load_html
from ingest.loaders.word import load_docx

T = TypeVar("T")

_PARSERS: dict[str, Callable[[bytes, Path, int], Parsed]] = {
    ".txt": load_text,
    ".md": load_text,
    ".markdown": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
}
# Prefix of the reason when a parser raises something we did not anticipate.
_PARSE_ERROR = {
    ".txt": "cannot read text",
    ".md": "cannot read text",
    ".markdown": "cannot read text",
    ".html": "cannot parse HTML",
    ".htm": "cannot parse HTML",
    ".docx": "not a valid .docx",
}
# Parsers whose running time on a malformed file is not bounded by its size (PDFs too, through
# ``pdf_layer`` and the OCR of their pages). Markdown too: rendering is linear but slow on
# hostile input (400 KB of "![" took 14 s).
SANDBOXED = frozenset({".html", ".htm", ".docx", ".md", ".markdown"})
# Imports that should not count against the first call's deadline in the child. Not the OCR
# libraries: pytesseract imports pandas (0.6 s), which a batch without scans should not pay.
PRELOAD = ("ingest.loaders.parsers:preload",)


def parse(suffix: str, data: bytes, path: Path, max_chars: int) -> Parsed | str:
    """What a file's bytes hold (``Parsed``), or the reason they cannot be read."""

    def run() -> Parsed:
        parsed = _PARSERS[suffix](data, path, max_chars)
        if len(parsed.text) > max_chars:
            raise LoadError(too_long(len(parsed.text), max_chars))
        return parsed

    return _guarded(_PARSE_ERROR[suffix], run)


def pdf_layer(data: bytes, path: Path, max_chars: int) -> PdfLayer | str:
    """The text layer of each page of a PDF (``pdf.read_layer``), or why it cannot be read."""
    return _guarded("not a valid PDF", lambda: read_layer(data, path, max_chars))


def _guarded(prefix: str, run: Callable[[], T]) -> T | str:
    try:
        return run()
    except LoadError as e:
        return str(e)
    except MemoryError:
        return f"{prefix}: it needs too much memory to parse"
    except RecursionError:
        return f"{prefix}: nested too deeply"
    except Exception as e:  # a parser choking on bad content must not stop the batch
        return f"{prefix}: {short(e)}"


def run_limited(
    function: Callable[..., T], *args: Any, timeout_s: float, late: str | None = None
) -> T:
    """``function(*args)`` in the sandbox's child process, killed after ``timeout_s`` seconds;
    with ``timeout_s`` 0, in this process without a limit. ``function`` is a module-level
    function that does not raise (it returns its problems).

    Raises:
        LoadError: the call was late (the reason is ``late``, by default ``parse_late``'s)
            or the child died.
    """
    if timeout_s <= 0:
        return function(*args)
    target = f"{function.__module__}:{function.__name__}"
    try:
        result: T = shared(PRELOAD).call(target, *args, timeout=timeout_s)
    except SandboxTimeout:
        raise LoadError(late or parse_late(timeout_s)) from None
    except SandboxCrash as e:
        raise LoadError(f"the parser crashed ({short(e, 80)}): the file may be malformed") from e
    except SandboxError as e:  # the function itself does not raise; unpickling or the like did
        raise LoadError(f"cannot parse: {short(e)}") from e
    return result


def parse_late(timeout_s: float) -> str:
    """The reason given for a file whose parsing took longer than the limit."""
    return (
        f"parsing took longer than {timeout_s:g} s (the KB_PARSE_TIMEOUT_S limit): "
        "the file may be malformed"
    )


def preload() -> None:
    """Import the parser libraries (run once when the sandbox's child starts)."""
    import bs4
    import docx
    import justext
    import lxml.html
    import markdown_it
    import pypdf
    import trafilatura

    del bs4, docx, justext, lxml, markdown_it, pypdf, trafilatura
