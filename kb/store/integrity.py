"""``kb check``: is the store exactly what ingest writes? ``--repair`` mends what it can.

What is verified: the embedder that built the chunks is recorded (and is the configured one);
no write was left unfinished; every chunk belongs to a registered article and carries its
content hash; no article has two chunks at one position; every registered article has
exactly its ``chunks`` chunks, whose texts are the article's text at their offsets and whose
metadata is the article's; the keyword index built from Chroma holds exactly Chroma's chunks.
Articles whose source file is missing are listed, as information (uploads, other machines'
paths and moved folders are normal on a shared store); ``prune_missing`` deletes them.

A repair deletes orphan, stale and duplicate chunks, gives chunks their article's metadata,
drops the registry records of articles whose chunks cannot be made whole again (their sources
are named: ingest them again) and bumps the store's generation so that every process
rebuilds its keyword index. A missing or foreign embedder cannot be mended from the store:
``kb rebuild`` does that.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kb.retrieval.ranker import HybridRanker
from kb.store.records import ARTICLE_ONLY_FIELDS, CHUNK_FIELDS, StoredArticle
from kb.store.store import Store

# Problems whose article cannot be rebuilt from the store: its source must be ingested again.
_NEEDS_SOURCE = frozenset({"count", "text"})
# Chunk metadata beside its article's (``ingest.pipeline`` writes both).


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the store.

    ``kind`` is one of ``embedder``, ``interrupted``, ``orphan``, ``stale``, ``duplicate``,
    ``count``, ``text``, ``metadata``, ``keyword``; ``mended`` is true when a repair fixed it.
    """

    kind: str
    detail: str
    doc_id: str = ""
    source: str = ""
    mended: bool = False


@dataclass(frozen=True)
class CheckReport:
    """What ``kb check`` found (and, with ``repair``, mended).

    ``reingest`` names the sources whose articles are missing or incomplete and can only be
    restored by ingesting them again. ``missing_sources`` lists ``(doc_id, source)`` of the
    articles whose source file is not there (information, not a problem); ``pruned`` the
    doc_ids deleted for it. ``ok`` is true when nothing is left to do.
    """

    articles: int
    chunks: int
    embedder: str | None
    problems: tuple[Problem, ...] = ()
    reingest: tuple[str, ...] = ()
    repaired: bool = False
    missing_sources: tuple[tuple[str, str], ...] = ()
    pruned: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.reingest and all(p.mended for p in self.problems)

    def summary(self) -> str:
        found = len(self.problems)
        mended = sum(p.mended for p in self.problems)
        head = f"{self.articles} articles, {self.chunks} chunks, embedder {self.embedder}"
        notes = ""
        if self.missing_sources:
            notes = f"; {len(self.missing_sources)} articles whose source file is missing"
        if self.pruned:
            notes += f"; {len(self.pruned)} of them deleted"
        if not found:
            return f"{head}: no problem found{notes}"
        tail = f", {mended} mended" if self.repaired else ""
        again = f", {len(self.reingest)} sources to ingest again" if self.reingest else ""
        return f"{head}: {found} problems found{tail}{again}{notes}"


