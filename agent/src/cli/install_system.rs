//! `sudo airlock install system [--uninstall [--purge]]`: system mode on this machine.
//!
//! Installing makes (each step only when missing, so running it again changes nothing): the
//! `airlock` account and the `airlock-admin` group; `/etc/airlock` (root's: settings, machine
//! policy) with the marker that puts every client in system mode; `/var/lib/airlock` (the
//! account's, 0700) and `/run/airlock` (the account's, 0755); the hardened systemd unit and its
//! socket unit (systemd holds the socket; the daemon takes it over), enabled and started when
//! systemd runs the machine. Without systemd it says how to start the daemon
//! exactly as the unit would.
//!
//! Uninstalling stops the daemon and removes the unit and the marker (clients are back in user
//! mode); the receipts in `/var/lib/airlock` stay unless `--purge`, which also removes the
//! machine's settings and policy, the account and the group.

use crate::system::{CONFIG_DIR, DATA_DIR, MARKER, RUNTIME_DIR, SystemConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, ExitCode};

/// The unit, with `@BIN@` for the binary's path.
const UNIT: &str = include_str!("../../packaging/airlock.service");
const UNIT_PATH: &str = "/etc/systemd/system/airlock.service";
/// The socket unit: systemd holds the socket, the daemon takes it over when it starts.
pub const SOCKET_UNIT: &str = include_str!("../../packaging/airlock.socket");
const SOCKET_PATH: &str = "/etc/systemd/system/airlock.socket";
/// Where the .deb ships the unit (and its socket unit beside it): then they are the package's,
/// and none is written to /etc.
const PACKAGED_UNITS: [&str; 2] = [
    "/lib/systemd/system/airlock.service",
    "/usr/lib/systemd/system/airlock.service",
];

fn packaged_unit() -> Option<&'static str> {
    PACKAGED_UNITS.into_iter().find(|p| Path::new(p).exists())
}

pub struct Options {
    pub uninstall: bool,
    pub purge: bool,
    /// Do not start the daemon (packaging, tests that start it themselves).
    pub no_start: bool,
}

/// The unit for the binary at `bin`.
pub fn unit_for(bin: &Path) -> String {
    UNIT.replace("@BIN@", &bin.display().to_string())
}

pub fn run(options: Options) -> anyhow::Result<ExitCode> {
    if !rustix::process::geteuid().is_root() {
        anyhow::bail!(
            "`airlock install system` changes the machine (an account, /etc/airlock, /var/lib/airlock, a systemd unit): run it with sudo"
        );
    }
    if options.purge && !options.uninstall {
        anyhow::bail!("`--purge` goes with `--uninstall`");
    }
    if options.uninstall {
        uninstall(options.purge)
    } else {
        install(options.no_start)
    }
}

