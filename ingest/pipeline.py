"""The batch pipeline: discover, load, skip what is unchanged, chunk, embed, write, report."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.chunking import embedding_key, embedding_text, make_chunks
from ingest.enrich import article_metadata, content_hash
from ingest.loaders import LoadLimits, discover, load
from ingest.types import Article, Chunk, Failure, IngestReport
from kb.store import KEY_FIELD, Store, StoredArticle, fault_point

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChunkingOptions:
    max_chars: int = 900
    overlap_chars: int = 200

    @property
    def tag(self) -> str:
        """Recorded in the content hash: a change of chunking re-writes the articles."""
        return f"sentences-v1:{self.max_chars}:{self.overlap_chars}"


def collect(
    paths: Iterable[str | Path], limits: LoadLimits | None = None
) -> tuple[list[Article], list[Failure]]:
    """Load every article under ``paths``; a doc_id claimed by two sources is a failure."""
    files, failures = discover(paths)
    articles: dict[str, Article] = {}
    for path in files:
        for item in load(path, limits or LoadLimits()):
            if isinstance(item, Failure):
                failures.append(item)
                continue
            first = articles.get(item.doc_id)
            if first is not None:
                where = first.source + (f":{first.line}" if first.line else "")
                failures.append(
                    Failure(
                        item.source, item.line, f"doc_id {item.doc_id!r} is already used by {where}"
                    )
                )
                continue
            articles[item.doc_id] = item
    return list(articles.values()), failures


def ingest_articles(
    store: Store,
    embedder: Embeddings,
    articles: Sequence[Article],
    *,
    failures: Sequence[Failure] = (),
    chunking: ChunkingOptions = ChunkingOptions(),
    batch_chunks: int = 64,
    prune_roots: Sequence[Path] = (),
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Write new and changed articles; unchanged ones call neither the embedder nor the store's
    write methods. The caller holds the store's write lock. ``on_progress(chunks_written,
    chunks_total)`` is called after each group written (the app's progress bar).

    A crash at any point is mended by the next call: it first settles what the interrupted
    write left (``Store.recover``), then compares hashes, so the batch ends as a clean run."""
    started = time.perf_counter()
    failed = list(failures)
    given = {a.doc_id for a in articles}
    for record in store.recover():
        # Those in this batch are written again below; the others wait for their source.
        if record.doc_id not in given:
            line = record.metadata.get("line")
            failed.append(
                Failure(
                    str(record.metadata.get("source", record.doc_id)),
                    line if isinstance(line, int) else None,
                    f"article {record.doc_id!r} was left incomplete by an interrupted ingest "
                    "and was removed: ingest this source again",
                )
            )
    known = store.article_hashes([a.doc_id for a in articles])
    pending: list[tuple[Article, dict[str, Any], list[Chunk]]] = []
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    for article in articles:
        digest = content_hash(article, chunking.tag)
        if known.get(article.doc_id) == digest:
            unchanged.append(article.doc_id)
            continue
        try:
            meta = article_metadata(article)
            chunks = make_chunks(article, chunking.max_chars, chunking.overlap_chars)
        except Exception as e:  # one odd article must not stop the batch
            log.exception("cannot prepare %s", article.doc_id)
            failed.append(Failure(article.source, article.line, f"cannot chunk: {e}"))
            continue
        if not chunks:
            failed.append(Failure(article.source, article.line, "no text to index"))
            continue
        meta.update(content_hash=digest, ingested_at=now, chunks=len(chunks))
        pending.append((article, meta, chunks))
        (updated if article.doc_id in known else added).append(article.doc_id)

    fault_point("prepared")
    # Articles of alike chunk lengths in one group: each group's call to the embedder sorts its
    # chunks by length, and groups of alike lengths pad less (short passages apart from long
    # reports).
    pending.sort(key=lambda item: sum(len(c.text) for c in item[2]) / len(item[2]))
    total = sum(len(c) for _, _, c in pending)
    bar = _progress(total, progress)
    written = embedded = 0
    group: list[tuple[Article, dict[str, Any], list[Chunk]]] = []
    for n, item in enumerate(pending, 1):
        group.append(item)
        if n < len(pending) and sum(len(c) for _, _, c in group) < batch_chunks:
            continue
        wrote, fresh = _write_group(store, embedder, group, bar)
        written += wrote
        embedded += fresh
        group = []
        if on_progress is not None:
            on_progress(written, total)
    if bar is not None:
        bar.close()

    deleted = prune(store, prune_roots) if prune_roots else []
    return IngestReport(
        added=tuple(added),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        deleted=tuple(deleted),
        failed=tuple(failed),
        chunks_written=written,
        chunks_embedded=embedded,
        seconds=time.perf_counter() - started,
    )


def _write_group(
    store: Store,
    embedder: Embeddings,
    group: list[tuple[Article, dict[str, Any], list[Chunk]]],
    bar: Any,
) -> tuple[int, int]:
    """Embed and write a group of articles; ``(chunks written, texts embedded)``."""
    ids: list[str] = []
    texts: list[str] = []
    inputs: list[str] = []
    metas: list[dict[str, Any]] = []
    for article, meta, chunks in group:
        for chunk in chunks:
            ids.append(chunk.chunk_id)
            texts.append(chunk.text)
            inputs.append(embedding_text(article.title, chunk.text))
            chunk_meta = {k: v for k, v in meta.items() if k != "chunks"}
            chunk_meta.update(chunk_index=chunk.index, start=chunk.start, end=chunk.end)
            chunk_meta[KEY_FIELD] = embedding_key(inputs[-1])
            metas.append(chunk_meta)
    # A text embedded before (an unchanged passage of a changed article, a moved file, one
    # report, same title, from two sources) keeps its stored vector: the store holds only this
    # embedder's vectors. Each other distinct text is embedded once, alike lengths in one
    # call (less padding).
    keys = [m[KEY_FIELD] for m in metas]
    known = store.vectors_by_key(keys)
    todo = sorted({t for t, key in zip(inputs, keys, strict=True) if key not in known}, key=len)
    fresh = dict(zip(todo, embedder.embed_documents(todo), strict=True)) if todo else {}
    vectors = [
        known[key] if key in known else fresh[t] for t, key in zip(inputs, keys, strict=True)
    ]
    records = [StoredArticle(a.doc_id, a.text, meta) for a, meta, _ in group]
    fault_point("embedded")
    store.write_articles(records, ids, texts, metas, vectors)
    if bar is not None:
        bar.update(len(ids))
    return len(ids), len(todo)


def prune(store: Store, roots: Sequence[Path]) -> list[str]:
    """Delete the articles whose source file lies under one of ``roots`` and no longer exists."""
    resolved = [Path(r).resolve() for r in roots]
    gone: list[str] = []
    for record in store.iter_articles():
        source = record.metadata.get("source")
        if not source:
            continue
        path = Path(str(source))
        under = any(path == root or root in path.parents for root in resolved)
        if under and not path.exists():
            gone.append(record.doc_id)
    store.delete_articles(gone)
    return gone


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or total == 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
