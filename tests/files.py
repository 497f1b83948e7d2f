"""Files the loader tests write (text, minimal PDFs), loading one through the loaders, and the
Markdown report the section tests read (``REPORT``: its body and sections as loaded)."""

from __future__ import annotations

from pathlib import Path

from ocr_samples import assemble_pdf, pdf_literal

from ingest.loaders import load_file
from kb.types import Article, Failure


def load_one(path: Path, **limits: int) -> Article | Failure:
    results = list(load_file(path, **limits))
    assert len(results) == 1, results
    return results[0]


def load_article(path: Path) -> Article:
    result = load_one(path)
    assert isinstance(result, Article), result
    return result


def load_failure(path: Path, **limits: int) -> Failure:
    result = load_one(path, **limits)
    assert isinstance(result, Failure), result
    assert result.source == str(path.resolve())
    assert result.line is None
    return result


def write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def make_pdf(pages: list[list[str]], title: str | None = None) -> bytes:
    """A minimal valid PDF: Helvetica text lines on each page, a correct xref table."""

    literal = pdf_literal
    page_ids = [4 + 2 * i for i in range(len(pages))]
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] "
        f"/Count {len(pages)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, lines in zip(page_ids, pages, strict=True):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        ops += [f"{literal(line)} Tj T*" for line in lines]
        ops.append("ET")
        stream = "\n".join(ops).encode("cp1252")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    trailer = ""
    if title is not None:
        objects.append(f"<< /Title {literal(title)} >>".encode("cp1252"))
        trailer = f"/Info {len(objects)} 0 R"
    else:
        objects.append(b"<< >>")
    return assemble_pdf(objects, trailer)


REPORT = """# Laporan Kinerja Kecamatan Sukamaju 2024

Laporan ini merangkum pelayanan publik kecamatan selama 2024.

## BAB I Pendahuluan

Kecamatan Sukamaju melayani *48.000 warga* di sembilan kelurahan.

### 1.1 Latar Belakang

Antrean panjang di kantor kecamatan mendorong pembenahan layanan.

## BAB II Inovasi Pelayanan

| Inovasi | Mulai |
|---|---|
| Loket Malam | Maret 2024 |
| Antrean Daring | Juni 2024 |

### 2.1 Loket Malam

Loket malam dibuka setiap **Selasa dan Kamis** pukul 18.30 sampai 21.00.

### 2.2 Antrean Daring

- nomor antrean diambil lewat pesan singkat
- petugas memanggil nomor lewat pengeras suara

Sumber: Sekretariat Kecamatan Sukamaju
"""


# What the Markdown loader rendered before headings were read: the same text, byte for byte.
REPORT_TEXT = (
    "Laporan ini merangkum pelayanan publik kecamatan selama 2024.\n\n"
    "BAB I Pendahuluan\n\n"
    "Kecamatan Sukamaju melayani 48.000 warga di sembilan kelurahan.\n\n"
    "1.1 Latar Belakang\n\n"
    "Antrean panjang di kantor kecamatan mendorong pembenahan layanan.\n\n"
    "BAB II Inovasi Pelayanan\n\n"
    "Inovasi | Mulai\nLoket Malam | Maret 2024\nAntrean Daring | Juni 2024\n\n"
    "2.1 Loket Malam\n\n"
    "Loket malam dibuka setiap Selasa dan Kamis pukul 18.30 sampai 21.00.\n\n"
    "2.2 Antrean Daring\n\n"
    "nomor antrean diambil lewat pesan singkat\n"
    "petugas memanggil nomor lewat pengeras suara"
)


# The title's heading ("# Laporan Kinerja ...") is the article's title: no section of its body,
# nor a part of the paths under it (as the first heading of a Word file without a core title).
REPORT_SECTIONS = (
    (63, "BAB I Pendahuluan"),
    (147, "BAB I Pendahuluan > 1.1 Latar Belakang"),
    (234, "BAB II Inovasi Pelayanan"),
    (329, "BAB II Inovasi Pelayanan > 2.1 Loket Malam"),
    (416, "BAB II Inovasi Pelayanan > 2.2 Antrean Daring"),
)
