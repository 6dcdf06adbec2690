//! `airlock install claude-code` / `airlock uninstall claude-code`: merge Airlock's hooks into
//! Claude Code's settings JSON — idempotent, with a backup, never touching other hooks.

use super::launcher_alias::{alias_line, rc_files};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Hook events Airlock registers for Claude Code.
const EVENTS: &[&str] = &[
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PostToolUseFailure",
];
/// Seconds Claude Code waits for the hook; the approval timeout stays below it.
const HOOK_TIMEOUT_SECS: u64 = 600;
/// How an Airlock hook command is recognised.
const MARKER: &str = "hook claude-code";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The coding agent, or `system`: system mode on this machine (with sudo; see
    /// `--uninstall`, `--purge`).
    #[arg(value_parser = ["claude-code", "system"])]
    agent: String,
    /// `system` only: remove system mode (the receipts stay unless `--purge`).
    #[arg(long)]
    uninstall: bool,
    /// `system` only, with `--uninstall`: also remove the receipts, the machine's settings and
    /// policy, the account and the group.
    #[arg(long)]
    purge: bool,
    /// `system` only: install without starting the daemon.
    #[arg(long)]
    no_start: bool,
    /// `system` only: print the systemd unit for this binary and change nothing.
    #[arg(long)]
    print_unit: bool,
    /// `system` only: print the systemd socket unit and change nothing.
    #[arg(long)]
    print_socket: bool,
    /// The user's settings (~/.claude/settings.json). The default.
    #[arg(long, group = "scope")]
    user: bool,
    /// The project's settings (.claude/settings.json in the current directory).
    #[arg(long, group = "scope")]
    project: bool,
    /// Managed settings (/etc/claude-code/managed-settings.json): users cannot remove them.
    #[arg(long, group = "scope")]
    managed: bool,
    /// Use this settings file instead.
    #[arg(long, group = "scope", value_name = "FILE")]
    settings_file: Option<PathBuf>,
    /// Hook timeout in seconds.
    #[arg(long, default_value_t = HOOK_TIMEOUT_SECS)]
    timeout: u64,
    /// Also add (or, with `uninstall`, remove) a shell alias that starts the agent below the
    /// launcher (`alias claude='airlock run -- claude'`), so nothing it starts can approve.
    #[arg(long)]
    alias: bool,
    /// Startup file for the alias (repeatable); default `~/.bashrc` and `~/.zshrc` where present.
    #[arg(long, value_name = "FILE", requires = "alias")]
    rc_file: Vec<PathBuf>,
}

/// `airlock`, quoted for a shell, with `AIRLOCK_HOME` when it is set.
fn launcher() -> anyhow::Result<String> {
    let exe = std::env::current_exe()?;
    let mut launcher = shell_words::quote(&exe.to_string_lossy()).into_owned();
    if let Some(home) = std::env::var_os(crate::home::HOME_ENV).filter(|v| !v.is_empty()) {
        launcher = format!(
            "{}={} {launcher}",
            crate::home::HOME_ENV,
            shell_words::quote(&home.to_string_lossy())
        );
    }
    Ok(launcher)
}

fn install_alias(args: &Args) -> anyhow::Result<()> {
    let line = alias_line(crate::adapters::command_of(&args.agent)?, &launcher()?);
    for path in rc_files(&args.rc_file)? {
        if super::launcher_alias::install(&path, &line)? {
            println!("added the launcher alias to `{}`: {line}", path.display());
        } else {
            println!("the launcher alias is already in `{}`", path.display());
        }
    }
    println!("open a new shell (or `source` the file) for the alias to apply");
    Ok(())
}

fn uninstall_alias(args: &Args) -> anyhow::Result<()> {
    for path in rc_files(&args.rc_file)? {
        if super::launcher_alias::uninstall(&path)? {
            println!("removed the launcher alias from `{}`", path.display());
        }
    }
    Ok(())
}

