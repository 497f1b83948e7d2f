"""Shared by the fuzz tests: hypothesis settings, a counter of the inputs tried (printed in
pytest's summary), and the checks every loaded input must pass."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ingest.chunking import make_chunks
from ingest.loaders import load_file
from ingest.records import article_metadata
from kb.types import Article, Failure

# CI runs 200 examples a test; a deeper local run:
# KB_FUZZ_EXAMPLES=5000 pytest tests/integration/test_fuzz.py
EXAMPLES = int(os.environ.get("KB_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,  # a shared 2-core machine: no per-example time limits
    database=None,  # nothing written into the working tree; failures print a reproduction blob
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)
# Far above what any input here needs, so it only fires on a hang.
PARSE_TIMEOUT_S = 60.0


class InputCounter:
    """Counts the inputs each fuzz test tried; a pytest plugin that prints them at the end."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def add(self, kind: str, n: int = 1) -> None:
        self.counts[kind] += n

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.counts:
            return
        total = sum(self.counts.values())
        terminalreporter.section("fuzz inputs tried")
        for kind, n in sorted(self.counts.items()):
            terminalreporter.write_line(f"{kind:<32} {n:>8,}")
        terminalreporter.write_line(
            f"{'total':<32} {total:>8,}  (KB_FUZZ_EXAMPLES={EXAMPLES} per test)"
        )


_COUNTER = InputCounter()


@pytest.fixture(scope="session")
def inputs(request: pytest.FixtureRequest) -> InputCounter:
    """The session's counter (registered as a plugin on first use, so its total is printed)."""
    manager = request.config.pluginmanager
    if not manager.is_registered(_COUNTER):
        manager.register(_COUNTER, "kb-fuzz-inputs")
    return _COUNTER


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for generated files (hypothesis cannot use the function-scoped tmp_path)."""
    return tmp_path_factory.mktemp("fuzz")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def assert_chunks_cover(text: str, spans: list[tuple[int, int]], max_chars: int) -> None:
    """Chunks lie inside the text, fit the size, move forward, and leave out only whitespace."""
    previous_start = -1
    covered = 0
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        assert end - start <= max_chars
        assert start > previous_start
        gap = text[covered:start] if start > covered else ""
        assert gap == "" or gap.isspace(), (covered, start)
        previous_start, covered = start, max(covered, end)
    tail = text[covered:]
    assert tail == "" or tail.isspace()


def prepare(article: Article) -> None:
    """What the batch does to an article before embedding it: metadata, then chunks."""
    meta = article_metadata(article)
    assert isinstance(meta, dict)
    chunks = make_chunks(article, 900, 200)
    if article.text.strip():
        assert chunks
    assert_chunks_cover(article.text, [(c.start, c.end) for c in chunks], 900)
    for chunk in chunks:
        assert article.text[chunk.start : chunk.end] == chunk.text
        chunk.text.encode("utf-8")  # what the store and the embedder need


def load_checked(path: Path, timeout_s: float = PARSE_TIMEOUT_S) -> list[Article | Failure]:
    """``load_file`` plus the contract: Articles or one-line Failures, and every Article
    survives the batch's preparation."""
    results = list(load_file(path, timeout_s=timeout_s))
    assert results
    for result in results:
        assert isinstance(result, Article | Failure)
        assert result.source == str(path.resolve())
        if isinstance(result, Failure):
            assert result.reason and "\n" not in result.reason and len(result.reason) < 400
        else:
            assert result.text.strip()
            for value in (result.doc_id, result.title, result.text):
                value.encode("utf-8")
            prepare(result)
    return results
