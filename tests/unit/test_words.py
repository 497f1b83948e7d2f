"""One copy of each word list: the day and month names (``kb/text/words.json``) and the region
aliases (``kb/text/regions.json``) reach every use, so the uses cannot disagree again: the
date reader, answers to "kapan", the region matcher, the keyword index, the English glossary,
PDF headings. And the stored ``outlet_key``/``date_int`` are what the filters compare."""

from __future__ import annotations

import datetime as dt
import json
import re
from importlib.resources import files
from typing import Any

import pytest

from ingest.extract import extract_metadata
from ingest.layout import heading
from ingest.records import article_metadata
from kb.answer.extractive import score_sentences
from kb.retrieval.filters import Filter
from kb.text.analysis import analyze
from kb.text.gazetteer import KABKOTA_ALIASES, PROVINCE_ALIASES, is_common
from kb.text.glossary import indonesian_words
from kb.text.regions import find_regions
from kb.text.words import (
    DAYS,
    INDONESIAN_DAY_NAMES,
    INDONESIAN_MONTH_NAMES,
    MONTH_NUMBERS,
    MONTHS,
    SHORT_FORMS,
    SPELLINGS,
    read_words,
)
from kb.types import Article, Hit


def _raw(name: str) -> tuple[Any, list[str]]:
    """A data file parsed without the product's loader, and the keys repeated in an object."""
    repeated: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in items]
        repeated.extend(k for k in set(keys) if keys.count(k) > 1)
        return dict(items)

    text = (files("kb.text") / name).read_text(encoding="utf-8")
    return json.loads(text, object_pairs_hook=pairs), repeated


def _entry_names(entry: dict[str, Any]) -> list[str]:
    english = [entry["english"]] if "english" in entry else []
    kinds = ("spellings", "other_names", "abbreviations")
    return [entry["indonesian"], *english, *(n for k in kinds for n in entry.get(k, []))]


# --- the data files -------------------------------------------------------------------------


def test_words_json_lists_each_name_once() -> None:
    data, repeated = _raw("words.json")
    assert repeated == []
    names = [n.lower() for e in (*data["days"], *data["months"]) for n in _entry_names(e)]
    assert sorted(n for n in set(names) if names.count(n) > 1) == []
    assert sorted(d["number"] for d in data["days"]) == list(range(7))
    assert sorted(m["number"] for m in data["months"]) == list(range(1, 13))
    for entry in (*data["days"], *data["months"]):
        assert set(entry.get("common", [])) <= set(_entry_names(entry)), entry
        assert entry.get("english") != entry["indonesian"], entry  # listed once: as Indonesian


def test_regions_json_lists_each_alias_and_common_word_once() -> None:
    data, repeated = _raw("regions.json")
    assert repeated == []
    common = data["common_words"]
    assert sorted(w for w in set(common) if common.count(w) > 1) == []
    # Day and month names are common words through words.json, not a second copy here.
    assert set(common) & {*INDONESIAN_DAY_NAMES, *INDONESIAN_MONTH_NAMES} == set()
    triggers = [w for words in data["triggers"].values() for w in words]
    assert sorted(w for w in set(triggers) if triggers.count(w) > 1) == []


def test_the_reader_refuses_a_name_given_twice() -> None:
    text = (files("kb.text") / "words.json").read_text(encoding="utf-8")
    read_words(text)
    with pytest.raises(ValueError, match="senin"):
        read_words(text.replace('"abbreviations": ["jan"]', '"abbreviations": ["jan", "senin"]'))
    with pytest.raises(ValueError, match="kec"):
        read_words(text.replace('"kab": "kabupaten",', '"kec": "kabupaten",'))
    with pytest.raises(ValueError, match="common"):
        read_words(text.replace('"common": ["may"]', '"common": ["mai"]'))


def test_the_names_the_other_tests_rely_on_are_in_the_data() -> None:
    assert {"ahad", "jum'at"} <= set(INDONESIAN_DAY_NAMES)
    assert {"pebruari", "nopember"} <= set(INDONESIAN_MONTH_NAMES)
    assert {"agst": 8, "okt": 10, "des": 12, "may": 5, "sept": 9}.items() <= MONTH_NUMBERS.items()
    assert {"may"} == {n for m in MONTHS for n in m.common}


