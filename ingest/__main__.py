"""``python -m ingest PATH...`` is ``kb ingest PATH...``."""

import sys

from kb.cli import main

if __name__ == "__main__":
    main(["ingest", *sys.argv[1:]], prog_name="python -m ingest")
