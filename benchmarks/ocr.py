"""OCR of scanned reports and phone photos: character error rate and seconds per page.

    python benchmarks/ocr.py [--rounds 3] [--retrieval] [--embedding-model M] [--quick]

The pages are made by ``tests/ocr_samples.py`` from known Indonesian text, with the test
suite's fixed settings: a clean 300-dpi scan, a poor scan (200 dpi, turned 2 degrees, noise of
sigma 8) and a phone photo (5% perspective skew, 1-pixel blur, stored on its side with an EXIF
orientation), each as a file read by the product (``ingest.loaders.load_file``: the page
rendered and read by Tesseract in the parser's child process, no OCR cache). The character
error rate is the Levenshtein distance to the text on the page, whitespace made single
spaces, over the text's length. Seconds are the median over ``--rounds``; the baseline,
measured in the same run, is the born-digital twin of the same page read from its text layer.
Targets (issue 18): CER <= 2% clean, <= 5% poor scan, <= 8% photo.

With ``--retrieval``: two stores with the bundled sample articles, one with born-digital
PDFs of three reports, one with their scans and photo; the same questions about each report
are asked of both, and the rank of the report is compared (the embedder of the settings, or
``--embedding-model``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from _common import Table, add_common_args, machine_line, open_kb, verdict, workdir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import ocr_samples as samples

from ingest.loaders import load_file
from ingest.loaders.ocr import ocr_spec
from kb.knowledge_base import sample_path
from kb.types import Article

CONDITIONS = [
    # (name, file name, reference text, CER target)
    ("clean scan, 300 dpi", "clean.pdf", samples.EVENING, 0.02),
    ("poor scan, 200 dpi, 2 deg, noise 8", "poor.pdf", samples.EVENING, 0.05),
    ("phone photo, skew 5%, blur 1, EXIF 90", "photo.png", samples.PHOTO, 0.08),
]
QUESTIONS = [
    ("Kapan loket layanan malam Kecamatan Sukamaju buka?", "sukamaju"),
    ("Berapa warga yang dilayani layanan malam setiap malam?", "sukamaju"),
    ("Siapa bidan yang membawa vaksin dengan perahu motor?", "teluk-biru"),
    ("Berapa cakupan imunisasi dasar di Desa Teluk Biru sejak Januari?", "teluk-biru"),
    ("Berapa sopir ambulans desa Puskesmas Kenanga yang bergiliran?", "kenanga"),
    ("Berapa pasien yang diantar ambulans Kenanga pada bulan April?", "kenanga"),
]


def write_pages(folder: Path) -> dict[str, Path]:
    """The scanned files and the born-digital twin of the scanned page."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "clean.pdf": samples.image_pdf([samples.clean_scan(samples.EVENING)], 300),
        "poor.pdf": samples.image_pdf([samples.poor_scan(samples.EVENING)], 200),
        "photo.png": samples.phone_photo(samples.PHOTO),
        "twin.pdf": samples.text_pdf([samples.EVENING]),
    }
    paths = {}
    for name, data in files.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


def read(path: Path) -> tuple[Article, float]:
    started = time.perf_counter()
    (result,) = load_file(path)
    seconds = time.perf_counter() - started
    if not isinstance(result, Article):
        raise SystemExit(f"{path.name} was not read: {result.reason}")
    return result, seconds


def measure(paths: dict[str, Path], rounds: int) -> None:
    read(paths["twin.pdf"])  # the parser's child process starts outside the timings
    twin = statistics.median(read(paths["twin.pdf"])[1] for _ in range(rounds))
    rows: list[tuple[object, ...]] = []
    met = True
    for name, file_name, reference, target in CONDITIONS:
        timings = []
        for _ in range(rounds):
            article, seconds = read(paths[file_name])
            timings.append(seconds)
        error = samples.cer(f"{article.title}\n{article.text}", reference)
        met = met and error <= target
        per_page = statistics.median(timings)
        rows.append(
            (
                name,
                f"{error:.2%}",
                f"{target:.0%}",
                verdict(error <= target),
                per_page,
                per_page / twin,
            )
        )
    rows.append(("born-digital twin (text layer)", "-", "-", "-", twin, 1.0))
    print(Table(["page", "CER", "target", "", "s/page", "x text layer"], rows).render())
    print("all CER targets met" if met else "a CER target is NOT met")


def retrieval(folder: Path, embedding_model: str | None) -> None:
    """Rank of each report for its questions: born-digital store against scanned store."""
    reports = {
        "sukamaju": (samples.EVENING, samples.image_pdf([samples.poor_scan(samples.EVENING)], 200)),
        "teluk-biru": (samples.PHOTO, samples.phone_photo(samples.PHOTO)),
        "kenanga": (
            samples.MIXED_SCANNED_PAGE,
            samples.image_pdf([samples.clean_scan(samples.MIXED_SCANNED_PAGE)], 300),
        ),
    }
    ranks: dict[str, list[int | None]] = {}
    for kind in ("born-digital", "scanned"):
        inputs = folder / kind
        inputs.mkdir(parents=True)
        for name, (text, scanned) in reports.items():
            if kind == "born-digital":
                (inputs / f"{name}.pdf").write_bytes(samples.text_pdf([text]))
            else:
                suffix = ".png" if name == "teluk-biru" else ".pdf"
                (inputs / f"{name}{suffix}").write_bytes(scanned)
        kb = open_kb(folder / f"store-{kind}", embedding_model)
        report = kb.ingest([inputs, sample_path()])
        if not report.ok:
            raise SystemExit(f"{kind}: {report.failed}")
        ranks[kind] = []
        for question, name in QUESTIONS:
            hits = kb.retrieve(question, k=10)
            stems = [Path(str(h.metadata.get("source", ""))).stem for h in hits]
            ranks[kind].append(stems.index(name) + 1 if name in stems else None)
        kb.close()
    rows = [
        (question, name, born, scanned)
        for (question, name), born, scanned in zip(
            QUESTIONS, ranks["born-digital"], ranks["scanned"], strict=True
        )
    ]
    print(Table(["question", "report", "rank born-digital", "rank scanned"], rows).render())
    same = ranks["born-digital"] == ranks["scanned"]
    print("the scans rank as their born-digital twins" if same else "the ranks differ")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="readings of each page")
    parser.add_argument("--retrieval", action="store_true", help="also compare retrieval")
    add_common_args(parser)
    args = parser.parse_args()
    spec = ocr_spec()
    if isinstance(spec, str):
        raise SystemExit(f"cannot measure OCR: {spec}")
    print(machine_line())
    print(f"Tesseract {spec.version}, languages {spec.languages}, PDF pages at {spec.dpi} dpi")
    with workdir(args.workdir, args.keep, "kb-ocr-") as folder:
        measure(write_pages(folder / "pages"), 1 if args.quick else args.rounds)
        if args.retrieval:
            print()
            retrieval(folder / "retrieval", args.embedding_model)


if __name__ == "__main__":
    main()
