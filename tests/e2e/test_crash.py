"""Crash safety: ``kb ingest`` / ``kb delete`` SIGKILLed anywhere, then run again, leave the
store exactly as a clean run does; one writer at a time; readers see only whole articles.

The kills come from the ``KB_FAULT`` test hook (``kb.store.faults.fault_point``: the process kills
itself at a named phase boundary) and from outside after seeded random delays.
"""

from __future__ import annotations

import contextlib
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import make_kb
from crash_fixtures import (
    differences,
    kb_env,
    kill_after,
    marker,
    open_kb,
    run_kb,
    snapshot,
    timed_run,
    write_corpus,
)
from crash_fixtures import settings as crash_settings

import ingest.pipeline
import kb.store.store
from ingest.loaders import load_file
from kb.embedders.models import HashingEmbeddings
from kb.errors import EmbedderMismatchError, NotFoundError, StoreLockedError
from kb.knowledge_base import KnowledgeBase
from kb.store.store import Store
from kb.types import Failure, Hit

# Each test starts writer processes and kills them at named points (about 30 in all).
pytestmark = pytest.mark.crash

ARTICLES = 30
QUERIES = [marker(3), marker(31), marker(0), "layanan kecamatan malam", "pasar sampah nelayan"]
# Each name is a phase boundary of a write (see kb/store/store.py and ingest/pipeline.py); ":N" is
# its N-th passage in the batch, so some kills land in the middle of a batch.
WRITE_POINTS = ["pending-set", "chunks-deleted", "chunks-added", "registered", "generation-bumped"]


@dataclass(frozen=True)
class Scenario:
    args: list[str]
    base: Path | None  # the store before the action (None: empty)
    rerun: Callable[[KnowledgeBase], Any]


@dataclass(frozen=True)
class Case:
    scenario: str
    faults: tuple[str, ...] = ()  # KB_FAULT of each killed run, in turn
    delay: float | None = None  # or: kill from outside after this many seconds


def _doc_id(path: Path) -> str:
    (article,) = load_file(path)
    assert not isinstance(article, Failure)
    return article.doc_id


def _world(root: Path) -> tuple[dict[str, Scenario], float, float]:
    """Corpora, base stores (built by the real command) and the scenarios to kill."""
    fresh, changed, pruned = root / "fresh", root / "changed", root / "pruned"
    for folder in (fresh, changed, pruned):
        write_corpus(folder, range(ARTICLES))
    base_changed, base_pruned = root / "base-changed", root / "base-pruned"
    with ThreadPoolExecutor(2) as pool:
        full, _ = pool.map(
            timed_run,
            [["ingest", str(changed)], ["ingest", str(pruned)]],
            [base_changed, base_pruned],
        )
    # A run with nothing to write: the start-up cost, before which a kill hits no write.
    shutil.copytree(base_pruned, root / "startup")
    startup = timed_run(["ingest", str(pruned)], root / "startup")

    write_corpus(changed, range(6), version=2)  # 6 articles edited
    write_corpus(changed, range(ARTICLES, ARTICLES + 4))  # 4 added
    for n in range(20, 28):  # 8 files gone: --prune deletes their articles
        (pruned / f"laporan-{n:03d}.txt").unlink()
    gone = _doc_id(changed / "laporan-012.txt")
    scenarios = {
        "fresh": Scenario(["ingest", str(fresh)], None, lambda kb: kb.ingest([fresh])),
        "changed": Scenario(
            ["ingest", str(changed)], base_changed, lambda kb: kb.ingest([changed])
        ),
        "pruned": Scenario(
            ["ingest", "--prune", str(pruned)],
            base_pruned,
            lambda kb: kb.ingest([pruned], prune=True),
        ),
        "delete": Scenario(["delete", gone], base_changed, lambda kb: _delete(kb, gone)),
    }
    return scenarios, full, startup


def _delete(kb: KnowledgeBase, doc_id: str) -> None:
    # Run again, a delete that was killed after its registry record went says "no article".
    with contextlib.suppress(NotFoundError):
        kb.delete(doc_id)