def check_store(
    store: Store, embedder_name: str, *, repair: bool = False, prune_missing: bool = False
) -> CheckReport:
    """Verify ``store`` (and with ``repair``, mend it). The caller holds the write lock.

    Args:
        store: the store, opened without the embedder check so that a mismatch is reported.
        embedder_name: the configured embedder.
        repair: delete what is wrong and drop what cannot be made whole.
        prune_missing: delete the articles whose source file is missing.

    Returns:
        The ``CheckReport``.
    """
    pruned: tuple[str, ...] = ()
    if prune_missing:
        pruned = tuple(doc_id for doc_id, _ in missing_sources(store))
        store.delete_articles(pruned)
    found = diagnose(store, embedder_name)
    if not repair or not found:
        reingest = _sources(p.source for p in found if p.kind in _NEEDS_SOURCE)
        return _report(store, found, reingest, repaired=False, pruned=pruned)
    dropped: list[StoredArticle] = store.recover()
    _mend_metadata(store, [p.doc_id for p in found if p.kind == "metadata"])
    # Altered chunk texts carry the right hash: ``repair`` would keep them, so drop those first.
    altered = sorted({p.doc_id for p in found if p.kind == "text"})
    records = [r for r in (store.get_article(d) for d in altered) if r is not None]
    store.delete_articles([r.doc_id for r in records])
    dropped += records
    dropped += store.repair([p.doc_id for p in found if p.doc_id])
    left = diagnose(store, embedder_name)
    left_keys = {(p.kind, p.doc_id) for p in left}
    found_keys = {(p.kind, p.doc_id) for p in found}
    problems = [replace(p, mended=(p.kind, p.doc_id) not in left_keys) for p in found]
    problems += [p for p in left if (p.kind, p.doc_id) not in found_keys]
    reingest = _sources(_source(r.metadata) for r in dropped)
    return _report(store, problems, reingest, True, pruned=pruned)


def missing_sources(store: Store) -> list[tuple[str, str]]:
    """``(doc_id, source)`` of the articles whose source is not a file that exists."""
    out: list[tuple[str, str]] = []
    for record in store.iter_articles():
        source = str(record.metadata.get("source") or "")
        if not source or not Path(source).is_file():
            out.append((record.doc_id, source))
    return sorted(out)


def article_fields(meta: dict[str, Any]) -> dict[str, Any]:
    """The article's metadata as its chunks carry it (without the chunk's own fields)."""
    return {k: v for k, v in meta.items() if k not in CHUNK_FIELDS | ARTICLE_ONLY_FIELDS}


def _mend_metadata(store: Store, doc_ids: list[str]) -> None:
    """Give the chunks of these articles their registry record's metadata."""
    if not doc_ids:
        return
    records = store.article_metadatas(doc_ids)
    wanted: dict[str, dict[str, Any]] = {}
    for chunk_id, meta in store.chunk_metadatas(doc_ids).items():
        record = records.get(str(meta.get("doc_id")))
        if record is not None:
            own = {k: meta[k] for k in CHUNK_FIELDS if k in meta}
            wanted[chunk_id] = {**article_fields(record), **own}
    store.replace_chunk_metadatas(wanted)


def diagnose(store: Store, embedder_name: str) -> list[Problem]:
    """Every problem of the store, read-only."""
    problems: list[Problem] = []
    chunk_count = store.count_chunks()
    built_with = store.built_with
    if built_with is None and chunk_count:
        problems.append(
            Problem("embedder", "no embedder is recorded for the chunks: run 'kb rebuild'")
        )
    elif built_with is not None and built_with != embedder_name:
        problems.append(
            Problem(
                "embedder",
                f"the chunks were built with {built_with!r} but {embedder_name!r} is "
                "configured: run 'kb rebuild', or set KB_EMBEDDING_MODEL back",
            )
        )
    if store.rebuild_staged:
        problems.append(
            Problem(
                "interrupted",
                f"a 'kb rebuild' to {store.rebuild_staged!r} was cut off while swapping its "
                "chunks in: run 'kb rebuild' again",
            )
        )
    pending = store.pending
    if pending:
        problems.append(
            Problem(
                "interrupted",
                f"a write of {len(pending)} articles did not finish (an ingest or delete was "
                "killed): their chunks may be incomplete and keyword indexes stale",
            )
        )
    records = {r.doc_id: r for r in store.iter_articles(include_text=True)}
    problems += _chunk_problems(store, records)
    problems += _keyword_problems(store)
    return problems


