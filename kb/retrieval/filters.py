"""The product's own filter dict, read once (``Filter``) into a Chroma ``where`` clause and a
predicate on chunk metadata.

Filters: ``region`` (a name at any level, or a list of names: an article matches when it
mentions one of them or a place inside one), ``outlet``, ``doc_id`` (one or a list),
``date_from`` / ``date_to`` (``YYYY-MM-DD``, inclusive; articles with no known date are left
out when a date filter is on).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kb.errors import ConfigError

FILTER_KEYS = frozenset({"region", "outlet", "doc_id", "date_from", "date_to"})


def from_fields(
    region: str | None = None,
    outlet: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
) -> dict[str, str] | None:
    """The filter dict from separate form or command-line fields; empty ones are left out."""
    given = {"region": region, "outlet": outlet, "date_from": date_from, "date_to": date_to}
    return {k: v.strip() for k, v in given.items() if v and v.strip()} or None


def outlet_key(outlet: object) -> str:
    """An outlet's name as stored for the outlet filter (``outlet_key``) and as the filter
    compares it: case and surrounding spaces do not matter ("Tangerang Ekspres " ->
    "tangerang ekspres")."""
    return str(outlet).strip().lower()


def date_int(value: str | dt.date) -> int:
    """``2017-11-07`` -> ``20171107``: the form dates are stored in (``date_int``) and that
    date filters compare, as ranges of integers."""
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError as e:
            raise ConfigError(f"date {value!r} is not a date: use YYYY-MM-DD") from e
    return day.year * 10000 + day.month * 100 + day.day


def region_candidates(name: str) -> list[str]:
    """The stored region names a user's region filter may mean (gazetteer, then as typed)."""
    from kb.text.gazetteer import normalize_region

    typed = " ".join(name.split())
    return list(dict.fromkeys([*normalize_region(typed), typed]))


def check_regions(filters: Mapping[str, Any] | None, stored: set[str]) -> None:
    """A region filter must name a place: one the gazetteer knows, or a region some article
    is tagged with (``stored``). Otherwise ``ConfigError`` with the closest names: a typo must
    not quietly filter everything out.
    """
    from kb.text.gazetteer import all_region_names, normalize_region

    region = (filters or {}).get("region")
    if not region:
        return
    stored_lower = {n.lower() for n in stored}
    for one in [region] if isinstance(region, str) else list(region):
        typed = " ".join(str(one).split())
        if normalize_region(typed) or typed.lower() in stored_lower:
            continue
        # An unknown name (rare): only now the list of every name to suggest from.
        known: dict[str, str] = {}
        for name in [*all_region_names(), *stored]:
            known[name.lower()] = name
            bare = re.sub(r"^(provinsi|kabupaten|kota|kecamatan) ", "", name.lower())
            known.setdefault(bare, name)
        if typed.lower() in known:
            continue
        close = difflib.get_close_matches(typed.lower(), list(known), n=5, cutoff=0.75)
        shown = list(dict.fromkeys(known[c] for c in close))
        hint = "close names: " + ", ".join(shown) if shown else "no place of a similar name"
        raise ConfigError(f"unknown region {typed!r}: {hint}")


@dataclass(frozen=True)
class Filter:
    """The product's filters, read once: both the Chroma ``where`` (the dense leg) and the
    predicate on chunk metadata (the keyword leg) are made from this one reading, so the two
    legs cannot disagree on what a filter lets through.

    Fields (empty: not filtered on): the stored region names a region filter may mean (an
    article matches when its ``regions`` hold one), the outlet's key, the doc ids, and the
    date range as ``YYYYMMDD`` integers (inclusive; an article with no date is left out).
    """

    regions: tuple[str, ...] = ()
    outlet: str = ""
    doc_ids: tuple[str, ...] = ()
    low: int | None = None
    high: int | None = None

    @classmethod
    def read(cls, filters: Mapping[str, Any] | None) -> Filter:
        """Raises ``ConfigError`` for an unknown key or a date that is not ``YYYY-MM-DD``."""
        if not filters:
            return cls()
        unknown = set(filters) - FILTER_KEYS
        if unknown:
            raise ConfigError(
                f"unknown filter {sorted(unknown)[0]!r}: use {', '.join(sorted(FILTER_KEYS))}"
            )
        names: list[str] = []
        region = filters.get("region")
        for one in ([region] if isinstance(region, str) else list(region)) if region else []:
            names.extend(region_candidates(one))
        doc_id = filters.get("doc_id")
        return cls(
            regions=tuple(dict.fromkeys(names)),
            outlet=outlet_key(filters.get("outlet") or ""),
            doc_ids=tuple([doc_id] if isinstance(doc_id, str) else list(doc_id or [])),
            low=date_int(filters["date_from"]) if filters.get("date_from") else None,
            high=date_int(filters["date_to"]) if filters.get("date_to") else None,
        )

    def where(self) -> dict[str, Any] | None:
        """The Chroma ``where`` clause; ``None`` when nothing is filtered."""
        clauses: list[dict[str, Any]] = []
        if self.regions:
            ors = [{"regions": {"$contains": n}} for n in self.regions]
            clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
        if self.outlet:
            clauses.append({"outlet_key": self.outlet})
        if self.doc_ids:
            ids = list(self.doc_ids)
            clauses.append({"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}})
        if self.low is not None:
            clauses.append({"date_int": {"$gte": self.low}})
        if self.high is not None:
            clauses.append({"date_int": {"$lte": self.high}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """Whether a chunk with this metadata passes (what ``where`` lets Chroma return)."""
        if self.regions and not any(r in self.regions for r in meta.get("regions") or ()):
            return False
        if self.outlet and meta.get("outlet_key") != self.outlet:
            return False
        if self.doc_ids and meta.get("doc_id") not in self.doc_ids:
            return False
        if self.low is not None or self.high is not None:
            day = meta.get("date_int")
            if day is None:
                return False
            if self.low is not None and day < self.low:
                return False
            if self.high is not None and day > self.high:
                return False
        return True


def to_where(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` for the product's filters; ``None`` when there is nothing to filter."""
    return Filter.read(filters).where()


def matcher(filters: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool] | None:
    """The same filters as ``to_where``, as a predicate on chunk metadata (the keyword leg);
    ``None`` when there is nothing to filter."""
    read = Filter.read(filters)
    return None if read.where() is None else read.matches
