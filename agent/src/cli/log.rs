//! `airlock log` and `airlock show`

use super::output;
use crate::store::{LogFilter, Store};
use airlock_protocol::{ActionClass, Outcome};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Only this session id.
    #[arg(long)]
    session: Option<String>,
    /// Only receipts with this outcome (allowed, denied, approval_required, approved, rejected,
    /// expired, canceled, interrupted, rolled_back, rate_limited, executed, failed).
    #[arg(long, value_parser = parse_outcome)]
    outcome: Option<Outcome>,
    /// Only requests with this action class (e.g. shell.destructive).
    #[arg(long, value_parser = parse_class)]
    class: Option<ActionClass>,
    /// Only this agent (e.g. claude-code).
    #[arg(long)]
    agent: Option<String>,
    /// Only this tool (e.g. Bash).
    #[arg(long)]
    tool: Option<String>,
    /// Text to find in the input, reason or working directory.
    #[arg(long)]
    search: Option<String>,
    /// Newer than: a duration (`30m`, `2h`, `7d`), a date (`2026-11-01`) or a timestamp.
    #[arg(long, value_parser = parse_since)]
    since: Option<i64>,
    /// At most this many receipts (newest first).
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Only receipts older than this row (the `seq` of the last one shown): the next page.
    #[arg(long, value_name = "ROW")]
    before: Option<i64>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Receipt id.
    id: String,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let filter = LogFilter {
        session: args.session,
        agent: args.agent,
        tool: args.tool,
        outcome: args.outcome,
        class: args.class,
        since_ms: args.since,
        until_ms: None,
        text: args.search,
        before_seq: args.before,
        limit: Some(args.limit),
        session_prefix: None,
    };
    let receipts = list(&filter)?;
    if args.json {
        output::print_json(&receipts)?;
        return Ok(ExitCode::SUCCESS);
    }
    if receipts.is_empty() {
        println!("no receipts match");
        return Ok(ExitCode::SUCCESS);
    }
    for r in &receipts {
        let outcomes: Vec<&str> = r.outcomes.iter().map(|o| o.as_str()).collect();
        println!(
            "{}  {:<28} {:<8} {}  {}",
            output::local_time(r.time_ms),
            outcomes.join("→"),
            r.decision.as_str(),
            r.id,
            output::input_line(&r.tool, &r.input)
        );
        println!(
            "{:21}classes {} · rules {} · session {}",
            "",
            output::classes(&r.classes),
            r.rules.join(","),
            crate::printable::printable(r.session.as_deref().unwrap_or("-"))
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    let detail = get(&args.id)?;
    if args.json {
        output::print_json(&detail)?;
        return Ok(ExitCode::SUCCESS);
    }
    let r = &detail.receipt;
    println!("receipt {} (row {})", r.id, r.seq);
    println!("time:     {}", output::local_time(r.time_ms));
    println!(
        "agent:    {} session {}",
        r.agent,
        r.session.as_deref().unwrap_or("-")
    );
    println!("cwd:      {}", crate::printable::printable(&r.cwd));
    println!("event:    {}", r.event);
    println!("tool:     {}", output::input_line(&r.tool, &r.input));
    println!("classes:  {}", output::classes(&r.classes));
    println!(
        "decision: {} — {}",
        r.decision,
        crate::printable::printable(&r.reason)
    );
    println!("rules:    {}", r.rules.join(", "));
    println!("hash:     {}", detail.hash);
    println!("timeline:");
    for entry in &detail.timeline {
        println!(
            "  {}  {:<18} by {}  {}",
            output::local_time(entry.time_ms),
            entry.outcome,
            entry.actor,
            entry.detail
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Receipts from the database, or in system mode (the database is the daemon's) through the
/// daemon, which answers with this user's own.
fn list(filter: &LogFilter) -> anyhow::Result<Vec<airlock_protocol::ReceiptSummary>> {
    let home = super::home()?;
    if home.system.is_none() {
        return Ok(open()?.list(filter)?);
    }
    let wire = airlock_protocol::HistoryFilter {
        session: filter.session.clone(),
        agent: filter.agent.clone(),
        tool: filter.tool.clone(),
        outcome: filter.outcome,
        class: filter.class,
        since_ms: filter.since_ms,
        until_ms: filter.until_ms,
        text: filter.text.clone(),
        before_seq: filter.before_seq,
        limit: filter.limit.map(|l| l.min(5000) as u32),
    };
    let mut client = super::connect(&home)?;
    match super::expect_ok(client.call(airlock_protocol::Request::History { filter: wire })?)? {
        airlock_protocol::Response::History { items } => Ok(items),
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    }
}

/// One receipt, from the database or (system mode) through the daemon.
fn get(id: &str) -> anyhow::Result<crate::store::ReceiptDetail> {
    let home = super::home()?;
    if home.system.is_none() {
        return Ok(open()?.get(id)?);
    }
    let mut client = super::connect(&home)?;
    match super::expect_ok(client.call(airlock_protocol::Request::Receipt { id: id.into() })?)? {
        airlock_protocol::Response::Receipt { detail } => Ok(*detail),
        other => anyhow::bail!("unexpected answer from the daemon: {other:?}"),
    }
}

fn open() -> anyhow::Result<Store> {
    let path = super::home()?.database();
    if !path.exists() {
        anyhow::bail!(
            "no receipt database at `{}`; has the daemon run yet?",
            path.display()
        );
    }
    Ok(Store::open_read_only(&path)?)
}

fn parse_outcome(s: &str) -> Result<Outcome, String> {
    Outcome::parse(s).ok_or_else(|| {
        let all: Vec<&str> = Outcome::ALL.iter().map(|o| o.as_str()).collect();
        format!("unknown outcome `{s}`; use one of: {}", all.join(", "))
    })
}

fn parse_class(s: &str) -> Result<ActionClass, String> {
    ActionClass::parse(s).ok_or_else(|| {
        let all: Vec<&str> = ActionClass::ALL.iter().map(|c| c.as_str()).collect();
        format!("unknown action class `{s}`; use one of: {}", all.join(", "))
    })
}

/// `30m`, `2h`, `7d`, `1w` ago; or an RFC 3339 timestamp; or a local date.
fn parse_since(s: &str) -> Result<i64, String> {
    let now = jiff::Timestamp::now().as_millisecond();
    let unit_ms = |u: &str| match u {
        "s" => Some(1_000),
        "m" => Some(60_000),
        "h" => Some(3_600_000),
        "d" => Some(86_400_000),
        "w" => Some(7 * 86_400_000),
        _ => None,
    };
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if split > 0
        && let (Ok(n), Some(ms)) = (s[..split].parse::<i64>(), unit_ms(&s[split..]))
    {
        return Ok(now - n * ms);
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    if let Ok(date) = s.parse::<jiff::civil::Date>()
        && let Ok(zoned) = date.to_zoned(jiff::tz::TimeZone::system())
    {
        return Ok(zoned.timestamp().as_millisecond());
    }
    Err(format!(
        "cannot read `{s}` as a time: use a duration like `30m`, `2h`, `7d`, a date like `2026-11-01`, or an RFC 3339 timestamp"
    ))
}
