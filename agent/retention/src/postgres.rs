//! The retained copy in PostgreSQL: every row of the chain and every signed checkpoint, in a
//! database the daemon may only add to.
//!
//! The daemon connects as a role with `INSERT` and `SELECT` only ([`schema_sql`], run once by
//! the database's owner): it cannot change or delete what it shipped. The table's trigger also
//! refuses any row that does not continue the retained chain — the next position, linked to the
//! retained row before it, hashing to its stored hash — so whoever holds that role's password
//! (in user mode, the agent's user can read it) can only append rows that chain on; a row that
//! forks the copy is refused there, and the daemon's own next row then fails to continue it,
//! which the daemon records and `airlock verify --against` names.
//!
//! Each log is told apart by its [`log_id`] (host and database path), so one database can keep
//! the logs of a whole team's workstations.

use airlock_store::ChainRow;
use airlock_store::chain::GENESIS;
use postgres::config::Host;
use postgres::{Client, Config, NoTls};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// How long connecting may take before the target counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A statement that takes longer than this fails instead of hanging.
const STATEMENT_TIMEOUT_MS: u32 = 10_000;
/// Waiting this long for a lock another session holds fails the statement.
const LOCK_TIMEOUT_MS: u32 = 2_000;

#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    #[error(
        "the PostgreSQL connection string in settings does not parse: {0} (expected `host=… user=… dbname=…` or `postgres://user@host/db`)"
    )]
    BadConnectionString(String),
    #[error("cannot reach PostgreSQL at {target}: {source}")]
    Connect {
        target: String,
        source: postgres::Error,
    },
    #[error("PostgreSQL at {target}: {message}")]
    Query { target: String, message: String },
    /// The copy's trigger refused a row: it does not continue the retained chain.
    #[error("PostgreSQL at {target} refused the rows: {message}")]
    Refused { target: String, message: String },
    #[error(
        "the retained copy at {target} does not hold Airlock's tables (`airlock_heads`): have its owner run the SQL from `airlock retention postgres-schema --role ROLE` (again, after an upgrade)"
    )]
    NoSchema { target: String },
}

/// The name a log is first kept under: the role it is shipped as, this machine and the
/// database's path (`ROLE/HOST:PATH`). Row-level security lets a role touch only logs named
/// after it. The name is fixed in the log (`log_meta`) the first time it is used.
pub fn new_log_id(role: &str, database: &Path) -> String {
    let host =
        std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_else(|_| "localhost".into());
    let path = std::fs::canonicalize(database).unwrap_or_else(|_| database.to_path_buf());
    // A log made again at the same place (a re-created database) is another log: its own name.
    let unique = uuid::Uuid::now_v7().simple().to_string();
    format!(
        "{role}/{}:{}#{}",
        host.trim(),
        path.display(),
        &unique[..16]
    )
}

/// Whether `name` is a plain PostgreSQL role name (what the schema's SQL may name).
fn plain_role(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// The SQL that makes the retained copy's tables, the triggers that keep each log an unbroken
/// chain stamped with the server's time, row-level security that lets each writer role touch
/// only its own logs, and the grants: `writers` may add and read their own logs, `auditors`
/// read every log. Run by the database's owner; running it again changes nothing.
pub fn schema_sql(writers: &[String], auditors: &[String]) -> Result<String, String> {
    if writers.is_empty() {
        return Err("name at least one writer role".into());
    }
    for role in writers.iter().chain(auditors) {
        if !plain_role(role) {
            return Err(format!(
                "`{role}` is not a plain PostgreSQL role name (lower-case letters, digits and `_`, starting with a letter)"
            ));
        }
    }
    let mut sql = SCHEMA.to_string();
    for role in writers {
        sql.push_str(&WRITER.replace("{role}", role));
    }
    for role in auditors {
        sql.push_str(&AUDITOR.replace("{role}", role));
    }
    Ok(sql)
}

const SCHEMA: &str = r#"-- Airlock's retained copy of receipt logs. Run as the database's owner, never as a role the
-- daemons connect as: those may only add rows to their own logs and read them.
CREATE TABLE IF NOT EXISTS public.airlock_rows (
    log_id      text        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq > 0),
    kind        text        NOT NULL CHECK (kind IN ('receipt', 'event')),
    time_ms     bigint      NOT NULL,
    canonical   text        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, seq)
);
CREATE TABLE IF NOT EXISTS public.airlock_checkpoints (
    log_id      text        NOT NULL,
    size        bigint      NOT NULL CHECK (size > 0),
    note        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, size)
);
CREATE TABLE IF NOT EXISTS public.airlock_log_keys (
    log_id       text        NOT NULL,
    verifier_key text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, verifier_key)
);
-- The log's head as the daemon saw it, told before the rows behind it are shipped: rows held
-- back and rewritten before they leave still contradict a head told earlier.
CREATE TABLE IF NOT EXISTS public.airlock_heads (
    log_id      text        NOT NULL,
    seq         bigint      NOT NULL CHECK (seq >= 0),
    hash        text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log_id, seq, hash)
);

