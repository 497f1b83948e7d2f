"""Markdown sections through the product: the hits of an ingested Markdown report carry its heading
path."""

from __future__ import annotations

from pathlib import Path

from conftest import fake_settings, make_kb
from files import write

from kb.embedders.models import HashingEmbeddings

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


def test_ingested_markdown_hits_carry_the_heading_path(tmp_path: Path) -> None:
    folder = tmp_path / "laporan"
    write(folder / "kinerja.md", REPORT)
    kb = make_kb(settings=fake_settings(tmp_path / "store"), embedder=HashingEmbeddings())

    report = kb.ingest([folder])

    assert report.ok and report.added, report.failed
    (hit,) = kb.retrieve("loket malam Selasa Kamis pukul 18.30", k=1)
    assert hit.section == "BAB II Inovasi Pelayanan > 2.1 Loket Malam"
    assert hit.text == (
        "2.1 Loket Malam\n\nLoket malam dibuka setiap Selasa dan Kamis pukul 18.30 sampai 21.00."
    )
    stored = kb.article(hit.doc_id).text
    assert stored == REPORT_TEXT and stored[hit.start : hit.end] == hit.text
    assert hit.start == REPORT_SECTIONS[3][0]  # the chunk starts at its heading
    (queue,) = kb.retrieve("nomor antrean pesan singkat pengeras suara", k=1)
    assert queue.section == "BAB II Inovasi Pelayanan > 2.2 Antrean Daring"
    assert kb.ingest([folder]).unchanged  # the sections are stable from one ingest to the next
