"""Query latency and memory at 1k, 10k and 100k chunks, next to embedding the query alone.

    python benchmarks/query_scale.py [--sizes 1000,10000,100000] [-n 100] [--embedding-model M]

One store under /tmp grows through the sizes. The first size is real: the sample articles,
facqa-dev passages (the gold passages of its ``valid`` questions first) and generated
articles, ingested by ``KnowledgeBase.ingest`` with the embedder of the settings. Each larger
size adds generated articles through the product's own write path
(``ingest.pipeline.ingest_articles``: chunks, metadata, article registry, generation), with
one change: their vectors are perturbations of the real vectors already in the store
(cosine about 0.93 to one of them) instead of model output, so that building 100k chunks
takes minutes, not hours. The store stays valid: it records the real embedder, and queries
are embedded by it.

At each size a fresh process (``--measure``, as the app would be) opens the store, builds
the Gradio app (not served, so its memory counts), builds the keyword index (timed, with
its memory), warms up, then times per question, in rotating order: ``embed_query`` (the
baseline), ``retrieve(q, k=5)`` and extractive ``ask(q)``. The query cache of the embedder
is cleared before every timed call, so each pays for its own embedding, as a new question
does. Reports p50/p95, their ratios (the targets are on p95; p50 is steadier on a shared
machine), the process's peak RSS, and the 1-minute load average when the timed loop started
and ended (a size measured on a busier machine shows it there).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import (
    Table,
    add_common_args,
    clear_query_cache,
    facqa_passages,
    facqa_questions,
    generator,
    machine_line,
    open_kb,
    peak_rss_mb,
    percentile,
    rss_mb,
    sample_questions,
    sample_rows,
    verdict,
    workdir,
    write_jsonl,
)
from langchain_core.embeddings import Embeddings

from ingest.chunking import make_chunks
from ingest.pipeline import ChunkingOptions, ingest_articles
from kb.knowledge_base import KnowledgeBase
from kb.text.analysis import analyze
from kb.types import Article

WARMUP = 5
NOISE = 0.4  # norm of the noise added to a unit vector: cosine about 1 / sqrt(1 + 0.16)


class PerturbedEmbeddings(Embeddings):
    """Vectors near real ones: a random stored vector plus Gaussian noise, normalised."""

    def __init__(self, base: np.ndarray, seed: int = 0) -> None:
        self.base = base
        self.rng = np.random.default_rng(seed)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        rows = self.base[self.rng.integers(len(self.base), size=len(texts))]
        noise = self.rng.normal(size=rows.shape) * (NOISE / np.sqrt(rows.shape[1]))
        out = rows + noise
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out.astype(np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        raise NotImplementedError("only used to write chunks")


# -- building the store -----------------------------------------------------------------------


def real_rows(facqa: list[dict[str, Any]], gold: set[str]) -> list[dict[str, Any]]:
    """Samples first, then facqa passages (gold ones first), as jsonl rows."""
    ordered = sorted(facqa, key=lambda r: r["id"] not in gold)
    return sample_rows() + [
        {"id": r["id"], "title": r.get("title", ""), "text": r["text"]} for r in ordered
    ]


def fill(
    rows: list[dict[str, Any]],
    target: int,
    chunking: ChunkingOptions,
    make: Callable[[int], Article],
) -> tuple[list[Article], int]:
    """Articles from ``rows`` then from ``make(i)`` until they hold ``target`` chunks."""
    articles: list[Article] = []
    chunks = 0
    for row in rows:
        if chunks >= target:
            break
        article = Article(row["id"], row.get("title", ""), row["text"], "bench")
        articles.append(article)
        chunks += len(make_chunks(article, chunking.max_chars, chunking.overlap_chars))
    i = 0
    while chunks < target:
        article = make(i)
        articles.append(article)
        chunks += len(make_chunks(article, chunking.max_chars, chunking.overlap_chars))
        i += 1
    return articles, chunks


def grow(kb: KnowledgeBase, target: int, gen: Any, start: int) -> tuple[int, float]:
    """Add generated articles with perturbed vectors until the store holds ``target`` chunks."""
    chunking = ChunkingOptions(kb.settings.chunk_chars, kb.settings.chunk_overlap_chars)
    have = kb.store.count_chunks()

    def make(i: int) -> Article:
        title, body = gen.article()
        return Article(f"gen-{start + i:06d}", title, body, "bench")

    articles, _ = fill([], target - have, chunking, make)
    made = len(articles)
    base = np.asarray(
        [v for _, v in kb.store.iter_chunks(include_embeddings=True) if v is not None][:5000],
        dtype=np.float32,
    )
    started = time.perf_counter()
    with kb.writing():
        report = ingest_articles(
            kb.store, PerturbedEmbeddings(base, seed=start), articles,
            chunking=chunking, batch_chunks=2000,
        )  # fmt: skip
    if not report.ok:
        raise SystemExit(f"growing the store failed: {report.summary()}")
    return made, time.perf_counter() - started


def build_first(
    kb: KnowledgeBase,
    target: int,
    facqa: list[dict[str, Any]],
    gold: set[str],
    gen: Any,
    work: Path,
) -> float:
    """The first size, embedded for real through ``KnowledgeBase.ingest``."""
    chunking = ChunkingOptions(kb.settings.chunk_chars, kb.settings.chunk_overlap_chars)

    def make(i: int) -> Article:
        title, body = gen.article()
        return Article(f"real-gen-{i:05d}", title, body, "bench")

    articles, _ = fill(real_rows(facqa, gold), target, chunking, make)
    path = work / "first.jsonl"
    write_jsonl(path, [{"id": a.doc_id, "title": a.title, "text": a.text} for a in articles])
    started = time.perf_counter()
    report = kb.ingest([path])
    if not report.ok:
        raise SystemExit(f"ingest of the first size failed: {report.summary()}")
    return time.perf_counter() - started


# -- measuring (in a fresh process) -------------------------------------------------------------


def measure(store: Path, model: str | None, questions: list[str]) -> dict[str, Any]:
    """What the ``--measure`` child process reports, as a dict."""
    from kb.ui import build_app

    kb = open_kb(store, model)
    kb.embedder.embed_query("pemanasan model")
    build_app(kb)
    # Load the stemmer's dictionary first: the index's own memory is what is measured.
    analyze("pemanasan pelayanan kecamatan")
    rss_before, _ = rss_mb()
    started = time.perf_counter()
    kb.ranker.sync()
    build_s = time.perf_counter() - started
    rss_after, _ = rss_mb()
    tokens = getattr(kb.ranker.index, "_tokens", {})

    runs: dict[str, Callable[[str], object]] = {
        "embed_query": kb.embedder.embed_query,
        "retrieve": lambda q: kb.retrieve(q, k=5),
        "ask": kb.ask,
    }
    for question in questions[:WARMUP]:
        for run in runs.values():
            clear_query_cache(kb.embedder)
            run(question)
    labels = list(runs)
    times: dict[str, list[float]] = {label: [] for label in labels}
    load_at_start = os.getloadavg()[0]
    for i, question in enumerate(questions):
        for label in labels[i % 3 :] + labels[: i % 3]:
            clear_query_cache(kb.embedder)
            started = time.perf_counter()
            runs[label](question)
            times[label].append((time.perf_counter() - started) * 1000)
    return {
        "chunks": kb.store.count_chunks(),
        "articles": kb.store.count_articles(),
        "keyword_build_s": build_s,
        "keyword_rss_mb": rss_after - rss_before,
        "keyword_tokens": sum(len(t) for t in tokens.values()),
        "times": times,
        "peak_rss_mb": peak_rss_mb(),
        "load": (load_at_start, os.getloadavg()[0]),
    }


def run_child(store: Path, model: str | None, questions_file: Path, reader: str) -> dict[str, Any]:
    command = [
        sys.executable,
        __file__,
        "--measure",
        str(store),
        "--questions-file",
        str(questions_file),
    ]
    if model:
        command += ["--embedding-model", model]
    env = {**os.environ, "KB_READER": reader}
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise SystemExit(f"measuring {store} failed:\n{done.stderr[-3000:]}")
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "reader": reader}


def report(results: list[dict[str, Any]], builds: list[str]) -> str:
    rows = []
    for r in results:
        p = {k: (percentile(v, 50), percentile(v, 95)) for k, v in r["times"].items()}
        rows.append(
            (
                r["chunks"], r["reader"], len(r["times"]["ask"]),
                *p["embed_query"], *p["retrieve"], *p["ask"],
                p["retrieve"][0] / p["embed_query"][0], p["retrieve"][1] / p["embed_query"][1],
                p["ask"][0] / p["retrieve"][0], p["ask"][1] / p["retrieve"][1],
            )
        )  # fmt: skip
    latency = Table(
        ["chunks", "reader", "n", "embed p50", "embed p95", "retrieve p50", "retrieve p95",
         "ask p50", "ask p95", "retr/emb p50", "p95", "ask/retr p50", "p95"],
        rows,
    )  # fmt: skip
    memory = Table(
        ["chunks", "reader", "articles", "store build", "keyword build s", "kw tokens",
         "kw index RSS MB", "peak RSS MB", "load avg"],
        [
            (r["chunks"], r["reader"], r["articles"], b, r["keyword_build_s"], r["keyword_tokens"],
             r["keyword_rss_mb"], r["peak_rss_mb"], "{:.1f}-{:.1f}".format(*r["load"]))
            for r, b in zip(results, builds, strict=True)
        ],
    )  # fmt: skip
    return "\n".join(["latency, ms", latency.render(), "", "build and memory", memory.render()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_args(parser)
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts, ascending")
    parser.add_argument("-n", type=int, default=100, help="questions timed per size")
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--questions-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure is not None:
        questions = json.loads(args.questions_file.read_text(encoding="utf-8"))
        print(json.dumps(measure(args.measure, args.embedding_model, questions)))
        return

    sizes = [300, 1000] if args.quick else [int(s) for s in args.sizes.split(",")]
    n = 15 if args.quick else args.n
    facqa = facqa_passages(args.facqa)
    asked = facqa_questions(args.facqa)
    gold = {q["context_id"] for q in asked}
    pool = [q["question"] for q in asked] + sample_questions()
    questions = [pool[i] for i in np.random.default_rng(0).permutation(len(pool))[:n]]
    gen = generator(facqa, seed=3)

    with workdir(args.workdir, args.keep, "kb-bench-query-") as work:
        questions_file = work / "questions.json"
        questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        store = work / "store"
        kb = open_kb(store, args.embedding_model)
        print(f"embedder {kb.embedder_name}; {len(questions)} questions per size\n{machine_line()}")
        results: list[dict[str, Any]] = []
        builds: list[str] = []
        generated = 0
        for i, size in enumerate(sizes):
            if i == 0:
                seconds = build_first(kb, size, facqa, gold, gen, work)
                builds.append(f"{seconds:.0f} s real")
            else:
                made, seconds = grow(kb, size, gen, generated)
                generated += made
                builds.append(f"+{seconds:.0f} s synth")
            # Each size with the sentence rules (no reader) and with the reader: its cost.
            for reader in ("none", "e5-reader"):
                results.append(run_child(store, args.embedding_model, questions_file, reader))
                if reader != "none":
                    builds.append(builds[-1])
            print(f"  size {size}: measured ({builds[-1]})", flush=True)
        print()
        print(report(results, builds))
        last = results[-1]
        p = {k: (percentile(v, 50), percentile(v, 95)) for k, v in last["times"].items()}
        at = f"at {last['chunks']:,} chunks"
        r1 = p["retrieve"][1] / p["embed_query"][1]
        r2 = p["ask"][1] / p["retrieve"][1]
        rss = last["peak_rss_mb"]
        grown = rss - results[-2]["peak_rss_mb"]
        added = [
            a - b for a, b in zip(last["times"]["ask"], results[-2]["times"]["ask"], strict=True)
        ]
        print(
            f"\ntargets {at}: retrieve p95 <= 3x embed p95: {r1:.2f}x ({verdict(r1 <= 3)}); "
            f"ask p95 <= 3x retrieve p95: {r2:.2f}x ({verdict(r2 <= 3)}); "
            f"peak RSS < 2 GB: {rss:,.0f} MB ({verdict(rss < 2048)}); the reader's peak RSS "
            f"<= +150 MB: {grown:+,.0f} MB ({verdict(grown <= 150)}); ask time the reader adds "
            f"(same question, paired): p50 {percentile(added, 50):.0f} ms, p95 "
            f"{percentile(added, 95):.0f} ms"
        )


if __name__ == "__main__":
    main()