fn settings_path(args: &Args) -> anyhow::Result<PathBuf> {
    if let Some(p) = &args.settings_file {
        return Ok(p.clone());
    }
    if args.project {
        return Ok(std::env::current_dir()?.join(".claude/settings.json"));
    }
    if args.managed {
        return Ok(PathBuf::from("/etc/claude-code/managed-settings.json"));
    }
    let home = dirs::home_dir()
        .ok_or_else(|| anyhow::anyhow!("cannot find the home directory; use `--settings-file`"))?;
    Ok(home.join(".claude/settings.json"))
}

/// The command line Claude Code runs: this binary, and `AIRLOCK_HOME` if it is set.
fn hook_command() -> anyhow::Result<String> {
    Ok(format!("{} {MARKER}", launcher()?))
}

/// `airlock install system` / `airlock uninstall system`.
fn system(args: &Args, uninstall: bool) -> anyhow::Result<ExitCode> {
    if args.print_unit {
        print!(
            "{}",
            super::install_system::unit_for(&std::env::current_exe()?)
        );
        return Ok(ExitCode::SUCCESS);
    }
    if args.print_socket {
        print!("{}", super::install_system::SOCKET_UNIT);
        return Ok(ExitCode::SUCCESS);
    }
    super::install_system::run(super::install_system::Options {
        uninstall,
        purge: args.purge,
        no_start: args.no_start,
    })
}

