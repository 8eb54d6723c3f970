// The dashboard for regional governments and programme staff, scoped by the token's province:
// pemda and office see their own province (and where it ranks); an admin sees the whole country
// and may pick a province.
import { api, ApiError, siteConfig } from "./api.js";
import { claims, currentToken, signIn, signOut, signsInLocally, takeTokenFromRedirect } from "./auth.js";
import { bars, columns, table } from "./charts.js";
import { date, el, number, percent, rupiah } from "./format.js";
import { PROVINCES } from "./provinces.js";

const $ = (selector) => document.querySelector(selector);
const NATIONAL = "";
const STAFF = ["pemda", "office", "admin"];
const NAMES = Object.fromEntries(PROVINCES);
const COHORTS = { PURNA_PMI: "Purna pekerja migran" };
const ROUND = (round) => `Survei ke-${round}`;

// The funnel's steps (docs/STATS.md); the last counts payments paid, incentives and survey rewards.
const FUNNEL = [
  ["Terdaftar", (f) => f.registered],
  ["Ikut gelombang", (f) => f.applied],
  ["Terpilih", (f) => f.selected],
  ["Membeli pelatihan", (f) => f.training_purchased],
  ["Menyelesaikan pelatihan", (f) => f.training_completed],
  ["Pembayaran berhasil", (f) => f.payments_paid ?? null],
];

let provinces = [];

function tell(message) {
  $("#notice").textContent = message;
  $("#notice").hidden = !message;
}

function sum(rows) {
  const total = { province_code: NATIONAL, name: "Nasional", cohorts: {}, survey_outcomes: { rounds: {}, cohorts: {} } };
  for (const row of rows) {
    for (const [name, value] of Object.entries(row)) {
      if (typeof value === "number") total[name] = (total[name] ?? 0) + value;
    }
    for (const [cohort, count] of Object.entries(row.cohorts ?? {})) total.cohorts[cohort] = (total.cohorts[cohort] ?? 0) + count;
    for (const [round, outcome] of Object.entries(row.survey_outcomes?.rounds ?? {})) {
      const into = (total.survey_outcomes.rounds[round] ??= {});
      for (const [name, value] of Object.entries(outcome)) if (!name.endsWith("_share")) into[name] = (into[name] ?? 0) + value;
    }
  }
  return total;
}

function card(label, value, id) {
  return el("li", {}, el("span", { class: "label" }, label), el("span", { class: "value", id }, value));
}

function showFigures(f) {
  $("#dasbor-judul").textContent = f.province_code && f.province_code !== "NATIONAL" ? `Provinsi ${f.name}` : "Seluruh Indonesia";
  $("#angka").replaceChildren(
    card("Terdaftar", number(f.registered), "angka-terdaftar"),
    card("Terpilih", number(f.selected), "angka-terpilih"),
    card("Menyelesaikan pelatihan", number(f.training_completed), "angka-selesai"),
    card("Insentif dibayar", rupiah(f.incentive_paid_amount), "angka-insentif"),
    card("Insentif survei dibayar", rupiah(f.survey_paid_amount), "angka-insentif-survei"),
    card("Saldo tidak terpakai", rupiah(f.unspent_balance), "angka-saldo"),
  );
  const steps = FUNNEL.map(([label, read]) => [label, read(f)]);
  $("#corong").replaceChildren(
    el("figcaption", { id: "corong-judul" }, "Alur peserta"),
    bars(steps),
    table("Alur peserta: jumlah dan persentase dari yang terdaftar", [["Tahap"], ["Jumlah", true], ["Dari terdaftar", true]],
      steps.map(([label, value]) => [[label], [value === null ? "belum tersedia" : number(value), true], [value === null ? "–" : percent(value, f.registered), true]])),
  );
  const cohorts = Object.entries(f.cohorts ?? {});
  $("#kohort").replaceChildren(cohorts.length
    ? table("Peserta per kohort", [["Kohort"], ["Peserta", true], ["Dari terdaftar", true]],
      cohorts.map(([cohort, count]) => [[COHORTS[cohort] ?? cohort], [number(count), true], [percent(count, f.registered), true]]))
    : el("p", {}, "Belum ada peserta dalam kohort mana pun."));
  const rounds = Object.entries(f.survey_outcomes?.rounds ?? {});
  $("#survei").replaceChildren(rounds.length
    ? table("Hasil survei per putaran (persentase dari yang menjawab)",
      [["Putaran"], ["Menjawab", true], ["Bekerja", true], ["Berwirausaha", true], ["Belum bekerja", true], ["Terbantu pelatihan", true]],
      rounds.map(([round, o]) => [[ROUND(round)], [number(o.answered), true], [percent(o.employed, o.answered), true],
        [percent(o.self_employed, o.answered), true], [percent(o.unemployed, o.answered), true], [percent(o.training_helped, o.answered), true]]))
    : el("p", {}, "Belum ada survei yang dijawab."));
}

