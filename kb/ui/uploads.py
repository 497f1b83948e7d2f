"""The document library behind the app's second tab: list, search, delete and upload.

Uploaded files are untrusted: each is size-limited, its type is checked by its content (not
its name), and it is written under ``<store>/uploads`` with a cleaned name, whatever name it
arrived with.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
import unicodedata
from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path

from kb.formats import IMAGE_SUFFIXES, SUPPORTED_SUFFIXES, size
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.types import Failure, IngestReport

# Callers without settings get the setting's default (the app passes KB_MAX_FILE_MB).
MAX_UPLOAD_BYTES = Settings().max_file_bytes
COLUMNS = ["Judul", "Tanggal", "Wilayah", "Potongan", "Dimasukkan", "doc_id"]
# (fraction done, what is happening): the app forwards it to its progress bar.
Progress = Callable[[float, str], None]
# Shares of the bar: checking and saving the files, then recognising scanned pages (OCR);
# embedding takes the rest.
_SAVING_SHARE = 0.1
_READING_SHARE = 0.4
# The first bytes of the image files accepted (PNG, JPEG, TIFF little- and big-endian).
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")


def rows(kb: KnowledgeBase, search: str = "") -> list[list[str | int]]:
    """One row per article, filtered by a case-insensitive search over title and regions."""
    needle = search.strip().lower()
    out: list[list[str | int]] = []
    for a in kb.articles():
        meta = a.metadata
        regions = meta.get("regions") or []
        region_text = "; ".join(regions) if isinstance(regions, list) else str(regions)
        date = str(meta.get("date") or meta.get("date_text") or "")
        if needle and needle not in f"{a.title} {region_text} {a.doc_id}".lower():
            continue
        out.append([a.title, date, region_text, a.chunks, a.ingested_at, a.doc_id])
    return out


def clean_name(name: str) -> str:
    """A file name that cannot leave its folder: the last path part, NFKC, safe characters."""
    base = unicodedata.normalize("NFKC", name).replace("\\", "/").split("/")[-1]
    base = re.sub(r"[^\w.\-]+", "_", base, flags=re.UNICODE).strip("._") or "berkas"
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    # 80 characters, and few enough bytes for any file system (NAME_MAX is 255 bytes, and
    # NFKC or 4-byte characters can make a short-looking name longer).
    stem = stem[:80]
    while len(stem.encode("utf-8")) > 160:
        stem = stem[:-1]
    suffix = suffix[:16]
    return f"{stem}.{suffix.lower()}" if suffix else stem


def sniff(path: Path) -> str | None:
    """The supported suffix this file's content fits, or None. PDFs start with ``%PDF``,
    .docx files are zip archives, images with their format's signature (any image suffix:
    the image is read by its content), the rest must be text."""
    with path.open("rb") as f:
        head = f.read(4096)
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF"):
        return ".pdf" if suffix == ".pdf" else None
    if head.startswith(b"PK\x03\x04"):
        return ".docx" if suffix == ".docx" else None
    if head.startswith(_IMAGE_MAGIC):
        return suffix if suffix in IMAGE_SUFFIXES else None
    if suffix in {".pdf", ".docx"} | IMAGE_SUFFIXES:
        return None
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    return suffix if suffix in SUPPORTED_SUFFIXES else None


def save_uploads(
    files: Sequence[str | Path],
    folder: Path,
    max_bytes: int = MAX_UPLOAD_BYTES,
    on_file: Callable[[int, int], None] | None = None,
) -> tuple[list[Path], list[Failure]]:
    """Copy uploaded temp files into ``folder`` (created), refusing what does not fit;
    ``on_file(done, total)`` is called before each file."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    saved: list[Path] = []
    failed: list[Failure] = []
    for done, given in enumerate(files):
        if on_file is not None:
            on_file(done, len(files))
        source = Path(given)
        name = clean_name(source.name)
        try:
            reason = _refusal(source, name, root, max_bytes)
            if reason is None:
                shutil.copyfile(source, root / name)
        except (OSError, ValueError) as e:  # a name too long, a file gone: refuse this one
            reason = f"cannot save the file: {getattr(e, 'strerror', None) or e}"
        if reason is not None:
            failed.append(Failure(name, None, reason))
        else:
            saved.append(root / name)
    return saved, failed


