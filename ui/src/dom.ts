// Small DOM helpers. Text always goes in as text (never as HTML): commands and paths come
// from agents and must not be able to inject markup into the window.

export function $(selector: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(selector);
  if (!el) throw new Error(`missing element ${selector}`);
  return el;
}

type Child = Node | string | null | undefined | false;

export function h(tag: string, attrs: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  // Styles go through the CSSOM, which the CSP allows without 'unsafe-inline'.
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "style") el.style.cssText = v;
    else el.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return el;
}

export function clear(el: HTMLElement): HTMLElement {
  el.replaceChildren();
  return el;
}

let toastTimer: number | undefined;
export function toast(message: string, error = false): void {
  const el = $("#toast");
  el.textContent = message;
  el.classList.toggle("error", error);
  el.classList.remove("hidden");
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => el.classList.add("hidden"), error ? 8000 : 4000);
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function relative(msLeft: number): string {
  const s = Math.max(0, Math.round(msLeft / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m ${s % 60}s` : `${s}s`;
}

/** A modal with a title, a body and Confirm/Cancel; resolves true on confirm. */
export function confirmModal(title: string, body: Node, confirmLabel = "Confirm"): Promise<boolean> {
  const modal = $("#modal");
  $("#modal-title").textContent = title;
  clear($("#modal-body")).append(body);
  const confirm = $("#modal-confirm") as HTMLButtonElement;
  const cancel = $("#modal-cancel") as HTMLButtonElement;
  confirm.textContent = confirmLabel;
  confirm.classList.remove("hidden");
  cancel.classList.remove("hidden");
  modal.classList.remove("hidden");
  confirm.focus();
  return new Promise((resolve) => {
    const done = (value: boolean) => {
      modal.classList.add("hidden");
      confirm.onclick = cancel.onclick = null;
      document.removeEventListener("keydown", onKey, true);
      resolve(value);
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") { e.preventDefault(); done(false); }
      if (e.key === "Enter") { e.preventDefault(); done(true); }
    };
    document.addEventListener("keydown", onKey, true);
    confirm.onclick = () => done(true);
    cancel.onclick = () => done(false);
  });
}

/** A modal that only informs (e.g. "touch your security key"); returns a closer. */
export function infoModal(title: string, body: Node): () => void {
  const modal = $("#modal");
  $("#modal-title").textContent = title;
  clear($("#modal-body")).append(body);
  $("#modal-confirm").classList.add("hidden");
  $("#modal-cancel").classList.add("hidden");
  modal.classList.remove("hidden");
  return () => modal.classList.add("hidden");
}
