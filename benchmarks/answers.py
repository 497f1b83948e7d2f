"""Answers in the product with the trained reader against the sentence rules, in one run.

    python benchmarks/answers.py [--data ../shared/data] [--quick]

Stores (default embedder), each question asked with ``reader=e5-reader`` and ``reader=none``:

0. the bundled sample and distractor articles: the own question set
   (``tests/data/sample_questions.jsonl``), Indonesian and English apart (the answerable ones
   answered with their answer, declined; the unanswerable declined);
1. the facqa-dev corpus: facqa-dev ``valid`` (gold answer in the answer text, words, declines;
   whole and on the questions whose passage no ``train`` question uses), and MRR@10 of the
   final order (the reader's order for the passages it read, fusion order after them);
2. the same plus every IDK-MRC valid paragraph: IDK-MRC valid questions (the unanswerable
   declined, the answerable answered with the gold answer, the answerable declined);
3. the facqa-dev corpus without the gold passages of 100 ``valid`` questions (random seed 7):
   those declined, counting apart the ones whose gold answer still stands in a remaining
   passage, and the false declines among the ``valid`` questions whose passage is still there.

Words are counted in ``answer.text`` without the [n] markers (and without the ``**`` of the
bold span). The reader's own time per ``ask`` (``Reader.rank``) is timed alongside.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (
    SAMPLE_QUESTIONS,
    Table,
    percentile,
    read_jsonl,
    sample_rows,
    settings_for,
    workdir,
    write_jsonl,
)

from kb.answer import mrc
from kb.answer.reader import Reader, load_manifest
from kb.knowledge_base import KnowledgeBase
from kb.ops.evaluate import PlainBM25, ranking_ids, score

MODES = ("e5-reader", "none")


class Timed:
    """Wraps ``Reader.rank`` to time each call."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self.margins: list[float] = []  # the best read passage's margin, per call
        self._original = Reader.rank

    def __enter__(self) -> Timed:
        timed = self

        def rank(reader: Reader, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            hits, spans = timed._original(reader, *args, **kwargs)
            timed.seconds.append(time.perf_counter() - started)
            timed.margins.append(max((s.margin for s in spans), default=float("-inf")))
            return hits, spans

        Reader.rank = rank  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        Reader.rank = self._original  # type: ignore[method-assign]


def words(text: str) -> int:
    return len(re.sub(r"\s*\[\d+\]", "", text).replace("**", "").split())


Result = tuple[bool, bool, int]  # (declined, holds a gold answer, words)


def ask_all(
    kb: KnowledgeBase, questions: Sequence[dict[str, Any]], mode: str, timer: Timed
) -> dict[str, list[Result]]:
    """The results of each question, per answer system: ``rules``, or the reader at each
    threshold of ``THRESHOLDS`` (the questions are asked once with the reader declining
    nothing, and its best margin decides each threshold's declines)."""
    never = -1e9  # the reader declines nothing; the threshold is applied below
    chain = kb.chain(reader=mode)
    if mode != "none":
        chain = chain.with_settings(kb.settings.with_overrides(reader_margin=never))
    out: list[tuple[Result, float | None]] = []
    for q in questions:
        before = len(timer.margins)
        answer = chain.invoke(q["question"])
        margin = timer.margins[-1] if len(timer.margins) > before else None
        golds = [a["text"].lower() for a in q.get("answers", [])]
        text = answer.text.replace("**", "").lower()
        hit = any(g in text for g in golds) and not answer.abstained
        out.append(((answer.abstained, hit, words(answer.text)), margin))
    if mode == "none":
        return {"rules": [r for r, _ in out]}
    reader = chain.reader
    assert reader is not None
    systems = {}
    for name, offset in THRESHOLDS.items():
        limit = reader.threshold + offset
        systems[name] = [(True, False, 0) if m is None or m <= limit or r[0] else r for r, m in out]
    return systems


# The reader's thresholds reported, as offsets to the default (KB_READER_MARGIN): the one
# with the best SQuAD 2.0 F1 on the held-out IDK-MRC questions (the default), and the ones
# at which 15% and 8% of the held-out slice's answerable questions (IDK-MRC and facqa-dev
# train, by paragraph) are declined, with the reader on the int8 embedder's encoder as in
# the product. All three come from training-side data.
_MANIFEST = load_manifest()
THRESHOLDS = {
    "reader, best held-out F1 threshold (default)": 0.0,
    **{
        f"reader, {share} held-out false declines": (
            _MANIFEST["held_out_thresholds"][key] - _MANIFEST["threshold"]
        )
        for share, key in (("15%", "0.15"), ("8%", "0.08"))
    },
}


def summary(results: Sequence[Result]) -> tuple[float, float, float]:
    """(gold answer in the answer, declined, mean words of the answers given)."""
    n = max(len(results), 1)
    given = [w for declined, _, w in results if not declined]
    return (
        sum(hit and not declined for declined, hit, _ in results) / n,
        sum(declined for declined, _, _ in results) / n,
        statistics.mean(given) if given else 0.0,
    )


def own_set(work: Path, modes: Sequence[str], timer: Timed) -> None:
    """Section 0: the own question set over the bundled articles, by language."""
    write_jsonl(work / "samples.jsonl", sample_rows())
    kb = KnowledgeBase(settings=settings_for(work / "samples-store", None))
    assert kb.ingest([work / "samples.jsonl"]).ok
    questions = read_jsonl(SAMPLE_QUESTIONS)
    for q in questions:
        q["answers"] = [{"text": q["answer"]}] if q.get("answer") else []
    rows = []
    for mode in modes:
        for name, res in ask_all(kb, questions, mode, timer).items():
            for lang in ("id", "en"):
                part = [r for r, q in zip(res, questions, strict=True) if q["lang"] == lang]
                kinds = [bool(q["answers"]) for q in questions if q["lang"] == lang]
                ans = [r for r, a in zip(part, kinds, strict=True) if a]
                unans = [r for r, a in zip(part, kinds, strict=True) if not a]
                gold, declined, _ = summary(ans)
                rows.append([name, lang, len(ans), gold, declined, len(unans), summary(unans)[1]])
    print("\nown question set over the bundled articles")
    print(
        Table(
            ["reader", "language", "answerable", "gold in answer", "declined", "unanswerable",
             "declined"],
            rows,
        ).render(), flush=True
    )  # fmt: skip
    kb.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--quick", action="store_true", help="a few questions of each set")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--sections",
        default="0123",
        help="which of the sections 0-3 to run (default: all); m: section 1's MRR alone",
    )
    parser.add_argument(
        "--modes", nargs="+", default=list(MODES), choices=MODES, help="answer modes asked"
    )
    args = parser.parse_args()
    modes = args.modes
    facqa = args.data / "facqa-dev"
    corpus = read_jsonl(facqa / "corpus.jsonl")
    questions = read_jsonl(facqa / "questions.jsonl")
    train_passages = {q["context_id"] for q in questions if q["split"] == "train"}
    valid = [q for q in questions if q["split"] == "valid"]
    idk = mrc.load_squad(args.data / "mrc-id" / "idk_mrc_valid.json", prefix="idk:")
    removed_qs = random.Random(7).sample(valid, 100)
    if args.quick:
        valid, idk, removed_qs = valid[:20], idk[:20], removed_qs[:10]
    unseen = [q for q in valid if q["context_id"] not in train_passages]
    timer = Timed()
    with workdir(args.workdir, args.keep, "kb-answers-") as work, timer:
        if "0" in args.sections:
            own_set(work, modes, timer)
        if not set(args.sections) & set("123m"):
            return
        write_jsonl(work / "facqa.jsonl", corpus)
        # e5-reader: section 1m ranks with the reader (``rerank``); ask_all picks each mode
        kb = KnowledgeBase(
            settings=settings_for(work / "store", None).with_overrides(reader="e5-reader")
        )
        started = time.perf_counter()
        assert kb.ingest([work / "facqa.jsonl"]).ok
        print(f"facqa-dev corpus ingested in {time.perf_counter() - started:.0f} s", flush=True)

        # 1. facqa-dev valid on the full store
        if "1" in args.sections:
            rows = []
            for mode in modes:
                timer.seconds.clear()
                systems = ask_all(kb, valid, mode, timer)
                seconds = list(timer.seconds)
                for name, res in systems.items():
                    by_id = dict(zip([q["id"] for q in valid], res, strict=True))
                    whole = summary(res)
                    part = summary([by_id[q["id"]] for q in unseen])
                    rows.append([name, len(valid), *whole, len(unseen), *part])
                if seconds:
                    print(
                        f"reader time per ask ({len(seconds)} asks): p50 "
                        f"{percentile(seconds, 0.5) * 1000:.0f} ms, p95 "
                        f"{percentile(seconds, 0.95) * 1000:.0f} ms"
                    )
            print("\nfacqa-dev valid, full facqa-dev store")
            print(
                Table(
                    ["reader", "n", "gold in answer", "declined", "words", "unseen n", "gold",
                     "declined", "words"],
                    rows,
                ).render()
            )  # fmt: skip

        # 1m. MRR@10 of the final order (also alone: --sections m)
        if "1" in args.sections or "m" in args.sections:
            plain = PlainBM25(kb)
            gold = [q["context_id"] for q in valid]
            systems = {
                "product + reader": lambda q: ranking_ids(kb.retrieve(q, 10, rerank=True)),
                "product": lambda q: ranking_ids(kb.retrieve(q, 10)),
                "plain-bm25": lambda q: plain.rank(q, 10),
            }
            mrr_rows = []
            for name, run in systems.items():
                m = score(name, "all", [run(q["question"]) for q in valid], gold)
                mrr_rows.append(
                    [name, f"{m.recall_at_1:.3f}", f"{m.recall_at_5:.3f}", f"{m.mrr_at_10:.3f}"]
                )
            print("\nfacqa-dev valid retrieval (final order)")
            print(Table(["system", "R@1", "R@5", "MRR@10"], mrr_rows).render(), flush=True)

        # 2. IDK-MRC valid paragraphs added
        if "2" in args.sections:
            paragraphs = {}
            for e in idk:
                paragraphs.setdefault(e.group, e.context)
            write_jsonl(
                work / "idk.jsonl",
                [{"id": f"idkvalid-{g.split(':p')[-1]}", "title": "", "text": t}
                 for g, t in paragraphs.items()],
            )  # fmt: skip
            assert kb.ingest([work / "idk.jsonl"]).ok
            idk_qs = [
                {"question": e.question, "answers": [{"text": a} for a, _ in e.answers]}
                for e in idk
            ]
            rows = []
            for mode in modes:
                for name, res in ask_all(kb, idk_qs, mode, timer).items():
                    ans = [r for r, e in zip(res, idk, strict=True) if e.answerable]
                    unans = [r for r, e in zip(res, idk, strict=True) if not e.answerable]
                    a_gold, a_declined, a_words = summary(ans)
                    rows.append(
                        [name, len(unans), summary(unans)[1], len(ans), a_gold, a_declined, a_words]
                    )
            print("\nIDK-MRC valid over facqa-dev + IDK-MRC valid paragraphs")
            print(
                Table(
                    ["reader", "unanswerable", "declined", "answerable", "gold in answer",
                     "declined", "words"],
                    rows,
                ).render(), flush=True
            )  # fmt: skip
            for doc_id in [f"idkvalid-{g.split(':p')[-1]}" for g in paragraphs]:
                kb.delete(doc_id)

        # 3. gold passages of 100 valid questions removed
        if "3" in args.sections:
            gone = {q["context_id"] for q in removed_qs}
            for doc_id in gone:
                kb.delete(doc_id)
            remaining = [p["text"].lower() for p in corpus if p["id"] not in gone]
            elsewhere = {
                q["id"]
                for q in removed_qs
                if any(a["text"].lower() in t for a in q["answers"] for t in remaining)
            }
            others = [q for q in valid if q["context_id"] not in gone]
            rows = []
            for mode in modes:
                removed_res = ask_all(kb, removed_qs, mode, timer)
                others_res = ask_all(kb, others, mode, timer)
                for name, res in removed_res.items():
                    clean = [
                        r for r, q in zip(res, removed_qs, strict=True) if q["id"] not in elsewhere
                    ]
                    rows.append(
                        [name, len(removed_qs), summary(res)[1], len(clean), summary(clean)[1],
                         len(others), summary(others_res[name])[1]]
                    )  # fmt: skip
            print("\nfacqa-dev valid with 100 gold passages removed (seed 7)")
            print(
                Table(
                    ["reader", "removed", "declined", "answer nowhere else", "declined",
                     "others", "false declines"],
                    rows,
                ).render()
            )  # fmt: skip
        kb.close()


if __name__ == "__main__":
    main()
