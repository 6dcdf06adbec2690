//! `airlock explain`: classify and decide without running or recording anything.

use crate::adapters;
use crate::classify::{Classifier, Env, Unit};
use crate::policy::{Evaluation, Policy};
use crate::request::ActionRequest;
use serde_json::{Value, json};
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// Read many hook payloads, one per line, and write one JSON result per line.
    #[arg(long, conflicts_with_all = ["json", "command"])]
    jsonl: bool,
    /// Explain this shell command (as run by the Bash tool) instead of a payload on stdin.
    #[arg(long, value_name = "CMD")]
    command: Option<String>,
    /// Working directory for `--command` (default: the current directory).
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Evaluate against these policy directories instead of the configured ones (repeatable).
    #[arg(long, value_name = "DIR")]
    policy: Vec<PathBuf>,
    /// The agent whose payload format stdin uses.
    #[arg(long, default_value = "claude-code")]
    agent: String,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let home = super::home()?;
    let dirs = if args.policy.is_empty() {
        super::policy_dirs(&home)
    } else {
        args.policy.clone()
    };
    let policy = Policy::load(&dirs)?;
    let classifier = Classifier::new(Env::current(home.protected_dirs()))?;

    if args.jsonl {
        let stdin = std::io::stdin();
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::new(stdout.lock());
        for (index, line) in stdin.lock().lines().enumerate() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            let result = match request_from_payload(&args.agent, &line) {
                Ok(request) => {
                    let mut classification = classifier.classify(&request);
                    policy.enrich(&request, &mut classification);
                    let evaluation = policy.evaluate(&request, &classification);
                    result_json(&request, &classification.units, &evaluation, false)
                }
                Err(message) => json!({
                    "line": index + 1,
                    "error": message,
                    "decision": "deny",
                    "classes": ["unknown"],
                    "rules": [],
                    "reason": format!("the hook would block this input: {message}"),
                }),
            };
            serde_json::to_writer(&mut out, &result)?;
            out.write_all(b"\n")?;
        }
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }

    let request = match &args.command {
        Some(command) => {
            let cwd = match &args.cwd {
                Some(c) => c.clone(),
                None => std::env::current_dir()?,
            };
            ActionRequest::shell(&args.agent, cwd, command)
        }
        None => {
            let mut input = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut input)?;
            request_from_payload(&args.agent, &input).map_err(anyhow::Error::msg)?
        }
    };
    let mut classification = classifier.classify(&request);
    policy.enrich(&request, &mut classification);
    let evaluation = policy.evaluate(&request, &classification);
    if args.json {
        super::output::print_json(&result_json(
            &request,
            &classification.units,
            &evaluation,
            true,
        ))?;
    } else {
        print_human(&request, &classification.units, &evaluation);
    }
    Ok(ExitCode::SUCCESS)
}

fn request_from_payload(agent: &str, text: &str) -> Result<ActionRequest, String> {
    let payload: Value =
        serde_json::from_str(text).map_err(|e| format!("input is not JSON: {e}"))?;
    adapters::parse(agent, &payload).map_err(|e| e.to_string())
}

fn result_json(
    request: &ActionRequest,
    units: &[Unit],
    evaluation: &Evaluation,
    with_units: bool,
) -> Value {
    let classes: std::collections::BTreeSet<_> = units
        .iter()
        .flat_map(|u| u.classes.iter().copied())
        .collect();
    let mut result = json!({
        "decision": evaluation.decision,
        "classes": classes,
        "rules": evaluation.rule_ids(),
        "reason": evaluation.reason,
        "tool": request.tool,
    });
    let unit_json: Vec<Value> = units
        .iter()
        .enumerate()
        .map(|(index, u)| {
            let decisions: Vec<Value> = evaluation
                .details
                .iter()
                .filter(|d| d.unit == index)
                .map(|d| json!({"class": d.class, "decision": d.decision, "rules": d.rules}))
                .collect();
            let mut v = json!({
                "text": u.text,
                "depth": u.depth,
                "program": u.program,
                "classes": u.classes,
                "source": u.source,
                "decisions": decisions,
            });
            if with_units {
                v["tags"] = json!(u.tags);
                v["paths"] = json!(u.paths);
                v["hosts"] = json!(u.hosts);
            }
            v
        })
        .collect();
    result["units"] = Value::Array(unit_json);
    result
}

fn print_human(request: &ActionRequest, units: &[Unit], evaluation: &Evaluation) {
    println!("decision: {}", evaluation.decision);
    println!(
        "reason:   {}",
        crate::printable::printable(&evaluation.reason)
    );
    println!("rules:    {}", evaluation.rule_ids().join(", "));
    println!("tool:     {}", request.tool);
    println!("units:");
    for (index, unit) in units.iter().enumerate() {
        let indent = "  ".repeat(unit.depth + 1);
        println!(
            "{indent}[{}] {}",
            unit.depth,
            crate::printable::printable(&unit.text)
        );
        println!("{indent}    source: {}", unit.source);
        for d in evaluation.details.iter().filter(|d| d.unit == index) {
            println!(
                "{indent}    {:<20} → {:<8} ({})",
                d.class.as_str(),
                d.decision.as_str(),
                d.rules.join(", ")
            );
        }
        if !unit.tags.is_empty() {
            let tags: Vec<&str> = unit.tags.iter().map(String::as_str).collect();
            println!("{indent}    tags: {}", tags.join(", "));
        }
        for p in &unit.paths {
            println!(
                "{indent}    path: {} ({:?}, {})",
                p.path.display(),
                p.access,
                if p.inside {
                    "inside workspace"
                } else {
                    "outside workspace"
                }
            );
        }
        if !unit.hosts.is_empty() {
            println!("{indent}    hosts: {}", unit.hosts.join(", "));
        }
    }
}
