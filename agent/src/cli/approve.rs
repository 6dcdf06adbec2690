//! `airlock approve` and `airlock deny`

use airlock_protocol::{ApprovalScope, Request, Response, StepUpTarget};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Scope {
    /// This request only.
    Once,
    /// The same action in the same session, until the daemon restarts.
    Session,
    /// Allow exactly this action from now on: adds an entry to your policy (shown in the
    /// answer). Refused for guarded actions (pushes, production writes, messages, exports)
    /// unless settings.toml allows it with a security-key touch.
    Always,
}

#[derive(Debug, clap::Args)]
pub struct ApproveArgs {
    /// The pending request's id (see `airlock pending`).
    id: String,
    #[arg(long, value_enum, default_value = "once")]
    scope: Scope,
}

#[derive(Debug, clap::Args)]
pub struct DenyArgs {
    /// The pending request's id (see `airlock pending`).
    id: String,
    /// Why; passed back to the agent.
    #[arg(long)]
    reason: Option<String>,
}

pub fn approve(args: ApproveArgs) -> anyhow::Result<ExitCode> {
    let scope = match args.scope {
        Scope::Once => ApprovalScope::Once,
        Scope::Session => ApprovalScope::Session,
        Scope::Always => ApprovalScope::Always,
    };
    let mut client = super::connect(&super::home()?)?;
    // The daemon lists the scopes that need a key for each pending request (a step-up
    // request; "always" when settings ask for a key). If it changes its mind, it answers
    // `step_up_required` and the key is asked for then.
    let step_up = match client.call(Request::Pending {})? {
        Response::Pending { items } => items
            .iter()
            .any(|p| p.id == args.id && p.key_scopes.contains(&scope)),
        _ => false,
    };
    let target = StepUpTarget::Approve {
        id: args.id.clone(),
        scope,
    };
    let response = crate::stepup::ceremony::call_with_key(
        &mut client,
        target,
        step_up,
        |assertion| Request::Approve {
            id: args.id.clone(),
            scope,
            assertion,
        },
        crate::stepup::ceremony::terminal_ui(),
    )?;
    super::print_done(super::expect_ok(response)?)
}

pub fn deny(args: DenyArgs) -> anyhow::Result<ExitCode> {
    let mut client = super::connect(&super::home()?)?;
    let response = super::expect_ok(client.call(Request::Deny {
        id: args.id,
        reason: args.reason,
    })?)?;
    super::print_done(response)
}
