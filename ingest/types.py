"""The records that flow through ingestion: articles in, chunks out, a report per batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
