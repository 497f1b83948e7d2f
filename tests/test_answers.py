"""Extractive answers: the sentence rules, and the chain with the default model on the sample
knowledge base (those tests are marked `model`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import fake_settings, make_kb

from kb import Answer, KnowledgeBase
from kb.answer.citations import answer_sentences
from kb.answer.extractive import score_sentences
from kb.answer.gate import ABSTAIN_TEXT
from kb.text.language import detect_language
from kb.types import Hit


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    store = tmp_path_factory.mktemp("answers") / "store"
    base = make_kb(settings=fake_settings(store, embedding_model="e5-small"))
    assert base.load_samples().ok
    return base


def assert_grounded(kb: KnowledgeBase, answer: Answer) -> None:
    """Every sentence is verbatim in the passage it cites; citations are numbered 1..n."""
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for sentence in answer_sentences(answer.text):
        numbers = [int(n) for n in re.findall(r"\[(\d+)\]", sentence)]
        assert numbers, sentence
        bare = re.sub(r"\s*\[\d+\]", "", sentence).strip()
        for n in numbers:
            citation = answer.citations[n - 1]
            article = kb.article(citation.doc_id).text
            assert bare in article
            assert article[citation.start : citation.end] == citation.quote
    assert len(re.sub(r"\[\d+\]", "", answer.text).split()) <= 80


@pytest.mark.model
def test_answer_names_the_head_of_bpsdm_jambi(kb: KnowledgeBase) -> None:
    answer = kb.ask("Siapa Kepala BPSDM Provinsi Jambi?")
    assert not answer.abstained
    assert "Iskandar Nasuti" in answer.text
    assert answer.citations[0].doc_id == "sample-camat-jambi-belajar-tangsel"
    assert answer.citations[0].title.startswith("Tiga Puluh Camat Jambi")
    assert_grounded(kb, answer)


@pytest.mark.model
def test_english_question_gets_a_cited_indonesian_sentence(kb: KnowledgeBase) -> None:
    answer = kb.ask("How many complaints did the Sapa Kuningan app receive?")
    assert not answer.abstained and answer.language == "en"
    assert "3.846" in answer.text
    assert answer.citations[0].doc_id == "sample-aplikasi-sapa-kuningan"
    assert_grounded(kb, answer)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "expected"),
    [
        # Without the glossary's Indonesian words, the lead sentence of the article won.
        ("What share of complaints submitted through Sapa Kuningan has been resolved?",
         "91 persen"),
        ("How many lesson hours does the certificate from the BPSDM NTB village digital "
         "training cover?", "40 jam pelajaran"),
    ],
)  # fmt: skip
def test_english_questions_get_the_sentence_that_answers(
    kb: KnowledgeBase, question: str, expected: str
) -> None:
    answer = kb.ask(question)
    assert not answer.abstained and answer.language == "en"
    assert expected in answer.text
    assert_grounded(kb, answer)


def test_the_glossary_gives_indonesian_words_for_english_ones() -> None:
    from kb.text.glossary import indonesian_words

    assert indonesian_words("Who heads the agency?") == "siapa kepala memimpin badan dinas"
    # A phrase wins over its words; words it does not know are left out.
    assert indonesian_words("the regional secretary of the city hall") == (
        "sekda sekretaris daerah balai kota"
    )
    assert indonesian_words("Siapa kepala badan itu?") == ""


@pytest.mark.model
def test_follow_up_question_uses_the_conversation(kb: KnowledgeBase) -> None:
    history = [
        {
            "role": "user",
            "content": "Apa tujuan BPSDM Provinsi Jambi membawa para camat ke Tangsel?",
        },
        {"role": "assistant", "content": "Untuk mengamati praktik pelayanan di Tangsel. [1]"},
    ]
    answer = kb.ask("Siapa kepala badannya?", history=history)
    assert "BPSDM Provinsi Jambi" in answer.query
    assert "Iskandar Nasuti" in answer.text
    assert_grounded(kb, answer)
    alone = kb.ask("Siapa kepala badannya?")
    assert "Iskandar Nasuti" not in alone.text, "without the history the question is ambiguous"


@pytest.mark.model
def test_unanswerable_question_abstains_and_still_shows_passages(kb: KnowledgeBase) -> None:
    answer = kb.ask("Berapa harga tiket pesawat Jakarta ke Bali?")
    assert answer.abstained
    assert answer.text == ABSTAIN_TEXT["id"]
    assert answer.citations == ()
    assert answer.hits, "the closest passages come back with an abstention"


def test_language_detection() -> None:
    assert detect_language("Siapa kepala dinas yang membuka layanan malam?") == "id"
    assert detect_language("Who opened the evening service in the district?") == "en"


@pytest.mark.model
def test_filters_reach_the_answer(kb: KnowledgeBase) -> None:
    answer = kb.ask("Siapa Kepala BPSDM Provinsi Jambi?", filters={"region": "Balikpapan"})
    assert all(
        h.metadata.get("doc_id") != "sample-camat-jambi-belajar-tangsel" for h in answer.hits
    )


def test_empty_question_is_refused(tmp_path: Path) -> None:
    from kb.errors import KbError

    with pytest.raises(KbError):
        make_kb(settings=fake_settings(tmp_path / "s")).ask("  ")


@pytest.mark.model
def test_a_region_no_article_is_about_is_declined(kb: KnowledgeBase) -> None:
    asked_elsewhere = kb.ask("Apa nama aplikasi pengaduan warga milik Pemkab Cirebon?")
    assert asked_elsewhere.abstained, asked_elsewhere.text
    assert asked_elsewhere.hits[0].doc_id == "sample-aplikasi-sapa-kuningan"
    asked_here = kb.ask("Apa nama aplikasi pengaduan warga milik Pemkab Kuningan?")
    assert not asked_here.abstained and "Sapa Kuningan" in asked_here.text


def test_the_sentence_that_keeps_the_questions_word_order_answers() -> None:
    """Both sentences hold every word of the question; only one says "Kepala Diskominfo"."""
    division = Hit(
        "a", "a:0", "Aplikasi wisata Kuningan",
        "Kepala Bidang Aplikasi Diskominfo Kabupaten Kuningan, Rizal Fahmi, membuka acara.",
        0.9, 0, 81,
    )  # fmt: skip
    head = Hit(
        "b", "b:0", "Pengaduan warga Kuningan",
        "Kepala Diskominfo Kabupaten Kuningan, Asep Mulyana, meluncurkan aplikasi itu.",
        0.8, 0, 78,
    )  # fmt: skip
    best = score_sentences("Siapa Kepala Diskominfo Kabupaten Kuningan?", [division, head])[0]
    assert "Asep Mulyana" in best.text


def test_a_one_word_name_between_commas_answers_a_who_question() -> None:
    """Many Indonesians have one name: "Sekda Tangsel, Muhamad," names the person asked for,
    though the sentence before it holds more of the question's words."""
    text = (
        "Sekda Tangsel menyambut rombongan camat dari Jambi di kantornya pada Selasa (7/11). "
        "Menurut Sekda Tangsel, Muhamad, kunjungan itu berlangsung empat hari."
    )
    hit = Hit("a", "a:0", "Kunjungan kerja", text, 0.9, 0, len(text))
    best = score_sentences("Siapa Sekda Tangsel yang menyambut camat Jambi?", [hit])[0]
    assert "Muhamad" in best.text


