//! Seeing personal data in full, which every view otherwise masks: unmasking one person's ID and
//! phone numbers, and exporting a unit's list. Both need a permitted role and a stated reason,
//! and both are written to the audit log (who, what, when, why) before anything is shown.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::org::{Person, Unit};
use vaxloop_app::privacy::{self, Export};
use vaxloop_documents::{Sheet, write_csv, write_xlsx};

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/people/{id}/reveal", get(reveal_form).post(reveal))
        .route("/units/{code}/export", post(export))
}

#[derive(Template)]
#[template(path = "privacy/reveal.html")]
struct RevealPage {
    ctx: PageCtx,
    person: Person,
    unit: Unit,
    error: Option<String>,
    /// The opened numbers, once a reason was given.
    revealed: Option<(String, Option<String>)>,
}

async fn reveal_form(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let (person, unit) = privacy::unmaskable(&state.app, &page.caller(), id).await?;
    html(&RevealPage {
        ctx: page.ctx("").await?,
        person,
        unit,
        error: None,
        revealed: None,
    })
}

#[derive(Deserialize)]
struct ReasonForm {
    #[serde(default)]
    reason: String,
}

async fn reveal(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
    Form(form): Form<ReasonForm>,
) -> AppResult<Response> {
    let caller = page.caller();
    let (person, unit) = privacy::unmaskable(&state.app, &caller, id).await?;
    let revealed = match privacy::unmask(&state.app, &caller, id, &form.reason, "page").await? {
        Ok(opened) => Some(opened),
        Err(privacy::ReasonRequired) => {
            let ctx = page.ctx("").await?;
            let error = Some(ctx.t("privacy.reason_required"));
            let body = html(&RevealPage {
                ctx,
                person,
                unit,
                error,
                revealed: None,
            })?;
            return Ok((StatusCode::BAD_REQUEST, body).into_response());
        }
    };
    Ok(html(&RevealPage {
        ctx: page.ctx("").await?,
        person,
        unit,
        error: None,
        revealed,
    })?
    .into_response())
}

#[derive(Deserialize)]
struct ExportForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    format: String,
    /// Present when full ID and phone numbers are asked for.
    #[serde(default)]
    full: Option<String>,
}

/// A unit's list as XLSX or CSV. Masked unless the caller may unmask and asks to; always with a
/// reason; always audited with the row count.
async fn export(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<ExportForm>,
) -> AppResult<Response> {
    let csv = form.format == "csv";
    let format = if csv { "csv" } else { "xlsx" };
    let full = form.full.is_some();
    let exported = privacy::export(
        &state.app,
        &page.caller(),
        &code,
        &form.reason,
        full,
        format,
    )
    .await?;
    let Ok(Export { unit, rows }) = exported else {
        return Err(AppError::BadRequest {
            field: Some("reason".into()),
            message: "privacy.reason_required".into(),
        });
    };
    let lang = page.lang;
    let headers: Vec<String> = [
        "person.name",
        "person.id_number",
        "person.phone",
        "person.birth_date",
        "person.sex",
        "person.priority",
        "funnel.registered",
        "import.field.note",
    ]
    .iter()
    .map(|k| lang.t(k))
    .collect();
    let header_refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut sheet = Sheet::new(&unit.code, &header_refs);
    for (p, opened) in &rows {
        let (id, phone) = match opened {
            Some((id, phone)) => (id.clone(), phone.clone().unwrap_or_default()),
            None => (
                p.id_masked.clone(),
                p.phone_masked.clone().unwrap_or_default(),
            ),
        };
        sheet.push(vec![
            p.name.clone(),
            id,
            phone,
            p.birth_date.clone(),
            lang.t(&format!("person.sex_{}", p.sex)),
            if p.disabled {
                lang.t("person.disabled")
            } else {
                String::new()
            },
            lang.t(&format!("funnel.by_{}", p.source)),
            p.note.clone().unwrap_or_default(),
        ]);
    }
    let (bytes, mime, ext) = if csv {
        (write_csv(&sheet), "text/csv; charset=utf-8", "csv")
    } else {
        let xlsx =
            write_xlsx(&[sheet]).map_err(|e| AppError::Internal(anyhow::anyhow!("xlsx: {e}")))?;
        (
            xlsx,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        )
    };
    let disposition = format!("attachment; filename=\"{}-people.{ext}\"", unit.code);
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
