// The window's only way out: Tauri commands (thin calls to the daemon)
// and the daemon's event stream. Uses the global Tauri API (`withGlobalTauri`), so no bundler.
import type { ApprovalScope } from "./protocol/ApprovalScope";
import type { Event as DaemonEvent } from "./protocol/Event";
import type { PendingApproval } from "./protocol/PendingApproval";
import type { PolicyFileCheck } from "./protocol/PolicyFileCheck";
import type { ReceiptSummary } from "./protocol/ReceiptSummary";
import type { StatusInfo } from "./protocol/StatusInfo";
import type { JsonValue } from "./protocol/serde_json/JsonValue";

interface TauriGlobal {
  core: { invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> };
  event: { listen<T>(name: string, handler: (e: { payload: T }) => void): Promise<() => void> };
}

function tauri(): TauriGlobal {
  const t = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (!t) throw new Error("not running inside the Airlock app");
  return t;
}

export const invoke = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> =>
  tauri().core.invoke<T>(cmd, args);

export const listen = <T>(name: string, handler: (payload: T) => void): Promise<() => void> =>
  tauri().event.listen<T>(name, (e) => handler(e.payload));

export interface TimelineEntry { seq: number; time_ms: number; outcome: string; actor: string; detail: JsonValue }
export interface ReceiptDetail {
  receipt: ReceiptSummary; tool_use_id: string | null; rules: JsonValue; detail: JsonValue; hash: string;
  timeline: TimelineEntry[];
}
export interface HistoryQuery {
  agent?: string; session?: string; class?: string; outcome?: string; since_ms?: number; until_ms?: number;
  text?: string; before_seq?: number; limit?: number;
}
export interface Verification { ok: boolean; rows: number; step_ups: number; message: string }
export interface SettingsView {
  approval_timeout_secs: number; settings_file: string; step_up_resume: boolean;
  step_up_policy_loosening: boolean; require_attestation: boolean; notifications: boolean;
  policy: PolicyFileCheck[];
}

export const api = {
  status: () => invoke<StatusInfo>("status"),
  pending: () => invoke<PendingApproval[]>("pending"),
  approve: (id: string, scope: ApprovalScope, stepUp: boolean) =>
    invoke<string>("approve", { id, scope, stepUp }),
  deny: (id: string, reason: string | null) => invoke<string>("deny", { id, reason }),
  previewAlways: (id: string) => invoke<{ toml: string; file: string }>("preview_always", { id }),
  changeDiff: (agent: string, tool: string, input: JsonValue) => invoke<string | null>("change_diff", { agent, tool, input }),
  stop: () => invoke<string>("stop", { reason: null }),
  resume: () => invoke<string>("resume"),
  rollback: (id: string) => invoke<string>("rollback", { id }),
  history: (query: HistoryQuery) => invoke<ReceiptSummary[]>("history", { query }),
  receipt: (id: string) => invoke<ReceiptDetail>("receipt", { id }),
  verify: () => invoke<Verification>("verify"),
  settings: () => invoke<SettingsView>("settings"),
  saveApprovalTimeout: (secs: number) => invoke<string>("save_approval_timeout", { secs }),
  saveNotifications: (enabled: boolean) => invoke<string>("save_notifications", { enabled }),
  onEvent: (handler: (e: DaemonEvent) => void) => listen<DaemonEvent>("airlock://event", handler),
};
