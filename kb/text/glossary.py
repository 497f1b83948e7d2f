"""English words of questions about district public services, with their Indonesian words.

The articles are Indonesian; an English question shares almost no word with them, so the
word scores that pick the answer sentence say nothing and the embedding alone decides,
which favours an article's lead sentence. ``indonesian_words`` gives the Indonesian words
of the English words and phrases in a question (a general glossary of the domain: offices,
places, services, time, people, numbers; not the facts of any article), so that the
sentence holding "kepala" and a name wins for "Who heads ...?".
"""

from __future__ import annotations

import functools
import re

from kb.text.words import DAYS, ENGLISH_NAMES

# English word or phrase -> Indonesian words (space-separated alternatives).
GLOSSARY: dict[str, str] = {
    # question words
    "who": "siapa",
    "how many": "berapa jumlah",
    "how much": "berapa jumlah",
    "what time": "pukul jam",
    "which day": "hari",
    "when": "kapan tanggal",
    "where": "mana lokasi",
    # government and offices
    "head": "kepala",
    "heads": "kepala memimpin",
    "chief": "kepala",
    "leader": "pemimpin kepala",
    "agency": "badan dinas",
    "agencies": "badan dinas perangkat",
    "department": "dinas",
    "office": "kantor dinas",
    "offices": "kantor dinas",
    "government": "pemerintah pemkab pemkot",
    "regional government": "pemerintah daerah pemda",
    "province": "provinsi",
    "provincial": "provinsi",
    "regency": "kabupaten",
    "district": "kabupaten kecamatan",
    "sub-district": "kecamatan",
    "subdistrict": "kecamatan",
    "sub-districts": "kecamatan",
    "city": "kota",
    "village": "desa kelurahan",
    "villages": "desa kelurahan",
    "urban village": "kelurahan",
    "mayor": "wali kota",
    "regent": "bupati",
    "governor": "gubernur",
    "secretary": "sekretaris",
    "regional secretary": "sekda sekretaris daerah",
    "official": "pejabat",
    "officials": "pejabat aparatur",
    "officer": "petugas",
    "officers": "petugas",
    "staff": "staf petugas pegawai",
    "employees": "pegawai",
    "civil servants": "aparatur sipil negara asn",
    "human resources": "sumber daya manusia sdm",
    "civil registry": "kependudukan pencatatan sipil dukcapil",
    "population": "kependudukan penduduk",
    "planning": "perencanaan",
    "development": "pembangunan pengembangan",
    # services and documents
    "service": "layanan pelayanan",
    "services": "layanan pelayanan",
    "public service": "pelayanan publik",
    "public services": "pelayanan publik",
    "counter": "loket",
    "counters": "loket",
    "queue": "antrean antre",
    "queue number": "nomor antrean",
    "application": "aplikasi permohonan",
    "app": "aplikasi",
    "online": "daring online",
    "website": "situs laman",
    "identity card": "ktp",
    "id card": "ktp",
    "family card": "kartu keluarga kk",
    "birth certificate": "akta kelahiran",
    "certificate": "sertifikat surat keterangan",
    "certificates": "sertifikat surat keterangan",
    "letter": "surat",
    "letters": "surat",
    "permit": "izin perizinan",
    "permits": "izin perizinan",
    "complaint": "aduan pengaduan keluhan",
    "complaints": "aduan pengaduan keluhan",
    "report": "laporan",
    "reports": "laporan",
    "programme": "program",
    "program": "program",
    "innovation": "inovasi",
    "innovations": "inovasi",
    "training": "pelatihan diklat",
    "course": "pelatihan diklat kursus",
    "lesson hours": "jam pelajaran",
    "visit": "kunjungan berkunjung",
    "visited": "mengunjungi dikunjungi kunjungan",
    "visiting": "rombongan kunjungan",
    "award": "penghargaan",
    "awards": "penghargaan",
    "competition": "lomba kompetisi",
    "contest": "lomba kompetisi",
    "winner": "pemenang juara",
    "won": "juara pemenang meraih",
    "category": "kategori",
    "finalist": "finalis",
    "finalists": "finalis",
    "participant": "peserta",
    "participants": "peserta",
    "participating": "peserta",
    "team": "tim",
    "budget": "anggaran",
    "fee": "biaya tarif",
    "free": "gratis",
    "mobile": "keliling",
    "car": "mobil",
    "cars": "mobil unit",
    "vehicle": "kendaraan mobil",
    "smart city": "smart city kota cerdas",
    # people
    "residents": "warga penduduk",
    "citizens": "warga masyarakat",
    "people": "warga masyarakat orang",
    "community": "masyarakat komunitas",
    "student": "pelajar siswa mahasiswa",
    "students": "pelajar siswa mahasiswa",
    "patient": "pasien",
    "patients": "pasien",
    "delegation": "rombongan delegasi",
    # time
    "evening": "malam",
    "night": "malam",
    "morning": "pagi",
    "afternoon": "siang sore",
    "weekend": "akhir pekan sabtu minggu",
    "weekdays": "hari kerja senin jumat",
    "hour": "jam",
    "hours": "jam pukul",
    "day": "hari",
    "days": "hari",
    "week": "minggu pekan",
    "month": "bulan",
    "year": "tahun",
    "date": "tanggal",
    "deadline": "batas paling lambat",
    "since": "sejak",
    # numbers and amounts
    "number": "jumlah nomor",
    "share": "persen",
    "percent": "persen",
    "percentage": "persen",
    "most": "terbanyak paling",
    "largest": "terbanyak terbesar",
    "total": "total jumlah",
    # places and things in the reports
    "hospital": "rumah sakit",
    "health centre": "puskesmas",
    "health center": "puskesmas",
    "school": "sekolah",
    "market": "pasar",
    "road": "jalan",
    "roads": "jalan",
    "damaged": "rusak",
    "waste": "sampah",
    "garbage": "sampah",
    "water": "air",
    "flood": "banjir",
    "tourism": "wisata pariwisata",
    "hall": "balai aula",
    "city hall": "balai kota",
    # verbs
    "learn": "belajar mempelajari",
    "study": "belajar mempelajari studi",
    "open": "buka membuka",
    "opened": "buka membuka dibuka",
    "opens": "buka membuka",
    "launch": "luncurkan meluncurkan",
    "launched": "diluncurkan meluncurkan",
    "receive": "menerima",
    "received": "menerima diterima",
    "resolved": "selesai ditindaklanjuti tuntas",
    "connected": "terhubung",
    "submitted": "masuk diajukan",
    "serve": "melayani",
    "served": "melayani dilayani",
    "run": "menjalankan mengoperasikan",
    "runs": "menjalankan mengoperasikan",
    "adopted": "menerapkan diterapkan",
    "presented": "memaparkan presentasi",
}
# Day and month names ("friday": "jumat", "march": "maret"), and days in the plural ("on
# saturdays").
GLOSSARY |= ENGLISH_NAMES
GLOSSARY |= {f"{d.english}s": d.indonesian for d in DAYS if d.english}

_WORDS = re.compile(r"[a-z]+(?:-[a-z]+)?")


@functools.lru_cache(maxsize=1)
def _phrases() -> list[tuple[tuple[str, ...], str]]:
    """The glossary's entries as word tuples, longest first (a phrase wins over its words)."""
    entries = [(tuple(_WORDS.findall(k)), v) for k, v in GLOSSARY.items()]
    return sorted(entries, key=lambda e: -len(e[0]))


def indonesian_words(question: str) -> str:
    """The Indonesian words for the English words and phrases of ``question`` (may be empty).

    >>> indonesian_words("Who heads the agency?")
    'siapa kepala memimpin badan dinas'
    """
    words = _WORDS.findall(question.lower())
    used = [False] * len(words)
    found: list[tuple[int, str]] = []
    for key, value in _phrases():
        n = len(key)
        for i in range(len(words) - n + 1):
            if not any(used[i : i + n]) and tuple(words[i : i + n]) == key:
                used[i : i + n] = [True] * n
                found.append((i, value))
    return " ".join(value for _, value in sorted(found))
