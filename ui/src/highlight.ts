// Syntax highlighting for shell commands and unified diffs, built from text nodes only.
import { h } from "./dom.js";

const OPERATORS = new Set(["|", "||", "&&", ";", "&", ">", ">>", "<", "<<", "<<<", "2>", "2>&1", "|&", "$(", ")", "(", "`"]);

/** Tokenise a shell command roughly (for colour only; the daemon's real parser decides). */
export function highlightShell(command: string): HTMLElement {
  const pre = h("pre", { class: "code shell" });
  const re = /(#[^\n]*)|('(?:[^'])*'?)|("(?:\\.|[^"\\])*"?)|(\$\{[^}]*\}?|\$\(|\$[A-Za-z_][A-Za-z0-9_]*|\$[0-9@#?*$!-])|(\|\||&&|\|&|>>|<<<|<<|2>&1|2>|[|;&<>()`])|(\s+)|([^\s|;&<>()`'"$]+|\$)/g;
  let expectProgram = true;
  let m: RegExpExecArray | null;
  while ((m = re.exec(command)) !== null) {
    const [text, comment, single, double, variable, op, space] = m;
    if (comment) pre.append(h("span", { class: "tok-comment" }, text));
    else if (single || double) { pre.append(h("span", { class: "tok-str" }, text)); expectProgram = false; }
    else if (variable) { pre.append(h("span", { class: "tok-var" }, text)); expectProgram = false; }
    else if (op) { pre.append(h("span", { class: "tok-op" }, text)); expectProgram = OPERATORS.has(op) && op !== ")" && op !== ">" && op !== ">>" && op !== "<"; }
    else if (space) { pre.append(text); if (text.includes("\n")) expectProgram = true; }
    else if (expectProgram && !/^[A-Za-z_][A-Za-z0-9_]*=/.test(text)) { pre.append(h("span", { class: "tok-prog" }, text)); expectProgram = false; }
    else if (text.startsWith("-")) pre.append(h("span", { class: "tok-flag" }, text));
    else pre.append(text);
  }
  return pre;
}

export function highlightDiff(diff: string): HTMLElement {
  const pre = h("pre", { class: "code diff" });
  for (const line of diff.split("\n")) {
    const cls = line.startsWith("@@") ? "diff-hunk"
      : line.startsWith("+") && !line.startsWith("+++") ? "diff-add"
      : line.startsWith("-") && !line.startsWith("---") ? "diff-del" : "";
    pre.append(cls ? h("span", { class: cls }, line) : line, "\n");
  }
  return pre;
}
