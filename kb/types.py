"""Results handed to scripts, the CLI and the UI: small frozen dataclasses with plain fields."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class ArticleCopy(NamedTuple):
    """Another stored copy of a hit's article (the same report under another name, or the
    same press release run by another outlet): ``Hit.also_in``, ``Citation.also_in``."""

    doc_id: str
    title: str
    outlet: str


@dataclass(frozen=True)
class Hit:
    """A retrieved passage.

    ``start``/``end`` are character offsets of ``text`` in the article's text, so
    ``article.text[start:end] == text``. ``score`` is the fused score (higher is better);
    the per-leg scores and ranks (``None``: not among that leg's candidates) explain it.
    ``page`` is the page the passage starts on and ``page_end`` the page it ends on when that
    is another (``None`` for articles without pages, or stored before pages were read);
    ``section`` is the section path of a long report ("BAB IV Hasil > 4.2 Inovasi").
    ``also_in``: the other stored copies of its article (``kb.store.duplicates``), whose passages
    the search left out for this one.
    """

    doc_id: str
    chunk_id: str
    title: str
    text: str
    score: float
    start: int
    end: int
    metadata: dict[str, Any] = field(default_factory=dict)
    dense_score: float | None = None
    keyword_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None
    page: int | None = None
    page_end: int | None = None
    section: str = ""
    also_in: tuple[ArticleCopy, ...] = ()

    def pages_of(self, start: int, end: int) -> tuple[int | None, int | None]:
        """``(page, page_end)`` of the text at ``start:end`` inside this passage (article
        offsets); ``page_end`` is ``None`` when it is the same page."""
        return pages_of(self.page, self.metadata.get("page_breaks"), start, end)

    def to_record(self) -> dict[str, Any]:
        """The passage as JSON-ready data (``kb search --json``, an answer's ``hits``): what a
        reader of the result needs, not the store's bookkeeping in ``metadata`` (its hashes,
        filter keys, page breaks)."""
        meta = self.metadata
        regions = meta.get("regions") or []
        return {
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "title": self.title,
            "text": self.text,
            "score": float(self.score),
            "dense_score": _number(self.dense_score, float),
            "keyword_score": _number(self.keyword_score, float),
            "dense_rank": _number(self.dense_rank, int),
            "keyword_rank": _number(self.keyword_rank, int),
            "start": self.start,
            "end": self.end,
            "outlet": str(meta.get("outlet") or ""),
            "date": str(meta.get("date") or meta.get("date_text") or ""),
            "url": str(meta.get("url") or meta.get("src_url") or ""),
            "regions": [str(r) for r in regions] if isinstance(regions, list) else [str(regions)],
            "page": self.page,
            "page_end": self.page_end,
            "section": self.section,
            "also_in": _copies(self.also_in),
        }


def _number(value: Any, kind: type[float] | type[int]) -> Any:
    return None if value is None else kind(value)


def _copies(copies: Sequence[ArticleCopy]) -> list[dict[str, str]]:
    return [{"doc_id": c.doc_id, "title": c.title, "outlet": c.outlet} for c in copies]


def pages_of(page: int | None, breaks: Any, start: int, end: int) -> tuple[int | None, int | None]:
    """The pages of ``start:end`` in a passage that starts on ``page``, given the pages that
    start inside it (``breaks``: a chunk's stored ``page_breaks``, JSON ``[[offset, page]]``)."""
    if page is None:
        return None, None
    first = last = page
    for offset, number in _breaks(breaks):
        if offset <= start:
            first = number
        if offset < end:
            last = number
    return first, (last if last != first else None)


def _breaks(value: Any) -> list[tuple[int, int]]:
    if not value:
        return []
    try:
        return [(int(o), int(n)) for o, n in json.loads(str(value))]
    except (ValueError, TypeError):
        return []


def page_label(page: int | None, page_end: int | None, language: str = "id") -> str:
    """ "hal. 12", "hal. 12-13" (``language`` "en": "p. 12", "pp. 12-13"); "" without a page."""
    if page is None:
        return ""
    if page_end is not None and page_end != page:
        return f"{'hal.' if language != 'en' else 'pp.'} {page}-{page_end}"
    return f"{'hal.' if language != 'en' else 'p.'} {page}"


def also_in_label(
    copies: Sequence[ArticleCopy], language: str = "id", *, with_ids: bool = False
) -> str:
    """ "juga di: Judul (Outlet); Judul lain" (``language`` "en": "also in: ..."); with
    ``with_ids`` each copy's doc_id in brackets; "" without copies."""
    if not copies:
        return ""
    names = []
    for copy in copies:
        name = copy.title or copy.doc_id
        name += f" ({copy.outlet})" if copy.outlet else ""
        names.append(name + (f" [{copy.doc_id}]" if with_ids else ""))
    return f"{'also in' if language == 'en' else 'juga di'}: " + "; ".join(names)


@dataclass(frozen=True)
class ArticleInfo:
    """An ingested article as the registry holds it (``text`` is empty in listings)."""

    doc_id: str
    title: str
    source: str
    chunks: int
    ingested_at: str
    metadata: dict[str, Any] = field(default_factory=dict)
    text: str = ""

    @property
    def pages(self) -> tuple[tuple[int, int], ...]:
        """``(offset, page number)`` where each page starts in ``text`` (PDFs; else ())."""
        return tuple(_breaks(self.metadata.get("page_map")))


def to_jsonable(value: Any) -> Any:
    """Dataclasses (and lists of them) as plain JSON-ready data: an ``Answer``, a ``Citation``
    and a ``Hit`` by their ``to_record()`` (the one JSON form of each), any other dataclass
    as all its fields."""
    if isinstance(value, (Hit, Citation, Answer)):
        return value.to_record()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for name in ("ok",):
            if hasattr(type(value), name):
                out[name] = getattr(value, name)
        return out
    if isinstance(value, tuple) and hasattr(value, "_asdict"):  # a NamedTuple: by its names
        return {str(k): to_jsonable(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the quoted sentence(s) of a passage of an article."""

    n: int
    doc_id: str
    title: str
    quote: str
    start: int
    end: int
    url: str = ""
    date: str = ""
    outlet: str = ""
    chunk_id: str = ""
    # The page the quote starts on, the page it ends on when another (PDFs), its section.
    page: int | None = None
    page_end: int | None = None
    section: str = ""
    # The other stored copies of the article (``Hit.also_in``): one result names them all.
    also_in: tuple[ArticleCopy, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """The citation as JSON-ready data (in an answer's record)."""
        return {
            "n": self.n,
            "doc_id": self.doc_id,
            "title": self.title,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "outlet": self.outlet,
            "date": self.date,
            "url": self.url,
            "page": self.page,
            "page_end": self.page_end,
            "section": self.section,
            "also_in": _copies(self.also_in),
            "chunk_id": self.chunk_id,
        }


@dataclass(frozen=True)
class Answer:
    """An answer whose every sentence cites a passage; or an abstention with the closest hits."""

    question: str
    text: str
    citations: tuple[Citation, ...] = ()
    hits: tuple[Hit, ...] = ()
    abstained: bool = False
    unsupported: tuple[str, ...] = ()
    query: str = ""
    mode: str = "extractive"
    language: str = "id"
    # The reader's answer span alone ("Ciputat"), and the citation numbers of the passages
    # that give it; empty without a reader, or when declined.
    short: str = ""
    short_citations: tuple[int, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """The answer's one JSON form: ``kb ask --json``, the app's ``/ask`` endpoint and the
        answers feedback is given on. Its citations are ``Citation.to_record()`` and its
        ``hits`` (the passages retrieved: those read, or the closest) ``Hit.to_record()``."""
        return {
            "question": self.question,
            "query": self.query,
            "language": self.language,
            "text": self.text,
            "short": self.short,
            "short_citations": list(self.short_citations),
            "abstained": self.abstained,
            "mode": self.mode,
            "citations": [c.to_record() for c in self.citations],
            "unsupported": list(self.unsupported),
            "hits": [h.to_record() for h in self.hits],
        }


@dataclass(frozen=True)
class Article:
    """One article read from a file or a jsonl line, before chunking.

    ``text`` is the body (for plain text, everything after the title line); chunk offsets are
    offsets into it. ``metadata`` holds scalar fields given by the source (jsonl fields such as
    ``date``, ``url``, ``outlet``, ``region``; an HTML page's meta tags), never derived ones.
    ``pages`` (PDFs): ``(offset, page number)`` where each page with text starts; ``sections``
    (PDFs, Word): ``(offset, section path)`` where each section starts, the path joined by
    " > " ("BAB IV Hasil > 4.2 Inovasi Pelayanan"). Both ascending, offsets into ``text``.
    """

    doc_id: str
    title: str
    text: str
    source: str
    line: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    pages: tuple[tuple[int, int], ...] = ()
    sections: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Failure:
    """A source (file, or jsonl line) that could not be ingested, and why."""

    source: str
    line: int | None
    reason: str


@dataclass(frozen=True)
class Chunk:
    """A passage of an article; ``start``/``end`` are character offsets in ``Article.text``.
    ``page``/``page_end``: the pages it starts and ends on (``None`` without pages);
    ``page_breaks``: ``(offset, page number)`` of each page that starts inside it;
    ``section``: the section path it belongs to ("" when none)."""

    chunk_id: str
    doc_id: str
    index: int
    text: str
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None
    page_breaks: tuple[tuple[int, int], ...] = ()
    section: str = ""


@dataclass(frozen=True)
class Duplicate:
    """An article written in a batch that is a copy of another stored or in the batch:
    ``exact`` when their texts are the same word for word (case and punctuation aside),
    else a near copy (the same release with another dateline, first line or outlet line) of
    estimated ``similarity`` (Jaccard of 3-word shingles, from 0.8). Both stay stored; a
    search returns one of them, naming the other (``Hit.also_in``)."""

    doc_id: str
    title: str
    source: str
    of_doc_id: str
    of_title: str
    of_source: str
    similarity: float
    exact: bool


@dataclass(frozen=True)
class IngestReport:
    """What one batch did. ``ok`` is true only when nothing failed. ``chunks_embedded`` can be
    below ``chunks_written``: a passage whose text (with its title) the store already holds
    keeps that vector, and one that stands twice among the articles embedded together (a
    group of about ``8 x batch size`` chunks) is embedded once. ``duplicates``: the articles
    written that copy another (see ``Duplicate``)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    failed: tuple[Failure, ...] = ()
    chunks_written: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0
    duplicates: tuple[Duplicate, ...] = ()
    # Not failures: the article was written, but something in it could not be read (a
    # source's date in a form not understood).
    warnings: tuple[Failure, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        copies = len(self.duplicates)
        noted = f", {copies} duplicate{'' if copies == 1 else 's'}" if copies else ""
        if self.warnings:
            noted += f", {len(self.warnings)} warning{'' if len(self.warnings) == 1 else 's'}"
        return (
            f"{len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.unchanged)} unchanged, {len(self.deleted)} deleted, "
            f"{len(self.failed)} failed{noted} ({self.chunks_written} chunks written, "
            f"{self.chunks_embedded} embedded, in {self.seconds:.1f}s)"
        )
