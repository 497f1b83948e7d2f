"""What the store holds: a chunk, an article record, the fields each carries, and the text a
chunk's vector is made from (``embedding_text``) with its fingerprint (``embedding_key``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from kb.store.duplicates import LINKS_FIELD, SIGNATURE_FIELD

# Chunk metadata: the fingerprint of the text its vector was made from (``embedding_key``).
KEY_FIELD = "embedding_key"
# Fields of an article's record that its chunks do not carry (its chunk count, its page map,
# its duplicate signature and the copies found when it was written: ``kb.store.duplicates``).
ARTICLE_ONLY_FIELDS = frozenset({"chunks", "page_map", SIGNATURE_FIELD, LINKS_FIELD})
# Fields a chunk carries of its own, beside its article's metadata.
CHUNK_FIELDS = frozenset(
    {"chunk_index", "start", "end", KEY_FIELD, "page", "page_end", "page_breaks", "section"}
)


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    text: str
    metadata: dict[str, Any]
    distance: float | None = None


@dataclass(frozen=True)
class StoredArticle:
    doc_id: str
    text: str
    metadata: dict[str, Any]


def embedding_text(title: str, text: str, section: str = "") -> str:
    """What is embedded for a chunk: the title (it often names the place and the topic), the
    section path of a long report, then the passage. The stored passage stays bare, so its
    offsets point into the article."""
    head = "\n".join(x for x in (title, section) if x)
    return f"{head}\n{text}" if head else text


def embedding_key(embedded: str) -> str:
    """A short fingerprint of an ``embedding_text``, stored with the chunk: a passage embedded
    before (in this article, another one, or the same file moved) keeps its vector."""
    return hashlib.sha1(embedded.encode("utf-8")).hexdigest()[:20]
