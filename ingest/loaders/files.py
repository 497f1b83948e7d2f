"""Finding the files to load, and the stable id of a file."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from kb.formats import SUPPORTED_SUFFIXES
from kb.types import Failure


def discover(paths: Iterable[str | Path]) -> tuple[list[Path], list[Failure]]:
    """Expand files and folders into the files to load.

    Folders are walked recursively in sorted order; hidden files and folders, Word lock files
    (``~$x.docx``) and files of other types inside folders are skipped.

    Args:
        paths: files and folders, as given on the command line.

    Returns:
        Resolved absolute paths without duplicates (in the order first reached), and a
        ``Failure`` for each path that does not exist or names a file of an unsupported type.
    """
    found: list[Path] = []
    seen: set[Path] = set()
    failures: list[Failure] = []
    for raw in paths:
        try:
            path = Path(raw)
            kind = "dir" if path.is_dir() else "file" if path.is_file() else ""
            exists = bool(kind) or path.exists()
        except (OSError, ValueError) as e:  # a NUL in the name, a name too long
            failures.append(Failure(str(raw), None, f"cannot read path: {e}"))
            continue
        if kind == "dir":
            candidates = _walk(path, failures)
        elif kind == "file":
            suffix = path.resolve().suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                failures.append(Failure(str(raw), None, unsupported(suffix)))
                continue
            candidates = [path]
        elif exists:
            failures.append(Failure(str(raw), None, "not a regular file or folder"))
            continue
        else:
            failures.append(Failure(str(raw), None, "no such file or folder"))
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                found.append(resolved)
    return found, failures


def _walk(root: Path, failures: list[Failure]) -> list[Path]:
    def on_error(err: OSError) -> None:
        failures.append(Failure(str(err.filename), None, f"cannot read folder: {err.strerror}"))

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            if name.startswith((".", "~$")):
                continue
            path = Path(dirpath, name)
            if path.resolve().suffix.lower() in SUPPORTED_SUFFIXES and path.is_file():
                files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).parts)


def unsupported(suffix: str) -> str:
    kinds = ", ".join(sorted(SUPPORTED_SUFFIXES))
    return f"unsupported file type '{suffix or '(none)'}' (supported: {kinds})"


def doc_id_for(path: Path) -> str:
    """A stable id for a file: a slug of its name and a hash of its resolved absolute path."""
    resolved = Path(path).resolve()
    # Accents are dropped ("é" -> "e"); other non-ASCII characters separate words like
    # punctuation does, so "Ciputat—Tangsel" does not fuse into one word.
    decomposed = unicodedata.normalize("NFKD", resolved.stem)
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    slug = re.sub(r"[^a-z0-9]+", "-", folded.lower())[:40].strip("-") or "doc"
    # surrogateescape: a file name that is not valid UTF-8 still hashes to its own bytes.
    digest = hashlib.sha1(resolved.as_posix().encode("utf-8", "surrogateescape")).hexdigest()
    return f"{slug}-{digest[:8]}"
