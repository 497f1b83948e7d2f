"""Feedback on answers: stored per answer in SQLite, rated from the app, exported by the CLI."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import fake_settings, make_kb

from kb.cli import cli
from kb.embedders.models import HashingEmbeddings
from kb.errors import ConfigError, StoreMissingError
from kb.knowledge_base import sample_path
from kb.ops.feedback import Feedback, FeedbackStore
from kb.ui import Handlers

CITATION = {"n": 1, "doc_id": "d1", "title": "Layanan Malam", "quote": "Buka Jumat malam."}


def test_one_row_per_answer_later_rating_and_comment_update_it(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    assert store.all() == [] and not store.path.exists()
    first = store.save(
        Feedback("a1", 1, "Kapan buka?", "Buka Jumat malam. [1]", citations=[CITATION],
                 filters={"region": "Tangsel"}, mode="extractive", embedder="fake", llm="")
    )  # fmt: skip
    assert store.path == tmp_path / "feedback.sqlite3"
    assert first.rating == 1 and first.citations == [CITATION]
    assert first.filters == {"region": "Tangsel"} and first.created_at
    # A comment alone keeps the rating; a new rating keeps the comment.
    store.save(Feedback("a1", 0, "Kapan buka?", "Buka Jumat malam. [1]", comment=" kurang "))
    later = store.save(Feedback("a1", -1, "Kapan buka?", "Buka Jumat malam. [1]"))
    assert (later.rating, later.comment, later.created_at) == (-1, "kurang", first.created_at)
    store.save(Feedback("a2", 1, "Siapa?", "Iskandar. [1]", abstained=False))
    assert [f.answer_id for f in store.all()] == ["a1", "a2"]
    with pytest.raises(ConfigError, match="rating"):
        store.save(Feedback("a3", 5, "q", "a"))
    with pytest.raises(ConfigError, match="id of the answer"):
        store.save(Feedback("", 1, "q", "a"))


def test_export_as_jsonl_and_csv(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path)
    store.save(Feedback("a1", 1, "Kapan buka?", "Buka. [1]", citations=[CITATION]))
    store.save(Feedback("a2", -1, '=HYPERLINK("http://x")', "Tidak tahu.", comment="@salah"))
    lines = [json.loads(line) for line in store.export("jsonl").splitlines()]
    assert [r["answer_id"] for r in lines] == ["a1", "a2"]
    assert lines[0]["citations"] == [CITATION] and lines[1]["question"].startswith("=HYPER")
    rows = list(csv.DictReader(io.StringIO(store.export("csv"))))
    assert json.loads(rows[0]["citations"]) == [CITATION] and rows[0]["rating"] == "1"
    # What a spreadsheet would run as a formula stays text.
    assert rows[1]["question"] == '\'=HYPERLINK("http://x")' and rows[1]["comment"] == "'@salah"
    assert rows[1]["rating"] == "-1"
    with pytest.raises(ConfigError, match="jsonl or csv"):
        store.export("xml")


def test_cli_exports_to_stdout_or_a_file(tmp_path: Path) -> None:
    FeedbackStore(tmp_path).save(Feedback("a1", 1, "Siapa Kepala BPSDM?", "Iskandar. [1]"))
    runner = CliRunner()
    done = runner.invoke(cli, ["feedback", "export", "--store", str(tmp_path)])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["question"] == "Siapa Kepala BPSDM?"
    out = tmp_path / "umpan-balik.csv"
    args = ["feedback", "export", "--format", "csv", "-o", str(out), "--store", str(tmp_path)]
    done = runner.invoke(cli, args)
    assert done.exit_code == 0, done.output
    assert next(csv.DictReader(out.open(encoding="utf-8")))["answer"] == "Iskandar. [1]"
    # A mistyped store is an error, not an empty export (and nothing is created there).
    missing = runner.invoke(cli, ["feedback", "export", "--store", str(tmp_path / "none")])
    assert isinstance(missing.exception, StoreMissingError) and missing.output == ""
    assert not (tmp_path / "none").exists()


def test_app_stores_feedback_with_the_answer_and_its_settings(tmp_path: Path) -> None:
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    kb.ingest([sample_path()])
    h = Handlers(kb)
    assert h.rate(1, "", [], "en") == "There is no answer to rate yet."
    question = "Siapa Kepala BPSDM Provinsi Jambi?"
    shown, *_, records, answer = list(h.ask(question, [], region="Jambi"))[-1]
    follow_up = "Kecamatan mana yang buka Jumat malam?"
    *_, records, _ = list(h.ask(follow_up, shown, answers=records))[-1]
    assert [r["index"] for r in records] == [1, 3]
    assert h.rate(1, "jelas", records) == "Terima kasih, umpan balik disimpan."
    # The chat's own thumbs rate the message they are on: here the first answer (index 1).
    assert h.like(False, 1, "", records, "en") == "Thank you, your feedback was saved."
    rows = {f.question: f for f in FeedbackStore(kb.settings.store).all()}
    first = rows[question]
    assert answer is not None
    assert first.rating == -1 and first.comment == ""
    assert first.answer == answer.text and first.filters == {"region": "Jambi"}
    assert [c["doc_id"] for c in first.citations] == [c.doc_id for c in answer.citations]
    # Its citations and the passages it was given, as the answer's record has them.
    record = answer.to_record()
    assert first.citations == record["citations"] and first.hits == record["hits"]
    assert first.hits and "metadata" not in first.hits[0]
    assert first.embedder == kb.embedder_name and first.mode == "extractive"
    latest = rows[follow_up]
    assert latest.rating == 1 and latest.comment == "jelas"


# The file as the first version wrote it: no column for the passages.
OLD_SCHEMA = """
CREATE TABLE feedback (
    answer_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    rating INTEGER NOT NULL, comment TEXT NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL, abstained INTEGER NOT NULL, citations TEXT NOT NULL,
    filters TEXT NOT NULL, mode TEXT NOT NULL, embedder TEXT NOT NULL, llm TEXT NOT NULL
)
"""


def test_a_file_written_before_the_passages_were_kept_loads_and_takes_new_rows(
    tmp_path: Path,
) -> None:
    with closing(sqlite3.connect(tmp_path / "feedback.sqlite3")) as db, db:
        db.execute(OLD_SCHEMA)
        db.execute(
            "INSERT INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ("a1", "2024-05-01T10:00:00+00:00", "2024-05-01T10:00:00+00:00", -1, "salah",
             "Kapan buka?", "Buka Jumat malam. [1]", 0, json.dumps([CITATION]),
             json.dumps({"region": "Tangsel"}), "extractive", "fake", ""),
        )  # fmt: skip
    store = FeedbackStore(tmp_path)
    (old,) = store.all()
    assert (old.answer_id, old.rating, old.comment) == ("a1", -1, "salah")
    assert old.citations == [CITATION] and old.filters == {"region": "Tangsel"}
    assert old.hits == []
    hit = {"doc_id": "d1", "chunk_id": "d1#0", "title": "Layanan Malam", "text": "Buka."}
    store.save(Feedback("a2", 1, "Siapa?", "Iskandar. [1]", hits=[hit]))
    store.save(Feedback("a1", 1, "Kapan buka?", "Buka Jumat malam. [1]"))
    rows = {f.answer_id: f for f in store.all()}
    assert rows["a2"].hits == [hit] and (rows["a1"].rating, rows["a1"].hits) == (1, [])
    assert json.loads(store.export("jsonl").splitlines()[1])["hits"] == [hit]
    assert next(csv.DictReader(io.StringIO(store.export("csv"))))["hits"] == "[]"
