"""Scanned PDFs and photos of report pages: which pages need OCR, the OCR cache, the page loop.

A PDF page keeps its own text layer when that is usable (``usable_text``: at least 50 letters,
and at least half of its tokens, numbers aside, are words of two or more letters); a page
without one that shows an image (a scan is a picture of the page) is recognised with
Tesseract (``ind+eng``). A page with neither (a blank page, a short heading over a drawing)
keeps what little text it has. An image file is one page (a TIFF one page a frame).

Where OCR runs: each page is rendered (PDFium, or Pillow for an image) and read by Tesseract
in the parser's child process, one call per page (``ingest.loaders.scan``), so that
``KB_PARSE_TIMEOUT_S`` is a page's limit and a 150-page scan is not refused for its total
time; Tesseract is stopped at the page's deadline by pytesseract's own ``timeout``. The file
size limit is a page's too: a PDF or an image may hold up to ``KB_MAX_FILE_MB`` a page on
average, up to ``SCAN_FILE_FACTOR`` times the limit in all (it is read whole into memory).

The cache: Tesseract's text of each page is kept under ``<store>/ocr-cache/`` (given as
``LoadLimits.ocr_cache``), keyed by the SHA-256 of the file's bytes, the page number and the
OCR settings (languages, resolution, options, Tesseract's version). Ingest reads every file
every time (it compares content hashes of the parsed text), so without it an unchanged scan
would be recognised again on each ingest. Deleting the folder only costs time.

Without OCR (``KB_OCR=off``, Tesseract or its Indonesian model not installed, or the ``ocr``
extra missing) a PDF is read from its text layer as before; one with no text at all, or an
image, is a failure that says how to install OCR.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import re
import string
import tempfile
from collections.abc import Callable
from pathlib import Path

from ingest.layout import text_lines
from ingest.loaders import scan
from ingest.loaders.common import LoadError, LoadLimits, Parsed, split_first_line, too_long
from ingest.loaders.parsers import pdf_layer, run_limited
from ingest.loaders.pdf import pdf_article
from ingest.loaders.scan import OcrSpec
from kb.formats import size

log = logging.getLogger(__name__)

LANGUAGES = "ind+eng"
DPI = 300
CONFIG = ""
# The text-layer rule (see the module's docstring).
MIN_LETTERS = 50
MIN_WORD_SHARE = 0.5
# A PDF or image file may be this many times KB_MAX_FILE_MB in all (KB_MAX_FILE_MB a page).
SCAN_FILE_FACTOR = 10
INSTALL = 'apt install tesseract-ocr tesseract-ocr-ind and pip install -e ".[ocr]"'
# Time the child is given beyond a page's budget to stop Tesseract and answer.
_GRACE_S = 5.0
# Bump when what is cached changes meaning (the key holds everything else).
_CACHE_FORMAT = "ocr-v1"
_PUNCTUATION = string.punctuation + "“”‘’«»…–—•·"
_WORD = re.compile(r"[^\W\d_]{2,}(?:[-'’][^\W\d_]+)*")
_NUMBER = re.compile(r"[\d.,:/%+-]+")


def usable_text(text: str) -> bool:
    """Whether a page's text layer is worth keeping: at least ``MIN_LETTERS`` letters, and at
    least ``MIN_WORD_SHARE`` of its tokens (numbers aside) are words of two or more letters.
    A scan's hidden text of symbols, or a page number alone, is not."""
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return False
    tokens = [t.strip(_PUNCTUATION) for t in text.split()]
    tokens = [t for t in tokens if t and not _NUMBER.fullmatch(t)]
    words = sum(1 for t in tokens if _WORD.fullmatch(t))
    return words >= MIN_WORD_SHARE * len(tokens)


def ocr_spec(setting: str = "auto") -> OcrSpec | str:
    """How pages will be recognised, or why they cannot be (``setting``: ``KB_OCR``)."""
    if setting.strip().lower() == "off":
        return "OCR is off (KB_OCR=off)"
    try:
        import pypdfium2
        import pytesseract
        from PIL import Image
    except ImportError as e:
        return f"the OCR packages are not installed (no {e.name})"
    del Image, pypdfium2
    cmd = str(pytesseract.pytesseract.tesseract_cmd)
    return _probe(cmd)


