//! The enforcement daemon: a local-socket server that every hook request passes through.

mod access;
mod approvals;
mod control_requests;
pub(crate) mod controls;
mod decide;
pub mod decision;
mod history;
mod lifecycle;
mod nofollow;
mod notifier;
mod policy_check;
mod policy_in_force;
mod rollback;
mod server;
mod settings_watch;
pub mod shipper;
mod state;
mod stepup;
mod tree_heads;
pub mod users;
pub mod who;

pub use decide::{Peer, action_key};

/// What user mode guarantees about the records (said at every start and in `airlock status`).
pub const USER_MODE: &str = "user mode: the records are tamper-evident, not tamper-proof (the agent's user owns them; system mode keeps them under the daemon's own account)";

/// What system mode guarantees (said at every start and in `airlock status`).
pub const SYSTEM_MODE: &str = "system mode: the daemon runs under its own account; its state, policy and socket are out of its users' reach";

pub use crate::retention::syslog::notes_in as retained_checkpoints;

/// Rows between signed checkpoints (see `tree_heads`).
pub const CHECKPOINT_EVERY_ROWS: u64 = tree_heads::EVERY_ROWS;

/// Who the emergency stop is by when the daemon's watchdog turned it on (an impostor).
pub const WATCHDOG: &str = airlock_protocol::STOPPED_BY_WATCHDOG;
pub use state::Daemon;
use state::{Approvals, LiveSettings, PolicyInForce};

use crate::classify::{Classifier, Env};
use crate::home::AirlockHome;
use crate::policy::Policy;
use crate::settings::Settings;
use crate::store::Store;
use crate::store::writer::Writer;
use anyhow::Context;
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;

pub struct DaemonConfig {
    pub home: AirlockHome,
    /// Shipped policy first, then the user's policy directory.
    pub policy_dirs: Vec<PathBuf>,
    pub approval_timeout: Option<Duration>,
}

/// Build the daemon's state (policy, classifier, store) without serving.
pub fn build(config: &DaemonConfig) -> anyhow::Result<Arc<Daemon>> {
    let settings = Settings::load(&config.home.settings_file())?;
    build_with(config, &settings)
}

fn build_with(config: &DaemonConfig, settings: &Settings) -> anyhow::Result<Arc<Daemon>> {
    let policy =
        Policy::load(&config.policy_dirs).context("refusing to start: the policy does not load")?;
    let classifier = Classifier::new(Env::current(config.home.protected_dirs()))?;
    if config.home.system.is_some() {
        // Every file read for a request is read for its user from now on; a read made for
        // nobody is refused rather than made with the daemon's capability.
        crate::user_fs::require_a_reader();
    }
    let database = config.home.database();
    let store = Store::open(&database)?;
    let reader = Store::open(&database)?;
    let checkpointer = Store::open(&database)?;
    let writer = Writer::spawn(store, Some(checkpointer))
        .context("cannot start the receipt writer thread")?;
    let tree_heads = Arc::new(
        tree_heads::TreeHeads::open(&database)
            .context("refusing to start: the receipt log cannot be checkpointed")?,
    );
    let shipper = shipper::Shipper::open(&database, &settings.retention, tree_heads.verifier_key())
        .context("refusing to start: the retention settings are not usable")?;
    let (events, _) = broadcast::channel(1024);
    let controls = controls::Controls::load(&config.home.data_dir.join("controls.json"))?;
    let stepup = crate::stepup::RelyingParty::new(&settings.step_up)
        .context("refusing to start: security-key settings are not usable")?;
    Ok(Arc::new(Daemon {
        home: config.home.clone(),
        policy: PolicyInForce::new(config.policy_dirs.clone(), policy),
        classifier,
        writer,
        tree_heads,
        users: config.home.system.as_ref().map(|_| {
            let mut protected = config.home.protected_dirs();
            protected.extend(config.policy_dirs.iter().cloned());
            users::Users::new(
                config.policy_dirs.clone(),
                config.home.data_dir.clone(),
                protected,
            )
        }),
        shipper,
        reader: Mutex::new(reader),
        approvals: Approvals::new(settings.approvals.clone()),
        events,
        controls,
        live: LiveSettings::new(settings, config.approval_timeout),
        started_ms: crate::store::now_ms(),
        decisions: AtomicU64::new(0),
        uid: rustix::process::geteuid().as_raw(),
        stepup,
    }))
}

/// Run the daemon in the foreground until SIGINT/SIGTERM.
pub fn run(config: DaemonConfig) -> anyhow::Result<()> {
    config.home.ensure_dirs().with_context(|| {
        format!(
            "cannot create Airlock's directories under `{}`",
            config.home.data_dir.display()
        )
    })?;
    let lock_path = config.home.lock_file();
    let lock = File::create(&lock_path)
        .with_context(|| format!("cannot create `{}`", lock_path.display()))?;
    if lock.try_lock().is_err() {
        anyhow::bail!(
            "another Airlock daemon is already running for `{}` (lock `{}` is held); stop it first or set `AIRLOCK_HOME` to run a second one",
            config.home.runtime_dir.display(),
            lock_path.display()
        );
    }
    let settings = Settings::load(&config.home.settings_file())?;
    let daemon = build_with(&config, &settings)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("airlock-daemon")
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        // Desktop notifications run beside the server, fed by the event bus; they never hold up
        // a decision, and without a session bus they just log that they are off.
        // In system mode the daemon has no session bus of any user: each user's own
        // `airlock notify` (or desktop app) raises their notifications.
        if settings.notifications.enabled && config.home.system.is_none() {
            notifier::spawn_notifier(daemon.clone());
        }
        daemon.record_start().await;
        tree_heads::spawn(daemon.tree_heads.clone())
            .context("cannot start the checkpoint thread")?;
        shipper::spawn(daemon.clone(), tokio::runtime::Handle::current())
            .context("cannot start the retention thread")?;
        tokio::spawn(settings_watch::follow(daemon.clone(), settings.clone()));
        server::serve(daemon).await
    });
    // A target that hangs holds a blocking task: the runtime is not waited for past this.
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(lock);
    result
}
