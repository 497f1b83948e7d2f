"""Indonesian text analysis: tokens, short forms written out, stop words, Sastrawi stems."""

from __future__ import annotations

import functools
import re
from typing import Any

from kb.text.gazetteer import KABKOTA_ALIASES, PROVINCE_ALIASES
from kb.text.words import SHORT_FORMS, SPELLINGS

# Numbers stay whole ("3.846", "19.00", "2017"); other tokens are runs of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


# A region's level word, left out of what its short form stands for ("Tangsel" is written
# out as "Tangerang Selatan", as the news writes it, not "Kota Tangerang Selatan").
_LEVEL = re.compile(r"^(?:kota|kabupaten|provinsi) ")


def _region_short_forms() -> dict[str, tuple[str, ...]]:
    """The gazetteer's one-word aliases written out as their region's name ("jabar" ->
    ("jawa", "barat")); an alias that is a word of its name ("Jakarta" for DKI Jakarta) is
    already matched. An alias of several regions ("Yogya": DI Yogyakarta and Kota Yogyakarta)
    stands for the words their names share, so that the index prefers none of them."""
    meanings: dict[str, list[list[str]]] = {}
    for alias, target in [*PROVINCE_ALIASES.items(), *KABKOTA_ALIASES.items()]:
        words = _TOKEN.findall(alias.lower())
        name = _TOKEN.findall(_LEVEL.sub("", target.lower()))
        if len(words) == 1 and words[0] not in name:
            meanings.setdefault(words[0], []).append(name)
    out: dict[str, tuple[str, ...]] = {}
    for alias, names in meanings.items():
        shared = tuple(w for w in names[0] if all(w in other for other in names[1:]))
        if shared:
            out[alias] = shared
    return out


# Short forms officials and reporters use, written out so that both forms match, and other
# spellings of day and month names folded into the name ("jum'at" -> "jumat", "pebruari").
# Multi-word expansions are token sequences; a query "Tangsel" then matches "Tangerang Selatan".
NORMALIZE: dict[str, tuple[str, ...]] = {
    **SHORT_FORMS,
    **_region_short_forms(),
    **{spelling: (name,) for spelling, name in SPELLINGS.items()},
}


_EXTRA_STOPWORDS = {"dan", "yang", "di", "ke", "dari", "ini", "itu", "pada", "untuk", "dengan"}


@functools.lru_cache(maxsize=1)
def _stemmer() -> Any:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    return StemmerFactory().create_stemmer()


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    from Sastrawi.StopWordRemover.StopWordRemoverFactory import StopWordRemoverFactory

    words = set(StopWordRemoverFactory().get_stop_words()) | _EXTRA_STOPWORDS
    # Question words and numbers words carry meaning in a question about a fact; keep those
    # that name what is asked for out of the stop list only when they are content words.
    for keep in ("malam", "pagi", "siang", "sore", "hari", "baru", "lama", "kota"):
        words.discard(keep)
    return frozenset(words)


@functools.lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    if word[0].isdigit():
        return word
    return str(_stemmer().stem(word)) or word


def analyze(text: str) -> list[str]:
    """Indonesian analysis: lowercase, keep numbers, expand short forms, drop stopwords, stem."""
    out: list[str] = []
    stop = stopwords()
    for raw in _TOKEN.findall(text.lower()):
        for token in NORMALIZE.get(raw, (raw,)):
            if token in stop:
                continue
            out.append(stem(token))
    return out


_PLAIN = re.compile(r"\w+", re.UNICODE)


def plain_tokens(text: str) -> list[str]:
    """The plain BM25 baseline's analysis: lowercase ``\\w+`` tokens, nothing else."""
    return _PLAIN.findall(text.lower())
