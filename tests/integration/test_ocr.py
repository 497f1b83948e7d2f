"""Scanned PDFs and photos of report pages, read with Tesseract (``ingest.loaders.ocr``).

The scans and photos are made by ``ocr_samples`` from known text. Tests marked ``ocr`` run the
real Tesseract (``ind+eng``); without it they skip, except with ``CI=true`` where they fail
(``.ci/run`` installs it). The others replace the page's recognition with a fake that counts
its calls, so the page loop, the cache, the limits and the progress run everywhere.
"""

from __future__ import annotations

import io
import os
import shutil
import stat
from pathlib import Path
from typing import Any

import ocr_samples as samples
import pytest
from conftest import fake_settings, make_kb

from ingest.loaders import LoadLimits, load, load_file, ocr
from ingest.loaders.scan import OcrSpec
from kb.cli import main
from kb.embedders.models import HashingEmbeddings
from kb.errors import ConfigError
from kb.formats import size
from kb.settings import Settings
from kb.types import Article, Failure
from kb.ui import uploads

FAKE_SPEC = OcrSpec(cmd="tesseract", languages="ind+eng", dpi=300, config="", version="fake")


def tesseract_or_skip() -> None:
    """Skip without Tesseract and its models, except in CI where that is a failure."""
    spec = ocr.ocr_spec("auto")
    if isinstance(spec, str):
        problem = f"{spec} (apt install tesseract-ocr tesseract-ocr-ind; pip install -e '.[ocr]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"OCR tests cannot run in CI: {problem}")
        pytest.skip(problem)


def one(path: Path, **limits: object) -> Article | Failure:
    results = list(load(path, LoadLimits(**limits)))  # type: ignore[arg-type]
    assert len(results) == 1, results
    return results[0]


def article(path: Path, **limits: object) -> Article:
    result = one(path, **limits)
    assert isinstance(result, Article), result
    return result


def failure(path: Path, **limits: object) -> str:
    result = one(path, **limits)
    assert isinstance(result, Failure), result
    return result.reason


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of four reports: born-digital, scanned (the poor scan), mixed, a phone photo."""
    folder = tmp_path_factory.mktemp("ocr") / "reports"
    write(folder / "lembayung.pdf", samples.text_pdf([samples.BORN_DIGITAL]))
    write(
        folder / "sukamaju-scan.pdf", samples.image_pdf([samples.poor_scan(samples.EVENING)], 200)
    )
    scanned_page = samples.image_pdf([samples.clean_scan(samples.MIXED_SCANNED_PAGE)], 300)
    mixed = samples.joined_pdf(samples.text_pdf([samples.MIXED_TEXT_PAGE]), scanned_page)
    write(folder / "kenanga.pdf", mixed)
    write(folder / "teluk-biru.png", samples.phone_photo(samples.PHOTO))
    return folder


class FakeOcr:
    """Stands in for Tesseract: each page reads as a sentence naming it; calls are counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int, OcrSpec]] = []
        self.spec: OcrSpec | str = FAKE_SPEC
        monkeypatch.setattr(ocr, "ocr_spec", self.spec_for)
        monkeypatch.setattr(ocr, "recognise_page", self.recognise)

    def spec_for(self, setting: str = "auto") -> OcrSpec | str:
        return "OCR is off (KB_OCR=off)" if setting == "off" else self.spec

    def recognise(self, document: object, index: int, spec: OcrSpec) -> str:
        self.calls.append((getattr(document, "digest", ""), index, spec))
        return f"Halaman pindaian nomor {index + 1} dibaca oleh pengenal teks palsu."


@pytest.fixture
def fake_ocr(monkeypatch: pytest.MonkeyPatch) -> FakeOcr:
    return FakeOcr(monkeypatch)


# --- the text-layer rule ---------------------------------------------------------------------


