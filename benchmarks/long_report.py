"""Long reports (issue 19): Recall@5 of questions about passages deep inside a 60-page report,
with and without the section path embedded with each passage; the answers to the issue's two
questions.

    python benchmarks/long_report.py [--embedding-model M] [--quick] [--keep]

The report is ``tests/long_report.py``'s (generated, every name made up; two scanned pages at
the end when Tesseract is installed), ingested with the bundled sample articles beside it. Its
questions name an innovation and its kecamatan and ask for a fact (people served, staff,
yearly cost) that stands in a later paragraph of the innovation's subsection, one that says
only "layanan ini". "Middle" questions are those of chapters III and IV (pages ~20-45).

Stores compared (same file, same chunks):
- ``outline``: the PDF has bookmarks; sections come from them;
- ``headings``: no bookmarks; sections from the numbered headings in the text;
- ``no section context``: as ``headings``, but the section path is neither embedded nor
  indexed with the passages (the product before issue 19, with whole sentences).

Retrieval is ``kb.retrieve(question, k=10, per_article=None)`` (a report is one article).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from _common import Table, add_common_args, machine_line, open_kb, workdir

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import long_report

import ingest.pipeline
from ingest.loaders.ocr import ocr_spec
from kb.knowledge_base import KnowledgeBase, sample_path

CONFIGS = ("outline", "headings", "no section context")
ISSUE_QUESTIONS = ("Berapa jenis layanan di MPP Coblong?", "Siapa Camat Coblong?")


def build_store(folder: Path, config: str, embedding_model: str | None, scanned: bool) -> Any:
    """A knowledge base with the samples and the report, built the way ``config`` says."""
    docs = folder / "docs"
    docs.mkdir(parents=True)
    pdf = long_report.build(outline=config == "outline", scanned=scanned)
    (docs / "laporan-kinerja-2024.pdf").write_bytes(pdf)
    kb = open_kb(folder / "store", embedding_model)
    original_text, original_layout = ingest.pipeline.embedding_text, ingest.pipeline.chunk_layout
    if config == "no section context":
        ingest.pipeline.embedding_text = lambda title, text, section="": original_text(title, text)  # type: ignore[assignment]
        ingest.pipeline.chunk_layout = lambda chunk: {  # type: ignore[assignment]
            k: v for k, v in original_layout(chunk).items() if k != "section"
        }
    try:
        report = kb.ingest([sample_path(), docs])
    finally:
        ingest.pipeline.embedding_text = original_text  # type: ignore[assignment]
        ingest.pipeline.chunk_layout = original_layout  # type: ignore[assignment]
    assert report.ok, report.failed
    return kb, long_report.page_count(pdf)


def recall(kb: KnowledgeBase, questions: list[long_report.Question]) -> tuple[float, float, float]:
    """Recall@5, Recall@1 and MRR@10 of the passage holding each answer."""
    at5 = at1 = rr = 0.0
    for q in questions:
        hits = kb.retrieve(q.text, k=10, per_article=None)
        ranks = [i for i, h in enumerate(hits, 1) if q.answer in h.text]
        if ranks:
            at5 += ranks[0] <= 5
            at1 += ranks[0] == 1
            rr += 1 / ranks[0]
    n = len(questions) or 1
    return at5 / n, at1 / n, rr / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_args(parser)
    args = parser.parse_args()
    scanned = not isinstance(ocr_spec("auto"), str)
    questions = long_report.QUESTIONS
    if args.quick:
        questions = questions[::6]
    middle = [q for q in questions if q.middle]
    print(machine_line())
    print(f"scanned pages: {'yes (OCR)' if scanned else 'no (Tesseract not installed)'}")
    rows: list[list[Any]] = []
    answers: list[str] = []
    with workdir(args.workdir, args.keep, "kb-long-report-") as work:
        for config in CONFIGS:
            kb, pages = build_store(work / config.replace(" ", "-"), config, args.embedding_model,
                                    scanned)  # fmt: skip
            try:
                mid = recall(kb, middle)
                every = recall(kb, questions)
                rows.append([config, pages, len(middle), *mid, len(questions), every[0], every[2]])
                if config == "headings":
                    for question in ISSUE_QUESTIONS:
                        answer = kb.ask(question)
                        answers.append(f"Q: {question}\nA: {answer.text}")
                        for c in answer.citations:
                            where = f"hal. {c.page}" + (f"-{c.page_end}" if c.page_end else "")
                            answers.append(f"   [{c.n}] {c.title} · {where} · {c.section}")
                            answers.append(f"       “{c.quote}”")
            finally:
                kb.close()
    print()
    print(
        Table(
            ["store", "pages", "middle n", "R@5", "R@1", "MRR@10", "all n", "R@5 all", "MRR all"],
            rows,
        ).render()
    )
    print()
    print("\n".join(answers))


if __name__ == "__main__":
    main()
