//! tower-sessions' `SessionStore` on vaxloop's own data layer (the published sqlx store pins an
//! older sqlx). Sessions are keyed by a SHA-256 of their id, so a copy of the table cannot be
//! replayed as cookies.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};
use vaxloop_store::{Db, sessions};

#[derive(Debug, Clone)]
pub struct DbSessionStore {
    db: Db,
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }
}

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

fn backend(e: vaxloop_store::StoreError) -> Error {
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
        while !sessions::create(&self.db, &key(&record.id), &data, expiry_ms(record))
            .await
            .map_err(backend)?
        {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        sessions::save(
            &self.db,
            &key(&record.id),
            &encode(record)?,
            expiry_ms(record),
        )
        .await
        .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = vaxloop_store::now_ms();
        let Some(text) = sessions::load(&self.db, &key(id), now)
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let stored: Stored =
            serde_json::from_str(&text).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp_nanos(
            i128::from(stored.expires_ms) * 1_000_000,
        )
        .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data: stored.data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        sessions::delete(&self.db, &key(id)).await.map_err(backend)
    }
}
