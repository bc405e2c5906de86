//! The public phone page a unit's QR code opens (扫码登记), and what follows: the new resident is
//! logged in and lands on their own page with their personal QR code. Also the unit's side: its
//! registration code, and the registrations waiting for the contact to confirm or reject.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::claims::{self, CodeRefusal, Proof};
use vaxloop_app::import::importable;
use vaxloop_app::org::Unit;
use vaxloop_app::register::{
    self as registration, Decision, FieldProblem, RegisterError, Registered, RegistrationForm,
};

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};
use crate::i18n::Lang;
use crate::limits::ClientAddr;
use crate::{AppState, qr};
use vaxloop_documents::poster::Poster;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/r/{token}", get(form).post(submit))
        .route("/r/{token}/claim/{claim}", get(claim_form).post(claim_code))
        .route(
            "/units/{code}/claims/{claim}/{decision}",
            post(decide_claim),
        )
        .route("/me/qr.svg", get(personal_qr))
        .route("/units/{code}/qr.svg", get(unit_qr))
        .route("/units/{code}/poster.pdf", get(unit_poster))
        .route("/units/{code}/pending/{person}/{decision}", post(decide))
}

#[derive(Template)]
#[template(path = "register/register.html")]
struct RegisterPage {
    ctx: PageCtx,
    unit: Unit,
    token: String,
    form: RegistrationForm,
    problems: Vec<FieldProblem>,
    /// A whole-page message: already registered, mismatch, too many attempts.
    notice: Option<String>,
}

impl RegisterPage {
    /// The translated problem with a field, if any.
    fn problem(&self, field: &str) -> Option<String> {
        self.problems
            .iter()
            .find(|p| p.field == field)
            .map(|p| self.ctx.t(&format!("register.problem.{}", p.code)))
    }
}

async fn form(
    State(state): State<AppState>,
    page: Page,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    let unit = registration::link_unit(&state.app, &token)
        .await
        .map_err(|e| match e {
            vaxloop_app::Error::NotFound => AppError::Missing {
                message: "register.link_gone".into(),
            },
            other => other.into(),
        })?;
    let ctx = page.ctx("").await?;
    html(&RegisterPage {
        ctx,
        unit,
        token,
        form: RegistrationForm::default(),
        problems: vec![],
        notice: None,
    })
}

async fn submit(
    State(state): State<AppState>,
    mut page: Page,
    client: ClientAddr,
    Path(token): Path<String>,
    Form(mut form): Form<RegistrationForm>,
) -> AppResult<Response> {
    let unit = registration::link_unit(&state.app, &token).await?;
    let ctx = page.ctx("").await?;
    let limited = state
        .limiters
        .register_per_client
        .check_key(&client.0)
        .is_err()
        || state
            .limiters
            .register_per_unit
            .check_key(&unit.id)
            .is_err();
    if limited {
        forget_pins(&mut form);
        let notice = Some(ctx.t("register.too_many"));
        let body = html(&RegisterPage {
            ctx,
            unit,
            token,
            form,
            problems: vec![],
            notice,
        })?;
        return Ok((StatusCode::TOO_MANY_REQUESTS, body).into_response());
    }
    let outcome = registration::register(&state.app, &unit, &form).await?;
    forget_pins(&mut form);
    let (status, notice, problems) = match outcome {
        Ok((Registered::Done { .. }, user)) => {
            let user = user.ok_or(AppError::NotFound)?;
            page.auth
                .login(&CurrentUser(user))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            return Ok(Redirect::to("/me").into_response());
        }
        Ok((Registered::AlreadyRegistered, _)) => {
            (StatusCode::OK, Some(ctx.t("register.already")), vec![])
        }
        Ok((Registered::RosterMismatch, _)) => {
            (StatusCode::OK, Some(ctx.t("register.mismatch")), vec![])
        }
        Ok((Registered::Claimed(Proof::CodeSent { claim_id, to }), _)) => {
            let notice = ctx.tf("register.code_sent", "to", &to);
            let body = html(&ClaimPage {
                ctx,
                unit,
                token,
                claim: claim_id,
                notice: Some(notice),
                error: None,
            })?;
            return Ok((StatusCode::ACCEPTED, body).into_response());
        }
        Ok((Registered::Claimed(Proof::Contact), _)) => (
            StatusCode::ACCEPTED,
            Some(ctx.t("register.claim_waiting")),
            vec![],
        ),
        Err(RegisterError::Invalid(problems)) => (StatusCode::BAD_REQUEST, None, problems),
        Err(e) => return Err(AppError::Internal(e.into())),
    };
    let body = html(&RegisterPage {
        ctx,
        unit,
        token,
        form,
        problems,
        notice,
    })?;
    Ok((status, body).into_response())
}

