// The approvals view: every pending request with what is needed to decide it, and the
// decisions (allow once / for the session / always, deny with a reason), with shortcuts.
// Which scopes are offered, and which need a security key, is what the daemon says for each
// request (`scopes`, `key_scopes`): the window never decides that on its own.
import { api } from "./api.js";
import { $, clear, confirmModal, formatTime, h, relative, toast } from "./dom.js";
import { highlightDiff, highlightShell } from "./highlight.js";
import type { ApprovalScope } from "./protocol/ApprovalScope";
import type { PendingApproval } from "./protocol/PendingApproval";

let items: PendingApproval[] = [];
let selected: string | null = null;
let busy = false;
/** When the detail pane last changed request: shortcuts wait a moment after that, so a
 *  request swapped in under the person's keypress is never decided unseen. */
let shownAt = 0;
const SETTLE_MS = 600;

export async function refreshPending(): Promise<void> {
  try {
    items = await api.pending();
  } catch (e) {
    items = [];
    renderList();
    renderDetail(String(e));
    return;
  }
  // If the request being looked at is gone, do not jump to another one: the person picks.
  if (selected !== null && !items.some((p) => p.id === selected)) selected = null;
  if (selected === null && items.length === 1) selected = items[0].id;
  renderList();
  await renderDetail();
}

export function pendingCount(): number {
  return items.length;
}

export function select(id: string): void {
  if (items.some((p) => p.id === id)) {
    selected = id;
    renderList();
    void renderDetail();
  }
}

function renderList(): void {
  const list = clear($("#pending-list"));
  $("#pending-empty").classList.toggle("hidden", items.length > 0);
  const count = $("#pending-count");
  count.textContent = String(items.length);
  count.classList.toggle("hot", items.length > 0);
  for (const p of items) {
    const left = p.expires_ms - Date.now();
    const total = Math.max(1, p.expires_ms - p.created_ms);
    const bar = h("div", { style: `width:${Math.max(0, Math.min(100, (left / total) * 100))}%` });
    const li = h("li", { class: `pending-item${p.id === selected ? " selected" : ""}`, "data-id": p.id },
      h("div", { class: "meta" },
        h("span", {}, agentName(p.agent)),
        h("span", { class: `badge ${p.decision}` }, p.decision === "step-up" ? "security key" : "ask")),
      h("div", { class: "what", title: describe(p) }, describe(p)),
      h("div", { class: "meta" }, h("span", {}, p.classes.join(" · ")), h("span", { class: "expires", "data-expires": String(p.expires_ms) }, relative(left))),
      h("div", { class: "timebar" }, bar));
    li.addEventListener("click", () => select(p.id));
    list.append(li);
  }
}

/** The full action, for the list (the window is private; notifications show less). */
function describe(p: PendingApproval): string {
  const input = (p.input ?? {}) as Record<string, unknown>;
  if (typeof input.command === "string") return input.command.split("\n")[0];
  if (typeof input.file_path === "string") return `${p.tool} ${input.file_path}`;
  if (typeof input.url === "string") return `${p.tool} ${input.url}`;
  return p.summary;
}

function agentName(agent: string): string {
  return agent === "claude-code" ? "Claude Code" : agent;
}

