//! A desktop for end-to-end tests of the real app: an X server (Xvfb), a private session bus,
//! and `tauri-driver` in front of WebKit's WebDriver, all torn down with the test.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

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

/// Processes killed (in reverse order) when dropped.
pub struct Desktop {
    pub display: String,
    pub bus: String,
    children: Vec<Child>,
    dir: tempfile::TempDir,
}

impl Desktop {
    /// Xvfb on a display it picks itself (`-displayfd`: no clash with other X servers), and a
    /// session bus of our own.
    /// `_slot` names the test's desktop in failure messages only.
    pub fn start(_slot: u32) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut desktop = Desktop {
            display: String::new(),
            bus: String::new(),
            children: Vec::new(),
            dir,
        };
        let mut xvfb = Command::new(tool("Xvfb"));
        xvfb.args([
            "-displayfd",
            "1",
            "-nolisten",
            "tcp",
            "-screen",
            "0",
            "1280x800x24",
        ]);
        let number = desktop.spawn_and_read_line(xvfb);
        desktop.display = format!(":{number}");
        // The standard session configuration: the app's toolkit expects its usual services
        // (accessibility bus, portals) to be activatable or to fail fast.
        let mut bus = Command::new(tool("dbus-daemon"));
        bus.args(["--session", "--print-address=1", "--nofork"]);
        desktop.bus = desktop.spawn_and_read_line(bus);
        desktop
    }

    /// Start `cmd` and return the first line it prints.
    fn spawn_and_read_line(&mut self, mut cmd: Command) -> String {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        self.children.push(child);
        assert!(!line.trim().is_empty(), "{cmd:?} printed nothing");
        line.trim().to_string()
    }

    /// A command with this desktop's display and bus.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("NO_AT_BRIDGE", "1")
            .env_remove("WAYLAND_DISPLAY");
        cmd
    }

    pub fn spawn(&mut self, mut cmd: Command) {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.children.push(child);
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
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
