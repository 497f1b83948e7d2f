"""Extractive answers without a reader: the retrieved passages' sentences scored against the
question (its words, their order, the kind of answer it asks for, embedding similarity), the
best ones cited; and the reader's span shown inside its sentence (``compose_span``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass, field, replace

from kb.answer.citations import normalize_span
from kb.answer.reader import Span
from kb.text.analysis import analyze
from kb.text.glossary import indonesian_words
from kb.text.language import WORD, detect_language
from kb.text.sentences import split_sentences
from kb.text.words import INDONESIAN_DAY_NAMES, MONTH_WORDS, alternation
from kb.types import Hit

W_LEXICAL, W_RANK, W_DENSE, ANSWER_TYPE_BONUS = 0.2, 0.1, 1.0, 0.3
# Pairs of the question's words that stand side by side in the sentence too: "Kepala
# Diskominfo" in "Kepala Diskominfo Kuningan, Asep Mulyana," but not in "Kepala Bidang
# Aplikasi Diskominfo Kuningan, Rizal Fahmi,".
W_PAIRS = 0.2
# Sentences re-scored by embedding similarity, of those the word scores put first. Each one
# is embedded per question (about 12 ms here), so few; a question that shares few words with
# the articles (English over Indonesian) gets more, since the word scores say little there.
# On facqa-dev valid 4 found the gold answer as often as 16 (83.6%) at 58% of the time.
RERANK, RERANK_CROSSLINGUAL = 4, 8
# Words of the span's sentence shown on each side of the reader's span.
SPAN_CONTEXT_WORDS = 8
# Sentences that lean on the one before them: "Seperti, ...", "Hal itu ...", "Ia ...".
_BACKREF = re.compile(
    r"^[“\"]?(seperti|hal (itu|ini|tersebut)|ia|dia|mereka|beliau|tersebut|itu|selain itu|"
    r"namun|tetapi|sementara itu|karena itu|oleh karena itu)\b",
    re.IGNORECASE,
)
_WHO = re.compile(r"\b(siapa|who)\b", re.IGNORECASE)
_HOW_MANY = re.compile(r"\b(berapa|how (many|much)|jumlah)\b", re.IGNORECASE)
_WHEN = re.compile(r"\b(kapan|when|hari apa|tanggal|pukul|jam|what time|which day)\b", re.I)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+(?:\s+[A-Z][a-z]+)+")
# A one-word name set off by commas after an office: "Sekda Tangsel, Muhamad, menyambut ...".
_SINGLE_NAME = re.compile(r",\s+([A-Z][a-z]+),")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_DAY = re.compile(rf"\b({alternation(INDONESIAN_DAY_NAMES)}|pukul|\d{{1,2}}[./:]\d{{2}})\b", re.I)
# What answers "kapan"/"when": a day or time as above, a month (not English "may", which is
# mostly a verb), a year, a day/month date.
_WHEN_ANSWER = re.compile(
    rf"{_DAY.pattern}|\b({alternation(MONTH_WORDS)}|(?:19|20)\d{{2}}|\d{{1,2}}/\d{{1,2}})\b", re.I
)
# "Kecamatan mana ...?", "Which district ...?": a region is asked for; the word tells the
# level (see _PLACE_LEVELS; "daerah"/"wilayah": any). Not "di mana"/"where": those ask for
# a venue ("Balai Kota") more often than for a region.
_WHICH_PLACE = re.compile(
    r"\b(?:(kecamatan|kec|kabupaten|kab|kota|provinsi|daerah|wilayah)\.?\s+(?:mana|apa)"
    r"|which\s+(kecamatan|sub-?districts?|districts?|cit(?:y|ies)|regenc(?:y|ies)|provinces?))\b",
    re.IGNORECASE,
)
_PLACE_LEVELS = {
    "kec": ("Kecamatan ",), "sub": ("Kecamatan ",), "dis": ("Kecamatan ",),
    "kab": ("Kabupaten ",), "reg": ("Kabupaten ",), "kot": ("Kota ",), "cit": ("Kota ",),
    "pro": ("Provinsi ",),
}  # fmt: skip
_ANY_LEVEL = ("Kecamatan ", "Kabupaten ", "Kota ", "Provinsi ")


def _asked_places(question: str, hits: Sequence[Hit]) -> dict[int, list[str]]:
    """For a question that asks for a place, the bare names (``Ciputat``) of the regions at
    the asked level that each hit's article is about (recorded at ingest) and the question
    does not name; empty for other questions."""
    match = _WHICH_PLACE.search(question)
    if not match:
        return {}
    word = (match.group(1) or match.group(2) or "").lower()
    prefixes = _PLACE_LEVELS.get(word[:3], _ANY_LEVEL)
    lowered = question.lower()
    out: dict[int, list[str]] = {}
    for i, hit in enumerate(hits):
        names = [
            name.removeprefix(prefix)
            for name in hit.metadata.get("regions") or []
            for prefix in prefixes
            if name.startswith(prefix)
        ]
        out[i] = [n for n in names if n.lower() not in lowered]
    return out


@dataclass(frozen=True)
class Sentence:
    """A sentence of a retrieved passage, with offsets in its article."""

    hit_index: int
    text: str
    start: int
    end: int
    score: float = 0.0
    tokens: frozenset[str] = field(default_factory=frozenset)
    pairs: frozenset[tuple[str, str]] = field(default_factory=frozenset)


def passage_sentences(hits: Sequence[Hit]) -> list[Sentence]:
    out: list[Sentence] = []
    for i, hit in enumerate(hits):
        for a, b in split_sentences(hit.text):
            piece = hit.text[a:b]
            words = analyze(piece)
            out.append(
                Sentence(i, piece, hit.start + a, hit.start + b, tokens=frozenset(words),
                         pairs=frozenset(itertools.pairwise(words)))
            )  # fmt: skip
    return out


@dataclass(frozen=True)
class _Asked:
    """What a question asks for, read once per scoring: a name for "siapa"/"who" (of whoever
    holds the office it names, if any), a number for "berapa", a day, time or date for
    "kapan", a region of the hit's article for "kecamatan mana" (``places``, per hit)."""

    lowered: str
    words: frozenset[str]
    who: bool
    offices: frozenset[str]
    kinds: tuple[re.Pattern[str], ...]
    places: dict[int, list[str]]

    @classmethod
    def read(cls, question: str, hits: Sequence[Hit]) -> _Asked:
        lowered = question.lower()
        words = frozenset(WORD.findall(lowered))
        cued = ((_HOW_MANY, _NUMBER), (_WHEN, _WHEN_ANSWER))
        return cls(
            lowered=lowered,
            words=words,
            who=bool(_WHO.search(question)),
            offices=words & _OFFICES,
            kinds=tuple(kind for cue, kind in cued if cue.search(question)),
            places=_asked_places(question, hits),
        )

    def found_in(self, sentence: str, hit_index: int) -> float:
        """1 when the sentence holds something of the kind asked for that the question
        does not already say, else 0."""
        if self.who:
            names = [(m.group(), m.start()) for m in _NAME.finditer(sentence)]
            names += [(m.group(1), m.start(1)) for m in _SINGLE_NAME.finditer(sentence)]
            if any(
                _new_name(name, self.words)
                and _office_fits(sentence[:at], name, self.offices, self.words)
                for name, at in names
            ):
                return 1.0
        for kind in self.kinds:
            if any(m.group().lower() not in self.lowered for m in kind.finditer(sentence)):
                return 1.0
        places = self.places.get(hit_index, ())
        return float(any(re.search(rf"\b{re.escape(p)}\b", sentence) for p in places))


