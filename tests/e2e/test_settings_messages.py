"""Settings, flags and messages: each is checked when read, and says what it allows.

Each test here failed before its fix (issue "The store agrees with the files", item 5 and 6).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import fake_settings, make_kb, run_kb

from kb import cli
from kb.embedders.models import HashingEmbeddings, get_embedder
from kb.errors import ConfigError, EmbedderMismatchError, KbError
from kb.knowledge_base import KnowledgeBase
from kb.ops.evaluate import evaluate_files
from kb.settings import Settings
from kb.store.client import make_client
from kb.store.store import Store


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("KB_FUSION", "foo", "KB_FUSION='foo' is not known: use 'score' or 'rrf'"),
        ("KB_CHUNK_OVERLAP_CHARS", "5000", "KB_CHUNK_OVERLAP_CHARS=5000 is too large"),
        ("KB_READER", "e5", "KB_READER='e5' is not known: use 'e5-reader' or 'none'"),
        ("KB_DENSE_WEIGHT", "2", "KB_DENSE_WEIGHT=2.0 is out of range: use 0 to 1"),
        ("KB_CANDIDATES", "0", "KB_CANDIDATES=0 is out of range"),
        ("KB_EMBEDDING_QUANTIZE", "int4", "KB_EMBEDDING_QUANTIZE='int4' is not known"),
        ("KB_UI_LANGUAGE", "fr", "KB_UI_LANGUAGE='fr' is not known: use 'id' or 'en'"),
    ],
)
def test_a_bad_setting_is_refused_naming_it(variable: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({variable: value})
    assert expected in str(error.value)


def test_the_defaults_and_the_allowed_values_pass() -> None:
    assert Settings.from_env({}) == Settings()
    Settings.from_env({"KB_FUSION": "rrf", "KB_READER": "none", "KB_CHUNK_OVERLAP_CHARS": "0"})


def test_an_unknown_embedding_model_is_named_not_sent_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="KB_EMBEDDING_MODEL='does-not-exist' is neither"):
        get_embedder("does-not-exist")
    env = {**os.environ, "KB_EMBEDDING_MODEL": "does-not-exist"}
    done = subprocess.run(
        [sys.executable, "-m", "kb", "status", "--store", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2 and "is neither a known embedder" in done.stderr
    assert "rebuild" not in done.stderr


def test_a_changed_quantisation_names_its_own_setting(tmp_path: Path) -> None:
    client = make_client(tmp_path)
    store = Store(client, "kb", "sentence-transformers:multilingual-e5-small-int8")
    store.set_embedder("sentence-transformers:multilingual-e5-small-int8")
    store.chunks.add(ids=["c"], documents=["t"], embeddings=[[1.0, 0.0]], metadatas=[{"a": 1}])
    with pytest.raises(EmbedderMismatchError, match="set KB_EMBEDDING_QUANTIZE back"):
        Store(client, "kb", "sentence-transformers:multilingual-e5-small")
    with pytest.raises(EmbedderMismatchError, match="set KB_EMBEDDING_MODEL back"):
        Store(client, "kb", "fake:hashing-256")


@pytest.fixture
def kb(tmp_path: Path) -> KnowledgeBase:
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    path = tmp_path / "kumpulan.jsonl"
    path.write_text(
        json.dumps(
            {
                "id": "a-1",
                "title": "Layanan malam Ciputat",
                "text": "Kecamatan Ciputat di Kota Tangerang Selatan membuka layanan Jumat malam.",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    kb.ingest([path])
    return kb


def test_cli_flags_are_checked(kb: KnowledgeBase) -> None:
    store = str(kb.settings.store)
    for k in ("0", "-3"):
        done = run_kb("search", "layanan", "-k", k, "--store", store)
        assert done.returncode == 2 and "Invalid value for '-k'" in done.stderr
    done = run_kb("ask", "Siapa camat?", "--llm", "foo:bar", "--store", store)
    assert done.returncode == 2 and "--llm='foo:bar'" in done.stderr
    assert "KB_LLM" not in done.stderr


def test_an_unknown_region_lists_close_matches(kb: KnowledgeBase) -> None:
    with pytest.raises(
        KbError, match=r"unknown region 'Ciputatt': close names: .*Kecamatan Ciputat"
    ):
        kb.retrieve("layanan malam", filters={"region": "Ciputatt"})
    assert kb.retrieve("layanan malam", filters={"region": "Tangsel"})


def test_ask_in_english_labels_its_sources_in_english(kb: KnowledgeBase) -> None:
    store = str(kb.settings.store)
    english = run_kb("ask", "Which district opens on Friday evening?", "--store", store)
    assert english.returncode == 0, english.stderr
    assert "Sumber:" not in english.stdout and "Bagian laporan" not in english.stdout
    assert "Sources:" in english.stdout or "closest passages" in english.stdout
    indonesian = run_kb("ask", "Kecamatan mana yang buka Jumat malam?", "--store", store)
    assert "Sumber:" in indonesian.stdout or "Bagian laporan" in indonesian.stdout


def test_cli_says_it_is_loading_the_model_on_a_terminal(
    kb: KnowledgeBase, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(kb.settings.store)
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake")
    monkeypatch.setattr(cli, "_on_terminal", lambda: True)
    cli.main(["search", "layanan malam", "--store", store])
    err = capsys.readouterr().err
    assert "loading the model" in err and "kb serve" in err
    cli.main(["search", "layanan malam", "--store", store, "--json"])
    out = capsys.readouterr()
    assert "loading" not in out.err and json.loads(out.out)
    # Not into a pipe (a script's log): the subprocess's stderr is one.
    piped = run_kb("search", "layanan malam", "--store", store)
    assert piped.returncode == 0 and "loading" not in piped.stderr


def test_python_m_ingest_help_names_itself() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "--help"], capture_output=True, text=True, timeout=120
    )
    assert "Usage: python -m ingest [OPTIONS] PATHS..." in done.stdout
    assert "ingest ingest" not in done.stdout


def test_eval_refuses_an_unknown_context_id(kb: KnowledgeBase, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "Kapan Ciputat buka?", "context_id": "a-1"})
        + "\n"
        + json.dumps({"id": "q2", "question": "Siapa camat?", "context_id": "tidak-ada"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(KbError, match=r"1 of 2 questions name a context_id .*q2 -> 'tidak-ada'"):
        evaluate_files(kb, questions)
