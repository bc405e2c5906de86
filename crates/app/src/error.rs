//! What a use case answers besides its outcome: the caller is not logged in or not allowed, the
//! thing asked about does not exist, the input has fields to correct, or the store failed. Each
//! use case's own refusals (a full slot, a short lot) are typed where the use case lives and
//! travel inside its `Ok`.

use vaxloop_store::StoreError;

/// A field to correct: `field` names the input, `code` keys the message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub field: &'static str,
    pub code: &'static str,
}

/// A problem with `field`, keyed `code`.
pub fn problem(field: &'static str, code: &'static str) -> Problem {
    Problem { field, code }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Nobody is logged in and the use case needs a login.
    #[error("not logged in")]
    Unauthenticated,
    /// The caller's role or scope does not reach this; the refusal has been audited.
    #[error("outside the caller's scope")]
    Denied,
    #[error("not found")]
    NotFound,
    /// Fields to correct, each named.
    #[error("the input has problems")]
    Invalid(Vec<Problem>),
    #[error(transparent)]
    Store(StoreError),
    /// Something outside the store failed (a worker thread); the text is for the log only.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => Error::NotFound,
            other => Error::Store(other),
        }
    }
}

impl Error {
    /// One field to correct.
    pub fn invalid(field: &'static str, code: &'static str) -> Self {
        Error::Invalid(vec![problem(field, code)])
    }
}

/// A use case's answer.
pub type Result<T, E = Error> = std::result::Result<T, E>;