@functools.lru_cache(maxsize=8)
def _probe(cmd: str) -> OcrSpec | str:
    """Tesseract's version and whether it has the languages (asked once per program)."""
    import pytesseract

    try:
        version = str(pytesseract.get_tesseract_version())
        languages = set(pytesseract.get_languages())
    except (OSError, RuntimeError, SystemExit) as e:  # SystemExit: a version it cannot parse
        log.info("Tesseract (%s) is not usable: %s", cmd, e)
        return "Tesseract is not installed"
    missing = [lang for lang in LANGUAGES.split("+") if lang not in languages]
    if missing:
        return f"Tesseract has no {'+'.join(missing)} language model"
    return OcrSpec(cmd=cmd, languages=LANGUAGES, dpi=DPI, config=CONFIG, version=version)


def needs_ocr(what: str, why: str) -> str:
    """The failure of a file that only OCR could read, and how to get OCR."""
    if why.startswith("OCR is off"):
        return f"{what} needs OCR, but {why}: set KB_OCR=auto, with {INSTALL}"
    return f"{what} needs OCR, but {why}: {INSTALL}"


class OcrCache:
    """Tesseract's text per page, one small file each under ``folder`` (``None``: no cache).

    Written through a temporary file and a rename, so a crash or a second process never
    leaves a half-written entry; an entry that cannot be read is a miss."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    @staticmethod
    def key(file_digest: str, index: int, spec: OcrSpec) -> str:
        parts = [_CACHE_FORMAT, file_digest, str(index), spec.languages, str(spec.dpi)]
        parts += [spec.config, spec.version]
        return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()

    def get(self, key: str) -> str | None:
        if self.folder is None:
            return None
        try:
            return self._path(key).read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def put(self, key: str, text: str) -> None:
        if self.folder is None:
            return
        path = self._path(key)
        # A full or read-only disk costs the next ingest time, no more.
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        except OSError as e:
            log.warning("cannot write the OCR cache %s: %s", path, e)
            return
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except OSError as e:
            log.warning("cannot write the OCR cache %s: %s", path, e)
            with contextlib.suppress(OSError):
                os.unlink(tmp)

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.txt"


def read_pdf(data: bytes, path: Path, limits: LoadLimits) -> Parsed:
    """A PDF's article: each page's text layer, or its OCR where it has no usable one.

    Raises:
        LoadError: the reason the file cannot become an article.
    """
    layer = run_limited(
        pdf_layer,
        data,
        path,
        limits.max_chars,
        timeout_s=limits.timeout_s,
    )
    if isinstance(layer, str):
        raise LoadError(layer)
    _check_size(len(data), len(layer.lines), limits.max_bytes)
    pages = list(layer.pages)
    todo = [i for i, text in enumerate(pages) if layer.images[i] and not usable_text(text)]
    recognised: list[int] = []
    if todo:
        spec = ocr_spec(limits.ocr)
        if isinstance(spec, str):
            if not any(pages):
                raise LoadError(needs_ocr("a scanned PDF (no text layer)", spec))
            log.warning("%s: %d page(s) without a text layer left out: %s", path, len(todo), spec)
        else:
            document = _Document(".pdf", data, limits)
            with contextlib.closing(document):
                for i, text in zip(todo, document.read(todo, spec, str(path)), strict=True):
                    pages[i] = text
                    recognised.append(i)
            if not any(pages):
                raise LoadError(f"no text found (OCR read none on {len(todo)} scanned page(s))")
    lines = list(layer.lines)
    for i in recognised:
        lines[i] = text_lines(pages[i])
    parsed = pdf_article(layer, lines, path.stem)
    if len(parsed.text) > limits.max_chars:
        raise LoadError(too_long(len(parsed.text), limits.max_chars))
    return parsed


def read_image(suffix: str, data: bytes, path: Path, limits: LoadLimits) -> Parsed:
    """A photo or scan of report pages: OCR of each page (frame). Raises ``LoadError``."""
    spec = ocr_spec(limits.ocr)
    if isinstance(spec, str):
        raise LoadError(needs_ocr("an image", spec))
    document = _Document(suffix, data, limits)
    with contextlib.closing(document):
        count = document.open()
        _check_size(len(data), count, limits.max_bytes)
        pages = [p for p in document.read(list(range(count)), spec, str(path)) if p]
    if not pages:
        raise LoadError("no text found (OCR read none in the image)")
    text = "\n\n".join(pages)
    if len(text) > limits.max_chars:
        raise LoadError(too_long(len(text), limits.max_chars))
    title, body = split_first_line(text, path.stem)
    return Parsed(title, body)


def recognise_page(document: _Document, index: int, spec: OcrSpec) -> str:
    """One page's text from Tesseract (the only place a page is recognised: tests count it)."""
    limits = document.limits
    for _ in range(2):
        status, value = run_limited(
            scan.recognise,
            document.digest,
            index,
            spec,
            limits.timeout_s,
            timeout_s=limits.timeout_s + _GRACE_S if limits.timeout_s > 0 else 0,
            late=_page_late(index, limits.timeout_s),
        )
        if status == "text":
            return clean_ocr_text(value)
        if status == "late":
            raise LoadError(_page_late(index, limits.timeout_s))
        if status == "failed":
            raise LoadError(f"page {index + 1}: {value}")
        document.open()  # "not held": the child was replaced since
    raise LoadError(f"page {index + 1}: the parser process lost the file")


