"""Read report files (text, Markdown, HTML, PDF, Word, jsonl) into ``Article`` records.

Bad content never raises: a file or jsonl line that cannot be read becomes a ``Failure`` with a
one-line reason, so one broken file does not stop a batch. The parsers (pypdf, python-docx,
BeautifulSoup) are imported only when a file of their type is read.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.types import Article, Failure

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
)

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_TEXT_CHARS = 2_000_000
MAX_DOCX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_DOCX_RATIO = 100
# Below this the ratio check is skipped: a small archive cannot hurt, and a tiny repetitive
# part (an empty settings file) can compress more than 100x in an ordinary document.
_DOCX_RATIO_MIN_BYTES = 1024 * 1024
_SNIFF_BYTES = 8192
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)

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


class _LoadError(Exception):
    """A file's content cannot become an article; the message is the Failure reason."""


# --- finding files -----------------------------------------------------------------------------


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Failure]]:
    """Expand files and folders into the files to load.

    Folders are walked recursively in sorted order; hidden files and folders, Word lock files
    (``~$x.docx``) and files of other types inside folders are skipped.

    Args:
        paths: files and folders, as given on the command line.

    Returns:
        Resolved absolute paths without duplicates (in the order first reached), and a
        ``Failure`` for each path that does not exist or names a file of an unsupported type.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    failures: list[Failure] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            candidates = _walk(path, failures)
        elif path.is_file():
            suffix = path.resolve().suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                failures.append(Failure(str(raw), None, _unsupported(suffix)))
                continue
            candidates = [path]
        elif path.exists():
            failures.append(Failure(str(raw), None, "not a regular file or folder"))
            continue
        else:
            failures.append(Failure(str(raw), None, "no such file or folder"))
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found, failures


def _walk(root: Path, failures: list[Failure]) -> list[Path]:
    def on_error(err: OSError) -> None:
        failures.append(Failure(str(err.filename), None, f"cannot read folder: {err.strerror}"))

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith((".", "~$")):
                continue
            path = Path(dirpath, name)
            if path.resolve().suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).parts)


def _unsupported(suffix: str) -> str:
    kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return f"unsupported file type '{suffix or '(none)'}' (supported: {kinds})"


def doc_id_for(path: Path) -> str:
    """A stable id for a file: a slug of its name and a hash of its resolved absolute path."""
    resolved = Path(path).resolve()
    # Accents are dropped ("é" -> "e"); other non-ASCII characters separate words like
    # punctuation does, so "Ciputat—Tangsel" does not fuse into one word.
    decomposed = unicodedata.normalize("NFKD", resolved.stem)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower())[:40].strip("-") or "doc"
    # surrogateescape: a file name that is not valid UTF-8 still hashes to its own bytes.
    digest = hashlib.sha1(resolved.as_posix().encode("utf-8", "surrogateescape")).hexdigest()
    return f"{slug}-{digest[:8]}"


# --- loading -----------------------------------------------------------------------------------


def load_file(
    path: Path, *, max_bytes: int = MAX_FILE_BYTES, max_chars: int = MAX_TEXT_CHARS
) -> Iterator[Article | Failure]:
    """Read one file into articles: one per file, or one per line of a ``.jsonl`` file.

    Args:
        path: the file; its type is chosen by suffix (see ``SUPPORTED_SUFFIXES``).
        max_bytes: larger files are refused without being read.
        max_chars: an article whose text is longer is refused.

    Returns:
        An iterator of ``Article`` and ``Failure``. Bad content never raises: each problem is
        a ``Failure`` with a short reason (and for jsonl the 1-based line number).
    """
    try:
        resolved = Path(path).resolve()
    except (OSError, RuntimeError) as e:
        yield Failure(str(path), None, f"cannot resolve path: {_short(e)}")
        return
    source = str(resolved)
    suffix = resolved.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield Failure(source, None, _unsupported(suffix))
        return
    try:
        data = _read_bytes(resolved, max_bytes)
    except _LoadError as e:
        yield Failure(source, None, str(e))
        return
    if not data.strip():
        yield Failure(source, None, "empty file")
        return
    if suffix == ".jsonl":
        yield from _load_jsonl(data, source, max_chars)
        return

    try:
        title, text, metadata = _LOADERS[suffix](data, resolved, max_chars)
        if len(text) > max_chars:
            raise _LoadError(_too_long(len(text), max_chars))
    except _LoadError as e:
        reason = str(e)
    except Exception as e:  # a parser choking on bad content must not stop the batch
        reason = f"{_PARSE_ERROR[suffix]}: {_short(e)}"
    else:
        yield Article(
            doc_id=doc_id_for(resolved),
            title=title,
            text=text,
            source=source,
            metadata=metadata,
        )
        return
    yield Failure(source, None, reason)


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _LoadError(f"file too large ({_size(size)}; limit {_size(max_bytes)})")
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError as e:
        raise _LoadError("no such file or folder") from e
    except IsADirectoryError as e:
        raise _LoadError("is a folder, not a file") from e
    except PermissionError as e:
        raise _LoadError("permission denied") from e
    except OSError as e:
        raise _LoadError(f"cannot read file: {e.strerror or e}") from e
    if len(data) > max_bytes:  # the file grew after stat, or is a device
        raise _LoadError(f"file too large (limit {_size(max_bytes)})")
    return data


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"


def _too_long(n: int, limit: int) -> str:
    return f"text too long ({n:,} characters; limit {limit:,})"


def _short(exc: BaseException, limit: int = 160) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= limit else message[: limit - 1] + "…"


def _split_first_line(text: str, stem: str) -> tuple[str, str]:
    """Title = the first non-empty line, body = the rest; a single line is the body."""
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    body = "\n".join(lines[first + 1 :]).strip()
    if not body:
        return stem, lines[first].strip()
    return lines[first].strip(), body


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


# --- plain text and Markdown -------------------------------------------------------------------

_SUMBER = re.compile(r"sumber\s*:\s*(.*)", re.IGNORECASE)
# A longer "Sumber: ..." line is a sentence of the report, not the name of a source.
_MAX_SOURCE_NAME = 200


def _decode_text(data: bytes) -> str:
    if data.startswith(_UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise _LoadError("binary file, not text")
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
    raise _LoadError("cannot decode text (tried UTF-8, UTF-16 BOM, cp1252)")


def _load_text(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
    text = _decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    lines = text.rstrip().split("\n")
    if not text.strip():
        raise _LoadError("empty file")
    metadata: dict[str, Any] = {}
    match = _SUMBER.fullmatch(lines[-1].strip())
    content_lines = sum(1 for line in lines if line.strip())
    if match and content_lines > 1 and len(match.group(1)) <= _MAX_SOURCE_NAME:
        lines.pop()
        if match.group(1).strip():
            metadata["source_name"] = match.group(1).strip()
    title, body = _split_first_line("\n".join(lines), path.stem)
    first = next(line for line in lines if line.strip()).strip()
    if path.suffix.lower() in (".md", ".markdown") and title == first:
        # ATX heading: "# Title" or "# Title #"; a closing run needs a space before it.
        title = re.sub(r"\s+#+$", "", re.sub(r"^#+\s*", "", title)).strip() or path.stem
    return title, body, metadata


# --- HTML --------------------------------------------------------------------------------------

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on
# Checked in order; the first one present wins. Values are kept as the page gives them.
_META_FIELDS = {
    "date": (
        "article:published_time",
        "og:published_time",
        "og:article:published_time",
        "date",
        "pubdate",
        "publishdate",
        "dc.date.issued",
        "dc.date",
        "datepublished",
    ),
    "url": ("og:url",),
    "outlet": ("og:site_name",),
    "author": ("author", "article:author", "dc.creator"),
}


def _load_html(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
    from bs4 import BeautifulSoup

    if b"\x00" in data[:_SNIFF_BYTES] and not data.startswith(_UTF16_BOMS):
        raise _LoadError("binary file, not text")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL, etc.
        soup = BeautifulSoup(data, "html.parser")

    meta = _meta_tags(soup)
    metadata: dict[str, Any] = {}
    for key, names in _META_FIELDS.items():
        value = next((meta[n] for n in names if meta.get(n)), None)
        if value:
            metadata[key] = value
    if "url" not in metadata:
        canonical = soup.find("link", rel="canonical")
        href = _attr(canonical, "href").strip() if canonical is not None else ""
        if href:
            metadata["url"] = href
    # The title is read before the page chrome is dropped: the <h1> often sits in a <header>.
    og_title = " ".join(meta.get("og:title", "").split())
    title = og_title or _collapsed(soup.title) or _collapsed(soup.find("h1"))

    for tag in soup.find_all(_DROP_TAGS):
        if not tag.decomposed:
            tag.decompose()
    _drop_small_forms(soup)

    articles = soup.find_all("article")
    # Listing cards for related stories are often <article>s too; the story is the longest.
    container = (
        max(articles, key=lambda a: len(a.get_text()))
        if articles
        else soup.find("main") or soup.body or soup
    )
    paragraphs = _html_paragraphs(container)
    if not paragraphs:
        raise _LoadError("no text found")
    if title and len(paragraphs) > 1 and _same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return title or path.stem, "\n\n".join(paragraphs), metadata


def _attr(tag: Any, name: str) -> str:
    value = tag.get(name) if tag is not None else None
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _collapsed(tag: Any) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    """``<meta>`` contents by lowercased property/name/itemprop; the first of each wins."""
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        content = _attr(tag, "content").strip()
        for attr in ("property", "name", "itemprop"):
            key = _attr(tag, attr).strip().lower()
            if key and content and key not in meta:
                meta[key] = content
    return meta


def _drop_small_forms(soup: BeautifulSoup) -> None:
    # ASP.NET pages wrap the whole page in one <form>; only forms that hold a small part of
    # the page's text (search boxes, comment forms, newsletter sign-ups) are chrome.
    page_chars = len(soup.get_text())
    for form in soup.find_all("form"):
        if not form.decomposed and len(form.get_text()) * 2 < page_chars:
            form.decompose()


def _html_paragraphs(container: Tag | BeautifulSoup) -> list[str]:
    """Text runs that share their nearest block element form one whitespace-collapsed paragraph."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    paragraphs: list[str] = []
    parts: list[str] = []
    current: object = None

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            paragraphs.append(text)
        parts.clear()

    for node in container.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                flush()
            continue
        # PreformattedString covers comments, CDATA, doctypes and processing instructions.
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue
        block = node.parent
        while block is not None and block is not container and block.name not in _BLOCK_TAGS:
            block = block.parent
        if block is not current:
            flush()
            current = block
        parts.append(str(node))
    flush()
    return paragraphs