def _cases(full: float, startup: float) -> list[Case]:
    cases = [Case("fresh", (p,)) for p in ["prepared", "embedded", *WRITE_POINTS]]
    cases += [Case("fresh", (p,)) for p in ["chunks-added:4", "registered:4"]]
    cases += [Case("changed", (p,)) for p in WRITE_POINTS[1:]]
    cases += [Case("pruned", (p,)) for p in ["pending-set", "unregistered", "generation-bumped"]]
    cases += [Case("delete", ("unregistered",))]
    # Killed again while mending what the first kill left.
    cases += [
        Case("fresh", ("chunks-added:3", "recovered")),
        Case("changed", ("registered", "recovered")),
    ]
    rng = random.Random(20240607)
    for scenario, n in (("fresh", 4), ("changed", 2)):
        cases += [Case(scenario, delay=rng.uniform(0.9 * startup, full)) for _ in range(n)]
    return cases


def _kill(case: Case, scenario: Scenario, store: Path) -> tuple[bool, list[int]]:
    """Run the scenario's command on a copy of its base store and kill it as the case says."""
    if scenario.base is not None:
        shutil.copytree(scenario.base, store)
    if case.delay is not None:
        return kill_after(scenario.args, store, case.delay), []
    codes = [run_kb(scenario.args, store, fault=f).returncode for f in case.faults]
    return all(code == -signal.SIGKILL for code in codes), codes


def test_killed_anywhere_then_run_again_equals_a_clean_run(tmp_path: Path) -> None:
    scenarios, full, startup = _world(tmp_path)
    want = {}
    for name, scenario in scenarios.items():
        store = tmp_path / f"clean-{name}"
        if scenario.base is not None:
            shutil.copytree(scenario.base, store)
        kb = open_kb(store)
        scenario.rerun(kb)
        want[name] = snapshot(kb, QUERIES)
        assert want[name]["keyword_index"] == want[name]["chunk_ids"]
        assert want[name]["problems"] == [] and want[name]["pending"] == []

    cases = _cases(full, startup)
    stores = [tmp_path / f"case-{i:02d}-{c.scenario}" for i, c in enumerate(cases)]
    with ThreadPoolExecutor(2) as pool:
        kills = list(pool.map(lambda c, s: _kill(c, scenarios[c.scenario], s), cases, stores))

    failures: list[str] = []
    mid_write = 0  # kills that left a write unfinished (the manifest names its articles)
    for case, store, (killed, codes) in zip(cases, stores, kills, strict=True):
        if case.delay is None and not killed:
            failures.append(f"{case}: the fault point was not reached (exit codes {codes})")
            continue
        kb = open_kb(store)
        # (a kill before the first write leaves no store: the rerun creates it)
        mid_write += kb.exists and bool(kb.store.pending)
        scenarios[case.scenario].rerun(kb)
        diff = differences(snapshot(kb, QUERIES), want[case.scenario])
        if diff:
            failures.append(f"{case}: differs from a clean run in {diff}")
    at_points = sum(len(c.faults) for c in cases)
    at_random = sum(killed for c, (killed, _) in zip(cases, kills, strict=True) if c.delay)
    print(
        f"\nkills survived: {at_points + at_random - len(failures)} of {at_points + at_random} "
        f"({at_points} at phase boundaries, {at_random} at random times; {mid_write} of the "
        f"{len(cases)} runs left a write unfinished; clean run {full:.1f}s, start-up "
        f"{startup:.1f}s)"
    )
    assert not failures, "\n".join(failures)


