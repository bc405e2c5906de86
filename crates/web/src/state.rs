//! What every handler can reach: the application, the web settings, the rate limiters and the
//! logins read with their sessions.

use std::sync::Arc;

use axum::extract::FromRef;
use vaxloop_app::{App, Db, PiiCipher};

use crate::config::WebConfig;
use crate::limits::{self, TrustForwarded};
use crate::session_store;

/// What every handler can reach: cheap to clone (every request does), one shared [`Shared`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The state behind an [`AppState`].
pub struct Shared {
    /// The application: every use case runs against it.
    pub app: App,
    pub config: Arc<WebConfig>,
    pub limiters: Arc<limits::Limiters>,
    /// Logins read along with their sessions, for the login layer of the same request.
    pub seen_users: session_store::SeenUsers,
}

impl AppState {
    pub fn new(db: Db, cipher: PiiCipher, config: WebConfig) -> Self {
        let limiters = Arc::new(limits::Limiters::with(&config.limits));
        Self(Arc::new(Shared {
            app: App::new(db, cipher, config.timezone)
                .with_early_check_in(config.early_check_in())
                .with_count_age(std::time::Duration::from_secs(config.count_seconds.into())),
            config: Arc::new(config),
            limiters,
            seen_users: session_store::SeenUsers::new(),
        }))
    }
}

/// Whether the client's address may be taken from `X-Forwarded-For` (see [`limits::ClientAddr`]).
impl FromRef<AppState> for TrustForwarded {
    fn from_ref(state: &AppState) -> Self {
        TrustForwarded(state.config.trust_forwarded_for)
    }
}
