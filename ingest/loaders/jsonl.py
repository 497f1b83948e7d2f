"""jsonl files: one article per line, ``{"id", "title", "text"}`` plus scalar metadata.

Each bad line is its own ``Failure``; ``json.loads`` is linear, so this runs in the caller's
process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ingest.loaders.common import SNIFF_BYTES, LoadError, no_surrogates, short, too_long
from kb.types import Article, Failure


def load_jsonl(data: bytes, source: str, max_chars: int) -> Iterator[Article | Failure]:
    if b"\x00" in data[:SNIFF_BYTES]:  # one failure for the file, not one per "line"
        yield Failure(source, None, "binary file, not text")
        return
    first_line: dict[str, int] = {}
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            article = _jsonl_article(raw, number, source, max_chars)
        except LoadError as e:
            yield Failure(source, number, str(e))
            continue
        if article.doc_id in first_line:
            first = first_line[article.doc_id]
            yield Failure(
                source, number, f"duplicate id '{article.doc_id}' (first on line {first})"
            )
            continue
        first_line[article.doc_id] = number
        yield article


def _jsonl_article(raw: bytes, number: int, source: str, max_chars: int) -> Article:
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as e:
        raise LoadError("not valid UTF-8") from e
    try:
        record = json.loads(line)
    except json.JSONDecodeError as e:
        raise LoadError(f"invalid JSON: {e.msg} (column {e.colno})") from e
    except (ValueError, RecursionError) as e:  # a 5,000-digit number, nesting 10,000 deep
        raise LoadError(f"invalid JSON: {short(e)}") from e
    if not isinstance(record, dict):
        raise LoadError(f"expected a JSON object, got {type(record).__name__}")

    doc_id = record.get("id")
    if doc_id is None:
        raise LoadError("missing field 'id'")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int):
        raise LoadError("field 'id' must be a string or an integer")
    doc_id = str(doc_id)
    if not doc_id.strip():
        raise LoadError("field 'id' is empty")

    text = record.get("text")
    if text is None:
        raise LoadError("missing field 'text'")
    if not isinstance(text, str):
        raise LoadError("field 'text' must be a string")
    if not text.strip():
        raise LoadError("field 'text' is empty")
    if len(text) > max_chars:
        raise LoadError(too_long(len(text), max_chars))

    title = record.get("title")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise LoadError("field 'title' must be a string")

    metadata: dict[str, Any] = {}
    for key, value in record.items():
        if key in ("id", "title", "text"):
            continue
        if isinstance(value, str | int | float | bool):
            metadata[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            metadata[key] = "; ".join(value)
    # The text is kept exactly as given (datasets point into it with character offsets), but
    # for lone surrogates, which nothing downstream can encode: one U+FFFD for each.
    metadata = {
        no_surrogates(k): no_surrogates(v) if isinstance(v, str) else v for k, v in metadata.items()
    }
    return Article(
        doc_id=no_surrogates(doc_id),
        title=no_surrogates(title),
        text=no_surrogates(text),
        source=source,
        line=number,
        metadata=metadata,
    )
