"""The answer chain stands alone: any LangChain retriever, embedder and word statistics make
one, with no store, no Chroma and no ``KnowledgeBase`` behind it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json, sys
from langchain_core.retrievers import BaseRetriever
from kb.answer.chain import AnswerChain
from kb.embedders.models import HashingEmbeddings
from kb.retrieval.retriever import hit_document
from kb.settings import Settings
from kb.types import Hit

text = ("Kecamatan Ciputat membuka layanan malam setiap Jumat pukul 19.00 sampai 22.00. "
        "Warga mengurus KTP dan KK sepulang kerja.")
hit = Hit(doc_id="ciputat", chunk_id="ciputat:0", title="Layanan malam di Ciputat", text=text,
          score=1.0, start=0, end=len(text), dense_score=0.9, keyword_score=4.0, dense_rank=1,
          keyword_rank=1, metadata={"regions": ["Kecamatan Ciputat",
          "Kota Tangerang Selatan", "Provinsi Banten"], "outlet": "Contoh"})


class Passages(BaseRetriever):
    calls: list = []

    def _get_relevant_documents(self, query, *, run_manager, k=5, filters=None):
        self.calls.append([query, k, filters])
        return [hit_document(hit)]


class Words:
    def idf(self, token):
        return 1.0

    def coverage(self, query):
        return 1.0


retriever = Passages()
chain = AnswerChain(retriever, embedder=HashingEmbeddings(), index=Words,
                    settings=Settings(reader="none", load_samples=False), k=3)
answer = chain.invoke("Kapan layanan malam  Kecamatan Ciputat buka?", filters={"region": "Ciputat"})
other = chain.invoke("Siapa camat di Kabupaten Sleman?")
print(json.dumps({
    "answered": not answer.abstained,
    "cites": [c.doc_id for c in answer.citations],
    "time": "19.00" in answer.text,
    "sleman_declined": other.abstained,
    "calls": retriever.calls,
    "loaded": sorted(m for m in ("chromadb", "kb.knowledge_base", "kb.store.store", "ingest",
                                 "torch") if m in sys.modules),
}))
"""


def test_the_chain_answers_from_any_retriever_without_a_store() -> None:
    out = subprocess.run(
        [sys.executable, "-c", CODE], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    result = json.loads(out.splitlines()[-1])
    assert result["answered"] and result["cites"] == ["ciputat"] and result["time"]
    # a region the passages are not about is declined by the same chain
    assert result["sleman_declined"]
    # the question cleaned (double space) before it reached the retriever, with k and filters
    assert result["calls"] == [
        ["Kapan layanan malam Kecamatan Ciputat buka?", 3, {"region": "Ciputat"}],
        ["Siapa camat di Kabupaten Sleman?", 3, None],
    ]
    assert result["loaded"] == []
