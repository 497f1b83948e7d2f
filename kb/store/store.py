"""The Chroma store: one collection of chunks (with vectors), one of articles (the registry).

Chroma is the single source of truth. ``<name>_chunks`` holds every chunk with its vector,
text and metadata (including its article's ``content_hash``); ``<name>_articles`` holds one
record per article (full text, metadata, content hash, chunk count).

Chroma has no transaction over several writes, so a write that a crash (SIGKILL, power loss)
interrupts must be harmless to readers and mended by the next writer:

1. the doc_ids about to change are recorded in the registry collection's metadata
   (``pending``, the manifest), before anything else;
2. the articles' old chunks are deleted and the new ones added;
3. the registry records are written *last*: an article counts as ingested only once all of
   its chunks are in;
4. the ``generation`` is bumped (readers' keyword indexes follow it), then ``pending`` is
   cleared.

Readers serve a chunk only when its article is registered with the chunk's content hash, so
a half-written article is never served. The next writer first settles whatever ``pending``
names (``recover``): every listed article ends up whole, or absent from both collections so
that its ingest is redone.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from kb.errors import EmbedderMismatchError, KbError, StoreMissingError
from kb.store.client import changed_setting
from kb.store.faults import fault_point
from kb.store.records import (
    KEY_FIELD,
    StoredArticle,
    StoredChunk,
)

log = logging.getLogger(__name__)

EMBEDDER_KEY = "embedder"
GENERATION_KEY = "generation"
# On the registry collection (never dropped, unlike the chunks collection by ``kb rebuild``).
PENDING_KEY = "pending"
# On the registry collection while ``kb rebuild`` swaps its staged chunks in: the embedder
# they were staged for. The store serves nothing until a rebuild finishes the swap.
REBUILD_KEY = "rebuild_staged"
# The article registry needs no real vectors: each record carries this placeholder.
_REGISTRY_VECTOR = [1.0]
_PAGE = 1000
# doc_ids per ``$in`` filter and per manifest: keeps both requests small.
_DOC_PAGE = 200


class Store:
    """Chunks and articles of one knowledge base in Chroma.

    Args:
        client: a Chroma client (see ``make_client``).
        name: the collection name prefix.
        embedder_name: the name of the embedder that computes the vectors; opening a store
            built by another embedder raises ``EmbedderMismatchError`` unless ``check`` is off.
        create: make the collections when they are not there; else ``StoreMissingError``.
    """

    def __init__(
        self,
        client: Any,
        name: str,
        embedder_name: str,
        *,
        check: bool = True,
        create: bool = True,
    ) -> None:
        self.client = client
        self.name = name
        self.embedder_name = embedder_name
        if not create and f"{name}_articles" not in {
            getattr(c, "name", c) for c in client.list_collections()
        }:
            raise StoreMissingError(f"no collection {name!r} in this store")
        self.chunks = self._chunk_collection(f"{name}_chunks", embedder_name, existing=True)
        self.articles = client.get_or_create_collection(f"{name}_articles", embedding_function=None)
        if check and self.rebuild_staged:
            raise EmbedderMismatchError(
                "an interrupted 'kb rebuild' left this store half swapped over to the embedder "
                f"{self.rebuild_staged!r}: run 'kb rebuild' again to finish it."
            )
        built_with = self.built_with
        if built_with != embedder_name:
            if self.chunks.count() == 0:
                self.set_embedder(embedder_name)
            elif check:
                raise EmbedderMismatchError(
                    f"this store was built with the embedder {built_with!r}, but "
                    f"{embedder_name!r} is configured. Run 'kb rebuild' to re-embed it with "
                    f"{embedder_name!r}, or set {changed_setting(built_with, embedder_name)} "
                    "back."
                )

    def _chunk_collection(self, name: str, embedder_name: str, *, existing: bool) -> Any:
        """A collection of chunks (cosine space, vectors given by us) recorded as built by
        ``embedder_name``; ``existing``: open it if it is there, else it must not be."""
        make = self.client.get_or_create_collection if existing else self.client.create_collection
        return make(
            name,
            metadata={EMBEDDER_KEY: embedder_name},
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )

    def _registry_meta(self, key: str) -> Any:
        """A value of the registry collection's metadata, read fresh (another process may
        have written it)."""
        return (self.client.get_collection(f"{self.name}_articles").metadata or {}).get(key)

    def _set_registry_meta(self, key: str, value: str) -> None:
        meta = dict(self.client.get_collection(f"{self.name}_articles").metadata or {})
        meta[key] = value
        self.articles.modify(metadata=meta)

    @property
    def built_with(self) -> str | None:
        meta = self.chunks.metadata or {}
        value = meta.get(EMBEDDER_KEY)
        return str(value) if value is not None else None

    def set_embedder(self, embedder_name: str) -> None:
        self._set_meta(EMBEDDER_KEY, embedder_name)
        self.embedder_name = embedder_name

    @property
    def generation(self) -> str:
        """Changes with every write, in any process: derived indexes compare it to stay in step."""
        fresh = self.client.get_collection(f"{self.name}_chunks")
        return str((fresh.metadata or {}).get(GENERATION_KEY, ""))

    def bump_generation(self) -> None:
        self._set_meta(GENERATION_KEY, uuid.uuid4().hex)

    def _set_meta(self, key: str, value: str) -> None:
        fresh = self.client.get_collection(f"{self.name}_chunks")
        meta = dict(fresh.metadata or {})
        meta[key] = value
        meta.pop("hnsw:space", None)
        self.chunks.modify(metadata=meta)

    # -- reading ---------------------------------------------------------------------------

    def count_chunks(self) -> int:
        return int(self.chunks.count())

    def count_articles(self) -> int:
        return int(self.articles.count())

    def article_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """``doc_id -> content hash`` of the registered articles among ``doc_ids``."""
        return {
            doc_id: str(meta.get("content_hash", ""))
            for doc_id, meta in self.article_metadatas(doc_ids).items()
        }

    def article_metadatas(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``doc_id -> registry metadata`` of the registered articles among ``doc_ids``."""
        found: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _PAGE):
            got = self.articles.get(ids=ids[i : i + _PAGE], include=["metadatas"])
            for doc_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                found[doc_id] = dict(meta or {})
        return found

    def registered_hashes(self) -> dict[str, str]:
        """``doc_id -> content hash`` of every registered article (what readers may serve)."""
        return {r.doc_id: str(r.metadata.get("content_hash", "")) for r in self.iter_articles()}

    def chunk_metadatas(self, doc_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``chunk_id -> metadata`` of every stored chunk of the given articles."""
        out: dict[str, dict[str, Any]] = {}
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _DOC_PAGE):
            got = self.chunks.get(where=_doc_where(ids[i : i + _DOC_PAGE]), include=["metadatas"])
            for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                out[chunk_id] = dict(meta or {})
        return out

    def vectors_by_key(self, keys: Sequence[str]) -> dict[str, Any]:
        """``embedding_key -> vector`` of stored chunks holding any of ``keys`` (chunks
        written before keys were recorded have none)."""
        wanted = list(dict.fromkeys(keys))
        out: dict[str, Any] = {}
        for i in range(0, len(wanted), _DOC_PAGE):
            where = _doc_where(wanted[i : i + _DOC_PAGE], KEY_FIELD)
            got = self.chunks.get(where=where, include=["metadatas", "embeddings"])
            for chunk, vector in _unpack(got):
                if vector is not None:
                    out[str(chunk.metadata[KEY_FIELD])] = vector
        return out

    def get_article(self, doc_id: str) -> StoredArticle | None:
        got = self.articles.get(ids=[doc_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        return StoredArticle(
            doc_id, (got["documents"] or [""])[0], dict((got["metadatas"] or [{}])[0])
        )

    def iter_articles(self, include_text: bool = False) -> Iterator[StoredArticle]:
        include = ["metadatas", "documents"] if include_text else ["metadatas"]
        offset = 0
        while True:
            got = self.articles.get(include=include, limit=_PAGE, offset=offset)
            if not got["ids"]:
                return
            docs = got.get("documents") or [""] * len(got["ids"])
            for doc_id, text, meta in zip(got["ids"], docs, got["metadatas"] or [], strict=True):
                yield StoredArticle(doc_id, text or "", dict(meta or {}))
            offset += len(got["ids"])

    def chunk_ids(self) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            got = self.chunks.get(include=[], limit=_PAGE * 10, offset=offset)
            if not got["ids"]:
                return ids
            ids.extend(got["ids"])
            offset += len(got["ids"])

    def iter_chunks(self, include_embeddings: bool = False) -> Iterator[tuple[StoredChunk, Any]]:
        include = ["documents", "metadatas"] + (["embeddings"] if include_embeddings else [])
        offset = 0
        while True:
            got = self.chunks.get(include=include, limit=_PAGE, offset=offset)
            if not got["ids"]:
                return
            yield from _unpack(got)
            offset += len(got["ids"])

    def query(
        self, vector: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[StoredChunk]:
        """The ``n`` chunks nearest to ``vector`` (cosine distance), optionally filtered."""
        total = self.count_chunks()
        if total == 0 or n <= 0:
            return []
        got = self.chunks.query(
            query_embeddings=[list(vector)],
            n_results=min(n, total),
            where=where or None,
            include=["documents", "metadatas", "distances"],
        )
        ids = got["ids"][0]
        docs = (got["documents"] or [[]])[0]
        metas = (got["metadatas"] or [[]])[0]
        dists = (got["distances"] or [[]])[0]
        return [
            StoredChunk(i, d, dict(m or {}), float(dist))
            for i, d, m, dist in zip(ids, docs, metas, dists, strict=True)
        ]

    # -- writing (callers hold the store's write lock) ----------------------------------

    @property
    def pending(self) -> list[str]:
        """The doc_ids of a write that has not finished (a crash, or one in progress)."""
        raw = self._registry_meta(PENDING_KEY) or "[]"
        try:
            return [str(x) for x in json.loads(str(raw))]
        except ValueError:
            log.warning("unreadable %s manifest %r: settling every article", PENDING_KEY, raw)
            return [r.doc_id for r in self.iter_articles()]

    def _set_pending(self, doc_ids: Sequence[str]) -> None:
        self._set_registry_meta(PENDING_KEY, json.dumps(list(doc_ids), ensure_ascii=False))

    @contextlib.contextmanager
    def _changing(self, doc_ids: Sequence[str]) -> Iterator[None]:
        """Record ``doc_ids`` in the manifest, run the writes, then bump and clear."""
        self.recover()
        self._set_pending(doc_ids)
        fault_point("pending-set")
        yield
        self.bump_generation()
        fault_point("generation-bumped")
        self._set_pending([])

    def recover(self) -> list[StoredArticle]:
        """Finish what an interrupted write left: settle the articles the manifest names.

        Returns:
            The registry records dropped because their chunks were incomplete: their sources
            must be ingested again (an ingest of the same sources does it by itself).
        """
        pending = self.pending
        if not pending:
            return []
        log.warning("an earlier write was interrupted: settling %d articles", len(pending))
        dropped = self.settle(pending)
        fault_point("recovered")
        self.bump_generation()
        self._set_pending([])
        return dropped

    def repair(self, doc_ids: Sequence[str]) -> list[StoredArticle]:
        """``settle`` under the manifest (so an interrupted repair is finished later)."""
        dropped: list[StoredArticle] = []
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _DOC_PAGE):
            with self._changing(ids[i : i + _DOC_PAGE]):
                dropped.extend(self.settle(ids[i : i + _DOC_PAGE]))
        if not ids:
            self.bump_generation()
        return dropped

    def settle(self, doc_ids: Sequence[str]) -> list[StoredArticle]:
        """Make each article whole or absent; return the registry records dropped.

        Chunks of an unregistered article, or with another content hash than their article's
        record, are deleted. A registered article whose remaining chunks are not exactly its
        ``chunks`` positions, each once, loses its record and its chunks.
        """
        dropped: list[StoredArticle] = []
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _DOC_PAGE):
            page = ids[i : i + _DOC_PAGE]
            got = self.articles.get(ids=page, include=["metadatas"])
            records: dict[str, StoredArticle] = {
                doc_id: StoredArticle(doc_id, "", dict(meta or {}))
                for doc_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True)
            }
            chunks = self.chunk_metadatas(page)
            stray: list[str] = []
            kept: dict[str, list[int]] = {}
            for chunk_id, meta in chunks.items():
                record = records.get(str(meta.get("doc_id")))
                if record is None or meta.get("content_hash") != record.metadata.get(
                    "content_hash"
                ):
                    stray.append(chunk_id)
                else:
                    kept.setdefault(record.doc_id, []).append(int(meta.get("chunk_index", -1)))
            if stray:
                self.chunks.delete(ids=stray)
            broken = [r for r in records.values() if not _whole(r, kept.get(r.doc_id, []))]
            if broken:
                self.articles.delete(ids=[r.doc_id for r in broken])
                self.chunks.delete(where=_doc_where([r.doc_id for r in broken]))
                dropped.extend(broken)
        return dropped

    def write_articles(
        self,
        records: Sequence[StoredArticle],
        chunk_ids: Sequence[str],
        chunk_texts: Sequence[str],
        chunk_metadatas: Sequence[dict[str, Any]],
        vectors: Sequence[Sequence[float]],
    ) -> None:
        """Replace the given articles: old chunks out, new chunks in, registry record last."""
        doc_ids = [r.doc_id for r in records]
        if not doc_ids:
            return
        with self._changing(doc_ids):
            self.chunks.delete(where=_doc_where(doc_ids))
            fault_point("chunks-deleted")
            step = self._max_batch()
            for i in range(0, len(chunk_ids), step):
                self.chunks.add(
                    ids=list(chunk_ids[i : i + step]),
                    documents=list(chunk_texts[i : i + step]),
                    metadatas=[_clean(m) for m in chunk_metadatas[i : i + step]],
                    embeddings=[list(v) for v in vectors[i : i + step]],
                )
                fault_point("chunks-added")
            old = self.article_metadatas(doc_ids)
            for i in range(0, len(records), step):
                part = records[i : i + step]
                self.articles.upsert(
                    ids=[r.doc_id for r in part],
                    documents=[r.text for r in part],
                    metadatas=[_replacing(old.get(r.doc_id, {}), r.metadata) for r in part],
                    embeddings=[_REGISTRY_VECTOR for _ in part],
                )
            fault_point("registered")

    def replace_chunk_metadatas(self, metadatas: dict[str, dict[str, Any]]) -> None:
        """Give chunks exactly these metadatas (``chunk_id -> metadata``), in one write."""
        ids = list(metadatas)
        old = self.chunk_metadatas_by_id(ids)
        step = self._max_batch()
        doc_ids = sorted({str(m.get("doc_id", "")) for m in metadatas.values()})
        with self._changing(doc_ids):
            for i in range(0, len(ids), step):
                part = ids[i : i + step]
                self.chunks.update(
                    ids=part, metadatas=[_replacing(old.get(c, {}), metadatas[c]) for c in part]
                )

    def chunk_metadatas_by_id(self, chunk_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """``chunk_id -> metadata`` of the given chunks that exist."""
        out: dict[str, dict[str, Any]] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), _PAGE):
            got = self.chunks.get(ids=ids[i : i + _PAGE], include=["metadatas"])
            for chunk_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
                out[chunk_id] = dict(meta or {})
        return out

    def delete_articles(self, doc_ids: Sequence[str]) -> None:
        """Registry record first (the article stops counting as ingested), then its chunks."""
        ids = list(dict.fromkeys(doc_ids))
        for i in range(0, len(ids), _DOC_PAGE):
            page = ids[i : i + _DOC_PAGE]
            with self._changing(page):
                self.articles.delete(ids=page)
                fault_point("unregistered")
                self.chunks.delete(where=_doc_where(page))

    def get_chunks(self, chunk_ids: Sequence[str]) -> dict[str, tuple[StoredChunk, Any]]:
        """``chunk_id -> (chunk, vector)`` for the given ids that exist."""
        if not chunk_ids:
            return {}
        got = self.chunks.get(ids=list(chunk_ids), include=["documents", "metadatas", "embeddings"])
        return {chunk.chunk_id: (chunk, vector) for chunk, vector in _unpack(got)}

    # -- kb rebuild: stage every chunk with new vectors, then swap them in ------------------

    @property
    def rebuild_staged(self) -> str | None:
        """The embedder of a finished staging whose swap has not finished, or None."""
        value = self._registry_meta(REBUILD_KEY)
        return str(value) if value else None

    def stage_chunks(self, embedder_name: str, embed: Any, batch: int = 256) -> int:
        """Copy every chunk into a staging collection with vectors from ``embed(chunks)``.

        The live chunks are not touched: a crash here leaves the store as it was (the next
        call starts the staging again). Ends by marking the staging finished (``REBUILD_KEY``),
        after which ``swap_staged`` must run. Returns the number of chunks staged.
        """
        staging = f"{self.name}_chunks_staging"
        with contextlib.suppress(Exception):  # none left over, or one a crash left
            self._drop_collection(staging)
        target = self._chunk_collection(staging, embedder_name, existing=False)
        done = 0
        part: list[StoredChunk] = []
        for chunk, _ in self.iter_chunks():
            part.append(chunk)
            if len(part) == batch:
                done += self._stage(target, part, embed)
                part = []
                fault_point("rebuild-staging")
        if part:
            done += self._stage(target, part, embed)
        self._set_registry_meta(REBUILD_KEY, embedder_name)
        fault_point("rebuild-staged")
        return done

    @staticmethod
    def _stage(target: Any, part: list[StoredChunk], embed: Any) -> int:
        target.add(
            ids=[c.chunk_id for c in part],
            documents=[c.text for c in part],
            metadatas=[c.metadata for c in part],
            embeddings=embed(part),
        )
        return len(part)

    def swap_staged(self) -> int:
        """Replace the chunks by the finished staging (``stage_chunks``); returns their count.

        Repeatable: a crash part-way leaves the staging and its mark, and a second call starts
        the swap again. Readers refuse the store while the mark is set.
        """
        embedder_name = self.rebuild_staged
        if embedder_name is None:
            raise KbError("no finished staging to swap in: run 'kb rebuild'")
        staging = self.client.get_collection(f"{self.name}_chunks_staging")
        self._drop_collection(f"{self.name}_chunks")
        fault_point("rebuild-dropped")
        self.chunks = self._chunk_collection(f"{self.name}_chunks", embedder_name, existing=False)
        self.embedder_name = embedder_name
        offset = 0
        while True:
            got = staging.get(
                include=["documents", "metadatas", "embeddings"], limit=_PAGE, offset=offset
            )
            if not got["ids"]:
                break
            self.chunks.add(
                ids=got["ids"],
                documents=got["documents"],
                metadatas=got["metadatas"],
                embeddings=got["embeddings"],
            )
            offset += len(got["ids"])
            fault_point("rebuild-copying")
        self.bump_generation()
        self._set_registry_meta(REBUILD_KEY, "")
        fault_point("rebuild-swapped")
        self._drop_collection(f"{self.name}_chunks_staging")
        return offset

    def _drop_collection(self, name: str) -> None:
        """Delete a collection, its records first.

        Chroma's ``delete_collection`` leaves list-valued metadata behind, keyed by internal
        row ids that records written later reuse (chroma-core/chroma#7594, open): after a
        rebuild, chunks ingested later showed the regions of dropped chunks and region filters
        let them through. Deleting the records one batch at a time removes their lists too.
        """
        collection = self.client.get_collection(name)
        batch = self._max_batch()
        while ids := collection.get(include=[], limit=batch)["ids"]:
            collection.delete(ids=ids)
        self.client.delete_collection(name)

    def _max_batch(self) -> int:
        try:
            return max(1, min(int(self.client.get_max_batch_size()), 5000))
        except Exception:
            return 1000


def _whole(record: StoredArticle, positions: list[int]) -> bool:
    """Positions ``0..chunks-1`` each once (a registered article has at least one chunk)."""
    count = record.metadata.get("chunks")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return False
    return sorted(positions) == list(range(count))


def _unpack(got: Any) -> Iterator[tuple[StoredChunk, Any]]:
    """``(chunk, vector or None)`` from the answer of a Chroma ``get``."""
    docs, metas, vectors = got.get("documents"), got.get("metadatas"), got.get("embeddings")
    for n, chunk_id in enumerate(got["ids"]):
        meta = dict(metas[n] or {}) if metas else {}
        yield (
            StoredChunk(chunk_id, docs[n] if docs else "", meta),
            (vectors[n] if vectors is not None else None),
        )


def _doc_where(doc_ids: Sequence[str], field: str = "doc_id") -> dict[str, Any]:
    """Chroma's filter for records whose ``field`` is one of the given values."""
    ids = list(doc_ids)
    return {field: ids[0]} if len(ids) == 1 else {field: {"$in": ids}}


def _replacing(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Metadata for an upsert that *replaces* ``old`` by ``new``: Chroma merges the keys of
    an update into the record's, so each old key that ``new`` lacks is sent as None (which
    removes it). Without this a field removed at the source stayed in the registry."""
    cleaned = _clean(new)
    return {**{k: None for k in old if k not in cleaned}, **cleaned}


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata: scalars and non-empty lists of one scalar type; no None."""
    out: dict[str, Any] = {}
    for key, value in meta.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items = [v for v in value if isinstance(v, (str, int, float, bool))]
            if items and len({type(v) for v in items}) == 1:
                out[key] = list(items)
        elif isinstance(value, (str, int, float, bool)):
            out[key] = value
        else:
            out[key] = str(value)
    return out
