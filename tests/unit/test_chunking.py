import itertools

from ingest.chunking import chunk_spans, make_chunks
from kb.text.sentences import split_sentences
from kb.types import Article


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


def test_sentences_keep_abbreviations_and_initials_together() -> None:
    text = "Camat Kec. Setu, H. Ahmad, menerima Rp. 5 juta. Warga senang! Apa kabar?\nBaris baru"
    assert sentences(text) == [
        "Camat Kec. Setu, H. Ahmad, menerima Rp. 5 juta.",
        "Warga senang!",
        "Apa kabar?",
        "Baris baru",
    ]


def test_sentence_ending_in_a_closing_quote() -> None:
    text = "“Kami buka malam,” ujarnya. “Mulai Jumat.” Layanan gratis."
    assert sentences(text) == ["“Kami buka malam,” ujarnya.", "“Mulai Jumat.”", "Layanan gratis."]


def test_chunks_cover_the_text_with_offsets_and_overlap() -> None:
    text = " ".join(f"Kalimat nomor {i} menjelaskan layanan kecamatan." for i in range(40))
    spans = chunk_spans(text, max_chars=300, overlap_chars=100)
    assert len(spans) > 3
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    for (a0, a1), (b0, _b1) in itertools.pairwise(spans):
        assert b0 < a1, "consecutive chunks overlap"
        assert b0 > a0, "every chunk moves forward"
        assert a1 - a0 <= 300
        assert text[b0 - 1] == " " and text[b0].isupper(), "chunks start at a sentence"


def test_a_sentence_longer_than_a_chunk_is_cut_at_spaces() -> None:
    text = "Panjang, " * 200 + "selesai."
    spans = chunk_spans(text, max_chars=120, overlap_chars=0)
    assert all(b - a <= 120 for a, b in spans)
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")


def test_chunk_ids_derive_from_doc_id_position_and_text() -> None:
    article = Article("doc-1", "Judul", "Satu dua tiga. Empat lima enam.", "x.txt")
    first = make_chunks(article)
    again = make_chunks(article)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in again]
    assert first[0].chunk_id.startswith("doc-1#0000-")
    changed = make_chunks(Article("doc-1", "Judul", "Satu dua tiga. Empat lima tujuh.", "x.txt"))
    assert changed[0].chunk_id != first[0].chunk_id
    for chunk in first:
        assert article.text[chunk.start : chunk.end] == chunk.text


def test_empty_text_gives_no_chunk() -> None:
    assert make_chunks(Article("d", "t", "   \n ", "x")) == []
