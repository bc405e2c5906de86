//! tower-sessions' `SessionStore` on vaxloop's own data layer (the published sqlx store pins an
//! older sqlx). Sessions are keyed by a SHA-256 of their id, so a copy of the table cannot be
//! replayed as cookies.
//!
//! Each session row also names its login, so loading a session reads the login's row in the
//! same round trip; the login layer asks for that user a moment later and takes it from
//! [`SeenUsers`] instead of reading it again.
//!
//! A session read is kept for [`FRESH`], so a phone polling a page does not read its session
//! from the database on every request. Saving or deleting a session on this server forgets
//! the kept copy at once; on another server of the same database, a logout (or a deactivated
//! login) takes effect within [`FRESH`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use vaxloop_app::App;
use vaxloop_app::sessions::{self, User};

/// The session's key for its CSRF token (see `crate::csrf`).
pub(crate) const CSRF_KEY: &str = "csrf";

/// How long a session, and the login read with it, stand for reading them again.
pub const FRESH: Duration = Duration::from_secs(1);

/// Logins read along with their sessions, for the login layer. An entry is used only while it
/// is younger than [`FRESH`], so a change to a login (deactivated, new password) counts within
/// that.
#[derive(Clone)]
pub struct SeenUsers(Arc<quick_cache::sync::Cache<i64, (Instant, User)>>);

impl SeenUsers {
    pub fn new() -> Self {
        Self(Arc::new(quick_cache::sync::Cache::new(100_000)))
    }

    fn put(&self, at: Instant, user: User) {
        self.0.insert(user.id, (at, user));
    }

    /// The login, if it was read with a session within [`FRESH`].
    pub fn fresh(&self, id: i64) -> Option<User> {
        self.0
            .get(&id)
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, user)| user)
    }
}

impl Default for SeenUsers {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SeenUsers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SeenUsers({})", self.0.len())
    }
}

/// A session as read: when, the record, and its login.
type Kept = (Instant, Record, Option<User>);

/// What a waiting load is answered with.
type Answer = std::result::Result<Option<sessions::WithUser>, String>;

/// Session reads that arrive together go to the database together: each load queues its key,
/// and a reader task takes whatever is queued (up to [`sessions::LOAD_CHUNK`]) into one
/// statement, with up to [`READERS`] statements in flight. An idle server reads a lone key at
/// once, as before; under a surge of sign-ins a round trip serves dozens.
#[derive(Clone)]
struct Reads {
    queue: tokio::sync::mpsc::UnboundedSender<(String, tokio::sync::oneshot::Sender<Answer>)>,
}

/// Statements reading sessions at once.
const READERS: usize = 4;

impl Reads {
    /// Starts the reader on the current runtime.
    fn start(app: App) -> Self {
        let (queue, mut waiting) =
            tokio::sync::mpsc::unbounded_channel::<(String, tokio::sync::oneshot::Sender<Answer>)>(
            );
        let slots = Arc::new(tokio::sync::Semaphore::new(READERS));
        tokio::spawn(async move {
            loop {
                let Ok(slot) = slots.clone().acquire_owned().await else {
                    return;
                };
                let Some(first) = waiting.recv().await else {
                    return;
                };
                let mut batch = vec![first];
                while batch.len() < sessions::LOAD_CHUNK {
                    match waiting.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let app = app.clone();
                tokio::spawn(async move {
                    let keys: Vec<&str> = batch.iter().map(|(k, _)| k.as_str()).collect();
                    let read = sessions::load_many(&app, &keys, vaxloop_app::now_ms()).await;
                    match read {
                        Ok(rows) => {
                            let found: HashMap<String, sessions::WithUser> =
                                rows.into_iter().collect();
                            // A key asked for twice in one batch gets the row both times.
                            for (key, answer) in batch {
                                let _ = answer.send(Ok(found.get(&key).cloned()));
                            }
                        }
                        Err(e) => {
                            for (_, answer) in batch {
                                let _ = answer.send(Err(e.to_string()));
                            }
                        }
                    }
                    drop(slot);
                });
            }
        });
        Self { queue }
    }

    /// The session under `key` with its login, read with whatever else is waiting.
    async fn load(&self, app: &App, key: &str, now: i64) -> Result<Option<sessions::WithUser>> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        if self.queue.send((key.to_string(), answer)).is_ok()
            && let Ok(read) = answered.await
        {
            // The batch was read at its own `now`, a moment after this one: no later than
            // asked, so an expired session is never answered.
            return read.map_err(Error::Backend);
        }
        // The reader's runtime is gone (a server moved to another runtime): read alone.
        sessions::load(app, key, now).await.map_err(backend)
    }
}

#[derive(Clone)]
pub struct DbSessionStore {
    app: App,
    seen: SeenUsers,
    /// Sessions read within [`FRESH`], by key, with the login read with them.
    kept: Arc<quick_cache::sync::Cache<String, Kept>>,
    /// The batched reader, started on the first load (a runtime is running then).
    reads: Arc<std::sync::OnceLock<Reads>>,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbSessionStore({} kept)", self.kept.len())
    }
}

