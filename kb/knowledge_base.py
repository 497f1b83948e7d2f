"""``KnowledgeBase``: ingest, retrieve, list, delete, rebuild — the product's Python API."""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from kb.answer.chain import AnswerChain
from kb.answer.reader import Reader
from kb.embedders.models import NamedEmbeddings, get_embedder
from kb.errors import ConfigError, NotFoundError, StoreLockedError, StoreMissingError
from kb.retrieval.fusion import Mode
from kb.retrieval.ranker import HybridRanker
from kb.retrieval.retriever import KnowledgeBaseRetriever
from kb.settings import Settings
from kb.store.client import make_client, missing_store_message
from kb.store.integrity import CheckReport, check_store
from kb.store.records import embedding_text
from kb.store.store import Store
from kb.text.question import normalize_question
from kb.types import Answer, Article, ArticleInfo, Hit, IngestReport

log = logging.getLogger(__name__)


class KnowledgeBase:
    """A knowledge base of articles in a Chroma store.

    >>> kb = KnowledgeBase(store="data/kb")                      # doctest: +SKIP
    >>> report = kb.ingest(["reports/", "new.jsonl"])            # doctest: +SKIP
    >>> hits = kb.retrieve("Kecamatan mana yang buka layanan Jumat malam?", k=5,
    ...                    filters={"region": "Tangerang Selatan"})  # doctest: +SKIP

    Args:
        store: the data folder (``KB_STORE``); defaults to the settings' value.
        settings: all other settings; defaults to ``Settings.from_env()``.
        embedder: an ``Embeddings`` to use instead of the one the settings name. To be
            recorded in the store it needs a ``name`` attribute (``NamedEmbeddings`` has one).
    """

    def __init__(
        self,
        store: str | Path | None = None,
        *,
        settings: Settings | None = None,
        embedder: NamedEmbeddings | Any | None = None,
    ) -> None:
        base = settings or Settings.from_env()
        self.settings = base.with_overrides(store=store)
        self.embedder = embedder or get_embedder(
            self.settings.embedding_model,
            self.settings.embedding_batch_size,
            quantize=self.settings.embedding_quantize,
        )
        self._store: Store | None = None
        self._ranker: HybridRanker | None = None
        self._chains: dict[Any, AnswerChain] = {}
        self._reader: Reader | None = None

    @property
    def embedder_name(self) -> str:
        return str(getattr(self.embedder, "name", type(self.embedder).__name__))

    @property
    def store(self) -> Store:
        """The Chroma store, opened on first use (checks which embedder built it).

        Raises:
            StoreMissingError: no knowledge base is there (only ingesting creates one).
        """
        if self._store is None:
            self._store = self._open_store(create=False)
        return self._store

    def _open_store(self, *, create: bool, check: bool = True) -> Store:
        """The store; ``create``: make it when it is not there, else ``StoreMissingError``
        (and nothing is written: no folder, no collection)."""
        settings = self.settings
        try:
            client = make_client(settings.store, settings.chroma_url, create=create)
            name = settings.collection
            return Store(client, name, self.embedder_name, check=check, create=create)
        except StoreMissingError:
            raise StoreMissingError(
                missing_store_message(settings.store, settings.chroma_url)
            ) from None

    def create_store(self) -> None:
        """Create the store when it is not there (ingesting does this by itself)."""
        if self._store is None:
            self._store = self._open_store(create=True)

    @property
    def exists(self) -> bool:
        """Whether a knowledge base is at the store path (reading it creates nothing)."""
        try:
            self.store  # noqa: B018 - opening it is the test
        except StoreMissingError:
            return False
        return True

    @property
    def reader(self) -> Reader | None:
        """The trained reader (``kb.answer.reader``), shared by every knowledge base of this
        process; ``None`` when the ``reader`` setting is ``none``."""
        return self._reader_for(self.settings.reader)

    def _reader_for(self, choice: str) -> Reader | None:
        """The reader of a ``reader`` setting's value (``e5-reader`` or ``none``)."""
        choice = choice.strip().lower()
        if choice == "none":
            return None
        if choice != "e5-reader":
            raise ConfigError(f"KB_READER={choice!r}: use 'e5-reader' or 'none'")
        if self._reader is None:
            # With the e5 embedder the reader runs on its encoder: one copy in memory.
            encoder = getattr(self.embedder, "shared_encoder", None)
            self._reader = Reader(quantize=self.settings.reader_quantize, encoder=encoder)
        return self._reader

    @property
    def ranker(self) -> HybridRanker:
        """The hybrid ranker (its keyword index follows the store's writes)."""
        if self._ranker is None or self._ranker.store is not self.store:
            self._ranker = HybridRanker(
                self.store,
                self.embedder,
                dense_weight=self.settings.dense_weight,
                candidates=self.settings.candidates,
                fusion=self.settings.fusion,
            )
        return self._ranker

    def close(self) -> None:
        """Release the Chroma client (its database files and threads); the next use opens
        it again. ``with KnowledgeBase(...) as kb:`` closes on leaving the block."""
        if self._store is None:
            return
        self._store.client.close()
        self._store = None
        self._ranker = None
        self._chains.clear()
        # Chroma closes its database files when its objects are freed, and some of them sit
        # in reference cycles: without a collection here the files stayed open until the
        # next automatic one (in 28 of 30 tries).
        gc.collect()

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def writing(self, *, create: bool = False) -> Iterator[Store]:
        """Hold the store's write lock (one writer at a time per store); yields the store.

        Args:
            create: make the store when it is not there (ingesting); else a missing store
                raises ``StoreMissingError`` before anything is written.
        """
        if create:
            self.create_store()
        # Opening raises when there is no store, before the lock file is made. Not opened
        # before, it is opened without the embedder check: 'kb rebuild' and 'kb check' are
        # how a mismatch is mended.
        store = self._store or self._open_store(create=False, check=False)
        folder = Path(self.settings.store)
        folder.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(folder / ".write.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise StoreLockedError(
                f"another process is writing to the store {folder} (an ingest, delete or "
                "rebuild): wait for it to finish, then try again"
            ) from None
        try:
            yield store
        finally:
            lock.release()

    def ingest(
        self,
        paths: Iterable[str | Path],
        *,
        prune: bool = False,
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
        on_page: Callable[[str, int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders (txt, md, html, pdf, docx, jsonl, and png, jpg, tif
        images of report pages), incrementally.

        Scanned PDF pages and images are recognised with Tesseract (``KB_OCR``); the text of
        each page is kept under ``<store>/ocr-cache``, so an unchanged scan is recognised once.

        Args:
            paths: files and folders (searched recursively).
            prune: also delete what the sources no longer hold: articles of a given file that
                it no longer yields (a line removed from a jsonl file), articles whose file
                lay under a given folder and is gone, and the old copies of files moved or
                renamed (same content at a new path, the old path gone).
            progress: show progress bars on a terminal (pages recognised, chunks embedded).
            on_progress: called as ``on_progress(chunks_written, chunks_total)`` while the
                new and changed articles are embedded and written.
            on_page: called as ``on_page(source, pages_done, pages_total)`` while a file's
                scanned pages are recognised (``pages_total``: its pages that need OCR).

        Returns:
            The batch's ``IngestReport``; ``report.ok`` is false when any source failed;
            ``report.duplicates`` names the articles written that copy another.

        Raises:
            StoreLockedError: another process is writing to the store.
        """
        from ingest.loaders import LoadLimits
        from ingest.pipeline import collect

        given = [Path(p) for p in paths]
        limits = LoadLimits(
            max_bytes=self.settings.max_file_bytes,
            timeout_s=self.settings.parse_timeout_s,
            ocr=self.settings.ocr,
            ocr_cache=Path(self.settings.store) / "ocr-cache",
            on_page=on_page,
        )
        articles, failures = collect(given, limits, progress=progress)
        return self.ingest_articles(
            articles,
            failures=failures,
            prune=prune,
            prune_roots=[p for p in given if p.is_dir()],
            progress=progress,
            on_progress=on_progress,
        )

    def ingest_articles(
        self,
        articles: Sequence[Article],
        *,
        failures: Sequence[Any] = (),
        prune: bool = False,
        prune_roots: Sequence[Path] = (),
        progress: bool = False,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest articles already loaded (the samples, or a caller's own)."""
        from ingest.pipeline import ChunkingOptions, ingest_articles

        chunking = ChunkingOptions(self.settings.chunk_chars, self.settings.chunk_overlap_chars)
        with self.writing(create=True):
            return ingest_articles(
                self.store,
                self.embedder,
                articles,
                failures=failures,
                chunking=chunking,
                batch_chunks=max(self.settings.embedding_batch_size * 8, 16),
                prune=prune,
                prune_roots=prune_roots,
                progress=progress,
                on_progress=on_progress,
            )

    def load_samples(self) -> IngestReport:
        """Ingest the sample articles that ship with the product (marked ``sample``)."""
        return self.ingest([sample_path()])

    def delete(self, doc_id: str) -> None:
        """Delete an article and its chunks (its copies stay, and are returned by searches
        again). Raises ``NotFoundError`` if it is not stored."""
        with self.writing():
            self.store.recover()  # an interrupted write first: it may have been this delete
            if self.store.get_article(doc_id) is None:
                raise NotFoundError(f"no article {doc_id!r} in the store: see 'kb list'")
            self.store.delete_articles([doc_id])

    def rebuild(self, progress: bool = False) -> int:
        """Re-embed every stored chunk with the configured embedder; returns the chunk count.

        Crash-safe in two phases: every chunk is first copied, with its new vector, into a
        staging collection (killed here, the store is as it was and serves as before); then
        the staging replaces the chunks (killed here, the store refuses to serve until
        ``kb rebuild`` runs again and finishes the swap from the staging).
        """
        with self.writing() as store:
            if store.rebuild_staged not in (None, self.embedder_name):
                # A swap to another embedder was cut off: its staging holds every chunk.
                store.swap_staged()
            if store.rebuild_staged != self.embedder_name:
                store.recover()  # no orphan of an interrupted write is carried over
                bar: Any = None
                if progress:
                    from tqdm import tqdm

                    bar = tqdm(total=store.count_chunks(), unit="chunk", desc="re-embedding")

                def embed(part: list[Any]) -> list[list[float]]:
                    texts = [
                        embedding_text(
                            str(c.metadata.get("title") or ""),
                            c.text,
                            str(c.metadata.get("section") or ""),
                        )
                        for c in part
                    ]
                    vectors = self.embedder.embed_documents(texts)
                    if bar is not None:
                        bar.update(len(part))
                    return vectors

                store.stage_chunks(
                    self.embedder_name, embed, batch=max(self.settings.embedding_batch_size, 64)
                )
                if bar is not None:
                    bar.close()
            count = store.swap_staged()
            self._store = store
            self._ranker = None
            return count

    def check(self, repair: bool = False, *, prune_missing: bool = False) -> CheckReport:
        """Verify the store (``kb.store.integrity``); with ``repair``, mend what the store allows.

        Args:
            repair: delete orphan, stale and duplicate chunks, drop the registry records of
                articles whose chunks cannot be made whole (``report.reingest`` names their
                sources) and make every process rebuild its keyword index.
            prune_missing: delete the articles whose source file is missing (they are
                listed in ``report.missing_sources`` either way).

        Returns:
            A ``CheckReport``; ``report.ok`` is false while anything is left to do.

        Raises:
            StoreLockedError: another process is writing to the store (its writes in progress
                would look like problems).
        """
        with self.writing() as store:
            return check_store(
                store, self.embedder_name, repair=repair, prune_missing=prune_missing
            )

    # -- reading ---------------------------------------------------------------------------

    def retrieve(
        self,
        query: str,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        per_article: int | None = 1,
        mode: Mode = "hybrid",
        rerank: bool = False,
    ) -> list[Hit]:
        """The passages that best answer ``query``, best first.

        Args:
            query: a question or keywords, in Indonesian or English.
            k: how many hits.
            filters: ``region``, ``outlet``, ``doc_id``, ``date_from``, ``date_to`` (see
                ``kb.retrieval.filters``).
            per_article: at most this many passages of one article (``None``: no limit).
            mode: ``hybrid`` (dense and keyword legs fused), ``dense`` or ``keyword`` alone.
            rerank: the reader reads the first ``reader_passages`` hits and puts those that
                answer the question best first (slower: a model reads each passage).

        Returns:
            The hits, best first. Articles that are copies of one another (the same report
            under two names, one press release run by two outlets) give one hit, of the
            best-ranked copy, whose ``also_in`` names the others.

        Raises:
            QuestionError: nothing to search for (empty, or only invisible characters).
            KbError: an unknown filter.
        """
        query = normalize_question(query, self.settings.max_question_chars)
        if k <= 0:
            return []
        hits = self.ranker.rank(query, k, filters, per_article=per_article, mode=mode)
        if rerank and self.reader is not None:
            hits, _ = self.reader.rank(query, hits, self.settings.reader_passages)
        return hits

    def as_retriever(
        self,
        k: int = 5,
        filters: Mapping[str, Any] | None = None,
        *,
        per_article: int | None = 1,
        mode: Mode = "hybrid",
        rerank: bool = False,
    ) -> KnowledgeBaseRetriever:
        """This knowledge base as a LangChain retriever (``langchain_core`` ``BaseRetriever``):
        ``invoke``, ``batch``, ``ainvoke``, and ``|`` into a runnable. The arguments are the
        defaults of ``retrieve``'s; each can also be given per call
        (``.invoke(question, k=3, filters={...})``). Documents: see ``kb.retrieval.retriever``."""
        return KnowledgeBaseRetriever(
            kb=self,
            k=k,
            filters=dict(filters) if filters else None,
            per_article=per_article,
            mode=mode,
            rerank=rerank,
        )

    def chain(self, llm: str | Any | None = None, *, reader: str | None = None) -> AnswerChain:
        """The answer chain for an answer mode: ``llm`` is ``provider:model``, a chat model, or
        ``None`` for the ``KB_LLM`` setting (empty: extractive); ``reader`` is ``e5-reader``,
        ``none`` or ``None`` for the ``KB_READER`` setting."""
        from kb.answer.llm import load_chat_model

        spec = self.settings.llm if llm is None else llm
        given_as = "KB_LLM" if llm is None else "--llm"
        choice = self.settings.reader if reader is None else reader
        # The chain keeps the settings it was made with: other settings, another chain.
        key = (spec if isinstance(spec, str) else id(spec), choice.strip().lower(), self.settings)
        if key not in self._chains:
            model = (
                load_chat_model(spec, given_as)
                if isinstance(spec, str) and spec
                else (spec or None)
            )
            self._chains[key] = AnswerChain(
                self.as_retriever(k=5, per_article=None),
                embedder=self.embedder,
                index=lambda: self.ranker.index,
                settings=self.settings,
                reader=self._reader_for(choice),
                llm=model,
            )
        return self._chains[key]

    def ask(
        self,
        question: str,
        history: Sequence[Mapping[str, Any]] | None = None,
        filters: Mapping[str, Any] | None = None,
        *,
        llm: str | Any | None = None,
    ) -> Answer:
        """Answer a question from the articles, with a citation [n] after every sentence.

        Args:
            question: in Indonesian or English.
            history: earlier turns as ``{"role": "user"|"assistant", "content": ...}`` (the
                format of Gradio's chat), for follow-up questions.
            filters: as for ``retrieve``.
            llm: ``provider:model`` or a LangChain chat model; default: the ``KB_LLM`` setting
                (empty: extractive answers, no model).

        Returns:
            An ``Answer``; ``answer.abstained`` is true when the articles hold no answer, and
            ``answer.hits`` then still holds the closest passages.

        Raises:
            QuestionError: nothing to search for; a question longer than the
                ``KB_MAX_QUESTION_CHARS`` setting is cut, not refused.
        """
        return self.chain(llm).invoke(question, history, filters)

    def articles(self) -> list[ArticleInfo]:
        """Every ingested article (without its text), sorted by title."""
        infos = [_info(r.doc_id, r.metadata) for r in self.store.iter_articles()]
        return sorted(infos, key=lambda a: (a.title.lower(), a.doc_id))

    def article(self, doc_id: str) -> ArticleInfo:
        """One article with its full text. Raises ``NotFoundError``."""
        record = self.store.get_article(doc_id)
        if record is None:
            raise NotFoundError(f"no article {doc_id!r} in the store: see 'kb list'")
        return _info(doc_id, record.metadata, record.text)

    def status(self) -> dict[str, Any]:
        """Counts and where things are, for ``kb status``."""
        store = self.store
        return {
            "store": str(Path(self.settings.store).resolve()),
            "chroma": self.settings.chroma_url or "embedded",
            "collection": self.settings.collection,
            "embedder": self.embedder_name,
            "built_with": store.built_with,
            "articles": store.count_articles(),
            "chunks": store.count_chunks(),
        }


def _info(doc_id: str, meta: dict[str, Any], text: str = "") -> ArticleInfo:
    return ArticleInfo(
        doc_id=doc_id,
        title=str(meta.get("title", "")),
        source=str(meta.get("source", "")),
        chunks=int(meta.get("chunks", 0)),
        ingested_at=str(meta.get("ingested_at", "")),
        metadata=meta,
        text=text,
    )


def sample_path() -> Path:
    """The bundled sample articles (a jsonl file inside the package)."""
    return Path(str(resources.files("kb") / "samples" / "samples.jsonl"))


@functools.lru_cache(maxsize=1)
def default_kb() -> KnowledgeBase:
    """The knowledge base the settings describe, opened once per process."""
    return KnowledgeBase()


def retrieve(
    query: str,
    k: int = 5,
    filters: Mapping[str, Any] | None = None,
    *,
    per_article: int | None = 1,
    mode: Mode = "hybrid",
) -> list[Hit]:
    """``KnowledgeBase().retrieve`` on the knowledge base the ``KB_*`` settings describe."""
    return default_kb().retrieve(query, k, filters, per_article=per_article, mode=mode)


def ask(
    question: str,
    history: Sequence[Mapping[str, Any]] | None = None,
    filters: Mapping[str, Any] | None = None,
    *,
    llm: str | Any | None = None,
) -> Answer:
    """``KnowledgeBase().ask`` on the knowledge base the ``KB_*`` settings describe."""
    return default_kb().ask(question, history, filters, llm=llm)
