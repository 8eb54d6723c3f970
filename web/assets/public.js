// The public site: sign in, register, join a wave, see my status, buy a course, link an account,
// answer a survey. One page; the address's #fragment says which part is shown.
import { api, ApiError, siteConfig } from "./api.js";
import { currentToken, signIn, signOut, signsInLocally, takeTokenFromRedirect } from "./auth.js";
import { date, dateTime, el, rupiah } from "./format.js";
import { PROVINCES } from "./provinces.js";

const STATUS = {
  REGISTERED: "Terdaftar", APPLIED: "Mengikuti gelombang", NOT_SELECTED: "Belum terpilih", SELECTED: "Terpilih",
  TRAINING: "Sedang pelatihan", INCENTIVE: "Menerima insentif", FINISHED: "Selesai", REVOKED: "Dicabut",
};
const VERIFICATION = { PENDING: "Sedang diperiksa", NIK_VERIFIED: "NIK terverifikasi", NIK_REJECTED: "NIK ditolak" };
const PAYMENT = {
  DUE: "Dijadwalkan", SENDING: "Sedang dikirim", SENT: "Terkirim", PAID: "Dibayar", FAILED: "Gagal",
  NEEDS_ACTION: "Perlu tindakan", RECONCILED: "Dibayar",
};
const PURCHASE = { ACTIVE: "Dibeli", COMPLETED: "Selesai", RETURNED: "Dikembalikan" };
const SURVEY = { DUE: "Dijadwalkan", SENT: "Menunggu jawaban", ANSWERED: "Sudah dijawab", EXPIRED: "Kedaluwarsa" };
const KIND = { INCENTIVE: "Insentif", SURVEY: "Insentif survei" };
const CHOICES = {
  EMPLOYED: "Bekerja", SELF_EMPLOYED: "Berwirausaha", UNEMPLOYED: "Belum/tidak bekerja",
  "<1M": "Kurang dari Rp1 juta", "1-3M": "Rp1–3 juta", "3-5M": "Rp3–5 juta", ">5M": "Lebih dari Rp5 juta",
};

const $ = (selector) => document.querySelector(selector);
const notice = $("#notice");
let record = null; // the participant's record, once read
let keepNotice = false; // a page the code moves to keeps the notice that explains why

function go(hash) {
  keepNotice = true;
  location.hash = hash;
}

function tell(message, kind = "ok", details = []) {
  notice.replaceChildren(el("p", {}, message), ...(details.length ? [el("ul", {}, details.map((item) => el("li", {}, item)))] : []));
  notice.className = `notice ${kind}`;
  notice.hidden = false;
}

function quiet() {
  notice.hidden = true;
  notice.replaceChildren();
}

// The API's `fields` next to the inputs they name; any it names that no input shows, at the top.
function showErrors(form, error) {
  clearErrors(form);
  const unplaced = [];
  for (const [field, problem] of Object.entries(error.fields)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`)
      ?? form.querySelector(`[data-error-for="${CSS.escape(field.split(".")[0])}"]`);
    if (!slot) {
      unplaced.push(`${field}: ${problem}`);
      continue;
    }
    slot.textContent = problem;
    form.querySelectorAll(`[name="${CSS.escape(field)}"]`).forEach((input) => input.setAttribute("aria-invalid", "true"));
  }
  tell(error.message, "error", unplaced);
  const first = form.querySelector("[aria-invalid=true]");
  (first ?? notice).focus?.();
}

function clearErrors(form) {
  form.querySelectorAll("[data-error-for]").forEach((slot) => (slot.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
}

async function submitting(form, action) {
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  quiet();
  try {
    await action();
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    showErrors(form, error);
  } finally {
    button.disabled = false;
  }
}

function needsSignIn() {
  if (currentToken()) return false;
  tell("Silakan masuk terlebih dahulu.", "error");
  go("#masuk");
  return true;
}

// --- pages ------------------------------------------------------------------------------------

const PAGES = { gelombang: loadWaves, status: loadStatus, katalog: () => loadCourses(false), survei: loadSurvey };

function show() {
  if (!keepNotice) quiet();
  keepNotice = false;
  const wanted = location.hash.slice(1) || (currentToken() ? "status" : "masuk");
  const page = document.getElementById(wanted)?.hasAttribute("data-page") ? wanted : "masuk";
  document.querySelectorAll("[data-page]").forEach((section) => (section.hidden = section.id !== page));
  document.querySelectorAll("nav a").forEach((link) => {
    if (link.hash === `#${page}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  document.getElementById(`${page}-judul`).focus({ preventScroll: false });
  if (PAGES[page] && !(page !== "katalog" && needsSignIn())) PAGES[page]().catch(failed);
}

function failed(error) {
  if (error instanceof ApiError) tell(error.message, "error");
  else throw error;
}

function whoIsIn() {
  $("#who").textContent = currentToken() ? "Anda sudah masuk." : "Anda belum masuk.";
}

async function loadWaves() {
  const { waves } = await api("GET", "/v1/waves");
  const rows = waves.map((wave) => el("tr", {},
    el("th", { scope: "row" }, wave.wave_id),
    el("td", {}, dateTime(wave.opens_at)),
    el("td", {}, dateTime(wave.closes_at)),
    el("td", { class: "num" }, wave.quota.toLocaleString("id-ID")),
    el("td", {}, wave.applications_open
      ? el("button", { type: "button", "data-wave": wave.wave_id, onclick: () => join(wave.wave_id) }, `Ikut ${wave.wave_id}`)
      : "Pendaftaran ditutup")));
  $("#daftar-gelombang").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5 }, "Belum ada gelombang."))]));
}

