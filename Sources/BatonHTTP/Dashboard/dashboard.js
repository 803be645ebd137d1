// The coordinator's desk: reads the public API with the caller's token and follows the event
// stream to stay current. No framework, no build step; every value goes into the page as text
// (never as HTML), and nothing runs inline, so the Content-Security-Policy can forbid it.
"use strict";

const TOKEN_KEY = "baton.token";
const DEPARTMENTS = ["sales", "marketing", "logistics", "support", "coordination"];
/** The most items a list panel shows; the rest are counted below it. */
const SHOWN = 8;
const state = { token: null, regions: [], teams: [], stream: null, refreshing: false, again: false, timer: null, refreshes: 0 };

// --- small helpers --------------------------------------------------------------------------

function $(id) { return document.getElementById(id); }

/** An element with attributes and children (strings become text nodes). */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function duration(seconds) {
  if (seconds === undefined || seconds === null) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 90) return `${s} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", timeZone: "UTC" }) + " UTC";
}

function relative(iso) {
  const seconds = (Date.parse(iso) - Date.now()) / 1000;
  return seconds >= 0 ? `in ${duration(seconds)}` : `${duration(-seconds)} ago`;
}

function step(percent) {
  const bounded = Math.max(0, Math.min(100, Number(percent) || 0));
  return Math.round(bounded / 5) * 5;
}

function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) search.set(name, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

function link(href, text) {
  // The API path of the record: opened in a new tab, it shows the JSON with a token-capable client.
  return el("a", { href, title: href, "data-href": href }, text);
}

class Unauthorized extends Error {}

async function api(path) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" },
    cache: "no-store",
  });
  if (response.status === 401) throw new Unauthorized("the token is unknown, revoked or expired");
  if (!response.ok) {
    let message = `${response.status}`;
    try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
    throw new Error(`${path}: ${message}`);
  }
  return response.json();
}

// --- panels ---------------------------------------------------------------------------------

function panel(id, count, content, total) {
  const section = $(id);
  section.dataset.state = count > 0 ? "ready" : "empty";
  section.dataset.count = String(count);
  const small = section.querySelector("h2 .count");
  if (small) small.textContent = total !== undefined ? `${total}` : "";
  section.querySelector(".content").replaceChildren(content);
}

function list(items, render, empty, total) {
  if (items.length === 0) return el("p", { class: "empty" }, empty);
  const shown = items.slice(0, SHOWN);
  const more = (total === undefined ? items.length : total) - shown.length;
  return el("div", {},
    el("ol", { class: "items" }, shown.map(render)),
    more > 0 ? el("p", { class: "more" }, `and ${more} more`) : null);
}

function renderBoard(queues) {
  const regions = [...new Set(queues.map((q) => q.region))].sort();
  const departments = DEPARTMENTS.filter((d) => queues.some((q) => q.department === d));
  const byTeam = new Map(queues.map((q) => [`${q.department}/${q.region}`, q]));
  const table = el("table", { class: "board" },
    el("thead", {}, el("tr", {}, el("th", {}, "Department"), regions.map((r) => el("th", {}, r)))),
    el("tbody", {}, departments.map((department) => el("tr", {},
      el("th", {}, department),
      regions.map((region) => {
        const q = byTeam.get(`${department}/${region}`);
        if (!q) return el("td", {}, "–");
        const old = (q.oldest_age_seconds || 0) > 3600;
        return el("td", { class: `cell${old ? " old" : ""}`, "data-team": q.team, "data-queued": q.queued },
          el("div", {}, link(q.href, q.team), q.paused ? el("span", { class: "tag" }, "paused") : null),
          el("div", { class: "depth" }, q.queued),
          el("div", { class: "age" }, `oldest ${duration(q.oldest_age_seconds)}`),
          el("div", { class: "meta" }, `${q.claimed} claimed · ${q.dead} dead`));
      })))));
  const previous = new Map([...document.querySelectorAll("#panel-board td[data-team]")].map((td) => [td.dataset.team, td.dataset.queued]));
  panel("panel-board", queues.length, el("div", { class: "board-wrap" }, table));
  for (const td of document.querySelectorAll("#panel-board td[data-team]")) {
    const before = previous.get(td.dataset.team);
    if (before !== undefined && before !== td.dataset.queued) td.classList.add("flash");
  }
}

function renderSLAs(section) {
  panel("panel-sla", section.items.length, list(section.items, (item) => el("li", { "data-task": item.task_id },
    el("span", { class: `tag ${item.state}` }, item.state === "breached" ? "breached" : "at risk"),
    link(item.href, item.title),
    el("span", { class: "meta" }, `${item.team} · ${item.target.replace("_", " ")} · due ${relative(item.due_at)}`)),
  "No SLA at risk.", section.total), section.total);
}

function renderHandoffs(section) {
  panel("panel-handoffs", section.items.length, list(section.items, (item) => el("li", { "data-task": item.task_id },
    link(item.href, item.title),
    el("span", { class: "meta" }, `waiting ${duration(item.waiting_seconds)} at ${item.team}`),
    el("div", { class: "chain" }, item.chain.join(" → ")),
    item.note ? el("div", { class: "meta" }, item.note) : null),
  "No handoff waiting.", section.total), section.total);
}

function renderDeadLetters(section) {
  panel("panel-dead", section.items.length, list(section.items, (item) => el("li", { "data-task": item.task_id },
    el("span", { class: `tag ${item.priority}` }, item.priority),
    link(item.href, item.title),
    el("span", { class: "meta" }, `${item.team} · ${item.attempts} attempt(s)${item.last_error ? ` · ${item.last_error}` : ""}`)),
  "No dead letters.", section.total), section.total);
}

function renderStock(section) {
  panel("panel-stock", section.items.length, list(section.items, (item) => el("li", { "data-sku": item.sku },
    link(item.href, `${item.name} (${item.sku})`),
    el("span", { class: "meta" }, `${item.region} · ${item.available} available, reorder at ${item.reorder_point} (order ${item.reorder_quantity})`)),
  "All stock above its reorder point.", section.total), section.total);
}

function renderComplaints(section) {
  panel("panel-complaints", section.items.length, list(section.items, (item) => el("li", { "data-case": item.case_id },
    el("span", { class: `tag ${item.priority}` }, item.priority),
    link(item.href, item.subject),
    el("span", { class: "meta" }, `${item.team} · ${item.state.replace("_", " ")} · opened ${relative(item.opened_at)}`)),
  "No complaint waiting.", section.total), section.total);
}

function renderCalendar(section, day) {
  $("calendar-day").textContent = day;
  panel("panel-calendar", section.items.length, list(section.items, (item) => el("li", { "data-kind": item.kind },
    el("span", { class: "tag" }, item.kind),
    link(item.href, item.title),
    el("span", { class: "meta" }, `${clock(item.starts_at)}–${clock(item.ends_at)} · ${item.region}`)),
  "Nothing scheduled today.", section.total), section.total);
}

function owner(target) {
  if (target.owner_kind === "member") return `member ${target.member_id}`;
  return target.team || target.region || "company";
}

function bars(rows) {
  return rows.map((row) => {
    const target = row.target;
    const attainment = row.attainment_percent;
    const pace = target.metric === "csat" ? 100 : (row.elapsed || 0) * 100;
    return el("div", { class: "bar-row", "data-target": target.id },
      el("span", {}, link(`/v1/targets/${target.id}`, `${owner(target)} ${target.metric}`)),
      el("span", { class: "track", title: `expected by now: ${Math.round(pace)} %` },
        el("span", { class: `fill ${row.status || ""} w${step(attainment)}` }),
        el("span", { class: `pace l${step(pace)}` })),
      el("span", {}, attainment === undefined ? "–" : `${Math.round(attainment)} %`));
  });
}

// The period the rows are targets of (" (2026-W49)"); the report's from/to is only today.
function periodOf(plan) {
  return plan.rows.length ? ` (${plan.rows[0].target.period})` : "";
}

function renderPlan(week, month) {
  const count = week.rows.length + month.rows.length;
  const content = el("div", { class: "plan" },
    el("h3", {}, `This week${periodOf(week)}`),
    week.rows.length ? bars(week.rows) : el("p", { class: "empty" }, "No weekly targets."),
    el("h3", {}, `This month${periodOf(month)}`),
    month.rows.length ? bars(month.rows) : el("p", { class: "empty" }, "No monthly targets."));
  panel("panel-plan", count, content);
}

function figureValue(figure, currency, value) {
  if (value === undefined || value === null) return "–";
  if (figure.name.endsWith("_minor")) {
    return `${(value / 100).toLocaleString(undefined, { maximumFractionDigits: 0 })} ${currency || ""}`.trim();
  }
  if (/rate|share|csat|percent/.test(figure.name)) return `${Number(value).toFixed(1)} %`;
  return Number(value).toLocaleString(undefined, { maximumFractionDigits: 1 });
}

function arrow(percent, note, label) {
  if (percent === undefined || percent === null) return el("span", { class: "flat", title: note || "" }, `– ${label}`);
  const direction = percent > 0 ? "up" : percent < 0 ? "down" : "flat";
  const symbol = direction === "up" ? "▲" : direction === "down" ? "▼" : "▬";
  return el("span", { class: direction, "data-direction": direction }, `${symbol} ${Math.abs(percent).toFixed(1)} % ${label}`);
}

function renderKPIs(report) {
  $("kpi-period").textContent = `${report.period} against ${report.previous} and ${report.year_ago}`;
  const tiles = el("div", { class: "tiles" }, report.figures.map((figure) => el("div", { class: "tile", "data-figure": figure.name },
    el("div", { class: "name" }, figure.name.replace(/_minor$/, "").replaceAll("_", " ")),
    el("div", { class: "value" }, figureValue(figure, report.currency, figure.value)),
    el("div", { class: "growth" }, arrow(figure.growth_percent, figure.growth_note, "MoM")),
    el("div", { class: "growth" }, arrow(figure.yoy_percent, figure.yoy_note, "YoY")))));
  panel("panel-kpis", report.figures.length, tiles);
}

function fail(id, error) {
  const section = $(id);
  section.dataset.state = "error";
  section.querySelector(".content").replaceChildren(el("p", { class: "error" }, error.message));
}

// --- loading and live updates ---------------------------------------------------------------

function filters() {
  return { region: $("region").value, team: $("team").value };
}

function fillFilters(queues) {
  if (state.teams.length) return;
  state.regions = [...new Set(queues.map((q) => q.region))].sort();
  state.teams = queues.map((q) => q.team).sort();
  $("region").append(...state.regions.map((r) => el("option", { value: r }, r)));
  $("team").append(...state.teams.map((t) => el("option", { value: t }, t)));
  $("filters").hidden = false;
}

async function refresh() {
  if (state.refreshing) { state.again = true; return; }
  state.refreshing = true;
  try {
    const { region, team } = filters();
    const month = new Date().toISOString().slice(0, 7);
    const [briefing, kpis, week, monthPlan] = await Promise.allSettled([
      api(`/v1/briefing${query({ region, team })}`),
      api(`/v1/reports/kpis${query({ period: month, region })}`),
      api(`/v1/reports/plan${query({ grain: "week", region, team })}`),
      api(`/v1/reports/plan${query({ grain: "month", region, team })}`),
    ]);
    for (const result of [briefing, kpis, week, monthPlan]) {
      if (result.status === "rejected" && result.reason instanceof Unauthorized) throw result.reason;
    }
    if (briefing.status === "fulfilled") {
      const b = briefing.value;
      fillFilters(b.queues);
      renderBoard(b.queues);
      renderSLAs(b.slas);
      renderHandoffs(b.handoffs);
      renderDeadLetters(b.dead_letters);
      renderStock(b.stock);
      renderComplaints(b.complaints);
      renderCalendar(b.calendar, b.day);
      if (!state.stream) follow(b.event_cursor);
    } else {
      for (const id of ["panel-board", "panel-sla", "panel-handoffs", "panel-dead", "panel-stock", "panel-complaints", "panel-calendar"]) fail(id, briefing.reason);
    }
    if (kpis.status === "fulfilled") renderKPIs(kpis.value); else fail("panel-kpis", kpis.reason);
    if (week.status === "fulfilled" && monthPlan.status === "fulfilled") renderPlan(week.value, monthPlan.value);
    else fail("panel-plan", week.status === "rejected" ? week.reason : monthPlan.reason);
    state.refreshes += 1;
    document.body.dataset.refreshes = String(state.refreshes);
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    $("error").hidden = true;
  } catch (error) {
    if (error instanceof Unauthorized) { signOut(error.message); return; }
    $("error").textContent = error.message;
    $("error").hidden = false;
  } finally {
    state.refreshing = false;
    if (state.again) { state.again = false; refresh(); }
  }
}

/** Refreshes soon after a burst of events, once for the whole burst. */
function soon() {
  clearTimeout(state.timer);
  state.timer = setTimeout(refresh, 100);
}

function setLive(text) {
  $("live").dataset.state = text;
  $("live").textContent = text === "on" ? "live" : text;
}

/**
 * Follows GET /v1/events/stream from the briefing's cursor. EventSource cannot send the
 * Authorization header, so the stream is read with fetch; the token never goes into a URL.
 */
async function follow(cursor) {
  const controller = new AbortController();
  state.stream = controller;
  let after = cursor;
  while (!controller.signal.aborted) {
    try {
      const { team } = filters();
      const response = await fetch(`/v1/events/stream${query({ after: String(after), team })}`, {
        headers: { Authorization: `Bearer ${state.token}`, Accept: "text/event-stream" },
        cache: "no-store",
        signal: controller.signal,
      });
      if (response.status === 401) { signOut("the token is unknown, revoked or expired"); return; }
      if (!response.ok || !response.body) throw new Error(`stream: ${response.status}`);
      setLive("on");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replaceAll("\r\n", "\n");
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const message = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: ?(\d+)$/m.exec(message);
          if (id) { after = Number(id[1]); soon(); }
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    setLive("reconnecting");
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

function restartStream() {
  if (state.stream) state.stream.abort();
  state.stream = null;
}

function signOut(message) {
  restartStream();
  sessionStorage.removeItem(TOKEN_KEY);
  state.token = null;
  setLive("off");
  $("desk").hidden = true;
  $("signout").hidden = true;
  $("filters").hidden = true;
  $("signin").hidden = false;
  $("signin-error").textContent = message || "";
}

function openDesk() {
  $("signin").hidden = true;
  $("desk").hidden = false;
  $("signout").hidden = false;
  refresh();
}

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    $("token").value = "";
    sessionStorage.setItem(TOKEN_KEY, token);
    state.token = token;
    openDesk();
  });
  $("signout").addEventListener("click", () => signOut());
  for (const id of ["region", "team"]) {
    $(id).addEventListener("change", () => { restartStream(); refresh(); });
  }
  // A safety net: the stream drives updates, this catches anything it could not (a long outage).
  setInterval(() => { if (state.token) refresh(); }, 60000);
  state.token = sessionStorage.getItem(TOKEN_KEY);
  if (state.token) openDesk(); else signOut();
});