def test_a_text_layer_is_usable_with_50_letters_mostly_in_words() -> None:
    assert ocr.usable_text(samples.BORN_DIGITAL)
    # Numbers do not count against a page: a table of figures with its labels is text.
    assert ocr.usable_text(
        "Jumlah warga dilayani menurut kelurahan dan bulan pelayanan tahun ini "
        + "2024 1.234 56% 7/11 " * 30
    )
    assert not ocr.usable_text("Halaman 12")  # fewer than 50 letters
    assert not ocr.usable_text("Laporan Kecamatan Sukamaju tahun anggaran dua ribu")  # 44
    # A hidden layer of symbols and single letters, as a poor scanner writes it.
    assert not ocr.usable_text("ﬁ ¢ a £ ¥ § x ¶ ; " * 20 + "Laporan kecamatan")
    assert not ocr.usable_text(" ".join("a b c d e f g h i j k l m n o p q r s t".split() * 4))


# --- real Tesseract --------------------------------------------------------------------------


@pytest.mark.ocr
@pytest.mark.parametrize(
    ("kind", "target"), [("clean scan", 0.02), ("poor scan", 0.05), ("phone photo", 0.08)]
)
def test_scans_and_a_phone_photo_are_read_within_their_error_targets(
    tmp_path: Path, kind: str, target: float
) -> None:
    tesseract_or_skip()
    if kind == "clean scan":
        path = write(
            tmp_path / "a.pdf", samples.image_pdf([samples.clean_scan(samples.EVENING)], 300)
        )
        reference = samples.EVENING
    elif kind == "poor scan":
        path = write(
            tmp_path / "a.pdf", samples.image_pdf([samples.poor_scan(samples.EVENING)], 200)
        )
        reference = samples.EVENING
    else:  # stored on its side: read upright only when the EXIF orientation is honoured
        path = write(tmp_path / "a.png", samples.phone_photo(samples.PHOTO))
        reference = samples.PHOTO

    read = article(path)

    assert samples.cer(f"{read.title}\n{read.text}", reference) <= target
    assert read.title == reference.split("\n")[0]


@pytest.mark.ocr
def test_a_folder_of_every_kind_ingests_in_one_kb_ingest_and_each_is_found(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tesseract_or_skip()
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake")
    recognised: list[int] = []
    real = ocr.recognise_page

    def spy(document: Any, index: int, spec: OcrSpec) -> str:
        recognised.append(index)
        return real(document, index, spec)

    monkeypatch.setattr(ocr, "recognise_page", spy)
    store = tmp_path / "store"

    main(["ingest", str(reports), "--store", str(store)])  # exits 1 on any failure

    # The scan, the mixed PDF's second page and the photo; the born-digital pages are not.
    assert sorted(recognised) == [0, 0, 1]
    kb = make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())
    questions = {
        "Siapa lurah yang mengantar akta kelahiran ke rumah warga lansia dengan sepeda?": (
            "lembayung.pdf"
        ),
        "Jam berapa loket layanan malam Kecamatan Sukamaju buka pada Selasa dan Kamis?": (
            "sukamaju-scan.pdf"
        ),
        "Berapa sopir ambulans desa Puskesmas Kenanga yang bergiliran dalam sif?": "kenanga.pdf",
        "Bidan mana yang membawa vaksin dengan perahu motor ke pulau kecil?": "teluk-biru.png",
    }
    for question, name in questions.items():
        hits = kb.retrieve(question, k=1)
        assert Path(hits[0].metadata["source"]).name == name, question
    assert "Kenanga" in kb.retrieve("antrean daring ruang tunggu", k=1)[0].title

    # Again, unchanged: every page comes from the OCR cache under the store.
    recognised.clear()
    again = kb.ingest([reports])
    assert recognised == []
    assert len(again.unchanged) == 4 and again.ok
    assert len(list((store / "ocr-cache").glob("*/*.txt"))) == 3


