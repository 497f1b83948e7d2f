"""What the parse time limit costs on normal files: HTML, PDF and Word files parsed in this
process (``KB_PARSE_TIMEOUT_S=0``) against the sandboxed child process (the default).

The files are the bundled sample articles written out as each format. Rounds alternate the two
modes; the table gives the median per file and the ratio, measured in the same run.

    python benchmarks/parse_limit.py [--copies 5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import html
import io
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import docx

from ingest.loaders import load_file
from ingest.loaders.sandbox import Sandbox, shared
from kb.knowledge_base import sample_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from ocr_samples import assemble_pdf, pdf_literal  # the tests' PDF writer


def _pdf(title: str, text: str) -> bytes:
    """A one-page PDF with a Helvetica text layer (long lines cut into 90-character lines)."""
    words, lines, line = text.split(), [title], ""
    for word in words:
        if len(line) + len(word) > 90:
            lines.append(line)
            line = ""
        line += word + " "
    lines.append(line)
    ops = ["BT", "/F1 10 Tf", "12 TL", "40 800 Td"]
    for item in lines:
        ops.append(pdf_literal(item.encode("cp1252", "replace").decode("cp1252")) + " Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("cp1252", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    return assemble_pdf(objects)


def _docx(title: str, text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(title)
    for paragraph in text.split("\n"):
        if paragraph.strip():
            document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _html(title: str, text: str) -> bytes:
    body = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    page = (
        f"<html><head><title>{html.escape(title)}</title></head><body><nav>Beranda</nav>"
        f"<article><h1>{html.escape(title)}</h1>{body}</article><footer>©</footer></body></html>"
    )
    return page.encode("utf-8")


def write_files(folder: Path, copies: int) -> dict[str, list[Path]]:
    records = [json.loads(line) for line in sample_path().read_text(encoding="utf-8").splitlines()]
    makers = {".html": _html, ".pdf": _pdf, ".docx": _docx}
    files: dict[str, list[Path]] = {suffix: [] for suffix in makers}
    for copy in range(copies):
        for i, record in enumerate(records):
            for suffix, make in makers.items():
                path = folder / f"{copy}-{i}{suffix}"
                path.write_bytes(make(record["title"], record["text"]))
                files[suffix].append(path)
    return files


def load_all(paths: list[Path], timeout_s: float) -> float:
    started = time.perf_counter()
    for path in paths:
        (result,) = load_file(path, timeout_s=timeout_s)
        assert result.__class__.__name__ == "Article", result
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=5, help="copies of the 8 samples per format")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), args.copies)
        started = time.perf_counter()
        probe = Sandbox(preload=("ingest.loaders.parsers:preload",))
        probe.call("math:sqrt", 4.0, timeout=60)
        start_cost = time.perf_counter() - started
        probe.close()
        for paths in files.values():  # warm both modes: imports, the shared child
            load_all(paths[:1], 0)
            load_all(paths[:1], 60)

        print(f"child process start (interpreter + parser imports), once per process: "
              f"{start_cost * 1000:.0f} ms")  # fmt: skip
        print(f"{'format':<8}{'files':>6}{'in-process ms/file':>20}{'sandboxed ms/file':>19}"
              f"{'ratio':>8}")  # fmt: skip
        for suffix, paths in files.items():
            inline, boxed = [], []
            for _ in range(args.rounds):
                inline.append(load_all(paths, 0) / len(paths))
                boxed.append(load_all(paths, 60) / len(paths))
            a, b = statistics.median(inline), statistics.median(boxed)
            print(f"{suffix:<8}{len(paths):>6}{a * 1000:>20.2f}{b * 1000:>19.2f}{b / a:>8.2f}")
        print(f"children started by the shared sandbox: {shared().started}")


if __name__ == "__main__":
    main()
