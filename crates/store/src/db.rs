//! Choosing and opening the backend. This module and [`crate::migrate`] are the only places that
//! know SQLite and PostgreSQL apart.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyPool, ConnectOptions, Connection, Executor, Transaction};

use crate::error::{StoreError, StoreResult};

/// A write transaction begun by [`Db::begin_write`]; committed or rolled back by its holder (or
/// rolled back when dropped). It derefs to the connection, so queries run on `&mut *tx`.
///
/// On SQLite it also holds the process's write gate: SQLite has one writer at a time, and
/// writers that find the lock taken sleep in SQLite's busy handler and retry on a growing
/// back-off (up to 100 ms a try), which under load turns a queue of millisecond transactions
/// into waits of hundreds of milliseconds. Taking an in-process gate first makes them queue, in
/// order, and start the moment the writer before them is done; the busy timeout still guards
/// against other processes (the command line) writing the same file.
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _gate: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> StoreResult<()> {
        Ok(self.tx.commit().await?)
    }

    pub async fn rollback(self) -> StoreResult<()> {
        Ok(self.tx.rollback().await?)
    }
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;

    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.tx
    }
}

/// Which engine a [`Db`] runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database URL whose scheme has been checked: `sqlite://PATH` or `postgres://…`
/// (`postgresql://` accepted).
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    backend: Backend,
}

/// Printing a URL must not print its password.
impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DatabaseUrl({})", self.redacted())
    }
}

/// A URL that names neither engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported database URL '{0}': expected sqlite://PATH (for example sqlite://vaxloop.db) or postgres://USER@HOST:PORT/DATABASE"
)]
pub struct UnsupportedUrl(String);

impl FromStr for DatabaseUrl {
    type Err = UnsupportedUrl;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let backend = if s.starts_with("sqlite:") && s.len() > "sqlite:".len() {
            Backend::Sqlite
        } else if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            // Echo only the scheme: the rest may hold a password.
            let shown: String = match s.split_once(':') {
                Some((scheme, _)) => format!("{scheme}:…"),
                None => s.chars().take(40).collect(),
            };
            return Err(UnsupportedUrl(shown));
        };
        Ok(Self {
            url: s.to_string(),
            backend,
        })
    }
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn as_str(&self) -> &str {
        &self.url
    }

    /// The URL with any password replaced by `***`, fit for logs and messages.
    pub fn redacted(&self) -> String {
        match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let userinfo = &self.url[scheme + 3..at];
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        format!("{}{user}:***{}", &self.url[..scheme + 3], &self.url[at..])
                    }
                    None => self.url.clone(),
                }
            }
            _ => self.url.clone(),
        }
    }

    /// For SQLite, the file path the URL names (without query parameters).
    pub fn sqlite_path(&self) -> Option<&str> {
        if self.backend != Backend::Sqlite {
            return None;
        }
        let rest = self
            .url
            .trim_start_matches("sqlite:")
            .trim_start_matches("//");
        Some(rest.split('?').next().unwrap_or(rest))
    }

    /// The URL handed to the driver: SQLite files are created when missing.
    fn driver_url(&self) -> String {
        match self.backend {
            Backend::Sqlite if !self.url.contains("mode=") => {
                let sep = if self.url.contains('?') { '&' } else { '?' };
                format!("{}{sep}mode=rwc", self.url)
            }
            _ => self.url.clone(),
        }
    }
}

