//! The front door: `/` sends each role home, `/login` and `/logout`, and the language switch.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html, safe_next};
use crate::i18n::{self, Lang};
use crate::limits::ClientAddr;
use vaxloop_app::auth::LoginRefusal;

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

async fn login(
    State(state): State<AppState>,
    mut page: Page,
    client: ClientAddr,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let outcome = match state.limiters.login(client.0) {
        Err(seconds) => Err(Refused::Throttled(seconds)),
        Ok(()) => {
            let app = &state.app;
            match vaxloop_app::auth::authenticate(app, &form.login, form.password).await? {
                Ok(user) => Ok(user),
                Err(refusal) => Err(Refused::Login(refusal)),
            }
        }
    };
    let user = match outcome {
        Ok(user) => CurrentUser(user),
        Err(refused) => return refused_login(&state, &page, form.login, form.next, refused).await,
    };
    page.auth
        .login(&user)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    let target = safe_next(&form.next).unwrap_or(crate::furniture::home(user.0.role));
    Ok(Redirect::to(target).into_response())
}

/// Why the login form is shown again.
enum Refused {
    /// This client tried too often: seconds until it may try again.
    Throttled(u64),
    Login(LoginRefusal),
}

/// The login form again, saying why — and when the person may try again.
async fn refused_login(
    state: &AppState,
    page: &Page,
    login: String,
    next: String,
    refused: Refused,
) -> AppResult<Response> {
    let ctx = page.ctx("/login").await?;
    let (status, error, retry) = match refused {
        Refused::Throttled(seconds) => (
            StatusCode::TOO_MANY_REQUESTS,
            ctx.tf("login.throttled", "seconds", &seconds.to_string()),
            Some(seconds),
        ),
        Refused::Login(LoginRefusal::Wrong) => {
            (StatusCode::UNAUTHORIZED, ctx.t("login.failed"), None)
        }
        Refused::Login(LoginRefusal::Locked { until }) => {
            let at = state.config.local_hhmm(until);
            let seconds = (until - vaxloop_app::now_ms()).max(1000) / 1000;
            let error = ctx.tf("login.locked", "at", &at);
            (
                StatusCode::TOO_MANY_REQUESTS,
                error,
                u64::try_from(seconds).ok(),
            )
        }
        Refused::Login(LoginRefusal::Busy) => (
            StatusCode::SERVICE_UNAVAILABLE,
            ctx.t("login.busy"),
            Some(5),
        ),
    };
    // Echo a username back into the form, but never an ID number.
    let login = if vaxloop_core::ResidentId::parse(&login).is_ok() {
        String::new()
    } else {
        login
    };
    let body = html(&LoginPage {
        ctx,
        next,
        login,
        error: Some(error),
    })?;
    let mut response = (status, body).into_response();
    if let Some(seconds) = retry.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        response.headers_mut().insert(header::RETRY_AFTER, seconds);
    }
    Ok(response)
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