def test_a_date_answers_a_when_question() -> None:
    """ "Kapan" asks for a date: the sentence with the month and year answers, though the
    opening sentence holds more of the question's words."""
    text = (
        "BPSDM Provinsi NTB menggelar diklat layanan digital bagi perangkat desa di Lombok Timur. "
        "Diklat berlangsung 12 sampai 15 Agustus 2024 di aula Kantor Bupati Lombok Timur."
    )
    hit = Hit("a", "a:0", "Diklat digital", text, 0.9, 0, len(text))
    best = score_sentences("Kapan diklat digital perangkat desa Lombok Timur dilaksanakan?", [hit])
    assert "Agustus 2024" in best[0].text, [(s.text, s.score) for s in best]


def test_a_kecamatan_of_the_article_answers_a_which_kecamatan_question() -> None:
    """ "Kecamatan mana" asks for a kecamatan: the sentence naming the ones the article is
    about (its regions, found at ingest) answers, though bare names ("Setu") are not
    capitalised runs and the opening sentence holds more of the question's words."""
    text = (
        "Rombongan camat asal Provinsi Jambi berkunjung ke Kota Tangsel selama empat hari. "
        "Mereka mendatangi Setu, Serpong Utara, dan Pamulang."
    )
    regions = ["Provinsi Jambi", "Kota Tangerang Selatan", "Kecamatan Setu", "Kecamatan Pamulang"]
    hit = Hit("a", "a:0", "Camat Jambi belajar", text, 0.9, 0, len(text), {"regions": regions})
    question = "Kecamatan mana di Kota Tangsel yang dikunjungi rombongan camat Jambi?"
    assert "Pamulang" in score_sentences(question, [hit])[0].text
    # A question that asks for no region leaves the opening sentence first.
    assert (
        "Pamulang"
        not in score_sentences(
            "Berapa hari rombongan camat Jambi berkunjung ke Kota Tangsel?", [hit]
        )[0].text
    )


@pytest.mark.parametrize(
    ("question", "other", "answer"),
    [
        (
            "Siapa Kepala BPSDM Provinsi Jambi?",
            "Pelatihan dibuka Sekretaris BPSDM Provinsi Jambi, Hendra Saputra, yang mewakili "
            "kepala badan.",
            "Kepala BPSDM Provinsi Jambi, Iskandar Nasuti, mengatakan para camat belajar.",
        ),
        (
            "Siapa kepala DPMPTSP Kota Balikpapan?",
            "Kepala Bidang Perizinan DPMPTSP Kota Balikpapan, Hendro Wicaksono, mengatakan "
            "gerai paspor buka pada hari kerja.",
            "Kepala DPMPTSP Kota Balikpapan, Rina Kartikasari, menjelaskan layanan Sabtu.",
        ),
    ],
)
def test_a_who_question_about_an_office_wants_the_name_that_holds_it(
    question: str, other: str, answer: str
) -> None:
    """The secretary or a division head named in the first passage does not answer a
    question about the head; the head named in the second passage does."""
    hits = [
        Hit("a", "a:0", "Berita lain", other, 0.9, 0, len(other)),
        Hit("b", "b:0", "Berita kepala", answer, 0.8, 0, len(answer)),
    ]
    assert score_sentences(question, hits)[0].text == answer
