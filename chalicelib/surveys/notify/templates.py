"""The programme's messages to people, in Indonesian: one template per outbox kind, rendered from
the record's details and the person's name. Pure functions: no I/O, so every kind is tested alone.

A template renders an e-mail (subject and body) and an SMS. SMS is kept short (one or two
segments) because it is paid per segment; the e-mail may say more.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date


class UnknownKind(Exception):
    """An outbox kind with no template: a programming error, dead-lettered rather than guessed at."""


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    sms: str


def rupiah(amount: int) -> str:
    """`600000` → `Rp600.000`: the way Indonesian money is written (dots group thousands)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)


def tanggal(value: str) -> str:
    """`2021-08-15` → `15 Agustus 2021`; a value that is not a date is shown as it is."""
    try:
        day = date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _amount(details: dict[str, str], key: str = "amount") -> str:
    try:
        return rupiah(int(details.get(key, "0")))
    except ValueError:
        return details.get(key, "")


_PAYMENT_KINDS = {"INCENTIVE": "insentif pasca pelatihan", "SURVEY": "insentif survei"}
_SIGN_OFF = "\n\nSalam,\nManajemen Pelaksana Program Kartu Prakerja"

Template = Callable[[str, dict[str, str]], Message]


def _selected(name: str, details: dict[str, str]) -> Message:
    wave = details.get("wave_id", "")
    balance = _amount(details, "balance") if details.get("balance") else "saldo pelatihan Anda"
    return Message(
        f"Selamat, Anda lolos seleksi Kartu Prakerja gelombang {wave}",
        f"Halo {name},\n\nSelamat! Anda terpilih sebagai penerima Kartu Prakerja gelombang {wave}. "
        f"Gunakan {balance} untuk membeli pelatihan pertama Anda dalam 30 hari; bila tidak, "
        "kepesertaan Anda dicabut." + _SIGN_OFF,
        f"Prakerja: Selamat {name}, Anda lolos seleksi gelombang {wave}. "
        "Beli pelatihan pertama dalam 30 hari.",
    )


def _not_selected(name: str, details: dict[str, str]) -> Message:
    wave = details.get("wave_id", "")
    return Message(
        f"Hasil seleksi Kartu Prakerja gelombang {wave}",
        f"Halo {name},\n\nMohon maaf, Anda belum terpilih pada gelombang {wave}. "
        "Anda dapat mendaftar kembali pada gelombang berikutnya." + _SIGN_OFF,
        f"Prakerja: {name}, Anda belum terpilih pada gelombang {wave}. Silakan ikut gelombang berikutnya.",
    )


def _revoked(name: str, details: dict[str, str]) -> Message:
    reason = details.get("reason", "")
    because = (
        "Anda tidak membeli pelatihan dalam 30 hari setelah terpilih"
        if reason == "NO_PURCHASE_BY_DEADLINE"
        else f"alasan: {reason}"
    )
    return Message(
        "Kepesertaan Kartu Prakerja Anda dicabut",
        f"Halo {name},\n\nKepesertaan Kartu Prakerja Anda dicabut ({because}). "
        "Sisa saldo pelatihan dikembalikan ke negara. Bila menurut Anda ini keliru, ajukan "
        "pengaduan melalui situs Prakerja." + _SIGN_OFF,
        f"Prakerja: {name}, kepesertaan Anda dicabut ({because}).",
    )


def _incentive_stage(name: str, details: dict[str, str]) -> Message:
    return Message(
        "Pelatihan pertama Anda selesai",
        f"Halo {name},\n\nSelamat, Anda telah menyelesaikan pelatihan pertama. Beri ulasan pada "
        "pelatihan tersebut dan hubungkan rekening atau dompet digital Anda agar insentif pasca "
        "pelatihan dapat dibayarkan." + _SIGN_OFF,
        f"Prakerja: Selamat {name}, pelatihan pertama selesai. Beri ulasan dan hubungkan "
        "rekening untuk menerima insentif.",
    )


def _training_rated(name: str, details: dict[str, str]) -> Message:
    return Message(
        "Terima kasih atas ulasan Anda",
        f"Halo {name},\n\nTerima kasih telah memberi ulasan pelatihan. Insentif pasca pelatihan "
        "dijadwalkan setelah rekening Anda terverifikasi." + _SIGN_OFF,
        f"Prakerja: Terima kasih {name}, ulasan Anda tercatat. Insentif dijadwalkan setelah "
        "rekening terverifikasi.",
    )


def _survey_invitation(name: str, details: dict[str, str]) -> Message:
    round_ = details.get("round", "")
    deadline = tanggal(details.get("deadline", ""))
    return Message(
        f"Survei evaluasi Kartu Prakerja ke-{round_}",
        f"Halo {name},\n\nIsi survei evaluasi ke-{round_} paling lambat {deadline} di situs "
        "Prakerja. Anda menerima insentif survei setelah mengisinya." + _SIGN_OFF,
        f"Prakerja: {name}, isi survei ke-{round_} paling lambat {deadline} untuk menerima insentif survei.",
    )


def _balance_reminder(name: str, details: dict[str, str]) -> Message:
    days = details.get("days_left", "")
    deadline = tanggal(details.get("deadline", ""))
    return Message(
        f"{days} hari lagi: gunakan saldo pelatihan Kartu Prakerja Anda",
        f"Halo {name},\n\nAnda belum membeli pelatihan. Batas pembelian pelatihan pertama adalah "
        f"{deadline} ({days} hari lagi); setelah itu kepesertaan Anda dicabut." + _SIGN_OFF,
        f"Prakerja: {name}, {days} hari lagi batas beli pelatihan pertama ({deadline}). "
        "Segera gunakan saldo Anda.",
    )


def _payment_sent(name: str, details: dict[str, str]) -> Message:
    amount = _amount(details)
    what = _PAYMENT_KINDS.get(details.get("payment_kind", ""), "insentif")
    return Message(
        f"{what.capitalize()} {amount} telah dibayarkan",
        f"Halo {name},\n\n{what.capitalize()} sebesar {amount} telah dibayarkan ke rekening "
        "Anda." + _SIGN_OFF,
        f"Prakerja: {what.capitalize()} {amount} telah dibayarkan ke rekening Anda, {name}.",
    )


def _payment_needs_action(name: str, details: dict[str, str]) -> Message:
    amount = _amount(details)
    what = _PAYMENT_KINDS.get(details.get("payment_kind", ""), "insentif")
    return Message(
        f"{what.capitalize()} {amount} belum dapat dibayarkan",
        f"Halo {name},\n\n{what.capitalize()} sebesar {amount} belum dapat dibayarkan ke "
        "rekening Anda. Periksa atau ganti rekening di situs Prakerja." + _SIGN_OFF,
        f"Prakerja: {name}, {what} {amount} gagal dibayarkan. Periksa rekening Anda di situs Prakerja.",
    )


TEMPLATES: dict[str, Template] = {
    "SELECTED": _selected,
    "NOT_SELECTED": _not_selected,
    "REVOKED": _revoked,
    "INCENTIVE_STAGE": _incentive_stage,
    "TRAINING_RATED": _training_rated,
    "SURVEY_INVITATION": _survey_invitation,
    "BALANCE_REMINDER": _balance_reminder,
    "PAYMENT_SENT": _payment_sent,
    "PAYMENT_NEEDS_ACTION": _payment_needs_action,
}


def render(kind: str, name: str, details: dict[str, str]) -> Message:
    template = TEMPLATES.get(kind)
    if template is None:
        raise UnknownKind(kind)
    return template(name, details)
