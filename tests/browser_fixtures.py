"""The app served for real on loopback, and a headless Chromium to look at it.

Loaded by the browser and load tests with ``pytest_plugins = ["browser_fixtures"]`` so that
one served app (session scope) is shared by both modules instead of one per module.

The app runs in a subprocess (``python -m kb serve``) on a free port over a throw-away store
holding the sample articles and one hostile article (HTML and script in its text), ingested
before the server starts with the default embedder, in extractive mode (``KB_LLM`` empty).

PYTEST_DONT_REWRITE: imported by the test modules before pytest registers it as a plugin.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import stop_process

from kb.knowledge_base import sample_path

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-quic",
    "--no-first-run",
    "--disable-sync",
]
START_TIMEOUT_S = 300  # loading the model and ingesting on a busy 2-core CI machine

# The hostile article: its title and body hold markup that must show as text, never run.
XSS_TITLE = "Laporan Uji <script>window.__xss = 1; alert('judul')</script> Kelurahan Zamrud"
XSS_BODY = (
    "Kelurahan Zamrud membuka loket <img src=x onerror=\"window.__xss = 2; alert('isi')\"> "
    "pengaduan warga setiap Rabu pagi. <script>window.__xss = 3; alert('isi')</script> "
    "Lurah Zamrud, Ratna Kemuning, mengatakan loket pengaduan itu melayani 40 warga sehari."
)
XSS_QUESTION = "Kapan Kelurahan Zamrud membuka loket pengaduan warga?"

# Lines the load test reports, printed in the terminal summary whatever ``-s`` says.
SUMMARY: list[str] = []


@dataclass(frozen=True)
class ServedApp:
    """The app serving on loopback: where it listens and the store behind it."""

    url: str
    store: Path
    log: Path


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_env(store: Path, port: int) -> dict[str, str]:
    """The environment of the served app: extractive, offline, this store and port."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KB_", "GRADIO_"))}
    env.update(
        KB_STORE=str(store),
        KB_LLM="",
        KB_LOAD_SAMPLES="false",
        KB_HOST="127.0.0.1",
        KB_PORT=str(port),
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        ANONYMIZED_TELEMETRY="False",
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the page until it answers 200; fail with the server's log if it dies or stalls."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the app exited at start (code {proc.returncode}):\n{tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    pytest.fail(f"the app did not answer within {START_TIMEOUT_S} s:\n{tail(log)}")


def tail(log: Path, lines: int = 40) -> str:
    """The end of a log file, for failure messages."""
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text("utf-8", errors="replace").splitlines()[-lines:])


def ingest(store: Path, paths: list[Path], log: Path) -> None:
    """Ingest into the store with the CLI (another process: the server opens it afterwards)."""
    env = app_env(store, 0)
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, "-m", "kb", "ingest", *map(str, paths), "--store", str(store)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=START_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        pytest.fail(f"ingesting the test articles failed:\n{tail(log)}")


@pytest.fixture(scope="session")
def served_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApp]:
    """The app served by ``kb serve`` on a free loopback port over the samples + a hostile
    article; stopped at the end of the session."""
    home = tmp_path_factory.mktemp("served")
    store, log = home / "store", home / "app.log"
    hostile = home / "laporan-uji-zamrud.jsonl"
    row = {
        "id": "uji-xss-zamrud",
        "title": XSS_TITLE,
        "text": XSS_BODY,
        "outlet": "Uji <b>Tebal</b>",
    }
    hostile.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    ingest(store, [sample_path(), hostile], log)

    port = free_port()
    out = log.open("ab")
    command = [sys.executable, "-m", "kb", "serve", "--store", str(store)]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=app_env(store, port),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(url, proc, log)
        yield ServedApp(url=url, store=store, log=log)
    finally:
        stop_process(proc, 20)
        out.close()


def chromium_or_skip() -> str:
    """The Chromium executable; skip without it, except in CI where that is a failure."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    problem = None
    if not found:
        problem = "Debian 'chromium' is not installed (apt-get install -y chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "Python 'playwright' is not installed (pip install -e '.[test]')"
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser tests cannot run in CI: {problem}")
        pytest.skip(problem)
    assert found is not None
    return found


@dataclass
class Browser:
    """A browser context and every URL its pages requested this session."""

    context: Any
    requests: list[str]


# Module scope: Playwright's sync API keeps an event loop running in the main thread while it
# is open, and async tests after it (pytest-asyncio: langchain-tests' ainvoke/aembed tests)
# could not start theirs. Only tests/e2e/test_browser.py uses it.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium driven by Playwright, with a fresh profile for the session.

    Every request any page makes is recorded (``Browser.requests``) for the offline check.
    """
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    with tempfile.TemporaryDirectory(prefix="kb-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
            locale="id-ID",
        )
        context.on("request", lambda request: requests.append(request.url))
        try:
            yield Browser(context=context, requests=requests)
        finally:
            context.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Print what the load test measured, also when output capture is on."""
    if SUMMARY:
        terminalreporter.write_sep("-", "load test")
        for line in SUMMARY:
            terminalreporter.write_line(line)
