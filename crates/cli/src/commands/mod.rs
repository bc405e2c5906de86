//! One file per subcommand.

pub mod demo;
pub mod import;
pub mod migrate;
pub mod plan;
pub mod roster;
pub mod serve;
pub mod simulate;

use anyhow::Context;
use vaxloop_store::{DatabaseUrl, Db};

/// Opens and migrates the database, with a message that names the URL (password hidden).
pub async fn open(url: &DatabaseUrl) -> anyhow::Result<Db> {
    let db = Db::connect(url)
        .await
        .with_context(|| format!("cannot open the database {}", url.redacted()))?;
    db.migrate()
        .await
        .with_context(|| format!("cannot migrate the database {}", url.redacted()))?;
    Ok(db)
}

/// Binds the listening address, turning "in use" into a message that says what to do.
pub async fn bind(addr: &str) -> anyhow::Result<tokio::net::TcpListener> {
    match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => Ok(l),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            anyhow::bail!(
                "the address {addr} is already in use: stop the other server or choose another with --addr HOST:PORT"
            )
        }
        Err(e) => Err(e).with_context(|| format!("cannot listen on {addr}")),
    }
}
