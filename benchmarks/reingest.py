"""Re-ingest of an unchanged folder against its full ingest.

    python benchmarks/reingest.py [--articles 1000] [--repeat 3] [--embedding-model M] [--quick]

Writes a folder of generated articles (``.txt``, about 3 chunks each) under /tmp, ingests
it into an empty store with the embedder of the settings (``KB_EMBEDDING_MODEL`` or
``--embedding-model``; the model is loaded before timing): that is the baseline. Then
ingests the unchanged folder again, ``--repeat`` times each way:

- in process: a new ``KnowledgeBase`` on the same store (what the app's upload does);
- ``kb ingest FOLDER`` in a new process (what a user at a terminal waits for: Python start,
  imports, loading and hashing the files, one registry read).

Every re-ingest must report all articles unchanged and write no chunk. Prints the median of
each as a share of the full ingest; the target is under 2%.

Then one article in ten gets a correction line at its end (an editor's fix) and the folder is
ingested once more: those articles are rewritten, but only their passages that changed are
embedded; the others keep their stored vectors. Last, the folder is moved and ingested with
``prune``: every article is new by its path, yet nothing needs embedding again.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    Table,
    add_common_args,
    facqa_passages,
    generator,
    machine_line,
    median,
    open_kb,
    verdict,
    workdir,
    write_articles,
)

from ingest.pipeline import collect


def timed_ingest(
    store: Path, folder: Path, model: str | None, prune: bool = False
) -> tuple[Any, float]:
    """``(report, seconds)`` of ingesting ``folder`` with a new ``KnowledgeBase`` on ``store``."""
    kb = open_kb(store, model)
    started = time.perf_counter()
    report = kb.ingest([folder], prune=prune)
    return report, time.perf_counter() - started


def reingest_in_process(store: Path, folder: Path, model: str | None, articles: int) -> float:
    report, seconds = timed_ingest(store, folder, model)
    if len(report.unchanged) != articles or report.chunks_written:
        raise SystemExit(f"re-ingest changed something: {report.summary()}")
    return seconds


def ingest_corrections(
    store: Path, folder: Path, model: str | None, every: int
) -> tuple[Any, float]:
    """Add a correction line to every ``every``-th article and ingest the folder again."""
    files = sorted(folder.glob("*.txt"))[::every]
    for path in files:
        with path.open("a", encoding="utf-8") as f:
            f.write("Koreksi: angka pada laporan ini diperbarui oleh redaksi.\n")
    report, seconds = timed_ingest(store, folder, model)
    if len(report.updated) != len(files):
        raise SystemExit(f"the corrections were not all ingested: {report.summary()}")
    return report, seconds


def ingest_moved(store: Path, folder: Path, model: str | None) -> tuple[Any, float]:
    """Move ``folder`` one level down and ingest its parent (which holds nothing else) with
    ``prune``."""
    root = folder.parent
    moved = root / "moved" / folder.name
    moved.parent.mkdir()
    folder.rename(moved)
    report, seconds = timed_ingest(store, root, model, prune=True)
    if len(report.added) != len(report.deleted) or report.failed:
        raise SystemExit(f"the moved folder did not replace the old one: {report.summary()}")
    return report, seconds


def reingest_cli(store: Path, folder: Path, model: str | None) -> float:
    env = dict(os.environ)
    if model:
        env["KB_EMBEDDING_MODEL"] = model
    command = [sys.executable, "-m", "kb", "ingest", str(folder), "--store", str(store)]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"kb ingest failed ({done.returncode}): {done.stderr or done.stdout}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_args(parser)
    parser.add_argument("--articles", type=int, default=1000, help="articles in the folder")
    parser.add_argument("--repeat", type=int, default=3, help="re-ingests of each kind")
    args = parser.parse_args()
    articles = 40 if args.quick else args.articles
    repeat = 1 if args.quick else max(1, args.repeat)

    with workdir(args.workdir, args.keep, "kb-bench-reingest-") as work:
        folder, store = work / "docs" / "articles", work / "store"
        write_articles(folder, generator(facqa_passages(args.facqa), seed=2), articles)
        kb = open_kb(store, args.embedding_model)
        kb.embedder.embed_documents(["pemanasan model"])  # load the model before timing
        machine = machine_line()

        started = time.perf_counter()
        report = kb.ingest([folder])
        full = time.perf_counter() - started
        if not report.ok or len(report.added) != articles:
            raise SystemExit(f"full ingest went wrong: {report.summary()}")

        in_process = [
            reingest_in_process(store, folder, args.embedding_model, articles)
            for _ in range(repeat)
        ]
        cli = [reingest_cli(store, folder, args.embedding_model) for _ in range(repeat)]
        started = time.perf_counter()
        collect([folder])
        loading = time.perf_counter() - started
        fixed, fixing = ingest_corrections(store, folder, args.embedding_model, every=10)
        moved, moving = ingest_moved(store, folder, args.embedding_model)

        written, embedded = report.chunks_written, report.chunks_embedded
        rows = [
            ("full ingest (baseline)", written, embedded, full, 1),
            ("re-ingest, in process", 0, 0, median(in_process), repeat),
            ("  of which loading the files (collect)", 0, 0, loading, 1),
            ("re-ingest, `kb ingest` new process", 0, 0, median(cli), repeat),
            (
                f"re-ingest, {len(fixed.updated)} articles corrected (1 in 10)",
                fixed.chunks_written,
                fixed.chunks_embedded,
                fixing,
                1,
            ),
            (
                f"folder moved, ingested with prune ({len(moved.added)} new paths)",
                moved.chunks_written,
                moved.chunks_embedded,
                moving,
                1,
            ),
        ]
        table = Table(
            ["run", "chunks written", "chunks embedded", "seconds", "% of full", "runs"],
            [(name, n, e, s, 100 * s / full, r) for name, n, e, s, r in rows],
        )
        print(
            f"{articles} generated articles in {folder.name}/, {report.chunks_written} chunks; "
            f"embedder {kb.embedder_name}, batch size {kb.settings.embedding_batch_size}\n"
            f"{machine}\n"
        )
        print(table.render())
        share = 100 * max(median(in_process), median(cli)) / full
        print(f"\ntarget re-ingest < 2% of full ingest: {share:.2f}% ({verdict(share < 2)})")


if __name__ == "__main__":
    main()
