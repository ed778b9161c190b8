// The platform's HTTP API, same origin, with the signed-in token. Errors carry the problem+json `code`.

const TOKEN_KEY = "agyn.token";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const session = {
  get token() { return sessionStorage.getItem(TOKEN_KEY); },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
};

let onUnauthenticated = () => {};
let onReachable = () => {};
export function onAuthLost(handler) { onUnauthenticated = handler; }
export function onReachability(handler) { onReachable = handler; }

export async function api(path, { method = "GET", body, headers = {}, raw = false, token = session.token } = {}) {
  const init = { method, headers: { ...headers } };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body instanceof FormData || body instanceof Blob) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    onReachable(false);
    throw new ApiError(0, "unreachable", "The server cannot be reached. Check your connection; retrying.");
  }
  onReachable(true);
  if (response.ok) {
    if (raw) return response;
    return response.status === 204 ? null : response.json();
  }
  let problem = {};
  try { problem = await response.json(); } catch { /* not problem+json */ }
  const error = new ApiError(response.status, problem.code || `http_${response.status}`,
    problem.detail || problem.title || `${method} ${path} failed (${response.status})`);
  if (response.status === 401) onUnauthenticated(error);
  throw error;
}

/** Every page of a paginated collection. */
export async function all(path, params = {}) {
  const items = [];
  let token = null;
  do {
    const query = new URLSearchParams({ ...params, page_size: "100" });
    if (token) query.set("page_token", token);
    const page = await api(`${path}?${query}`);
    items.push(...page.items);
    token = page.next_page_token;
  } while (token);
  return items;
}
