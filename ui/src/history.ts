// The history view: receipts with filters and paging, a detail pane with the full receipt and
// its outcome timeline, the chain's verification status, and outcomes over time.
import { api } from "./api.js";
import { $, clear, formatTime, h, toast } from "./dom.js";
import type { ActionClass } from "./protocol/ActionClass";
import type { HistoryQuery } from "./protocol/HistoryQuery";
import { ACTION_CLASSES, OUTCOMES } from "./protocol/lists.js";
import type { Outcome } from "./protocol/Outcome";
import type { ReceiptSummary } from "./protocol/ReceiptSummary";

const PAGE = 50;
const COLORS: Record<string, string> = { approval_required: "#f0b429", allowed: "#2fbf71", approved: "#7ee2a8", denied: "#ef5350", rejected: "#ff8a80", expired: "#f0b429", canceled: "#a1887f", rate_limited: "#ff7043", interrupted: "#ce93d8", rolled_back: "#4cb3ff" };

let rows: ReceiptSummary[] = [];
/** Chain positions of the first row of each page seen, for going back to newer pages. */
let pages: (number | undefined)[] = [undefined];
let selected: string | null = null;

export function setupHistory(): void {
  for (const c of ACTION_CLASSES) $("#filter-class").append(h("option", { value: c }, c));
  for (const o of OUTCOMES) $("#filter-outcome").append(h("option", { value: o }, o.replace("_", " ")));
  $("#history-filters").addEventListener("submit", (e) => { e.preventDefault(); pages = [undefined]; void load(); });
  $("#page-older").addEventListener("click", () => {
    const last = rows[rows.length - 1];
    if (rows.length === PAGE && last) { pages.push(last.seq); void load(); }
  });
  $("#page-newer").addEventListener("click", () => { if (pages.length > 1) { pages.pop(); void load(); } });
}

function query(): HistoryQuery {
  const value = (id: string) => ($(id) as HTMLInputElement).value.trim();
  const time = (id: string) => { const v = value(id); return v ? new Date(v).getTime() : undefined; };
  const q: HistoryQuery = {
    text: value("#history-search") || undefined,
    agent: value("#filter-agent") || undefined,
    session: value("#filter-session") || undefined,
    class: (value("#filter-class") || undefined) as ActionClass | undefined,
    outcome: (value("#filter-outcome") || undefined) as Outcome | undefined,
    since_ms: time("#filter-since"),
    until_ms: time("#filter-until"),
  };
  return q;
}

export async function load(): Promise<void> {
  const q = query();
  const before = pages[pages.length - 1];
  try {
    rows = await api.history({ ...q, before_seq: before, limit: PAGE });
  } catch (e) {
    rows = [];
    toast(String(e), true);
  }
  renderRows();
  $("#page-info").textContent = rows.length ? `page ${pages.length} · ${rows.length} receipts` : "no receipts match";
  ($("#page-newer") as HTMLButtonElement).disabled = pages.length <= 1;
  ($("#page-older") as HTMLButtonElement).disabled = rows.length < PAGE;
  void chart(q);
  void verify();
  if (selected && rows.some((r) => r.id === selected)) void detail(selected);
}

function action(r: ReceiptSummary): string {
  const input = (r.input ?? {}) as Record<string, unknown>;
  if (typeof input.command === "string") return input.command;
  if (typeof input.file_path === "string") return `${r.tool} ${input.file_path}`;
  if (typeof input.url === "string") return `${r.tool} ${input.url}`;
  return r.tool;
}

/** "04:20:17" today, "Nov 29 04:20" before. */
function shortTime(ms: number): string {
  const d = new Date(ms);
  const today = new Date().toDateString() === d.toDateString();
  return today
    ? d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false })
    : d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });
}

function renderRows(): void {
  const body = clear($("#history-rows"));
  for (const r of rows) {
    const last = r.outcomes[r.outcomes.length - 1] ?? "";
    const tr = h("tr", { "data-id": r.id, class: r.id === selected ? "selected" : "" },
      h("td", { title: formatTime(r.time_ms) }, shortTime(r.time_ms)),
      h("td", { title: r.agent }, r.agent),
      h("td", { class: "action", title: action(r) }, action(r)),
      h("td", { title: r.classes.join(", ") }, r.classes.join(", ")),
      h("td", {}, h("span", { class: `badge ${r.decision}` }, r.decision)),
      h("td", {}, h("span", { class: `badge ${last}` }, last === "approval_required" ? "pending" : last.replace("_", " "))));
    tr.addEventListener("click", () => { selected = r.id; renderRows(); void detail(r.id); });
    body.append(tr);
  }
}