function rankValue(row, key) {
  return key === "completion" ? (row.selected ? row.training_completed / row.selected : 0) : row[key] ?? 0;
}

function showRanking(mine) {
  const key = $("#urutan").value;
  const ranked = [...provinces].sort((a, b) => rankValue(b, key) - rankValue(a, key) || a.province_code.localeCompare(b.province_code));
  $("#peringkat").replaceChildren(table(
    "Provinsi menurut urutan yang dipilih" + (mine ? "; provinsi Anda ditandai" : ""),
    [["Peringkat"], ["Provinsi"], ["Terdaftar", true], ["Terpilih", true], ["Selesai pelatihan", true], ["Selesai dari terpilih", true], ["Insentif dibayar", true]],
    ranked.map((row, index) => [[String(index + 1)], [row.name ?? NAMES[row.province_code]], [number(row.registered), true], [number(row.selected), true],
      [number(row.training_completed), true], [percent(row.training_completed, row.selected), true], [rupiah(row.incentive_paid_amount), true]]),
    { rowClass: (index) => (ranked[index].province_code === mine ? "mine" : null) },
  ));
}

// Registrations over time and payments per day: the stats' series of the last seven days, for
// the province or the whole country.
async function showSeries(code) {
  const caption = el("figcaption", { id: "waktu-judul" }, "Pendaftaran dari waktu ke waktu");
  let series;
  try {
    series = await api("GET", code ? `/v1/stats/provinces/${code}/series` : "/v1/stats/series");
  } catch (error) {
    // An API without the series (or a 404 without a CORS allowance, which the browser reports as
    // no answer at all) leaves the panel saying so, and the rest of the dashboard as it is.
    if (error instanceof ApiError && [0, 403, 404].includes(error.status)) {
      $("#waktu").replaceChildren(caption, el("p", { class: "unavailable", id: "deret-belum" }, "Deret waktu belum tersedia."));
      return;
    }
    throw error;
  }
  const days = new Map();
  for (const point of series.registrations_per_hour ?? []) {
    const day = point.hour.slice(0, 10);
    days.set(day, (days.get(day) ?? 0) + point.registered);
  }
  const hours = (series.registrations_per_hour ?? []).map((point) => [point.hour.replace("T", " ").slice(0, 16), point.registered]);
  const payments = series.payments_per_day ?? [];
  $("#waktu").replaceChildren(
    caption,
    hours.length ? columns(hours) : el("p", {}, "Belum ada pendaftaran."),
    table("Pendaftaran per hari (UTC)", [["Hari"], ["Pendaftaran", true]], [...days].map(([day, count]) => [[date(day)], [number(count), true]])),
    table("Pembayaran per hari", [["Hari"], ["Dibayar", true], ["Jumlah", true], ["Gagal", true]],
      payments.map((p) => [[date(p.day)], [number(p.payments_paid), true], [rupiah(p.payments_paid_amount), true], [number(p.payments_failed), true]])),
  );
}

async function load(scope, mine) {
  tell("");
  const [all, one] = await Promise.all([
    api("GET", "/v1/stats/provinces"),
    scope ? api("GET", `/v1/stats/provinces/${scope}`) : null,
  ]);
  provinces = all.provinces;
  showFigures(one ?? all.national ?? sum(provinces));
  showRanking(mine);
  // The first view is shown; the time series may follow a moment later.
  requestAnimationFrame(() => performance.mark("dashboard-figures-shown"));
  document.body.dataset.figures = "shown";
  await showSeries(scope);
}

