"""Opening the store's Chroma: embedded under the store folder, or a ``chroma run`` server."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.config import Settings as ChromaSettings

from kb.errors import ConfigError, KbError, StoreMissingError


def make_client(store: Path, chroma_url: str = "", *, create: bool = True) -> Any:
    """An embedded client under ``store/chroma``, or an HTTP client for a ``chroma run`` server.

    With ``create`` false, an embedded store that is not there raises ``StoreMissingError``
    and nothing is created (a mistyped ``--store`` must not become a new, empty store).
    """
    # No telemetry: users may be offline, and government data stays on their machines.
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
        if not url.hostname:
            raise ConfigError(f"KB_CHROMA_URL={chroma_url!r} has no host: use http://HOST:PORT")
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or 8000,
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as e:
            raise KbError(
                f"cannot reach the Chroma server at {chroma_url}: {e}. Start it with "
                "'chroma run --path DIR --port PORT' or unset KB_CHROMA_URL."
            ) from e
    path = Path(store) / "chroma"
    if not create and not (path / "chroma.sqlite3").is_file():
        raise StoreMissingError(missing_store_message(store))
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def changed_setting(built_with: str | None, configured: str) -> str:
    """The setting that tells two embedder names apart: ``e5-small``'s int8 and fp32 builds
    differ only by the quantisation suffix of one name."""
    if built_with and (built_with.startswith(configured) or configured.startswith(built_with)):
        return "KB_EMBEDDING_QUANTIZE"
    return "KB_EMBEDDING_MODEL"


def missing_store_message(store: Path | str, chroma_url: str = "") -> str:
    where = f"on the Chroma server {chroma_url}" if chroma_url else f"at {Path(store).resolve()}"
    return (
        f"no knowledge base {where}: check --store (KB_STORE) and KB_COLLECTION, or create one "
        "with 'kb ingest FILES --store PATH'"
    )
