//! `vaxloop serve`: the web application on a configured database and key.

use anyhow::Context;
use vaxloop_store::PiiCipher;
use vaxloop_web::AppState;

use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop.db; env VAXLOOP_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080; env VAXLOOP_ADDR]
    #[arg(long)]
    addr: Option<String>,
}

pub async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url(args.database_url.as_deref(), "sqlite://vaxloop.db")?;
    let key = settings.pii_key()?.context(
        "no key for personal data is configured: set VAXLOOP_PII_KEY (128 hex characters; `vaxloop keygen` makes one) \
         or VAXLOOP_PII_KEY_FILE, or use `vaxloop demo`, which makes its own",
    )?;
    let addr = args
        .addr
        .or(settings.addr.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let listener = super::bind(&addr).await?;
    let db = super::open(&url).await?;
    let cipher = PiiCipher::new(&key);
    tracing::info!(database = %url.redacted(), backend = db.backend().as_str(), %addr, "serving");
    println!("vaxloop is serving on http://{addr}");
    if let Some(url) = &settings.webhook.url {
        let hook = vaxloop_app::outbox::Webhook::new(url, settings.webhook.token.clone())
            .map_err(anyhow::Error::msg)
            .context("VAXLOOP_WEBHOOK__URL")?;
        tokio::spawn(vaxloop_app::outbox::run(db.clone(), cipher.clone(), hook));
        tracing::info!("delivering the outbox to the configured webhook");
    } else {
        tracing::info!("no webhook configured: outbox messages wait in the database");
    }
    // No-shows after their slot and the grace period; deferred people back to the desk.
    tokio::spawn(vaxloop_app::site_day::run_sweeper(
        db.clone(),
        settings.web.0.timezone,
    ));
    let state = AppState::new(db, cipher, settings.web.0.clone());
    let sealed = vaxloop_app::org::seal_plain_contact_phones(&state.app).await?;
    if sealed > 0 {
        tracing::info!(
            units = sealed,
            "contact phones stored in plain text were sealed"
        );
    }
    let sealed = vaxloop_app::outbox::seal_plain_payloads(&state.app).await?;
    if sealed > 0 {
        tracing::info!(
            messages = sealed,
            "outbox messages queued in plain text were sealed"
        );
    }
    vaxloop_web::serve(listener, state)
        .await
        .context("server failed")
}