def clean_ocr_text(text: str) -> str:
    """Tesseract's text without form feeds, trailing spaces and runs of blank lines."""
    lines = [line.rstrip() for line in text.replace("\f", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _Document:
    """A PDF or image file whose pages are read in the parser's child process."""

    def __init__(self, kind: str, data: bytes, limits: LoadLimits) -> None:
        self.kind = kind
        self.data = data
        self.limits = limits
        self.digest = hashlib.sha256(data).hexdigest()
        self._held = False

    def open(self) -> int:
        """Hold the file in the child; its number of pages."""
        count = run_limited(
            scan.hold,
            self.kind,
            self.digest,
            self.data,
            timeout_s=self.limits.timeout_s,
        )
        if isinstance(count, str):
            raise LoadError(count)
        self._held = True
        return count

    def read(self, indices: list[int], spec: OcrSpec, source: str) -> list[str]:
        """The text of these pages: from the cache, else from Tesseract (then cached).
        ``limits.on_page(source, done, len(indices))`` is called before and after each."""
        cache = OcrCache(self.limits.ocr_cache)
        notify: Callable[[str, int, int], None] = self.limits.on_page or _silent
        texts: list[str] = []
        notify(source, 0, len(indices))
        for done, index in enumerate(indices, 1):
            key = cache.key(self.digest, index, spec)
            text = cache.get(key)
            if text is None:
                text = recognise_page(self, index, spec)
                cache.put(key, text)
            texts.append(text)
            notify(source, done, len(indices))
        return texts

    def close(self) -> None:
        if not self._held:
            return
        self._held = False
        # Freeing the child's copy is a courtesy: a failure here changes nothing for the file.
        with contextlib.suppress(LoadError):
            run_limited(
                scan.release,
                self.digest,
                timeout_s=min(self.limits.timeout_s, 10.0),
                late="releasing took too long",
            )


def _silent(source: str, done: int, total: int) -> None:
    del source, done, total


def _check_size(n: int, pages: int, max_bytes: int) -> None:
    if n > max_bytes * max(pages, 1):
        raise LoadError(
            f"file too large ({size(n)} for {pages} page(s); limit {size(max_bytes)} a page)"
        )


def _page_late(index: int, timeout_s: float) -> str:
    return (
        f"page {index + 1}: reading it took longer than {timeout_s:g} s "
        "(the KB_PARSE_TIMEOUT_S limit, per page)"
    )
