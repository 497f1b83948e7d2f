"""Secrets stay out of kb.log and error messages; upload names cannot leave the uploads folder."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import SEED_LIKE, fake_settings, make_kb
from hypothesis import given
from hypothesis import strategies as st

from kb.embedders.models import HashingEmbeddings
from kb.errors import ModelError
from kb.ops.redact import MASK, redact
from kb.ui import uploads

API_KEY = "sk-bogus-Zq81LkPw0xYv3TnR7uJc"
PASSWORD = "rahasia-Camat-2024!"


class RefusingServer:
    """An OpenAI-compatible server that refuses every key and quotes it back, as some do."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                body = json.dumps(
                    {
                        "error": {
                            "message": f"Incorrect API key provided: {key}.",
                            "type": "invalid_request_error",
                            "code": "invalid_api_key",
                        }
                    }
                ).encode()
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def refusing() -> Iterator[RefusingServer]:
    server = RefusingServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with one article, and abstention off so that the model is always called."""
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "seed.txt").write_text(SEED_LIKE, encoding="utf-8")
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    assert kb.ingest([folder]).ok
    return tmp_path / "store"


def secret_env(refusing: RefusingServer, auth_file: Path) -> dict[str, str]:
    auth_file.write_text(f"# logins\nadmin:{PASSWORD}\n", encoding="utf-8")
    return {
        **os.environ,
        "KB_EMBEDDING_MODEL": "fake",
        "KB_ABSTAIN_DENSE": "0",
        "KB_ABSTAIN_LEXICAL": "0",
        "KB_ABSTAIN_DENSE_CROSSLINGUAL": "0",
        "KB_READER": "none",  # the reader may decline, and the model must be called
        "OPENAI_API_KEY": API_KEY,
        "OPENAI_BASE_URL": refusing.base_url,
        "KB_AUTH": str(auth_file),
    }


def assert_no_secret(text: str) -> None:
    assert API_KEY not in text
    assert API_KEY[3:] not in text  # not even without its prefix
    assert PASSWORD not in text


def test_a_refused_key_is_not_in_the_message_nor_in_kb_log(
    refusing: RefusingServer, store: Path, tmp_path: Path
) -> None:
    env = secret_env(refusing, tmp_path / "logins.txt")
    done = subprocess.run(
        [sys.executable, "-m", "kb", "ask", "Siapa Kepala BPSDM?", "--llm", "openai:gpt-4o-mini",
         "--store", str(store)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip

    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("error: the chat model did not answer (")
    assert "Incorrect API key provided: ***" in done.stderr  # the reason, without the key
    assert "check KB_LLM, the API key and OPENAI_BASE_URL" in done.stderr
    assert_no_secret(done.stderr + done.stdout)
    log = (store / "kb.log").read_text(encoding="utf-8")
    assert "the chat model failed" in log and "AuthenticationError" in log
    assert_no_secret(log)


def test_an_unexpected_error_quoting_secrets_is_redacted(store: Path, tmp_path: Path) -> None:
    # Any exception, logged with its traceback (the "details in kb.log" path of the CLI).
    script = textwrap.dedent(
        f"""
        import sys
        from kb import cli
        from kb.knowledge_base import KnowledgeBase

        def status(self):
            raise RuntimeError("upstream said: key={API_KEY} auth=admin:{PASSWORD}")

        KnowledgeBase.status = status
        cli.main(["status", "--store", {str(store)!r}])
        """
    )
    env = {**os.environ, "KB_EMBEDDING_MODEL": "fake", "OPENAI_API_KEY": API_KEY,
           "KB_AUTH": f"admin:{PASSWORD}"}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )

    assert done.returncode == 3
    assert done.stderr == (
        "error: RuntimeError: upstream said: key=*** auth=*** (details in the store's kb.log)\n"
    )
    log = (store / "kb.log").read_text(encoding="utf-8")
    assert "RuntimeError: upstream said" in log and "Traceback" in log
    assert_no_secret(log)


def test_model_error_in_the_api_hides_the_key_and_its_cause(
    refusing: RefusingServer,
    store: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from langchain_openai import ChatOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    settings = fake_settings(
        store, abstain_dense=0.0, abstain_lexical=0.0, abstain_dense_crosslingual=0.0
    )
    kb = make_kb(settings=settings, embedder=HashingEmbeddings())
    model = ChatOpenAI(model="gpt-4o-mini", base_url=refusing.base_url, max_retries=0)

    with caplog.at_level(logging.WARNING), pytest.raises(ModelError) as caught:
        kb.ask("Siapa Kepala BPSDM Provinsi Jambi?", llm=model)

    assert_no_secret(str(caught.value))
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert caplog.records and all(API_KEY not in r.getMessage() for r in caplog.records)


def test_redact() -> None:
    env = {
        "OPENAI_API_KEY": API_KEY,
        "KB_AUTH": f"admin:{PASSWORD}",
        "MY_SERVICE_TOKEN": "tok-1234567890",
        "KB_MAX_TOKENS": "512",
        "PATH": "/usr/bin:/bin",
    }
    text = (
        f"key {API_KEY}, login admin:{PASSWORD}, token tok-1234567890, 512 tokens, /usr/bin, "
        "Authorization: Bearer abcdef0123456789, sk-someoneelses0123456789, ?api_key=xyz123&a=1"
    )
    assert redact(text, env) == (
        f"key {MASK}, login {MASK}, token {MASK}, 512 tokens, /usr/bin, "
        f"Authorization: {MASK}, {MASK}, ?api_key={MASK}&a=1"
    )


def test_redact_reads_the_kb_auth_file(tmp_path: Path) -> None:
    logins = tmp_path / "logins"
    logins.write_text(f"admin:{PASSWORD}\n# comment\npetugas:loket-7\n", encoding="utf-8")
    env = {"KB_AUTH": str(logins)}
    assert redact(f"{PASSWORD} and loket-7", env) == f"{MASK} and {MASK}"


# --- upload names ------------------------------------------------------------------------------

GOOD = b"Laporan Kecamatan\nKecamatan Ciputat membuka pelayanan pada Jumat malam.\n"


def upload_file(folder: Path, name: str, data: bytes = GOOD) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/etc/cron.d/evil.md", "evil.md"),
        ("C:\\Windows\\..\\evil.HTML", "evil.html"),
        ("..", "berkas"),
        ("laporan\u202etxt.exe", "laporan_txt.exe"),  # the RTL override that disguises .exe
        ("nul\x00byte.txt", "nul_byte.txt"),
        ("ＲＥＰＯＲＴ．ｔｘｔ", "REPORT.txt"),  # full-width: NFKC first
        ("x" * 300 + ".txt", "x" * 80 + ".txt"),
        ("\U00020000" * 70 + ".pdf", "\U00020000" * 40 + ".pdf"),  # 4-byte characters
        ("laporan." + "t" * 40, "laporan." + "t" * 16),
    ],
)
def test_clean_name(given: str, expected: str) -> None:
    assert uploads.clean_name(given) == expected


@given(st.text(max_size=400))
def test_clean_name_never_escapes(name: str) -> None:
    cleaned = uploads.clean_name(name)
    assert cleaned and cleaned not in {".", ".."}
    assert not any(c in cleaned for c in "/\\\x00")
    assert len(cleaned.encode("utf-8")) <= 255
    assert not any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in cleaned)
    root = Path("/srv/kb/uploads")
    assert (root / cleaned).parent == root


def test_odd_upload_names_are_saved_inside_the_folder_or_refused(tmp_path: Path) -> None:
    incoming = tmp_path / "incoming"
    files = [
        upload_file(incoming, "evil\u202eFDP.txt"),
        upload_file(incoming, "..laporan.txt"),
        upload_file(incoming, "雅加达" * 20 + ".md"),
        upload_file(incoming, "disguised\u202etxt.exe"),
        str(incoming) + "/nul\x00.txt",
        str(incoming) + "/" + "y" * 300 + ".txt",  # longer than the file system allows
        "/etc/passwd",
        str(incoming / ".." / ".." / "etc" / "hosts"),
    ]
    target = tmp_path / "store" / "uploads"

    saved, failed = uploads.save_uploads(files, target)

    root = target.resolve()
    # 60 three-byte characters are cut to 53: a name keeps at most 160 bytes before its suffix.
    assert [p.name for p in saved] == ["evil_FDP.txt", "laporan.txt", ("雅加达" * 20)[:53] + ".md"]
    assert all(p.parent == root and p.read_bytes() == GOOD for p in saved)
    assert len(failed) == 5
    assert sorted(os.listdir(root)) == sorted(p.name for p in saved)
    for failure in failed:
        assert "\n" not in failure.reason and "\x00" not in failure.source


def test_symlinks_are_refused_on_both_sides(tmp_path: Path) -> None:
    secret = tmp_path / "outside.txt"
    secret.write_bytes(b"Isi asli\nJangan ditimpa.\n")
    target = tmp_path / "store" / "uploads"
    target.mkdir(parents=True)
    # A link planted in the uploads folder, named like the next upload.
    (target / "laporan.txt").symlink_to(secret)
    (target / "lain.txt").write_bytes(b"Lain\nBerkas lain.\n")
    (target / "dalam.txt").symlink_to(target / "lain.txt")
    source_link = tmp_path / "incoming" / "tautan.txt"
    upload_file(tmp_path / "incoming", "asli.txt")
    source_link.symlink_to(tmp_path / "incoming" / "asli.txt")

    given = [
        upload_file(tmp_path / "incoming", "laporan.txt"),
        upload_file(tmp_path / "x", "dalam.txt"),
        source_link,
    ]

    saved, failed = uploads.save_uploads(given, target)

    assert saved == []
    assert [f.reason for f in failed] == ["bad file name", "bad file name", "not a regular file"]
    assert secret.read_bytes() == b"Isi asli\nJangan ditimpa.\n"
    assert (target / "lain.txt").read_bytes() == b"Lain\nBerkas lain.\n"


def _outward_address() -> str | None:
    """This machine's address on its network (no packet is sent), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 9))
            address = str(s.getsockname()[0])
        except OSError:
            return None
    return None if address.startswith("127.") else address


def test_the_chroma_server_run_as_the_readme_says_is_reachable_on_loopback_only(
    chroma_server: str,
) -> None:
    readme = " ".join((Path(__file__).parents[2] / "README.md").read_text().split())
    command = re.search(r"`(chroma run [^`]+)`", readme)
    assert command is not None
    # conftest's chroma_server runs this command, with a free port instead of 8000.
    assert command.group(1) == "chroma run --path DIR --host 127.0.0.1 --port 8000"
    port = int(chroma_server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    outward = _outward_address()
    if outward is None:
        pytest.skip("this machine has no address besides loopback")
    with pytest.raises(OSError):
        socket.create_connection((outward, port), timeout=5).close()
