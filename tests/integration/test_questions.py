"""Odd questions: each gets an answer or a one-line message, through the API and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_LIKE, fake_settings, make_kb

from kb.answer.gate import ABSTAIN_TEXT
from kb.cli import main
from kb.embedders.models import HashingEmbeddings, get_embedder
from kb.errors import KbError, QuestionError
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.text.question import normalize_question
from kb.types import Answer

OTHER = "Pasar Rakyat Direnovasi\nPemkab Sleman merenovasi pasar rakyat dengan dana 2 miliar.\n"
JAMBI = "Siapa Kepala BPSDM Provinsi Jambi?"

EMPTY = ["", "   ", "\n\t\r ", "\x00", "\x00\x01\x1b", "\u200b\u200c\ufeff", "\u202e\u2066", None]
ODD = [
    "ما هي الخدمات المتاحة في كيتشاماتان؟",  # Arabic
    "雅加达的公共服务创新是什么？",  # Chinese
    "🙂🏛️📄❓",  # emoji only
    "שלום עולם",  # Hebrew
    "'; DROP TABLE kb_chunks; --",
    '" OR 1=1 --',
    "<script>alert('x')</script><img src=x onerror=alert(1)>",
    "{question} {passages} %s %(x)s",
    "\x1b[31mmerah\x1b[0m",
    "???!!!...",
    "a\ud800b",  # a lone surrogate (cannot be encoded as UTF-8)
    "Ciputat\x00Jumat\x07malam",
]


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED_LIKE, encoding="utf-8")
    (folder / "pasar.txt").write_text(OTHER, encoding="utf-8")
    base = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    assert len(base.ingest([folder]).added) == 2
    return base


# --- cleaning ----------------------------------------------------------------------------------


def test_normalize_question() -> None:
    assert normalize_question("  Siapa\x00 Kepala\u200b BPSDM\u202e?\n", 2000) == (
        "Siapa Kepala BPSDM?"
    )
    assert normalize_question("ＣＩＰＵＴＡＴ\tbuka", 2000) == "CIPUTAT buka"
    assert normalize_question("a\ud800b", 2000) == "ab"
    assert normalize_question("satu dua tiga empat", 12) == "satu dua"  # cut at a space
    assert normalize_question("x" * 30, 12) == "x" * 12  # no space: a hard cut
    assert normalize_question("😀" * 3, 2000) == "😀😀😀"


@pytest.mark.parametrize("question", EMPTY)
def test_empty_questions_are_a_question_error(kb: KnowledgeBase, question: str) -> None:
    with pytest.raises(QuestionError, match=r"^the question is empty: type a question"):
        kb.ask(question)
    with pytest.raises(QuestionError):
        kb.retrieve(question)
    assert issubclass(QuestionError, KbError)


@pytest.mark.parametrize("question", ODD)
def test_odd_questions_get_an_answer(kb: KnowledgeBase, question: str) -> None:
    answer = kb.ask(question)
    hits = kb.retrieve(question, k=3)

    assert isinstance(answer, Answer) and answer.text
    answer.text.encode("utf-8")
    answer.question.encode("utf-8")
    assert len(hits) <= 3
    if answer.abstained:
        assert answer.text == ABSTAIN_TEXT[answer.language]
        assert not answer.citations
    else:
        assert answer.citations and "[1]" in answer.text
    assert kb.store.count_articles() == 2  # nothing a question says is executed


def test_invisible_characters_do_not_change_the_answer(kb: KnowledgeBase) -> None:
    clean = kb.ask(JAMBI)
    noisy = kb.ask("\u202eSiapa\x00 Kepala\u200b BPSDM\x1b Provinsi\tJambi?\ufeff")

    assert not clean.abstained and "Iskandar Nasuti" in clean.text
    assert noisy.question == "Siapa Kepala BPSDM Provinsi Jambi?"
    assert noisy.text == clean.text


def test_a_100k_character_question_is_cut_not_refused(kb: KnowledgeBase) -> None:
    question = "Kecamatan Ciputat membuka pelayanan Jumat malam " * 2100  # 100,800 characters
    answer = kb.ask(question)
    hits = kb.retrieve(question, k=2)

    assert len(question) > 100_000
    assert len(answer.question) <= 2000 and question.startswith(answer.question)
    assert not answer.question.endswith(" ")
    assert not answer.abstained and "Jumat malam" in answer.text
    assert hits and hits[0].title.startswith("Camat dari Jambi")


def test_the_question_limit_is_a_setting(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"KB_MAX_QUESTION_CHARS": "20"}, store=tmp_path / "s", embedding_model="fake"
    )
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED_LIKE, encoding="utf-8")
    kb = make_kb(settings=settings, embedder=HashingEmbeddings())
    kb.ingest([folder])

    assert kb.ask("Siapa Kepala BPSDM Provinsi Jambi?").question == "Siapa Kepala BPSDM"


# --- the command line --------------------------------------------------------------------------


def run_kb(*args: str) -> subprocess.CompletedProcess[str]:
    # the sentence rules answer (the reader has its own tests): the limit is what is tested
    env = {**os.environ, "KB_EMBEDDING_MODEL": "fake", "KB_READER": "none"}
    return subprocess.run(
        [sys.executable, "-m", "kb", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_empty_and_long_questions(kb: KnowledgeBase) -> None:
    store = str(kb.settings.store)
    for command in ("ask", "search"):
        done = run_kb(command, "  \t ", "--store", store)
        assert done.returncode == 2
        assert done.stderr == "error: the question is empty: type a question or some keywords\n"
        assert done.stdout == ""

    long = run_kb("ask", "Siapa Kepala BPSDM Provinsi Jambi? " * 3000, "--store", store, "--json")
    assert long.returncode == 0, long.stderr
    answer = json.loads(long.stdout)
    assert len(answer["question"]) <= 2000 and "Iskandar Nasuti" in answer["text"]


@pytest.mark.parametrize("question", ["\x00", "\u200b\u202e"])
def test_cli_invisible_question_is_one_line(
    kb: KnowledgeBase, question: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # A NUL cannot travel through argv, so these run in-process.
    for command in ("ask", "search"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, question, "--store", str(kb.settings.store)])
        assert exit_info.value.code == 2
        err = capsys.readouterr().err
        assert err == "error: the question is empty: type a question or some keywords\n"


@pytest.mark.parametrize("question", ODD[:5])
def test_cli_odd_questions_answer(
    kb: KnowledgeBase,
    question: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake")
    for command in ("ask", "search"):
        main([command, question, "--store", str(kb.settings.store), "--json"])
        out = capsys.readouterr()
        assert out.err == ""
        assert json.loads(out.out) is not None


# --- the real model ----------------------------------------------------------------------------


@pytest.mark.model
def test_odd_questions_with_the_default_model(tmp_path: Path) -> None:
    # A lone surrogate reached e5's tokenizer before questions were cleaned: a TypeError.
    e5 = get_embedder("e5-small")
    folder = tmp_path / "r"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED_LIKE, encoding="utf-8")
    kb = make_kb(settings=Settings(store=tmp_path / "s", load_samples=False), embedder=e5)
    kb.ingest([folder])

    for question in [ODD[0], ODD[1], ODD[2], "a\ud800b", "Jambi " * 20_000]:
        assert isinstance(kb.ask(question), Answer)
    clean = kb.ask(JAMBI)
    noisy = kb.ask("\x00" + JAMBI + "\u200b" * 5000)
    assert not clean.abstained
    assert (noisy.question, noisy.text) == (JAMBI, clean.text)
