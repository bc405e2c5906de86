//! Typed settings: defaults, then a TOML file, then `VAXLOOP_*` environment variables (nested keys
//! with `__`, e.g. `VAXLOOP_WEB__SECURE_COOKIES=true`).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};
use vaxloop_store::{DatabaseUrl, PiiKey};
use vaxloop_web::WebConfig;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// `sqlite://PATH` or `postgres://…` (env VAXLOOP_DATABASE_URL).
    pub database_url: Option<String>,
    /// Where `serve` listens (env VAXLOOP_ADDR).
    pub addr: Option<String>,
    /// The personal-data key as 128 hex characters (env VAXLOOP_PII_KEY).
    pub pii_key: Option<String>,
    /// Or a file holding it (env VAXLOOP_PII_KEY_FILE).
    pub pii_key_file: Option<PathBuf>,
    /// `text` (default) or `json` (env VAXLOOP_LOG_FORMAT).
    pub log_format: Option<String>,
    #[serde(skip_serializing)]
    pub web: WebSettings,
    #[serde(skip_serializing)]
    pub webhook: WebhookSettings,
}

/// Where `serve` delivers the outbox (SMS to unit contacts): none configured, nothing is sent
/// and the messages wait in the database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WebhookSettings {
    /// The gateway's URL, https:// (env VAXLOOP_WEBHOOK__URL).
    pub url: Option<String>,
    /// A bearer token sent with each message (env VAXLOOP_WEBHOOK__TOKEN).
    pub token: Option<String>,
}

/// The web settings as they appear in the file and environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct WebSettings(pub WebConfig);

impl Settings {
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        match file {
            Some(path) => {
                if !path.exists() {
                    bail!("settings file {} does not exist", path.display());
                }
                figment = figment.merge(Toml::file(path));
            }
            None => figment = figment.merge(Toml::file("vaxloop.toml")),
        }
        figment = figment.merge(Env::prefixed("VAXLOOP_").split("__"));
        figment.extract().context("invalid settings")
    }

    /// The database URL from flag, settings or default, checked before anything is touched.
    pub fn database_url(&self, flag: Option<&str>, default: &str) -> anyhow::Result<DatabaseUrl> {
        let url = flag.or(self.database_url.as_deref()).unwrap_or(default);
        url.parse::<DatabaseUrl>().map_err(anyhow::Error::from)
    }

    /// The configured personal-data key, if any.
    pub fn pii_key(&self) -> anyhow::Result<Option<PiiKey>> {
        if let Some(hex) = &self.pii_key {
            return Ok(Some(PiiKey::from_hex(hex).context("VAXLOOP_PII_KEY")?));
        }
        if let Some(path) = &self.pii_key_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the key file {}", path.display()))?;
            return Ok(Some(
                PiiKey::from_hex(&text).with_context(|| format!("key file {}", path.display()))?,
            ));
        }
        Ok(None)
    }
}

/// Logs to stderr; `RUST_LOG` filters (default `info`). Log lines carry ids and codes, never
/// personal data.
pub fn init_logging(settings: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if settings.log_format.as_deref() == Some("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(toml: &str) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("vaxloop.toml");
        std::fs::write(&path, toml)?;
        Settings::load(Some(&path))
    }

    #[test]
    fn rate_limit_budgets_come_from_the_file_and_default_otherwise() {
        let s = load("[web.limits]\nlogin_per_client = { per_minute = 60, burst = 200 }\n")
            .expect("settings");
        let limits = &s.web.0.limits;
        assert_eq!(
            (
                limits.login_per_client.per_minute,
                limits.login_per_client.burst
            ),
            (60, 200)
        );
        let defaults = vaxloop_web::limits::Budgets::default();
        assert_eq!(limits.bad_token_per_client, defaults.bad_token_per_client);
        assert_ne!(limits.login_per_client, defaults.login_per_client);
    }

    #[test]
    fn a_budget_without_both_numbers_is_refused_by_name() {
        let e = load("[web.limits]\nlogin_per_client = { burst = 200 }\n").expect_err("refused");
        let text = format!("{e:#}");
        assert!(text.contains("per_minute"), "{text}");
    }
}
