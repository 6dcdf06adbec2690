//! Budgets and circuit breakers: how many requests of some classes a window allows, and what
//! trips the breaker.

use super::*;

/// A compiled budget.
#[derive(Debug, Clone)]
pub struct Budget {
    pub id: String,
    pub justification: String,
    pub classes: Vec<ActionClass>,
    pub max: u32,
    pub window: std::time::Duration,
    pub per_session: bool,
}

/// A compiled circuit breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    pub id: String,
    pub justification: String,
    pub trigger: BreakerTrigger,
}

impl Policy {
    /// The longest window any budget or breaker counts over: how far back the counters reach,
    /// and so how much history a restarted daemon reads to restore them.
    pub fn counter_window(&self) -> std::time::Duration {
        let budgets = self.budgets.iter().map(|b| b.window);
        let breakers = self.breakers.iter().filter_map(|b| match &b.trigger {
            BreakerTrigger::Denials { window, .. } | BreakerTrigger::Sequence { window, .. } => {
                Some(*window)
            }
            BreakerTrigger::Tags(_) => None,
        });
        budgets.chain(breakers).max().unwrap_or_default()
    }
}

#[derive(Debug, Clone)]
pub enum BreakerTrigger {
    Denials {
        count: u32,
        window: std::time::Duration,
    },
    Sequence {
        first: Vec<ActionClass>,
        then: Vec<ActionClass>,
        window: std::time::Duration,
    },
    Tags(Vec<String>),
}

pub(crate) fn classes_of(
    patterns: &[String],
    path: &Path,
    id: &str,
) -> Result<Vec<ActionClass>, PolicyError> {
    let mut out = Vec::new();
    for pattern in patterns {
        let expanded = expand_class_pattern(pattern);
        if expanded.is_empty() {
            return Err(PolicyError::Rule {
                path: path.to_path_buf(),
                rule: id.to_string(),
                source: RuleError::UnknownClass(pattern.clone()),
            });
        }
        out.extend(expanded);
    }
    Ok(out)
}

pub(crate) fn window_of(
    text: &str,
    path: &Path,
    id: &str,
) -> Result<std::time::Duration, PolicyError> {
    file::parse_window(text).ok_or_else(|| PolicyError::Parse {
        path: path.to_path_buf(),
        message: format!(
            "`{id}`: window `{text}` is not a duration like `30s`, `10m`, `1h` or `1d`"
        ),
    })
}

impl Budget {
    pub(crate) fn compile(spec: file::BudgetSpec, path: &Path) -> Result<Self, PolicyError> {
        if spec.max == 0 {
            return Err(PolicyError::Parse {
                path: path.to_path_buf(),
                message: format!(
                    "budget `{}`: `max` must be at least 1 (use a deny rule to forbid)",
                    spec.id
                ),
            });
        }
        Ok(Self {
            classes: classes_of(&spec.classes, path, &spec.id)?,
            window: window_of(&spec.window, path, &spec.id)?,
            per_session: spec.scope == file::BudgetScope::Session,
            max: spec.max,
            id: spec.id,
            justification: spec.justification,
        })
    }
}

impl Breaker {
    pub(crate) fn compile(spec: file::BreakerSpec, path: &Path) -> Result<Self, PolicyError> {
        Ok(match spec {
            file::BreakerSpec::Denials {
                id,
                justification,
                count,
                window,
            } => Self {
                trigger: BreakerTrigger::Denials {
                    count: count.max(1),
                    window: window_of(&window, path, &id)?,
                },
                id,
                justification,
            },
            file::BreakerSpec::Sequence {
                id,
                justification,
                first,
                then,
                window,
            } => Self {
                trigger: BreakerTrigger::Sequence {
                    first: classes_of(&first, path, &id)?,
                    then: classes_of(&then, path, &id)?,
                    window: window_of(&window, path, &id)?,
                },
                id,
                justification,
            },
            file::BreakerSpec::Tags {
                id,
                justification,
                tags,
            } => Self {
                trigger: BreakerTrigger::Tags(tags),
                id,
                justification,
            },
        })
    }
}
