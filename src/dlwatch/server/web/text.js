// Text for the page: every text from a client goes in through el(), as text, never as HTML, with
// control characters shown; and the sizes, speeds and durations the table shows.

// Control characters (an ANSI escape in a title) shown as \x1b, as the terminal shows them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
const visibleText = (text) =>
  String(text).replace(CONTROL, (c) => (c.charCodeAt(0) > 0xff ? "\\u" : "\\x") + c.charCodeAt(0).toString(16).padStart(2, "0"));

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = visibleText(text);
  return node;
}

export function bytes(n) {
  if (n === null || n === undefined) return "–";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || seconds < 0) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

export function age(stamp) {
  const at = Date.parse(stamp);
  return Number.isNaN(at) ? "–" : duration((Date.now() - at) / 1000);
}

