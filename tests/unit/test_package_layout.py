"""The package layout's one rule that code can break silently: imports flow one way.

``ingest/`` uses ``kb/`` (the store, the text tools); ``kb/`` uses ``ingest/`` only where it
ingests (``KnowledgeBase.ingest`` and ``ingest_articles``), so answering a question never
loads the loaders, and neither package needs the other to be importable first.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WHERE_KB_INGESTS = {"KnowledgeBase.ingest", "KnowledgeBase.ingest_articles"}


def _ingest_imports(path: Path) -> list[tuple[str, int]]:
    """``(enclosing function's qualified name or "<module>", line)`` of each import of ingest."""
    found: list[tuple[str, int]] = []

    def visit(node: ast.AST, scope: list[str]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, [*scope, child.name])
                continue
            names: list[str] = []
            if isinstance(child, ast.Import):
                names = [a.name for a in child.names]
            elif isinstance(child, ast.ImportFrom) and child.level == 0:
                names = [child.module or ""]
            if any(n == "ingest" or n.startswith("ingest.") for n in names):
                found.append((".".join(scope) or "<module>", child.lineno))
            visit(child, scope)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


def test_kb_imports_ingest_only_where_it_ingests() -> None:
    misplaced = [
        f"{path.relative_to(ROOT)}:{line} ({scope})"
        for path in sorted((ROOT / "kb").rglob("*.py"))
        for scope, line in _ingest_imports(path)
        if scope not in WHERE_KB_INGESTS
    ]
    assert misplaced == []


def test_the_check_finds_an_import_of_ingest(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from ingest.loaders import load\n"
        "class KnowledgeBase:\n"
        "    def ingest(self):\n"
        "        import ingest.pipeline\n"
        "    def ask(self):\n"
        "        from ingest import chunking\n",
        encoding="utf-8",
    )
    assert _ingest_imports(module) == [
        ("<module>", 1),
        ("KnowledgeBase.ingest", 4),
        ("KnowledgeBase.ask", 6),
    ]


def test_asking_and_serving_load_no_ingest_module() -> None:
    code = (
        "import sys\n"
        "import kb, kb.cli, kb.knowledge_base, kb.ui, kb.answer.chain, kb.retrieval.ranker\n"
        "import kb.store.store, kb.store.integrity, kb.ops.evaluate, kb.ops.feedback\n"
        "print(sorted(m for m in sys.modules if m == 'ingest' or m.startswith('ingest.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"
