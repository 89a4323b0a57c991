// dlwatch's page: every tracked download of every client in one table, live from the event log.
// Every text that comes from a client (titles, paths, reasons) is put in with textContent, never as
// HTML: titles are hostile input. No framework and no build step: this file is what runs.

import { followEvents } from "./stream.js";
import { age, bytes, duration, el } from "./text.js";

const MAX_ROWS = 500; // rendered at once; the filters narrow the rest
const ACTIVE = new Set(["sending", "queued", "downloading", "paused", "stalled", "checking", "postprocessing", "unknown"]);
const FINAL = new Set(["completed", "failed", "missing", "removed"]);

const state = {
  downloads: new Map(), // id -> record
  summary: null,
  sort: { key: "created_at", dir: -1 },
  cursor: null, // the last event id the page has
  connected: false,
  everConnected: false,
};

const $ = (id) => document.getElementById(id);
const session = window.sessionStorage;

// -- talking to serve --------------------------------------------------------------------------

function readHeaders() {
  const token = session.getItem("dlwatch-read-token");
  return token ? { Authorization: `Bearer ${token}` } : {};
}

async function getJSON(path) {
  const response = await fetch(path, { headers: readHeaders(), cache: "no-store" });
  if (response.status === 401) {
    throw new Refusal(401, "this server needs its read token: use Token…");
  }
  if (!response.ok) throw new Refusal(response.status, `${path}: HTTP ${response.status}`);
  return { body: await response.json(), headers: response.headers };
}

class Refusal extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function write(path, body, contentType, extraHeaders = {}) {
  const headers = { ...readHeaders(), ...extraHeaders, "Content-Type": contentType };
  const token = session.getItem("dlwatch-write-token");
  if (token) headers["X-Dlwatch-Write-Token"] = token;
  let response;
  try {
    response = await fetch(path, { method: "POST", headers, body });
  } catch (error) {
    throw new Refusal(0, "the server is unreachable");
  }
  let answer = {};
  try {
    answer = await response.json();
  } catch (error) {
    answer = { error: `HTTP ${response.status}` };
  }
  if (!response.ok) throw new Refusal(response.status, answer.error || `HTTP ${response.status}`);
  return answer;
}

// -- the event stream (stream.js): each frame applied as it comes -----------------------------

function follow() {
  return followEvents({
    headers: () => {
      const headers = readHeaders();
      if (state.cursor !== null) headers["Last-Event-ID"] = String(state.cursor);
      return headers;
    },
    onLive: setLive,
    onRefused: () => say("this server needs its read token: use Token…"),
    onFrame: handleFrame,
  });
}

function handleFrame({ kind, id, data }) {
  if (id !== null && /^\d+$/.test(id)) state.cursor = Number(id);
  if (data === null) return;
  const payload = JSON.parse(data);
  if (kind === "change") {
    upsert(snapshotOf(payload));
    refreshSummarySoon();
  } else if (kind === "progress") {
    for (const record of payload) upsert(record);
  } else if (kind === "reload") {
    loadDownloads();
  }
  renderSoon();
}

function snapshotOf(event) {
  // An event carries the attempt as it was at that event, then the event's own fields.
  const record = { ...event };
  record.id = event.attempt_id ?? event.id;
  return record;
}

function upsert(record) {
  if (typeof record.id !== "number") return;
  const known = state.downloads.get(record.id);
  if (known && known.updated_at && record.updated_at && record.updated_at < known.updated_at) return;
  state.downloads.set(record.id, { ...(known || {}), ...record });
}

// -- loading ---------------------------------------------------------------------------------

async function loadDownloads() {
  const { body, headers } = await getJSON("/api/v1/downloads?all=1");
  const cursor = headers.get("X-Last-Event-Id");
  state.downloads = new Map(body.map((r) => [r.id, r]));
  if (cursor !== null && /^\d+$/.test(cursor)) state.cursor = Number(cursor);
  renderSoon();
}

async function loadSummary() {
  const { body } = await getJSON("/api/v1/summary");
  state.summary = body;
  renderSummary();
}