# --- PDF ---------------------------------------------------------------------------------------

# Document-info titles that name the software or the file rather than the report.
_PLACEHOLDER_TITLE = re.compile(
    r"(untitled.*|document\s*\d*|microsoft (word|powerpoint) - .*|.*\.(docx?|pdf|rtf|odt|txt))",
    re.IGNORECASE,
)


def _load_pdf(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
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
        raise _LoadError("not a valid PDF: no PDF header")
    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            opened = reader.decrypt("")
        except Exception as e:
            raise _LoadError(f"encrypted PDF that cannot be opened: {_short(e)}") from e
        if opened == PasswordType.NOT_DECRYPTED:
            raise _LoadError("encrypted PDF (needs a password)")
    pages: list[str] = []
    total = 0
    for page in reader.pages:
        text = (page.extract_text() or "").replace("\r\n", "\n").replace("\r", "\n").strip()
        if text:
            pages.append(text)
            total += len(text) + 2
            if total > max_chars:
                raise _LoadError(_too_long(total, max_chars))
    if not pages:
        raise _LoadError("no text layer (scanned PDF?)")
    text = "\n\n".join(pages)

    info_title = _pdf_info_title(reader, path.stem)
    if not info_title:
        title, body = _split_first_line(text, path.stem)
        return title, body, {}
    first, rest = _split_first_line(text, path.stem)
    if rest and _same_text(first, info_title):
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


# --- Word --------------------------------------------------------------------------------------


def _load_docx(data: bytes, path: Path, max_chars: int) -> tuple[str, str, dict[str, Any]]:
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the OLE2 container of Word 97-2003
        raise _LoadError("not a valid .docx: an old Word .doc file (save it as .docx)")
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
        raise _LoadError("no text found")

    core_title = " ".join((document.core_properties.title or "").split())
    if not core_title:
        if len(paragraphs) == 1:
            return path.stem, paragraphs[0], {}
        return paragraphs[0], "\n\n".join(paragraphs[1:]), {}
    if len(paragraphs) > 1 and _same_text(paragraphs[0], core_title):
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
        raise _LoadError(
            f"refusing .docx: {_size(unpacked)} uncompressed, over the "
            f"{_size(MAX_DOCX_UNCOMPRESSED_BYTES)} limit (zip bomb?)"
        )
    if unpacked > _DOCX_RATIO_MIN_BYTES and unpacked > MAX_DOCX_RATIO * max(packed, 1):
        raise _LoadError(
            f"refusing .docx: compressed {unpacked // max(packed, 1)}x, "
            f"over the {MAX_DOCX_RATIO}x limit (zip bomb?)"
        )


# --- jsonl -------------------------------------------------------------------------------------


def _load_jsonl(data: bytes, source: str, max_chars: int) -> Iterator[Article | Failure]:
    if b"\x00" in data[:_SNIFF_BYTES]:  # one failure for the file, not one per "line"
        yield Failure(source, None, "binary file, not text")
        return
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            article = _jsonl_article(raw, number, source, max_chars)
        except _LoadError as e:
            yield Failure(source, number, str(e))
            continue
        if article.doc_id in first_line:
            first = first_line[article.doc_id]
            yield Failure(
                source, number, f"duplicate id '{article.doc_id}' (first on line {first})"
            )
            continue
        first_line[article.doc_id] = number
        yield article


def _jsonl_article(raw: bytes, number: int, source: str, max_chars: int) -> Article:
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as e:
        raise _LoadError("not valid UTF-8") from e
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise _LoadError(f"invalid JSON: {e.msg} (column {e.colno})") from e
    except (ValueError, RecursionError) as e:  # a 5,000-digit number, nesting 10,000 deep
        raise _LoadError(f"invalid JSON: {_short(e)}") from e
    if not isinstance(record, dict):
        raise _LoadError(f"expected a JSON object, got {type(record).__name__}")

    doc_id = record.get("id")
    if doc_id is None:
        raise _LoadError("missing field 'id'")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        raise _LoadError("field 'id' must be a string or an integer")
    doc_id = str(doc_id)
    if not doc_id.strip():
        raise _LoadError("field 'id' is empty")

    text = record.get("text")
    if text is None:
        raise _LoadError("missing field 'text'")
    if not isinstance(text, str):
        raise _LoadError("field 'text' must be a string")
    if not text.strip():
        raise _LoadError("field 'text' is empty")
    if len(text) > max_chars:
        raise _LoadError(_too_long(len(text), max_chars))

    title = record.get("title")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise _LoadError("field 'title' must be a string")

    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if key in ("id", "title", "text"):
            continue
        if isinstance(value, str | int | float | bool):
            metadata[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            metadata[key] = "; ".join(value)
    # The text is kept exactly as given: datasets point into it with character offsets.
    return Article(
        doc_id=doc_id, title=title, text=text, source=source, line=number, metadata=metadata
    )


_LOADERS: dict[str, Callable[[bytes, Path, int], tuple[str, str, dict[str, Any]]]] = {
    ".txt": _load_text,
    ".md": _load_text,
    ".markdown": _load_text,
    ".html": _load_html,
    ".htm": _load_html,
    ".pdf": _load_pdf,
    ".docx": _load_docx,
}
