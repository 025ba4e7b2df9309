// The one way the dashboard talks to the server: JSON over fetch, timed from the browser, errors in words.
// Writes carry the admin token when the user has entered one (kept for this tab only, in sessionStorage).

const TOKEN_KEY = 'cachelab.adminToken';
let adminToken = sessionStorage.getItem(TOKEN_KEY) || '';

export function getAdminToken() {
  return adminToken;
}
export function setAdminToken(token) {
  adminToken = token.trim();
  if (adminToken) sessionStorage.setItem(TOKEN_KEY, adminToken);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// → {ok, status, data, error: {code, message} | null, rttMs, cache: X-Cache header}
export async function call(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (adminToken && method !== 'GET') headers.Authorization = `Bearer ${adminToken}`;
  const started = performance.now();
  let response, text;
  try {
    response = await fetch(path, {
      method, headers, cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    text = await response.text();
  } catch (e) {
    return { ok: false, status: 0, data: null, rttMs: performance.now() - started, cache: null,
      error: { code: 'network', message: `The server did not answer (${e.message}). Is cachelab still running?` } };
  }
  const rttMs = performance.now() - started;
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: described below */ }
  const error = response.ok ? null
    : data?.error?.message ? data.error
    : { code: `http_${response.status}`, message: `The server answered ${response.status} ${response.statusText}.` };
  return { ok: response.ok, status: response.status, data, error, rttMs, cache: response.headers.get('X-Cache') };
}

// "Product id must be an integer from 1 to … (400 invalid_id)", plus a hint when the admin token is the problem.
export function describeError(result) {
  const e = result.error || { code: 'unknown', message: 'Something went wrong.' };
  let text = `${e.message}${e.message.endsWith('.') ? '' : '.'}`;
  if (result.status) text += ` (${result.status} ${e.code})`;
  if (result.status === 401 || result.status === 403) {
    text += adminToken ? ' Check the admin token above.' : ' Enter the admin token above.';
  }
  return text;
}
