"""The file kinds the product reads (ingest's loaders dispatch on these suffixes, the app's
upload accepts them), and file sizes as users read them."""

from __future__ import annotations

# Photos and scans of report pages: their text is recognised with Tesseract (``ocr``).
IMAGE_SUFFIXES: frozenset[str] = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff"})
SUPPORTED_SUFFIXES: frozenset[str] = (
    frozenset({".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".jsonl"})
    | IMAGE_SUFFIXES
)


def size(n: int) -> str:
    """``"2.5 MB"``, or ``"1,234 bytes"`` under a megabyte."""
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n:,} bytes"
