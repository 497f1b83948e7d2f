"""Helpers of the crash-safety and ``kb check`` tests: a generated corpus, the ``kb`` command in
a subprocess with the fault hook, and a snapshot of everything a store holds."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.embedders.models import HashingEmbeddings
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
from kb.store.integrity import diagnose

# Small chunks and one-text embedding batches: each article has several chunks and an ingest
# writes many groups, so there are many boundaries to kill at. The subprocess gets the same
# values through the environment.
CHUNK_CHARS = 200
OVERLAP_CHARS = 60
ENV = {
    "KB_EMBEDDING_MODEL": "fake",
    "KB_CHUNK_CHARS": str(CHUNK_CHARS),
    "KB_CHUNK_OVERLAP_CHARS": str(OVERLAP_CHARS),
    "KB_EMBEDDING_BATCH_SIZE": "1",
    "KB_LOAD_SAMPLES": "false",
}

_WORDS = (
    "warga layanan kecamatan desa inovasi kantor camat pelayanan publik daerah kota kabupaten "
    "aplikasi antrean malam sabtu data kependudukan pasar sekolah puskesmas bupati lurah "
    "posyandu jalan sampah air bersih perizinan digital pajak sertifikat nelayan petani"
).split()


def settings(store: Path) -> Settings:
    return Settings(
        store=store,
        embedding_model="fake",
        load_samples=False,
        chunk_chars=CHUNK_CHARS,
        chunk_overlap_chars=OVERLAP_CHARS,
        embedding_batch_size=1,
    )


def open_kb(store: Path) -> KnowledgeBase:
    return KnowledgeBase(settings=settings(store), embedder=HashingEmbeddings())


def marker(n: int) -> str:
    """A made-up word only article ``n`` holds, so a query finds exactly that article."""
    letters = "bcdfghjklmnprstvz"
    word = ""
    while True:
        word += letters[n % len(letters)]
        n //= len(letters)
        if not n:
            return f"zo{word}rak"


def article_text(n: int, version: int = 1) -> str:
    """Title line and 5-9 sentences: about 4-6 chunks of CHUNK_CHARS."""
    rng = random.Random(n * 1000 + version)
    sentences = []
    for s in range(rng.randint(5, 9)):
        words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 12))]
        if s == 1:
            words.append(marker(n))
        sentences.append(" ".join(words).capitalize() + ".")
    return f"Inovasi layanan nomor {n} versi {version}\n" + " ".join(sentences) + "\n"


def write_corpus(folder: Path, numbers: range | list[int], version: int = 1) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (folder / f"laporan-{n:03d}.txt").write_text(article_text(n, version), encoding="utf-8")


def kb_env(store: Path, fault: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env.update(ENV, KB_STORE=str(store))
    if fault:
        env["KB_FAULT"] = fault
    return env


def run_kb(
    args: list[str], store: Path, fault: str | None = None, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m kb ARGS`` on ``store``; ``fault`` is a ``KB_FAULT`` value (see kb.store)."""
    return subprocess.run(
        [sys.executable, "-m", "kb", *args],
        capture_output=True,
        text=True,
        env={**kb_env(store, fault), **(extra or {})},
        timeout=300,
    )


def kill_after(args: list[str], store: Path, delay: float) -> bool:
    """Start ``python -m kb ARGS`` and SIGKILL it after ``delay`` s; true if it was killed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "kb", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=kb_env(store),
    )
    time.sleep(delay)
    running = proc.poll() is None
    if running:
        proc.kill()
    proc.wait(timeout=60)
    return running and proc.returncode == -9


def timed_run(args: list[str], store: Path) -> float:
    started = time.perf_counter()
    done = run_kb(args, store)
    assert done.returncode == 0, done.stderr
    return time.perf_counter() - started


def snapshot(kb: KnowledgeBase, queries: Sequence[str] = ()) -> dict[str, Any]:
    """Everything that must be equal to a clean run's (``ingested_at`` aside)."""
    store = kb.store
    chunks: dict[str, Any] = {}
    for chunk, vector in store.iter_chunks(include_embeddings=True):
        meta = {k: v for k, v in chunk.metadata.items() if k != "ingested_at"}
        digest = hashlib.sha1(bytes(memoryview(_rounded(vector)))).hexdigest()
        chunks[chunk.chunk_id] = (chunk.text, sorted(meta.items()), digest)
    registry = {
        r.doc_id: (r.text, sorted((k, v) for k, v in r.metadata.items() if k != "ingested_at"))
        for r in store.iter_articles(include_text=True)
    }
    per_article: dict[str, int] = {}
    for _, meta, _ in chunks.values():
        doc_id = dict(meta)["doc_id"]
        per_article[doc_id] = per_article.get(doc_id, 0) + 1
    retriever = kb.ranker
    retriever.sync()
    return {
        "chunk_ids": sorted(chunks),
        "chunks": chunks,
        "chunks_per_article": per_article,
        "hashes": {d: dict(m)["content_hash"] for d, (_, m) in registry.items()},
        "registry": registry,
        "keyword_index": sorted(retriever.index.ids),
        "pending": store.pending,
        "problems": [p.kind for p in diagnose(store, kb.embedder_name)],
        "answers": {q: _answers(kb, q) for q in queries},
    }


def _answers(kb: KnowledgeBase, query: str) -> tuple[list[float], list[str]]:
    """The scores of the top hits, and the ids of those whose score no other hit has: ties
    (made-up queries match few chunks) come in Chroma's storage order, which may differ."""
    hits = kb.retrieve(query, k=5)
    scores = [round(h.score, 4) for h in hits]
    return scores, [h.chunk_id for h, s in zip(hits, scores, strict=True) if scores.count(s) == 1]


def _rounded(vector: Any) -> Any:
    import numpy as np

    return np.round(np.asarray(vector, dtype=np.float64), 5)


def differences(got: dict[str, Any], want: dict[str, Any]) -> list[str]:
    """The snapshot keys that differ, with a hint of how."""
    out = []
    for key in want:
        if got[key] != want[key]:
            hint = ""
            if isinstance(want[key], dict):
                extra = sorted(set(got[key]) - set(want[key]))[:3]
                missing = sorted(set(want[key]) - set(got[key]))[:3]
                hint = f" extra {extra} missing {missing}"
            out.append(f"{key}{hint}")
    return out
