"""The sentence rules (``KB_READER=none``) on hand-made passages: which sentence answers a who,
when, which-kecamatan or English question; the glossary and the language of a question."""

from __future__ import annotations

import pytest

from kb.answer.extractive import score_sentences
from kb.text.language import detect_language
from kb.types import Hit


def test_the_glossary_gives_indonesian_words_for_english_ones() -> None:
    from kb.text.glossary import indonesian_words

    assert indonesian_words("Who heads the agency?") == "siapa kepala memimpin badan dinas"
    # A phrase wins over its words; words it does not know are left out.
    assert indonesian_words("the regional secretary of the city hall") == (
        "sekda sekretaris daerah balai kota"
    )
    assert indonesian_words("Siapa kepala badan itu?") == ""


def test_language_detection() -> None:
    assert detect_language("Siapa kepala dinas yang membuka layanan malam?") == "id"
    assert detect_language("Who opened the evening service in the district?") == "en"


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
