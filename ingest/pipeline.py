"""The batch pipeline: discover, load, skip what is unchanged, chunk, embed, write, report."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from langchain_core.embeddings import Embeddings

from ingest.chunking import make_chunks
from ingest.loaders import LoadLimits, discover, doc_id_for, load
from ingest.records import article_metadata, chunk_layout, content_hash, unread_date
from kb.store.duplicates import (
    LINKS_FIELD,
    SIGNATURE_FIELD,
    DuplicateFinder,
    Signature,
    is_current,
    link,
    signature,
)
from kb.store.faults import fault_point
from kb.store.records import (
    ARTICLE_ONLY_FIELDS,
    KEY_FIELD,
    StoredArticle,
    embedding_key,
    embedding_text,
)
from kb.store.store import Store
from kb.types import Article, Chunk, Duplicate, Failure, IngestReport

log = logging.getLogger(__name__)
# Up to this many stored articles without a signature are read one by one, more in one pass.
_FEW_UNSIGNED = 50


# Bumped when what is read from an article changes (issue 22: dates in words, outlets in
# dated datelines, the regions an article is about): stores re-read their articles.
METADATA_VERSION = "metadata-v2"


@dataclass(frozen=True)
class ChunkingOptions:
    max_chars: int = 900
    overlap_chars: int = 200

    @property
    def tag(self) -> str:
        """Recorded in the content hash: a change of chunking, or of what is read from an
        article (``METADATA_VERSION``), re-writes the articles at their next ingest (their
        vectors are reused when their passages did not change)."""
        return f"sentences-v1:{self.max_chars}:{self.overlap_chars}:{METADATA_VERSION}"


def collect(
    paths: Iterable[str | Path], limits: LoadLimits | None = None, *, progress: bool = False
) -> tuple[list[Article], list[Failure]]:
    """Load every article under ``paths``; a doc_id claimed by two sources is a failure.
    ``progress``: a bar of the pages recognised in each scanned file, on a terminal."""
    files, failures = discover(paths)
    limits = limits or LoadLimits()
    bar = _PageBar(limits.on_page) if progress and sys.stderr.isatty() else None
    if bar is not None:
        limits = replace(limits, on_page=bar)
    articles: dict[str, Article] = {}
    try:
        for path in files:
            for item in load(path, limits):
                if isinstance(item, Failure):
                    failures.append(item)
                    continue
                first = articles.get(item.doc_id)
                if first is not None:
                    where = first.source + (f":{first.line}" if first.line else "")
                    failures.append(
                        Failure(
                            item.source,
                            item.line,
                            f"doc_id {item.doc_id!r} is already used by {where}",
                        )
                    )
                    continue
                articles[item.doc_id] = item
    finally:
        if bar is not None:
            bar.close()
    return list(articles.values()), failures


def ingest_articles(
    store: Store,
    embedder: Embeddings,
    articles: Sequence[Article],
    *,
    failures: Sequence[Failure] = (),
    chunking: ChunkingOptions = ChunkingOptions(),
    batch_chunks: int = 64,
    prune: bool = False,
    prune_roots: Sequence[Path] = (),
    progress: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> IngestReport:
    """Write new and changed articles; unchanged ones call neither the embedder nor the store's
    write methods. The caller holds the store's write lock. ``on_progress(chunks_written,
    chunks_total)`` is called after each group written (the app's progress bar).

    An id belongs to one source: an article whose id is registered from another source that
    still holds it is a failure naming both; when that source no longer holds it (a moved or
    renamed file), the id passes to the new source. An update replaces all of an article's
    metadata. With ``prune``, the articles that their source no longer holds are deleted (see
    ``prune``).

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
    known = store.article_metadatas([a.doc_id for a in articles])
    holds = _SourceIds()
    pending: list[tuple[Article, dict[str, Any], list[Chunk]]] = []
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    batch_hashes: set[str] = set()
    warnings: list[Failure] = []
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    for article in articles:
        digest = content_hash(article, chunking.tag)
        old = known.get(article.doc_id)
        if old is not None and old.get("source") != article.source:
            owner = str(old.get("source", ""))
            if holds(owner, article.doc_id):
                where = owner + (f":{old['line']}" if old.get("line") else "")
                failed.append(
                    Failure(
                        article.source,
                        article.line,
                        f"id {article.doc_id!r} belongs to another article, from {where}: "
                        "give this one an id of its own (an id passes to a new file only when "
                        "its old file no longer holds it)",
                    )
                )
                continue
        batch_hashes.add(digest)
        if old is not None and _same(old, article, digest):
            unchanged.append(article.doc_id)
            continue
        unread = unread_date(article)
        if unread:
            warnings.append(Failure(article.source, article.line, unread))
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
        for key in (SIGNATURE_FIELD, LINKS_FIELD):  # a source's field of that name is its own
            if key in meta:
                meta[f"src_{key}"] = meta.pop(key)
        meta.update(content_hash=digest, ingested_at=now, chunks=len(chunks))
        pending.append((article, meta, chunks))
        (updated if article.doc_id in known else added).append(article.doc_id)

    copies = find_duplicates(store, pending)
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

    deleted = prune_articles(store, articles, failed, prune_roots, batch_hashes) if prune else []
    # A copy pruned in this batch (the old path of a moved file) is no copy to report.
    gone = set(deleted)
    duplicates = [next((d for d in found if d.of_doc_id not in gone), None) for found in copies]
    return IngestReport(
        added=tuple(added),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        deleted=tuple(deleted),
        failed=tuple(failed),
        chunks_written=written,
        chunks_embedded=embedded,
        seconds=time.perf_counter() - started,
        duplicates=tuple(d for d in duplicates if d is not None),
        warnings=tuple(warnings),
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
            inputs.append(embedding_text(article.title, chunk.text, chunk.section))
            chunk_meta = {k: v for k, v in meta.items() if k not in ARTICLE_ONLY_FIELDS}
            chunk_meta.update(chunk_index=chunk.index, start=chunk.start, end=chunk.end)
            chunk_meta.update(chunk_layout(chunk))
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


def _same(old: dict[str, Any], article: Article, digest: str) -> bool:
    """The registered record is this article as it is now: same content, source and line,
    and a duplicate signature of this version (a record written before has none: it is
    written again, its passages keeping their vectors)."""
    return (
        old.get("content_hash") == digest
        and old.get("source") == article.source
        and old.get("line") == article.line
        and is_current(old.get(SIGNATURE_FIELD))
    )


def find_duplicates(
    store: Store, pending: Sequence[tuple[Article, dict[str, Any], list[Chunk]]]
) -> list[list[Duplicate]]:
    """For each article to write, the copies of it (most alike first) among the stored
    articles and those before it in the batch. Sets each one's signature and links in its
    metadata (``kb.store.duplicates``). Nothing is read from the store when nothing is written."""
    if not pending:
        return []
    rewritten = {article.doc_id for article, _, _ in pending}
    finder = DuplicateFinder()
    about: dict[str, tuple[str, str, str]] = {}  # doc_id -> (title, source, content hash)
    unsigned: list[str] = []
    for record in store.iter_articles():
        if record.doc_id in rewritten:
            continue
        meta = record.metadata
        about[record.doc_id] = (
            str(meta.get("title", "")),
            str(meta.get("source", "")),
            str(meta.get("content_hash", "")),
        )
        stored = Signature.decode(meta.get(SIGNATURE_FIELD))
        if stored is None:
            unsigned.append(record.doc_id)
        else:
            finder.add(record.doc_id, stored)
    # Articles stored before signatures (or with another version's): from their text, each
    # time, until their files are ingested again. Many are read in one pass over the registry.
    if len(unsigned) > _FEW_UNSIGNED:
        wanted = set(unsigned)
        texts = (r for r in store.iter_articles(include_text=True) if r.doc_id in wanted)
    else:
        texts = (r for r in map(store.get_article, unsigned) if r is not None)
    for old in texts:
        finder.add(old.doc_id, signature(old.text))
    out: list[list[Duplicate]] = []
    for article, meta, _ in pending:
        sig = signature(article.text)
        meta[SIGNATURE_FIELD] = sig.encode()
        found: list[Duplicate] = []
        for other, similarity in finder.matches(sig):
            title, source, _ = about[other]
            found.append(
                Duplicate(
                    doc_id=article.doc_id,
                    title=article.title,
                    source=article.source,
                    of_doc_id=other,
                    of_title=title,
                    of_source=source,
                    similarity=round(similarity, 3),
                    exact=sig.exact == finder.signature(other).exact,
                )
            )
        meta.pop(LINKS_FIELD, None)
        if found:
            meta[LINKS_FIELD] = [link(d.of_doc_id, about[d.of_doc_id][2]) for d in found]
        finder.add(article.doc_id, sig)
        about[article.doc_id] = (article.title, article.source, str(meta["content_hash"]))
        out.append(found)
    return out


class _SourceIds:
    """``holds(source, doc_id)``: does the file ``source`` still hold an article with this id?
    Each file is read once (a jsonl file of many lines is asked about each of them)."""

    def __init__(self) -> None:
        self._ids: dict[str, set[str]] = {}

    def __call__(self, source: str, doc_id: str) -> bool:
        if source not in self._ids:
            path = Path(source)
            found: set[str] = set()
            if not source or not path.is_file():
                pass
            elif path.suffix.lower() == ".jsonl":
                found = {a.doc_id for a in load(path, LoadLimits()) if isinstance(a, Article)}
            else:  # any other file is one article, its id made from its path: nothing to parse
                found = {doc_id_for(path)}
            self._ids[source] = found
        return doc_id in self._ids[source]


def prune_articles(
    store: Store,
    articles: Sequence[Article],
    failures: Sequence[Failure],
    roots: Sequence[Path],
    batch_hashes: set[str],
) -> list[str]:
    """Delete what the sources no longer hold; returns the doc_ids deleted.

    - An article registered from a source of this batch that the source no longer yields
      (a line removed from a jsonl file). A source with any failure in this batch is left
      alone: a file that failed to read says nothing about what it holds.
    - An article whose source file is gone, when that file lay under one of ``roots`` (the
      folders given) or when this batch holds the same content (the file was moved or
      renamed; its content hash is the same at the new path).
    """
    resolved = [Path(r).resolve() for r in roots]
    sources = {a.source for a in articles} - {f.source for f in failures}
    batch_ids = {a.doc_id for a in articles}
    gone: list[str] = []
    for record in store.iter_articles():
        if record.doc_id in batch_ids:
            continue
        source = str(record.metadata.get("source") or "")
        if not source:
            continue
        if source in sources:
            gone.append(record.doc_id)
            continue
        path = Path(source)
        under = any(path == root or root in path.parents for root in resolved)
        moved = record.metadata.get("content_hash") in batch_hashes
        if (under or moved) and not path.exists():
            gone.append(record.doc_id)
    store.delete_articles(gone)
    return gone


class _PageBar:
    """``on_page`` for a terminal: one tqdm bar per scanned file, then the caller's own."""

    def __init__(self, then: Callable[[str, int, int], None] | None) -> None:
        self.then = then
        self.source = ""
        self.bar: Any = None

    def __call__(self, source: str, done: int, total: int) -> None:
        if source != self.source or self.bar is None:
            self.close()
            from tqdm import tqdm

            self.source = source
            name = Path(source).name
            self.bar = tqdm(total=total, unit="page", desc=f"OCR {name}", file=sys.stderr)
        self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()
        if self.then is not None:
            self.then(source, done, total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _progress(total: int, enabled: bool) -> Any:
    if not enabled or total == 0 or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
