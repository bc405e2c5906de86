//! Importing a unit's people on the web: the upload form, the report of each import (every
//! rejected row by number, field and reason, in the reader's language) and the spreadsheet of
//! rejected rows to fix and upload again — an export of personal data, so it is audited.

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use vaxloop_app::import::{
    self as roster_import, Field, ImportError, ImportRecord, Report, RowError, Upload,
};
use vaxloop_app::org::Unit;
use vaxloop_documents::write_xlsx;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/units/{code}/import",
            get(form).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/imports/{id}", get(report))
        .route("/imports/{id}/rejected.xlsx", get(rejected))
}

#[derive(Template)]
#[template(path = "imports/import_form.html")]
struct FormPage {
    ctx: PageCtx,
    unit: Unit,
    history: Vec<(ImportRecord, String)>,
    error: Option<String>,
    max_mb: usize,
    max_rows: usize,
}

fn form_page(
    state: &AppState,
    ctx: PageCtx,
    unit: Unit,
    history: Vec<ImportRecord>,
    error: Option<String>,
) -> FormPage {
    let history = history
        .into_iter()
        .map(|r| {
            let at = state.config.local_time(r.at);
            (r, at)
        })
        .collect();
    let limits = crate::upload::limits(state);
    FormPage {
        ctx,
        unit,
        history,
        error,
        max_mb: limits.max_bytes / (1024 * 1024),
        max_rows: limits.max_rows,
    }
}

fn active(page: &Page) -> &'static str {
    match page.auth.user.as_ref().map(|u| u.0.role) {
        Some(vaxloop_core::Role::UnitContact) => "/unit",
        Some(vaxloop_core::Role::GroupLeader) => "/group",
        _ => "/admin",
    }
}

async fn form(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let (unit, history) = roster_import::upload_page(&state.app, &page.caller(), &code).await?;
    let ctx = page.ctx(active(&page)).await?;
    html(&form_page(&state, ctx, unit, history, None))
}

async fn upload(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let caller = page.caller();
    roster_import::importable(&state.app, &caller, &code).await?;
    let lang = page.lang;
    let limits = crate::upload::limits(&state);
    let file = crate::upload::file_field(&mut multipart, limits.max_bytes).await;
    let refused = match file.map(|f| f.filter(|(_, b)| !b.is_empty())) {
        Err(problem) => problem.message(lang),
        Ok(None) => lang.t("import.file_error.missing"),
        Ok(Some((file_name, bytes))) => {
            let upload = Upload {
                file_name: &file_name,
                bytes: &bytes,
            };
            match roster_import::upload(&state.app, &caller, &code, upload, &limits).await? {
                Ok(imported) => {
                    return Ok(Redirect::to(&format!("/imports/{}", imported.id)).into_response());
                }
                Err(e) => file_error(lang, &e),
            }
        }
    };
    let (unit, history) = roster_import::upload_page(&state.app, &caller, &code).await?;
    let ctx = page.ctx(active(&page)).await?;
    let body = form_page(&state, ctx, unit, history, Some(refused));
    Ok((StatusCode::BAD_REQUEST, html(&body)?).into_response())
}

/// Why the file could not be read, in the reader's language.
fn file_error(lang: Lang, e: &ImportError) -> String {
    match e {
        ImportError::MissingColumns(missing) => {
            let names: Vec<String> = missing.iter().map(|f| field_name(lang, *f)).collect();
            lang.tf(
                "import.file_error.missing_columns",
                &[("columns", &names.join("、"))],
            )
        }
        ImportError::Read(r) => crate::messages::read_error(lang, r),
        ImportError::Store(_) => lang.t("error.internal"),
    }
}

fn field_name(lang: Lang, field: Field) -> String {
    lang.t(&format!("import.field.{}", field.as_str()))
}

/// One problem, in the reader's language.
fn reason(lang: Lang, e: &RowError) -> String {
    let args: Vec<(&str, &str)> = e
        .args
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    lang.tf(&format!("import.reason.{}", e.code), &args)
}

/// A row of the report's error table.
struct ErrorLine {
    row: usize,
    field: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "imports/import_report.html")]
struct ReportPage {
    ctx: PageCtx,
    unit: Unit,
    record: ImportRecord,
    at: String,
    warnings: Vec<String>,
    errors: Vec<ErrorLine>,
    more_errors: usize,
}

/// Errors shown on the page; the spreadsheet has them all.
const SHOWN_ERRORS: usize = 500;

async fn report(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let Report {
        record,
        unit,
        report: full,
    } = roster_import::report(&state.app, &page.caller(), id).await?;
    let lang = page.lang;
    let warnings = full
        .warnings
        .iter()
        .map(|w| {
            lang.tf(
                &format!("import.warning.{}", w.code),
                &[("column", &w.column)],
            )
        })
        .collect();
    let errors = full
        .errors
        .iter()
        .take(SHOWN_ERRORS)
        .map(|e| ErrorLine {
            row: e.row,
            field: field_name(lang, e.field),
            reason: reason(lang, e),
        })
        .collect();
    let more_errors = full.errors.len().saturating_sub(SHOWN_ERRORS);
    let at = state.config.local_time(record.at);
    html(&ReportPage {
        ctx: page.ctx(active(&page)).await?,
        unit,
        record,
        at,
        warnings,
        errors,
        more_errors,
    })
}

async fn rejected(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let Report {
        record,
        unit,
        report: full,
    } = roster_import::rejected(&state.app, &page.caller(), id).await?;
    let lang = page.lang;
    let sheet = full.rejected_sheet(
        &lang.t("import.row"),
        &lang.t("import.reason_column"),
        |e| reason(lang, e),
    );
    let bytes =
        write_xlsx(&[sheet]).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
    let disposition = format!(
        "attachment; filename=\"rejected-{}-{}.xlsx\"",
        unit.code, record.id
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
