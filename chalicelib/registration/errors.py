"""Registration's refusals, each with the contract's code and an Indonesian message."""

from __future__ import annotations

from chalicelib.core.errors import Conflict, NotFound, ValidationFailed


class WaveExists(Conflict):
    code = "WAVE_EXISTS"
    message = "Gelombang dengan kode ini sudah ada."


class DuplicateNik(Conflict):
    code = "DUPLICATE_NIK"
    message = "NIK ini sudah terdaftar."


class DuplicateEmail(Conflict):
    code = "DUPLICATE_EMAIL"
    message = "Alamat e-mail ini sudah terdaftar."


class DuplicatePhone(Conflict):
    code = "DUPLICATE_PHONE"
    message = "Nomor ponsel ini sudah terdaftar."


class AlreadyRegistered(Conflict):
    code = "ALREADY_REGISTERED"
    message = "Akun ini sudah mendaftar dengan data lain."


class NotEligible(ValidationFailed):
    code = "NOT_ELIGIBLE"
    message = "Anda tidak memenuhi syarat peserta Kartu Prakerja."


class NotRegistered(NotFound):
    code = "NOT_REGISTERED"
    message = "Akun ini belum terdaftar sebagai peserta."


class ParticipantNotFound(NotFound):
    code = "PARTICIPANT_NOT_FOUND"
    message = "Peserta tidak ditemukan."


class WaveNotFound(NotFound):
    code = "WAVE_NOT_FOUND"
    message = "Gelombang tidak ditemukan."


class WaveClosed(ValidationFailed):
    code = "WAVE_CLOSED"
    message = "Pendaftaran gelombang ini tidak sedang dibuka."


class NoPlacesInProvince(ValidationFailed):
    code = "WAVE_CLOSED"
    message = "Gelombang ini tidak membuka kuota untuk provinsi Anda."


class AlreadyApplied(Conflict):
    code = "ALREADY_APPLIED"
    message = "Anda sudah mendaftar pada sebuah gelombang yang belum diumumkan."


class AlreadySelected(Conflict):
    code = "ALREADY_SELECTED"
    message = "Anda sudah menjadi penerima Kartu Prakerja."


class Revoked(Conflict):
    code = "REVOKED"
    message = "Kepesertaan Anda telah dicabut; Anda tidak dapat mendaftar lagi."


class WaveStillOpen(Conflict):
    code = "WAVE_OPEN"
    message = "Seleksi hanya dapat dimulai setelah pendaftaran gelombang ditutup."


class ImportNotFound(NotFound):
    code = "IMPORT_NOT_FOUND"
    message = "Impor tidak ditemukan."
