"""Fuzzing the loaders and the chunker: every input is an Article or a one-line Failure, never an
exception out of the batch, never a hang.

Each hypothesis test runs ``KB_FUZZ_EXAMPLES`` examples (200 by default, as in CI); the number
of inputs tried is printed in pytest's summary ("fuzz inputs tried").
"""

from __future__ import annotations

import html
import io
import itertools
import json
import os
import threading
import zipfile
from pathlib import Path
from typing import Any

import docx
import pytest
from conftest import fake_settings, make_kb
from files import make_pdf
from fuzz_fixtures import (
    EXAMPLES,
    FUZZ,
    InputCounter,
    assert_chunks_cover,
    inputs,
    load_checked,
    prepare,
    workdir,
    write,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from pypdf import PdfWriter

from ingest.chunking import chunk_spans
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ingest.loaders.sandbox import Sandbox, SandboxCrash, SandboxError, SandboxTimeout
from kb.embedders.models import HashingEmbeddings
from kb.settings import Settings
from kb.types import Article, Failure

__all__ = ["inputs", "workdir"]  # fixtures, imported for pytest

SUFFIXES = sorted(SUPPORTED_SUFFIXES)
_names = itertools.count()


def fresh(folder: Path, suffix: str, data: bytes) -> Path:
    return write(folder, f"in{next(_names)}{suffix}", data)


def squash(text: str) -> str:
    return "".join(text.split())


# --- random bytes ------------------------------------------------------------------------------

PREFIXES = [
    b"",
    b"%PDF-1.7\n",
    b"PK\x03\x04",
    b"<html><body><p>",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b'{"id": "a", "text": "',
    b"\xd0\xcf\x11\xe0",
]


@FUZZ
@given(
    prefix=st.sampled_from(PREFIXES),
    data=st.binary(max_size=20_000),
    suffix=st.sampled_from(SUFFIXES),
)
def test_random_bytes_under_every_suffix(
    workdir: Path, inputs: InputCounter, prefix: bytes, data: bytes, suffix: str
) -> None:
    inputs.add("random bytes")
    load_checked(fresh(workdir, suffix, prefix + data))


# --- encodings ---------------------------------------------------------------------------------


# No ':' (a closing "Sumber:" line is taken out of the text) and no control characters.
def pieces(parts: st.SearchStrategy[str], max_size: int) -> st.SearchStrategy[str]:
    """Text made of ``parts`` (characters or longer strings)."""
    return st.lists(parts, max_size=max_size).map("".join)


PLAIN = pieces(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=":")
    | st.sampled_from(["\n", "\r\n", " ", ". ", "\t"]),
    max_size=2000,
)