let summaryTimer = null;
function refreshSummarySoon() {
  if (summaryTimer) return;
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    loadSummary().catch(() => {});
  }, 1000);
}

// -- rendering -------------------------------------------------------------------------------

let renderQueued = false;
function renderSoon() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderRows();
  });
}

function visible() {
  const status = $("filter-status").value;
  const client = $("filter-client").value;
  const text = $("filter-text").value.trim().toLowerCase();
  const rows = [];
  for (const r of state.downloads.values()) {
    if (status === "active" ? !ACTIVE.has(r.status) && r.seed_state !== "held" : status && r.status !== status) continue;
    if (client && r.client !== client) continue;
    if (text) {
      const hay = `${r.title} ${r.raw_file_path || ""} ${r.error || ""} ${r.category || ""}`.toLowerCase();
      if (!hay.includes(text)) continue;
    }
    rows.push(r);
  }
  const { key, dir } = state.sort;
  rows.sort((a, b) => {
    const x = a[key] ?? "";
    const y = b[key] ?? "";
    if (x < y) return -dir;
    if (x > y) return dir;
    return (a.id - b.id) * -1;
  });
  return rows;
}

function renderRows() {
  const rows = visible();
  const body = $("rows");
  const fragment = document.createDocumentFragment();
  for (const r of rows.slice(0, MAX_ROWS)) fragment.append(row(r));
  body.replaceChildren(fragment);
  const total = state.downloads.size;
  $("shown").textContent =
    rows.length > MAX_ROWS
      ? `showing ${MAX_ROWS} of ${rows.length} (narrow with the filters); ${total} tracked`
      : `${rows.length} of ${total} tracked`;
  renderClientFilter();
  if (total && !performance.getEntriesByName("dlwatch-first-render").length) {
    performance.mark("dlwatch-first-render"); // the benchmark reads when the list was first usable
  }
}

function row(r) {
  const tr = document.createElement("tr");
  tr.dataset.id = String(r.id);
  tr.dataset.status = r.status;

  const title = el("td", "title");
  title.dataset.label = "Title";
  title.append(el("span", "name", r.title));
  if (r.status === "completed" && r.raw_file_path) title.append(el("span", "sub", r.raw_file_path));
  else if (r.error) title.append(el("span", FINAL.has(r.status) ? "reason" : "sub", r.error));
  if (r.import_detail && ["blocked", "failed", "ignored"].includes(r.import_state)) {
    title.append(el("span", "reason", `${r.arr || "*arr"}: ${r.import_detail}`));
  }
  if (r.seed_detail) title.append(el("span", "sub", r.seed_detail));

  const client = el("td", "", r.client);
  client.dataset.label = "Client";

  const status = el("td", "state");
  status.dataset.label = "Status";
  const word = el("span", `status s-${r.status}`, r.status);
  status.append(word);
  const after = [];
  if (r.import_state && r.import_state !== "none") after.push(`import ${r.import_state}`);
  if (r.seed_state === "seeding" && typeof r.ratio === "number") after.push(`seeding, ratio ${r.ratio.toFixed(2)}`);
  else if (r.seed_state) after.push(r.seed_state === "met" ? "seeded" : r.seed_state);
  if (r.strike_rule && !FINAL.has(r.status)) after.push(`${r.strike_rule} ×${r.strikes}`);
  if (after.length) status.append(el("span", "after", after.join(" · ")));

  const progress = el("td", "progress");
  progress.dataset.label = "Progress";
  const bar = document.createElement("progress");
  bar.max = 1;
  bar.value = Math.max(0, Math.min(1, r.progress || 0));
  bar.setAttribute("aria-label", `${(bar.value * 100).toFixed(1)} percent`);
  progress.append(bar, el("span", "pct", `${(bar.value * 100).toFixed(1)}%`));

  const size = el("td", "num", bytes(r.size_bytes));
  size.dataset.label = "Size";
  let speedText = r.download_speed ? `${bytes(r.download_speed)}/s` : "–";
  if (!r.download_speed && r.upload_speed && r.seed_state === "seeding") speedText = `↑${bytes(r.upload_speed)}/s`;
  const speed = el("td", "num", speedText);
  speed.dataset.label = "Speed";
  const eta = el("td", "eta", duration(r.eta_seconds));
  eta.dataset.label = "ETA";
  const made = el("td", "age", age(r.created_at));
  made.dataset.label = "Age";

  const actions = el("td", "actions");
  if (r.status !== "removed") {
    if (["downloading", "queued", "stalled", "checking"].includes(r.status)) actions.append(button("Pause", r, "pause"));
    if (r.status === "paused") actions.append(button("Resume", r, "resume"));
    if (r.status !== "sending") actions.append(button("Remove…", r, "remove"));
  }
  if (FINAL.has(r.status) && r.status !== "completed") actions.append(button("Retry", r, "retry"));

  tr.append(title, client, status, progress, size, speed, eta, made, actions);
  return tr;
}