def _wait_stopped(proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    """Until the process has stopped itself (``KB_FAULT=...:stop``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the ingest ended (exit {proc.returncode}) before its fault point")
        state = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "T":
            return
        time.sleep(0.05)
    pytest.fail("the ingest did not reach its fault point")


def _start_stopped(
    args: list[str], store: Path, point: str, **extra: str
) -> subprocess.Popen[bytes]:
    env = {**kb_env(store, f"{point}:stop"), **extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kb", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    _wait_stopped(proc)
    return proc


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see the process stopped")
def test_a_second_writer_is_refused_while_an_ingest_is_under_way(tmp_path: Path) -> None:
    folder, store = tmp_path / "reports", tmp_path / "store"
    write_corpus(folder, range(12))
    first = _start_stopped(["ingest", str(folder)], store, "chunks-added:2")
    try:
        second = run_kb(["ingest", str(folder)], store)
        check = run_kb(["check", "--repair"], store)
        with pytest.raises(StoreLockedError, match="another process is writing"):
            open_kb(store).ingest([folder])
    finally:
        first.send_signal(signal.SIGCONT)
    assert first.wait(timeout=120) == 0
    for refused in (second, check):
        assert refused.returncode == 2
        assert refused.stderr.startswith("error: another process is writing to the store")
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    clean = open_kb(tmp_path / "clean")
    clean.ingest([folder])
    assert not differences(snapshot(open_kb(store), QUERIES), snapshot(clean, QUERIES))


def _whole(store: Store, hit: Hit) -> bool:
    """The hit's article is registered with the hit's content hash and has all its chunks."""
    record = store.get_article(hit.doc_id)
    if record is None or record.metadata["content_hash"] != hit.metadata.get("content_hash"):
        return False
    digest = record.metadata["content_hash"]
    metas = store.chunk_metadatas([hit.doc_id]).values()
    positions = sorted(int(m["chunk_index"]) for m in metas if m.get("content_hash") == digest)
    return (
        positions == list(range(int(record.metadata["chunks"])))
        and record.text[hit.start : hit.end] == hit.text
    )


def _read_everything(reader: KnowledgeBase, store: Store) -> tuple[int, list[str]]:
    """Ask every query, in every mode; returns (hits, problems) while the writer is paused."""
    problems: list[str] = []
    count = 0
    for query in QUERIES:
        for mode in ("hybrid", "dense", "keyword"):
            for hit in reader.retrieve(query, k=5, mode=mode, per_article=None):  # type: ignore[arg-type]
                count += 1
                if not _whole(store, hit):
                    problems.append(f"{mode} {query!r}: {hit.chunk_id} is not of a whole article")
    return count, problems


def test_a_reader_in_another_thread_sees_whole_articles_during_an_ingest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, store = tmp_path / "reports", tmp_path / "store"
    write_corpus(folder, range(20))
    open_kb(store).ingest([folder])
    reader, writer = open_kb(store), open_kb(store)
    assert reader.retrieve(marker(3), k=1)[0].doc_id == _doc_id(folder / "laporan-003.txt")
    write_corpus(folder, range(8), version=2)
    write_corpus(folder, range(20, 26))
    seen: list[tuple[str, int, list[str]]] = []

    def pause(name: str) -> None:
        # The writer waits here while another thread reads: a frozen mid-write state.
        out: list[tuple[int, list[str]]] = []
        thread = threading.Thread(target=lambda: out.append(_read_everything(reader, writer.store)))
        thread.start()
        thread.join()
        seen.append((name, *out[0]))

    monkeypatch.setattr(kb.store.store, "fault_point", pause)
    monkeypatch.setattr(ingest.pipeline, "fault_point", pause)
    report = writer.ingest([folder])
    assert len(report.updated) == 8 and len(report.added) == 6
    points = {name for name, _, _ in seen}
    assert {"chunks-deleted", "chunks-added", "registered"} <= points
    assert [p for _, _, problems in seen for p in problems] == []
    assert all(hits > 0 for _, hits, _ in seen)  # it kept answering at every point
    # Once the batch is done the same reader (no reopening) sees the new and changed articles.
    for n in (0, 7, 20, 25):
        (hit,) = reader.retrieve(marker(n), k=1)
        assert hit.doc_id == _doc_id(folder / f"laporan-{n:03d}.txt")
        assert hit.metadata["title"].endswith("versi 2" if n < 8 else "versi 1")


@pytest.mark.server
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc to see the process stopped")
def test_a_reader_process_on_a_chroma_server_during_an_ingest_process(
    tmp_path: Path, chroma_server: str
) -> None:
    folder, store = tmp_path / "reports", tmp_path / "store"
    write_corpus(folder, range(16))
    extra = {"KB_CHROMA_URL": chroma_server, "KB_COLLECTION": "crashreader"}
    settings = open_kb(store).settings.with_overrides(
        chroma_url=chroma_server, collection="crashreader"
    )
    reader = make_kb(settings=settings, embedder=open_kb(store).embedder)
    reader.ingest([folder])
    assert reader.retrieve(marker(2), k=1)[0].doc_id == _doc_id(folder / "laporan-002.txt")
    write_corpus(folder, range(6), version=2)
    write_corpus(folder, range(16, 22))
    # The ingest process stops itself right after adding the chunks of its second group,
    # before registering them: those chunks are in Chroma but must not be served.
    writer = _start_stopped(["ingest", str(folder)], store, "chunks-added:2", **extra)
    try:
        hits, problems = _read_everything(reader, reader.store)
        unregistered = reader.store.count_chunks() - sum(a.chunks for a in reader.articles())
    finally:
        writer.send_signal(signal.SIGCONT)
    assert writer.wait(timeout=120) == 0, writer.stderr.read() if writer.stderr else ""
    assert hits > 0 and problems == []
    assert unregistered > 0  # there was something not to serve
    for n in (0, 5, 16, 21):
        (hit,) = reader.retrieve(marker(n), k=1)
        assert hit.doc_id == _doc_id(folder / f"laporan-{n:03d}.txt")
        assert hit.metadata["title"].endswith("versi 2" if n < 6 else "versi 1")


REBUILD_POINTS = [
    "rebuild-staging",  # phase 1, part-way: the store still serves the old vectors
    "rebuild-staged",  # phase 1 done, marked: from here the store refuses to serve
    "rebuild-dropped",
    "rebuild-copying",
    "rebuild-swapped",  # done but for dropping the staging
]


def test_a_killed_rebuild_is_finished_by_running_it_again(tmp_path: Path) -> None:
    folder, base = tmp_path / "reports", tmp_path / "base"
    write_corpus(folder, range(ARTICLES))
    assert run_kb(["ingest", str(folder)], base).returncode == 0
    new = {"KB_EMBEDDING_MODEL": "fake:hashing-128"}

    def opened(store: Path, dim: int) -> KnowledgeBase:
        return make_kb(settings=crash_settings(store), embedder=HashingEmbeddings(dim))

    before = snapshot(opened(base, 256), QUERIES)
    clean = tmp_path / "clean"
    shutil.copytree(base, clean)
    assert run_kb(["rebuild"], clean, extra=new).returncode == 0
    want = snapshot(opened(clean, 128), QUERIES)
    assert want["problems"] == [] and want["chunk_ids"] == before["chunk_ids"]
    assert want["chunks"] != before["chunks"]  # other vectors

    failures: list[str] = []
    for point in REBUILD_POINTS:
        store = tmp_path / f"killed-{point.replace(':', '-')}"
        shutil.copytree(base, store)
        done = run_kb(["rebuild"], store, fault=point, extra=new)
        if done.returncode != -signal.SIGKILL:
            failures.append(f"{point}: not killed (exit {done.returncode}): {done.stderr[-300:]}")
            continue
        if point.startswith("rebuild-staging"):
            # Nothing swapped yet: the store answers as before, with the old embedder.
            if snapshot(opened(store, 256), QUERIES)["chunks"] != before["chunks"]:
                failures.append(f"{point}: the live chunks changed before the swap")
        elif point != "rebuild-swapped":
            for dim in (128, 256):
                with pytest.raises(EmbedderMismatchError, match="kb rebuild"):
                    opened(store, dim).retrieve(marker(3))
        assert opened(store, 128).rebuild() == len(want["chunk_ids"])
        diff = differences(snapshot(opened(store, 128), QUERIES), want)
        if diff:
            failures.append(f"{point}: differs from a clean rebuild in {diff}")
    # Cut off in the swap, then rebuilt for the old embedder after all: nothing is lost.
    store = tmp_path / "changed-mind"
    shutil.copytree(base, store)
    assert run_kb(["rebuild"], store, fault="rebuild-dropped", extra=new).returncode < 0
    assert opened(store, 256).rebuild() == len(before["chunk_ids"])
    assert not differences(snapshot(opened(store, 256), QUERIES), before)
    assert not failures, "\n".join(failures)