async function join(waveId) {
  quiet();
  try {
    await api("POST", `/v1/waves/${encodeURIComponent(waveId)}/applications`, { idempotencyKey: crypto.randomUUID() });
    tell(`Anda mengikuti gelombang ${waveId}. Hasil seleksi diumumkan setelah gelombang ditutup.`);
  } catch (error) {
    failed(error);
  }
}

async function readRecord() {
  record = await api("GET", "/v1/participants/me");
  return record;
}

function table(caption, headings, rows, empty) {
  if (!rows.length) return el("p", {}, empty);
  return el("table", {},
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headings.map(([text, numeric]) => el("th", { scope: "col", class: numeric ? "num" : null }, text)))),
    el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map(([text, numeric]) => el("td", { class: numeric ? "num" : null }, text))))));
}

async function loadStatus() {
  let me;
  try {
    me = await readRecord();
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      $("#status-isi").replaceChildren(el("p", {}, "Anda belum terdaftar. ", el("a", { href: "#daftar" }, "Daftar sekarang")));
      return;
    }
    throw error;
  }
  const summary = el("dl", { class: "summary" },
    el("dt", {}, "Status"), el("dd", { id: "status-peserta", "data-status": me.status }, STATUS[me.status] ?? me.status),
    el("dt", {}, "Verifikasi"), el("dd", {}, VERIFICATION[me.verification] ?? me.verification),
    el("dt", {}, "Nama"), el("dd", {}, me.full_name),
    el("dt", {}, "NIK"), el("dd", {}, me.nik),
    el("dt", {}, "Gelombang"), el("dd", {}, me.wave_id ?? "–"),
    el("dt", {}, "Saldo pelatihan"), el("dd", { id: "saldo-peserta" }, rupiah(me.balance)),
    el("dt", {}, "Batas pembelian pertama"), el("dd", {}, dateTime(me.purchase_deadline)),
    el("dt", {}, "Rekening"), el("dd", {}, me.payment_account
      ? `${me.payment_account.partner_id} ${me.payment_account.account_number} (${me.payment_account.verified ? "terverifikasi" : "belum terverifikasi"})`
      : "Belum ada"));
  $("#status-isi").replaceChildren(
    summary,
    el("h2", {}, "Pelatihan"),
    table("Pelatihan yang Anda beli", [["Pelatihan"], ["Harga", true], ["Status"], ["Nilai"]],
      (me.purchases ?? []).map((p) => [[p.course_id], [rupiah(p.price), true], [PURCHASE[p.status] ?? p.status], [rating(p)]]),
      "Belum ada pelatihan yang dibeli."),
    el("h2", {}, "Pembayaran"),
    table("Pembayaran insentif", [["Jenis"], ["Jumlah", true], ["Jatuh tempo"], ["Status"]],
      (me.payments ?? []).map((p) => [[KIND[p.kind] ?? p.kind], [rupiah(p.amount), true], [date(p.due_date)], [PAYMENT[p.status] ?? p.status]]),
      "Belum ada pembayaran."),
    el("h2", {}, "Survei"),
    table("Survei", [["Survei ke"], ["Batas jawab"], ["Status"]],
      (me.surveys ?? []).map((s) => [[String(s.round)], [date(s.deadline)], [SURVEY[s.status] ?? s.status]]), "Belum ada survei."));
}

