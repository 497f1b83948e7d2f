"""Pages as images, and Tesseract on them: the part of OCR that runs in the parser's child
process (``ingest.loaders.sandbox``), one call per page, so that the time limit is a page's.

The parent first ``hold``s a file: the child opens it (PDFium for a PDF, Pillow for an image)
and keeps it, so that a 150-page scan crosses the pipe once, not once a page. Each
``recognise`` call then renders one page in grey and runs Tesseract on it through
pytesseract, whose own ``timeout`` stops Tesseract at the page's deadline: killing this child
later would leave Tesseract running. A child that was replaced (after a crash or a timeout)
holds nothing and answers ``not held``; the parent then holds the file again.

pypdfium2, Pillow and pytesseract (the ``ocr`` extra) are imported when a file is held or a
page read (the parent imports them only to see that they are there: ``ocr.ocr_spec``).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ingest.loaders.common import short

# A page rendered or an image read is scaled down to this many pixels on its longer side (A2
# at 300 dpi): a poster-sized page would cost Tesseract minutes and read no better.
MAX_SIDE_PX = 7000
# Image formats read (the suffixes in ``files.IMAGE_SUFFIXES``; a phone's JPEG that carries a
# second picture opens as MPO through the JPEG reader). No other decoder of Pillow's is reached.
IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
# Files held at once: two uploads read at the same time each keep theirs.
_HELD_MAX = 2


@dataclass(frozen=True)
class OcrSpec:
    """How pages are recognised; every field is part of the OCR cache's key.

    Attributes:
        cmd: the Tesseract program (``pytesseract.pytesseract.tesseract_cmd``).
        languages: Tesseract's ``-l`` (``ind+eng``: Indonesian reports quote English terms).
        dpi: the resolution PDF pages are rendered at (images are read at their own).
        config: extra Tesseract options ("" for its defaults: LSTM engine, automatic layout).
        version: Tesseract's version, from ``tesseract --version``.
    """

    cmd: str
    languages: str
    dpi: int
    config: str
    version: str


_held: OrderedDict[str, Any] = OrderedDict()
_lock = threading.Lock()  # with KB_PARSE_TIMEOUT_S=0 this runs in the caller's threads


def hold(kind: str, digest: str, data: bytes) -> int | str:
    """Open a PDF (``kind`` ``.pdf``) or an image file and keep it under ``digest`` for
    ``recognise``; returns its number of pages (frames of a TIFF), or why it cannot be read."""
    try:
        document = _open(kind, data)
        count = len(document) if kind == ".pdf" else _frames(document)
    except MemoryError:
        return "cannot read the file: it needs too much memory"
    except Exception as e:
        what = "not a valid PDF" if kind == ".pdf" else "not a valid image"
        return f"{what}: {short(e)}"
    if count < 1:
        return "no pages"
    with _lock:
        _close(_held.pop(digest, None))
        _held[digest] = document
        while len(_held) > _HELD_MAX:
            _close(_held.popitem(last=False)[1])
    return count


def release(digest: str) -> None:
    """Forget a held file."""
    with _lock:
        _close(_held.pop(digest, None))


def recognise(digest: str, index: int, spec: OcrSpec, budget_s: float) -> tuple[str, str]:
    """Page ``index`` (0-based) of a held file, rendered and read by Tesseract.

    Args:
        digest: the key the file is held under.
        index: the page.
        spec: languages, resolution and the Tesseract program.
        budget_s: the page's time limit; Tesseract gets what rendering left of it (0: none).

    Returns:
        ``("text", text)``; ``("late", "")`` when the budget ran out; ``("failed", reason)``;
        ``("not held", "")`` when this process does not hold the file (the caller holds it
        again and retries).
    """
    started = time.monotonic()
    with _lock:
        document = _held.get(digest)
        if document is None:
            return "not held", ""
        try:
            image = _page_image(document, index, spec.dpi)
        except MemoryError:
            return "failed", "the page needs too much memory to render"
        except Exception as e:  # a broken page: the file is reported, not the batch stopped
            return "failed", f"cannot render the page: {short(e)}"
    import pytesseract

    timeout = 0.0
    if budget_s > 0:
        timeout = budget_s - (time.monotonic() - started)
        if timeout <= 0:
            return "late", ""
    # pytesseract reads the program from a module global; the parent's choice is passed here.
    pytesseract.pytesseract.tesseract_cmd = spec.cmd
    try:
        text = pytesseract.image_to_string(
            image, lang=spec.languages, config=spec.config, timeout=timeout
        )
    except RuntimeError as e:
        if "timeout" in str(e).lower():  # pytesseract killed Tesseract at the deadline
            return "late", ""
        return "failed", f"Tesseract failed: {short(e)}"
    except OSError as e:  # not installed (TesseractNotFoundError), or it could not start
        return "failed", f"Tesseract cannot run: {short(e)}"
    return "text", text


def _open(kind: str, data: bytes) -> Any:
    if kind == ".pdf":
        import pypdfium2

        return pypdfium2.PdfDocument(data)
    import io

    # Imported by name: Pillow registers a format's reader only when its plugin is imported.
    from PIL import Image, JpegImagePlugin, PngImagePlugin, TiffImagePlugin

    del JpegImagePlugin, PngImagePlugin, TiffImagePlugin
    return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)


def _frames(image: Any) -> int:
    # A phone's JPEG can carry a second picture (MPO: a preview or a depth map): one page.
    return int(getattr(image, "n_frames", 1)) if image.format == "TIFF" else 1


def _page_image(document: Any, index: int, dpi: int) -> Any:
    """The page as a grey Pillow image, upright, at most ``MAX_SIDE_PX`` on its longer side."""
    from PIL import Image, ImageOps

    if isinstance(document, Image.Image):
        document.seek(index)
        # A phone stores a photo as the sensor saw it, with an EXIF tag saying how to turn it.
        image = ImageOps.exif_transpose(document)
        if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba)
        image = image.convert("L")
        image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX))
        return image
    page = document[index]
    try:
        width, height = page.get_size()
        scale = min(dpi / 72, MAX_SIDE_PX / max(width, height, 1.0))
        return page.render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        page.close()


def _close(document: Any) -> None:
    if document is not None:
        document.close()
