// Parsing and formatting of the time inputs the Graph page shares with Prometheus's URL
// scheme: range "1h30m", end time "2024-01-02 15:04:05" (UTC), step in seconds.

const UNIT_MS = { y: 365 * 86400e3, w: 7 * 86400e3, d: 86400e3, h: 3600e3, m: 60e3, s: 1e3, ms: 1 };
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;

// "1h30m" -> 5400000; null when malformed or zero.
export function parseDuration(text) {
  const match = DURATION_RE.exec(String(text).trim());
  if (!match || String(text).trim() === '') return null;
  const units = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];
  let ms = 0;
  units.forEach((unit, i) => { if (match[i + 1]) ms += Number(match[i + 1]) * UNIT_MS[unit]; });
  return ms > 0 ? ms : null;
}

// 5400000 -> "1h30m" (largest units first, as Prometheus prints durations).
export function formatDuration(ms) {
  let rest = ms;
  let out = '';
  for (const unit of ['y', 'w', 'd', 'h', 'm', 's', 'ms']) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) { out += `${n}${unit}`; rest -= n * UNIT_MS[unit]; }
  }
  return out || '0s';
}

// The range steps offered by the -/+ buttons, as in Prometheus.
export const RANGE_STEPS_MS = [
  1, 10, 60, 300, 900, 1800, 3600, 7200, 21600, 43200, 86400, 2 * 86400, 7 * 86400,
  14 * 86400, 28 * 86400, 56 * 86400, 112 * 86400, 182 * 86400, 365 * 86400, 730 * 86400,
].map((s) => s * 1000);

export function nextRange(ms, direction) {
  if (direction > 0) return RANGE_STEPS_MS.find((r) => r > ms) ?? ms;
  return [...RANGE_STEPS_MS].reverse().find((r) => r < ms) ?? ms;
}

// Date (ms) -> "2024-01-02 15:04:05" in UTC, the format of g0.end_input / g0.moment_input.
export function formatTimeInput(ms) {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

// "2024-01-02 15:04:05" (UTC) -> ms; null when empty or malformed.
export function parseTimeInput(text) {
  const trimmed = String(text || '').trim();
  if (!trimmed) return null;
  const ms = Date.parse(`${trimmed.replace(' ', 'T')}Z`);
  return Number.isFinite(ms) ? ms : null;
}

// Prometheus's default resolution: about 250 points over the range, at least 1s.
export function defaultStepSeconds(rangeMs) {
  return Math.max(Math.floor(rangeMs / 250 / 1000), 1);
}