@FUZZ
@given(text=PLAIN, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_text_in_utf_encodings_keeps_every_word(
    workdir: Path, inputs: InputCounter, text: str, encoding: str
) -> None:
    inputs.add("text, UTF-8/UTF-16 with BOM")
    path = fresh(workdir, ".txt", text.encode(encoding))
    (result,) = load_checked(path)
    if not squash(text):
        assert isinstance(result, Failure) and result.reason == "empty file"
        return
    assert isinstance(result, Article), result
    if result.title == path.stem:  # one line: it is the body
        assert squash(result.text) == squash(text)
    else:
        assert squash(result.title + result.text) == squash(text)


@FUZZ
@given(
    text=st.text(max_size=2000),
    encoding=st.sampled_from(["latin-1", "cp1252", "utf-16-le", "utf-16-be", "utf-32", "cp1256"]),
    suffix=st.sampled_from([".txt", ".md", ".html", ".jsonl"]),
)
def test_text_in_wrong_encodings(
    workdir: Path, inputs: InputCounter, text: str, encoding: str, suffix: str
) -> None:
    inputs.add("text, other encodings")
    load_checked(fresh(workdir, suffix, text.encode(encoding, errors="replace")))


# --- huge lines, invisible and right-to-left characters ----------------------------------------

UNITS = [
    "a. ", "Kec. ", ".", "a", " ", "2017 ", "(ab) ", "Rp. 2015 ", "\u200b", "\u202e", "ب", "😀",
    "Kota Tangsel ", "<div>", "\t", "\r", "1.", "“”", "Sumber: ", "\n", "-", "…", "H.", "dilansir ",
]  # fmt: skip


def as_file(text: str, suffix: str) -> bytes:
    if suffix == ".jsonl":
        return json.dumps({"id": "x", "text": text}).encode()
    if suffix == ".html":
        return f"<html><body><p>{html.escape(text)}</p></body></html>".encode()
    return text.encode("utf-8")


@FUZZ
@given(
    units=st.lists(st.sampled_from(UNITS), min_size=1, max_size=4),
    repeat=st.integers(1, 20_000),
    suffix=st.sampled_from([".txt", ".md", ".html", ".jsonl"]),
)
def test_huge_single_lines(
    workdir: Path, inputs: InputCounter, units: list[str], repeat: int, suffix: str
) -> None:
    inputs.add("huge single lines")
    text = "".join(units) * repeat
    path = fresh(workdir, suffix, as_file(text, suffix))
    load_checked(path)
    path.unlink()


INVISIBLE = pieces(
    st.sampled_from(
        list("\u200b\u200c\u200d\u2060\ufeff\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
        + list("ابتثجحخ שלום ①ﷺ\u0301\u0610")
        + ["😀", "👩‍💻", "🇮🇩", "Kecamatan ", "Ciputat", ". ", "\n", " ", "Jumat malam"]
    ),
    max_size=500,
)


@FUZZ
@given(text=INVISIBLE, suffix=st.sampled_from([".txt", ".md", ".html", ".jsonl"]))
def test_zero_width_and_right_to_left_characters(
    workdir: Path, inputs: InputCounter, text: str, suffix: str
) -> None:
    inputs.add("zero-width / RTL text")
    (result,) = load_checked(fresh(workdir, suffix, as_file(text, suffix)))
    if suffix == ".jsonl" and text.strip():
        assert isinstance(result, Article) and result.text == text  # kept exactly
    if suffix == ".txt":  # a leading U+FEFF is a byte-order mark, not text
        assert isinstance(result, Article) == bool(text.removeprefix("\ufeff").strip())
    if suffix == ".html" and text.split():
        # Read as UTF-8: charset detection used to turn "\u200b" into "тАЛ".
        assert isinstance(result, Article) and result.text == " ".join(text.split())


PATHOLOGICAL = ["a. ", "Kec. ", ".", "2017 ", "Kota Tangsel ", "(ab) ", "1.", "Rp. "]


@pytest.mark.parametrize("unit", PATHOLOGICAL)
def test_chunker_and_metadata_are_linear_on_half_a_million_characters(
    unit: str, inputs: InputCounter
) -> None:
    # Each of these took minutes at 80,000 characters before the chunker and the year finder
    # were made linear; 500,000 would have taken hours.
    inputs.add("pathological 500k texts")
    text = unit * (500_000 // len(unit))
    prepare(Article(doc_id="x", title="Judul", text=text, source="s"))


@FUZZ
@given(
    text=pieces(st.sampled_from([*"ab .!?…\"')]\n\t", "Kec.", "H.", " B", "2017"]), 3000),
    max_chars=st.integers(50, 400),
    overlap=st.integers(0, 300),
)
def test_chunk_spans_cover_the_text(
    inputs: InputCounter, text: str, max_chars: int, overlap: int
) -> None:
    inputs.add("chunker")
    assert_chunks_cover(text, chunk_spans(text, max_chars, overlap), max_chars)


# --- HTML --------------------------------------------------------------------------------------

DROPPED = {"script", "style", "nav", "header", "footer", "aside", "noscript", "template"}
WORDS = st.text(st.sampled_from(list("abcdefghij KLMNO")), min_size=1, max_size=80).filter(
    lambda s: s.strip()
)


@FUZZ
@given(
    depth=st.integers(1, 3000),
    tag=st.sampled_from(["div", "span", "p", "ul", "li", "b", "article", "section", *DROPPED]),
    closed=st.booleans(),
    inner=WORDS,
)
def test_deeply_nested_html(
    workdir: Path, inputs: InputCounter, depth: int, tag: str, closed: bool, inner: str
) -> None:
    inputs.add("nested HTML")
    page = f"<html><body>{f'<{tag}>' * depth}{inner}{f'</{tag}>' * depth if closed else ''}"
    (result,) = load_checked(fresh(workdir, ".html", page.encode()))
    if tag in DROPPED:
        assert isinstance(result, Failure) and result.reason == "no text found"
    else:
        assert isinstance(result, Article) and result.text == " ".join(inner.split())


def test_100k_nested_divs(tmp_path: Path, inputs: InputCounter) -> None:
    inputs.add("nested HTML")
    n = 100_000
    page = (
        "<html><body>" + "<div>" * n + "Isi laporan yang dalam." + "</div>" * n + "</body></html>"
    )
    (result,) = load_checked(write(tmp_path, "dalam.html", page.encode()))
    # About 15 s of BeautifulSoup here; on a slower machine the parse limit may refuse it.
    if isinstance(result, Failure):
        assert result.reason.startswith("parsing took longer than")
    else:
        assert result.text == "Isi laporan yang dalam."


# --- PDF ---------------------------------------------------------------------------------------


@FUZZ
@given(pages=st.integers(1, 4), kind=st.sampled_from(["blank", "empty text object"]))
def test_pdf_without_text_layer(workdir: Path, inputs: InputCounter, pages: int, kind: str) -> None:
    inputs.add("PDF without text")
    if kind == "blank":
        writer = PdfWriter()
        for _ in range(pages):
            writer.add_blank_page(width=595, height=842)
        buffer = io.BytesIO()
        writer.write(buffer)
        data = buffer.getvalue()
    else:
        data = make_pdf([[] for _ in range(pages)])
    (result,) = load_checked(fresh(workdir, ".pdf", data))
    assert isinstance(result, Failure) and result.reason == "no text layer (scanned PDF?)"


GOOD_PDF = make_pdf([["Laporan Kecamatan", "Pelayanan dibuka Jumat malam."], ["Halaman dua."]])


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, len(GOOD_PDF) - 1), st.integers(0, 255)), max_size=30),
    cut=st.none() | st.integers(0, len(GOOD_PDF)),
)
def test_mutated_pdf(
    workdir: Path, inputs: InputCounter, flips: list[tuple[int, int]], cut: int | None
) -> None:
    inputs.add("mutated PDF")
    data = bytearray(GOOD_PDF)
    for position, value in flips:
        data[position] = value
    load_checked(fresh(workdir, ".pdf", bytes(data[:cut])))


