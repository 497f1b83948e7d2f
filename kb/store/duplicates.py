"""Duplicate articles: one report under two names, one press release run by two outlets.

Each article written gets a signature (``signature``): a fingerprint of its normalised text
(lower case, words only), which exact copies share, and a MinHash (``datasketch``) of its
3-word shingles, whose estimated Jaccard similarity finds near copies: the same release with
another dateline, first line or outlet line. Ingest looks a new article up among the batch
and the stored articles (``DuplicateFinder``: an LSH index, each candidate verified) and
records on it the copies it found, each with that copy's content hash (``link``).

Groups are read from those links (``groups``): a link counts only while the copy it names is
registered with that content hash, so a deleted copy, or one since rewritten with other
text, no longer groups anything; a copy rewritten and still a copy links back by itself.

``datasketch`` (and scipy under it, about 1 s to import) is imported by ingest only: a search
reads the groups from the links and needs neither.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from datasketch import LeanMinHash

# Article-only registry fields (``kb.store.records.ARTICLE_ONLY_FIELDS``): the signature, encoded,
# and the links to the copies found when the article was written.
SIGNATURE_FIELD = "dup_signature"
LINKS_FIELD = "duplicate_of"
# Estimated Jaccard similarity of the shingle sets from which two articles are copies.
THRESHOLD = 0.8
# The LSH index proposes candidates from a lower similarity, each then checked against
# ``THRESHOLD``: an index tuned to 0.8 itself proposes only 40% of the pairs at 0.8 (9 bands
# of 13 rows), one tuned to 0.6 proposes 98.6% of them (18 bands of 7 rows).
CANDIDATE_THRESHOLD = 0.6
NUM_PERM = 128
SHINGLE_WORDS = 3
SEED = 1
# Fewer words than this: only an exact copy counts (a short notice that differs in one name
# is another notice, not a copy).
MIN_WORDS = 50
_SCHEME = "affine32"
# Changes with any setting that shapes a signature: those of another version are made again.
VERSION = f"mh1-{NUM_PERM}-{SHINGLE_WORDS}-{SEED}-{_SCHEME}-{MIN_WORDS}"
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """The words of ``text``, normalised: NFKC, case folded, punctuation dropped."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Signature:
    """``exact``: a fingerprint of the normalised text; ``minhash``: of its shingles
    (``None`` for a text under ``MIN_WORDS`` words)."""

    exact: str
    minhash: LeanMinHash | None = None

    def similarity(self, other: Signature) -> float:
        """1.0 for exact copies, else the estimated Jaccard similarity (0.0 without MinHash)."""
        if self.exact == other.exact:
            return 1.0
        if self.minhash is None or other.minhash is None:
            return 0.0
        return float(np.mean(self.minhash.hashvalues == other.minhash.hashvalues))

    def encode(self) -> str:
        """``VERSION:exact:base64`` (about 700 characters), for a metadata field."""
        packed = ""
        if self.minhash is not None:
            raw = np.asarray(self.minhash.hashvalues, dtype="<u4").tobytes()
            packed = base64.b64encode(raw).decode("ascii")
        return f"{VERSION}:{self.exact}:{packed}"

    @classmethod
    def decode(cls, value: Any) -> Signature | None:
        """The signature ``encode`` wrote; ``None`` for another version or an unreadable one."""
        parts = str(value or "").split(":")
        if len(parts) != 3 or parts[0] != VERSION or not parts[1]:
            return None
        exact, packed = parts[1], parts[2]
        if not packed:
            return cls(exact)
        try:
            values = np.frombuffer(base64.b64decode(packed, validate=True), dtype="<u4")
        except ValueError:
            return None
        if len(values) != NUM_PERM:
            return None
        from datasketch import LeanMinHash

        return cls(exact, LeanMinHash(seed=SEED, hashvalues=values, scheme=_SCHEME))


def signature(text: str) -> Signature:
    """The signature of an article's text."""
    tokens = words(text)
    exact = hashlib.sha256(" ".join(tokens).encode("utf-8")).hexdigest()[:32]
    if len(tokens) < MIN_WORDS:
        return Signature(exact)
    from datasketch import LeanMinHash, MinHash

    shingles = {
        " ".join(tokens[i : i + SHINGLE_WORDS]).encode("utf-8")
        for i in range(len(tokens) - SHINGLE_WORDS + 1)
    }
    minhash = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=_SCHEME)
    minhash.update_batch(list(shingles))
    return Signature(exact, LeanMinHash(minhash))


def is_current(value: Any) -> bool:
    """Whether a stored signature field was written by this version."""
    return str(value or "").startswith(VERSION + ":")


class DuplicateFinder:
    """The articles added so far, looked up by signature (``matches``)."""

    def __init__(self) -> None:
        from datasketch import MinHashLSH

        self._lsh = MinHashLSH(threshold=CANDIDATE_THRESHOLD, num_perm=NUM_PERM)
        self._exact: dict[str, list[str]] = {}
        self._signatures: dict[str, Signature] = {}
        self._order: dict[str, int] = {}

    def add(self, key: str, sig: Signature) -> None:
        if key in self._signatures:
            return
        self._signatures[key] = sig
        self._order[key] = len(self._order)
        self._exact.setdefault(sig.exact, []).append(key)
        if sig.minhash is not None:
            self._lsh.insert(key, sig.minhash, check_duplication=False)

    def signature(self, key: str) -> Signature:
        return self._signatures[key]

    def matches(self, sig: Signature) -> list[tuple[str, float]]:
        """``(key, similarity)`` of the added articles that ``sig`` duplicates, most alike
        first (then in the order added)."""
        candidates = set(self._exact.get(sig.exact, ()))
        if sig.minhash is not None:
            candidates.update(self._lsh.query(sig.minhash))
        found = [(key, sig.similarity(self._signatures[key])) for key in candidates]
        found = [(key, s) for key, s in found if s >= THRESHOLD]
        return sorted(found, key=lambda m: (-m[1], self._order[m[0]]))


def link(doc_id: str, content_hash: str) -> str:
    """A ``LINKS_FIELD`` entry: the copy ``doc_id`` as it was when found (its content hash)."""
    return f"{content_hash}:{doc_id}"


def groups(records: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, tuple[str, ...]]:
    """``doc_id -> its group`` (itself included, first ingested first) for every registered
    article that has a copy, from the registry's ``(doc_id, metadata)``. A link counts while
    the copy it names is registered with the content hash it recorded."""
    metas = dict(records)
    parent = {doc_id: doc_id for doc_id in metas}

    def root(doc_id: str) -> str:
        while parent[doc_id] != doc_id:
            parent[doc_id] = parent[parent[doc_id]]
            doc_id = parent[doc_id]
        return doc_id

    for doc_id, meta in metas.items():
        links = meta.get(LINKS_FIELD) or []
        for entry in links if isinstance(links, list) else [links]:
            digest, _, other = str(entry).partition(":")
            if other in metas and other != doc_id and metas[other].get("content_hash") == digest:
                parent[root(doc_id)] = root(other)
    members: dict[str, list[str]] = {}
    for doc_id in metas:
        members.setdefault(root(doc_id), []).append(doc_id)
    out: dict[str, tuple[str, ...]] = {}
    for group in members.values():
        if len(group) < 2:
            continue
        ordered = tuple(sorted(group, key=lambda d: (str(metas[d].get("ingested_at", "")), d)))
        for doc_id in group:
            out[doc_id] = ordered
    return out
