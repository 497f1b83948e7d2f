"""A bounded load test on loopback (issue #7): 20 chat users at once against the served app.

The app is served by ``kb serve`` in extractive mode (``browser_fixtures.served_app``). Users
ask through the ``/ask`` API endpoint with ``gradio_client`` for ``KB_LOAD_SECONDS``
(default 60) seconds. The figures go to ``test-artifacts/load.json`` and the terminal
summary; the test asserts correctness only (no error, every user served, every answer the
one a lone user gets for the same question), never a latency.
"""

from __future__ import annotations

import json
import os

import pytest
from browser_fixtures import ARTIFACTS, SUMMARY, ServedApp

from benchmarks.load import baseline, checker, format_table, load_questions, run_load

pytest_plugins = ["browser_fixtures"]
pytestmark = [pytest.mark.load, pytest.mark.model]

USERS = int(os.environ.get("KB_LOAD_USERS", "20"))
SECONDS = float(os.environ.get("KB_LOAD_SECONDS", "60"))


def test_simultaneous_users_all_get_their_answers(served_app: ServedApp) -> None:
    questions = load_questions()
    assert len(questions) >= USERS // 2, "too few questions to spread the users over"
    expected, alone = baseline(served_app.url, questions)
    loaded = run_load(served_app.url, questions, USERS, SECONDS, checker(expected))

    figures = {"lone_user": alone.summary(), "load": loaded.summary(), "errors": loaded.errors}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(figures, indent=2), encoding="utf-8")
    SUMMARY.append(f"{USERS} users for {SECONDS:g} s against {served_app.url} (/ask)")
    SUMMARY.extend(format_table(alone, loaded).splitlines())

    assert loaded.errors == [], f"{len(loaded.errors)} failed requests, e.g. {loaded.errors[:3]}"
    # A floor a broken or stalled server cannot meet: every user got at least one answer.
    assert min(loaded.per_user) >= 1, f"answers per user: {loaded.per_user}"
    assert loaded.done >= USERS