# --- Word --------------------------------------------------------------------------------------

PART_NAMES = [
    "word/document.xml",
    "[Content_Types].xml",
    "_rels/.rels",
    "word/_rels/document.xml.rels",
    "docProps/core.xml",
    "mimetype",
    "../evil.txt",
]


NAME_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00/\\")


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@FUZZ
@given(
    members=st.dictionaries(
        # zipfile itself cannot write a name with a NUL, a surrogate, or only slashes.
        st.sampled_from(PART_NAMES) | st.text(NAME_CHARS, min_size=1, max_size=20),
        st.binary(max_size=2000) | st.sampled_from([b"<w:document/>", b"<?xml version='1.0'?>"]),
        max_size=6,
    )
)
def test_zip_that_is_not_a_document(
    workdir: Path, inputs: InputCounter, members: dict[str, bytes]
) -> None:
    inputs.add("zip that is not a .docx")
    (result,) = load_checked(fresh(workdir, ".docx", zip_of(members)))
    assert isinstance(result, Failure), result
    assert result.reason.startswith(("not a valid .docx", "no text found", "refusing .docx"))


def _good_docx() -> bytes:
    document = docx.Document()
    document.core_properties.title = "Rapat Camat"
    for text in ("Rapat Camat", "Layanan dibuka Sabtu.", "Warga datang pukul 08.00."):
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


GOOD_DOCX = _good_docx()


@FUZZ
@given(
    flips=st.lists(st.tuples(st.integers(0, len(GOOD_DOCX) - 1), st.integers(0, 255)), max_size=20)
)
def test_mutated_docx(workdir: Path, inputs: InputCounter, flips: list[tuple[int, int]]) -> None:
    inputs.add("mutated .docx")
    data = bytearray(GOOD_DOCX)
    for position, value in flips:
        data[position] = value
    load_checked(fresh(workdir, ".docx", bytes(data)))


def test_zip_bomb_named_docx_is_refused_before_it_is_unpacked(
    tmp_path: Path, inputs: InputCounter
) -> None:
    inputs.add("zip bombs")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        with archive.open("word/document.xml", "w") as member:
            zeros = bytes(1024 * 1024)
            for _ in range(250):  # 250 MB of zeros, about 250 kB packed
                member.write(zeros)
    assert len(buffer.getvalue()) < 1024 * 1024

    (result,) = load_checked(write(tmp_path, "bom.docx", buffer.getvalue()))

    assert isinstance(result, Failure)
    assert result.reason.startswith("refusing .docx: 250.0 MB uncompressed")


