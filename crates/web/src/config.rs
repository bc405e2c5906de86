//! The web layer's settings, filled by the binary from defaults, a TOML file and `VAXLOOP_*`
//! environment variables, and passed in explicitly.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct WebConfig {
    /// Mark cookies `Secure` (behind TLS). Off for the demo on plain http://127.0.0.1.
    pub secure_cookies: bool,
    /// Idle minutes before a session ends.
    pub session_minutes: i64,
    /// The campaign's time zone, for "today" and displayed times.
    pub timezone: chrono_tz::Tz,
    /// Largest request body accepted, in bytes (raised to fit an upload's limit when lower).
    pub body_limit_bytes: usize,
    /// Largest spreadsheet a roster or units import accepts, in bytes: announced on the form,
    /// enforced as the upload streams in, and again by the reader.
    pub upload_limit_bytes: usize,
    /// The address people reach the site at (`https://vaxloop.example.gov.cn`), printed in
    /// registration QR codes and posters. Without it, the request's `Host` is used.
    pub public_url: Option<String>,
    /// Take the client's address from the right-most `X-Forwarded-For` entry (the one the reverse
    /// proxy in front appended), for rate limits. Off unless such a proxy is in front.
    pub trust_forwarded_for: bool,
    /// Serve `/metrics` on this address only (say `127.0.0.1:9100`, reached by the monitoring
    /// system inside the network), not on the public one.
    pub metrics_addr: Option<String>,
    /// The rate limits' budgets (see `crate::limits`).
    pub limits: crate::limits::Budgets,
    /// How many minutes before their slot a person may be checked in without the desk choosing
    /// to let them in early; unset (`early_check_in_minutes = -1` in a file) for however early.
    pub early_check_in_minutes: Option<i64>,
    /// Seconds between refreshes of the lists that update themselves (observation, the board).
    pub refresh_seconds: u32,
    /// Seconds the town's counts (the overview, the funnel, the groups' progress, the people
    /// stuck) are kept before they are counted again in the background; 0 counts them on every
    /// read (see `vaxloop_app::kept`).
    pub count_seconds: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            secure_cookies: false,
            session_minutes: 8 * 60,
            timezone: chrono_tz::Asia::Shanghai,
            body_limit_bytes: 25 * 1024 * 1024,
            upload_limit_bytes: 20 * 1024 * 1024,
            public_url: None,
            trust_forwarded_for: false,
            metrics_addr: None,
            limits: Default::default(),
            early_check_in_minutes: Some(vaxloop_app::site_ops::EARLY_MINUTES),
            refresh_seconds: 15,
            count_seconds: 30,
        }
    }
}

impl WebConfig {
    /// The early check-in limit, a negative setting meaning none.
    pub fn early_check_in(&self) -> Option<i64> {
        self.early_check_in_minutes.filter(|m| *m >= 0)
    }

    /// The server's overall body limit: the configured one, or enough for an upload at its limit
    /// with the form around it.
    pub fn body_limit(&self) -> usize {
        self.body_limit_bytes
            .max(self.upload_limit_bytes.saturating_add(1024 * 1024))
    }

    /// Today in the campaign's time zone.
    pub fn today(&self) -> chrono::NaiveDate {
        chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive()
    }

    /// A stored instant (milliseconds since the epoch) as local `YYYY-MM-DD HH:MM`.
    pub fn local_time(&self, ms: i64) -> String {
        self.local_format(ms, "%Y-%m-%d %H:%M")
    }

    /// A stored instant as the local clock time, `HH:MM`.
    pub fn local_hhmm(&self, ms: i64) -> String {
        self.local_format(ms, "%H:%M")
    }

    /// A stored instant as the local clock time, `HH:MM:SS`.
    pub fn local_clock(&self, ms: i64) -> String {
        self.local_format(ms, "%H:%M:%S")
    }

    fn local_format(&self, ms: i64, format: &str) -> String {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.with_timezone(&self.timezone).format(format).to_string())
            .unwrap_or_default()
    }
}
