"""The trained reader (kb.reader) on passages written for these tests, and how it is scored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.answer.reader import Reader
from kb.cli import cli

# Written for these tests (no source): a kecamatan's evening service.
PASSAGE_ID = (
    "Kecamatan Sukamaju di Kabupaten Lebakwangi membuka layanan malam sejak Maret 2024. "
    "Camat Sukamaju, Rina Wulandari, mengatakan warga dapat mengurus KTP elektronik dan akta "
    "kelahiran pada pukul 19.00 sampai 21.00 setiap Selasa dan Kamis. Menurut dia, sebanyak "
    "340 warga sudah memakai layanan itu pada bulan pertama."
)
PASSAGE_EN = (
    "The Rivermouth district office started a mobile service van in January 2023. The van "
    "visits four villages every week so that elderly residents can renew their identity cards "
    "without travelling to the town. District head Samuel Hartono said the van was paid for "
    "by the regency's innovation fund."
)


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader()


# -- scoring (no model) ------------------------------------------------------------------------


# -- the shipped model -------------------------------------------------------------------------


@pytest.mark.model
def test_windows_cover_a_long_passage_with_exact_offsets(reader: Reader) -> None:
    passage = " ".join([PASSAGE_ID] * 12)
    windows = reader.windows("Siapa Camat Sukamaju?", passage)
    assert len(windows) > 1
    assert all(len(w.ids) <= 256 for w in windows)
    assert windows[0].offsets[0][0] == 0 and windows[-1].offsets[-1][1] == len(passage)
    for w in windows:
        for (a, b), token in zip(w.offsets, w.ids[w.context_start : -1], strict=True):
            assert 0 <= a < b <= len(passage)
            assert token not in (0, 1, 2)


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "passage", "answer"),
    [
        ("Siapa Camat Sukamaju?", PASSAGE_ID, "Rina Wulandari"),
        ("Berapa warga yang memakai layanan malam pada bulan pertama?", PASSAGE_ID, "340"),
        ("Who is the head of Rivermouth district?", PASSAGE_EN, "Samuel Hartono"),
        ("Who is the camat of Sukamaju?", PASSAGE_ID, "Rina Wulandari"),
    ],
)
def test_the_reader_points_at_the_answer(
    reader: Reader, question: str, passage: str, answer: str
) -> None:
    span = reader.read(question, passage)
    assert span.answerable, span
    assert answer in span.text and len(span.text) <= len(answer) + 12, span
    assert passage[span.start : span.end] == span.text


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("Berapa anggaran layanan malam Kecamatan Sukamaju?", PASSAGE_ID),
        ("Siapa Bupati Lebakwangi?", PASSAGE_ID),
        ("How much did the mobile service van cost?", PASSAGE_EN),
        ("Who drives the Rivermouth service van?", PASSAGE_EN),
    ],
)
def test_the_reader_declines_what_the_passage_does_not_say(
    reader: Reader, question: str, passage: str
) -> None:
    span = reader.read(question, passage)
    assert not span.answerable, span
    assert span.margin <= reader.threshold


@pytest.mark.model
def test_read_many_equals_read_one_by_one(reader: Reader) -> None:
    pairs = [("Siapa Camat Sukamaju?", PASSAGE_ID), ("Who is the district head?", PASSAGE_EN)]
    together = reader.read_many(pairs)
    alone = [reader.read(q, p) for q, p in pairs]
    assert [s.text for s in together] == [s.text for s in alone]
    for a, b in zip(together, alone, strict=True):
        assert a.margin == pytest.approx(b.margin, abs=1e-3)


@pytest.mark.model
def test_kb_eval_scores_the_reader_on_a_reading_set(tmp_path: Path) -> None:
    data = {
        "data": [
            {
                "context": PASSAGE_ID,
                "qas": [
                    {
                        "id": "a",
                        "question": "Berapa warga yang memakai layanan malam pada bulan pertama?",
                        "is_impossible": False,
                        "answers": [{"text": "340", "answer_start": PASSAGE_ID.index("340")}],
                    },
                    {
                        "id": "b",
                        "question": "Berapa anggaran layanan malam Kecamatan Sukamaju?",
                        "is_impossible": True,
                        "answers": [],
                    },
                ],
            }
        ]
    }
    path = tmp_path / "set.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    result = CliRunner().invoke(cli, ["eval", str(path), "--reader", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)["scores"]
    assert scores["questions"] == 2 and scores["answerable"] == 1
    # the answerable one answered (its span may hold a word more than "340"), the other declined
    assert scores["answerable_declined"] == 0.0 and scores["unanswerable_declined"] == 1.0
    assert scores["f1"] >= 0.8