# Words of offices and places that a capitalised run holds without naming anyone.
_GENERIC = frozenset(
    "kecamatan kota kabupaten provinsi desa kelurahan kalurahan dinas badan kantor balai "
    "camat bupati wali gubernur lurah kepala sekretaris sekda daerah pemerintah pemkab pemkot "
    "bagian bidang".split()
)


# Words of the offices people hold, and of the units below an office ("Kepala *Bidang*").
_OFFICES = frozenset(
    "kepala camat lurah bupati wali walikota gubernur sekretaris sekda ketua direktur "
    "menteri presiden kadis kabid kasi asisten".split()
)
_SUB_UNITS = frozenset("bidang seksi bagian subbagian subbidang sub urusan".split())


def _office_fits(before: str, name: str, offices: Set[str], asked_words: Set[str]) -> bool:
    """Whether ``name`` (a capitalised run), after the text ``before``, can hold the office
    the question asks about: the last office word before the name's own words is one the
    question names, and not a deputy's ("Wakil Kepala") nor a unit head's ("Kepala Bidang")
    unless the question says so. "Siapa Kepala BPSDM Jambi?" is not answered by "Sekretaris
    BPSDM Jambi, Hendra Saputra"; "Perdana Menteri Palestina Ahmed Qorei" (the office inside
    the run) answers "Siapa Perdana Menteri Palestina?". A name with no office word before
    it ("Yudi Permana, camat Tanah Sareal") fits."""
    if not offices:
        return True
    words = WORD.findall(before.lower()) + WORD.findall(name.lower())
    # The name's own words are those after the last office word of the run.
    held = [i for i, w in enumerate(words) if w in _OFFICES]
    if not held:
        return True
    i = held[-1]
    if i == len(words) - 1 or words[i] not in offices:
        return False
    deputy = i > 0 and words[i - 1] == "wakil" and "wakil" not in asked_words
    unit = words[i + 1] in _SUB_UNITS - asked_words
    return not (deputy or unit)


