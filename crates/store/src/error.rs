//! The store's error type: few variants, each meaning something to the caller.

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or CHECK constraint refused the write; `constraint` names it where the
    /// engine reports a name, so callers can turn it into a field message.
    #[error("refused by constraint {constraint}")]
    Constraint { constraint: String },
    /// Encrypted data could not be opened with the configured key.
    #[error("encrypted field could not be decrypted: wrong key or corrupted data")]
    Crypto,
    /// A migration failed or the applied migrations do not match this build.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Anything else from the database driver, including connection failures.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// A piece of work shared a transaction with others (group commit) and that transaction
    /// failed; the message is the driver's.
    #[error("group commit failed: {0}")]
    Commit(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::RowNotFound => StoreError::NotFound("row"),
            sqlx::Error::Database(db)
                if db.is_unique_violation()
                    || db.is_check_violation()
                    || db.is_foreign_key_violation() =>
            {
                // SQLite does not report constraint names; its message names the columns instead.
                let constraint = db
                    .constraint()
                    .map(str::to_string)
                    .unwrap_or_else(|| db.message().to_string());
                StoreError::Constraint { constraint }
            }
            _ => StoreError::Database(err),
        }
    }
}

impl StoreError {
    /// A deadlock or a serialization failure (PostgreSQL's 40P01 and 40001): nothing of the
    /// statement stayed, and the transaction — or its savepoint — may simply be tried again.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => {
                matches!(db.code().as_deref(), Some("40P01" | "40001"))
            }
            _ => false,
        }
    }

    /// True for a uniqueness or CHECK refusal whose name or message mentions `needle`.
    pub fn is_constraint(&self, needle: &str) -> bool {
        matches!(self, StoreError::Constraint { constraint } if constraint.contains(needle))
    }
}
