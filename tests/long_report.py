"""A long report made here (nothing binary is committed): a 60-odd page annual report of a
fictional regency's public-service innovations, typeset by ReportLab the way a word processor
prints one: numbered chapters ("BAB II" over its title), numbered subsections, paragraphs
wrapped over many lines, a table of contents with dot leaders, a running footer with page
numbers, and scanned pages at the end (an appendix printed, signed and scanned: images of
pages, read by OCR). Every name in it is made up; it is a sample for tests and benchmarks.

Each subsection is one innovation of one kecamatan. Its first paragraph names both; its facts
(people served, staff, yearly cost) stand in later paragraphs that say only "layanan ini", as
reports do, so a question that names the innovation finds them only through the section they
are in. ``QUESTIONS`` asks for each fact; ``Question.middle`` marks those whose answer is in
the middle of the document (chapters III and IV).

Used by ``tests/integration/test_long_report.py`` and ``benchmarks/long_report.py``.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from pypdf import PdfReader, PdfWriter

TITLE = "Laporan Kinerja Inovasi Pelayanan Publik Kabupaten Sukamulya 2024"
FOOTER = "Laporan Kinerja Inovasi Pelayanan Publik 2024 (contoh)"

CHAPTERS = (
    ("II", "INOVASI ADMINISTRASI KEPENDUDUKAN"),
    ("III", "INOVASI PELAYANAN KESEHATAN"),
    ("IV", "INOVASI PELAYANAN PERIZINAN"),
    ("V", "INOVASI PARTISIPASI WARGA"),
)
PROGRAMS = (
    "Loket Malam", "Antrean Daring", "Jemput Bola Lansia", "Surat Antar", "Kios Dokumen",
    "Sapa Warga", "Posyandu Perahu", "Ambulans Desa", "Bidan Keliling", "Kelas Ibu Hamil",
    "Gizi Balita Terpadu", "Apotek Keliling", "Izin Kilat", "Klinik Usaha", "Pojok Izin",
    "Layanan Satu Meja", "Izin Keliling", "Konsultasi Usaha Daring", "Bank Sampah",
    "Musrenbang Anak", "Pojok Pengaduan", "Ronda Digital", "Kelas Literasi Digital",
    "Lapak Warga",
)  # fmt: skip
PLACES = (
    "Mekarsari", "Cibening", "Karanganyar", "Tanjungsari", "Wonorejo", "Sidomulyo",
    "Sukajadi", "Mulyorejo", "Tegalsari", "Pasirjaya", "Bojongsari", "Rawa Indah",
    "Sumberrejo", "Cempaka Putih", "Pagerwangi", "Lembah Hijau", "Batu Ampar", "Sindangsari",
    "Kertajaya", "Bumiayu", "Talang Jaya", "Sukamakmur", "Gunung Sari", "Padasuka",
)  # fmt: skip
FIRST = ("Ahmad", "Siti", "Bambang", "Dewi", "Hendra", "Rina", "Agus", "Lestari", "Yusuf", "Wati")
LAST = ("Pratama", "Wijaya", "Santoso", "Lubis", "Nugroho", "Siregar", "Hidayat", "Kusuma")

# Sentences any subsection may hold: they name no innovation and no place.
FILLER = (
    "Petugas mencatat setiap permohonan dalam buku register dan sistem informasi kecamatan.",
    "Warga yang datang diminta membawa kartu keluarga dan kartu tanda penduduk elektronik.",
    "Evaluasi dilakukan setiap tiga bulan bersama perangkat desa dan tokoh masyarakat.",
    "Keluhan yang masuk dijawab paling lambat dua hari kerja melalui pesan singkat.",
    "Jadwal layanan diumumkan di papan informasi kantor desa dan media sosial kecamatan.",
    "Pada awal pelaksanaan, petugas mengikuti pelatihan singkat tentang standar pelayanan.",
    "Survei kepuasan masyarakat menunjukkan sebagian besar warga menilai layanan baik.",
    "Kendala yang sering muncul adalah jaringan internet yang tidak stabil di daerah hulu.",
    "Untuk mengatasinya, petugas menyiapkan formulir kertas sebagai cadangan.",
    "Data permohonan direkap setiap akhir bulan dan dilaporkan kepada bupati.",
    "Pemerintah desa ikut menyediakan ruang tunggu yang layak bagi warga.",
    "Sosialisasi dilakukan melalui pengajian, arisan dan pertemuan rukun warga.",
    "Warga penyandang disabilitas mendapat prioritas dan dapat dilayani di rumah.",
    "Standar waktu pelayanan ditempel di setiap loket agar warga dapat mengawasinya.",
    "Kecamatan bekerja sama dengan dinas terkait untuk memeriksa kelengkapan berkas.",
    "Berkas yang belum lengkap dikembalikan dengan catatan tertulis tentang kekurangannya.",
    "Setiap petugas memakai kartu identitas dan seragam agar mudah dikenali warga.",
    "Hasil pelayanan dapat diambil di kantor desa terdekat tanpa biaya tambahan.",
    "Pengawasan internal dilakukan oleh sekretaris kecamatan melalui rapat mingguan.",
    "Masukan warga dikumpulkan lewat kotak saran dan nomor pengaduan yang dipasang di loket.",
    "Sebagian warga masih memilih datang langsung karena belum terbiasa dengan layanan daring.",
    "Perangkat desa membantu warga lanjut usia mengisi formulir permohonan.",
    "Pada musim hujan jadwal kunjungan ke dusun terpencil kerap disesuaikan.",
    "Kegiatan ini juga menjadi bahan pembelajaran bagi kecamatan lain di kabupaten.",
    "Laporan pelaksanaan disusun bersama tim penggerak dan diserahkan kepada inspektorat.",
    "Ke depan, layanan akan dipadukan dengan aplikasi pelayanan milik pemerintah kabupaten.",
)


@dataclass(frozen=True)
class Innovation:
    chapter: str
    number: str  # "3.4"
    program: str
    place: str
    coordinator: str
    served: int
    staff: int
    cost: int  # million rupiah a year

    @property
    def heading(self) -> str:
        return f"{self.number} {self.program} Kecamatan {self.place}"


@dataclass(frozen=True)
class Question:
    text: str
    answer: str  # the fact's sentence holds this
    innovation: Innovation
    middle: bool


def innovations(per_chapter: int = 6) -> list[Innovation]:
    rng = random.Random(19)
    out: list[Innovation] = []
    for c, (roman, _) in enumerate(CHAPTERS):
        for s in range(per_chapter):
            i = 6 * c + s
            out.append(
                Innovation(
                    chapter=roman,
                    number=f"{c + 2}.{s + 1}",
                    program=PROGRAMS[i],
                    place=PLACES[i],
                    coordinator=f"{FIRST[i % len(FIRST)]} {LAST[(i * 3) % len(LAST)]}",
                    served=rng.randrange(120, 4800),
                    staff=rng.randrange(3, 40),
                    cost=rng.randrange(15, 900),
                )
            )
    return out


def questions() -> list[Question]:
    out: list[Question] = []
    for inn in innovations():
        name = f"{inn.program} Kecamatan {inn.place}"
        middle = inn.chapter in ("III", "IV")
        out += [
            Question(f"Berapa warga yang dilayani {name} sepanjang 2024?", f"{inn.served} warga",
                     inn, middle),
            Question(f"Berapa petugas yang disiagakan untuk {name}?", f"{inn.staff} orang",
                     inn, middle),
            Question(f"Berapa biaya operasional {name} per tahun?", f"Rp {inn.cost} juta",
                     inn, middle),
        ]  # fmt: skip
    return out


QUESTIONS = questions()

# The two questions of issue 19, about a subsection that wraps a sentence and a name.
COBLONG_SERVICES = (
    "MPP ini menyediakan 24 jenis layanan dari dua belas instansi, termasuk layanan "
    "kependudukan, perizinan usaha, perpajakan daerah dan jaminan kesehatan yang sebelumnya "
    "tersebar di beberapa kantor."
)
COBLONG_CAMAT = "Rudi Hartono"

APPENDIX = (
    "LAMPIRAN\n"
    "Rekapitulasi pengaduan warga tahun 2024. Pojok pengaduan di seluruh kecamatan menerima "
    "612 pengaduan, dan 574 di antaranya selesai ditangani dalam lima hari kerja.\n"
    "Pengaduan terbanyak menyangkut jalan lingkungan yang rusak, disusul penerangan jalan "
    "dan pelayanan administrasi kependudukan.",
    "Daftar hadir rapat evaluasi inovasi pada tanggal 9 Desember 2024 di aula kantor bupati. "
    "Rapat dihadiri oleh 24 camat, kepala Bappeda dan kepala BPSDM kabupaten.\n"
    "Rapat sepakat bahwa setiap kecamatan menyusun rencana replikasi satu inovasi dari "
    "kecamatan lain sebelum bulan Maret 2025.",
)
APPENDIX_FACT = "612 pengaduan"


def _subsection_paragraphs(inn: Innovation, rng: random.Random) -> list[str]:
    intro = (
        f"Kecamatan {inn.place} menjalankan inovasi {inn.program} sejak awal tahun 2024. "
        f"Koordinatornya, {inn.coordinator}, menyebut inovasi ini lahir dari keluhan warga "
        "yang harus menempuh perjalanan jauh dan menunggu lama untuk mendapatkan layanan."
    )
    facts = [
        f"Sepanjang tahun 2024 layanan ini melayani {inn.served} warga.",
        f"Jumlah petugas yang disiagakan untuk layanan tersebut sebanyak {inn.staff} orang.",
        f"Biaya operasionalnya mencapai Rp {inn.cost} juta per tahun dari anggaran kecamatan.",
    ]
    paragraphs = [intro]
    for p in range(20):
        sentences = rng.sample(FILLER, 5)
        if p in (5, 10, 15):
            sentences.insert(rng.randrange(1, 5), facts[p // 5 - 1])
        paragraphs.append(" ".join(sentences))
    return paragraphs


def build(*, outline: bool = True, scanned: bool = True, per_chapter: int = 6) -> bytes:
    """The report as PDF bytes. ``outline``: with bookmarks for every heading (as a word
    processor exports them); ``scanned``: with the two appendix pages as scans (needs Pillow;
    their text is read by OCR); ``per_chapter``: subsections a chapter (6: 62 pages; 1: a
    short report of 14)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    styles = getSampleStyleSheet()
    body = ParagraphStyle("Body", parent=styles["BodyText"], fontSize=10, leading=13,
                          spaceAfter=7)  # fmt: skip
    chapter = ParagraphStyle("Chapter", parent=styles["Heading1"], fontSize=15, leading=19,
                             alignment=1)  # fmt: skip
    section = ParagraphStyle("Section", parent=styles["Heading2"], fontSize=12, leading=15)

    class Doc(SimpleDocTemplate):
        def afterFlowable(self, flowable: object) -> None:
            level = getattr(flowable, "_outline_level", None)
            if outline and level is not None:
                key = f"h{id(flowable)}"
                self.canv.bookmarkPage(key)
                title = flowable._outline_title  # type: ignore[attr-defined]
                self.canv.addOutlineEntry(title, key, level=level)

    def head(text: str, style: ParagraphStyle, level: int, title: str | None = None) -> Paragraph:
        p = Paragraph(text, style)
        p._outline_level = level  # type: ignore[attr-defined]
        p._outline_title = title or text.replace("<br/>", " ")  # type: ignore[attr-defined]
        return p

    def footer(canvas: object, doc: object) -> None:
        canvas.setFont("Helvetica", 8)  # type: ignore[attr-defined]
        page = doc.page  # type: ignore[attr-defined]
        canvas.drawString(72, 30, f"{FOOTER} - Halaman {page}")  # type: ignore[attr-defined]

    rng = random.Random(7)
    items = innovations(per_chapter)
    story: list[object] = [
        Spacer(1, 200),
        Paragraph(TITLE, chapter),
        Paragraph("Bagian Organisasi Sekretariat Daerah (dokumen contoh)", body),
        PageBreak(),
        Paragraph("DAFTAR ISI", chapter),
    ]
    toc = ["BAB I PENDAHULUAN ........ 3"]
    toc += [f"BAB {r} {t} ........ {4 + 13 * i}" for i, (r, t) in enumerate(CHAPTERS)]
    story += [Paragraph(line, body) for line in toc] + [PageBreak()]
    story += [
        head("BAB I<br/>PENDAHULUAN", chapter, 0, "BAB I PENDAHULUAN"),
        head("1.1 Latar Belakang", section, 1),
        Paragraph(
            "Laporan ini merangkum inovasi pelayanan publik yang dijalankan kecamatan di "
            "Kabupaten Sukamulya sepanjang tahun 2024, sebagai bahan pembelajaran bersama.",
            body,
        ),
        *[Paragraph(" ".join(rng.sample(FILLER, 5)), body) for _ in range(4)],
        PageBreak(),
    ]
    for roman, title in CHAPTERS:
        story.append(head(f"BAB {roman}<br/>{title}", chapter, 0, f"BAB {roman} {title}"))
        for inn in (i for i in items if i.chapter == roman):
            story.append(head(inn.heading, section, 1))
            story += [Paragraph(p, body) for p in _subsection_paragraphs(inn, rng)]
        if roman == "IV":
            story += _coblong(head, section, body)
        story.append(PageBreak())
    story.append(head("BAB VI<br/>PENUTUP", chapter, 0, "BAB VI PENUTUP"))
    story += [Paragraph(" ".join(rng.sample(FILLER, 5)), body) for _ in range(3)]

    buffer = io.BytesIO()
    doc = Doc(buffer, pagesize=A4, title=TITLE, author="Contoh")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    if not scanned:
        return buffer.getvalue()
    import ocr_samples

    scans = ocr_samples.image_pdf([ocr_samples.clean_scan(page) for page in APPENDIX], 300)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(buffer.getvalue())))
    for page in PdfReader(io.BytesIO(scans)).pages:
        writer.add_page(page)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _coblong(head: object, section: object, body: object) -> list[object]:
    from reportlab.platypus import Paragraph

    return [
        head("4.7 Mal Pelayanan Publik Kecamatan Coblong", section, 1),  # type: ignore[operator]
        Paragraph(
            "Kecamatan Coblong membuka Mal Pelayanan Publik (MPP) di gedung bekas kantor pos "
            "pada bulan Mei. " + COBLONG_SERVICES,
            body,  # type: ignore[arg-type]
        ),
        Paragraph(
            "Antrean diatur dengan nomor yang dapat dipesan sehari sebelumnya. Camat Coblong,"
            f"<br/>{COBLONG_CAMAT}, mengatakan jumlah pengunjung naik setiap bulan sejak gedung "
            "itu dibuka, dan loket tambahan disiapkan untuk hari Senin.",
            body,  # type: ignore[arg-type]
        ),
    ]


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)