def _new_name(name: str, asked_words: Set[str]) -> bool:
    """Whether a capitalised run names someone the question does not: a word that is neither
    in the question nor generic (an office, a place word, a day) follows the last word that
    is in the question, or stands anywhere when none is ("Yudi Permana", "Muhamad").
    "Provinsi Jambi Iskandar Nasuti" answers "Siapa Kepala BPSDM Provinsi Jambi?";
    "Kecamatan Tanah Sareal" does not answer "Siapa camat Tanah Sareal?", nor "Selasa" anything.
    """
    words = WORD.findall(name.lower())
    asked = [i for i, w in enumerate(words) if w in asked_words]
    after = words[asked[-1] + 1 :] if asked else words
    return any(w not in _GENERIC and w not in asked_words and not _DAY.fullmatch(w) for w in after)


def _idf(sentences: Sequence[Sentence]) -> dict[str, float]:
    df: dict[str, int] = {}
    for s in sentences:
        for t in s.tokens:
            df[t] = df.get(t, 0) + 1
    n = max(len(sentences), 1)
    return {t: math.log(1 + n / d) for t, d in df.items()}


def score_sentences(
    question: str,
    hits: Sequence[Hit],
    similarity: Callable[[list[str]], Sequence[float]] | None = None,
    rerank: int = RERANK,
) -> list[Sentence]:
    """Every sentence of the hits scored for the question, best first.

    The score mixes the passage's rank, the idf-weighted share of the question's words the
    sentence holds, the share of the question's word pairs it holds side by side, and a bonus
    when the sentence holds what the question asks for (a name for "siapa", a number for
    "berapa", a kecamatan of its article for "kecamatan mana"); with ``similarity`` (texts ->
    similarity to the question), the best ``rerank`` sentences also get their embedding
    similarity.
    """
    sentences = passage_sentences(hits)
    if not sentences:
        return []
    q_list = analyze(question)
    q_pairs = set(itertools.pairwise(q_list))
    idf = _idf(sentences)
    # The question's words that no sentence holds tell no sentence from another; counted,
    # they only shrink the word share beside the passage's rank (an English question's own
    # words would outweigh the Indonesian ones the glossary adds for it).
    q_tokens = set(q_list) & idf.keys()

    def weight(tokens: set[str]) -> float:
        return sum(idf[t] for t in tokens)

    q_weight = weight(q_tokens) or 1.0
    # The question's words that are not in an article's title point at the sentence that
    # answers, not at the article: "Berapa *proposal* yang *masuk* ke Lomba Inovasi Klaten?"
    focus = {i: q_tokens - set(analyze(h.title)) for i, h in enumerate(hits)}
    asked = _Asked.read(question, hits)
    scored: list[Sentence] = []
    for s in sentences:
        lexical = weight(q_tokens & s.tokens) / q_weight
        wanted = focus[s.hit_index]
        focused = weight(wanted & s.tokens) / weight(wanted) if wanted else lexical
        lexical = (lexical + focused) / 2
        rank = 1.0 / (1 + s.hit_index)
        bonus = ANSWER_TYPE_BONUS * asked.found_in(s.text, s.hit_index)
        value = W_LEXICAL * lexical + W_RANK * rank + bonus
        if q_pairs:
            value += W_PAIRS * len(q_pairs & s.pairs) / len(q_pairs)
        scored.append(replace(s, score=value))
    scored.sort(key=lambda s: -s.score)
    if similarity is not None and rerank > 0:
        head = scored[:rerank]
        sims = similarity([s.text for s in head])
        head = [
            replace(s, score=s.score + W_DENSE * float(sim))
            for s, sim in zip(head, sims, strict=True)
        ]
        scored = sorted(head, key=lambda s: -s.score) + scored[rerank:]
    return scored


