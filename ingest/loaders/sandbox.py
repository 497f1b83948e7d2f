"""Run a function in a child Python process under a deadline, and kill the child when it is
late or crashes.

Parsers written in Python (pypdf, BeautifulSoup) can loop for minutes on a malformed file, and
a thread cannot be stopped from outside; a process can. One child is started on first use and
kept for the following calls, so a batch pays the start-up once; a child that timed out or
died is replaced at the next call. The child also runs under a memory limit, so a
decompression bomb ends in ``MemoryError`` there instead of swapping the machine.

Protocol: 8-byte big-endian length, then a pickle; requests are ``(target, args, alarm_s)``
with target ``"module:function"``, replies ``("ok", value)`` or ``("error", type, message)``.
Only this package's own child is ever unpickled from.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

_HEADER = struct.Struct(">Q")
_READY = b"ready"
# Start-up (interpreter, preloaded parser modules) does not count against a call's deadline.
_START_TIMEOUT_S = 60.0
DEFAULT_MEMORY_BYTES = 4 * 1024**3


class SandboxTimeout(Exception):
    """The call did not finish before its deadline; the child was killed."""


class SandboxCrash(Exception):
    """The child died during the call (a crash of a C extension, killed for memory, ...)."""


class SandboxError(Exception):
    """The function raised in the child; the message is ``TypeName: message``."""


class Sandbox:
    """A child process that runs one call at a time; thread-safe (calls are serialised).

    Args:
        preload: ``module:function`` names called once when the child starts (imports that
            should not count against the first call's deadline).
        memory_bytes: the child's address-space limit (``RLIMIT_AS``); 0 for none.
    """

    def __init__(self, preload: tuple[str, ...] = (), memory_bytes: int = DEFAULT_MEMORY_BYTES):
        self.preload = preload
        self.memory_bytes = memory_bytes
        self.started = 0  # children started so far, for tests and benchmarks
        self._proc: subprocess.Popen[bytes] | None = None
        self._pid = 0  # the process that started the child: a forked copy must not share it
        self._lock = threading.Lock()

    def call(self, target: str, *args: Any, timeout: float) -> Any:
        """``target(*args)`` in the child, its return value here.

        Raises:
            SandboxTimeout: not done within ``timeout`` seconds (the child is killed).
            SandboxCrash: the child died.
            SandboxError: the function raised.
        """
        # The child also sets an alarm a little after the deadline: should this process die
        # without killing it, a stuck child still ends.
        alarm = max(1, int(timeout) + 5)
        request = pickle.dumps((target, args, alarm), protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            proc = self._ensure_started()
            deadline = time.monotonic() + timeout
            try:
                _write_frame(proc, request, deadline)
                reply = _read_frame(proc, deadline)
            except SandboxTimeout:
                self._kill()
                raise
            except (SandboxCrash, OSError) as e:
                code = self._kill()
                raise SandboxCrash(f"exit code {code}" if code is not None else str(e)) from e
        status, *rest = pickle.loads(reply)
        if status == "ok":
            return rest[0]
        raise SandboxError(f"{rest[0]}: {rest[1]}")

    def close(self) -> None:
        """Stop the child (it also stops by itself when this process ends)."""
        with self._lock:
            self._kill()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self._proc is not None and self._pid == os.getpid() and self._proc.poll() is None:
            return self._proc
        if self._pid == os.getpid():
            self._kill()
        root = str(Path(__file__).resolve().parents[2])
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (root, os.environ.get("PYTHONPATH", "")) if p
        )}  # fmt: skip
        # Tesseract (OCR, run from this child) spins OpenMP threads that wait for busy cores:
        # on a loaded 2-core machine a page took 300 s with two threads and 1 s with one.
        env.setdefault("OMP_THREAD_LIMIT", "1")
        argv = [sys.executable, "-m", __name__, str(self.memory_bytes), *self.preload]
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        assert proc.stdin is not None and proc.stdout is not None
        os.set_blocking(proc.stdin.fileno(), False)
        self._proc, self._pid = proc, os.getpid()
        self.started += 1
        try:
            ready = _read_frame(proc, time.monotonic() + _START_TIMEOUT_S)
        except (SandboxTimeout, SandboxCrash, OSError) as e:
            self._kill()
            raise SandboxCrash(f"the parser process did not start: {e}") from e
        if ready != _READY:
            self._kill()
            raise SandboxCrash("the parser process did not start")
        return proc

    def _kill(self) -> int | None:
        proc, self._proc = self._proc, None
        if proc is None or self._pid != os.getpid():
            return None
        if proc.poll() is None:
            proc.kill()
        code = proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return code


def _wait(fd: int, event: int, timeout: float) -> bool:
    """Whether ``fd`` is ready for ``event`` within ``timeout`` seconds. ``selectors`` (epoll
    or poll), not ``select.select``: a process with over 1,024 open files (a test run, an app
    that opened many stores) gets descriptors that ``select`` cannot watch."""
    with selectors.DefaultSelector() as selector:
        selector.register(fd, event)
        return bool(selector.select(timeout))


def _write_frame(proc: subprocess.Popen[bytes], payload: bytes, deadline: float) -> None:
    assert proc.stdin is not None
    fd = proc.stdin.fileno()
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxTimeout
        if not _wait(fd, selectors.EVENT_WRITE, remaining):
            continue
        try:
            written = os.write(fd, view[: 1 << 20])
        except BlockingIOError:
            continue
        except BrokenPipeError as e:
            raise SandboxCrash("the parser process closed its input") from e
        view = view[written:]


def _read_exact(proc: subprocess.Popen[bytes], n: int, deadline: float) -> bytes:
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    chunks: list[bytes] = []
    while n:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise SandboxTimeout
        if not _wait(fd, selectors.EVENT_READ, remaining):
            continue
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise SandboxCrash("the parser process ended")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _read_frame(proc: subprocess.Popen[bytes], deadline: float) -> bytes:
    (n,) = _HEADER.unpack(_read_exact(proc, _HEADER.size, deadline))
    return _read_exact(proc, n, deadline)


_shared: Sandbox | None = None
_shared_lock = threading.Lock()


def shared(preload: tuple[str, ...] = ()) -> Sandbox:
    """The process-wide sandbox (started lazily, stopped at exit)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Sandbox(preload)
            atexit.register(_shared.close)
        return _shared


# --- the child ---------------------------------------------------------------------------------


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(memory_bytes: int, preload: list[str]) -> None:
    if memory_bytes > 0:
        import resource

        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    inp = sys.stdin.buffer
    # Replies go to a private copy of stdout; anything a parser prints goes to stderr instead
    # of corrupting the frames.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    for target in preload:
        with contextlib.suppress(Exception):
            _resolve(target)()

    def send(payload: bytes) -> None:
        out.write(_HEADER.pack(len(payload)) + payload)
        out.flush()

    send(_READY)
    while True:
        header = inp.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return  # the parent closed the pipe or died
        (n,) = _HEADER.unpack(header)
        target, args, alarm = pickle.loads(inp.read(n))
        # SIGALRM's default action ends the process even inside C code (a regex, a parser).
        signal.alarm(alarm)
        try:
            reply = pickle.dumps(("ok", _resolve(target)(*args)))
        except BaseException as e:  # everything goes back to the parent, which decides
            reply = pickle.dumps(("error", type(e).__name__, str(e)[:1000]))
        signal.alarm(0)
        send(reply)


if __name__ == "__main__":
    _child(int(sys.argv[1]), sys.argv[2:])