function button(label, record, action) {
  const b = el("button", "", label);
  b.type = "button";
  b.dataset.action = action;
  b.dataset.id = String(record.id);
  b.setAttribute("aria-label", `${label.replace("…", "")} ${record.title}`);
  return b;
}

function renderClientFilter() {
  const select = $("filter-client");
  const names = new Set([...state.downloads.values()].map((r) => r.client));
  for (const c of state.summary?.clients || []) names.add(c.name);
  const have = new Set([...select.options].map((o) => o.value));
  for (const name of [...names].sort()) {
    if (!have.has(name)) select.append(new Option(name, name));
  }
  const send = $("send-client");
  const sendHave = new Set([...send.options].map((o) => o.value));
  for (const c of state.summary?.clients || []) {
    if (c.enabled && !sendHave.has(c.name)) send.append(new Option(`${c.name} (${c.type})`, c.name));
  }
}

function renderSummary() {
  const s = state.summary;
  if (!s) return;
  const counts = s.counts || {};
  const parts = [
    `${counts.downloading || 0} downloading`,
    `${counts.queued || 0} queued`,
    `${bytes(s.download_speed || 0)}/s`,
    `${s.done_today || 0} done today`,
  ];
  if (s.upload_speed) parts.push(`↑${bytes(s.upload_speed)}/s seeding`);
  if (counts.failed) parts.push(`${counts.failed} failed`);
  $("totals").textContent = parts.join(" · ");
  const list = $("clients");
  const items = [];
  for (const c of s.clients || []) {
    const li = el("li");
    const health = c.up === true ? "up" : c.up === false ? "down" : "unknown";
    li.append(el("span", `name ${health}`, c.name));
    const bits = [c.type];
    if (c.version) bits.push(c.version);
    bits.push(c.up === true ? `answered ${age(c.last_answer_at)} ago` : c.up === false ? "not answering" : "not asked yet");
    if (!c.enabled) bits.push("disabled");
    for (const space of c.free_space || []) {
      if (space.free_bytes !== null && space.free_bytes !== undefined) bits.push(`${bytes(space.free_bytes)} free in ${space.path}`);
    }
    li.append(el("span", "detail", ` ${bits.join(" · ")}`));
    if (c.error) li.append(el("span", "error", c.error));
    items.push(li);
  }
  list.replaceChildren(...items);
  renderClientFilter();
}

function setLive(up) {
  const live = $("live");
  if (up) {
    live.textContent = state.everConnected && !state.connected ? "live again" : "live";
    live.className = "live up";
    if (state.everConnected && !state.connected) {
      loadSummary().catch(() => {});
    }
    state.everConnected = true;
  } else {
    live.textContent = "server unreachable: retrying…";
    live.className = "live down";
  }
  state.connected = up;
}

function say(text, ok = false) {
  const message = $("message");
  message.textContent = text;
  message.className = ok ? "message ok" : "message";
  message.hidden = !text;
}

// -- actions ---------------------------------------------------------------------------------

let removing = null;

