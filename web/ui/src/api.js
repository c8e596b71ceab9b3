// Access to Vigil's public Prometheus-compatible HTTP API. The UI uses nothing else.
//
// Every URL is resolved against the UI's base path, which is derived from the URL of the
// bundle itself (<base>/assets/app-<hash>.js). That makes the UI work unchanged under any
// --web.route-prefix without the server having to rewrite index.html.

function detectBasePath() {
  const script = document.currentScript;
  if (script && script.src) {
    const url = new URL(script.src);
    const marker = url.pathname.lastIndexOf('/assets/');
    if (marker >= 0) return url.pathname.slice(0, marker);
  }
  const path = window.location.pathname;
  return path.slice(0, path.lastIndexOf('/'));
}

// Path prefix without trailing slash ("" when served at the root).
export const basePath = detectBasePath();

// Builds an absolute path below the base path: pagePath('/targets').
export function pagePath(path) {
  return basePath + path;
}

// An API failure carrying the server's error message, shown to the user as is.
export class ApiError extends Error {
  constructor(message, errorType) {
    super(message);
    this.errorType = errorType || '';
  }
}

// Calls /api/v1/<endpoint> and returns {data, warnings}. Parameters are sent as a
// form-encoded POST when large (long queries), else as a GET query string.
export async function apiFetch(endpoint, params = {}, { signal } = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) value.forEach((v) => search.append(key, v));
    else if (value !== undefined && value !== null) search.append(key, String(value));
  }
  const url = `${basePath}/api/v1/${endpoint}`;
  const body = search.toString();
  const usePost = body.length > 2000;
  let response;
  try {
    response = usePost
      ? await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          body,
          signal,
        })
      : await fetch(body ? `${url}?${body}` : url, { signal });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`cannot reach the server: ${err.message}`, 'network');
  }
  let payload;
  try {
    payload = await response.json();
  } catch {
    throw new ApiError(`unexpected response (HTTP ${response.status})`, 'bad_response');
  }
  if (payload.status !== 'success') {
    throw new ApiError(payload.error || `HTTP ${response.status}`, payload.errorType);
  }
  return { data: payload.data, warnings: payload.warnings || [] };
}