-- Each row must continue its log's retained chain: the next position, linked to the row before
-- it, hashing to its stored hash, its kind and position those its canonical form names. The
-- server's clock stamps it. search_path is pinned (pg_temp last) so a temporary table of the
-- same name cannot stand in for the real one.
CREATE OR REPLACE FUNCTION public.airlock_rows_continue_the_chain() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
    last_seq  bigint;
    last_hash text;
BEGIN
    SELECT r.seq, r.hash INTO last_seq, last_hash FROM public.airlock_rows r
     WHERE r.log_id = NEW.log_id ORDER BY r.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        last_seq := 0;
        last_hash := repeat('0', 64);
    END IF;
    IF NEW.seq <> last_seq + 1 OR NEW.prev_hash <> last_hash THEN
        RAISE EXCEPTION 'airlock: row % of log % does not continue the retained chain, which ends at row % with hash %',
            NEW.seq, NEW.log_id, last_seq, last_hash USING ERRCODE = 'AL001';
    END IF;
    IF encode(sha256(convert_to(NEW.prev_hash || E'
' || NEW.canonical, 'UTF8')), 'hex') <> NEW.hash THEN
        RAISE EXCEPTION 'airlock: row % of log % does not hash to its stored hash', NEW.seq, NEW.log_id
            USING ERRCODE = 'AL002';
    END IF;
    IF left(NEW.canonical, length('["' || NEW.kind || '",' || NEW.seq || ',')) <> '["' || NEW.kind || '",' || NEW.seq || ',' THEN
        RAISE EXCEPTION 'airlock: row % of log % is not the % its canonical form names', NEW.seq, NEW.log_id, NEW.kind
            USING ERRCODE = 'AL002';
    END IF;
    NEW.received_at := now();
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS airlock_rows_append_only ON public.airlock_rows;
CREATE TRIGGER airlock_rows_append_only BEFORE INSERT ON public.airlock_rows
    FOR EACH ROW EXECUTE FUNCTION public.airlock_rows_continue_the_chain();

-- Every arrival is stamped by the server; a checkpoint signs rows the copy holds already.
CREATE OR REPLACE FUNCTION public.airlock_stamp() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    NEW.received_at := now();
    RETURN NEW;
END
$$;
CREATE OR REPLACE FUNCTION public.airlock_checkpoint_signs_retained_rows() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF NEW.size > coalesce(
        (SELECT max(r.seq) FROM public.airlock_rows r WHERE r.log_id = NEW.log_id), 0) THEN
        RAISE EXCEPTION 'airlock: a checkpoint of % rows of log %, which holds fewer', NEW.size, NEW.log_id
            USING ERRCODE = 'AL003';
    END IF;
    NEW.received_at := now();
    RETURN NEW;
END
$$;
DROP TRIGGER IF EXISTS airlock_stamp ON public.airlock_checkpoints;
CREATE TRIGGER airlock_stamp BEFORE INSERT ON public.airlock_checkpoints
    FOR EACH ROW EXECUTE FUNCTION public.airlock_checkpoint_signs_retained_rows();
DROP TRIGGER IF EXISTS airlock_stamp ON public.airlock_log_keys;
CREATE TRIGGER airlock_stamp BEFORE INSERT ON public.airlock_log_keys
    FOR EACH ROW EXECUTE FUNCTION public.airlock_stamp();
DROP TRIGGER IF EXISTS airlock_stamp ON public.airlock_heads;
CREATE TRIGGER airlock_stamp BEFORE INSERT ON public.airlock_heads
    FOR EACH ROW EXECUTE FUNCTION public.airlock_stamp();

-- Each writer role reads and adds only logs named after it (`ROLE/…`).
DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['airlock_rows', 'airlock_checkpoints', 'airlock_log_keys', 'airlock_heads'] LOOP
        EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC', t);
        EXECUTE format('DROP POLICY IF EXISTS airlock_own_logs ON public.%I', t);
        EXECUTE format('CREATE POLICY airlock_own_logs ON public.%I USING (starts_with(log_id, current_user || ''/'')) WITH CHECK (starts_with(log_id, current_user || ''/''))', t);
    END LOOP;
END
$$;
"#;

/// Grants for one writer role (after `SCHEMA`).
const WRITER: &str = r#"
REVOKE ALL ON public.airlock_rows, public.airlock_checkpoints, public.airlock_log_keys, public.airlock_heads FROM {role};
GRANT SELECT, INSERT ON public.airlock_rows, public.airlock_checkpoints, public.airlock_log_keys, public.airlock_heads TO {role};
"#;

/// Grants for one auditor role: every log, read only.
const AUDITOR: &str = r#"
GRANT SELECT ON public.airlock_rows, public.airlock_checkpoints, public.airlock_log_keys, public.airlock_heads TO {role};
DROP POLICY IF EXISTS airlock_audit_{role} ON public.airlock_rows;
CREATE POLICY airlock_audit_{role} ON public.airlock_rows FOR SELECT TO {role} USING (true);
DROP POLICY IF EXISTS airlock_audit_{role} ON public.airlock_checkpoints;
CREATE POLICY airlock_audit_{role} ON public.airlock_checkpoints FOR SELECT TO {role} USING (true);
DROP POLICY IF EXISTS airlock_audit_{role} ON public.airlock_log_keys;
CREATE POLICY airlock_audit_{role} ON public.airlock_log_keys FOR SELECT TO {role} USING (true);
DROP POLICY IF EXISTS airlock_audit_{role} ON public.airlock_heads;
CREATE POLICY airlock_audit_{role} ON public.airlock_heads FOR SELECT TO {role} USING (true);
"#;

/// A row as retained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedRow {
    pub seq: i64,
    pub time_ms: i64,
    pub canonical: String,
    pub prev_hash: String,
    pub hash: String,
    /// When the copy received it (the server's clock), ms since the epoch.
    pub received_ms: i64,
}

/// A head the daemon told the copy, and when it arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedHead {
    pub seq: i64,
    pub hash: String,
    pub received_ms: i64,
}

/// A connection to the retained copy, for one log.
pub struct Retained {
    client: Client,
    log_id: String,
    target: String,
    role: String,
}

impl Retained {
    /// Connect with a libpq-style connection string (key/value or URL), the password from
    /// `password` when given (a file's, or `PGPASSWORD`'s). Every wait has a bound: connecting,
    /// each statement, a lock another session holds (a writer that holds the log's next row to
    /// stall shipping is found out in seconds), and a peer that stops answering over TCP.
    pub fn connect(
        conninfo: &str,
        password: Option<&str>,
        log_id: String,
    ) -> Result<Self, PostgresError> {
        let mut config = Config::from_str(conninfo)
            .map_err(|e| PostgresError::BadConnectionString(e.to_string()))?;
        if let Some(password) = password {
            config.password(password.trim_end_matches(['\n', '\r']));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config
            .keepalives(true)
            .keepalives_idle(Duration::from_secs(5))
            .tcp_user_timeout(Duration::from_secs(10));
        // Given with the connection, these win over what the role set for itself
        // (`ALTER ROLE … SET`): a role that made its sessions read-only, or turned row-level
        // security off, does not get that here.
        config.options(&format!(
            "-c statement_timeout={STATEMENT_TIMEOUT_MS} -c lock_timeout={LOCK_TIMEOUT_MS} -c idle_in_transaction_session_timeout={STATEMENT_TIMEOUT_MS} -c idle_session_timeout=0 -c default_transaction_read_only=off -c row_security=on"
        ));
        let target = describe(&config);
        let role = config.get_user().unwrap_or_default().to_string();
        let client = config
            .connect(NoTls)
            .map_err(|source| PostgresError::Connect {
                target: target.clone(),
                source,
            })?;
        let mut retained = Self {
            client,
            log_id,
            target,
            role,
        };
        let has_schema = retained
            .client
            .query_one(
                "SELECT to_regclass('public.airlock_heads') IS NOT NULL",
                &[],
            )
            .map_err(|e| retained.query_error(e))?
            .get::<_, bool>(0);
        if !has_schema {
            return Err(PostgresError::NoSchema {
                target: retained.target,
            });
        }
        Ok(retained)
    }

    /// The role this connection writes as.
    pub fn role(&self) -> &str {
        &self.role
    }

    /// Read and write the log `log_id` from now on.
    pub fn set_log(&mut self, log_id: String) {
        self.log_id = log_id;
    }

    /// Where this copy is, for messages (never the password).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The log this connection reads and writes.
    pub fn log_id(&self) -> &str {
        &self.log_id
    }

    fn query_error(&self, e: postgres::Error) -> PostgresError {
        let target = self.target.clone();
        match e.as_db_error() {
            Some(db) if db.code().code().starts_with("AL") => PostgresError::Refused {
                target,
                message: db.message().to_string(),
            },
            Some(db) => PostgresError::Query {
                target,
                message: db.message().to_string(),
            },
            None => PostgresError::Query {
                target,
                message: e.to_string(),
            },
        }
    }

    /// The newest retained row of this log: its position and hash (0 and the genesis hash when
    /// nothing is retained yet).
    pub fn newest(&mut self) -> Result<(i64, String), PostgresError> {
        let row = self
            .client
            .query_opt(
                "SELECT seq, hash FROM public.airlock_rows WHERE log_id = $1 ORDER BY seq DESC LIMIT 1",
                &[&self.log_id],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(row.map_or((0, GENESIS.to_string()), |r| (r.get(0), r.get(1))))
    }

    /// Add rows (in chain order, continuing the retained chain) in one transaction: all of
    /// them are kept, or none.
    pub fn append(&mut self, rows: &[ChainRow]) -> Result<(), PostgresError> {
        let log_id = self.log_id.clone();
        let result = (|| {
            let mut tx = self.client.transaction()?;
            let insert = tx.prepare(
                "INSERT INTO public.airlock_rows (log_id, seq, kind, time_ms, canonical, prev_hash, hash)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )?;
            for row in rows {
                tx.execute(
                    &insert,
                    &[
                        &log_id,
                        &row.seq,
                        &row.kind,
                        &row.time_ms,
                        &row.canonical,
                        &row.prev_hash,
                        &row.hash,
                    ],
                )?;
            }
            tx.commit()
        })();
        result.map_err(|e| self.query_error(e))
    }

    /// The checkpoints of this log the copy holds, among `sizes`: size and note.
    pub fn checkpoints_among(
        &mut self,
        sizes: &[i64],
    ) -> Result<Vec<(i64, String)>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT size, note FROM public.airlock_checkpoints WHERE log_id = $1 AND size = ANY($2)",
                &[&self.log_id, &sizes],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
    }

    /// When the copy last heard from this log (its clock, ms since the epoch; 0: never).
    pub fn last_contact(&mut self) -> Result<i64, PostgresError> {
        let row = self
            .client
            .query_one(
                "SELECT coalesce((extract(epoch FROM greatest(
                     (SELECT max(received_at) FROM public.airlock_heads WHERE log_id = $1),
                     (SELECT max(received_at) FROM public.airlock_rows WHERE log_id = $1))) * 1000)::bigint, 0),
                        (extract(epoch FROM now()) * 1000)::bigint",
                &[&self.log_id],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(row.get(0))
    }

    /// The copy's clock now (ms since the epoch).
    pub fn server_now(&mut self) -> Result<i64, PostgresError> {
        let row = self
            .client
            .query_one("SELECT (extract(epoch FROM now()) * 1000)::bigint", &[])
            .map_err(|e| self.query_error(e))?;
        Ok(row.get(0))
    }

    /// Tell the copy the log's head as it stands now (before the rows behind it are shipped).
    pub fn tell_head(&mut self, seq: i64, hash: &str) -> Result<(), PostgresError> {
        self.client
            .execute(
                "INSERT INTO public.airlock_heads (log_id, seq, hash) VALUES ($1, $2, $3)
                 ON CONFLICT DO NOTHING",
                &[&self.log_id, &seq, &hash],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Every head told for this log.
    pub fn heads(&mut self) -> Result<Vec<RetainedHead>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT seq, hash, (extract(epoch FROM received_at) * 1000)::bigint
                 FROM public.airlock_heads WHERE log_id = $1 ORDER BY received_at, seq",
                &[&self.log_id],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows
            .into_iter()
            .map(|r| RetainedHead {
                seq: r.get(0),
                hash: r.get(1),
                received_ms: r.get(2),
            })
            .collect())
    }

    /// The logs whose first row is the row with `hash`: the same log, under every name it was
    /// shipped as.
    pub fn logs_beginning_with(&mut self, hash: &str) -> Result<Vec<String>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT log_id FROM public.airlock_rows WHERE seq = 1 AND hash = $1 ORDER BY log_id",
                &[&hash],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Add a signed checkpoint.
    pub fn add_checkpoint(&mut self, size: i64, note: &str) -> Result<(), PostgresError> {
        self.client
            .execute(
                "INSERT INTO public.airlock_checkpoints (log_id, size, note) VALUES ($1, $2, $3)",
                &[&self.log_id, &size, &note],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Record the key this log's checkpoints are signed with (once per key): a log that was
    /// given a new key shows two.
    pub fn note_key(&mut self, verifier_key: &str) -> Result<(), PostgresError> {
        self.client
            .execute(
                "INSERT INTO public.airlock_log_keys (log_id, verifier_key) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&self.log_id, &verifier_key],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(())
    }

    /// Up to `limit` retained rows after `after`, in order.
    pub fn rows_after(
        &mut self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<RetainedRow>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT seq, time_ms, canonical, prev_hash, hash,
                        (extract(epoch FROM received_at) * 1000)::bigint
                 FROM public.airlock_rows
                 WHERE log_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[&self.log_id, &after, &limit],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows
            .into_iter()
            .map(|r| RetainedRow {
                seq: r.get(0),
                time_ms: r.get(1),
                canonical: r.get(2),
                prev_hash: r.get(3),
                hash: r.get(4),
                received_ms: r.get(5),
            })
            .collect())
    }

    /// Every retained checkpoint note of this log, oldest first.
    pub fn checkpoints(&mut self) -> Result<Vec<String>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT note FROM public.airlock_checkpoints WHERE log_id = $1 ORDER BY size",
                &[&self.log_id],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// Every key this log's checkpoints were signed with, in the order first seen.
    pub fn keys(&mut self) -> Result<Vec<String>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT verifier_key FROM public.airlock_log_keys WHERE log_id = $1 ORDER BY received_at",
                &[&self.log_id],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }

    /// The logs the copy holds (for a message when the expected one is not there).
    pub fn log_ids(&mut self) -> Result<Vec<String>, PostgresError> {
        let rows = self
            .client
            .query(
                "SELECT DISTINCT log_id FROM public.airlock_rows ORDER BY log_id",
                &[],
            )
            .map_err(|e| self.query_error(e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
}

/// A connection string as it may be shown or recorded: where it points, never its password.
pub fn redacted(conninfo: &str) -> String {
    if conninfo.trim().is_empty() {
        return String::new();
    }
    match Config::from_str(conninfo) {
        Ok(config) => describe(&config),
        Err(_) => "(a connection string that does not parse)".into(),
    }
}

/// `user@host:port/dbname` (or the socket directory), without the password.
fn describe(config: &Config) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        Some(Host::Unix(dir)) => dir.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "`{}@{host}:{port}/{}`",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or("?")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schema_is_only_made_for_a_plain_role_name() {
        let sql = schema_sql(&["airlock_writer".into()], &["auditor".into()])
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(sql.contains("GRANT SELECT, INSERT ON"));
        assert!(sql.contains("TO airlock_writer;"));
        assert!(sql.contains("airlock_audit_auditor"));
        assert!(!sql.contains("{role}"));
        for bad in [
            "",
            "Writer",
            "w; DROP TABLE x",
            "9w",
            "w\"x",
            &"w".repeat(64),
        ] {
            assert!(schema_sql(&[bad.to_string()], &[]).is_err(), "{bad}");
            assert!(
                schema_sql(&["w".into()], &[bad.to_string()]).is_err(),
                "{bad}"
            );
        }
        assert!(schema_sql(&[], &[]).is_err());
    }

    #[test]
    fn a_target_is_described_without_its_password() {
        let config = Config::from_str("postgres://writer:s3cret@db.example:6543/audit")
            .unwrap_or_else(|e| panic!("{e}"));
        let text = describe(&config);
        assert_eq!(text, "`writer@db.example:6543/audit`");
        let config = Config::from_str("host=/tmp/pg user=w dbname=d password=s3cret")
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!describe(&config).contains("s3cret"));
    }
}
