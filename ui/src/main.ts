// Entry point: tabs, the daemon's live event stream, the status pill and the emergency stop.
import { api, invoke, listen } from "./api.js";
import { onKey, pendingCount, refreshPending, select, tick } from "./approvals.js";
import { $, confirmModal, h, infoModal, toast } from "./dom.js";
import { load as loadHistory, setupHistory } from "./history.js";
import { EVENTS } from "./protocol/events.js";
import { loadSettings, setupSettings } from "./settings.js";

let view = "approvals";

function show(name: string): void {
  view = name;
  $("#toast").classList.add("hidden");
  for (const tab of document.querySelectorAll<HTMLElement>(".tab")) tab.classList.toggle("active", tab.dataset.view === name);
  for (const v of document.querySelectorAll<HTMLElement>(".view")) v.classList.toggle("active", v.id === `view-${name}`);
  if (name === "history") void loadHistory();
  if (name === "settings") void loadSettings();
  if (name === "approvals") void refreshPending();
}

async function refreshStatus(): Promise<void> {
  const pill = $("#daemon-status");
  try {
    const s = await api.status();
    const stopped = s.stopped !== null;
    pill.className = `pill ${stopped ? "stopped" : "armed"}`;
    pill.textContent = stopped ? "STOPPED" : pendingCount() > 0 ? `Armed · ${pendingCount()} pending` : "Armed";
    const logWarning = s.receipt_log.wal_stuck;
    pill.title = stopped ? `Emergency stop since ${new Date(s.stopped!.since_ms).toLocaleString()}: ${s.stopped!.reason}` : `${s.policy_rules} rules · ${s.decisions} decisions since start`;
    // A receipt log that cannot shrink is worth a person's attention (disk use grows).
    if (logWarning !== null) pill.title += `\nReceipt log: ${logWarning}`;
    $("#btn-stop").classList.toggle("hidden", stopped);
    $("#btn-resume").classList.toggle("hidden", !stopped);
  } catch (e) {
    pill.className = "pill down";
    pill.textContent = "Daemon not running";
    pill.title = String(e);
  }
}

async function stop(): Promise<void> {
  const body = h("p", {}, "Every new request from every agent will be denied and pending approvals canceled until you resume. This survives restarts.");
  if (!(await confirmModal("Emergency stop?", body, "Stop all agents"))) return;
  try { toast(await api.stop()); } catch (e) { toast(String(e), true); }
  await refreshStatus();
}

async function resume(): Promise<void> {
  try { toast(await api.resume()); } catch (e) { toast(String(e), true); }
  await refreshStatus();
}

/** The security key asks for its PIN: ask in the window (never stored). */
async function askPin(): Promise<void> {
  const input = h("input", { id: "key-pin", type: "password", autocomplete: "off", placeholder: "Security key PIN" }) as HTMLInputElement;
  const body = h("div", {}, h("p", {}, "Your security key needs its PIN for this approval."), input);
  const ok = await confirmModal("Security key PIN", body, "Continue");
  await invoke("submit_pin", { pin: ok ? input.value : null }).catch((e) => toast(String(e), true));
}

async function start(): Promise<void> {
  for (const tab of document.querySelectorAll<HTMLElement>(".tab")) tab.addEventListener("click", () => show(tab.dataset.view!));
  $("#btn-stop").addEventListener("click", () => void stop());
  $("#btn-resume").addEventListener("click", () => void resume());
  setupHistory();
  setupSettings();
  document.addEventListener("keydown", (e) => { if (view === "approvals") onKey(e); });
  await api.onEvent(async (event) => {
    if (event.event === "approval_pending" || event.event === "approval_resolved" || event.event === "emergency_stop") {
      await refreshPending();
      await refreshStatus();
    }
    if (event.event === "show_approvals") { show("approvals"); select(event.id); }
    if (event.event === "step_up_unavailable") {
      toast(`Denied: ${event.approval.summary}. It needs a security-key approval, but no security key is registered. Register one with \`airlock key add\`.`, true);
    }
    if (event.event === "recorded" && view === "history") void loadHistory();
  });
  await listen<string>(EVENTS.daemonLink, () => { void refreshStatus(); void refreshPending(); });
  await listen<null>(EVENTS.resumeRequested, () => void resume());
  await listen<null>(EVENTS.pinRequest, () => void askPin());
  await listen<string>(EVENTS.error, (message) => toast(message, true));
  let closeTouch: (() => void) | null = null;
  await listen<string>(EVENTS.touchKey, (action) => {
    closeTouch = infoModal("Touch your security key", h("div", { class: "key-touch" },
      h("div", { class: "pulse" }),
      h("div", {}, `Touching your key will ${action}.`),
      h("div", { class: "muted" }, "Check this is the action you mean to approve. Insert your key and touch it when it blinks; enter its PIN if asked.")));
  });
  await listen<string>(EVENTS.touchKeyDone, () => { closeTouch?.(); closeTouch = null; });
  window.setInterval(tick, 1000);
  window.setInterval(() => void refreshStatus(), 5000);
  await refreshPending();
  await refreshStatus();
}

void start();
