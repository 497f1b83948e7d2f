"""What an article's own text says about it: outlet, reporter, dates and regions.

Everything here reads Indonesian news conventions and prefers saying nothing to guessing:

- outlet: "ujarnya kepada Tangerang Ekspres", "dikutip dari Antara", "dilansir Kompas.com",
  a closing "Sumber: Jambi Ekspres" line, a dateline "JAKARTA, KOMPAS.com -". After "kepada",
  "dikutip dari" and other weak cues the name must be a known outlet (:data:`KNOWN_OUTLETS`),
  start like one ("Tribun", "Radar", "Harian"...) or end like one ("Ekspres", "Pos", "News",
  ".com"...), so "kepada wartawan" and "kepada Muhamad" are not outlets; after "dilansir" any
  capitalised name is taken.
- reporter: initials in parentheses closing the text, "(bud/esa)".
- dates: "Selasa (7/11)", "Jumat (10/11/2017)", "7 November 2017", "6 sampai 9 November",
  "November 7, 2017", "2017-11-07", "10/11/2017", as written.
- date: the first mention that resolves to a day. A mention without a year takes the year the
  caller knows, or else the one year (1990-2039) written in the text if there is exactly one; a
  weekday written with it ("Selasa (7/11)") must then fall on that day. Ranges are listed, not
  resolved.
- regions: the regions the title and text are about (title, lead, named twice, or inside
  one of those; English place forms read as Indonesian ones), plus their ancestors; the
  others named are ``mentioned_regions``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from typing import Any
from urllib.parse import urlparse

from kb.text.gazetteer import Region, ancestors
from kb.text.regions import indonesian_place_names, region_mentions
from kb.text.words import (
    DAY_NUMBERS,
    INDONESIAN_DAY_NAMES,
    INDONESIAN_MONTH_NAMES,
    MONTH_NUMBERS,
    alternation,
)

KNOWN_OUTLETS: tuple[str, ...] = (
    "Kompas", "Kompas.com", "Harian Kompas", "Kompas TV", "Tempo", "Tempo.co", "Koran Tempo",
    "Majalah Tempo", "Detik", "Detik.com", "detikcom", "Antara", "Antaranews", "Republika",
    "Tribunnews", "Tribunnews.com", "Jawa Pos", "JawaPos.com", "Tangerang Ekspres",
    "Jambi Ekspres", "Pikiran Rakyat", "Media Indonesia", "Suara Merdeka", "Bisnis Indonesia",
    "Bisnis.com", "Kontan", "Liputan6", "Liputan6.com", "Okezone", "Sindonews", "Koran Sindo",
    "Seputar Indonesia", "CNN Indonesia", "CNBC Indonesia", "Kumparan", "kumparan",
    "Jakarta Post", "The Jakarta Post", "Jakarta Globe", "Tirto", "Tirto.id", "Merdeka.com",
    "Viva", "Viva.co.id", "Suara.com", "IDN Times", "Katadata", "Beritasatu", "Investor Daily",
    "Sinar Harapan", "Suara Pembaruan", "Warta Kota", "Pos Kota", "Rakyat Merdeka",
    "Harian Jogja", "Kedaulatan Rakyat", "Solopos", "Bali Post", "Banjarmasin Post",
    "Serambi Indonesia", "Waspada", "Metro TV", "TVRI", "RRI", "iNews", "tvOne", "BBC",
    "BBC Indonesia", "Reuters", "AFP", "Xinhua", "Bernama",
)  # fmt: skip
_KNOWN = {o.lower(): o for o in KNOWN_OUTLETS}
_OUTLET_SUFFIXES = ("ekspres", "express", "pos", "post", "news", "times", "online", "tv")
_OUTLET_DOMAINS = (".com", ".co.id", ".co", ".id", ".net")
_OUTLET_PREFIXES = ("tribun", "radar", "harian", "koran", "majalah", "tabloid")
# "kepada Kantor Pos" is a post office, "kepada Dinas ... News" an office.
_NOT_OUTLET_HEADS = frozenset(
    """kantor dinas badan pt cv bank rumah kepala pihak polisi polres polda pemerintah
    warga tim""".split()
)

_NAME = r"(?P<name>[\w.&'’-]+(?:[ \t]+[\w.&'’-]+){0,4})"
# After these the name must look like an outlet; "kepada" is mostly followed by people, and
# "dikutip dari" by documents.
_WEAK_CUES = re.compile(
    r"\b(?:kepada|dihubungi|ditemui|diberitakan|dilaporkan|mengutip|laporan|dikutip|dinukil)"
    r"(?:[ \t]+dari)?[ \t]+" + _NAME
)
# "Dilansir" is said of media: a capitalised name is taken even when unknown ("dilansir BBC").
_STRONG_CUES = re.compile(r"\b(?:dilansir|melansir)(?:[ \t]+dari)?[ \t]+(?:laman[ \t]+)?" + _NAME)
_SOURCE_LINE = re.compile(r"\n[ \t]*Sumber[ \t]*:[ \t]*(?P<value>\S[^\n]*?)[ \t]*\Z")
# A dateline: a place, an optional date, then the outlet in brackets or after a comma, then a
# dash: "Sleman (Harian Jogja) —", "Sleman, 8 Januari 2024 (Harian Jogja) —",
# "JAKARTA, KOMPAS.com —".
_DATELINE_OUTLET = re.compile(
    r"^[ \t]*[A-Z][A-Za-z'’ ]{1,40}?"
    r"(?:[ \t]*,[ \t]*[^\n,()–—]{2,40}?)??"
    r"(?:[ \t]*,[ \t]*(?P<a>[^\n,()–—]{2,40}?)|[ \t]*\((?P<b>[^)\n]{2,40})\))[ \t]*[-–—]",
    re.MULTILINE,
)

# The lead: a report's first characters after its title, where the dateline and the place it
# is about stand.
LEAD_CHARS = 400

_REPORTER = re.compile(r"\((?P<initials>[a-z0-9]{2,5}(?:/[a-z0-9]{2,5})*)\)\s*\Z")
_TRAILING_SOURCE = re.compile(r"\n[ \t]*Sumber[ \t]*:[^\n]*\Z")

_DAYS = alternation(name.capitalize() for name in INDONESIAN_DAY_NAMES)
# Indonesian month names in any case ("15 oktober 2003"); short and English forms capitalised.
_OTHER_MONTHS = [m.capitalize() for m in MONTH_NUMBERS if m not in INDONESIAN_MONTH_NAMES]
_MONTH = f"(?i:{alternation(INDONESIAN_MONTH_NAMES)})|{alternation(_OTHER_MONTHS)}"

_DATE_RE = re.compile(
    rf"(?P<dn>\b(?:{_DAYS}))[ \t]*,?[ \t]*\([ \t]*(?P<d1>\d{{1,2}})[ \t]*/[ \t]*(?P<m1>\d{{1,2}})"
    rf"(?:[ \t]*/[ \t]*(?P<y1>\d{{4}}|\d{{2}}))?[ \t]*\)"
    rf"|\b(?P<r1>\d{{1,2}})[ \t]*(?:sampai|hingga|s\.d\.?|s/d|-|–)[ \t]*(?P<r2>\d{{1,2}})[ \t]+"
    rf"(?P<rm>{_MONTH})\b(?:[ \t]+(?P<ry>\d{{4}})\b)?"
    rf"|\b(?P<d2>\d{{1,2}})[ \t]+(?P<m2>{_MONTH})\b(?:\.?,?[ \t]+(?P<y2>\d{{4}})\b)?"
    rf"|\b(?P<m3>{_MONTH})\.?[ \t]+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y3>\d{{4}})\b"
    rf"|\b(?P<iy>\d{{4}})-(?P<im>\d{{2}})-(?P<id>\d{{2}})\b"
    rf"|\b(?P<nd>\d{{1,2}})/(?P<nm>\d{{1,2}})/(?P<ny>\d{{4}})\b"
)
_YEAR_RE = re.compile(r"(?<![\d.,])(?P<year>199\d|20[0-3]\d)(?![\d]|[.,]\d)")
# "sebanyak 2000 warga", "Rp 2015" are counts and prices, not years.
_NOT_A_YEAR_AFTER = re.compile(
    r"[ \t]+(?:orang|warga|unit|meter|m|km|kg|ton|ekor|buah|rumah|jiwa|kepala|hektare|ha|"
    r"peserta|siswa|lembar|paket|titik|kali|persen)\b",
    re.IGNORECASE,
)
_NOT_A_YEAR_BEFORE = re.compile(r"(?:Rp\.?|\$|US\$)[ \t]*\Z")


def extract_metadata(title: str, text: str, *, year: int | None = None) -> dict[str, Any]:
    """Read outlet, reporter, dates and regions from an article's title and text.

    Args:
        title: The article's title ("" when there is none); searched before the text.
        text: The article's body.
        year: The year the source gives (a file's or a jsonl line's date), used to resolve
            dates written without one.

    Returns:
        A dict with exactly the keys ``outlet`` (str or None), ``reporter`` (str or None),
        ``dates`` (mentions as written), ``date`` (ISO "YYYY-MM-DD" or None), ``regions``
        (canonical names: mentioned regions first, then their ancestors) and ``provinsi``,
        ``kabkota``, ``kecamatan`` (``regions`` split by level).
    """
    full = f"{title}\n{text}" if title.strip() else text
    mentions = _date_mentions(full)
    lead = len(full) - len(text) + LEAD_CHARS
    regions, mentioned = _regions(indonesian_place_names(full), lead)
    return {
        "outlet": find_outlet(full),
        "reporter": find_reporter(text),
        "dates": list(dict.fromkeys(written for written, _ in mentions)),
        "date": _first_date(mentions, year if year is not None else _only_year(full)),
        "regions": [r.name for r in regions],
        "provinsi": [r.name for r in regions if r.level == "provinsi"],
        "kabkota": [r.name for r in regions if r.level == "kabkota"],
        "kecamatan": [r.name for r in regions if r.level == "kecamatan"],
        "mentioned_regions": mentioned,
    }


def _regions(text: str, lead: int) -> tuple[list[Region], list[str]]:
    """The regions the text is about (with their ancestors), and those it only mentions.

    About: named in the title or the lead (the first ``lead`` characters, where the
    dateline stands), named twice or more, or lying inside a region it is about (a
    kecamatan of the kota the report is on). A place named once further on ("warga yang
    bekerja di Jakarta") is a mention. A text that names no region in those ways is about
    every region it names (as before there were mentions)."""
    mentions = region_mentions(text)
    counts = Counter(r.name for _, r in mentions)
    about = {r.name for pos, r in mentions if pos < lead or counts[r.name] >= 2}
    if not about:
        about = set(counts)
    for _, region in mentions:
        if any(a.name in about for a in ancestors(region)):
            about.add(region.name)
    found = [r for _, r in mentions if r.name in about]
    by_name: dict[str, Region] = {}
    for region in [*found, *(a for r in found for a in ancestors(r))]:
        by_name.setdefault(region.name, region)
    mentioned = [r.name for _, r in mentions if r.name not in by_name]
    return list(by_name.values()), list(dict.fromkeys(mentioned))


def _outlet_name(candidate: str, *, strong: bool) -> str | None:
    """The longest leading part of ``candidate`` that names an outlet, or None."""
    words = candidate.split()
    for n in range(len(words), 0, -1):
        name = " ".join(words[:n]).rstrip(".'’-")
        if not name:
            continue
        low = name.lower()
        capitalised = name[0].isupper()
        if low in _KNOWN and (capitalised or _KNOWN[low][0].islower()):
            return name
        if not capitalised or low.split()[0] in _NOT_OUTLET_HEADS:
            continue
        last = low.split()[-1]
        if n > 1 and (last in _OUTLET_SUFFIXES or low.split()[0] in _OUTLET_PREFIXES):
            return name
        if last.endswith(_OUTLET_DOMAINS) and "." in last:
            return name
        if low.startswith(_OUTLET_PREFIXES) and n == 1 and low not in _OUTLET_PREFIXES:
            return name  # "Tribunnews", "Radarbogor"
    if strong:
        taken = []
        for word in words:
            clean = word.rstrip(".'’-")
            day = clean.lower().replace("’", "'")
            if not clean or not clean[0].isupper() or day in DAY_NUMBERS:
                break
            taken.append(clean)
            if clean != word:
                break
        if taken and taken[0].lower() not in MONTH_NUMBERS:
            return " ".join(taken)
    return None


def find_outlet(text: str) -> str | None:
    """The news outlet the text names as its source, or None.

    Args:
        text: Title and body.

    Returns:
        The outlet as written ("Tangerang Ekspres"): a "Sumber:" line closing the text wins,
        else the first outlet named after a cue or in a dateline.
    """
    m = _SOURCE_LINE.search("\n" + text.rstrip())
    if m:
        value = m.group("value")
        if value.startswith(("http://", "https://", "www.")):
            host = urlparse(value if "//" in value else "//" + value).netloc
            value = host.removeprefix("www.") or value
        return value[:80]
    found: list[tuple[int, str]] = []
    for pattern, strong in ((_WEAK_CUES, False), (_STRONG_CUES, True)):
        for m in pattern.finditer(text):
            name = _outlet_name(m.group("name"), strong=strong)
            if name:
                found.append((m.start("name"), name))
                break
    for m in _DATELINE_OUTLET.finditer(text):
        name = _outlet_name((m.group("a") or m.group("b") or "").strip(), strong=False)
        if name:
            found.append((m.start(), name))
            break
    return min(found)[1] if found else None


def find_reporter(text: str) -> str | None:
    """Reporter/editor initials closing the text, "(bud/esa)" -> "bud/esa", or None."""
    body = _TRAILING_SOURCE.sub("", text.rstrip()).rstrip()
    m = _REPORTER.search(body)
    if not m:
        return None
    initials = m.group("initials")
    if not all(any(c.isalpha() for c in part) for part in initials.split("/")):
        return None  # "(2017)" is a year, not initials
    return initials


def _date_mentions(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Date mentions in order: (as written, parsed parts)."""
    return [(m.group().strip(), m.groupdict()) for m in _DATE_RE.finditer(text)]


def _only_year(text: str) -> int | None:
    """The year written in the text, if exactly one distinct year (1990-2039) is."""
    years = set()
    for m in _YEAR_RE.finditer(text):
        if _NOT_A_YEAR_AFTER.match(text, m.end()) or _after_currency(text, m.start()):
            continue
        years.add(int(m.group("year")))
    return years.pop() if len(years) == 1 else None


def _after_currency(text: str, start: int) -> bool:
    """Whether "Rp", "$" or "US$" (then spaces) ends right before ``start``.

    Only the few characters before the spaces are searched: searching the whole text before
    each year made a text of many years quadratic."""
    before = start
    while before > 0 and text[before - 1] in " \t":
        before -= 1
    return _NOT_A_YEAR_BEFORE.search(text, max(0, before - 4), start) is not None


def _make_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _resolve(parts: dict[str, Any], year: int | None) -> dt.date | None:
    """One mention -> a date, or None when it cannot be pinned to a day."""
    if parts["d1"]:
        day, month = int(parts["d1"]), int(parts["m1"])
        if parts["y1"]:
            y = int(parts["y1"])
            return _make_date(y + 2000 if y < 100 else y, month, day)
        if year is None:
            return None
        date = _make_date(year, month, day)
        weekday = DAY_NUMBERS[parts["dn"].lower().replace("’", "'")]
        # The weekday checks the borrowed year: "Selasa (7/11)" is 2017, not 2016.
        return date if date and date.weekday() == weekday else None
    if parts["d2"]:
        own = int(parts["y2"]) if parts["y2"] else year
        if own is None:
            return None
        return _make_date(own, MONTH_NUMBERS[parts["m2"].lower()], int(parts["d2"]))
    if parts["d3"]:
        return _make_date(int(parts["y3"]), MONTH_NUMBERS[parts["m3"].lower()], int(parts["d3"]))
    if parts["iy"]:
        return _make_date(int(parts["iy"]), int(parts["im"]), int(parts["id"]))
    if parts["nd"]:
        return _make_date(int(parts["ny"]), int(parts["nm"]), int(parts["nd"]))
    return None  # a range ("6 sampai 9 November") is not one day


def _first_date(mentions: list[tuple[str, dict[str, Any]]], year: int | None) -> str | None:
    for _, parts in mentions:
        date = _resolve(parts, year)
        if date is not None:
            return date.isoformat()
    return None
