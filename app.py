"""Launch the Gradio app: ``python app.py`` (the same app as ``kb serve``).

With the default store (``data/kb``) and an empty knowledge base, the sample articles are
ingested first, unless ``KB_LOAD_SAMPLES=false``; a store given by the user never gets samples.
Every setting is a ``KB_*`` variable (host, port, share, login, UI language: see the README).
"""

from __future__ import annotations

import sys

from kb.cli import open_app_kb
from kb.errors import KbError
from kb.ui import serve


def main() -> None:
    """Serve the app; a setting the user got wrong prints one line, not a traceback."""
    try:
        serve(open_app_kb(None))
    except KbError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