# --- the date reader takes every form ---------------------------------------------------------


def _capitalised(name: str) -> str:
    return name[0].upper() + name[1:]


@pytest.mark.parametrize(("name", "month"), sorted(MONTH_NUMBERS.items()))
def test_every_month_form_is_read_as_its_month(name: str, month: int) -> None:
    iso = f"2024-{month:02d}-05"
    written = _capitalised(name)
    assert extract_metadata("", f"Acara digelar 5 {written} 2024 di kantor.")["date"] == iso
    assert extract_metadata("", f"Acara digelar {written} 5, 2024 di kantor.")["date"] == iso
    if name in INDONESIAN_MONTH_NAMES:  # Indonesian names in any case, other forms capitalised
        assert extract_metadata("", f"Acara digelar 5 {name} 2024 di kantor.")["date"] == iso


def test_a_lowercase_english_month_is_no_date() -> None:
    assert extract_metadata("", "The office may close on 5 may 2024.")["date"] is None
    assert extract_metadata("", "The office may close on 5 May 2024.")["date"] == "2024-05-05"


@pytest.mark.parametrize(
    ("name", "weekday"),
    [(n, d.number) for d in DAYS for n in d.local] + [("jum’at", 4)],
)
def test_every_indonesian_day_form_checks_the_date(name: str, weekday: int) -> None:
    day = dt.date(2017, 11, 6 + weekday)  # 6 November 2017 is a Monday
    text = f"Rombongan datang {_capitalised(name)} ({day.day}/11) ke kantor."
    assert extract_metadata("", text, year=2017)["date"] == day.isoformat()
    # The day must fall on the date: a day later is another weekday, so no date.
    wrong = f"Rombongan datang {_capitalised(name)} ({day.day + 1}/11) ke kantor."
    assert extract_metadata("", wrong, year=2017)["date"] is None


def test_numbered_lines_that_start_with_a_month_are_dates_not_headings() -> None:
    assert heading("12 Penutup 2024") == (1, "12 Penutup 2024")
    for name in MONTH_NUMBERS:
        assert heading(f"12 {_capitalised(name)} 2024") == (0, ""), name


# --- answers to "kapan" -----------------------------------------------------------------------


def _when_bonus(word: str) -> float:
    """How much more "Kapan kantor itu buka?" scores a sentence for naming ``word``."""
    text = f"Kantor itu buka untuk warga. Kantor itu buka pada {word} untuk warga."
    hit = Hit("d", "d:0", "Layanan", text, 1.0, 0, len(text))
    scores = {s.text: s.score for s in score_sentences("Kapan kantor itu buka?", [hit])}
    return (
        scores[f"Kantor itu buka pada {word} untuk warga."] - scores["Kantor itu buka untuk warga."]
    )


ANSWER_DAYS_AND_MONTHS = [
    *INDONESIAN_DAY_NAMES,
    *INDONESIAN_MONTH_NAMES,
    *(m.english for m in MONTHS if m.english and m.english not in m.common),
]


@pytest.mark.parametrize("name", ANSWER_DAYS_AND_MONTHS)
def test_an_answer_to_kapan_knows_every_day_and_month(name: str) -> None:
    assert _when_bonus(name) == pytest.approx(0.3)
    assert _when_bonus(_capitalised(name)) == pytest.approx(0.3)


def test_english_may_is_no_month_in_an_answer() -> None:
    assert _when_bonus("may") == pytest.approx(0.0)
    assert _when_bonus("May") == pytest.approx(0.0)
    assert _when_bonus("Mei") == pytest.approx(0.3)


# --- the region matcher -----------------------------------------------------------------------


@pytest.mark.parametrize("name", [*INDONESIAN_DAY_NAMES, *INDONESIAN_MONTH_NAMES])
def test_day_and_month_names_are_common_words_and_may_follow_a_place(name: str) -> None:
    assert is_common((name,))
    found = find_regions(f"Acara itu digelar di Surabaya {_capitalised(name)} lalu.")
    assert "Kota Surabaya" in [r.name for r in found]


