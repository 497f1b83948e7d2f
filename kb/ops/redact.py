"""Keep secrets out of logs and error messages: API keys, tokens, the app's login passwords.

``redact`` replaces every secret it knows of with ``***``: the values of environment variables
whose names say they hold one (``OPENAI_API_KEY``, ``*_TOKEN``, ``*_SECRET``, ``*PASSWORD*``),
the passwords of ``KB_AUTH`` (a ``user:password`` value or a file of them), values registered
with ``register``, and strings shaped like keys (``sk-...``, ``Bearer ...``) whoever wrote them.
``RedactingFormatter`` applies it to every log line, tracebacks included.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path

MASK = "***"
# Variables named like this hold a secret; short or plain-number values are left alone, so a
# KB_MAX_TOKENS=512 does not blank every "512" in the log.
_SECRET_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)", re.IGNORECASE)
_MIN_GENERIC = 8
# These are secrets whatever they look like.
_KNOWN = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GROQ_API_KEY", "HF_TOKEN", "KB_AUTH_PASSWORD")
_MIN_KNOWN = 3
_SHAPES = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{12,}"  # OpenAI-style keys, also when echoed by a server
    r"|(?i:\bbearer\s+)[A-Za-z0-9._~+/\-]{8,}=*"  # Authorization headers
    r"|(?i:(?<=api_key=)|(?<=api-key=)|(?<=password=))[^\s&\"']{3,}"  # in URLs
)
_MAX_AUTH_FILE = 1024 * 1024
_registered: set[str] = set()
_lock = threading.Lock()


def register(secret: str) -> None:
    """Redact this value from now on (a password given on the command line, say)."""
    if len(secret) >= _MIN_KNOWN:
        with _lock:
            _registered.add(secret)


def secrets(environ: Mapping[str, str] | None = None) -> list[str]:
    """The secret values known now, longest first (so a key is masked before its parts)."""
    env = os.environ if environ is None else environ
    found: set[str] = set(_registered)
    for name, value in env.items():
        value = value.strip()
        if name.upper() in _KNOWN:
            if len(value) >= _MIN_KNOWN:
                found.add(value)
        elif _SECRET_NAME.search(name) and len(value) >= _MIN_GENERIC and not value.isdigit():
            found.add(value)
    found.update(_auth_passwords(env.get("KB_AUTH", "")))
    return sorted(found, key=len, reverse=True)


def _auth_passwords(value: str) -> set[str]:
    """The passwords (and whole lines) of a ``KB_AUTH`` value or file."""
    value = value.strip()
    if not value:
        return set()
    lines = [value]
    try:
        path = Path(value).expanduser()
        if path.is_file() and path.stat().st_size <= _MAX_AUTH_FILE:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except (OSError, ValueError):
        pass
    found: set[str] = set()
    for line in lines:
        line = line.strip()
        _, colon, password = line.partition(":")
        if colon and len(password) >= _MIN_KNOWN:
            found.update((password, line))
        elif line and not line.startswith("#") and len(line) >= _MIN_KNOWN and line is value:
            found.add(line)  # a malformed value may still be a password
    return found


def redact(text: str, environ: Mapping[str, str] | None = None) -> str:
    """``text`` with every known secret replaced by ``***``."""
    for secret in secrets(environ):
        if secret in text:
            text = text.replace(secret, MASK)
    return _SHAPES.sub(MASK, text)


class RedactingFormatter(logging.Formatter):
    """A formatter whose lines (message, arguments, traceback) pass through ``redact``."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))
