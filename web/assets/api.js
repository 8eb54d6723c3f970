// The API as the pages call it: base URL from /config.json, the caller's token, the contract's errors.
import { currentToken } from "./auth.js";

let config;

export function siteConfig() {
  config ??= fetch("/config.json").then((response) => response.json());
  return config;
}

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message);
    this.status = status;
    this.code = error.code;
    this.fields = error.fields ?? {};
  }
}

const UNREACHABLE = { code: "NETWORK", message: "Server tidak dapat dihubungi. Periksa sambungan Anda lalu coba lagi." };

// `idempotencyKey`: one per action the person takes, so that a retried click never buys twice.
export async function api(method, path, { body, idempotencyKey } = {}) {
  const { api_base_url: base } = await siteConfig();
  const headers = {};
  const token = currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
  let response;
  try {
    response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, UNREACHABLE);
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ApiError(response.status, answer.error ?? { code: `HTTP_${response.status}`, message: "Permintaan gagal." });
  }
  return answer;
}