def compose_extractive(
    question: str,
    hits: Sequence[Hit],
    similarity: Callable[[list[str]], Sequence[float]] | None = None,
    max_words: int = 80,
    rerank: int = RERANK,
) -> tuple[str, list[int]]:
    """The answer text (verbatim sentences, each followed by ``[n]``) and the cited hit indexes.

    The best sentence answers; a sentence that leans on the one before it ("Seperti, ...")
    brings that one along; a second sentence is added only when it scores nearly as well and
    adds words of the question the first did not have.
    """
    if detect_language(question) == "en":
        # The Indonesian words of its English ones, for the word scores (see kb.glossary).
        question = f"{question} {indonesian_words(question)}"
    ranked = score_sentences(question, hits, similarity, rerank)
    if not ranked:
        return "", []
    best = ranked[0]
    chosen = [best]
    everything = passage_sentences(hits)
    if _BACKREF.match(best.text):
        before = [s for s in everything if s.hit_index == best.hit_index and s.end <= best.start]
        if before:
            chosen.insert(0, before[-1])
    q_tokens = set(analyze(question))
    covered = set().union(*(s.tokens for s in chosen)) & q_tokens
    for s in ranked[1:4]:
        if s.score < 0.85 * best.score or any(s.start == c.start for c in chosen):
            continue
        if (s.tokens & q_tokens) - covered:
            chosen.append(s)
            covered |= s.tokens & q_tokens
            break
    parts: list[str] = []
    cited: list[int] = []
    words = 0
    for s in sorted(chosen, key=lambda s: (s.hit_index, s.start)):
        length = len(s.text.split())
        if parts and words + length > max_words:
            break
        words += length
        parts.append(f"{s.text} [{s.hit_index + 1}]")
        cited.append(s.hit_index)
    return " ".join(parts), cited


def compose_span(hits: Sequence[Hit], spans: Sequence[Span]) -> tuple[str, str]:
    """The reader's answer: the best span in bold inside its sentence (at most
    ``SPAN_CONTEXT_WORDS`` words of it on each side, "…" where cut), cited to every read
    passage whose answering span says the same; and the span alone.

    ``hits`` and ``spans`` are in the reader's order (``Reader.rank``); the span with the
    largest margin answers.
    """
    top = max(range(len(spans)), key=lambda i: spans[i].margin)
    best, hit = spans[top], hits[top]
    start, end = best.start, best.end
    for a, b in split_sentences(hit.text):
        if a <= best.start < b:
            start = a
        if a < best.end <= b:
            end = b
    before, after = hit.text[start : best.start], hit.text[best.end : end]
    # A long sentence is shown around the span (the source card quotes it whole).
    starts = [m.start() for m in re.finditer(r"\S+", before)]
    if len(starts) > SPAN_CONTEXT_WORDS:
        before = "…" + before[starts[-SPAN_CONTEXT_WORDS] :]
    ends = [m.end() for m in re.finditer(r"\S+", after)]
    if len(ends) > SPAN_CONTEXT_WORDS:
        after = after[: ends[SPAN_CONTEXT_WORDS - 1]] + "…"
    sentence = f"{before}**{best.text}**{after}".strip()
    same = normalize_span(best.text)
    cited = [i for i, s in enumerate(spans) if s.answerable and normalize_span(s.text) == same]
    markers = " ".join(f"[{i + 1}]" for i in dict.fromkeys([top, *cited]))
    return f"{sentence} {markers}", best.text
