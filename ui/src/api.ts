// The window's only way out: Tauri commands (thin calls to the daemon)
// and the daemon's event stream. Uses the global Tauri API (`withGlobalTauri`), so no bundler.
import type { ApprovalScope } from "./protocol/ApprovalScope";
import type { Event as DaemonEvent } from "./protocol/Event";
import type { PendingApproval } from "./protocol/PendingApproval";
import type { ReceiptDetail } from "./protocol/ReceiptDetail";
import type { ReceiptSummary } from "./protocol/ReceiptSummary";
import type { StatusInfo } from "./protocol/StatusInfo";
import type { JsonValue } from "./protocol/serde_json/JsonValue";
import type { HistoryQuery } from "./protocol/HistoryQuery";
import type { RulePreview } from "./protocol/RulePreview";
import type { SettingsView } from "./protocol/SettingsView";
import type { Verification } from "./protocol/Verification";
import type { WindowError } from "./protocol/WindowError";
import type { WindowErrorCode } from "./protocol/WindowErrorCode";
import { EVENTS } from "./protocol/events.js";

interface TauriGlobal {
  core: { invoke<T>(cmd: string, args?: Record<string, unknown>): Promise<T> };
  event: { listen<T>(name: string, handler: (e: { payload: T }) => void): Promise<() => void> };
}

function tauri(): TauriGlobal {
  const t = (window as unknown as { __TAURI__?: TauriGlobal }).__TAURI__;
  if (!t) throw new Error("not running inside the Airlock app");
  return t;
}

/** A failed command: the app's `{code, message}`, shown as "message [code]". */
export class AirlockError extends Error {
  readonly code: WindowErrorCode;
  constructor(e: WindowError) {
    super(e.message);
    this.name = "AirlockError";
    this.code = e.code;
  }
  override toString(): string { return `${this.message} [${this.code}]`; }
}

function isWindowError(e: unknown): e is WindowError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

export const invoke = <T>(cmd: string, args?: Record<string, unknown>): Promise<T> =>
  tauri().core.invoke<T>(cmd, args).catch((e: unknown) => {
    throw isWindowError(e) ? new AirlockError(e) : e;
  });

export const listen = <T>(name: string, handler: (payload: T) => void): Promise<() => void> =>
  tauri().event.listen<T>(name, (e) => handler(e.payload));

export const api = {
  status: () => invoke<StatusInfo>("status"),
  pending: () => invoke<PendingApproval[]>("pending"),
  approve: (id: string, scope: ApprovalScope, stepUp: boolean) =>
    invoke<string>("approve", { id, scope, stepUp }),
  deny: (id: string, reason: string | null) => invoke<string>("deny", { id, reason }),
  previewAlways: (id: string) => invoke<RulePreview>("preview_always", { id }),
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
  onEvent: (handler: (e: DaemonEvent) => void) => listen<DaemonEvent>(EVENTS.daemonEvent, handler),
};