def test_a_place_followed_by_another_name_is_not_taken() -> None:
    # What the test above relies on: a capitalised word after a bare name blocks it.
    assert find_regions("Acara itu digelar di Surabaya Mawar lalu.") == []


def test_the_month_juli_is_not_the_kecamatan_juli() -> None:
    text = "Bupati Bireuen meresmikan layanan itu pada Juli lalu di Kecamatan Jeumpa."
    names = [r.name for r in find_regions(text)]
    assert "Kabupaten Bireuen" in names
    assert "Kecamatan Juli" not in names


# --- the keyword index ------------------------------------------------------------------------


def _bare(target: str) -> str:
    return re.sub(r"^(?:Kota|Kabupaten|Provinsi) ", "", target)


ONE_WORD_ALIASES = [
    (alias, target)
    for table in (PROVINCE_ALIASES, KABKOTA_ALIASES)
    for alias, target in table.items()
    if len(alias.split()) == 1
]


@pytest.mark.parametrize(("alias", "target"), ONE_WORD_ALIASES)
def test_every_one_word_region_alias_reaches_the_keyword_index(alias: str, target: str) -> None:
    # "Tangsel" finds "Tangerang Selatan"; "Jakarta" (a word of "DKI Jakarta") finds itself.
    # "Yogya" names DI Yogyakarta and Kota Yogyakarta: it stands for what both share.
    assert set(analyze(alias)) <= set(analyze(_bare(target)))
    if alias.lower() not in _bare(target).lower().split():
        others = [t for a, t in ONE_WORD_ALIASES if a == alias]
        shared = set.intersection(*(set(analyze(_bare(t))) for t in others))
        assert set(analyze(alias)) == shared
        assert analyze(alias) != [alias.lower()]


def test_region_short_forms_match_as_before() -> None:
    assert analyze("Tangsel") == analyze("Tangerang Selatan")
    assert analyze("jabar jateng jatim") == analyze("Jawa Barat Jawa Tengah Jawa Timur")
    assert analyze("Yogya") == analyze("Jogja") == analyze("DIY") == analyze("Yogyakarta")


def test_spellings_fold_into_the_name_but_other_names_do_not() -> None:
    for spelling, name in SPELLINGS.items():
        assert analyze(spelling) == analyze(name)
    assert analyze("Jum'at Pebruari Nopember") == analyze("Jumat Februari November")
    assert analyze("ahad") != analyze("minggu")  # "minggu" is also a week


def test_the_sources_of_the_written_out_forms_do_not_overlap() -> None:
    aliases = {a.lower() for a, _ in ONE_WORD_ALIASES}
    assert set(SHORT_FORMS) & aliases == set()
    assert set(SHORT_FORMS) & set(SPELLINGS) == set()
    assert aliases & set(SPELLINGS) == set()


# --- the English glossary ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "names", [e for e in (*DAYS, *MONTHS) if e.english], ids=lambda e: str(e.english)
)
def test_english_day_and_month_names_are_looked_up_in_indonesian(names: Any) -> None:
    words = indonesian_words(f"What opens on {names.english.capitalize()}?").split()
    if names.english in names.common:
        assert names.indonesian not in words
    else:
        assert names.indonesian in words


def test_english_may_stays_a_verb() -> None:
    assert "mei" not in indonesian_words("How may I get a family card?").split()
    assert "sabtu" in indonesian_words("Is it open on saturdays?").split()


# --- the stored encoding is the filters' ------------------------------------------------------


def test_stored_outlet_and_date_are_what_the_filters_compare() -> None:
    given = {"outlet": " Tangerang Ekspres ", "date": "7 November 2017"}
    article = Article("a", "Layanan malam", "Kantor buka malam.", "x", metadata=given)
    meta = article_metadata(article)
    assert (meta["outlet_key"], meta["date_int"]) == ("tangerang ekspres", 20171107)
    read = Filter.read(
        {"outlet": "TANGERANG Ekspres", "date_from": "2017-11-07", "date_to": "2017-11-07"}
    )
    assert read.matches(meta)
    assert not Filter.read({"outlet": "Tangerang", "date_from": "2017-11-08"}).matches(meta)
