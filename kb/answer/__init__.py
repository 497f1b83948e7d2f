"""Answering: from a question and its retrieved passages to a cited answer, or a decline.

``chain`` (the LangChain chain: one path for ``invoke`` and ``stream``), ``reader`` (the
trained span reader and its no-answer threshold), ``extractive`` (the sentence rules used
without a reader), ``citations`` (every [n] checked against its passage), ``gate`` (when to
decline), ``followups`` (a follow-up question made whole), ``llm`` (chat models and prompts,
the prompt texts in ``prompts/``), ``mrc`` and ``reader_train`` (reading sets, training).
"""
