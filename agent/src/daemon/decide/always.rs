//! Standing approvals: an `always` turned into a rule in the user's own policy, previewed first
//! and refused where a guarded action would lose its gate.

use super::*;

impl Daemon {
    /// Refuse an `always` approval, and record the refusal in the receipt chain: someone tried
    /// to turn one approval into a standing allow that policy does not permit.
    pub(crate) async fn refuse_always(
        &self,
        id: &str,
        refused: &scopes::AlwaysRefused,
        actor: &str,
    ) -> Response {
        let message = format!("`{id}` cannot be always allowed: {refused}");
        let input = json!({
            "action": "approve",
            "target": id,
            "scope": ApprovalScope::Always,
            "guarded_classes": refused.classes(),
        });
        if let Err(e) = self
            .record_control("approve", input, Outcome::Denied, actor, &message)
            .await
        {
            tracing::error!(error = %e, "cannot record a refused `always` approval");
        }
        Response::Error {
            code: ErrorCode::Forbidden,
            message,
        }
    }

    /// What `approve --scope always` would add for a pending request, without adding it.
    pub async fn preview_always(&self, id: &str) -> Response {
        let found = self.approvals.lock_pending().get(id).map(|p| {
            (
                p.request.clone(),
                p.classification.clone(),
                p.evaluation.clone(),
            )
        });
        let Some((request, classification, evaluation)) = found else {
            return not_found(id);
        };
        let held = Held {
            request: &request,
            classification: &classification,
            evaluation: &evaluation,
        };
        let policy = match self.judge_of(request.session.as_deref()).await {
            Ok(judge) => judge.policy,
            Err(why) => return forbidden(&why),
        };
        let rules = scopes::always(&held, &policy, self.always_settings())
            .map_err(|e| e.to_string())
            .and_then(|_| {
                amend::entries_for(&request, &classification, &evaluation, &always_note(id))
                    .map_err(|e| e.to_string())
            })
            .and_then(amend::render);
        match rules {
            Ok(toml) => Response::RulePreview {
                toml,
                file: match self.always_dir(request.session.as_deref()) {
                    Ok(dir) => dir.join(amend::ALWAYS_FILE).display().to_string(),
                    Err(why) => return forbidden(&why),
                },
            },
            Err(message) => Response::Error {
                code: ErrorCode::Forbidden,
                message: format!("`{id}` cannot be always allowed: {message}"),
            },
        }
    }

    /// Where "always" approvals of a session's user are kept: the user's policy directory in
    /// user mode; the daemon's own state in system mode (never a file the user can edit).
    pub(crate) fn always_dir(&self, session: Option<&str>) -> Result<std::path::PathBuf, String> {
        match &self.users {
            None => Ok(self.home.user_policy_dir()),
            Some(users) => {
                let view = users.view_of_session(session.unwrap_or_default())?;
                Ok(users.always_dir(view.user.uid))
            }
        }
    }

    pub(crate) async fn amend_policy(
        &self,
        request: &ActionRequest,
        classification: &Classification,
        evaluation: &Evaluation,
        id: &str,
    ) -> Result<String, String> {
        let _guard = self.policy.lock_changes().await;
        let note = always_note(id);
        let rules = amend::entries_for(request, classification, evaluation, &note)
            .map_err(|e| e.to_string())?;
        let dir = self.always_dir(request.session.as_deref())?;
        let (path, added, previous) = amend::append(&dir, rules).map_err(|e| e.to_string())?;
        if added.is_empty() {
            return Ok(format!("the rule was already in `{}`", path.display()));
        }
        if let Some(users) = &self.users {
            // The user's view takes it in now; the machine's policy is not theirs to change.
            let view = users.view_of_session(request.session.as_deref().unwrap_or_default())?;
            users.invalidate(&view);
            let judge = self.judge_of(request.session.as_deref()).await?;
            if !judge.policy.files().iter().any(|f| f.starts_with(&dir)) {
                let _ = amend::restore(&path, previous);
                return Err(
                    "the new rule did not load, so it was not added (see the `policy load` record)"
                        .into(),
                );
            }
            return Ok(format!(
                "added rule `{}` to `{}`",
                added.join("`, `"),
                path.display()
            ));
        }
        if let Err(err) = self
            .reload_policy(&format!("`always` approval of {id}"))
            .await
        {
            let _ = amend::restore(&path, previous);
            return Err(format!(
                "the new rule did not load, so it was not added: {err}"
            ));
        }
        Ok(format!(
            "added rule `{}` to `{}`",
            added.join("`, `"),
            path.display()
        ))
    }
}