@pytest.mark.ocr
def test_the_time_limit_is_each_pages_not_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tesseract made 1.2 s slower a page: four pages under a 4 s limit load (about 8 s in
    all); with a 1 s limit the first page is refused, naming the per-page limit."""
    tesseract_or_skip()
    import pytesseract

    real = shutil.which(str(pytesseract.pytesseract.tesseract_cmd))
    assert real is not None
    slow = tmp_path / "slow-tesseract"
    slow.write_text(f'#!/bin/sh\ncase "$1" in --*) ;; *) sleep 1.2 ;; esac\nexec {real} "$@"\n')
    slow.chmod(slow.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(slow))
    pages = [samples.render_page(f"Halaman {n}\nLaporan pelayanan warga.", 150) for n in "1234"]
    path = write(tmp_path / "empat.pdf", samples.image_pdf(pages, 150))

    read = article(path, timeout_s=4.0)
    late = failure(path, timeout_s=1.0)

    assert [line for line in read.text.split("\n") if line.startswith("Halaman")] == [
        "Halaman 2",
        "Halaman 3",
        "Halaman 4",
    ]
    assert read.title == "Halaman 1"
    assert late == (
        "page 1: reading it took longer than 1 s (the KB_PARSE_TIMEOUT_S limit, per page)"
    )


def test_without_tesseract_or_with_ocr_off_a_scan_fails_saying_how_to_install(
    reports: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pytesseract

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", str(tmp_path / "none"))
    install = 'apt install tesseract-ocr tesseract-ocr-ind and pip install -e ".[ocr]"'

    assert failure(reports / "sukamaju-scan.pdf") == (
        f"a scanned PDF (no text layer) needs OCR, but Tesseract is not installed: {install}"
    )
    assert failure(reports / "teluk-biru.png") == (
        f"an image needs OCR, but Tesseract is not installed: {install}"
    )
    # The born-digital file is read as ever; the mixed one from its text layer alone.
    assert article(reports / "lembayung.pdf").title == "Kelurahan Lembayung Antar Akta ke Rumah"
    assert "Ambulans" not in article(reports / "kenanga.pdf").text

    kb = make_kb(
        settings=fake_settings(tmp_path / "store", ocr="off"), embedder=HashingEmbeddings()
    )
    report = kb.ingest([reports])
    reasons = {Path(f.source).name: f.reason for f in report.failed}
    assert reasons == {
        "sukamaju-scan.pdf": "a scanned PDF (no text layer) needs OCR, but OCR is off "
        f"(KB_OCR=off): set KB_OCR=auto, with {install}",
        "teluk-biru.png": "an image needs OCR, but OCR is off (KB_OCR=off): set KB_OCR=auto, "
        f"with {install}",
    }
    assert len(report.added) == 2


# --- the page loop, with a fake recogniser ---------------------------------------------------


def test_a_mixed_pdf_keeps_each_pages_own_text_layer(reports: Path, fake_ocr: FakeOcr) -> None:
    read = article(reports / "kenanga.pdf")

    assert [index for _, index, _ in fake_ocr.calls] == [1]
    assert read.title == "Antrean Daring Puskesmas Kenanga"
    assert read.text.startswith("Puskesmas Kenanga di Kecamatan Sukamaju memakai antrean")
    assert read.text.endswith("Halaman pindaian nomor 2 dibaca oleh pengenal teks palsu.")
    # A born-digital file has nothing to recognise.
    article(reports / "lembayung.pdf")
    assert len(fake_ocr.calls) == 1


def test_a_page_is_recognised_once_per_file_page_and_ocr_settings(
    tmp_path: Path, fake_ocr: FakeOcr
) -> None:
    pages = [samples.render_page(f"Halaman {n}", 100) for n in (1, 2)]
    path = write(tmp_path / "scan.pdf", samples.image_pdf(pages, 100))
    cache = tmp_path / "ocr-cache"

    first = article(path, ocr_cache=cache)
    again = article(path, ocr_cache=cache)
    assert [index for _, index, _ in fake_ocr.calls] == [0, 1]
    assert first == again

    fake_ocr.spec = OcrSpec("tesseract", "ind+eng", 300, "", "fake 2")  # Tesseract upgraded
    article(path, ocr_cache=cache)
    write(path, samples.image_pdf(pages[::-1], 100))  # the file changed
    article(path, ocr_cache=cache)
    article(path)  # no cache: recognised every time
    assert [index for _, index, _ in fake_ocr.calls] == [0, 1] * 4
    assert len({digest for digest, _, _ in fake_ocr.calls}) == 2


def test_the_size_limit_is_a_pages(tmp_path: Path, fake_ocr: FakeOcr) -> None:
    page = samples.poor_scan("Laporan layanan malam kecamatan")
    three = write(tmp_path / "tiga.pdf", samples.image_pdf([page] * 3, 200))
    single = write(tmp_path / "satu.pdf", samples.image_pdf([page], 200))
    per_page = three.stat().st_size // 2  # above a page's share, below the whole file

    assert three.stat().st_size > per_page > single.stat().st_size // 2
    assert article(three, max_bytes=per_page).text.count("Halaman pindaian") == 2
    assert failure(single, max_bytes=single.stat().st_size // 2).startswith(
        f"file too large ({size(single.stat().st_size)} for 1 page(s); limit "
    )
    # A file over ten pages' worth is refused unread.
    assert failure(three, max_bytes=three.stat().st_size // 11).endswith(
        " for a PDF or image, 10 pages' worth)"
    )
    assert len(fake_ocr.calls) == 3


def test_pages_show_in_the_uploads_progress(tmp_path: Path, fake_ocr: FakeOcr) -> None:
    pages = [samples.render_page(f"Halaman {n}", 100) for n in (1, 2)]
    upload = write(tmp_path / "in" / "pindaian.pdf", samples.image_pdf(pages, 100))
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())
    seen: list[tuple[float, str]] = []
    pages_seen: list[tuple[str, int, int]] = []

    report = uploads.upload(kb, [upload], progress=lambda f, d: seen.append((f, d)))
    kb.ingest([tmp_path / "in"], on_page=lambda *a: pages_seen.append(a))

    assert len(report.added) == 1 and report.ok
    reading = [(f, d) for f, d in seen if d.startswith("reading scanned pages")]
    assert [d for _, d in reading] == [
        f"reading scanned pages: pindaian.pdf {n}/2" for n in range(3)
    ]
    assert [f for f, _ in reading] == pytest.approx([0.1, 0.3, 0.5])
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert pages_seen == [(str(upload.resolve()), n, 2) for n in range(3)]


def test_image_uploads_are_checked_by_content(tmp_path: Path) -> None:
    photo = write(tmp_path / "foto.jpg", samples.phone_photo("Foto laporan"))  # a PNG inside
    posing = write(tmp_path / "foto.pdf", photo.read_bytes())
    text = write(tmp_path / "catatan.png", b"bukan gambar\n")

    assert uploads.sniff(photo) == ".jpg"
    assert uploads.sniff(posing) is None
    assert uploads.sniff(text) is None


def test_the_ocr_setting_is_checked() -> None:
    assert Settings.from_env({"KB_OCR": "off"}).ocr == "off"
    assert Settings().ocr == "auto"
    with pytest.raises(ConfigError, match=r"KB_OCR='always' is not known: use 'auto' or 'off'"):
        Settings.from_env({"KB_OCR": "always"})


def test_each_frame_of_a_tiff_is_a_page(tmp_path: Path, fake_ocr: FakeOcr) -> None:
    frames = [samples.render_page(f"Halaman {n}", 100) for n in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "TIFF", save_all=True, append_images=frames[1:])
    path = write(tmp_path / "pindaian.tif", buffer.getvalue())

    read = article(path)

    assert [index for _, index, _ in fake_ocr.calls] == [0, 1, 2]
    assert read.title == "Halaman pindaian nomor 1 dibaca oleh pengenal teks palsu."
    assert read.text.count("Halaman pindaian nomor") == 2


def test_a_broken_image_is_a_failure(tmp_path: Path, fake_ocr: FakeOcr) -> None:
    path = write(tmp_path / "rusak.png", b"\x89PNG\r\n\x1a\n" + bytes(200))
    assert failure(path).startswith("not a valid image: ")
    assert fake_ocr.calls == []


def test_load_file_takes_the_ocr_options(tmp_path: Path, fake_ocr: FakeOcr) -> None:
    path = write(tmp_path / "foto.png", samples.phone_photo("Foto laporan"))
    seen: list[tuple[str, int, int]] = []

    (read,) = load_file(path, on_page=lambda *a: seen.append(a))
    (off,) = load_file(path, ocr="off")

    assert isinstance(read, Article) and read.text.startswith("Halaman pindaian nomor 1")
    assert seen == [(str(path.resolve()), 0, 1), (str(path.resolve()), 1, 1)]
    assert isinstance(off, Failure) and "KB_OCR=off" in off.reason