// A completed course is rated once; the rating is what starts the incentive schedule.
function rating(purchase) {
  if (purchase.stars) return "★".repeat(purchase.stars) + ` (${purchase.stars} dari 5)`;
  if (purchase.status !== "COMPLETED") return "–";
  const id = `nilai-${purchase.purchase_id}`;
  const form = el("form", { class: "rating" },
    el("label", { for: id }, `Nilai untuk ${purchase.course_id}`),
    el("select", { id, name: "stars" }, [5, 4, 3, 2, 1].map((stars) => el("option", { value: stars }, `${stars} bintang`))),
    el("p", { class: "error", "data-error-for": "stars" }),
    el("button", { type: "submit" }, "Kirim nilai"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      const stars = Number(form.elements.stars.value);
      await api("POST", `/v1/courses/${encodeURIComponent(purchase.course_id)}/ratings`, { body: { stars } });
      tell("Terima kasih atas penilaian Anda. Insentif akan dijadwalkan.");
      await loadStatus();
    });
  });
  return form;
}

let cursor = null;

async function loadCourses(more) {
  const query = new URLSearchParams({ limit: "20" });
  const q = $("#katalog-cari").value.trim();
  if (q) query.set("q", q);
  if (more && cursor) query.set("cursor", cursor);
  const page = await api("GET", `/v1/courses?${query}`);
  cursor = page.next;
  $("#kursus-lagi").hidden = !cursor;
  const rows = page.courses.map((course) => el("tr", {},
    el("th", { scope: "row" }, course.title),
    el("td", {}, course.institution),
    el("td", {}, course.category),
    el("td", { class: "num" }, rupiah(course.price)),
    el("td", {}, currentToken()
      ? el("button", { type: "button", "data-course": course.course_id, onclick: (event) => buy(course, event.currentTarget) },
        el("span", {}, "Beli"), el("span", { class: "visually-hidden" }, ` ${course.title}`))
      : "")));
  if (more) $("#daftar-kursus").append(...rows);
  else $("#daftar-kursus").replaceChildren(...(rows.length ? rows : [el("tr", {}, el("td", { colspan: 5 }, "Tidak ada pelatihan yang cocok."))]));
  if (currentToken() && !more) {
    readRecord().then((me) => ($("#saldo").textContent = `Saldo pelatihan Anda: ${rupiah(me.balance)}`), () => {});
  }
}

async function buy(course, button) {
  quiet();
  button.disabled = true;
  try {
    // The price the person was shown: if it changed meanwhile, nothing is debited (PRICE_CHANGED).
    const bought = await api("POST", "/v1/purchases", {
      body: { course_id: course.course_id, price: course.price },
      idempotencyKey: crypto.randomUUID(),
    });
    tell(`Pelatihan "${course.title}" berhasil dibeli. Sisa saldo: ${rupiah(bought.balance)}.`);
    $("#saldo").textContent = `Saldo pelatihan Anda: ${rupiah(bought.balance)}`;
  } catch (error) {
    failed(error);
  } finally {
    button.disabled = false;
  }
}

async function loadSurvey() {
  const me = await readRecord().catch(() => null);
  const waiting = (me?.surveys ?? []).find((survey) => survey.status === "SENT");
  if (!waiting) {
    $("#survei-isi").replaceChildren(el("p", {}, "Tidak ada survei yang menunggu jawaban Anda."));
    return;
  }
  const survey = await api("GET", `/v1/surveys/${encodeURIComponent(waiting.survey_id)}`);
  const form = el("form", { id: "form-survei", novalidate: true },
    el("p", {}, `Survei ke-${survey.round}. Jawab paling lambat ${date(waiting.deadline)}.`),
    survey.questions.map(question));
  form.append(el("p", { class: "error", "data-error-for": "answers" }), el("button", { type: "submit" }, "Kirim jawaban"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitting(form, async () => {
      await api("POST", `/v1/surveys/${encodeURIComponent(survey.survey_id)}/responses`, { body: { answers: answers(form, survey.questions) } });
      tell("Terima kasih, jawaban Anda sudah kami terima. Insentif survei akan dibayarkan ke rekening Anda.");
      $("#survei-isi").replaceChildren(el("p", {}, "Survei sudah dijawab."));
    });
  });
  $("#survei-isi").replaceChildren(form);
}

