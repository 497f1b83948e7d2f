"""Scans and photos of report pages, made here from known text (nothing binary is committed).

Used by ``tests/integration/test_ocr.py`` and ``benchmarks/ocr.py``, with fixed settings:

- a clean scan: the page rendered at 300 dpi;
- a poor scan: rendered at 200 dpi, turned 2 degrees, Gaussian noise of sigma 8 (seed 0);
- a phone photo (PNG): rendered at 300 dpi, the top edge pulled in by 5% of the width at each
  end (perspective), a Gaussian blur of radius 1 pixel, and stored turned 90 degrees with the
  EXIF orientation tag that says so (as a phone does).

Text is drawn in Pillow's bundled TrueType font (``ImageFont.load_default(size=...)``, Pillow
10.1+ built with FreeType) at 12 points, on an A5 page: no system font is needed.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from pypdf import PdfReader, PdfWriter

# An A5 page in inches, its margin, and the type size in points.
PAGE_IN = (5.83, 8.27)
MARGIN_IN = 0.6
POINTS = 12

EVENING = (
    "Layanan Malam Kecamatan Sukamaju\n"
    "Mulai 4 Maret 2024, Kecamatan Sukamaju membuka layanan administrasi kependudukan pada "
    "malam hari. Loket di kantor kecamatan buka setiap Selasa dan Kamis pukul 18.30 sampai "
    "21.00 WIB. Warga dapat mengurus kartu keluarga, surat pindah dan akta kelahiran tanpa "
    "meninggalkan pekerjaan pada siang hari.\n"
    "Camat Sukamaju, Hendra Wijaya, mengatakan layanan malam melayani rata-rata 45 warga "
    "setiap malam. “Petugas yang bertugas malam masuk lebih siang keesokan harinya,” ujarnya "
    "(12/6). Nomor antrean dapat diambil lewat pesan singkat sejak pukul 16.00. Selama tiga "
    "bulan pertama, keluhan tentang antrean panjang turun dari 120 menjadi 58 (-52%)."
)
PHOTO = (
    "Posyandu Perahu di Desa Teluk Biru\n"
    "Bidan desa Teluk Biru, Sri Handayani, membawa timbangan dan vaksin dengan perahu motor "
    "ke empat pulau kecil setiap Rabu pagi. Posyandu keliling itu melayani 86 balita yang "
    "sebelumnya harus menyeberang dua jam ke puskesmas kecamatan.\n"
    "Kepala Desa Teluk Biru, Markus Lewerissa, menyebut biaya bahan bakar Rp 350.000 sekali "
    "jalan ditanggung dana desa. Sejak Januari, cakupan imunisasi dasar naik dari 61% menjadi "
    "89%, dan tidak ada lagi jadwal yang batal karena ombak."
)
# The mixed PDF: a born-digital first page and a scanned second page of one report.
MIXED_TEXT_PAGE = (
    "Antrean Daring Puskesmas Kenanga\n"
    "Puskesmas Kenanga di Kecamatan Sukamaju memakai antrean daring sejak Februari. Pasien "
    "memesan nomor dari rumah lewat aplikasi atau pesan singkat, lalu datang sepuluh menit "
    "sebelum gilirannya. Waktu tunggu di ruang tunggu turun dari 95 menit menjadi 20 menit."
)
MIXED_SCANNED_PAGE = (
    "Lampiran: Ambulans Siaga Kenanga\n"
    "Puskesmas Kenanga juga menyiagakan satu ambulans desa selama 24 jam. Tiga sopir "
    "bergiliran dalam sif delapan jam, dan warga memanggilnya lewat nomor telepon yang "
    "ditempel di setiap balai dusun. Pada bulan April ambulans itu mengantar 31 pasien, "
    "termasuk sembilan ibu yang akan melahirkan."
)
BORN_DIGITAL = (
    "Kelurahan Lembayung Antar Akta ke Rumah\n"
    "Lurah Lembayung, Wiryo Pranoto, mengantar akta kelahiran dan kartu identitas anak ke "
    "rumah warga lansia dengan sepeda. Layanan antar itu berjalan setiap Jumat sore sejak "
    "bulan Mei dan sudah menjangkau 140 keluarga."
)


def font(points: int, dpi: int) -> ImageFont.FreeTypeFont:
    """Pillow's bundled TrueType font at ``points`` for a page rendered at ``dpi``."""
    loaded = ImageFont.load_default(size=round(points * dpi / 72))
    if not isinstance(loaded, ImageFont.FreeTypeFont):
        raise RuntimeError("Pillow has no FreeType: its bitmap font is too small to read")
    return loaded