impl DbSessionStore {
    pub fn new(app: App, seen: SeenUsers) -> Self {
        Self {
            app,
            seen,
            kept: Arc::new(quick_cache::sync::Cache::new(100_000)),
            reads: Arc::new(std::sync::OnceLock::new()),
        }
    }
}

/// The login a session record belongs to, as axum-login keeps it.
fn user_of(data: &HashMap<String, serde_json::Value>) -> Option<i64> {
    data.get(AUTH_KEY)?.get("user_id")?.as_i64()
}

/// Where axum-login keeps its data in the session.
const AUTH_KEY: &str = "axum-login.data";

/// What is stored: the data and expiry, not the id.
#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    data: HashMap<String, serde_json::Value>,
    expires_ms: i64,
}

fn key(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn expiry_ms(record: &Record) -> i64 {
    (record.expiry_date.unix_timestamp_nanos() / 1_000_000) as i64
}

fn backend(e: vaxloop_app::Error) -> Error {
    Error::Backend(e.to_string())
}

fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(&Stored {
        data: record.data.clone(),
        expires_ms: expiry_ms(record),
    })
    .map_err(|e| Error::Encode(e.to_string()))
}

#[async_trait::async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = encode(record)?;
        // A collision among 128-bit random ids is all but impossible; draw again if it happens.
        let user = user_of(&record.data);
        self.kept.remove(&key(&record.id));
        while !sessions::create(&self.app, &key(&record.id), &data, expiry_ms(record), user)
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.kept.remove(&key(&record.id));
        sessions::save(
            &self.app,
            &key(&record.id),
            &encode(record)?,
            expiry_ms(record),
            user_of(&record.data),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = vaxloop_app::now_ms();
        let k = key(id);
        if let Some((at, record, user)) = self.kept.get(&k)
            && at.elapsed() < FRESH
            && expiry_ms(&record) > now
        {
            if let Some(user) = user {
                self.seen.put(at, user);
            }
            return Ok(Some(record));
        }
        let at = Instant::now();
        let reads = self.reads.get_or_init(|| Reads::start(self.app.clone()));
        let Some((text, user)) = reads.load(&self.app, &k, now).await? else {
            return Ok(None);
        };
        if let Some(user) = &user {
            self.seen.put(at, user.clone());
        }
        let stored: Stored =
            serde_json::from_str(&text).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(stored.expires_ms) * 1_000_000,
        )
        .map_err(|e| Error::Decode(e.to_string()))?;
        let record = Record {
            id: *id,
            data: stored.data,
            expiry_date,
        };
        self.kept.insert(k, (at, record.clone(), user));
        Ok(Some(record))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.kept.remove(&key(id));
        sessions::delete(&self.app, &key(id)).await.map_err(backend)
    }
}

/// Signed-in sessions written straight into the store, for load tests that need thousands of
/// residents logged in without as many Argon2 verifications. Not reachable over HTTP; built
/// only with the `fixtures` feature.
#[cfg(feature = "fixtures")]
pub mod fixtures {
    use std::collections::HashMap;

    use tower_sessions::session::{Id, Record};
    use vaxloop_app::{App, sessions};

    /// One signed-in session: the `Cookie` header value and the CSRF token its POSTs carry.
    #[derive(Debug, Clone)]
    pub struct SignedIn {
        pub cookie: String,
        pub csrf: String,
    }

    /// Signs in each `(user id, password hash)` for `minutes`, as the login form would.
    pub async fn sign_in(
        app: &App,
        users: &[(i64, String)],
        minutes: i64,
    ) -> anyhow::Result<Vec<SignedIn>> {
        let expiry = time::OffsetDateTime::now_utc() + time::Duration::minutes(minutes);
        let mut rows = Vec::with_capacity(users.len());
        let mut out = Vec::with_capacity(users.len());
        for (user_id, hash) in users {
            let mut csrf = [0u8; 16];
            rand::fill(&mut csrf);
            let csrf = hex::encode(csrf);
            let mut data = HashMap::new();
            data.insert(
                super::AUTH_KEY.to_string(),
                serde_json::json!({ "user_id": user_id, "auth_hash": hash.as_bytes() }),
            );
            data.insert(super::CSRF_KEY.into(), csrf.clone().into());
            let record = Record {
                id: Id::default(),
                data,
                expiry_date: expiry,
            };
            let text = super::encode(&record)?;
            rows.push((
                super::key(&record.id),
                text,
                super::expiry_ms(&record),
                *user_id,
            ));
            out.push(SignedIn {
                cookie: format!("vaxloop_session={}", record.id),
                csrf,
            });
        }
        sessions::create_many(app, &rows).await?;
        Ok(out)
    }
}
