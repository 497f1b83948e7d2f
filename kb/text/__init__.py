"""Text tools that ingesting and answering share: ``sentences`` (sentence splitting),
``analysis`` (tokens, stems, stop words), ``regions`` (the gazetteer of Indonesian regions),
``words`` (day and month names, read from ``words.json``), ``language``, ``glossary`` (English
question words to Indonesian), ``question`` (cleaning a question)."""