def render_page(text: str, dpi: int) -> Image.Image:
    """``text`` (paragraphs on their own lines) typeset in grey on a white A5 page."""
    width, height = round(PAGE_IN[0] * dpi), round(PAGE_IN[1] * dpi)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    face = font(POINTS, dpi)
    margin = round(MARGIN_IN * dpi)
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            wider = f"{line} {word}".strip()
            if line and draw.textlength(wider, font=face) > width - 2 * margin:
                lines.append(line)
                line = word
            else:
                line = wider
        lines += [line, ""]
    step = round(face.size * 1.5)
    if margin + step * len(lines) > height - margin:
        raise ValueError("the text does not fit on one page")
    for n, line in enumerate(lines):
        draw.text((margin, margin + n * step), line, font=face, fill=0)
    return page


def clean_scan(text: str) -> Image.Image:
    """A clean 300-dpi scan."""
    return render_page(text, 300)


def poor_scan(text: str, seed: int = 0) -> Image.Image:
    """A 200-dpi scan, turned 2 degrees, with Gaussian noise of sigma 8."""
    page = render_page(text, 200).rotate(
        2, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    noise = np.random.default_rng(seed).normal(0.0, 8.0, (page.height, page.width))
    pixels = np.clip(np.asarray(page, dtype=np.float64) + noise, 0, 255)
    return Image.fromarray(pixels.astype(np.uint8))


def phone_photo(text: str) -> bytes:
    """A PNG as a phone stores a photo of the page: skewed, blurred, on its side, with the
    EXIF orientation 6 ("turn 90 degrees clockwise to view")."""
    page = render_page(text, 300)
    w, h = page.size
    inset = 0.05 * w
    # Where each corner of the photo comes from on the page: the page's top edge lands
    # ``inset`` in from each side.
    coefficients = _perspective(
        [(inset, 0), (w - inset, 0), (w, h), (0, h)], [(0, 0), (w, 0), (w, h), (0, h)]
    )
    photo = page.transform(
        (w, h), Image.Transform.PERSPECTIVE, coefficients, Image.Resampling.BICUBIC, fillcolor=255
    ).filter(ImageFilter.GaussianBlur(1))
    stored = photo.rotate(90, expand=True)  # counter-clockwise: as the sensor saw it
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation
    buffer = io.BytesIO()
    stored.save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


def image_pdf(pages: list[Image.Image], dpi: int) -> bytes:
    """A PDF of page images with no text layer, as a scanner writes it."""
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def text_pdf(pages: list[str]) -> bytes:
    """A born-digital PDF: each text as a Helvetica text layer, lines of at most 80 characters."""

    literal = pdf_literal
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, text in enumerate(pages):
        ops = ["BT", "/F1 11 Tf", "14 TL", "50 780 Td"]
        for paragraph in text.split("\n"):
            line = ""
            for word in paragraph.split():
                if line and len(line) + len(word) >= 80:
                    ops.append(f"{literal(line)} Tj T*")
                    line = ""
                line = f"{line} {word}".strip()
            ops += [f"{literal(line)} Tj T*", "T*"]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    return assemble_pdf(objects)


def pdf_literal(text: str) -> str:
    """A PDF string literal (backslashes and parentheses escaped)."""
    return "(" + text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def assemble_pdf(objects: list[bytes], trailer: str = "") -> bytes:
    """A PDF of these objects, numbered from 1 (the first is the catalog), with an exact xref
    table; ``trailer``: more trailer entries (``/Info 9 0 R``)."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    entries = f"/Size {len(objects) + 1} /Root 1 0 R {trailer}".strip()
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (entries.encode(), xref)
    return bytes(out)


def joined_pdf(*parts: bytes) -> bytes:
    """The pages of several PDFs, in order, in one PDF."""
    writer = PdfWriter()
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part)))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def cer(recognised: str, reference: str) -> float:
    """Character error rate: the Levenshtein distance between the two texts with runs of
    whitespace made one space, over the reference's length."""
    a, b = " ".join(recognised.split()), " ".join(reference.split())
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i]
        for j, other in enumerate(b, 1):
            current.append(
                min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
            )
        previous = current
    return previous[-1] / max(len(b), 1)


def _perspective(
    target: list[tuple[float, float]], source: list[tuple[float, float]]
) -> list[float]:
    """Pillow's eight perspective coefficients that map ``target`` corners to ``source``."""
    rows: list[list[float]] = []
    values: list[float] = []
    for (x, y), (u, v) in zip(target, source, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values += [u, v]
    return [float(c) for c in np.linalg.solve(np.array(rows), np.array(values))]