async function renderDetail(error?: string): Promise<void> {
  const pane = clear($("#approval-detail"));
  if (error) {
    pane.append(h("div", { class: "empty" }, h("div", {}, "The daemon is not reachable."), h("div", { class: "muted" }, error)));
    return;
  }
  const p = items.find((x) => x.id === selected);
  if (!p) {
    if (items.length > 0) pane.append(h("div", { class: "empty" }, h("div", {}, "Select a request to see it and decide."), h("div", { class: "muted" }, "J / K or the arrow keys move through the list.")));
    return;
  }
  shownAt = Date.now();
  const stepUp = p.decision === "step-up";
  const input = p.input as Record<string, unknown>;
  pane.append(
    h("div", { class: "detail-head" },
      h("span", { class: `badge ${p.decision}` }, stepUp ? "needs security key" : "needs approval"),
      h("h1", {}, `${agentName(p.agent)} wants to ${p.kind === "shell" ? "run a command" : `use ${p.tool}`}`)),
    h("dl", { class: "grid" },
      h("dt", {}, "Agent"), h("dd", {}, agentName(p.agent)), // a label, not a tool name
      h("dt", {}, "Session"), h("dd", {}, p.session ?? "—"),
      h("dt", {}, "Working directory"), h("dd", {}, p.cwd),
      h("dt", {}, "Tool"), h("dd", {}, p.tool),
      h("dt", {}, "Requested"), h("dd", {}, formatTime(p.created_ms)),
      h("dt", {}, "Expires in"), h("dd", { class: "expires", "data-expires": String(p.expires_ms) }, relative(p.expires_ms - Date.now())),
      h("dt", {}, "Receipt"), h("dd", {}, p.id)),
  );
  pane.append(h("div", { class: "section-title" }, p.kind === "shell" ? "Command" : "Change"));
  if (p.kind === "shell" && typeof input.command === "string") {
    pane.append(highlightShell(input.command));
  } else {
    const diff = await api.changeDiff(p.agent, p.tool, p.input).catch(() => null);
    pane.append(diff ? highlightDiff(diff) : h("pre", { class: "code" }, JSON.stringify(p.input, null, 2)));
  }
  pane.append(h("div", { class: "section-title" }, "Classified as"),
    h("div", { class: "chips" }, ...p.classes.map((c) => h("span", { class: "chip hot" }, c))));
  pane.append(h("div", { class: "reason" }, p.reason));
  const rules = h("table", { class: "rules" }, h("tr", {}, h("th", {}, "Rule"), h("th", {}, "Decision"), h("th", {}, "Class"), h("th", {}, "Why")));
  // One row per rule, with every class it decided.
  const byRule = new Map<string, { decision: string; classes: string[]; why: string }>();
  for (const r of p.rules) {
    const row = byRule.get(r.id) ?? { decision: r.decision, classes: [], why: r.justification };
    row.classes.push(r.class);
    byRule.set(r.id, row);
  }
  for (const [id, r] of byRule) {
    rules.append(h("tr", {}, h("td", {}, id), h("td", {}, h("span", { class: `badge ${r.decision}` }, r.decision)), h("td", {}, r.classes.join(", ")), h("td", {}, r.why)));
  }
  pane.append(h("div", { class: "section-title" }, "Rules that asked"), rules);
  if (p.units.length > 1 || (p.units[0] && p.units[0].depth > 0)) {
    const units = h("table", { class: "rules" }, h("tr", {}, h("th", {}, "Simple command"), h("th", {}, "Depth"), h("th", {}, "Classes"), h("th", {}, "From")));
    for (const u of p.units) units.append(h("tr", {}, h("td", {}, u.text), h("td", {}, String(u.depth)), h("td", {}, u.classes.join(", ")), h("td", {}, u.source)));
    pane.append(h("div", { class: "section-title" }, "Taken apart"), units);
  }
  const reason = h("input", { id: "deny-reason", placeholder: "Reason for denying (passed back to the agent)" }) as HTMLInputElement;
  const actions = h("div", { class: "actions" });
  if (offers(p, "once")) {
    actions.append(needsKey(p, "once")
      ? button("btn-approve-key", "allow", "Approve with security key", "A", () => decide(p, "once"))
      : button("btn-allow-once", "allow", "Allow once", "A", () => decide(p, "once")));
  }
  if (offers(p, "session")) actions.append(button("btn-allow-session", "", "Allow for this session", "S", () => decide(p, "session")));
  if (offers(p, "always")) {
    actions.append(button("btn-allow-always", "", needsKey(p, "always") ? "Always allow (security key)…" : "Always allow…", "L", () => always(p)));
  }
  actions.append(reason, button("btn-deny", "danger", "Deny", "D", () => deny(p, reason.value)));
  pane.append(actions);
  if (p.always_note) pane.append(h("div", { class: "muted", id: "always-note" }, p.always_note));
}

