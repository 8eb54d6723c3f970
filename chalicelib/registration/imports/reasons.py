"""Why an import refuses a file or a row, in words a clerk can act on without asking anyone.

Each code is specific (which rule or which column), and its message, in Indonesian, names the
column and says what to write instead. Messages never quote a cell: the report of a row about
someone of another province must not show them (see `imports.report`).
"""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.core.errors import DomainError

_AS_TEXT = (
    "Format kolom nik dan kk_number sebagai Teks, tempel atau ketik ulang nomornya dari sumber aslinya, "
    "lalu simpan sebagai CSV UTF-8 dan unggah lagi."
)

FILE_REASONS = {
    "EMPTY_FILE": "Berkas kosong. Unggah berkas CSV dengan baris judul dan data peserta.",
    "FILE_TOO_LARGE": "Berkas terlalu besar. Bagi menjadi beberapa berkas, lalu unggah masing-masing.",
    "NOT_UTF8": (
        "Berkas tidak tersimpan sebagai teks UTF-8. Di Excel pilih Simpan Sebagai > CSV UTF-8; di "
        "LibreOffice Calc pilih set karakter Unicode (UTF-8), lalu unggah lagi."
    ),
    "NOT_TEXT": "Berkas bukan teks CSV (misalnya berkas .xlsx). Simpan sebagai CSV UTF-8, lalu unggah lagi.",
    "NO_HEADER": "Berkas tanpa baris judul. Baris pertama harus berisi nama kolom, misalnya nik;full_name.",
    "MISSING_COLUMNS": "Kolom wajib tidak ada di baris judul: {detail}. Tambahkan kolom itu, unggah lagi.",
    "UNCLOSED_QUOTE_IN_HEADER": 'Baris judul berisi tanda kutip (") yang tidak ditutup. Hapus kutipnya.',
    "CELL_TOO_LONG_IN_HEADER": "Baris judul terlalu panjang. Baris pertama hanya boleh berisi nama kolom.",
    "TOO_MANY_COLUMNS": (
        "Baris judul berisi terlalu banyak kolom (paling banyak 100, dan 8 KB). Hapus kolom yang tidak "
        "dipakai, lalu unggah lagi."
    ),
    "STALLED": (
        "Impor berhenti tanpa kemajuan dan dihentikan; sebagian baris mungkin sudah terdaftar. Unggah "
        "berkas yang sama sebagai impor baru: baris yang sudah terdaftar akan dilaporkan DUPLICATE."
    ),
    "NOT_UPLOADED": "Berkas tidak diunggah sebelum tautan unggah kedaluwarsa. Minta impor baru, lalu unggah.",
    "NIK_AS_NUMBER": (
        "Kolom nik tersimpan sebagai angka oleh program spreadsheet: angka terakhir NIK berubah menjadi 0 "
        "atau NIK ditulis seperti 3.17305E+15. NIK seperti itu milik orang lain, jadi tidak ada baris "
        "yang didaftarkan. " + _AS_TEXT
    ),
    "KK_AS_NUMBER": (
        "Kolom kk_number tersimpan sebagai angka oleh program spreadsheet: angka terakhir nomor KK berubah "
        "menjadi 0 atau ditulis seperti 3.17305E+15. Nomor KK seperti itu milik keluarga lain, jadi tidak "
        "ada baris yang didaftarkan. " + _AS_TEXT
    ),
}


def file_reason(reason: str) -> str:
    """The Indonesian explanation of a rejected file's reason (`CODE` or `CODE: detail`)."""
    code, _, detail = reason.partition(": ")
    return FILE_REASONS.get(code, "Berkas tidak dapat dibaca sebagai CSV.").format(detail=detail)


# What to write in each column instead: the second half of every row message.
_HOW_TO_WRITE = {
    "nik": "tulis 16 angka NIK di kolom berformat Teks",
    "kk_number": "tulis 16 angka nomor KK di kolom berformat Teks",
    "full_name": "tulis nama lengkap dengan huruf, tanpa angka, paling banyak 100 karakter",
    "birth_date": "tulis tanggal lahir sebagai DD/MM/YYYY dengan tahun empat angka, misalnya 05/01/1990",
    "gender": "tulis L (laki-laki) atau P (perempuan)",
    "phone": "tulis nomor ponsel Indonesia di kolom berformat Teks, misalnya 081234567890",
    "email": "tulis alamat e-mail yang sah, atau kosongkan",
    "regency_code": "tulis 4 angka kode kabupaten/kota sesuai NIK, misalnya 3171",
    "province_code": "daftarkan hanya penduduk provinsi kantor Anda",
    "education": "tulis salah satu dari NONE, SD, SMP, SMA, SMK, D1, D2, D3, D4, S1, S2, S3",
    "employment_status": "tulis salah satu dari UNEMPLOYED, LAID_OFF, FURLOUGHED, EMPLOYED, SELF_EMPLOYED",
    "wave_id": "tulis kode gelombang yang sedang dibuka, atau kosongkan",
    "cohort": "tulis nama kohort dengan huruf besar, angka dan garis bawah, misalnya PURNA_PMI",
    "list": "tulis nama daftar dengan huruf besar, angka dan garis bawah, misalnya BSU_2020",
}

