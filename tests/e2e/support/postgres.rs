//! A real PostgreSQL server for a test: Debian's `initdb`/`pg_ctl` in a temporary directory, run
//! as an unprivileged account (`postgres` when the test runs as root), listening only on a Unix
//! socket there. Airlock's tables come from `airlock retention postgres-schema`, as an owner
//! would make them; the daemon connects as `airlock_writer` (INSERT and SELECT, its own logs
//! only), another machine's daemon would as `other_writer`, and auditors as `auditor` (SELECT,
//! every log).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The account the server runs as, when it is not this process's (root cannot run it).
    account: Option<String>,
}

/// The directory of Debian's versioned server binaries.
fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().expect(
        "PostgreSQL's server is not installed (/usr/lib/postgresql/*/bin/initdb): scripts/setup installs it",
    )
}

impl Postgres {
    /// A fresh server with the `airlock` database, its tables and the two roles.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = rustix::process::geteuid().is_root();
        let account = root.then(|| "postgres".to_string());
        if root {
            let out = Command::new("id")
                .arg("-u")
                .arg("postgres")
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "running as root, and no `postgres` account to run the server as (the postgresql package makes it)"
            );
            let uid: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
            std::os::unix::fs::chown(dir.path(), Some(uid), None).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let pg = Self {
            dir,
            bin: server_bin(),
            account,
        };
        let data = pg.data();
        pg.server(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "db_owner",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        pg.resume();
        pg.psql_ok(
            "db_owner",
            "postgres",
            "CREATE ROLE airlock_writer LOGIN; CREATE ROLE other_writer LOGIN; CREATE ROLE auditor LOGIN;",
        );
        pg.psql_ok(
            "db_owner",
            "postgres",
            "CREATE DATABASE airlock OWNER db_owner;",
        );
        let schema = Command::new(super::BIN)
            .args([
                "retention",
                "postgres-schema",
                "--role",
                "airlock_writer",
                "--role",
                "other_writer",
                "--auditor",
                "auditor",
            ])
            .output()
            .unwrap();
        assert!(schema.status.success(), "{schema:?}");
        pg.psql_ok(
            "db_owner",
            "airlock",
            &String::from_utf8(schema.stdout).unwrap(),
        );
        pg
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The socket directory.
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// A connection string for `role` to the `airlock` database.
    pub fn conninfo(&self, role: &str) -> String {
        format!(
            "host={} user={role} dbname=airlock",
            self.socket_dir().display()
        )
    }

    /// Run a server binary as the server's account.
    fn server(&self, program: &str, args: &[&str]) -> Output {
        let path = self.bin.join(program);
        let mut cmd = match &self.account {
            Some(account) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", account, "--"]).arg(&path);
                cmd
            }
            None => Command::new(&path),
        };
        let out = cmd.args(args).env("LC_ALL", "C").output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Start (again): the server listens on the socket directory only.
    pub fn resume(&self) {
        let options = format!("-k {} -c listen_addresses=", self.socket_dir().display());
        let log = self.dir.path().join("server.log");
        self.server(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
    }

    /// Stop at once, as a crash or a pulled network would (clients see the connection die).
    pub fn halt(&self) {
        self.server(
            "pg_ctl",
            &[
                "-D",
                self.data().to_str().unwrap(),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
        );
    }

    /// The `psql` program.
    pub fn psql_path(&self) -> PathBuf {
        self.bin.join("psql")
    }

    /// `psql` as `role`; the output, whatever the exit status.
    pub fn psql(&self, role: &str, database: &str, sql: &str) -> Output {
        Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                self.socket_dir().to_str().unwrap(),
                "-U",
                role,
                "-d",
                database,
                "-c",
                sql,
            ])
            .env("LC_ALL", "C")
            .output()
            .unwrap()
    }

    pub fn psql_ok(&self, role: &str, database: &str, sql: &str) -> String {
        let out = self.psql(role, database, sql);
        assert!(
            out.status.success(),
            "psql as {role}: {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    /// The retained rows of every log: `(seq, hash)` in order.
    pub fn rows(&self) -> Vec<(i64, String)> {
        self.psql_ok(
            "auditor",
            "airlock",
            "SELECT seq || ' ' || hash FROM airlock_rows ORDER BY log_id, seq",
        )
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (seq, hash) = l.split_once(' ').unwrap();
            (seq.parse().unwrap(), hash.to_string())
        })
        .collect()
    }

    pub fn count(&self) -> i64 {
        self.psql_ok("auditor", "airlock", "SELECT count(*) FROM airlock_rows")
            .parse()
            .unwrap()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let path = self.bin.join("pg_ctl");
        let data = self.data();
        let mut cmd = match &self.account {
            Some(account) => {
                let mut cmd = Command::new("runuser");
                cmd.args(["-u", account, "--"]).arg(&path);
                cmd
            }
            None => Command::new(&path),
        };
        let _ = cmd
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output();
    }
}
