"""Extractive answers: the sentence rules, and the chain with the default model on the sample
knowledge base (those tests are marked `model`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import fake_settings, make_kb

from kb import Answer, KnowledgeBase
from kb.answer.citations import answer_sentences
from kb.answer.gate import ABSTAIN_TEXT


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
