// The admin token (kept in sessionStorage only) and the authenticated calls the dashboard makes to the
// gateway. URLs resolve against this module's own address (/ui/api.js), so the page works behind a prefix.
const TOKEN_KEY = 'busbar.adminToken';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage unavailable: nothing was kept.
  }
}

/** `path` is relative to /ui/: './api/live' is /ui/api/live, '../admin/keys' is /admin/keys. */
export function apiUrl(path) {
  return new URL(path, import.meta.url).href;
}

export function authHeaders() {
  return { authorization: `Bearer ${getToken()}` };
}

/** The gateway refused the admin token (401): the caller signs out. */
export class Unauthorized extends Error {
  constructor() {
    super('The admin token was not accepted.');
    this.name = 'Unauthorized';
  }
}

/** A call that reached the gateway and was answered with an error status. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/** The readable part of an error body: `{"error": "…"}`, `{"error": {"message": "…"}}`, `{"errors": […]}`. */
export function errorText(body, status) {
  if (body && typeof body === 'object') {
    if (Array.isArray(body.errors) && body.errors.length > 0) return body.errors.join('; ');
    if (typeof body.error === 'string') return body.error;
    if (body.error && typeof body.error.message === 'string') return body.error.message;
  }
  return `the gateway answered HTTP ${status}`;
}

/** One admin API call; resolves to the parsed JSON body, throws Unauthorized or ApiError. */
export async function adminCall(method, path, body) {
  const headers = authHeaders();
  const init = { method, headers, cache: 'no-store' };
  if (method !== 'GET' && method !== 'DELETE') {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body ?? {});
  }
  const res = await fetch(apiUrl(path), init);
  if (res.status === 401) throw new Unauthorized();
  let parsed = null;
  try {
    parsed = await res.json();
  } catch {
    parsed = null;
  }
  if (!res.ok) throw new ApiError(res.status, errorText(parsed, res.status), parsed);
  return parsed;
}