fn install(no_start: bool) -> anyhow::Result<ExitCode> {
    let config = SystemConfig::default();
    ensure_group(&config.admin_group)?;
    ensure_account(&config.account)?;
    let account = config.account_user()?;
    make_dir(Path::new(CONFIG_DIR), 0o755, 0, 0)?;
    make_dir(&Path::new(CONFIG_DIR).join("policies"), 0o755, 0, 0)?;
    make_dir(Path::new(DATA_DIR), 0o700, account.uid, account.gid)?;
    make_dir(Path::new(RUNTIME_DIR), 0o755, account.uid, account.gid)?;
    write_if_missing(
        Path::new(MARKER),
        &format!(
            "# Written by `airlock install system`: every Airlock client on this machine talks only\n# to the daemon on /run/airlock/airlock.sock, run by this account.\naccount = \"{}\"\nadmin_group = \"{}\"\n",
            config.account, config.admin_group
        ),
    )?;
    write_if_missing(
        &Path::new(CONFIG_DIR).join("settings.toml"),
        "# Airlock's machine settings (system mode); see `airlock` README \"State\".\n",
    )?;
    let bin = std::env::current_exe()?;
    only_roots(&bin)?;
    let systemd = systemd_runs();
    if let Some(unit) = packaged_unit() {
        println!("the unit is the package's (`{unit}`)");
    } else if systemd || Path::new("/etc/systemd/system").is_dir() {
        std::fs::write(UNIT_PATH, unit_for(&bin))?;
        std::fs::write(SOCKET_PATH, SOCKET_UNIT)?;
        println!("wrote the units `{UNIT_PATH}` and `{SOCKET_PATH}`");
    }
    println!(
        "system mode is installed: account `{}`, admin group `{}` (add people who may decide everyone's requests with `sudo usermod -aG {} NAME`)",
        config.account, config.admin_group, config.admin_group
    );
    if no_start {
        return Ok(ExitCode::SUCCESS);
    }
    if systemd {
        run_ok(Command::new("systemctl").arg("daemon-reload"))?;
        run_ok(Command::new("systemctl").args([
            "enable",
            "--now",
            "airlock.socket",
            "airlock.service",
        ]))?;
        println!("started `airlock.socket` and `airlock.service`");
    } else {
        println!(
            "systemd does not run this machine: start the daemon as its unit would:\n  setpriv --reuid={a} --regid={a} --init-groups --inh-caps=+dac_read_search --ambient-caps=+dac_read_search {bin} daemon",
            a = config.account,
            bin = bin.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn uninstall(purge: bool) -> anyhow::Result<ExitCode> {
    let config = crate::system::detect()?.unwrap_or_default();
    if systemd_runs() && (Path::new(UNIT_PATH).exists() || packaged_unit().is_some()) {
        let _ = Command::new("systemctl")
            .args(["disable", "--now", "airlock.service", "airlock.socket"])
            .status();
    }
    remove_file(Path::new(UNIT_PATH))?;
    remove_file(Path::new(SOCKET_PATH))?;
    if systemd_runs() {
        let _ = Command::new("systemctl").arg("daemon-reload").status();
    }
    remove_file(Path::new(MARKER))?;
    println!("system mode is removed: clients are back in user mode");
    if !purge {
        println!("the receipts stay in `{DATA_DIR}` (remove them with `--uninstall --purge`)");
        return Ok(ExitCode::SUCCESS);
    }
    for dir in [DATA_DIR, RUNTIME_DIR, CONFIG_DIR] {
        remove_dir(Path::new(dir))?;
    }
    if config.account_user().is_ok() {
        run_ok(Command::new("userdel").arg(&config.account))?;
    }
    if config.admin_gid().is_some() {
        run_ok(Command::new("groupdel").arg(&config.admin_group))?;
    }
    println!(
        "purged: the receipts, `{CONFIG_DIR}`, the account `{}` and the group `{}` are gone",
        config.account, config.admin_group
    );
    Ok(ExitCode::SUCCESS)
}

/// The daemon runs the binary this was started from, as its account and with its capability:
/// that file and every directory above it must be root's and writable by root alone, or whoever
/// could replace it would run as the daemon (`~/.cargo/bin/airlock` is refused).
fn only_roots(bin: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut place = Some(bin);
    while let Some(path) = place {
        let meta = std::fs::metadata(path)?;
        if meta.uid() != 0 || meta.mode() & 0o022 != 0 {
            anyhow::bail!(
                "`{}` is not root's alone (owner uid {}, mode {:o}): the daemon would run whatever is put there; install Airlock where only root can write (the .deb uses /usr/bin) and run `install system` from there",
                path.display(),
                meta.uid(),
                meta.mode() & 0o7777
            );
        }
        place = path.parent();
    }
    Ok(())
}

/// Whether systemd is PID 1 (`sd_booted`'s test).
fn systemd_runs() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

fn ensure_group(name: &str) -> anyhow::Result<()> {
    if nix::unistd::Group::from_name(name).ok().flatten().is_none() {
        run_ok(Command::new("groupadd").args(["--system", name]))?;
        println!("made the group `{name}`");
    }
    Ok(())
}

fn ensure_account(name: &str) -> anyhow::Result<()> {
    if crate::system::OsUser::by_name(name).is_none() {
        run_ok(Command::new("useradd").args([
            "--system",
            "--user-group",
            "--home-dir",
            DATA_DIR,
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "--comment",
            "Airlock daemon",
            name,
        ]))?;
        println!("made the account `{name}`");
    }
    Ok(())
}

fn make_dir(path: &Path, mode: u32, uid: u32, gid: u32) -> anyhow::Result<()> {
    std::fs::create_dir_all(path)
        .map_err(|e| anyhow::anyhow!("cannot make `{}`: {e}", path.display()))?;
    std::os::unix::fs::chown(path, Some(uid), Some(gid))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn write_if_missing(path: &Path, text: &str) -> anyhow::Result<()> {
    if path.exists() {
        return Ok(());
    }
    std::fs::write(path, text)
        .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644))?;
    println!("wrote `{}`", path.display());
    Ok(())
}

fn remove_file(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot remove `{}`: {e}", path.display())),
    }
}

fn remove_dir(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(anyhow::anyhow!("cannot remove `{}`: {e}", path.display())),
    }
}

fn run_ok(cmd: &mut Command) -> anyhow::Result<()> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .output()
        .map_err(|e| anyhow::anyhow!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{shown} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}
