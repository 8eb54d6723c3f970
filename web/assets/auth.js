// Where tokens come from: the one module that changes between the local stack and AWS.
// Locally the local issuer (`POST /dev/tokens`) stands in for sign-in; in AWS `config.json` says
// `"sign_in": "cognito"` and Cognito's hosted sign-in returns the ID token in the page's address.

const STORAGE_KEY = "prakerja.token";

export function currentToken() {
  return sessionStorage.getItem(STORAGE_KEY);
}

// The token's claims, for what the page shows (role, province); the API checks them itself.
export function claims() {
  const token = currentToken();
  if (!token) return null;
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(decodeURIComponent(escape(atob(payload))));
  } catch {
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(STORAGE_KEY);
}

export function signsInLocally(config) {
  return config.sign_in === "local";
}

// `wanted` is what the local issuer needs (role, sub, province); Cognito decides those itself.
export async function signIn(config, wanted) {
  if (config.sign_in === "cognito") {
    const query = new URLSearchParams({
      response_type: "token",
      client_id: config.cognito.client_id,
      redirect_uri: location.origin + location.pathname,
      scope: "openid email",
    });
    location.assign(`${config.cognito.domain}/oauth2/authorize?${query}`);
    return;
  }
  const response = await fetch(`${config.api_base_url}/dev/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(wanted),
  });
  if (!response.ok) throw new Error("Gagal masuk.");
  sessionStorage.setItem(STORAGE_KEY, (await response.json()).token);
}

// Back from Cognito's hosted sign-in: keep the ID token and take it out of the address bar.
export function takeTokenFromRedirect() {
  const returned = new URLSearchParams(location.hash.slice(1)).get("id_token");
  if (returned) {
    sessionStorage.setItem(STORAGE_KEY, returned);
    history.replaceState(null, "", location.pathname);
  }
}
