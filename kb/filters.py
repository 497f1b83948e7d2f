"""The product's own filter dict, turned into a Chroma ``where`` clause.

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


def date_int(value: str | dt.date) -> int:
    """``2017-11-07`` -> ``20171107`` (the form dates are stored in, for range filters)."""
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
    from ingest.regions import normalize_region

    typed = " ".join(name.split())
    return list(dict.fromkeys([*normalize_region(typed), typed]))


def check_regions(filters: Mapping[str, Any] | None, stored: set[str]) -> None:
    """A region filter must name a place: one the gazetteer knows, or a region some article
    is tagged with (``stored``). Otherwise ``ConfigError`` with the closest names: a typo must
    not quietly filter everything out.
    """
    from ingest.regions import all_region_names, normalize_region

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


def to_where(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Chroma ``where`` for the product's filters; ``None`` when there is nothing to filter."""
    if not filters:
        return None
    unknown = set(filters) - FILTER_KEYS
    if unknown:
        raise ConfigError(
            f"unknown filter {sorted(unknown)[0]!r}: use {', '.join(sorted(FILTER_KEYS))}"
        )
    clauses: list[dict[str, Any]] = []
    region = filters.get("region")
    if region:
        names: list[str] = []
        for one in [region] if isinstance(region, str) else list(region):
            names.extend(region_candidates(one))
        ors = [{"regions": {"$contains": n}} for n in dict.fromkeys(names)]
        clauses.append(ors[0] if len(ors) == 1 else {"$or": ors})
    outlet = filters.get("outlet")
    if outlet:
        clauses.append({"outlet_key": str(outlet).strip().lower()})
    doc_id = filters.get("doc_id")
    if doc_id:
        ids = [doc_id] if isinstance(doc_id, str) else list(doc_id)
        clauses.append({"doc_id": ids[0]} if len(ids) == 1 else {"doc_id": {"$in": ids}})
    if filters.get("date_from"):
        clauses.append({"date_int": {"$gte": date_int(filters["date_from"])}})
    if filters.get("date_to"):
        clauses.append({"date_int": {"$lte": date_int(filters["date_to"])}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def matcher(filters: Mapping[str, Any] | None) -> Callable[[Mapping[str, Any]], bool] | None:
    """The same filters as ``to_where``, as a predicate on chunk metadata (the keyword leg)."""
    if not filters:
        return None
    to_where(filters)  # validates keys and dates
    regions: set[str] = set()
    region = filters.get("region")
    if region:
        for one in [region] if isinstance(region, str) else list(region):
            regions.update(region_candidates(one))
    outlet = str(filters.get("outlet") or "").strip().lower()
    doc_id = filters.get("doc_id")
    doc_ids = set([doc_id] if isinstance(doc_id, str) else list(doc_id or []))
    low = date_int(filters["date_from"]) if filters.get("date_from") else None
    high = date_int(filters["date_to"]) if filters.get("date_to") else None

    def match(meta: Mapping[str, Any]) -> bool:
        if regions and not regions.intersection(meta.get("regions") or ()):
            return False
        if outlet and meta.get("outlet_key") != outlet:
            return False
        if doc_ids and meta.get("doc_id") not in doc_ids:
            return False
        if low is not None or high is not None:
            day = meta.get("date_int")
            if day is None:
                return False
            if low is not None and day < low:
                return False
            if high is not None and day > high:
                return False
        return True

    return match
