//! Fresh, migrated databases for tests, on both backends.
//!
//! SQLite databases are files in a temporary directory. PostgreSQL databases are created on the
//! server named by `VAXLOOP_TEST_PG_URL` (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`) under a unique `vaxloop_t_…` name and dropped
//! when the [`TestDb`] is dropped. Without that variable PostgreSQL tests are skipped with a note —
//! except under `CI=true`, where a missing server fails the test: CI skips nothing.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;

use crate::crypto::{PiiCipher, PiiKey};
use crate::db::{DatabaseUrl, Db};

/// A migrated database that is removed when dropped, and a cipher with a fresh key.
pub struct TestDb {
    pub db: Db,
    pub cipher: PiiCipher,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl std::ops::Deref for TestDb {
    type Target = Db;
    fn deref(&self) -> &Db {
        &self.db
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut r = [0u8; 4];
    rand::fill(&mut r);
    format!("vaxloop_t_{}_{}_{}", std::process::id(), n, hex::encode(r))
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("test.db");
        let url: DatabaseUrl = format!("sqlite://{}", path.display())
            .parse()
            .expect("sqlite url");
        let db = Db::connect(&url).await.expect("open sqlite");
        db.migrate().await.expect("migrate sqlite");
        TestDb {
            db,
            cipher: PiiCipher::new(&PiiKey::generate()),
            url,
            _dir: Some(dir),
            pg: None,
        }
    }

    /// `None` (after printing why) when no PostgreSQL server is configured outside CI.
    pub async fn postgres() -> Option<TestDb> {
        let admin = match std::env::var("VAXLOOP_TEST_PG_URL") {
            Ok(url) if !url.is_empty() => url,
            _ => {
                if std::env::var("CI").is_ok_and(|v| v == "true") {
                    panic!(
                        "CI=true but VAXLOOP_TEST_PG_URL is not set: PostgreSQL tests may not be skipped"
                    );
                }
                eprintln!(
                    "note: VAXLOOP_TEST_PG_URL not set; skipping the PostgreSQL run of this test"
                );
                return None;
            }
        };
        let name = unique_name();
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("cannot reach the PostgreSQL test server: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        let url: DatabaseUrl = format!("{base}/{name}").parse().expect("postgres url");
        let db = Db::connect_with(&url, Some(8))
            .await
            .expect("open postgres");
        db.migrate().await.expect("migrate postgres");
        Some(TestDb {
            db,
            cipher: PiiCipher::new(&PiiKey::generate()),
            url,
            _dir: None,
            pg: Some((admin, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on; a short-lived thread
        // with its own runtime removes the database (FORCE ends the pool's open connections).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                        let _ = sqlx::query(sqlx::AssertSqlSafe(sql))
                            .execute(&mut conn)
                            .await;
                        let _ = conn.close().await;
                    }
                });
            }
        })
        .join();
    }
}

/// Writes each test twice, as `sqlite::NAME` and `postgres::NAME`, against a fresh [`TestDb`].
///
/// ```ignore
/// vaxloop_store::backend_tests! {
///     async fn counts_people(t) { assert_eq!(people::count(&t).await.unwrap(), 0); }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($t:ident) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports, reason = "each test uses a different part of the parent module")]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $t = $crate::testing::TestDb::sqlite().await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports, reason = "each test uses a different part of the parent module")]
            use super::*;
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some($t) = $crate::testing::TestDb::postgres().await else { return };
                    $body
                }
            )*
        }
    };
}
