"""The reader alone, gold paragraph given: quality on the reported sets, and speed.

    python benchmarks/reader.py --data ../shared/data [--quantize none int8]

For each quantisation (fp32; int8; and the product's default, the reader on the int8
embedder's encoder): SQuAD 2.0 scores on IDK-MRC valid at the shipped threshold, the
decline curve, and span F1 / exact match on facqa-dev valid (answerable only), whole and on
the questions whose passage no facqa-dev train question uses; then passages read per second
(facqa-dev valid passages, one question each), fp32 the baseline of the table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kb.answer import mrc
from kb.answer.reader import Reader
from kb.embedders.models import E5SmallEmbeddings


def facqa_valid(folder: Path) -> tuple[list[mrc.Example], set[str]]:
    """facqa-dev valid as reading examples, and the ids of those with unseen passages."""
    passages, questions = mrc.load_facqa(folder)
    train_passages = {q["context_id"] for q in questions if q["split"] == "train"}
    valid = [q for q in questions if q["split"] == "valid"]
    examples = mrc.from_facqa(valid, passages)
    unseen = {f"facqa:{q['id']}" for q in valid if q["context_id"] not in train_passages}
    return examples, unseen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument(
        "--quantize",
        nargs="+",
        default=["none", "int8", "shared"],
        help="none: fp32; int8: the whole reader int8; shared: on the int8 embedder's encoder "
        "(the product's default: its lower layers int8, the reader's own fp32)",
    )
    args = parser.parse_args()
    data = Path(args.data)
    idk = mrc.load_squad(data / "mrc-id" / "idk_mrc_valid.json")
    facqa, unseen = facqa_valid(data / "facqa-dev")
    rows = []
    for quantize in args.quantize:
        if quantize == "shared":
            embedder = E5SmallEmbeddings(quantize="int8")
            reader = Reader(encoder=embedder.shared_encoder)
        else:
            reader = Reader(quantize=quantize)
        report = mrc.evaluate_reader(reader, idk, reader.threshold)
        print(mrc.format_report(f"idk_mrc_valid ({quantize})", report))
        started = time.perf_counter()
        preds = mrc.predict(reader, facqa)
        per_second = len(facqa) / (time.perf_counter() - started)
        whole = mrc.score(facqa, preds, reader.threshold)
        pairs = [(e, p) for e, p in zip(facqa, preds, strict=True) if e.id in unseen]
        part = mrc.score([e for e, _ in pairs], [p for _, p in pairs], reader.threshold)
        print(mrc.format_scores(f"facqa valid ({quantize})", whole))
        print(mrc.format_scores(f"facqa valid, unseen passages ({quantize})", part))
        rows.append((quantize, report.scores, whole, part, per_second))
    base = rows[0][4]
    print()
    print(
        f"{'reader':<7} {'idk F1':>7} {'idk EM':>7} {'AUC':>6} {'facqa F1':>9} {'facqa EM':>9} "
        f"{'unseen F1':>10} {'unseen EM':>10} {'passages/s':>11} {'x ' + rows[0][0]:>8}"
    )
    for quantize, idk_s, whole, part, per_second in rows:
        print(
            f"{quantize:<7} {idk_s.f1:>7.3f} {idk_s.exact:>7.3f} {idk_s.auc:>6.3f} "
            f"{whole.span_f1:>9.3f} {whole.span_exact:>9.3f} {part.span_f1:>10.3f} "
            f"{part.span_exact:>10.3f} {per_second:>11.1f} {per_second / base:>8.2f}"
        )
    print(f"(facqa: best span whatever its margin; {len(facqa)} questions, {len(unseen)} unseen)")


if __name__ == "__main__":
    main()
