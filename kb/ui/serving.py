"""Serving the app: where it listens, who may log in, the offline theme."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kb.errors import ConfigError
from kb.settings import Settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def parse_auth(value: str) -> list[tuple[str, str]] | None:
    """The logins of ``KB_AUTH``: ``user:password``, or the path of a file of such lines
    (blank lines and ``#`` comments skipped). Empty: no login.

    Raises:
        ConfigError: a value or line that is not ``user:password``, or an empty file.
    """
    value = value.strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if path.is_file():
        lines = path.read_text(encoding="utf-8").splitlines()
        where = f"{path}: line "
    else:
        lines, where = [value], "KB_AUTH: value "
    users: list[tuple[str, str]] = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, colon, password = line.partition(":")
        if not colon or not user.strip() or not password:
            shown = number if path.is_file() else "given"
            raise ConfigError(
                f"{where}{shown} is not user:password: write KB_AUTH=user:password or the "
                "path of a file with one user:password a line"
            )
        users.append((user.strip(), password))
    if not users:
        raise ConfigError(f"KB_AUTH: the file {path} holds no user:password line")
    return users


def listen_address(
    settings: Settings, host: str | None = None, port: int | None = None
) -> tuple[str, int]:
    """Host and port: the arguments, else ``KB_HOST``/``KB_PORT``, else Gradio's
    ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``, else 127.0.0.1:7860."""
    chosen_host = host or settings.host or os.environ.get("GRADIO_SERVER_NAME") or DEFAULT_HOST
    raw_port = port or settings.port or os.environ.get("GRADIO_SERVER_PORT") or DEFAULT_PORT
    try:
        chosen_port = int(raw_port)
    except ValueError:
        raise ConfigError(f"GRADIO_SERVER_PORT={raw_port!r} is not a port number") from None
    if not 0 < chosen_port < 65536:
        raise ConfigError(f"port {chosen_port} is out of range: use 1-65535 (KB_PORT)")
    return chosen_host, chosen_port


def theme() -> Any:
    """The default theme with system fonts: the stock one fetches web fonts from a CDN."""
    import gradio as gr

    return gr.themes.Default(font=["system-ui", "sans-serif"], font_mono=["monospace"])


def launch_options(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    share: bool | None = None,
    auth: str | None = None,
) -> dict[str, Any]:
    """The keyword arguments of ``Blocks.launch`` for these settings (arguments win).

    Raises:
        ConfigError: a bad port or login setting.
    """
    server_name, server_port = listen_address(settings, host, port)
    return {
        "server_name": server_name,
        "server_port": server_port,
        "share": settings.share if share is None else share,
        "auth": parse_auth(settings.auth if auth is None else auth),
        "theme": theme(),
        # Gradio refuses bigger uploads before they reach the library's own check.
        "max_file_size": settings.max_file_bytes,
    }
