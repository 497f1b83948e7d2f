"""Day and month names, and the short forms officials and reporters write, read once from
``words.json``: every list of them in the product is derived here, so the lists cannot
disagree. (The gazetteer reads its aliases from ``regions.json`` with :func:`parse_json`.)

Each day and month is listed once, its names by kind: the Indonesian name, other spellings of
it ("jum'at", "pebruari"), other names ("ahad"), the English name, abbreviations ("agt",
"des"), and ``common``, those of its names that alone in running text are mostly another word
(English "may"). The uses take different kinds: reading a written date takes every form, the
region matcher the Indonesian ones, an answer to "kapan" those that name a month alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.resources import files
from typing import Any


@dataclass(frozen=True)
class Names:
    """The names of one day (``number`` as ``date.weekday()``: Monday 0) or month (January 1)."""

    number: int
    indonesian: str
    spellings: tuple[str, ...] = ()
    other_names: tuple[str, ...] = ()
    english: str | None = None
    abbreviations: tuple[str, ...] = ()
    common: tuple[str, ...] = ()

    @property
    def local(self) -> tuple[str, ...]:
        """The Indonesian forms: the name, its other spellings, the day's other names."""
        return (self.indonesian, *self.spellings, *self.other_names)

    @property
    def every(self) -> tuple[str, ...]:
        """Every form, abbreviations included."""
        english = (self.english,) if self.english else ()
        return (*self.local, *english, *self.abbreviations)


@dataclass(frozen=True)
class Words:
    days: tuple[Names, ...]
    months: tuple[Names, ...]
    short_forms: dict[str, tuple[str, ...]]
    pointer_cues: tuple[str, ...]
    ad_lines: tuple[str, ...]


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys: an alias given twice would silently lose one.
    keys = [key for key, _ in pairs]
    repeated = sorted({key for key in keys if keys.count(key) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} given twice in one object")
    return dict(pairs)


def parse_json(text: str) -> Any:
    """JSON of a data file of ``kb.text``; a key given twice in one object is a ``ValueError``."""
    return json.loads(text, object_pairs_hook=_no_repeated_keys)


def data_text(name: str) -> str:
    """The text of a data file shipped in ``kb.text`` (``words.json``, ``regions.json``)."""
    return (files("kb.text") / name).read_text(encoding="utf-8")


def _names(entry: dict[str, Any]) -> Names:
    names = Names(
        number=int(entry["number"]),
        indonesian=entry["indonesian"],
        spellings=tuple(entry.get("spellings", ())),
        other_names=tuple(entry.get("other_names", ())),
        english=entry.get("english"),
        abbreviations=tuple(entry.get("abbreviations", ())),
        common=tuple(entry.get("common", ())),
    )
    if not set(names.common) <= set(names.every):
        raise ValueError(f"words.json: common names of {names.indonesian!r} must be its names")
    return names


def read_words(text: str) -> Words:
    """The word lists of a ``words.json`` text.

    Raises:
        ValueError: a key is given twice in one object, a name belongs to two days or months
            (or twice to one), or a ``common`` name is not one of its entry's names.
    """
    data = parse_json(text)
    words = Words(
        days=tuple(_names(e) for e in data["days"]),
        months=tuple(_names(e) for e in data["months"]),
        short_forms={k: tuple(v.split()) for k, v in data["short_forms"].items()},
        pointer_cues=tuple(data["page_chrome"]["pointer_cues"]),
        ad_lines=tuple(data["page_chrome"]["ad_lines"]),
    )
    every = [name for entry in (*words.days, *words.months) for name in entry.every]
    repeated = sorted({name for name in every if every.count(name) > 1})
    if repeated:
        raise ValueError(f"words.json: {', '.join(repeated)} listed twice")
    return words


_WORDS = read_words(data_text("words.json"))

DAYS: tuple[Names, ...] = _WORDS.days
MONTHS: tuple[Names, ...] = _WORDS.months

# Indonesian day forms -> weekday (Monday 0): a written date's day ("Jum'at (10/11)").
DAY_NUMBERS: dict[str, int] = {name: d.number for d in DAYS for name in d.local}
# Every month form, abbreviations included -> month (January 1): a written date's month.
MONTH_NUMBERS: dict[str, int] = {name: m.number for m in MONTHS for name in m.every}

INDONESIAN_DAY_NAMES: tuple[str, ...] = tuple(name for d in DAYS for name in d.local)
INDONESIAN_MONTH_NAMES: tuple[str, ...] = tuple(name for m in MONTHS for name in m.local)

# The names that name a month where they stand alone in running text: not an abbreviation
# ("Jan" is also a name, "des" a syllable) nor a common word (English "may").
MONTH_WORDS: tuple[str, ...] = tuple(
    name
    for m in MONTHS
    for name in (*m.local, *([m.english] if m.english else []))
    if name not in m.common
)

# English day and month name -> Indonesian name, for English questions over Indonesian text;
# not a common word ("How may I ...?" is not about May).
ENGLISH_NAMES: dict[str, str] = {
    e.english: e.indonesian for e in (*DAYS, *MONTHS) if e.english and e.english not in e.common
}

# Other spelling -> the name ("jum'at" -> "jumat"); other names ("ahad") are other words.
SPELLINGS: dict[str, str] = {s: e.indonesian for e in (*DAYS, *MONTHS) for s in e.spellings}

# Short form -> the words it stands for ("pemkot" -> ("pemerintah", "kota")).
SHORT_FORMS: dict[str, tuple[str, ...]] = _WORDS.short_forms


# Web pages' chrome between a story's paragraphs (the HTML loader drops it): a pointer to
# another story ("Baca juga: <headline>") starts with one of these cues; an ad label is one
# of these lines (any case).
POINTER_CUES: tuple[str, ...] = _WORDS.pointer_cues
AD_LINES: frozenset[str] = frozenset(_WORDS.ad_lines)


def alternation(names: Iterable[str]) -> str:
    """A regex alternation of ``names``, longest first (so that a name is not cut short by one
    it starts with); an apostrophe matches both ' and ’ ("Jum’at")."""
    ordered = sorted(dict.fromkeys(names), key=len, reverse=True)
    return "|".join(re.escape(name).replace("'", "['’]") for name in ordered)
