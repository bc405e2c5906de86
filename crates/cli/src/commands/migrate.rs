//! `vaxloop migrate`: bring the schema up to date and say which version it is at.

use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop.db; env VAXLOOP_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
}

pub async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url(args.database_url.as_deref(), "sqlite://vaxloop.db")?;
    let db = super::open(&url).await?;
    println!(
        "database {} is at schema version {}",
        url.redacted(),
        vaxloop_store::Db::schema_version()
    );
    db.close().await;
    Ok(())
}
