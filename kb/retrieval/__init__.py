"""Retrieval: the hybrid of dense vectors and an Indonesian-aware keyword index.

``ranker`` (``HybridRanker``: both legs, filters, duplicates collapsed), ``fusion`` (how the
legs' scores become one order), ``keyword`` (the BM25 index), ``filters`` (one filter
definition for both legs), ``retriever`` (the LangChain retriever).
"""
