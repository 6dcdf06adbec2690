//! Receipts read back through the daemon: what the desktop app's history and, in system mode,
//! every user's `airlock log` and `airlock show` use (the database is the daemon's there). In
//! system mode each user reads only their own sessions' receipts; root and the admin group read
//! all.

use super::state::Daemon;
use super::who::Peer;
use crate::store::LogFilter;
use airlock_protocol::{ErrorCode, HistoryFilter, Response};

impl Daemon {
    pub fn history(&self, peer: &Peer, filter: HistoryFilter) -> Response {
        let mut filter = LogFilter::from_wire(filter);
        if self.users.is_some() && !self.is_admin(peer) {
            let Some(user) = peer.uid.and_then(crate::system::OsUser::by_uid) else {
                return forbidden();
            };
            filter.session_prefix = Some(format!("{}/", user.name));
        }
        match self.lock_reader().list(&filter) {
            Ok(items) => Response::History { items },
            Err(e) => internal(&e.to_string()),
        }
    }

    pub fn receipt_detail(&self, peer: &Peer, id: &str) -> Response {
        let detail = match self.lock_reader().get(id) {
            Ok(detail) => detail,
            Err(_) => return not_found(id),
        };
        // Another user's receipt is answered as if it did not exist.
        if !self.may_act_on(peer, detail.receipt.session.as_deref()) {
            return not_found(id);
        }
        Response::Receipt {
            detail: Box::new(detail),
        }
    }
}

fn not_found(id: &str) -> Response {
    Response::Error {
        code: ErrorCode::NotFound,
        message: format!("no receipt `{id}`"),
    }
}

fn forbidden() -> Response {
    Response::Error {
        code: ErrorCode::Forbidden,
        message: "the daemon cannot tell which user is asking".into(),
    }
}

fn internal(message: &str) -> Response {
    Response::Error {
        code: ErrorCode::Internal,
        message: format!("cannot read the receipts: {message}"),
    }
}