const IMPORT_STATUS = { PENDING: "Menunggu berkas", RUNNING: "Sedang diproses", DONE: "Selesai", REJECTED: "Ditolak" };
const OUTCOME = { IMPORTED: "Diimpor", DUPLICATE: "Duplikat", INVALID: "Tidak sah", NOT_ELIGIBLE: "Tidak memenuhi syarat", WRONG_PROVINCE: "Provinsi lain" };
const POLL_MS = 1000;

// An office's file: the API gives a presigned link, the file goes straight to the upload bucket
// (its CORS allows this site alone), and the import is followed until it is done.
async function upload(form) {
  const file = form.elements.file.files[0];
  if (!file) return;
  const shown = $("#impor-hasil");
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const requested = await api("POST", "/v1/imports", {
      body: { kind: form.elements.kind.value, filename: file.name },
      idempotencyKey: crypto.randomUUID(),
    });
    shown.replaceChildren(el("p", {}, `Mengunggah ${file.name}…`));
    const put = await fetch(requested.upload_url, { method: "PUT", headers: { "Content-Type": "text/csv" }, body: file });
    if (!put.ok) throw new ApiError(put.status, { code: "UPLOAD_FAILED", message: "Berkas gagal diunggah; coba lagi." });
    let batch;
    do {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      batch = await api("GET", `/v1/imports/${encodeURIComponent(requested.import_id)}`);
      shown.replaceChildren(el("p", { id: "impor-status", "data-status": batch.status }, `${file.name}: ${IMPORT_STATUS[batch.status] ?? batch.status}`));
    } while (batch.status === "PENDING" || batch.status === "RUNNING");
    const counts = Object.entries(batch.counts ?? {});
    shown.append(
      batch.reason_message ? el("p", {}, batch.reason_message) : "",
      counts.length ? table("Hasil per baris", [["Hasil"], ["Baris", true]], counts.map(([outcome, count]) => [[OUTCOME[outcome] ?? outcome], [number(count), true]])) : "",
      batch.report_url ? el("p", {}, el("a", { href: batch.report_url }, "Unduh laporan per baris")) : "",
    );
  } catch (error) {
    failed(error);
  } finally {
    button.disabled = false;
  }
}

function failed(error) {
  if (error instanceof ApiError) tell(error.message);
  else throw error;
}

async function start() {
  takeTokenFromRedirect();
  const config = await siteConfig();
  const provinceOptions = () => PROVINCES.map(([code, name]) => el("option", { value: code }, name));
  const who = claims();
  if (!currentToken() || !STAFF.includes(who?.role)) {
    if (!signsInLocally(config)) document.querySelectorAll("[data-local-only]").forEach((node) => node.remove());
    $("#masuk-provinsi").replaceChildren(...provinceOptions());
    $("#masuk-provinsi").value = "31";
    $("#masuk").hidden = false;
    $("#form-masuk").addEventListener("submit", (event) => {
      event.preventDefault();
      const data = Object.fromEntries(new FormData(event.currentTarget).entries());
      const wanted = data.role === "admin" ? { role: "admin", sub: data.sub } : data;
      signIn(config, wanted).then(() => location.reload(), () => tell("Gagal masuk; coba lagi."));
    });
    return;
  }
  $("#keluar").addEventListener("click", () => {
    signOut();
    location.reload();
  });
  const mine = who.role === "admin" ? null : who.province ?? null;
  $("#who").textContent = mine ? `Masuk sebagai ${who.role}, provinsi ${NAMES[mine] ?? mine}` : `Masuk sebagai ${who.role}`;
  $("#dasbor").hidden = false;
  if (who.role === "admin") {
    $("#wilayah").replaceChildren(el("option", { value: NATIONAL }, "Seluruh Indonesia"), ...provinceOptions());
    $("#pilih-wilayah").hidden = false;
    $("#wilayah").addEventListener("change", () => load($("#wilayah").value, null).catch(failed));
  } else if (!mine) {
    tell("Token Anda tidak menyebut provinsi; hubungi pengelola program.");
    return;
  }
  if (who.role === "office" || who.role === "admin") {
    if (who.role !== "admin") document.querySelectorAll("[data-admin-only]").forEach((node) => node.remove());
    $("#impor").hidden = false;
    $("#form-impor").addEventListener("submit", (event) => {
      event.preventDefault();
      upload(event.currentTarget);
    });
  }
  $("#urutan").addEventListener("change", () => showRanking(mine));
  await load(mine ?? NATIONAL, mine).catch(failed);
}

start();