/// A connection pool on one backend.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    url: DatabaseUrl,
    /// SQLite's one-writer-at-a-time, taken in the process before the database's own lock (see
    /// [`WriteTx`]); shared by [`Db::sibling`] pools on the same file.
    write_gate: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    /// Opens a pool. SQLite connections run in WAL mode with `synchronous=FULL` (a commit that
    /// was acknowledged survives a power cut), foreign keys on and a busy timeout.
    pub async fn connect(url: &DatabaseUrl) -> StoreResult<Self> {
        Self::connect_with(url, None).await
    }

    /// As [`Db::connect`], with an explicit pool size.
    pub async fn connect_with(
        url: &DatabaseUrl,
        max_connections: Option<u32>,
    ) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(&url.driver_url())?
            .log_statements(tracing::log::LevelFilter::Trace)
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(2));
        let backend = url.backend();
        let max = max_connections.unwrap_or(match backend {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        });
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(15))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        for pragma in [
                            "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = FULL",
                            "PRAGMA foreign_keys = ON",
                            "PRAGMA busy_timeout = 15000",
                        ] {
                            conn.execute(pragma).await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        Ok(Self {
            pool,
            backend,
            url: url.clone(),
            write_gate: std::sync::Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// A pool of its own on the same database, of at most `max_connections`, for work that runs
    /// on a thread and runtime of its own (such as the booking writer, so that its round trips
    /// do not wait behind the requests' tasks). An in-memory SQLite database exists only in
    /// its own pool, so there this pool is shared instead.
    pub async fn sibling(&self, max_connections: u32) -> StoreResult<Db> {
        let url = self.url.url.as_str();
        if self.backend == Backend::Sqlite
            && (url.contains(":memory:") || url.contains("mode=memory"))
        {
            return Ok(self.clone());
        }
        let mut sibling = Self::connect_with(&self.url, Some(max_connections)).await?;
        sibling.write_gate = self.write_gate.clone();
        Ok(sibling)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for the store's own modules.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Begins a transaction that will write. On SQLite it starts IMMEDIATE, taking the write lock
    /// up front, so a transaction that reads and then writes can never fail half-way with a busy
    /// snapshot; on PostgreSQL it is a plain READ COMMITTED transaction whose writes use
    /// conditional updates and row locks.
    pub async fn begin_write(&self) -> StoreResult<WriteTx> {
        Ok(match self.backend {
            Backend::Sqlite => {
                let gate = self.write_gate.clone().lock_owned().await;
                WriteTx {
                    tx: self.pool.begin_with("BEGIN IMMEDIATE").await?,
                    _gate: Some(gate),
                }
            }
            Backend::Postgres => WriteTx {
                tx: self.pool.begin().await?,
                _gate: None,
            },
        })
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// After a bulk load (a demo town, a load test's fixture). On SQLite, moves the write-ahead
    /// log into the database file — otherwise the first small commit afterwards pays for
    /// checkpointing the whole load; on PostgreSQL, brings the planner's statistics up to date
    /// rather than waiting for autovacuum to notice the new rows.
    pub async fn after_bulk_load(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        match self.backend {
            Backend::Sqlite => conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?,
            Backend::Postgres => conn.execute("ANALYZE").await?,
        };
        Ok(())
    }

    /// Removes every table of the database at `url`, for `vaxloop demo --reset`: the SQLite file
    /// (with its WAL and shared-memory files) is deleted; on PostgreSQL the `public` schema is
    /// dropped and created empty.
    pub async fn destroy(url: &DatabaseUrl) -> StoreResult<()> {
        match url.backend() {
            Backend::Sqlite => {
                if let Some(path) = url.sqlite_path() {
                    for suffix in ["", "-wal", "-shm"] {
                        match std::fs::remove_file(format!("{path}{suffix}")) {
                            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                                return Err(StoreError::Database(sqlx::Error::Io(e)));
                            }
                            _ => {}
                        }
                    }
                }
            }
            Backend::Postgres => {
                let db = Self::connect_with(url, Some(1)).await?;
                sqlx::query("DROP SCHEMA public CASCADE")
                    .execute(db.pool())
                    .await?;
                sqlx::query("CREATE SCHEMA public")
                    .execute(db.pool())
                    .await?;
                db.close().await;
            }
        }
        Ok(())
    }
}

/// Marks a point inside a write transaction that [`rollback_to`] can return to, so that one of
/// several pieces of work sharing a commit can be undone alone. Same syntax on both backends.
pub async fn savepoint(conn: &mut sqlx::AnyConnection, name: &str) -> StoreResult<()> {
    conn.execute(sqlx::AssertSqlSafe(format!("SAVEPOINT {}", ident(name))))
        .await?;
    Ok(())
}

/// Undoes everything since [`savepoint`] `name` and forgets the mark.
pub async fn rollback_to(conn: &mut sqlx::AnyConnection, name: &str) -> StoreResult<()> {
    let name = ident(name);
    conn.execute(sqlx::AssertSqlSafe(format!("ROLLBACK TO SAVEPOINT {name}")))
        .await?;
    conn.execute(sqlx::AssertSqlSafe(format!("RELEASE SAVEPOINT {name}")))
        .await?;
    Ok(())
}

/// Keeps everything since [`savepoint`] `name` and forgets the mark.
pub async fn release(conn: &mut sqlx::AnyConnection, name: &str) -> StoreResult<()> {
    conn.execute(sqlx::AssertSqlSafe(format!(
        "RELEASE SAVEPOINT {}",
        ident(name)
    )))
    .await?;
    Ok(())
}

/// Savepoint names are the code's own; anything but letters, digits and `_` is dropped.
fn ident(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes_choose_the_backend() {
        let sqlite: DatabaseUrl = "sqlite://vaxloop.db".parse().expect("sqlite url");
        assert_eq!(sqlite.backend(), Backend::Sqlite);
        assert_eq!(sqlite.sqlite_path(), Some("vaxloop.db"));
        assert_eq!(sqlite.driver_url(), "sqlite://vaxloop.db?mode=rwc");
        let pg: DatabaseUrl = "postgres://u:secret@localhost:5432/x"
            .parse()
            .expect("pg url");
        assert_eq!(pg.backend(), Backend::Postgres);
        assert_eq!(pg.redacted(), "postgres://u:***@localhost:5432/x");
        assert!(!format!("{pg:?}").contains("secret"));
        let err = "mysql://root:pw@localhost/db"
            .parse::<DatabaseUrl>()
            .expect_err("refused");
        assert!(err.to_string().contains("expected sqlite://PATH"));
        assert!(!err.to_string().contains("pw"));
        assert!("vaxloop.db".parse::<DatabaseUrl>().is_err());
    }
}
