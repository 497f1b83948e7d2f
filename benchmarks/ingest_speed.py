"""Ingest speed: ``kb ingest`` against a plain LangChain pipeline and the raw embedder.

    python benchmarks/ingest_speed.py [--articles 150] [--rounds 3] [--unsorted] [--quick]

One corpus folder is written under /tmp: generated articles as ``.txt`` files and, when
../shared/data/facqa-dev is there, its passages as one ``.jsonl`` file. Three runs over it,
with the same embedder object (from the settings: ``KB_EMBEDDING_MODEL`` or
``--embedding-model``), so the same batch size and threads:

- raw embedder (the baseline): one ``embed_documents`` call on the texts ``kb ingest``
  embeds for its chunks (title + passage), sorted by length (the least padding any caller
  can get); with ``--unsorted`` also in corpus order, as a caller who does not sort would;
- ``kb ingest``: ``KnowledgeBase.ingest([folder])`` into an empty store (loading, metadata,
  chunking, embedding, Chroma writes); its time spent inside the embedder is shown apart;
- LangChain: read the same files into ``Document``s, ``RecursiveCharacterTextSplitter``
  (same chunk size and overlap), ``langchain_chroma.Chroma.from_documents``;
- LangChain on kb's texts: ``Chroma.from_texts`` on the very texts ``kb ingest`` embeds, so
  the two embed the same tokens and differ only in what is done around the embedder.

The model is loaded before any timing. Every run is repeated ``--rounds`` times, in a
rotated order, into fresh stores: on a shared machine one pass of each, one after the
other, mostly measures how the load changed. Prints medians of chunks/s, tokens/s (the
embedder's own tokenizer), wall and CPU time (this process, all threads) and each run's
per-round ratio to the raw embedder's.
(Not named ``ingest.py``: run as a script, that name would hide the ``ingest`` package.)
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections.abc import Callable
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
    token_counter,
    verdict,
    workdir,
    write_articles,
    write_jsonl,
)
from langchain_core.embeddings import Embeddings

from ingest.chunking import make_chunks
from ingest.pipeline import collect
from kb.knowledge_base import KnowledgeBase
from kb.store.records import embedding_text

SAME_TEXTS = "LangChain Chroma.from_texts on kb's texts"


class TimedEmbeddings(Embeddings):
    """Passes calls to ``inner`` and adds up the seconds spent in ``embed_documents``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = getattr(inner, "name", type(inner).__name__)
        self.seconds = 0.0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        started = time.perf_counter()
        try:
            return self.inner.embed_documents(texts)
        finally:
            self.seconds += time.perf_counter() - started

    def embed_query(self, text: str) -> list[float]:
        return self.inner.embed_query(text)


def build_corpus(folder: Path, articles: int, facqa: list[dict[str, Any]]) -> None:
    write_articles(folder, generator(facqa, seed=1), articles)
    if facqa:
        write_jsonl(folder / "facqa-dev.jsonl", facqa)


def kb_inputs(folder: Path, chunk_chars: int, overlap: int) -> list[str]:
    """The texts ``kb ingest`` embeds for the corpus, in corpus order."""
    articles, failures = collect([folder])
    if failures:
        raise SystemExit(f"corpus has failures: {failures[:3]}")
    return [
        embedding_text(a.title, c.text)
        for a in articles
        for c in make_chunks(a, chunk_chars, overlap)
    ]


def langchain_documents(folder: Path) -> list[Any]:
    """The corpus as a LangChain user loads it: one document a txt file, one a jsonl line."""
    from langchain_core.documents import Document

    docs = []
    for path in sorted(folder.rglob("*")):
        if path.suffix == ".txt":
            docs.append(Document(path.read_text(encoding="utf-8"), metadata={"source": str(path)}))
        elif path.suffix == ".jsonl":
            for line in path.read_text(encoding="utf-8").splitlines():
                row = json.loads(line)
                docs.append(Document(row["text"], metadata={"source": str(path), "id": row["id"]}))
    return docs


def run_langchain(
    folder: Path, store: Path, embedder: Any, chunk_chars: int, overlap: int
) -> list[str]:
    """Load, split, embed and write with stock LangChain parts; returns the chunk texts."""
    from langchain_chroma import Chroma
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_chars, chunk_overlap=overlap)
    chunks = splitter.split_documents(langchain_documents(folder))
    Chroma.from_documents(
        chunks,
        embedding=embedder,
        collection_name="langchain",
        persist_directory=str(store),
        collection_metadata={"hnsw:space": "cosine"},
    )
    return [c.page_content for c in chunks]


