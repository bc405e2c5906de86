//! The admin's API tokens for machine clients (see `vaxloop_app::tokens`): the list, a form to
//! make one — its secret shown once, on the answer to the form — and revoking.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use vaxloop_app::tokens::{self, Issued, ROLES, TokenInput};
use vaxloop_core::SitePost;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/tokens", get(list).post(create))
        .route("/admin/tokens/{name}/revoke", post(revoke))
}

/// A token as the list shows it.
struct Row {
    name: String,
    prefix: String,
    role: String,
    scope: String,
    created: String,
    expires: String,
    last_used: String,
    /// Revoked, expired or live, translated; and whether it still opens anything.
    state: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    ctx: PageCtx,
    rows: Vec<Row>,
    input: TokenInput,
    errors: Vec<(&'static str, String)>,
    /// The token just made: shown this once.
    issued: Option<Issued>,
    revoked: Option<String>,
    roles: Vec<(&'static str, String)>,
    posts: Vec<(&'static str, String)>,
}

impl TokensPage {
    fn error(&self, field: &str) -> Option<String> {
        crate::furniture::field_error(&self.errors, field)
    }
}

#[derive(Deserialize)]
struct RevokedQuery {
    revoked: Option<String>,
}

async fn page(
    state: &AppState,
    page: &Page,
    input: TokenInput,
    errors: Vec<(&'static str, String)>,
    issued: Option<Issued>,
    revoked: Option<String>,
) -> AppResult<TokensPage> {
    let lang = page.lang;
    let now = vaxloop_app::now_ms();
    let time = |ms: i64| state.config.local_time(ms);
    let rows = tokens::list(&state.app, &page.caller())
        .await?
        .into_iter()
        .map(|t| {
            let (state_key, live) = match t.revoked_at {
                Some(_) => ("tokens.revoked", false),
                None if t.expires_at <= now => ("tokens.expired", false),
                None => ("tokens.live", true),
            };
            let mut role = lang.t(&format!("role.{}", t.role));
            if let Some(post) = t.post {
                role = format!("{role} · {}", lang.t(&format!("post.{post}")));
            }
            Row {
                name: t.name,
                prefix: t.prefix,
                role,
                scope: t.scope.unwrap_or_else(|| lang.t("users.scope_all")),
                created: time(t.created_at),
                expires: time(t.expires_at),
                last_used: t.last_used_at.map(time).unwrap_or_else(|| "—".into()),
                state: lang.t(state_key),
                live,
            }
        })
        .collect();
    Ok(TokensPage {
        ctx: page.ctx("/admin/users").await?,
        rows,
        input,
        errors,
        issued,
        revoked,
        roles: ROLES
            .iter()
            .map(|r| (r.as_str(), lang.t(&format!("role.{r}"))))
            .collect(),
        posts: SitePost::ALL
            .iter()
            .map(|p| (p.as_str(), lang.t(&format!("post.{p}"))))
            .collect(),
    })
}

async fn list(
    State(state): State<AppState>,
    p: Page,
    Query(q): Query<RevokedQuery>,
) -> AppResult<Response> {
    let input = TokenInput {
        days: tokens::DEFAULT_DAYS.to_string(),
        ..TokenInput::default()
    };
    let body = page(&state, &p, input, vec![], None, q.revoked).await?;
    Ok(html(&body)?.into_response())
}

async fn create(
    State(state): State<AppState>,
    p: Page,
    Form(input): Form<TokenInput>,
) -> AppResult<Response> {
    match tokens::create(&state.app, &p.caller(), &input).await {
        Ok(issued) => {
            let body = page(
                &state,
                &p,
                TokenInput::default(),
                vec![],
                Some(issued),
                None,
            )
            .await?;
            Ok(html(&body)?.into_response())
        }
        Err(vaxloop_app::Error::Invalid(problems)) => {
            let errors = (problems.iter())
                .map(|x| (x.field, p.lang.t(&format!("org.problem.{}", x.code))))
                .collect();
            let body = page(&state, &p, input, errors, None, None).await?;
            Ok((StatusCode::BAD_REQUEST, html(&body)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

async fn revoke(
    State(state): State<AppState>,
    p: Page,
    Path(name): Path<String>,
) -> AppResult<Response> {
    tokens::revoke(&state.app, &p.caller(), &name).await?;
    let back = format!(
        "/admin/tokens?revoked={}",
        form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );
    Ok(Redirect::to(&back).into_response())
}
