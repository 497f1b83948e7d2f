"""Named kill points for the crash tests: inert unless ``KB_FAULT`` is set."""

from __future__ import annotations

import os
import signal

FAULT_ENV = "KB_FAULT"


_fault_hits: dict[str, int] = {}


def fault_point(name: str) -> None:
    """Test hook for the crash-safety tests, inert unless ``KB_FAULT`` is set.

    ``KB_FAULT=NAME`` SIGKILLs this process when it reaches the point ``NAME`` (see the
    calls of ``fault_point`` for the names); ``KB_FAULT=NAME:N`` at its N-th passage;
    ``KB_FAULT=NAME:N:stop`` SIGSTOPs it instead (a test then resumes it with SIGCONT).
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point, _, rest = spec.partition(":")
    if point != name:
        return
    nth, _, action = rest.partition(":")
    _fault_hits[name] = _fault_hits.get(name, 0) + 1
    if _fault_hits[name] != int(nth or 1):
        return
    os.kill(os.getpid(), signal.SIGSTOP if action == "stop" else signal.SIGKILL)