def timed(run: Callable[[], Any]) -> tuple[float, float, Any]:
    """``(wall seconds, CPU seconds of this process, result)``."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_args(parser)
    parser.add_argument("--articles", type=int, default=150, help="generated articles")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every run")
    parser.add_argument(
        "--unsorted", action="store_true", help="also time the raw embedder in corpus order"
    )
    args = parser.parse_args()
    articles = 20 if args.quick else args.articles
    rounds = 1 if args.quick else max(1, args.rounds)
    facqa = facqa_passages(args.facqa)[: 100 if args.quick else None]

    with workdir(args.workdir, args.keep, "kb-bench-ingest-") as work:
        corpus = work / "corpus"
        build_corpus(corpus, articles, facqa)
        kb = open_kb(work / "kb-store", args.embedding_model)
        settings, embedder = kb.settings, kb.embedder
        load_s, _, _ = timed(lambda: embedder.embed_documents(["pemanasan model"]))
        unit, count = token_counter(embedder)
        inputs = kb_inputs(corpus, settings.chunk_chars, settings.chunk_overlap_chars)
        by_length = sorted(inputs, key=len)
        lc_chunks: list[str] = []
        machine = machine_line()

        def run_kb(r: int) -> float:
            spy = TimedEmbeddings(embedder)
            store = work / f"kb-store-{r}"
            fresh = KnowledgeBase(settings=settings.with_overrides(store=store), embedder=spy)
            done = fresh.ingest([corpus])
            if not done.ok or done.chunks_written != len(inputs):
                raise SystemExit(f"kb ingest did not write the expected chunks: {done.summary()}")
            return spy.seconds

        def run_lc(r: int) -> None:
            lc_chunks[:] = run_langchain(
                corpus,
                work / f"lc-store-{r}",
                embedder,
                settings.chunk_chars,
                settings.chunk_overlap_chars,
            )

        def run_lc_same(r: int) -> None:
            from langchain_chroma import Chroma

            Chroma.from_texts(
                inputs,
                embedding=embedder,
                collection_name="langchain",
                persist_directory=str(work / f"lc-same-store-{r}"),
                collection_metadata={"hnsw:space": "cosine"},
            )

        runs: dict[str, Callable[[int], Any]] = {
            "raw embedder, sorted by length (baseline)": lambda r: embedder.embed_documents(
                by_length
            ),
            "kb ingest": run_kb,
            "LangChain pipeline": run_lc,
            SAME_TEXTS: run_lc_same,
        }
        if args.unsorted:
            runs["raw embedder, corpus order"] = lambda r: embedder.embed_documents(inputs)
        labels = list(runs)
        wall: dict[str, list[float]] = {label: [] for label in labels}
        cpu: dict[str, list[float]] = {label: [] for label in labels}
        in_embedder: list[float] = []
        for r in range(rounds):
            # A different order each round, so that drift in the machine's load hits all alike.
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                w, c, result = timed(functools.partial(runs[label], r))
                wall[label].append(w)
                cpu[label].append(c)
                if label == "kb ingest":
                    in_embedder.append(result)

        base = labels[0]

        def ratio(values: dict[str, list[float]], label: str) -> float:
            return median([v / b for v, b in zip(values[label], values[base], strict=True)])

        kb_tokens = sum(count(t) for t in inputs)
        lc_tokens = sum(count(t) for t in lc_chunks)
        sizes = {label: (len(inputs), kb_tokens) for label in labels}
        sizes["LangChain pipeline"] = (len(lc_chunks), lc_tokens)
        rows: list[tuple[Any, ...]] = []
        for label in labels:
            n, t = sizes[label]
            s = median(wall[label])
            rows.append(
                (label, n, t, s, n / s, t / s, ratio(wall, label), median(cpu[label]),
                 ratio(cpu, label))
            )  # fmt: skip
            if label == "kb ingest":
                s = median(in_embedder)
                rows.append(("  of which in the embedder", n, t, s, n / s, t / s, None, None, None))
        table = Table(
            ["run", "chunks", unit, "wall s", "chunks/s", f"{unit}/s", "x raw", "CPU s",
             "x raw CPU"],
            rows,
        )  # fmt: skip
        print(
            f"corpus: {articles} generated articles + {len(facqa)} facqa-dev passages "
            f"({len(inputs)} kb chunks, {len(lc_chunks)} LangChain chunks)\n"
            f"embedder {kb.embedder_name}, batch size {settings.embedding_batch_size}, "
            f"chunks of {settings.chunk_chars} chars (overlap {settings.chunk_overlap_chars}); "
            f"model load + first call {load_s:.1f} s (not counted)\n"
            f"median of {rounds} round(s), order rotated per round; x raw: median of the "
            f"per-round ratios; CPU s: this process's CPU time\n{machine}\n"
        )
        print(table.render())
        kb_x, lc_x = ratio(wall, "kb ingest"), ratio(wall, "LangChain pipeline")
        kb_cpu, lc_cpu = ratio(cpu, "kb ingest"), ratio(cpu, "LangChain pipeline")
        same_x = ratio(wall, SAME_TEXTS)
        print(
            f"\ntarget kb ingest <= 1.3x raw embedder: {kb_x:.2f}x wall, {kb_cpu:.2f}x CPU "
            f"({verdict(kb_x <= 1.3)}); kb ingest faster than LangChain: LangChain takes "
            f"{lc_x / kb_x:.2f}x kb's wall time, {lc_cpu / kb_cpu:.2f}x its CPU time "
            f"({verdict(kb_x < lc_x)}); on the same texts LangChain takes {same_x / kb_x:.2f}x "
            "kb's wall time"
        )


if __name__ == "__main__":
    main()
