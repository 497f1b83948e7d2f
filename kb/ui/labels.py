"""The app's labels in Indonesian (the default) and English: one dict, one lookup."""

from __future__ import annotations

from kb.errors import ConfigError

LANGUAGES = {"id": "Indonesia", "en": "English"}

LABELS: dict[str, dict[str, str]] = {
    "id": {
        "page_title": "Inovasi Layanan Publik — Basis Pengetahuan",
        "heading": "## Basis pengetahuan inovasi layanan publik daerah",
        "lang": "Bahasa",
        "tab_chat": "Tanya",
        "tab_library": "Pustaka dokumen",
        "chat": "Percakapan",
        "chat_placeholder": "Tanyakan tentang inovasi layanan publik di kecamatan dan daerah.",
        "question": "Pertanyaan",
        "question_placeholder": "Tanyakan sesuatu tentang laporan…",
        "ask": "Tanyakan",
        "examples": "Contoh pertanyaan",
        "filters": "Filter",
        "region": "Wilayah",
        "outlet": "Media",
        "date_from": "Dari tanggal (YYYY-MM-DD)",
        "date_to": "Sampai tanggal (YYYY-MM-DD)",
        "filters_on": "Filter aktif",
        "filter_region": "wilayah",
        "filter_outlet": "media",
        "filter_date_from": "dari",
        "filter_date_to": "sampai",
        "sources": "Sumber",
        "sources_empty": "Sumber jawaban akan tampil di sini.",
        "sources_closest": "Bagian laporan yang paling dekat",
        "abstained": "Tidak ada jawaban di laporan",
        "full_article": "Baca artikel lengkap",
        "pages_shown": "Halaman {first}-{last} dari {total} (di sekitar kutipan)",
        "writing": "Menyusun jawaban…",
        "export": "Jawaban dalam Markdown (salin atau unduh)",
        "feedback": "Apakah jawaban terakhir membantu?",
        "feedback_up": "👍 Membantu",
        "feedback_down": "👎 Tidak membantu",
        "feedback_comment": "Komentar (opsional)",
        "feedback_saved": "Terima kasih, umpan balik disimpan.",
        "feedback_none": "Belum ada jawaban untuk dinilai.",
        "error": "Terjadi kesalahan tak terduga; rinciannya ada di kb.log pada folder data.",
        "library_search": "Cari judul, wilayah atau doc_id",
        "col_title": "Judul",
        "col_date": "Tanggal",
        "col_regions": "Wilayah",
        "col_chunks": "Potongan",
        "col_ingested": "Dimasukkan",
        "upload_files": (
            "Unggah laporan (txt, md, html, pdf, docx, jsonl; foto atau pindaian png, jpg, "
            "tif; maks. {max_mb} MB per berkas)"
        ),
        "upload_button": "Masukkan ke basis pengetahuan",
        "upload_none": "Pilih berkas terlebih dahulu.",
        "upload_saving": "Memeriksa dan menyimpan berkas",
        "upload_reading": "Membaca halaman pindaian (OCR)",
        "upload_embedding": "Memasukkan laporan",
        "report": (
            "**{added}** ditambahkan, **{updated}** diperbarui, "
            "**{unchanged}** tidak berubah, **{failed}** gagal."
        ),
        "delete_doc": "doc_id yang akan dihapus (klik baris tabel untuk memilih)",
        "delete_button": "Hapus",
        "delete_none": "Tulis atau pilih doc_id terlebih dahulu.",
        "deleted": "Dihapus",
    },
    "en": {
        "page_title": "Public-Service Innovation — Knowledge Base",
        "heading": "## Knowledge base of public-service innovation in Indonesian districts",
        "lang": "Language",
        "tab_chat": "Ask",
        "tab_library": "Document library",
        "chat": "Conversation",
        "chat_placeholder": "Ask about public-service innovation in districts and regions.",
        "question": "Question",
        "question_placeholder": "Ask something about the reports…",
        "ask": "Ask",
        "examples": "Example questions",
        "filters": "Filters",
        "region": "Region",
        "outlet": "Outlet",
        "date_from": "From date (YYYY-MM-DD)",
        "date_to": "To date (YYYY-MM-DD)",
        "filters_on": "Filters on",
        "filter_region": "region",
        "filter_outlet": "outlet",
        "filter_date_from": "from",
        "filter_date_to": "to",
        "sources": "Sources",
        "sources_empty": "The sources of the answer will show here.",
        "sources_closest": "The closest passages",
        "abstained": "No answer in the reports",
        "full_article": "Read the full article",
        "pages_shown": "Pages {first}-{last} of {total} (around the quote)",
        "writing": "Writing the answer…",
        "export": "Answer as Markdown (copy or download)",
        "feedback": "Was the last answer helpful?",
        "feedback_up": "👍 Helpful",
        "feedback_down": "👎 Not helpful",
        "feedback_comment": "Comment (optional)",
        "feedback_saved": "Thank you, your feedback was saved.",
        "feedback_none": "There is no answer to rate yet.",
        "error": "An unexpected error occurred; the details are in kb.log in the data folder.",
        "library_search": "Search title, region or doc_id",
        "col_title": "Title",
        "col_date": "Date",
        "col_regions": "Regions",
        "col_chunks": "Chunks",
        "col_ingested": "Ingested at",
        "upload_files": (
            "Upload reports (txt, md, html, pdf, docx, jsonl; photos or scans as png, jpg, "
            "tif; at most {max_mb} MB a file)"
        ),
        "upload_button": "Add to the knowledge base",
        "upload_none": "Choose files first.",
        "upload_saving": "Checking and saving the files",
        "upload_reading": "Reading scanned pages (OCR)",
        "upload_embedding": "Ingesting the reports",
        "report": (
            "**{added}** added, **{updated}** updated, "
            "**{unchanged}** unchanged, **{failed}** failed."
        ),
        "delete_doc": "doc_id to delete (click a table row to pick it)",
        "delete_button": "Delete",
        "delete_none": "Type or pick a doc_id first.",
        "deleted": "Deleted",
    },
}


def language(code: str | None) -> str:
    """A supported UI language code (``id`` or ``en``); ``None``/empty means ``id``.

    Raises:
        ConfigError: an unknown code.
    """
    code = (code or "id").strip().lower()
    if code not in LABELS:
        raise ConfigError(f"UI language {code!r} is not supported: use id or en (KB_UI_LANGUAGE)")
    return code


def t(lang: str, key: str, **values: str) -> str:
    """The label ``key`` in ``lang`` (Indonesian when the language is unknown), its
    ``{name}`` placeholders filled from ``values`` (others are left as they are)."""
    text = LABELS.get(lang, LABELS["id"])[key]
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text
