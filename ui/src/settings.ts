// Settings: approval timeout, step-up settings, and every policy file with its check result.
import { api } from "./api.js";
import { $, clear, h, toast } from "./dom.js";

export function setupSettings(): void {
  $("#notifications-enabled").addEventListener("change", async (e) => {
    const enabled = (e.target as HTMLInputElement).checked;
    try { toast(await api.saveNotifications(enabled)); } catch (err) { toast(String(err), true); }
  });
  $("#settings-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const secs = Number(($("#approval-timeout") as HTMLInputElement).value);
    try { $("#settings-saved").textContent = await api.saveApprovalTimeout(secs); } catch (err) { toast(String(err), true); }
  });
}

export async function loadSettings(): Promise<void> {
  let s;
  try { s = await api.settings(); } catch (e) { toast(String(e), true); return; }
  const timeout = $("#approval-timeout") as HTMLInputElement;
  timeout.max = String(s.approval_timeout_max_secs);
  timeout.value = String(s.approval_timeout_secs);
  ($("#notifications-enabled") as HTMLInputElement).checked = s.notifications;
  $("#settings-file").textContent = `Settings file: ${s.settings_file}`;
  clear($("#stepup-settings")).append(
    h("li", {}, `Registration requires attestation by a trusted vendor: ${s.require_attestation ? "yes" : "NO (any authenticator accepted)"}`),
    h("li", {}, `Resuming after an emergency stop needs a key: ${s.step_up_resume ? "yes" : "no"}`),
    h("li", {}, `"Always allow" (loosening policy) needs a key: ${s.step_up_policy_loosening ? "yes" : "no"}`),
    h("li", { class: "muted" }, "Register keys with `airlock key add` in a terminal."));
  const list = clear($("#policy-files"));
  for (const f of s.policy) list.append(h("li", { class: f.ok ? "ok" : "bad" }, f.path, h("div", { class: "muted" }, f.message)));
}
