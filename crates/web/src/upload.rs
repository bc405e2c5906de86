//! Spreadsheet uploads: the file field of a multipart form, read chunk by chunk and refused as
//! soon as it passes the configured limit — the same limit the form announces and the reader
//! applies (`WebConfig::upload_limit_bytes`). The upload routes lift the framework's default
//! body limit; the server's overall body limit stays the last line.

use axum::extract::Multipart;
use vaxloop_app::import::Limits;

use crate::AppState;
use crate::i18n::Lang;

/// The reader's limits for an upload, with the configured size.
pub fn limits(state: &AppState) -> Limits {
    Limits {
        max_bytes: state.config.upload_limit_bytes,
        ..Limits::default()
    }
}

/// Why an upload could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadProblem {
    /// The file passed the limit (bytes).
    TooLarge(usize),
    /// The form was not a readable multipart body.
    Unreadable,
}

impl UploadProblem {
    /// The problem in the reader's language.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            UploadProblem::TooLarge(limit) => lang.tf(
                "import.file_error.too_large",
                &[("mb", &(limit / (1024 * 1024)).to_string())],
            ),
            UploadProblem::Unreadable => lang.t("import.file_error.unreadable"),
        }
    }
}

/// The form's `file` field — its name and bytes — read up to `limit` bytes; none when the form
/// has no such field. Other fields are skipped.
pub async fn file_field(
    multipart: &mut Multipart,
    limit: usize,
) -> Result<Option<(String, Vec<u8>)>, UploadProblem> {
    let broken = |e: axum::extract::multipart::MultipartError| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            UploadProblem::TooLarge(limit)
        } else {
            UploadProblem::Unreadable
        }
    };
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(broken)? {
            if bytes.len() + chunk.len() > limit {
                return Err(UploadProblem::TooLarge(limit));
            }
            bytes.extend_from_slice(&chunk);
        }
        file = Some((name, bytes));
    }
    Ok(file)
}