def test_docx_with_an_entity_expansion_bomb(tmp_path: Path, inputs: InputCounter) -> None:
    inputs.add("zip bombs")
    entities = '<!ENTITY a0 "ha">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10)
    )
    document = zipfile.ZipFile(io.BytesIO(GOOD_DOCX))
    members = {name: document.read(name) for name in document.namelist()}
    members["word/document.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE w:document [{entities}]>'.encode()
        + members["word/document.xml"].split(b"?>", 1)[1].replace(b"Rapat Camat", b"&a9;", 1)
    )
    (result,) = load_checked(write(tmp_path, "tawa.docx", zip_of(members)))
    # Refused, or read without expanding 10^9 "ha"s.
    assert isinstance(result, Failure) or len(result.text) < 10_000


# --- jsonl -------------------------------------------------------------------------------------

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["7", "3.5", "true", "null", "", " ", "2017-11-07"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
RECORDS = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(min_size=1, max_size=12) | st.integers(0, 5) | VALUES,
        "title": st.text(max_size=40) | VALUES,
        "text": st.text(min_size=1, max_size=400) | VALUES,
        "date": VALUES,
        "region": VALUES,
        "outlet": VALUES,
        "url": VALUES,
        "regions": VALUES,
    },
)
GARBAGE = st.text(max_size=80).filter(lambda s: "\n" not in s) | st.sampled_from(
    [
        '{"id": "s", "text": "a\\udc00b"}',
        '{"id": "\\ud800", "text": "lone surrogate id"}',
        '{"id": "n", "text": "x", "big": ' + "9" * 5000 + "}",
        "[" * 5000 + "]" * 5000,
        '{"id": "d", "text": "dup"} {"x": 1}',
    ]
)
LINES = st.lists(
    RECORDS.map(json.dumps) | VALUES.map(json.dumps) | GARBAGE | st.just(""), max_size=12
)


def expected_jsonl(line: str, seen: set[str]) -> dict[str, Any] | None:
    """The record the loader must turn into an Article, or None for a Failure."""
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(record, dict):
        return None
    doc_id, text, title = record.get("id"), record.get("text"), record.get("title")
    if isinstance(doc_id, bool) or not isinstance(doc_id, str | int) or not str(doc_id).strip():
        return None
    if not isinstance(text, str) or not text.strip() or not isinstance(title, str | None):
        return None
    if str(doc_id) in seen:
        return None
    seen.add(str(doc_id))
    return record


@FUZZ
@given(lines=LINES)
def test_jsonl_with_wrong_types(workdir: Path, inputs: InputCounter, lines: list[str]) -> None:
    inputs.add("jsonl lines", max(1, len(lines)))
    data = "\n".join(lines).encode("utf-8", "surrogatepass")
    path = fresh(workdir, ".jsonl", data)
    if not data.strip() or b"\x00" in data[:8192]:  # one failure for the whole file
        (result,) = load_checked(path)
        assert isinstance(result, Failure)
        assert result.reason == ("binary file, not text" if data.strip() else "empty file")
        return
    results = load_checked(path)
    seen: set[str] = set()
    wanted = [
        (number, expected_jsonl(line, seen))
        for number, line in enumerate(lines, 1)
        if line.encode("utf-8", "surrogatepass").strip()
    ]
    assert [r.line for r in results] == [number for number, _ in wanted]
    for result, (_, record) in zip(results, wanted, strict=True):
        if record is None:
            assert isinstance(result, Failure), (result, record)
            continue
        assert isinstance(result, Article), (result, record)
        if "\\ud" not in json.dumps(record):  # lone surrogates become U+FFFD
            assert result.text == record["text"]
            assert result.title == (record.get("title") or "")
        for value in result.metadata.values():
            assert isinstance(value, str | int | float | bool)


def test_jsonl_huge_lines(tmp_path: Path, inputs: InputCounter) -> None:
    inputs.add("jsonl lines", 3)
    lines = [
        json.dumps({"id": "besar", "text": "Layanan malam. " * 70_000}),  # about 1M characters
        json.dumps({"id": "terlalu", "text": "x" * 2_000_001}),
        json.dumps({"id": "kecil", "text": "Teks kecil."}),
    ]
    results = load_checked(write(tmp_path, "besar.jsonl", "\n".join(lines).encode()))
    assert [type(r).__name__ for r in results] == ["Article", "Failure", "Article"]
    failure = results[1]
    assert isinstance(failure, Failure)
    assert failure.reason == "text too long (2,000,001 characters; limit 2,000,000)"


