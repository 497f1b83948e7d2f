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
    """Dataclasses (and lists of them) as plain JSON-ready data."""
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
