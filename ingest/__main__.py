"""``python -m ingest PATH...`` is ``kb ingest PATH...``."""

from kb.cli import ingest, main

if __name__ == "__main__":
    main(prog_name="python -m ingest", command=ingest)