function question(q) {
  const id = `q-${q.id}`;
  const error = el("p", { class: "error", id: `${id}-salah`, "data-error-for": `answers.${q.id}` });
  const mark = q.required ? "" : " (tidak wajib)";
  if (q.type === "text") {
    return el("div", { class: "field" }, el("label", { for: id }, q.text + mark),
      el("textarea", { id, name: `answers.${q.id}`, maxlength: q.max_length ?? 1000, "aria-describedby": `${id}-salah` }), error);
  }
  const options = q.type === "boolean" ? [["true", "Ya"], ["false", "Tidak"]] : q.choices.map((choice) => [choice, CHOICES[choice] ?? choice]);
  return el("fieldset", { class: "field", "aria-describedby": `${id}-salah` }, el("legend", {}, q.text + mark),
    options.map(([value, text]) => el("label", { class: "inline" },
      el("input", { type: "radio", name: `answers.${q.id}`, value, required: q.required }), ` ${text}`)),
    error);
}

function answers(form, questions) {
  const data = new FormData(form);
  const given = {};
  for (const q of questions) {
    const value = data.get(`answers.${q.id}`);
    if (value === null || value === "") continue;
    given[q.id] = q.type === "boolean" ? value === "true" : value;
  }
  return given;
}

// --- forms ------------------------------------------------------------------------------------

function registration(form) {
  const data = new FormData(form);
  const body = { declarations: {} };
  for (const input of form.querySelectorAll("input[type=checkbox][name^='declarations.']")) {
    body.declarations[input.name.split(".")[1]] = input.checked;
  }
  for (const [name, value] of data.entries()) {
    if (!name.startsWith("declarations.")) body[name] = String(value).trim();
  }
  return body;
}

async function start() {
  takeTokenFromRedirect();
  const config = await siteConfig();
  if (!signsInLocally(config)) document.querySelectorAll("[data-local-only]").forEach((node) => node.remove());
  $("#province_code").replaceChildren(...PROVINCES.map(([code, name]) => el("option", { value: code }, name)));
  $("#province_code").value = "31";

  $("#form-masuk").addEventListener("submit", (event) => {
    event.preventDefault();
    const sub = $("#masuk-akun")?.value.trim();
    if (signsInLocally(config) && !sub) {
      tell("Tulis ID akun Anda.", "error");
      return;
    }
    signIn(config, { role: "participant", sub }).then(async () => {
      whoIsIn();
      tell("Anda berhasil masuk.");
      const registered = await readRecord().then(() => true, () => false);
      go(registered ? "#status" : "#daftar");
    }, () => tell("Gagal masuk; coba lagi.", "error"));
  });
  $("#keluar").addEventListener("click", () => {
    signOut();
    whoIsIn();
    tell("Anda sudah keluar.");
  });
  $("#form-daftar").addEventListener("submit", (event) => {
    event.preventDefault();
    if (needsSignIn()) return;
    const form = event.currentTarget;
    submitting(form, async () => {
      await api("POST", "/v1/registrations", { body: registration(form) });
      clearErrors(form);
      tell("Pendaftaran berhasil. NIK Anda sedang diperiksa; sementara itu, pilih gelombang yang dibuka.");
      go("#gelombang");
    });
  });
  $("#form-katalog").addEventListener("submit", (event) => {
    event.preventDefault();
    loadCourses(false).catch(failed);
  });
  $("#kursus-lagi").addEventListener("click", () => loadCourses(true).catch(failed));
  $("#form-rekening").addEventListener("submit", (event) => {
    event.preventDefault();
    if (needsSignIn()) return;
    const form = event.currentTarget;
    submitting(form, async () => {
      const body = Object.fromEntries([...new FormData(form).entries()].map(([name, value]) => [name, String(value).trim()]));
      await api("PUT", "/v1/participants/me/payment-account", { body });
      clearErrors(form);
      tell("Rekening tersimpan dan terverifikasi. Insentif akan dibayarkan ke rekening ini.");
    });
  });
  window.addEventListener("hashchange", show);
  whoIsIn();
  show();
}

start();
