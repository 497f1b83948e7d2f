"""Ingestion: files and folders in, articles and chunks out, written to the knowledge base."""
