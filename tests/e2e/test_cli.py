"""The ``kb`` command, run as users run it (console script in a subprocess) and in-process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SEED_LIKE, fake_settings, make_kb, run_kb

from kb.cli import main


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "seed.txt").write_text(SEED_LIKE, encoding="utf-8")
    (reports / "lain.txt").write_text(
        "Pasar Rakyat Direnovasi\nPemkab Sleman merenovasi pasar rakyat dengan dana 2 miliar.\n",
        encoding="utf-8",
    )
    return reports


def test_ingest_search_list_show_status_delete(folder: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    done = run_kb("ingest", str(folder), "--store", str(store), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert len(report["added"]) == 2 and report["ok"] is True

    found = run_kb(
        "search", "pelayanan Jumat malam Ciputat", "-k", "1", "--store", str(store), "--json"
    )
    assert found.returncode == 0, found.stderr
    (hit,) = json.loads(found.stdout)
    assert hit["title"].startswith("Camat dari Jambi")
    assert {"doc_id", "chunk_id", "text", "score", "start", "end", "outlet", "date"} <= set(hit)
    assert hit["outlet"] == "Tangerang Ekspres" and hit["regions"]
    # The hit record (Hit.to_record), not the store's bookkeeping.
    assert not {"metadata", "content_hash", "embedding_key", "date_int", "outlet_key"} & set(hit)

    filtered = run_kb("search", "pasar", "--region", "Sleman", "--store", str(store), "--json")
    assert [h["title"] for h in json.loads(filtered.stdout)] == ["Pasar Rakyat Direnovasi"]

    listed = run_kb("list", "--json", env_store=store)
    assert sorted(a["title"] for a in json.loads(listed.stdout))[0].startswith("Camat")
    doc_id = hit["doc_id"]
    shown = run_kb("show", doc_id, "--store", str(store))
    assert "outlet: Tangerang Ekspres" in shown.stdout and "Kecamatan Ciputat" in shown.stdout
    status = json.loads(run_kb("status", "--store", str(store), "--json").stdout)
    assert status["articles"] == 2 and status["embedder"] == "fake:hashing-256"
    assert run_kb("delete", doc_id, "--store", str(store)).returncode == 0
    assert json.loads(run_kb("status", "--store", str(store), "--json").stdout)["articles"] == 1


def test_failures_give_exit_code_1_and_name_the_file(folder: Path, tmp_path: Path) -> None:
    (folder / "kosong.txt").write_text("", encoding="utf-8")
    done = run_kb("ingest", str(folder), "--store", str(tmp_path / "s"))
    assert done.returncode == 1
    assert "kosong.txt" in done.stderr and "2 added" in done.stdout


def test_user_errors_are_one_line_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake")
    make_kb(settings=fake_settings(tmp_path / "s")).create_store()
    with pytest.raises(SystemExit) as exit_info:
        main(["show", "tidak-ada", "--store", str(tmp_path / "s")])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: no article 'tidak-ada' in the store: see 'kb list'"
    monkeypatch.setenv("KB_CHUNK_CHARS", "banyak")
    with pytest.raises(SystemExit):
        main(["status", "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "KB_CHUNK_CHARS='banyak' is not valid" in err


def test_python_m_ingest_is_kb_ingest(folder: Path, tmp_path: Path) -> None:
    env = {**os.environ, "KB_EMBEDDING_MODEL": "fake", "KB_STORE": str(tmp_path / "s")}
    done = subprocess.run(
        [sys.executable, "-m", "ingest", str(folder)], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr
    assert "2 added" in done.stdout
