//! The one desktop rig of the end-to-end tests: an X server (Xvfb), a session bus of its own,
//! a real Secret Service, the dunst notification server and the desktop app's tools, for this
//! process's user or (system mode's tests) for another user of the machine. Everything it
//! starts dies with it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use crate::support::{self, wait_for};
use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};

/// The notification server's well-known name.
pub const NOTIFICATIONS: &str = "org.freedesktop.Notifications";

/// The desktop app, built next to the `airlock` binary (`cargo build -p airlock-desktop`).
pub fn app_binary() -> PathBuf {
    let path = Path::new(crate::support::BIN).with_file_name("airlock-desktop");
    assert!(
        path.exists(),
        "the desktop app is not built at `{}`: run `cargo build -p airlock-desktop` (scripts/test does)",
        path.display()
    );
    path
}

/// A program the test needs, from PATH or the project's tool cache.
pub fn tool(name: &str) -> PathBuf {
    let cached = dirs_home().join(".cache/airlock-tools/bin").join(name);
    if cached.exists() {
        return cached;
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| panic!("`{name}` is not installed: run scripts/setup"))
}

fn dirs_home() -> PathBuf {
    PathBuf::from(std::env::var("HOME").unwrap_or_else(|_| "/root".into()))
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where a desktop keeps its files (its runtime directory).
enum Place {
    Temporary(tempfile::TempDir),
    /// Another user's, made for them (0700, theirs), removed with the desktop.
    Users(PathBuf),
}

/// A desktop session; build it up with [`Desktop::xvfb`], [`Desktop::bus`], [`Desktop::dunst`]…
pub struct Desktop {
    place: Place,
    /// Whose session it is: `None` for this process's user.
    user: Option<&'static str>,
    pub display: Option<String>,
    pub bus: Option<String>,
    /// Whether programs get the session's directory as `XDG_RUNTIME_DIR` (not the desktop
    /// app's session: it keeps the host's runtime directory).
    own_runtime_dir: bool,
    /// dunst's process id, while it runs.
    dunst: Option<u32>,
    /// Started processes, stopped in reverse order.
    children: Vec<Child>,
    /// Kept open: Xvfb and dbus-daemon wrote their addresses there.
    pipes: Vec<ChildStdout>,
}

impl Desktop {
    /// A session of this process's user, with nothing started yet.
    pub fn new() -> Self {
        Self::in_place(Place::Temporary(tempfile::tempdir().unwrap()), None)
    }

    /// A session of another user of the machine: every program in it runs as them, in a
    /// runtime directory of theirs.
    pub fn for_user(user: &'static str) -> Self {
        let dir = PathBuf::from(format!("/tmp/airlock-e2e-session-{user}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        chown(user, &dir);
        Self::in_place(Place::Users(dir), Some(user))
    }

    fn in_place(place: Place, user: Option<&'static str>) -> Self {
        Self {
            place,
            user,
            display: None,
            bus: None,
            own_runtime_dir: true,
            dunst: None,
            children: Vec::new(),
            pipes: Vec::new(),
        }
    }

    /// The desktop app's session: a 1280×800 screen and the standard session bus
    /// configuration (the toolkit expects its usual services to be activatable or to fail
    /// fast). `_slot` names the test's desktop in failure messages only.
    pub fn start(_slot: u32) -> Self {
        let mut desktop = Self::new();
        desktop.own_runtime_dir = false;
        desktop.xvfb_sized("1280x800x24").standard_bus()
    }

    /// The session's runtime directory.
    pub fn dir(&self) -> &Path {
        match &self.place {
            Place::Temporary(dir) => dir.path(),
            Place::Users(dir) => dir,
        }
    }

    /// An X server on a free display (Xvfb picks it and prints it).
    pub fn xvfb(self) -> Self {
        self.xvfb_sized("800x600x24")
    }

    pub fn xvfb_sized(mut self, screen: &str) -> Self {
        let mut cmd = self.command(tool("Xvfb"));
        cmd.args([
            "-displayfd",
            "1",
            "-nolisten",
            "tcp",
            "-screen",
            "0",
            screen,
        ]);
        let number = self.spawn_and_read_line(cmd);
        self.display = Some(format!(":{number}"));
        self
    }

    /// A session bus of its own with no activatable services: nothing the host has installed
    /// starts on it.
    pub fn bus(mut self) -> Self {
        let config = self.dir().join("bus.conf");
        std::fs::write(&config, support::private_bus_config(self.dir())).unwrap();
        self.hand_over();
        let mut cmd = self.command(tool("dbus-daemon"));
        cmd.arg(format!("--config-file={}", config.display()))
            .args(["--print-address=1", "--nofork"]);
        self.bus = Some(self.spawn_and_read_line(cmd));
        self
    }

    /// A session bus with the standard session configuration.
    pub fn standard_bus(mut self) -> Self {
        let mut cmd = self.command(tool("dbus-daemon"));
        cmd.args(["--session", "--print-address=1", "--nofork"]);
        self.bus = Some(self.spawn_and_read_line(cmd));
        self
    }

    /// A real Secret Service on this bus: gnome-keyring-daemon with its login keyring unlocked
    /// (password on stdin) and kept in this desktop's own directory.
    pub fn keyring(mut self) -> Self {
        let home = self.dir().join("keyring-home");
        std::fs::create_dir_all(&home).unwrap();
        let mut child = self
            .command("gnome-keyring-daemon")
            .args(["--unlock", "--components=secrets", "--foreground"])
            .env("HOME", &home)
            .env("XDG_DATA_HOME", home.join("data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon is installed by scripts/setup");
        {
            let mut stdin = child.stdin.take().unwrap();
            std::io::Write::write_all(&mut stdin, b"test-password").unwrap();
        }
        self.children.push(child);
        wait_for("the Secret Service on the bus", || {
            self.owner_of("org.freedesktop.secrets").is_some()
        });
        self
    }

    /// dunst, with a context menu (its `dmenu` setting) that picks the line of the `approve`
    /// action and logs the lines it was offered: dunst itself then emits a genuine
    /// `ActionInvoked`.
    pub fn dunst(mut self) -> Self {
        let menu = self.dir().join("dmenu.sh");
        std::fs::write(
            &menu,
            format!(
                "#!/bin/sh\n# dunst's dmenu: the menu's lines on stdin, the chosen one on stdout.\ntee -a '{}' | grep -m1 ',approve]$'\n",
                self.menu_log().display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&menu, std::fs::Permissions::from_mode(0o755)).unwrap();
        let rc = self.dir().join("dunstrc");
        std::fs::write(&rc, format!("[global]\n    dmenu = {}\n", menu.display())).unwrap();
        self.hand_over();
        self.start_dunst();
        self
    }

    fn start_dunst(&mut self) {
        let before = self.owner_of(NOTIFICATIONS);
        let child = self
            .command("dunst")
            .arg("-config")
            .arg(self.dir().join("dunstrc"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst is installed by scripts/setup");
        self.dunst = Some(child.id());
        self.children.push(child);
        wait_for("dunst to own org.freedesktop.Notifications", || {
            let now = self.owner_of(NOTIFICATIONS);
            now.is_some() && now != before
        });
    }

    /// Stop dunst and start another: a new unique name, new notification ids.
    pub fn restart_dunst(&mut self) {
        let pid = self.dunst.take().unwrap();
        let at = self.children.iter().position(|c| c.id() == pid).unwrap();
        let mut child = self.children.remove(at);
        child.kill().unwrap();
        child.wait().unwrap();
        wait_for("the old dunst to leave the bus", || {
            self.owner_of(NOTIFICATIONS).is_none()
        });
        self.start_dunst();
    }

    /// What programs in this session see: its bus, display and runtime directory, nothing of
    /// the host's (`None`: removed).
    pub fn env(&self) -> Vec<(&'static str, Option<&str>)> {
        let mut env = vec![
            (
                "DBUS_SESSION_BUS_ADDRESS",
                Some(self.bus.as_deref().unwrap_or("disabled:")),
            ),
            ("DISPLAY", self.display.as_deref()),
            ("WAYLAND_DISPLAY", None),
            ("NO_AT_BRIDGE", Some("1")),
        ];
        if self.own_runtime_dir {
            env.push(("XDG_RUNTIME_DIR", self.dir().to_str()));
        }
        env
    }

    /// `program` in this session: with its environment, or for another user's session as that
    /// user with a clean environment plus the session's.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        match self.user {
            None => {
                let mut cmd = Command::new(program);
                for (key, value) in self.env() {
                    match value {
                        Some(value) => cmd.env(key, value),
                        None => cmd.env_remove(key),
                    };
                }
                cmd
            }
            Some(user) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", user, "--", "env", "-i"])
                    .arg(format!("HOME=/home/{user}"))
                    .arg("PATH=/usr/bin:/bin")
                    .arg("AIRLOCK_LOG=info");
                for (key, value) in self.env() {
                    if let Some(value) = value {
                        cmd.arg(format!("{key}={value}"));
                    }
                }
                cmd.arg(program);
                cmd
            }
        }
    }

    /// Run `program ARGS` in this session; it must succeed.
    pub fn run(&self, program: &str, args: &[&str]) -> Output {
        let out = self.command(program).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Start `cmd` (from [`Desktop::command`]) for the session's lifetime.
    pub fn spawn(&mut self, mut cmd: Command) {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
    }

    /// Keep `child` (started in this session) running for the session's lifetime.
    pub fn adopt(&mut self, child: Child) {
        self.children.push(child);
    }

    /// Start a process whose first line on stdout is what we need (display, bus address).
    fn spawn_and_read_line(&mut self, mut cmd: Command) -> String {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?} (run scripts/setup): {e}"));
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        self.children.push(child);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        self.pipes.push(stdout.into_inner());
        assert!(!line.trim().is_empty(), "{cmd:?} printed nothing");
        line.trim().to_string()
    }

    /// Another user's session: what was written into its directory becomes theirs.
    fn hand_over(&self) {
        if let Some(user) = self.user {
            let status = Command::new("chown")
                .args(["-R", user])
                .arg(self.dir())
                .status()
                .unwrap();
            assert!(status.success(), "chown -R {user} failed");
        }
    }

    fn menu_log(&self) -> PathBuf {
        self.dir().join("menu.txt")
    }

    /// The lines dunst's context menu offered.
    pub fn menu(&self) -> String {
        std::fs::read_to_string(self.menu_log()).unwrap_or_default()
    }

    /// Notifications dunst has on screen (`None` while dunst does not answer).
    pub fn displayed(&self) -> Option<usize> {
        let out = self
            .command("dunstctl")
            .args(["count", "displayed"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    }

    /// A method of the bus daemon itself, through `gdbus call`.
    pub fn bus_call(&self, method: &str, args: &[&str]) -> Option<String> {
        let out = self
            .command("gdbus")
            .args(["call", "--session", "--dest", "org.freedesktop.DBus"])
            .args(["--object-path", "/org/freedesktop/DBus", "--method"])
            .arg(format!("org.freedesktop.DBus.{method}"))
            .args(args)
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// The unique name owning `name`, as the bus says.
    pub fn owner_of(&self, name: &str) -> Option<String> {
        let reply = self.bus_call("GetNameOwner", &[name])?;
        Some(reply.split('\'').nth(1)?.to_string())
    }

    /// A screenshot of the whole screen (ImageMagick's `import`).
    pub fn screenshot(&self, to: &Path) {
        let status = self
            .command(tool("import"))
            .args(["-window", "root"])
            .arg(to)
            .status()
            .unwrap();
        assert!(status.success(), "screenshot failed");
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(user) = self.user {
            // What runs under `runuser` is the user's, not `runuser`'s child: end every process
            // of the (test-only) user.
            let _ = Command::new("pkill").args(["-KILL", "-u", user]).status();
        }
        // Politely first (dunst and the bus tidy up on TERM), then for sure.
        for child in self.children.iter_mut().rev() {
            if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            }
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while std::time::Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        if let Place::Users(dir) = &self.place {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn chown(user: &str, path: &Path) {
    let status = Command::new("chown").arg(user).arg(path).status().unwrap();
    assert!(status.success(), "chown {user} {} failed", path.display());
}
