//! `policy_check`: the policy files that apply to the one asking, as the settings view shows
//! them. The daemon answers so the window needs no policy engine (nor classifier) of its own,
//! and so what it shows is what this daemon loads.

use super::state::Daemon;
use super::who::Peer;
use airlock_protocol::{ErrorCode, PolicyFileCheck, Response};

impl Daemon {
    pub async fn policy_check(&self, peer: &Peer) -> Response {
        // Loading runs every rule's examples through the classifier: file and CPU work, off
        // the async workers.
        let mut items: Vec<PolicyFileCheck> = super::decide::off_the_reactor(|| {
            crate::policy::check_each(self.policy.dirs())
                .into_iter()
                .map(|(path, result)| PolicyFileCheck {
                    path: path.display().to_string(),
                    ok: result.is_ok(),
                    message: result.unwrap_or_else(|e| e),
                })
                .collect()
        });
        let Some(users) = &self.users else {
            return Response::PolicyFiles { items };
        };
        // System mode: the caller's own directory, loaded (and a refusal chained) the way
        // their next request would load it.
        let Some(user) = peer.uid.and_then(crate::system::OsUser::by_uid) else {
            return Response::Error {
                code: ErrorCode::Forbidden,
                message: "the daemon cannot tell which user is asking".into(),
            };
        };
        let session = super::users::session_of(&user.name, None);
        if let Err(message) = self.judge_of(Some(&session)).await {
            return Response::Error {
                code: ErrorCode::Internal,
                message: format!("cannot load the policy of user `{}`: {message}", user.name),
            };
        }
        let view = match users.view_of_session(&session) {
            Ok(view) => view,
            Err(message) => {
                return Response::Error {
                    code: ErrorCode::Internal,
                    message,
                };
            }
        };
        let refused = users.refusal(&view);
        items.push(PolicyFileCheck {
            path: user.policy_dir().display().to_string(),
            ok: refused.is_none(),
            message: refused.unwrap_or_else(|| {
                "your own policy: in force, since it only tightens the machine's".to_string()
            }),
        });
        Response::PolicyFiles { items }
    }
}