/// The one-time code's page, after a claim of a roster entry.
#[derive(Template)]
#[template(path = "register/claim.html")]
struct ClaimPage {
    ctx: PageCtx,
    unit: Unit,
    token: String,
    claim: i64,
    notice: Option<String>,
    error: Option<String>,
}

async fn claim_form(
    State(state): State<AppState>,
    page: Page,
    Path((token, claim)): Path<(String, i64)>,
) -> AppResult<Html<String>> {
    let unit = registration::link_unit(&state.app, &token).await?;
    let ctx = page.ctx("").await?;
    html(&ClaimPage {
        ctx,
        unit,
        token,
        claim,
        notice: None,
        error: None,
    })
}

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// The claimant enters the code: right, and they are logged in on their own page. (Guessing is
/// bounded by the claim itself — a few tries, then it is void — and making claims by the
/// registration limits.)
async fn claim_code(
    State(state): State<AppState>,
    mut page: Page,
    Path((token, claim)): Path<(String, i64)>,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let unit = registration::link_unit(&state.app, &token).await?;
    let ctx = page.ctx("").await?;
    let (status, error) = match claims::confirm_code(&state.app, unit.id, claim, &form.code).await?
    {
        Ok(user) => {
            page.auth
                .login(&CurrentUser(user))
                .await
                .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
            return Ok(Redirect::to("/me").into_response());
        }
        Err(CodeRefusal::Wrong { left }) => (
            StatusCode::BAD_REQUEST,
            ctx.tf("register.code_wrong", "left", &left.to_string()),
        ),
        Err(CodeRefusal::Gone) => (StatusCode::GONE, ctx.t("register.code_gone")),
    };
    let body = html(&ClaimPage {
        ctx,
        unit,
        token,
        claim,
        notice: None,
        error: Some(error),
    })?;
    Ok((status, body).into_response())
}

/// The unit's contact confirms or rejects a claim of a roster entry that has no phone.
async fn decide_claim(
    State(state): State<AppState>,
    page: Page,
    Path((code, claim, decision)): Path<(String, i64, String)>,
) -> AppResult<Response> {
    let confirm = match decision.as_str() {
        "confirm" => true,
        "reject" => false,
        _ => return Err(AppError::NotFound),
    };
    claims::decide(&state.app, &page.caller(), &code, claim, confirm).await?;
    Ok(Redirect::to(&format!("/units/{code}#claims")).into_response())
}

/// PINs are never sent back into a page.
fn forget_pins(form: &mut RegistrationForm) {
    form.pin.clear();
    form.pin_again.clear();
}

fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response()
}

/// The resident's personal QR code: a signed token naming them, which check-in scans.
async fn personal_qr(State(state): State<AppState>, page: Page) -> AppResult<Response> {
    let token = registration::personal_token(&state.app, &page.caller()).await?;
    Ok(svg_response(qr::svg(&qr::personal_payload(&token))?))
}

/// The address people reach this site at.
pub fn public_base(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

/// A unit's registration link as a QR code, for its contact to show or print.
async fn unit_qr(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let unit = importable(&state.app, &page.caller(), &code).await?;
    let link = format!("{}/r/{}", public_base(&state, &headers), unit.reg_token);
    Ok(svg_response(qr::svg(&link)?))
}

/// The unit's A4 registration poster, Chinese with English beneath, to print and put up.
async fn unit_poster(
    State(state): State<AppState>,
    page: Page,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let (unit, group) = registration::poster(&state.app, &page.caller(), &code).await?;
    let both = |key: &str| (Lang::ZhCn.t(key), Lang::En.t(key));
    let poster = Poster {
        title: both("poster.title"),
        unit_name: unit.name.clone(),
        group_name: group,
        link: format!("{}/r/{}", public_base(&state, &headers), unit.reg_token),
        steps: [
            "poster.step_scan",
            "poster.step_fill",
            "poster.step_consent",
            "poster.step_code",
        ]
        .iter()
        .map(|k| both(k))
        .collect(),
        footer: Lang::ZhCn.t("poster.footer"),
    };
    let pdf = vaxloop_documents::poster::unit_poster(&poster)
        .map_err(|e| AppError::Internal(e.into()))?;
    let disposition = format!("inline; filename=\"poster-{}.pdf\"", unit.code);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        pdf,
    )
        .into_response())
}

/// The contact confirms or rejects a registration that matched no roster entry.
async fn decide(
    State(state): State<AppState>,
    page: Page,
    Path((code, person, decision)): Path<(String, i64, String)>,
) -> AppResult<Response> {
    let decision = match decision.as_str() {
        "confirm" => Decision::Confirm,
        "reject" => Decision::Reject,
        _ => return Err(AppError::NotFound),
    };
    let unit = registration::decide(&state.app, &page.caller(), &code, person, decision).await?;
    Ok(Redirect::to(&format!("/units/{}#pending", unit.code)).into_response())
}
