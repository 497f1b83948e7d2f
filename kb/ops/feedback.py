"""Feedback on answers (thumbs up/down and a comment), kept in ``<store>/feedback.sqlite3``.

One row per answer: rating it again, or adding a comment later, updates that row. Each row
holds what is needed to judge the answer afterwards: the question, the answer text, its
citations and the passages it was given (both as in the answer's record,
``kb.types.Answer.to_record``), the filters and the settings that produced it (embedder,
answer mode). A file written before the passages were kept gets their column when opened
(empty for its rows).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import ConfigError

FILE_NAME = "feedback.sqlite3"
FORMATS = ("jsonl", "csv")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    citations TEXT NOT NULL,
    filters TEXT NOT NULL,
    mode TEXT NOT NULL,
    embedder TEXT NOT NULL,
    llm TEXT NOT NULL,
    hits TEXT NOT NULL DEFAULT '[]'
)
"""
# Columns added since the first version, added to an older file when it is opened.
_ADDED_COLUMNS = {"hits": "TEXT NOT NULL DEFAULT '[]'"}
# A later rating or comment replaces an earlier one; an empty one keeps what was there.
_UPSERT = """
INSERT INTO feedback (answer_id, created_at, updated_at, rating, comment, question, answer,
    abstained, citations, filters, mode, embedder, llm, hits)
VALUES (:answer_id, :created_at, :updated_at, :rating, :comment, :question, :answer,
    :abstained, :citations, :filters, :mode, :embedder, :llm, :hits)
ON CONFLICT(answer_id) DO UPDATE SET
    updated_at = excluded.updated_at,
    rating = CASE WHEN excluded.rating != 0 THEN excluded.rating ELSE rating END,
    comment = CASE WHEN excluded.comment != '' THEN excluded.comment ELSE comment END
"""


@dataclass(frozen=True)
class Feedback:
    """A user's judgement of one answer.

    ``rating`` is 1 (thumbs up), -1 (thumbs down) or 0 (a comment only). ``citations`` are
    the answer's citations and ``hits`` the passages it was given (read, or the closest when
    it declined), as the answer's record has them (``Citation.to_record``: ``n``, ``doc_id``,
    ``title``, ``quote`` ...; ``Hit.to_record``). Rows stored before the passages were kept
    have none.
    """

    answer_id: str
    rating: int
    question: str
    answer: str
    comment: str = ""
    abstained: bool = False
    citations: list[dict[str, Any]] = field(default_factory=list)
    filters: dict[str, Any] = field(default_factory=dict)
    mode: str = ""
    embedder: str = ""
    llm: str = ""
    created_at: str = ""
    updated_at: str = ""
    hits: list[dict[str, Any]] = field(default_factory=list)


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


class FeedbackStore:
    """The feedback file of a store folder.

    Args:
        folder: the data folder (``KB_STORE``); the file is ``<folder>/feedback.sqlite3``.
    """

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / FILE_NAME

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One short connection per call: the app's handlers run in several threads, and the
        # CLI may read while the app writes (sqlite waits up to the timeout for the lock).
        connection = sqlite3.connect(self.path, timeout=10)
        connection.execute(_SCHEMA)
        _add_columns(connection)
        return connection

    def save(self, feedback: Feedback) -> Feedback:
        """Store (or update) the feedback on one answer; returns it as stored.

        Raises:
            ConfigError: a rating other than -1, 0 or 1, or an empty answer id.
        """
        if feedback.rating not in (-1, 0, 1):
            raise ConfigError(f"rating {feedback.rating!r}: use 1 (up), -1 (down) or 0")
        if not feedback.answer_id:
            raise ConfigError("feedback needs the id of the answer it is about")
        now = _now()
        row = asdict(feedback)
        row.update(
            created_at=feedback.created_at or now,
            updated_at=now,
            comment=feedback.comment.strip(),
            abstained=int(feedback.abstained),
            citations=json.dumps(feedback.citations, ensure_ascii=False),
            filters=json.dumps(feedback.filters, ensure_ascii=False),
            hits=json.dumps(feedback.hits, ensure_ascii=False),
        )
        with closing(self._connect()) as connection, connection:
            connection.execute(_UPSERT, row)
        stored = self.get(feedback.answer_id)
        assert stored is not None
        return stored

    def get(self, answer_id: str) -> Feedback | None:
        """The feedback on one answer, or None."""
        return next(self._rows("WHERE answer_id = ?", (answer_id,)), None)

    def all(self) -> list[Feedback]:
        """Every feedback row, oldest first (an absent file is no feedback)."""
        if not self.path.exists():
            return []
        return list(self._rows("ORDER BY created_at, answer_id", ()))

    def _rows(self, clause: str, params: tuple[Any, ...]) -> Iterator[Feedback]:
        with closing(self._connect()) as connection:
            connection.row_factory = sqlite3.Row
            rows = connection.execute(f"SELECT * FROM feedback {clause}", params).fetchall()
        for row in rows:
            values = dict(row)
            values["abstained"] = bool(values["abstained"])
            values["citations"] = json.loads(values["citations"])
            values["filters"] = json.loads(values["filters"])
            values["hits"] = json.loads(values.get("hits") or "[]")
            yield Feedback(**values)

    def export(self, fmt: str = "jsonl") -> str:
        """Every row as JSON lines or CSV (citations and filters as JSON in their CSV cells; a
        text cell that starts like a spreadsheet formula gets a leading apostrophe).

        Raises:
            ConfigError: an unknown format.
        """
        if fmt not in FORMATS:
            raise ConfigError(f"format {fmt!r} is not supported: use {' or '.join(FORMATS)}")
        rows = [asdict(f) for f in self.all()]
        if fmt == "jsonl":
            return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=[f for f in Feedback.__dataclass_fields__])
        writer.writeheader()
        for r in rows:
            writer.writerow(_csv_row(r))
        return out.getvalue()


def _add_columns(connection: sqlite3.Connection) -> None:
    """Give a file written by an earlier version the columns added since (its rows get the
    column's default)."""
    have = {row[1] for row in connection.execute("PRAGMA table_info(feedback)")}
    for name, kind in _ADDED_COLUMNS.items():
        if name in have:
            continue
        try:
            with connection:
                connection.execute(f"ALTER TABLE feedback ADD COLUMN {name} {kind}")
        except sqlite3.OperationalError as e:
            # Another process added it meanwhile; or a file that cannot be written is read
            # as it is (its rows without the column).
            if "duplicate column" not in str(e) and "readonly" not in str(e):
                raise


def _csv_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (list, dict)):
            value = json.dumps(value, ensure_ascii=False)
        # A cell a spreadsheet would take for a formula ("=HYPERLINK(...)" typed as a
        # question or comment) is kept as text.
        if isinstance(value, str) and value.startswith(_FORMULA_START):
            value = "'" + value
        out[key] = value
    return out
