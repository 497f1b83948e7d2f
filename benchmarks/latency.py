"""Query latency of retrieval against embedding the query alone, on an existing store.

    python benchmarks/latency.py QUESTIONS.jsonl --store STORE [--split valid] [-n 200]

Opens the store read-only (only ``retrieve`` is called) and times, per question, with
``time.perf_counter``: ``kb.embedder.embed_query`` alone (the baseline), then
``kb.retrieve(q, k=10)`` in its default hybrid mode, ``mode="dense"`` and
``mode="keyword"``. The four are interleaved per question, in a rotating order, so that
drift in machine load hits them alike. Prints p50 and p95 in milliseconds and each p50 as a
multiple of the embed-only p50 (a ratio, so runs on different machines compare).

Before the timed loop, one-off costs are reported on their own: opening the store, the
first embedding (loads the model), the first dense query, and the first hybrid query,
which builds the in-memory keyword index ("keyword index build"). Then 5 warm-up queries
run every stage once each, untimed. Not a test: it reads a question set you point it at.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from itertools import cycle, islice

import numpy as np

from kb import KnowledgeBase
from kb.ops.evaluate import load_questions

K = 10
WARMUP = 5


def stages(kb: KnowledgeBase) -> dict[str, Callable[[str], object]]:
    """What is timed, by label; the first is the baseline the ratios divide by."""
    return {
        "embed_query": kb.embedder.embed_query,
        "retrieve hybrid": lambda q: kb.retrieve(q, k=K),
        "retrieve dense": lambda q: kb.retrieve(q, k=K, mode="dense"),
        "retrieve keyword": lambda q: kb.retrieve(q, k=K, mode="keyword"),
    }


def timed_ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def one_off_costs(kb: KnowledgeBase, question: str) -> dict[str, float]:
    """First-use costs, in an order that keeps each one apart from the others."""
    return {
        "open store": timed_ms(lambda: kb.store),
        "first embed_query (model load)": timed_ms(lambda: kb.embedder.embed_query(question)),
        "first dense query": timed_ms(lambda: kb.retrieve(question, k=K, mode="dense")),
        "keyword index build (first hybrid query)": timed_ms(lambda: kb.retrieve(question, k=K)),
    }


def measure(
    runs: dict[str, Callable[[str], object]], questions: list[str]
) -> dict[str, list[float]]:
    """Milliseconds per stage per question; the order of the stages rotates per question."""
    labels = list(runs)
    times: dict[str, list[float]] = {label: [] for label in labels}
    for i, question in enumerate(questions):
        for label in labels[i % len(labels) :] + labels[: i % len(labels)]:
            started = time.perf_counter()
            runs[label](question)
            times[label].append((time.perf_counter() - started) * 1000)
    return times


def format_report(header: str, one_off: dict[str, float], times: dict[str, list[float]]) -> str:
    width = max(len(label) for label in one_off)
    lines = [header, "", f"{'one-off':<{width}}  {'ms':>9}", "-" * (width + 11)]
    lines += [f"{label:<{width}}  {ms:>9.1f}" for label, ms in one_off.items()]

    baseline = float(np.percentile(times[next(iter(times))], 50))
    title = (
        f"{'stage':<18} {'n':>5} {'p50 ms':>9} {'p95 ms':>9} {'p50-embed':>10} {'x embed p50':>12}"
    )
    lines += ["", title, "-" * len(title)]
    for label, values in times.items():
        p50, p95 = (float(v) for v in np.percentile(values, [50, 95]))
        lines.append(
            f"{label:<18} {len(values):>5} {p50:>9.2f} {p95:>9.2f} {p50 - baseline:>10.2f} "
            f"{p50 / baseline:>12.2f}"
        )
    return "\n".join(lines)


def machine_line() -> str:
    """CPUs, load average and the OpenMP settings the embedder's C engine reads."""
    # The engine's OpenMP threads spin while they wait: on CPUs shared with other busy
    # processes one query can take tens of times longer, so numbers mean little without this.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    omp = " ".join(
        f"{name}={os.environ.get(name, 'unset')}" for name in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
    )
    return f"{os.cpu_count()} CPUs, load average {load:.2f} at start, {omp}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("questions", help="questions jsonl (field 'question')")
    parser.add_argument("--store", required=True, help="an ingested store (only read)")
    parser.add_argument("--split", default=None, help="only the questions of this split")
    parser.add_argument("-n", type=int, default=200, help="how many questions to time")
    args = parser.parse_args()
    if args.n <= 0:
        parser.error("-n must be positive")

    questions = [q.question for q in load_questions(args.questions, args.split)][: args.n]
    machine = machine_line()
    kb = KnowledgeBase(store=args.store)
    runs = stages(kb)

    one_off = one_off_costs(kb, questions[0])
    for question in islice(cycle(questions), WARMUP):
        for run in runs.values():
            run(question)
    times = measure(runs, questions)

    header = (
        f"store {args.store}: {kb.store.count_chunks()} chunks, embedder {kb.embedder_name}\n"
        f"{len(questions)} questions from {args.questions}"
        + (f" (split {args.split})" if args.split else "")
        + f", k={K}, after {WARMUP} warm-up queries\n{machine}"
    )
    print(format_report(header, one_off, times))


if __name__ == "__main__":
    main()