async function detail(id: string): Promise<void> {
  const pane = clear($("#receipt-detail"));
  let d;
  try {
    d = await api.receipt(id);
  } catch (e) {
    pane.append(h("div", { class: "empty" }, String(e)));
    return;
  }
  const r = d.receipt;
  const timeline = h("ul", { class: "timeline", id: "receipt-timeline" });
  for (const t of d.timeline) {
    timeline.append(h("li", {}, h("span", { class: `badge ${t.outcome}` }, t.outcome.replace("_", " ")), " ", formatTime(t.time_ms), " ", h("span", { class: "muted" }, `by ${t.actor}`)));
  }
  const rollback = h("button", { id: "btn-rollback", type: "button" }, "Roll back file changes");
  rollback.addEventListener("click", async () => {
    try { toast(await api.rollback(r.id)); await load(); } catch (e) { toast(String(e), true); }
  });
  pane.append(
    h("div", { class: "detail-head" }, h("span", { class: `badge ${r.decision}` }, r.decision), h("h1", {}, action(r))),
    h("dl", { class: "grid" },
      h("dt", {}, "Receipt"), h("dd", {}, r.id),
      h("dt", {}, "Chain position"), h("dd", {}, `${r.seq} · ${d.hash.slice(0, 16)}…`),
      h("dt", {}, "Time"), h("dd", {}, formatTime(r.time_ms)),
      h("dt", {}, "Agent"), h("dd", {}, r.agent), // a label, not a tool name
      h("dt", {}, "Session"), h("dd", {}, r.session ?? "—"),
      h("dt", {}, "Working directory"), h("dd", {}, r.cwd || "—"),
      h("dt", {}, "Tool"), h("dd", {}, `${r.tool} (${r.event})`),
      h("dt", {}, "Classes"), h("dd", {}, r.classes.join(", ") || "—"),
      h("dt", {}, "Rules"), h("dd", {}, r.rules.join(", ") || "—")),
    h("div", { class: "reason" }, r.reason),
    h("div", { class: "section-title" }, "Timeline"), timeline,
    h("div", { class: "section-title" }, "Input (secrets redacted)"), h("pre", { class: "code" }, JSON.stringify(r.input, null, 2)),
    h("div", { class: "section-title" }, "Full receipt"), h("pre", { class: "code" }, JSON.stringify({ rules: d.rules, detail: d.detail, tool_use_id: d.tool_use_id }, null, 2)),
  );
  // Pre-images are kept for file tools and for approved deletions by shell.
  const changedFiles = r.kind === "write_file" || r.kind === "edit_file" || (r.kind === "shell" && r.classes.includes("file.delete"));
  if (changedFiles && r.outcomes.some((o) => o === "allowed" || o === "approved") && !r.outcomes.includes("rolled_back")) {
    pane.append(h("div", { class: "actions" }, rollback));
  }
}

async function verify(): Promise<void> {
  const el = $("#verify-status");
  try {
    const v = await api.verify();
    el.className = `verify ${v.ok ? "ok" : "bad"}`;
    el.replaceChildren(h("strong", {}, v.ok ? "✓ Receipt chain verified" : "✗ Receipt chain BROKEN"), h("div", { class: "muted" }, v.message));
  } catch (e) {
    el.className = "verify bad";
    el.textContent = String(e);
  }
}

/** Outcomes over time for the current filters (up to the newest 2,000 receipts), as bars. */
async function chart(q: HistoryQuery): Promise<void> {
  const el = clear($("#chart"));
  let data: ReceiptSummary[];
  try { data = await api.history({ ...q, limit: 2000 }); } catch { return; }
  if (data.length === 0) { el.append(h("div", { class: "muted" }, "No activity to chart yet.")); return; }
  const start = Math.min(...data.map((r) => r.time_ms));
  const end = Math.max(...data.map((r) => r.time_ms)) + 1;
  const buckets = 40;
  const width = Math.max(1, (end - start) / buckets);
  const counts: Record<string, number>[] = Array.from({ length: buckets }, () => ({}));
  for (const r of data) {
    const i = Math.min(buckets - 1, Math.floor((r.time_ms - start) / width));
    const o = r.outcomes.find((x) => x !== "approval_required" && x !== "executed" && x !== "failed") ?? r.outcomes[0] ?? "allowed";
    counts[i][o] = (counts[i][o] ?? 0) + 1;
  }
  const max = Math.max(...counts.map((c) => Object.values(c).reduce((a, b) => a + b, 0)));
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${buckets * 10} 100`);
  svg.setAttribute("preserveAspectRatio", "none");
  counts.forEach((c, i) => {
    let y = 100;
    for (const [outcome, n] of Object.entries(c)) {
      const hgt = (n / max) * 88;
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", String(i * 10 + 1));
      rect.setAttribute("width", "8");
      rect.setAttribute("y", String(y - hgt));
      rect.setAttribute("height", String(hgt));
      rect.setAttribute("fill", COLORS[outcome] ?? "#8aa0b4");
      const title = document.createElementNS(ns, "title");
      title.textContent = `${n} ${outcome} · ${formatTime(start + i * width)}`;
      rect.append(title);
      svg.append(rect);
      y -= hgt;
    }
  });
  const legend = h("div", { class: "chips" }, ...Object.entries(COLORS).map(([o, c]) => h("span", { class: "chip", style: `border-color:${c}` }, o === "approval_required" ? "pending" : o.replace("_", " "))));
  el.append(svg, legend);
}