async function act(action, id, options = {}) {
  const record = state.downloads.get(id);
  const name = record ? record.title : `#${id}`;
  try {
    await write(`/api/v1/downloads/${id}/${action}`, JSON.stringify(options), "application/json");
    say(`${action}: ${name}`, true);
  } catch (error) {
    say(`${action} refused (${error.status || "no answer"}): ${error.message}`);
  }
}

function wire() {
  $("rows").addEventListener("click", (event) => {
    const b = event.target.closest("button[data-action]");
    if (!b) return;
    const id = Number(b.dataset.id);
    if (b.dataset.action === "remove") {
      removing = id;
      $("remove-what").textContent = state.downloads.get(id)?.title ?? `#${id}`;
      $("remove-data").checked = false;
      $("remove-dialog").showModal();
    } else {
      act(b.dataset.action, id);
    }
  });
  $("remove-dialog").addEventListener("close", () => {
    if ($("remove-dialog").returnValue === "remove" && removing !== null) {
      act("remove", removing, { delete_data: $("remove-data").checked });
    }
    removing = null;
  });
  for (const dialog of document.querySelectorAll("dialog")) {
    dialog.querySelector(".close")?.addEventListener("click", () => dialog.close("cancel"));
  }
  $("open-send").addEventListener("click", () => {
    $("send-dialog").returnValue = "";
    $("send-dialog").showModal();
  });
  $("send-dialog").addEventListener("close", () => {
    if ($("send-dialog").returnValue === "send") send();
  });
  $("open-token").addEventListener("click", () => {
    $("write-token").value = session.getItem("dlwatch-write-token") || "";
    $("read-token").value = session.getItem("dlwatch-read-token") || "";
    $("token-dialog").returnValue = "";
    $("token-dialog").showModal();
  });
  $("token-dialog").addEventListener("close", () => {
    if ($("token-dialog").returnValue !== "save") return;
    for (const [key, input] of [["dlwatch-write-token", "write-token"], ["dlwatch-read-token", "read-token"]]) {
      const value = $(input).value.trim();
      if (value) session.setItem(key, value);
      else session.removeItem(key);
    }
    start();
  });
  for (const id of ["filter-status", "filter-client", "filter-text"]) $(id).addEventListener("input", renderSoon);
  $("filters").addEventListener("submit", (event) => event.preventDefault());
  for (const th of document.querySelectorAll("th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const key = th.dataset.sort;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      for (const other of document.querySelectorAll("th[data-sort]")) other.removeAttribute("aria-sort");
      th.setAttribute("aria-sort", state.sort.dir > 0 ? "ascending" : "descending");
      renderSoon();
    });
  }
}

async function send() {
  const client = $("send-client").value;
  const query = client ? `?client=${encodeURIComponent(client)}` : "";
  const file = $("send-file").files[0];
  const magnet = $("send-magnet").value.trim();
  try {
    let answer;
    if (file) {
      const kind = file.name.toLowerCase().endsWith(".nzb") ? "application/x-nzb" : "application/x-bittorrent";
      answer = await write(`/api/v1/send${query}`, await file.arrayBuffer(), kind, { "X-Filename": encodeURIComponent(file.name) });
    } else if (magnet) {
      answer = await write(`/api/v1/send${query}`, JSON.stringify({ magnet }), "application/json");
    } else {
      say("send: give a magnet link or choose a file");
      return;
    }
    upsert(answer.attempt);
    renderSoon();
    say(`sent to ${answer.attempt.client}: ${answer.attempt.title}`, true);
    $("send-magnet").value = "";
    $("send-file").value = "";
  } catch (error) {
    say(`send refused (${error.status || "no answer"}): ${error.message}`);
  }
}

let following = false;
async function start() {
  try {
    await Promise.all([loadSummary(), loadDownloads()]);
    say("");
  } catch (error) {
    say(error.message);
    if (error.status === 401) return;
  }
  if (!following) {
    following = true;
    follow();
  }
}

document.addEventListener("DOMContentLoaded", () => {
  wire();
  start();
  setInterval(() => loadSummary().catch(() => {}), 10000);
  setInterval(renderSoon, 30000); // ages move on
});