def _refusal(source: Path, name: str, root: Path, max_bytes: int) -> str | None:
    """Why an upload is refused, or None."""
    if source.is_symlink() or not source.is_file():
        return "not a regular file"
    if (n := source.stat().st_size) > max_bytes:
        return f"file too large ({size(n)}; limit {size(max_bytes)}, KB_MAX_FILE_MB)"
    if sniff(source) is None:
        kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
        return f"content does not match a supported type ({kinds})"
    # A symlink planted in the uploads folder would otherwise be written through.
    target = root / name
    if target.is_symlink() or target.resolve().parent != root:
        return "bad file name"
    return None


def upload(
    kb: KnowledgeBase,
    files: Sequence[str | Path],
    progress: Progress | None = None,
    labels: tuple[str, str, str] = ("saving", "reading scanned pages", "ingesting"),
) -> IngestReport:
    """Save uploads under ``<store>/uploads`` and ingest them; refused files are in ``failed``.

    Args:
        kb: the knowledge base to ingest into.
        files: the uploaded (temporary) files.
        progress: called as ``progress(fraction, description)`` for each file checked, each
            scanned page recognised and each group of chunks embedded.
        labels: the descriptions of the three stages (saving, recognising scanned pages,
            ingesting), in the UI language.

    Returns:
        The ingest report, with the refused files among ``failed``.

    Raises:
        StoreLockedError: another process is writing to the store.
    """
    on_file = on_page = on_chunks = None
    folder = Path(kb.settings.store) / "uploads"
    # Where each file stands among those saved, for the pages' share of the bar.
    order: dict[str, int] = {}
    if progress is not None:
        report_progress = progress
        saving, reading, ingesting = labels

        def on_file(done: int, total: int) -> None:
            report_progress(_SAVING_SHARE * done / max(total, 1), f"{saving} {done + 1}/{total}")

        def on_page(source: str, done: int, total: int) -> None:
            files_done = order.get(source, 0) + done / max(total, 1)
            share = _SAVING_SHARE + _READING_SHARE * files_done / max(len(order), 1)
            report_progress(share, f"{reading}: {Path(source).name} {done}/{total}")

        def on_chunks(done: int, total: int) -> None:
            share = _SAVING_SHARE + _READING_SHARE
            share += (1 - share) * done / max(total, 1)
            report_progress(share, f"{ingesting}: {done}/{total}")

    saved, refused = save_uploads(files, folder, kb.settings.max_file_bytes, on_file=on_file)
    order.update((str(path.resolve()), i) for i, path in enumerate(saved))
    report = kb.ingest(saved, on_progress=on_chunks, on_page=on_page) if saved else IngestReport()
    return dataclasses.replace(report, failed=tuple(refused) + report.failed)


REPORT = (
    "**{added}** ditambahkan, **{updated}** diperbarui, "
    "**{unchanged}** tidak berubah, **{failed}** gagal."
)


def format_report(report: IngestReport, template: str = REPORT) -> str:
    """The batch report as Markdown: the counts, then each failed file and why, each warning
    (a date not read), and each duplicate (file = the file it copies); names escaped."""
    counts = {
        "added": len(report.added),
        "updated": len(report.updated),
        "unchanged": len(report.unchanged),
        "failed": len(report.failed),
    }
    lines = [template.format(**counts)]
    for f in (*report.failed, *report.warnings):
        lines.append(f"- {_name(f.source)}: {escape(f.reason)}")
    for d in report.duplicates:
        kind = "exact" if d.exact else f"~{d.similarity:.2f}"
        lines.append(f"- {_name(d.source)} = {_name(d.of_source)} ({kind})")
    return "\n".join(lines)


def _name(source: str) -> str:
    """A file's name, escaped for Markdown."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", escape(Path(source).name))
