"""The metadata stored with an article and its chunks: what the source gives, completed by
what the text says (``ingest.extract``), its content hash, and each chunk's place in the
article (offsets, pages, section)."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from typing import Any

from ingest.extract import extract_metadata
from kb.retrieval.filters import date_int, outlet_key
from kb.text.gazetteer import ancestors, normalize_region
from kb.text.regions import find_regions
from kb.types import Article, Chunk

# Keys the product sets itself; a source field of the same name is kept as ``src_<name>``.
RESERVED = frozenset(
    {
        "doc_id", "title", "source", "line", "content_hash", "ingested_at", "chunks",
        "chunk_index", "start", "end", "outlet_key", "date_int", "regions", "provinsi",
        "kabkota", "kecamatan", "dates", "date_text", "reporter", "pipeline", "page",
        "page_end", "page_breaks", "section", "page_map", "mentioned_regions", "dup_signature",
        "duplicate_of",
    }
)  # fmt: skip

_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
# dateparser: day first for numeric dates, a whole date (day, month and year), no relative
# dates, no guessing from today.
_DATE_SETTINGS: dict[str, Any] = {
    "DATE_ORDER": "DMY",
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PARSERS": ["timestamp", "custom-formats", "absolute-time"],
    "RETURN_AS_TIMEZONE_AWARE": False,
}
_MAX_DATE_CHARS = 80


def content_hash(article: Article, pipeline: str) -> str:
    """Changes when the article's title, text, given metadata, pages or sections change, or
    the chunking does. (An article without pages or sections hashes as it did before they
    were read, so a store's news articles are not written again for them.)"""
    layout: list[Any] = (
        [article.pages, article.sections] if article.pages or article.sections else []
    )
    payload = json.dumps(
        [article.title, article.text, article.metadata, pipeline, *layout],
        ensure_ascii=False,
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def given_date(value: Any) -> dt.date | None:
    """The date a source field gives ("2024-03-05", "5 Maret 2024", "05/03/2024",
    "March 5, 2024", "Selasa, 5 Maret 2024 pukul 10.00 WIB"), or None when it names no whole
    date. Numeric dates are day first, as Indonesians write them; relative ones ("kemarin")
    are not dates of an article."""
    text = " ".join(str(value).split())
    if not text:
        return None
    m = _ISO.fullmatch(text[:10]) if len(text) >= 10 else None
    if m:
        try:
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
    return _parse_date(text[:_MAX_DATE_CHARS])


def unread_date(article: Article) -> str | None:
    """Why the date a source gives could not be read ("" or None: there is none, or it was
    read), for the ingest report: the article is then left out by date filters, unless its
    text gives a date."""
    value = article.metadata.get("date")
    if value in (None, "") or given_date(value) is not None:
        return None
    return (
        f"date {str(value)[:60]!r} not read (write it as 2024-03-05, 5 Maret 2024 or "
        "05/03/2024): the date the text gives is used, if any"
    )


@functools.lru_cache(maxsize=4096)
def _parse_date(text: str) -> dt.date | None:
    import dateparser

    try:
        parsed = dateparser.parse(text, languages=["id", "en"], settings=_DATE_SETTINGS)
    except (ValueError, OverflowError, TypeError):  # a value dateparser chokes on
        return None
    return parsed.date() if parsed is not None else None


def _given_regions(value: Any) -> list[str]:
    names: list[str] = []
    for part in re.split(r"[;|]", str(value)):
        part = part.strip()
        if not part:
            continue
        found = normalize_region(part)
        names.extend(found[:1] or [part])
        for region in find_regions(found[0] if found else part):
            names.extend(r.name for r in ancestors(region))
    return names


def article_metadata(article: Article) -> dict[str, Any]:
    """Metadata stored with the article and each of its chunks (Chroma-safe values)."""
    given = dict(article.metadata)
    date = given_date(given["date"]) if given.get("date") else None
    found = extract_metadata(article.title, article.text, year=date.year if date else None)

    meta: dict[str, Any] = {}
    for key, value in given.items():
        meta[f"src_{key}" if key in RESERVED else key] = value
    meta["doc_id"] = article.doc_id
    meta["title"] = article.title
    meta["source"] = article.source
    if article.line is not None:
        meta["line"] = article.line

    outlet = given.get("outlet") or found.get("outlet") or given.get("source_name")
    if outlet:
        meta["outlet"] = str(outlet)
        meta["outlet_key"] = outlet_key(outlet)
    if found.get("reporter"):
        meta["reporter"] = found["reporter"]
    if found.get("dates"):
        meta["dates"] = list(found["dates"])
        meta["date_text"] = found["dates"][0]
    iso = date.isoformat() if date else found.get("date")
    if iso:
        meta["date"] = iso
        meta["date_int"] = date_int(iso)

    regions = list(found.get("regions") or [])
    for key in ("region", "regions", "kecamatan", "kabupaten", "kota", "provinsi"):
        if given.get(key):
            regions.extend(_given_regions(given[key]))
    meta["regions"] = list(dict.fromkeys(regions))
    for level in ("provinsi", "kabkota", "kecamatan"):
        meta[level] = list(found.get(level) or [])
    # Places named in passing: kept apart, not used by region filters or the region check.
    meta["mentioned_regions"] = [r for r in found["mentioned_regions"] if r not in meta["regions"]]
    if article.pages:  # the article's record only (``ARTICLE_ONLY_FIELDS``), for page views
        meta["page_map"] = json.dumps([list(p) for p in article.pages], separators=(",", ":"))
    return meta


def chunk_layout(chunk: Chunk) -> dict[str, Any]:
    """A chunk's pages and section as stored with it: ``page_end`` only when another page,
    each field absent when it has none (as ``Hit`` carries them)."""
    meta: dict[str, Any] = {}
    if chunk.page is not None:
        meta["page"] = chunk.page
        if chunk.page_end is not None and chunk.page_end != chunk.page:
            meta["page_end"] = chunk.page_end
    if chunk.page_breaks:
        meta["page_breaks"] = json.dumps(
            [list(b) for b in chunk.page_breaks], separators=(",", ":")
        )
    if chunk.section:
        meta["section"] = chunk.section
    return meta
