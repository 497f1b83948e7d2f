"""Cost and yield of finding duplicates at ingest (issue 22, item 6).

    python benchmarks/duplicates.py [--articles 1000] [--copies 100] [--rounds 3]
                                    [--embedding-model M] [--quick]

Generated articles (``.txt``, about 3 chunks each) and ``--copies`` near copies of the first
ones, as another outlet runs a release: its own title, a dateline and first sentence of its
own, an outlet line at the end. Measured, each with its baseline in the same run (the
duplicate step replaced by one that computes nothing and finds nothing):

- signatures alone (``kb.store.duplicates.signature``) per 1,000 articles;
- a full ingest of the folder into an empty store;
- a second batch of 10 articles into that store (each batch that writes reads and indexes
  the stored signatures);
- the registry read a search makes after each write: ``Registry.read`` (hashes, and the
  groups from the links) against ``Store.registered_hashes`` (the read before duplicates);
- what was found: near copies detected out of ``--copies``, pairs among the distinct
  generated articles (false copies).

Rounds alternate between with and without; the medians are printed.
"""

from __future__ import annotations

import argparse
import contextlib
import time
from collections.abc import Iterator
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
    workdir,
    write_articles,
)

import ingest.pipeline
from kb.retrieval.ranker import Registry
from kb.store.duplicates import THRESHOLD, signature

DATELINE = "JAKARTA, Warta Kota –"


def write_copies(folder: Path, source: Path, n: int, gen: Any) -> None:
    """Near copies of the first ``n`` articles of ``source``: another title, dateline, first
    sentence and an outlet line."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.txt"))[:n]:
        _, body = path.read_text(encoding="utf-8").split("\n", 1)
        _, _, rest = body.partition(". ")
        text = f"{gen.title()}\n{DATELINE} {gen.sentence()} {rest.strip()}\nSumber: Warta Kota\n"
        (folder / f"salinan-{path.name}").write_text(text, encoding="utf-8")


def body(path: Path) -> str:
    return path.read_text(encoding="utf-8").split("\n", 1)[1]


@contextlib.contextmanager
def without_duplicates() -> Iterator[None]:
    """The ingest as before this change: no signature, no lookup."""
    original = ingest.pipeline.find_duplicates

    def nothing(store: Any, pending: Any) -> list[list[Any]]:
        return [[] for _ in pending]

    ingest.pipeline.find_duplicates = nothing  # type: ignore[assignment]
    try:
        yield
    finally:
        ingest.pipeline.find_duplicates = original


def timed(call: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = call()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_common_args(parser)
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--copies", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.quick:
        args.articles, args.copies, args.rounds = 100, 10, 1
    print(machine_line())
    gen = generator(facqa_passages(args.facqa), seed=22)
    with workdir(args.workdir, args.keep, "kb-duplicates-") as work:
        folder = work / "docs"
        write_articles(folder, gen, args.articles)
        write_copies(folder, folder, args.copies, gen)
        later = work / "later"
        write_articles(later, gen, 10, prefix="susulan")
        texts = [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
        signature("datasketch is imported outside the timing")
        # How alike each near copy's text is to its original's (estimated Jaccard of the
        # shingles, as ingest compares them: the body, without the title line).
        alike = sorted(
            signature(body(p)).similarity(signature(body(folder / p.name.removeprefix("salinan-"))))
            for p in folder.glob("salinan-*.txt")
        )
        # Untimed: imports, Chroma's first store, the date parser's cache of these texts.
        warm = open_kb(work / "store-warm", args.embedding_model)
        warm.ingest([folder])
        warm.close()
        sign: dict[str, list[float]] = {"with": [], "without": []}
        full: dict[str, list[float]] = {"with": [], "without": []}
        batch: dict[str, list[float]] = {"with": [], "without": []}
        registry: dict[str, list[float]] = {"with": [], "without": []}
        found: Any = None
        for n in range(args.rounds):
            _, seconds = timed(lambda: [signature(t) for t in texts])
            sign["with"].append(seconds * 1000 / len(texts))  # ms an article: s per 1,000
            for mode in ("without", "with") if n % 2 == 0 else ("with", "without"):
                store = work / f"store-{mode}-{n}"
                kb = open_kb(store, args.embedding_model)
                kb.embedder.embed_query("warm up")  # the model loads outside the timing
                with without_duplicates() if mode == "without" else contextlib.nullcontext():
                    report, seconds = timed(lambda kb=kb: kb.ingest([folder]))
                    full[mode].append(seconds)
                    if mode == "with":
                        found = report
                    _, seconds = timed(lambda kb=kb: kb.ingest([later]))
                    batch[mode].append(seconds)
                read = (
                    kb.store.registered_hashes
                    if mode == "without"
                    else lambda kb=kb: Registry.read(kb.store)
                )
                registry[mode].append(median([timed(read)[1] for _ in range(5)]))
                kb.close()

        assert found is not None
        copies = {d.doc_id for d in found.duplicates if Path(d.source).name.startswith("salinan-")}
        false = [d for d in found.duplicates if not Path(d.source).name.startswith("salinan-")]
        total = args.articles + args.copies
        rows = [
            ("signatures alone, s per 1,000 articles", median(sign["with"]), None, None),
            (
                f"full ingest of {total} articles, s",
                median(full["with"]),
                median(full["without"]),
                median(full["with"]) / median(full["without"]),
            ),
            (
                f"a batch of 10 into {total} stored, s",
                median(batch["with"]),
                median(batch["without"]),
                median(batch["with"]) / median(batch["without"]),
            ),
            (
                f"registry read after a write ({total + 10} articles), ms",
                median(registry["with"]) * 1000,
                median(registry["without"]) * 1000,
                median(registry["with"]) / median(registry["without"]),
            ),
        ]
        print(Table(["", "with duplicates", "without", "ratio"], rows).render())
        print(
            f"\nnear copies found: {len(copies)} of {args.copies}; pairs among the "
            f"{args.articles} distinct articles: {len(false)}; embedder {kb.embedder_name}, "
            f"{args.rounds} rounds"
        )
        if alike:
            print(
                f"similarity of the near copies to their originals: min {alike[0]:.2f}, "
                f"median {median(alike):.2f}, max {alike[-1]:.2f}; "
                f"{sum(a >= THRESHOLD for a in alike)} at or above the threshold {THRESHOLD}"
            )


if __name__ == "__main__":
    main()
