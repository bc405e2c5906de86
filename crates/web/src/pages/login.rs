//! The front door: `/` sends each role home, `/login` and `/logout`, and the language switch.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Credentials;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html, safe_next};
use crate::i18n::{self, Lang};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(root))
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/lang", post(switch_language))
}

async fn root(page: Page) -> Redirect {
    match &page.auth.user {
        Some(u) => Redirect::to(crate::furniture::home(u.0.role)),
        None => Redirect::to("/login"),
    }
}

#[derive(Template)]
#[template(path = "login/login.html")]
struct LoginPage {
    ctx: PageCtx,
    next: String,
    login: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(page: Page, Query(q): Query<NextQuery>) -> AppResult<Response> {
    if let Some(u) = &page.auth.user {
        return Ok(Redirect::to(crate::furniture::home(u.0.role)).into_response());
    }
    let next = q
        .next
        .as_deref()
        .and_then(safe_next)
        .unwrap_or("")
        .to_string();
    let ctx = page.ctx("/login").await?;
    Ok(html(&LoginPage {
        ctx,
        next,
        login: String::new(),
        error: None,
    })?
    .into_response())
}

#[derive(Deserialize)]
struct LoginForm {
    login: String,
    password: String,
    #[serde(default)]
    next: String,
}

async fn login(mut page: Page, Form(form): Form<LoginForm>) -> AppResult<Response> {
    let creds = Credentials {
        login: form.login.clone(),
        password: form.password,
    };
    let user = page
        .auth
        .authenticate(creds)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let Some(user) = user else {
        let ctx = page.ctx("/login").await?;
        // Echo a username back into the form, but never an ID number.
        let login = if vaxloop_core::ResidentId::parse(&form.login).is_ok() {
            String::new()
        } else {
            form.login
        };
        let body = html(&LoginPage {
            ctx: ctx.clone(),
            next: form.next,
            login,
            error: Some(ctx.t("login.failed")),
        })?;
        return Ok((StatusCode::UNAUTHORIZED, body).into_response());
    };
    page.auth
        .login(&user)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let target = safe_next(&form.next).unwrap_or(crate::furniture::home(user.0.role));
    Ok(Redirect::to(target).into_response())
}

async fn logout(mut page: Page) -> AppResult<Redirect> {
    page.auth
        .logout()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(Redirect::to("/login"))
}

#[derive(Deserialize)]
struct LangForm {
    lang: String,
    #[serde(default)]
    back: String,
}

async fn switch_language(
    State(state): State<AppState>,
    Form(form): Form<LangForm>,
) -> AppResult<Response> {
    let lang = Lang::parse(&form.lang).ok_or(AppError::BadRequest {
        field: Some("lang".into()),
        message: "error.bad_language".into(),
    })?;
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
        i18n::COOKIE,
        lang.code()
    );
    let mut response = Redirect::to(safe_next(&form.back).unwrap_or("/")).into_response();
    let value = HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?;
    response.headers_mut().append(header::SET_COOKIE, value);
    Ok(response)
}
