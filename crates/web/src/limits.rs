//! Rate limits for the public pages, which anyone with a unit's link can reach: per client
//! address and per unit, so neither one phone nor a leaked link can flood a unit's list (OWASP
//! OAT-021). Counters live in memory (GCRA, the `governor` crate); behind several nodes each node
//! counts its own share.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The limiters the application holds.
pub struct Limiters {
    /// Registrations from one client address: a family registering its elders on one phone
    /// fits; a script does not.
    pub register_per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Registrations into one unit: a firm's morning meeting scanning at once fits.
    pub register_per_unit: DefaultKeyedRateLimiter<i64>,
    /// Login attempts from one client address: a site's whole shift logging in behind one
    /// mobile network's address fits (60 at once, then 30 a minute); spraying PINs over ID
    /// numbers does not. Behind a reverse proxy, `trust_forwarded_for` must be on, or every
    /// client shares the proxy's budget.
    pub login_per_client: DefaultKeyedRateLimiter<IpAddr>,
    /// Login attempts from everyone at once: the town's staff at the start of a day fit; a
    /// botnet's flood is held to what the cores can hash.
    pub login_everyone: DefaultDirectRateLimiter,
    /// Requests with one API token: a dashboard polling every few seconds and a gateway posting
    /// a morning's delivery reports fit (600 a minute, bursts of 300).
    pub api_per_token: DefaultKeyedRateLimiter<i64>,
    /// Tokens this server did not issue (or revoked ones) from one client address: guessing is
    /// held to the login form's pace.
    pub bad_token_per_client: DefaultKeyedRateLimiter<IpAddr>,
}

/// Whole seconds (at least one) until a refused request may be tried again.
fn wait(not_until: governor::NotUntil<<DefaultClock as Clock>::Instant>) -> u64 {
    not_until
        .wait_time_from(DefaultClock::default().now())
        .as_secs()
        .max(1)
}

/// A budget: so many a minute, after a burst of so many at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub struct Budget {
    pub per_minute: u32,
    pub burst: u32,
}

const fn budget(per_minute: u32, burst: u32) -> Budget {
    Budget { per_minute, burst }
}

impl Budget {
    fn quota(self) -> Quota {
        let rate = NonZeroU32::new(self.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::per_minute(rate).allow_burst(burst)
    }
}

/// The budgets, as the configuration sets them: `[web.limits]`, both numbers of a budget, say
/// `login_per_client = { per_minute = 60, burst = 200 }` for a site whose whole shift logs in
/// behind one address. Each [`Limiters`] field says what its default fits.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct Budgets {
    pub register_per_client: Budget,
    pub register_per_unit: Budget,
    pub login_per_client: Budget,
    pub login_everyone: Budget,
    pub api_per_token: Budget,
    pub bad_token_per_client: Budget,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            register_per_client: budget(6, 10),
            register_per_unit: budget(120, 400),
            login_per_client: budget(30, 60),
            login_everyone: budget(600, 200),
            api_per_token: budget(600, 300),
            bad_token_per_client: budget(30, 60),
        }
    }
}

impl Limiters {
    pub fn new() -> Self {
        Self::with(&Budgets::default())
    }

    pub fn with(b: &Budgets) -> Self {
        Self {
            register_per_client: RateLimiter::keyed(b.register_per_client.quota()),
            register_per_unit: RateLimiter::keyed(b.register_per_unit.quota()),
            login_per_client: RateLimiter::keyed(b.login_per_client.quota()),
            login_everyone: RateLimiter::direct(b.login_everyone.quota()),
            api_per_token: RateLimiter::keyed(b.api_per_token.quota()),
            bad_token_per_client: RateLimiter::keyed(b.bad_token_per_client.quota()),
        }
    }

    /// Whether `client` may try a login now; otherwise how many seconds until it may.
    pub fn login(&self, client: IpAddr) -> Result<(), u64> {
        self.login_per_client.check_key(&client).map_err(wait)?;
        self.login_everyone.check().map_err(wait)
    }

    /// Whether the token `id` may make a request now; otherwise how many seconds until it may.
    pub fn api_token(&self, id: i64) -> Result<(), u64> {
        self.api_per_token.check_key(&id).map_err(wait)
    }

    /// Counts a token that did not open anything from `client`; `Err` (seconds to wait) once
    /// the client has tried too many.
    pub fn bad_token(&self, client: IpAddr) -> Result<(), u64> {
        self.bad_token_per_client.check_key(&client).map_err(wait)
    }

    /// Forgets keys that have been quiet, so memory stays bounded.
    pub fn sweep(&self) {
        self.register_per_client.retain_recent();
        self.register_per_unit.retain_recent();
        self.login_per_client.retain_recent();
        self.api_per_token.retain_recent();
        self.bad_token_per_client.retain_recent();
    }
}

impl Default for Limiters {
    fn default() -> Self {
        Self::new()
    }
}

/// The client's address: from `X-Forwarded-For` when the configuration trusts a proxy to set
/// it, otherwise as the server saw the connection (unspecified when the app runs without a
/// socket, as in tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// Whether a proxy in front sets `X-Forwarded-For` (the configuration's `trust_forwarded_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustForwarded(pub bool);

impl<S> FromRequestParts<S> for ClientAddr
where
    S: Send + Sync,
    TrustForwarded: FromRef<S>,
{
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if TrustForwarded::from_ref(state).0 {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                // The right-most entry is the one our proxy added: what it saw. Entries to its
                // left came from the client and prove nothing.
                .and_then(|v| v.rsplit(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(ClientAddr(ip));
            }
        }
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        Ok(ClientAddr(ip))
    }
}
