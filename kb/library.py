"""The document library behind the app's second tab: list, search, delete and upload.

Uploaded files are untrusted: each is size-limited, its type is checked by its content (not
its name), and it is written under ``<store>/uploads`` with a cleaned name, whatever name it
arrived with.
"""

from __future__ import annotations

import re
import shutil
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from ingest.loaders import SUPPORTED_SUFFIXES
from ingest.types import Failure, IngestReport
from kb.knowledge_base import KnowledgeBase

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
COLUMNS = ["Judul", "Tanggal", "Wilayah", "Potongan", "Dimasukkan", "doc_id"]


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
    return f"{stem[:80]}.{suffix.lower()}" if suffix else stem[:80]


def sniff(path: Path) -> str | None:
    """The supported suffix this file's content fits, or None. PDFs start with ``%PDF``,
    .docx files are zip archives, the rest must be text."""
    head = path.read_bytes()[:4096]
    suffix = path.suffix.lower()
    if head.startswith(b"%PDF"):
        return ".pdf" if suffix == ".pdf" else None
    if head.startswith(b"PK\x03\x04"):
        return ".docx" if suffix == ".docx" else None
    if suffix in {".pdf", ".docx"}:
        return None
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None
    return suffix if suffix in SUPPORTED_SUFFIXES else None


def save_uploads(
    files: Sequence[str | Path], folder: Path, max_bytes: int = MAX_UPLOAD_BYTES
) -> tuple[list[Path], list[Failure]]:
    """Copy uploaded temp files into ``folder`` (created), refusing what does not fit."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    saved: list[Path] = []
    failed: list[Failure] = []
    for given in files:
        source = Path(given)
        name = clean_name(source.name)
        if source.is_symlink() or not source.is_file():
            failed.append(Failure(name, None, "not a regular file"))
            continue
        if source.stat().st_size > max_bytes:
            failed.append(Failure(name, None, f"file too large (limit {max_bytes // 2**20} MB)"))
            continue
        if sniff(source) is None:
            kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
            failed.append(Failure(name, None, f"content does not match a supported type ({kinds})"))
            continue
        target = (root / name).resolve()
        if target.parent != root:
            failed.append(Failure(name, None, "bad file name"))
            continue
        shutil.copyfile(source, target)
        saved.append(target)
    return saved, failed


def upload(kb: KnowledgeBase, files: Sequence[str | Path]) -> IngestReport:
    """Save uploads under ``<store>/uploads`` and ingest them; refused files are in ``failed``."""
    saved, refused = save_uploads(files, Path(kb.settings.store) / "uploads")
    report = kb.ingest(saved) if saved else IngestReport()
    return IngestReport(
        added=report.added,
        updated=report.updated,
        unchanged=report.unchanged,
        deleted=report.deleted,
        failed=tuple(refused) + report.failed,
        chunks_written=report.chunks_written,
        seconds=report.seconds,
    )


def format_report(report: IngestReport) -> str:
    lines = [
        f"**{len(report.added)}** ditambahkan, **{len(report.updated)}** diperbarui, "
        f"**{len(report.unchanged)}** tidak berubah, **{len(report.failed)}** gagal."
    ]
    for f in report.failed:
        from html import escape

        lines.append(f"- {escape(Path(f.source).name)}: {escape(f.reason)}")
    return "\n".join(lines)