function offers(p: PendingApproval, scope: ApprovalScope): boolean {
  return p.scopes.includes(scope);
}

function needsKey(p: PendingApproval, scope: ApprovalScope): boolean {
  return p.key_scopes.includes(scope);
}

function button(id: string, cls: string, label: string, key: string, onClick: () => void): HTMLElement {
  const b = h("button", { id, class: cls, type: "button" }, label, h("kbd", {}, key));
  b.addEventListener("click", onClick);
  return b;
}

async function decide(p: PendingApproval, scope: ApprovalScope): Promise<void> {
  if (busy || !offers(p, scope)) return;
  busy = true;
  // The "touch your key" dialog is raised by the app when the daemon asks for a key.
  try {
    toast(await api.approve(p.id, scope, needsKey(p, scope)));
  } catch (e) {
    toast(String(e), true);
  } finally {
    busy = false;
    await refreshPending();
  }
}

async function always(p: PendingApproval): Promise<void> {
  if (!offers(p, "always")) return;
  let preview;
  try {
    preview = await api.previewAlways(p.id);
  } catch (e) {
    toast(String(e), true);
    return;
  }
  const body = h("div", {},
    h("p", {}, "This entry will be added to ", h("code", {}, preview.file), ". From now on this exact action is allowed in this workspace: the same command word for word, the same paths and hosts. Anything more (another argument, option, index URL or host) is asked about again."),
    h("pre", { class: "code", id: "always-preview" }, preview.toml));
  if (await confirmModal("Always allow this action?", body, "Add rule and allow")) await decide(p, "always");
}

async function deny(p: PendingApproval, reason: string): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    toast(await api.deny(p.id, reason.trim() || null));
  } catch (e) {
    toast(String(e), true);
  } finally {
    busy = false;
    await refreshPending();
  }
}

/** Keyboard shortcuts while the approvals view is showing. */
export function onKey(e: KeyboardEvent): void {
  const target = e.target as HTMLElement;
  if (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || !$("#modal").classList.contains("hidden")) return;
  const p = items.find((x) => x.id === selected);
  const index = items.findIndex((x) => x.id === selected);
  const key = e.key.toLowerCase();
  if ((key === "j" || e.key === "ArrowDown") && items.length > 0 && index < items.length - 1) select(items[index + 1].id);
  else if ((key === "k" || e.key === "ArrowUp") && index > 0) select(items[index - 1].id);
  else if (!p) return;
  else if (Date.now() - shownAt < SETTLE_MS) return;
  else if (key === "a") void decide(p, "once");
  else if (key === "s" && offers(p, "session")) void decide(p, "session");
  else if (key === "l" && offers(p, "always")) void always(p);
  else if (key === "d") void deny(p, ($("#deny-reason") as HTMLInputElement).value);
  else if (key === "r") { e.preventDefault(); ($("#deny-reason") as HTMLInputElement).focus(); }
  else return;
  e.preventDefault();
}

/** Tick the countdowns once a second. */
export function tick(): void {
  for (const el of document.querySelectorAll<HTMLElement>("[data-expires]")) {
    el.textContent = relative(Number(el.dataset.expires) - Date.now());
  }
  for (const p of items) {
    const bar = document.querySelector<HTMLElement>(`.pending-item[data-id="${CSS.escape(p.id)}"] .timebar > div`);
    if (bar) bar.style.width = `${Math.max(0, Math.min(100, ((p.expires_ms - Date.now()) / Math.max(1, p.expires_ms - p.created_ms)) * 100))}%`;
  }
}
