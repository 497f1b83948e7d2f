"""The benchmark scripts' own machinery: generated text, synthetic stores, checks, tables.

The scripts are not tests; these check that what they measure is what they say (a grown
store is a valid store, a re-ingest that writes something is caught), with the fake embedder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.append(str(Path(__file__).resolve().parents[2] / "benchmarks"))

import query_scale
import reingest
from _common import (
    Table,
    TextGenerator,
    generator,
    open_kb,
    percentile,
    sample_rows,
    token_counter,
    write_articles,
)

from ingest.chunking import make_chunks
from kb.embedders.models import HashingEmbeddings
from kb.types import Article


def test_generated_articles_are_seeded_and_span_several_chunks() -> None:
    first, again = generator([], seed=7), generator([], seed=7)
    title, body = first.article()
    assert (title, body) == again.article()
    assert generator([], seed=8).article() != (title, body)
    vocabulary = {w for row in sample_rows() for w in str(row["text"]).split()}
    assert set(body.split()) <= vocabulary | {w + "." for w in vocabulary}
    chunks = make_chunks(Article("a", title, body, "x"))
    assert 2 <= len(chunks) <= 6


def test_a_generator_needs_sentences() -> None:
    with pytest.raises(ValueError, match="no sentences"):
        TextGenerator(["kata"])


def test_percentile_interpolates_like_numpy() -> None:
    values = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 50, 95, 100):
        assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))


def test_table_aligns_columns_and_shows_missing_values() -> None:
    text = Table(["run", "seconds"], [("raw", 1.5), ("kb ingest", float("nan"))]).render()
    lines = text.splitlines()
    assert lines[0] == "run        seconds"
    assert lines[2] == "raw           1.50"
    assert lines[3] == "kb ingest        -"


def test_token_counter_counts_words_without_a_tokenizer() -> None:
    unit, count = token_counter(HashingEmbeddings())
    assert unit == "words"
    assert count("Kec. Ciputat buka Jumat malam") == 5


def test_perturbed_vectors_are_unit_vectors_near_the_real_ones() -> None:
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 384)).astype(np.float32)
    base /= np.linalg.norm(base, axis=1, keepdims=True)
    vectors = np.asarray(query_scale.PerturbedEmbeddings(base).embed_documents(["x"] * 50))
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    nearest = (vectors @ base.T).max(axis=1)
    assert np.all((nearest > 0.85) & (nearest < 0.98))


def test_a_grown_store_is_a_valid_store(tmp_path: Path) -> None:
    kb = open_kb(tmp_path / "store", "fake")
    kb.load_samples()
    before = kb.store.count_articles()
    made, _ = query_scale.grow(kb, 150, generator([], seed=1), 0)

    fresh = open_kb(tmp_path / "store", "fake")
    assert made > 0
    assert fresh.store.count_chunks() >= 150
    assert fresh.store.built_with == kb.embedder_name
    per_doc: dict[str, int] = {}
    for chunk, vector in fresh.store.iter_chunks(include_embeddings=True):
        per_doc[chunk.metadata["doc_id"]] = per_doc.get(chunk.metadata["doc_id"], 0) + 1
        assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-4)
    registry = {a.doc_id: a.chunks for a in fresh.articles()}
    assert registry == per_doc
    assert len(registry) == before + made
    hits = fresh.retrieve("Siapa Kepala BPSDM Provinsi Jambi?", k=3)
    assert hits and len(fresh.ranker.index) == fresh.store.count_chunks()


def test_reingest_check_catches_a_changed_article(tmp_path: Path) -> None:
    folder, store = tmp_path / "articles", tmp_path / "store"
    write_articles(folder, generator([], seed=2), 4)
    open_kb(store, "fake").ingest([folder])
    assert reingest.reingest_in_process(store, folder, "fake", 4) >= 0
    changed = folder / "laporan-00001.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nKalimat baru.\n", encoding="utf-8")
    with pytest.raises(SystemExit, match="changed something"):
        reingest.reingest_in_process(store, folder, "fake", 4)


def test_corrections_rewrite_the_articles_but_embed_only_their_changed_passages(
    tmp_path: Path,
) -> None:
    folder, store = tmp_path / "articles", tmp_path / "store"
    write_articles(folder, generator([], seed=2), 4)
    full = open_kb(store, "fake").ingest([folder])
    report, seconds = reingest.ingest_corrections(store, folder, "fake", every=2)
    assert len(report.updated) == 2 and len(report.unchanged) == 2 and seconds >= 0
    assert 0 < report.chunks_embedded < report.chunks_written < full.chunks_written


def test_a_moved_folder_replaces_the_old_articles_without_embedding(tmp_path: Path) -> None:
    folder, store = tmp_path / "docs" / "articles", tmp_path / "store"
    write_articles(folder, generator([], seed=2), 3)
    full = open_kb(store, "fake").ingest([folder])
    report, _ = reingest.ingest_moved(store, folder, "fake")
    assert len(report.added) == len(report.deleted) == 3
    assert report.chunks_written == full.chunks_written and report.chunks_embedded == 0
