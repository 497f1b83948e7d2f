"""The JSON forms through the product: ``kb ask --json`` is the ``/ask`` record, ``kb search
--json`` gives hit records, a decline's record carries the closest passages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import fake_settings, make_kb

from kb.cli import cli
from kb.embedders.models import HashingEmbeddings
from kb.knowledge_base import sample_path
from kb.ui import Handlers

JAMBI_Q = "Siapa Kepala BPSDM Provinsi Jambi?"


HIT_KEYS = [
    "doc_id", "chunk_id", "title", "text", "score", "dense_score", "keyword_score",
    "dense_rank", "keyword_rank", "start", "end", "outlet", "date", "url", "regions", "page",
    "page_end", "section", "also_in",
]  # fmt: skip


ANSWER_KEYS = [
    "question", "query", "language", "text", "short", "short_citations", "abstained", "mode",
    "citations", "unsupported", "hits",
]  # fmt: skip


# The store's bookkeeping: never in a record.
INTERNAL = {
    "metadata", "content_hash", "embedding_key", "date_int", "outlet_key", "page_breaks",
    "dup_signature", "duplicate_of", "chunk_index", "ingested_at",
}  # fmt: skip


def keys_anywhere(data: Any) -> set[str]:
    """Every key of every mapping in ``data``, however deep."""
    if isinstance(data, dict):
        return set(data) | {k for v in data.values() for k in keys_anywhere(v)}
    if isinstance(data, list):
        return {k for v in data for k in keys_anywhere(v)}
    return set()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the sample articles (hashing embedder, no reader)."""
    folder = tmp_path_factory.mktemp("records") / "store"
    kb = make_kb(settings=fake_settings(folder), embedder=HashingEmbeddings())
    assert kb.ingest([sample_path()]).ok
    kb.close()
    return folder


def run_cli(store: Path, *args: str) -> Any:
    env = {
        "KB_STORE": str(store),
        "KB_EMBEDDING_MODEL": "fake",
        "KB_READER": "none",
        "KB_LOAD_SAMPLES": "false",
        "KB_LLM": "",
    }
    done = CliRunner().invoke(cli, [*args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    return json.loads(done.output)


def test_kb_ask_json_is_the_ask_endpoints_record(store: Path) -> None:
    printed = run_cli(store, "ask", JAMBI_Q)

    kb = make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())
    _, record, *_, records, answer = list(Handlers(kb).ask(JAMBI_Q, []))[-1]
    assert answer is not None and not answer.abstained and answer.hits
    assert printed == record == answer.to_record()
    assert list(printed) == ANSWER_KEYS and printed["hits"]
    assert not keys_anywhere(printed) & INTERNAL
    # The answers kept for feedback are the same record, with the chat's own keys.
    assert {k: v for k, v in records[-1].items() if k in record} == record


def test_kb_search_json_is_hit_records(store: Path) -> None:
    printed = run_cli(store, "search", "pelayanan Jumat malam Ciputat", "-k", "3")

    kb = make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())
    hits = kb.retrieve("pelayanan Jumat malam Ciputat", 3, None, per_article=1)
    assert printed == [h.to_record() for h in hits] and len(printed) == 3
    assert all(list(h) == HIT_KEYS for h in printed)
    assert not keys_anywhere(printed) & INTERNAL
    stored = kb.article(hits[0].doc_id).metadata.get("content_hash")
    assert stored and str(stored) not in json.dumps(printed)


def test_an_abstention_record_carries_the_closest_passages(tmp_path: Path) -> None:
    never = {"abstain_dense": 2.0, "abstain_lexical": 2.0, "abstain_dense_crosslingual": 2.0}
    kb = make_kb(settings=fake_settings(tmp_path / "store", **never), embedder=HashingEmbeddings())
    assert kb.ingest([sample_path()]).ok
    answer = kb.ask(JAMBI_Q)
    record = answer.to_record()

    assert record["abstained"] is True and record["citations"] == []
    assert [h["chunk_id"] for h in record["hits"]] == [h.chunk_id for h in answer.hits]
    assert record["hits"] and all(list(h) == HIT_KEYS for h in record["hits"])