# A field refused for its shape: the code names the column.
FIELD_CODES = {
    "nik": "INVALID_NIK",
    "kk_number": "INVALID_KK",
    "full_name": "INVALID_FULL_NAME",
    "birth_date": "INVALID_BIRTH_DATE",
    "gender": "INVALID_GENDER",
    "phone": "INVALID_PHONE",
    "email": "INVALID_EMAIL",
    "regency_code": "INVALID_REGENCY_CODE",
    "province_code": "WRONG_PROVINCE",
    "education": "INVALID_EDUCATION",
    "employment_status": "INVALID_EMPLOYMENT_STATUS",
}

# Codes about a row's column, the column they are about, and what is wrong with it.
_ROW_CODES = {
    "AMBIGUOUS_YEAR": ("birth_date", "tahun ditulis dua angka, sehingga abadnya tidak dapat dipastikan"),
    "WRONG_PROVINCE": ("nik", "NIK ini bukan penduduk provinsi kantor Anda"),
    "DUPLICATE_NIK": ("nik", "NIK ini sudah terdaftar, di berkas ini atau sebelumnya"),
    "DUPLICATE_EMAIL": ("email", "alamat e-mail ini sudah dipakai peserta lain"),
    "DUPLICATE_PHONE": ("phone", "nomor ponsel ini sudah dipakai peserta lain"),
    "NOT_REGISTERED": ("nik", "NIK ini belum terdaftar sebagai peserta"),
    "INVALID_COHORT": ("cohort", "nama kohort tidak sah"),
    "INVALID_LIST": ("list", "nama daftar tidak sah"),
    "TOO_MANY_LISTS": ("list", "satu berkas paling banyak memuat 20 daftar"),
}

# Codes about a row as a whole.
_ROW_MESSAGES = {
    "CELL_COUNT": (
        "Jumlah sel baris ini tidak sama dengan jumlah kolom di baris judul: apit isi sel yang memuat "
        "pemisah (; atau ,) dengan tanda kutip, atau hapus sel yang berlebih."
    ),
    "UNCLOSED_QUOTE": 'Baris ini berisi tanda kutip (") yang dibuka tetapi tidak ditutup: hapus atau tutup.',
    "CELL_TOO_LONG": "Sebuah sel di baris ini terlalu panjang: periksa tanda kutip yang tidak ditutup.",
    "ALREADY_REGISTERED": "Baris ini sudah didaftarkan sebelumnya dengan data lain.",
}

# The eligibility rules an office's row can fail (the office attests the declarations).
_ELIGIBILITY = {"minimum_age": "peserta belum mencapai usia minimum Kartu Prakerja pada hari pendaftaran"}


@dataclass(frozen=True)
class RowProblem:
    code: str
    message: str


def about(column: str, reason: str) -> str:
    """One column's problem and what to write instead: `Kolom phone: …; tulis …`."""
    hint = _HOW_TO_WRITE.get(column)
    return f"Kolom {column}: {reason}" + (f"; {hint}." if hint else ".")


def row_problem(code: str) -> RowProblem:
    """A row refused for a reason its code says in full."""
    if code in _ROW_CODES:
        column, reason = _ROW_CODES[code]
        return RowProblem(code, about(column, reason))
    return RowProblem(code, _ROW_MESSAGES.get(code, "Baris ini tidak dapat diproses."))


def field_problem(fields: dict[str, str], order: tuple[str, ...]) -> RowProblem:
    """Fields refused for their shape: the first in the file's column order gives the code, and
    the message names every one of them."""
    ranked = sorted(fields, key=lambda name: order.index(name) if name in order else len(order))
    message = " ".join(about(name, fields[name]) for name in ranked)
    return RowProblem(FIELD_CODES.get(ranked[0], "INVALID_" + ranked[0].upper()), message)


def of_error(error: DomainError, order: tuple[str, ...]) -> RowProblem:
    """What a domain error refusing a row's registration or application means for the clerk."""
    if error.code == "NOT_ELIGIBLE":
        rule = error.fields.get("rule", "")
        if rule in _ELIGIBILITY:
            return RowProblem(error.code, about("birth_date", _ELIGIBILITY[rule]))
        return RowProblem(error.code, f"Peserta tidak memenuhi syarat Kartu Prakerja ({rule}).")
    if error.code in _ROW_CODES or error.code in _ROW_MESSAGES:
        return row_problem(error.code)
    if error.fields:
        problem = field_problem(error.fields, order)
        # An identity rule's own code (INVALID_NIK, NIK_MISMATCH) says more than the column's.
        return problem if error.code == "VALIDATION_FAILED" else RowProblem(error.code, problem.message)
    return RowProblem(error.code, error.message)
