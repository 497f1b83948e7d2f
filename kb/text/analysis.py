"""Indonesian text analysis: tokens, short forms written out, stop words, Sastrawi stems."""

from __future__ import annotations

import functools
import re
from typing import Any

# Short forms officials and reporters use, written out so that both forms match.
# Multi-word expansions are token sequences; a query "Tangsel" then matches "Tangerang Selatan".
NORMALIZE: dict[str, tuple[str, ...]] = {
    "kec": ("kecamatan",),
    "kab": ("kabupaten",),
    "kel": ("kelurahan",),
    "prov": ("provinsi",),
    "propinsi": ("provinsi",),
    "pemkot": ("pemerintah", "kota"),
    "pemkab": ("pemerintah", "kabupaten"),
    "pemprov": ("pemerintah", "provinsi"),
    "pemda": ("pemerintah", "daerah"),
    "walkot": ("wali", "kota"),
    "walikota": ("wali", "kota"),
    "sekda": ("sekretaris", "daerah"),
    "tangsel": ("tangerang", "selatan"),
    "jaksel": ("jakarta", "selatan"),
    "jakbar": ("jakarta", "barat"),
    "jaktim": ("jakarta", "timur"),
    "jakut": ("jakarta", "utara"),
    "jakpus": ("jakarta", "pusat"),
    "jabar": ("jawa", "barat"),
    "jateng": ("jawa", "tengah"),
    "jatim": ("jawa", "timur"),
    "sdm": ("sumber", "daya", "manusia"),
    "bpsdm": ("badan", "pengembangan", "sumber", "daya", "manusia"),
    "mpp": ("mal", "pelayanan", "publik"),
    "ktp": ("kartu", "tanda", "penduduk"),
    "kk": ("kartu", "keluarga"),
    "dukcapil": ("kependudukan", "pencatatan", "sipil"),
    "yg": ("yang",),
    "dgn": ("dengan",),
    "utk": ("untuk",),
    "tdk": ("tidak",),
    "jumat": ("jumat",),
    "jum'at": ("jumat",),
}


# Numbers stay whole ("3.846", "19.00", "2017"); other tokens are runs of letters/digits.
_TOKEN = re.compile(r"\d+(?:[.,:/]\d+)*|[^\W_]+(?:'[^\W_]+)?", re.UNICODE)


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
