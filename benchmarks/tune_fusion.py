"""Sweep fusion settings on a question set against an ingested store; prints a table.

    python benchmarks/tune_fusion.py QUESTIONS.jsonl --store STORE [--split train]

Scores every chunk for every question once (dense cosine from the stored vectors, BM25 with
the product's Indonesian analysis and with plain tokens), then compares fusion formulas and
weights offline. Not a test: it reads a question set you point it at.
"""

from __future__ import annotations

import argparse
import time

import bm25s
import numpy as np

from kb import KnowledgeBase
from kb.ops.evaluate import load_questions
from kb.text.analysis import analyze, plain_tokens


def mrr_at_10(score_matrix: np.ndarray, doc_of_chunk: np.ndarray, gold: np.ndarray) -> float:
    total = 0.0
    for row, target in zip(score_matrix, gold, strict=True):
        order = np.argsort(-row, kind="stable")
        seen: list[int] = []
        for i in order:
            d = doc_of_chunk[i]
            if d not in seen:
                seen.append(d)
                if d == target:
                    total += 1 / len(seen)
                    break
                if len(seen) == 10:
                    break
    return total / len(gold)


def minmax_top(row: np.ndarray, top: int) -> np.ndarray:
    """Min-max over the top candidates of the row; others get 0."""
    idx = np.argpartition(-row, min(top, len(row) - 1))[:top]
    low, high = row[idx].min(), row[idx].max()
    out = np.zeros_like(row)
    if high - low > 1e-12:
        out[idx] = (row[idx] - low) / (high - low)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("questions")
    parser.add_argument("--store", required=True)
    parser.add_argument("--split", default=None)
    args = parser.parse_args()

    kb = KnowledgeBase(store=args.store)
    chunks, vectors, doc_ids = [], [], []
    for chunk, vector in kb.store.iter_chunks(include_embeddings=True):
        chunks.append(f"{chunk.metadata.get('title') or ''}\n{chunk.text}")
        vectors.append(vector)
        doc_ids.append(str(chunk.metadata["doc_id"]))
    matrix = np.asarray(vectors, dtype=np.float32)
    names = sorted(set(doc_ids))
    number = {d: i for i, d in enumerate(names)}
    doc_of_chunk = np.array([number[d] for d in doc_ids])
    questions = [q for q in load_questions(args.questions, args.split) if q.context_id in number]
    gold = np.array([number[str(q.context_id)] for q in questions])

    started = time.perf_counter()
    qvec = np.asarray([kb.embedder.embed_query(q.question) for q in questions], dtype=np.float32)
    print(f"embedded {len(questions)} questions in {time.perf_counter() - started:.1f}s")
    dense = qvec @ matrix.T

    legs = {"dense": dense}
    for label, analyzer in (("bm25-id", analyze), ("bm25-plain", plain_tokens)):
        model = bm25s.BM25()
        model.index([analyzer(c) or ["∅"] for c in chunks], show_progress=False)
        rows = []
        for q in questions:
            tokens = [t for t in analyzer(q.question) if t in model.vocab_dict]
            rows.append(model.get_scores(tokens) if tokens else np.zeros(len(chunks)))
        legs[label] = np.asarray(rows, dtype=np.float32)

    results: list[tuple[str, float]] = []
    for label, leg in legs.items():
        results.append((label, mrr_at_10(leg, doc_of_chunk, gold)))
    for top in (20, 50, 100):
        d = np.array([minmax_top(r, top) for r in dense])
        for kw_label in ("bm25-id",):
            b = np.array([minmax_top(r, top) for r in legs[kw_label]])
            for w in (0.3, 0.4, 0.5, 0.6, 0.7):
                results.append(
                    (
                        f"minmax top{top} w={w} {kw_label}",
                        mrr_at_10(w * d + (1 - w) * b, doc_of_chunk, gold),
                    )
                )
    # Max-normalised BM25 (no min subtraction) with raw cosine.
    bmax = legs["bm25-id"] / np.maximum(legs["bm25-id"].max(axis=1, keepdims=True), 1e-9)
    for w in (0.3, 0.5, 0.7):
        results.append(
            (
                f"raw-cos + max-bm25 w={w}",
                mrr_at_10(w * dense + (1 - w) * bmax * 0.2, doc_of_chunk, gold),
            )
        )
    # RRF
    for kk in (10, 60):
        rd = np.argsort(np.argsort(-dense, axis=1), axis=1) + 1
        rb = np.argsort(np.argsort(-legs["bm25-id"], axis=1), axis=1) + 1
        results.append(
            (f"rrf k={kk}", mrr_at_10(1 / (kk + rd) + 1 / (kk + rb), doc_of_chunk, gold))
        )
    width = max(len(r[0]) for r in results)
    print(f"{'system':<{width}}  MRR@10   (n={len(questions)})")
    for label, value in results:
        print(f"{label:<{width}}  {value:.4f}")


if __name__ == "__main__":
    main()