def _chunk_problems(store: Store, records: dict[str, StoredArticle]) -> list[Problem]:
    orphans: dict[str, list[dict[str, Any]]] = defaultdict(list)
    stale: Counter[str] = Counter()
    positions: dict[str, list[int]] = defaultdict(list)
    bad_text: Counter[str] = Counter()
    bad_meta: Counter[str] = Counter()
    expected_meta = {d: article_fields(r.metadata) for d, r in records.items()}
    for chunk, _ in store.iter_chunks():
        meta = chunk.metadata
        doc_id = str(meta.get("doc_id", ""))
        record = records.get(doc_id)
        if record is None:
            orphans[doc_id].append(meta)
            continue
        if meta.get("content_hash") != record.metadata.get("content_hash"):
            stale[doc_id] += 1
            continue
        positions[doc_id].append(int(meta.get("chunk_index", -1)))
        start, end = int(meta.get("start", -1)), int(meta.get("end", -1))
        if not chunk.text or record.text[start:end] != chunk.text:
            bad_text[doc_id] += 1
        if article_fields(meta) != expected_meta[doc_id]:
            bad_meta[doc_id] += 1

    problems: list[Problem] = []
    for doc_id, metas in sorted(orphans.items()):
        source = _source(metas[0])
        problems.append(
            Problem(
                "orphan",
                f"{len(metas)} chunks of {doc_id!r}, which is not registered (an interrupted "
                f"ingest or delete); if the article is wanted, ingest {source} again",
                doc_id,
                source,
            )
        )
    for doc_id, n in sorted(stale.items()):
        problems.append(
            Problem(
                "stale",
                f"{n} chunks of {doc_id!r} carry another content hash than its registry record",
                doc_id,
                _source(records[doc_id].metadata),
            )
        )
    for doc_id, record in sorted(records.items()):
        source = _source(record.metadata)
        found = positions.get(doc_id, [])
        twice = sorted(n for n, c in Counter(found).items() if c > 1)
        if twice:
            problems.append(
                Problem("duplicate", f"{doc_id!r} has chunks twice at {twice}", doc_id, source)
            )
        expected = record.metadata.get("chunks")
        if sorted(found) != list(range(expected if isinstance(expected, int) else -1)):
            problems.append(
                Problem(
                    "count",
                    f"{doc_id!r} is registered with {expected} chunks but has "
                    f"{len(set(found))} of them: ingest {source} again",
                    doc_id,
                    source,
                )
            )
        if bad_text.get(doc_id):
            problems.append(
                Problem(
                    "text",
                    f"{bad_text[doc_id]} chunks of {doc_id!r} differ from the article's text at "
                    f"their offsets: ingest {source} again",
                    doc_id,
                    source,
                )
            )
        if bad_meta.get(doc_id):
            problems.append(
                Problem(
                    "metadata",
                    f"{bad_meta[doc_id]} chunks of {doc_id!r} carry other metadata than its "
                    "registry record (what 'kb show' and citations show would differ)",
                    doc_id,
                    source,
                )
            )
    return problems


def _keyword_problems(store: Store) -> list[Problem]:
    """The keyword index is derived from Chroma in each process: build one and compare."""
    retriever = HybridRanker(store, embedder=None)  # type: ignore[arg-type]
    retriever.sync()
    indexed = set(retriever.index.ids)
    stored = set(store.chunk_ids())
    if indexed == stored and retriever.index.generation == store.generation:
        return []
    return [
        Problem(
            "keyword",
            f"the keyword index holds {len(indexed - stored)} chunks Chroma does not and lacks "
            f"{len(stored - indexed)} that it has (the store changed during the check?)",
        )
    ]


def _source(meta: dict[str, Any]) -> str:
    """The file to ingest again (a jsonl file as a whole: ingest skips its unchanged lines)."""
    return str(meta.get("source") or meta.get("doc_id") or "?")


def _sources(sources: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted({s for s in sources if s}))


def _report(
    store: Store,
    problems: list[Problem],
    reingest: tuple[str, ...],
    repaired: bool,
    pruned: tuple[str, ...] = (),
) -> CheckReport:
    return CheckReport(
        articles=store.count_articles(),
        chunks=store.count_chunks(),
        embedder=store.built_with,
        problems=tuple(problems),
        reingest=reingest,
        repaired=repaired,
        missing_sources=tuple(missing_sources(store)),
        pruned=pruned,
    )