pub fn install(args: Args) -> anyhow::Result<ExitCode> {
    if args.agent == "system" {
        return system(&args, args.uninstall);
    }
    if args.uninstall || args.purge || args.no_start || args.print_unit || args.print_socket {
        anyhow::bail!(
            "`--uninstall`, `--purge`, `--no-start`, `--print-unit` and `--print-socket` are for `airlock install system`; remove hooks with `airlock uninstall {}`",
            args.agent
        );
    }
    let path = settings_path(&args)?;
    let mut settings = read_settings(&path)?;
    let command = hook_command()?;
    let changed = add_hooks(&mut settings, &command, args.timeout)?;
    if changed {
        write_settings(&path, &settings)?;
        println!(
            "installed Airlock's hooks ({}) in `{}`",
            EVENTS.join(", "),
            path.display()
        );
    } else {
        println!(
            "Airlock's hooks are already installed in `{}`",
            path.display()
        );
    }
    if args.alias {
        install_alias(&args)?;
    } else {
        println!(
            "without the launcher, processes the agent detaches (`setsid`, double fork) are not recognised as the agent's; start it with `airlock run -- {}` or add `--alias`",
            crate::adapters::command_of(&args.agent)?
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn uninstall(args: Args) -> anyhow::Result<ExitCode> {
    if args.agent == "system" {
        return system(&args, true);
    }
    if args.alias {
        uninstall_alias(&args)?;
    }
    let path = settings_path(&args)?;
    if !path.exists() {
        println!("nothing to do: `{}` does not exist", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let mut settings = read_settings(&path)?;
    if remove_hooks(&mut settings) {
        write_settings(&path, &settings)?;
        println!("removed Airlock's hooks from `{}`", path.display());
    } else {
        println!("Airlock's hooks were not installed in `{}`", path.display());
    }
    Ok(ExitCode::SUCCESS)
}

fn read_settings(path: &Path) -> anyhow::Result<Value> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().is_empty() => Ok(json!({})),
        Ok(text) => {
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                anyhow::anyhow!("`{}` is not valid JSON ({e}); fix it by hand first, Airlock will not overwrite it", path.display())
            })?;
            if !value.is_object() {
                anyhow::bail!(
                    "`{}` does not hold a JSON object; fix it by hand first",
                    path.display()
                );
            }
            Ok(value)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(json!({})),
        Err(e) => Err(anyhow::anyhow!("cannot read `{}`: {e}", path.display())),
    }
}

/// Back up the old file (if any), then replace it atomically.
fn write_settings(path: &Path, settings: &Value) -> anyhow::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    if path.exists() {
        let stamp = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S");
        let backup = path.with_file_name(format!(
            "{}.airlock-backup-{stamp}",
            path.file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        std::fs::copy(path, &backup)?;
        println!("backup: `{}`", backup.display());
    }
    let tmp = path.with_extension("json.airlock-tmp");
    let mut text = serde_json::to_string_pretty(settings)?;
    text.push('\n');
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn is_airlock_hook(hook: &Value) -> bool {
    hook.get("command")
        .and_then(Value::as_str)
        .is_some_and(|c| c.contains("airlock") && c.contains(MARKER))
}

/// Add (or refresh) one `*` matcher group per event. Returns whether anything changed.
pub fn add_hooks(settings: &mut Value, command: &str, timeout: u64) -> anyhow::Result<bool> {
    let before = settings.clone();
    let root = settings
        .as_object_mut()
        .ok_or_else(|| anyhow::anyhow!("settings are not a JSON object"))?;
    let hooks = root.entry("hooks").or_insert_with(|| json!({}));
    let hooks = hooks.as_object_mut().ok_or_else(|| {
        anyhow::anyhow!("`hooks` in the settings is not a JSON object; fix it by hand first")
    })?;
    let ours = json!({"type": "command", "command": command, "timeout": timeout});
    for event in EVENTS {
        let groups = hooks.entry(*event).or_insert_with(|| json!([]));
        let groups = groups.as_array_mut().ok_or_else(|| {
            anyhow::anyhow!("`hooks.{event}` is not a JSON array; fix it by hand first")
        })?;
        let mut found = false;
        for group in groups.iter_mut() {
            if let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) {
                for hook in list.iter_mut() {
                    if is_airlock_hook(hook) {
                        if found {
                            *hook = Value::Null;
                        } else {
                            *hook = ours.clone();
                            found = true;
                        }
                    }
                }
                list.retain(|h| !h.is_null());
            }
        }
        if !found {
            groups.push(json!({"matcher": "*", "hooks": [ours.clone()]}));
        }
    }
    Ok(*settings != before)
}

/// Remove Airlock's hooks, and groups and events left empty. Returns whether anything changed.
pub fn remove_hooks(settings: &mut Value) -> bool {
    let before = settings.clone();
    if let Some(hooks) = settings.get_mut("hooks").and_then(Value::as_object_mut) {
        for event in EVENTS {
            if let Some(groups) = hooks.get_mut(*event).and_then(Value::as_array_mut) {
                for group in groups.iter_mut() {
                    if let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) {
                        list.retain(|h| !is_airlock_hook(h));
                    }
                }
                groups.retain(|g| {
                    g.get("hooks")
                        .and_then(Value::as_array)
                        .is_none_or(|l| !l.is_empty())
                });
            }
            if hooks
                .get(*event)
                .and_then(Value::as_array)
                .is_some_and(Vec::is_empty)
            {
                hooks.remove(*event);
            }
        }
        if hooks.is_empty()
            && let Some(root) = settings.as_object_mut()
        {
            root.remove("hooks");
        }
    }
    *settings != before
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_is_idempotent_and_keeps_other_hooks() {
        let mut settings = json!({
            "model": "opus",
            "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-tool check"}]}]}
        });
        assert!(add_hooks(&mut settings, "/bin/airlock hook claude-code", 600).unwrap());
        let once = settings.clone();
        assert!(!add_hooks(&mut settings, "/bin/airlock hook claude-code", 600).unwrap());
        assert_eq!(settings, once);
        let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 2);
        assert_eq!(pre[0]["hooks"][0]["command"], "other-tool check");
        assert_eq!(pre[1]["hooks"][0]["timeout"], 600);
        assert_eq!(settings["model"], "opus");

        assert!(remove_hooks(&mut settings));
        assert_eq!(
            settings,
            json!({
                "model": "opus",
                "hooks": {"PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "other-tool check"}]}]}
            })
        );
    }

    #[test]
    fn reinstall_updates_the_command_in_place() {
        let mut settings = json!({});
        add_hooks(&mut settings, "/old/airlock hook claude-code", 600).unwrap();
        assert!(add_hooks(&mut settings, "/new/airlock hook claude-code", 300).unwrap());
        let pre = settings["hooks"]["PreToolUse"].as_array().unwrap();
        assert_eq!(pre.len(), 1);
        assert_eq!(
            pre[0]["hooks"][0]["command"],
            "/new/airlock hook claude-code"
        );
    }
}