# --- the whole batch ---------------------------------------------------------------------------


@settings(FUZZ, max_examples=max(5, EXAMPLES // 20))
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from(SUFFIXES),
            st.binary(max_size=3000) | PLAIN.map(str.encode) | INVISIBLE.map(str.encode),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_batch_of_bad_files_never_stops_the_ingest(
    tmp_path_factory: pytest.TempPathFactory,
    inputs: InputCounter,
    files: list[tuple[str, bytes]],
) -> None:
    inputs.add("files in ingest batches", len(files))
    folder = tmp_path_factory.mktemp("batch")
    kb = make_kb(settings=fake_settings(folder / "store"), embedder=HashingEmbeddings())
    paths = [write(folder, f"f{i}{suffix}", data) for i, (suffix, data) in enumerate(files)]

    report = kb.ingest(paths)

    by_source = {str(p.resolve()) for p in paths}
    assert {f.source for f in report.failed} <= by_source
    stored = {a.source for a in kb.articles()}
    assert stored <= by_source
    for path in paths:  # every file is stored or reported
        assert str(path.resolve()) in stored | {f.source for f in report.failed}
    assert kb.store.count_articles() == len(report.added)


# --- time, size and memory limits --------------------------------------------------------------


def test_a_stuck_parser_is_killed_at_the_deadline_and_replaced(inputs: InputCounter) -> None:
    inputs.add("sandbox")
    sandbox = Sandbox()
    try:
        # Catastrophic backtracking inside C code: no thread could stop this; a process can.
        with pytest.raises(SandboxTimeout):
            sandbox.call("re:match", r"(a+)+$", "a" * 64 + "b", timeout=1.0)
        assert sandbox.call("math:sqrt", 16.0, timeout=30) == 4.0
        with pytest.raises(SandboxCrash):
            sandbox.call("os:abort", timeout=30)
        assert sandbox.call("math:sqrt", 9.0, timeout=30) == 3.0
        assert sandbox.started == 3
    finally:
        sandbox.close()


def test_the_parser_process_has_a_memory_limit(inputs: InputCounter) -> None:
    inputs.add("sandbox")
    sandbox = Sandbox(memory_bytes=1024**3)
    try:
        with pytest.raises(SandboxError, match=r"^MemoryError"):
            sandbox.call("builtins:bytearray", 2 * 1024**3, timeout=30)
    finally:
        sandbox.close()


def test_parse_timeout_is_a_failure_and_the_next_file_loads(tmp_path: Path) -> None:
    path = write(tmp_path, "laporan.pdf", GOOD_PDF)

    (late,) = load_file(path, timeout_s=1e-6)
    (ok,) = load_file(path)

    assert isinstance(late, Failure)
    assert late.reason == (
        "parsing took longer than 1e-06 s (the KB_PARSE_TIMEOUT_S limit): the file may be malformed"
    )
    assert isinstance(ok, Article) and ok.title == "Laporan Kecamatan"


def test_limits_are_settings(tmp_path: Path) -> None:
    env = {"KB_MAX_FILE_MB": "0.001", "KB_PARSE_TIMEOUT_S": "1e-6"}
    settings_ = Settings.from_env(env, store=tmp_path / "store", embedding_model="fake")
    assert (settings_.max_file_mb, settings_.parse_timeout_s) == (0.001, 1e-6)
    kb = make_kb(settings=settings_, embedder=HashingEmbeddings())
    big = write(tmp_path, "besar.txt", b"Judul\n" + b"isi " * 1000)
    pdf = write(tmp_path, "laporan.pdf", GOOD_PDF)

    report = kb.ingest([big, pdf])

    reasons = {Path(f.source).name: f.reason for f in report.failed}
    assert reasons["besar.txt"] == "file too large (4,006 bytes; limit 1,048 bytes)"
    assert reasons["laporan.pdf"].startswith("parsing took longer than 1e-06 s")


def test_a_fifo_named_txt_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipa.txt"
    os.mkfifo(fifo)
    results: list[Article | Failure] = []
    reader = threading.Thread(target=lambda: results.extend(load_file(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=30)  # before the fix, open() waited forever for a writer
    assert results == [Failure(str(fifo.resolve()), None, "not a regular file")]
