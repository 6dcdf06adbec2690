//! Shared formatting for people reading the CLI's output.

use airlock_protocol::ActionClass;

/// Local time, to the second.
pub fn local_time(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(ts) => ts
            .to_zoned(jiff::tz::TimeZone::system())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        Err(_) => ms.to_string(),
    }
}

pub fn classes(classes: &[ActionClass]) -> String {
    classes
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// One line of a tool input for a listing: the command, path or URL.
pub fn input_line(tool: &str, input: &serde_json::Value) -> String {
    let field = |n: &str| input.get(n).and_then(serde_json::Value::as_str);
    let text = field("command")
        .or_else(|| field("file_path"))
        .or_else(|| field("notebook_path"))
        .or_else(|| field("url"))
        .or_else(|| field("pattern"))
        .or_else(|| field("query"))
        .or_else(|| field("description"))
        .map(str::to_string)
        .unwrap_or_else(|| input.to_string());
    let one_line = crate::printable::printable(&text);
    let clipped: String = one_line.chars().take(100).collect();
    let ellipsis = if one_line.chars().count() > 100 {
        "…"
    } else {
        ""
    };
    format!("{tool}: {clipped}{ellipsis}")
}

pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A size for people: bytes, KB or MB (powers of 1024).
pub fn bytes(n: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * KB;
    if n >= MB {
        format!("{:.1} MB", n as f64 / MB as f64)
    } else if n >= KB {
        format!("{:.1} KB", n as f64 / KB as f64)
    } else {
        format!("{n} B")
    }
}
