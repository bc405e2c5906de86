//! Page furniture: what every page is built with — the request's [`Page`] (language, login,
//! session, path) and its caller for the use cases, the layout's [`PageCtx`] with the navigation
//! for the caller's role, where each role lands, rendering, safe redirects, form fields read as
//! pairs, and the error page. The pages and the error renderer both use it; it uses neither.

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::Html;
use tower_sessions::Session;
use vaxloop_app::sessions::User;
use vaxloop_core::Role;

use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};
use crate::i18n::Lang;

/// The page each role lands on after logging in.
pub fn home(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::GroupLeader => "/group",
        Role::UnitContact => "/unit",
        Role::Desk => "/desk",
        Role::SiteStaff => "/site",
        Role::Staff => "/staff",
        Role::Resident => "/me",
    }
}

/// Navigation entries for a role: `(path, translation key)`.
pub fn nav(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Admin => &[
            ("/admin", "nav.overview"),
            ("/funnel", "nav.funnel"),
            ("/desk", "nav.desk"),
            ("/sites", "nav.sites"),
            ("/stock", "nav.stock"),
            ("/admin/users", "nav.users"),
            ("/admin/audit", "nav.audit"),
        ],
        Role::GroupLeader => &[("/group", "nav.my_group"), ("/funnel", "nav.funnel")],
        Role::UnitContact => &[("/unit", "nav.my_unit")],
        Role::Desk => &[
            ("/desk", "nav.desk"),
            ("/funnel", "nav.funnel"),
            ("/sites", "nav.sites"),
        ],
        Role::SiteStaff => &[("/site", "nav.my_site")],
        Role::Staff => &[("/staff", "nav.my_shifts")],
        Role::Resident => &[("/me", "nav.my_record")],
    }
}

/// The logged-in user, or `Unauthenticated`.
pub fn user(auth: &AuthSession) -> AppResult<&User> {
    auth.user
        .as_ref()
        .map(|u| &u.0)
        .ok_or(AppError::Unauthenticated)
}

/// One entry of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// What the layout needs on every page.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub lang: Lang,
    pub csrf: String,
    pub path: String,
    pub user_name: Option<String>,
    pub role_label: String,
    pub nav: Vec<NavLink>,
}

impl PageCtx {
    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// Whether the page is in English (for values stored in both languages).
    pub fn is_en(&self) -> bool {
        self.lang == Lang::En
    }

    /// The translation of a vocabulary code: `tk("role", "admin")` looks up `role.admin`.
    pub fn tk(&self, prefix: &str, code: &str) -> String {
        self.lang.t(&format!("{prefix}.{code}"))
    }

    pub fn tf(&self, key: &str, name: &str, value: &str) -> String {
        self.lang.tf(key, &[(name, value)])
    }

    /// A whole number with thousands separators, as both languages write it.
    pub fn num(&self, n: impl std::borrow::Borrow<i64>) -> String {
        vaxloop_core::grouped(*n.borrow())
    }

    /// `part` of `whole` as a whole percentage.
    pub fn pct(
        &self,
        part: impl std::borrow::Borrow<i64>,
        whole: impl std::borrow::Borrow<i64>,
    ) -> String {
        let (part, whole) = (*part.borrow(), *whole.borrow());
        if whole <= 0 {
            "—".to_string()
        } else {
            format!("{}%", (part * 100) / whole)
        }
    }

    /// Another language, for the switch.
    pub fn other_lang(&self) -> Lang {
        if self.lang == Lang::ZhCn {
            Lang::En
        } else {
            Lang::ZhCn
        }
    }
}

/// The request's page context pieces, extracted once per handler.
pub struct Page {
    pub lang: Lang,
    pub auth: AuthSession,
    pub session: Session,
    pub path: String,
    /// The visitor's nonce (see [`crate::csrf`]).
    visitor: Option<crate::csrf::Visitor>,
    state: AppState,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = AuthSession::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        let session = Session::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("session layer missing")))?;
        Ok(Page {
            lang: Lang::from_headers(&parts.headers),
            auth,
            session,
            path: parts.uri.path().to_string(),
            visitor: parts.extensions.get::<crate::csrf::Visitor>().cloned(),
            state: state.clone(),
        })
    }
}

impl Page {
    /// The request's caller, for the use cases: the login and this page's path.
    pub fn caller(&self) -> vaxloop_app::Caller {
        crate::who::caller(&self.auth, self.path.clone())
    }

    /// The layout context, with the navigation entry at `active` highlighted.
    pub async fn ctx(&self, active: &str) -> AppResult<PageCtx> {
        let user = self.auth.user.as_ref().map(|u| &u.0);
        let nav = user
            .map(|u| {
                nav(u.role)
                    .iter()
                    .map(|(href, key)| NavLink {
                        href,
                        label: self.lang.t(key),
                        active: *href == active,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(PageCtx {
            lang: self.lang,
            csrf: crate::csrf::page_token(
                &self.state,
                &self.session,
                self.visitor.as_ref(),
                user.is_some(),
            )
            .await?,
            path: self.path.clone(),
            user_name: user.map(|u| u.display_name.clone()),
            role_label: user
                .map(|u| self.lang.t(&format!("role.{}", u.role)))
                .unwrap_or_default(),
            nav,
        })
    }
}

/// Renders a template into an HTML response.
pub fn html<T: Template>(page: &T) -> AppResult<Html<String>> {
    Ok(Html(page.render()?))
}

/// A `next` target is followed only if it is a path on this site (not `//host` or a URL).
/// No backslash anywhere (browsers read it as `/`), and no control character (a tab or newline
/// that browsers strip would turn `/\t/evil` into `//evil`; a newline or NUL cannot go into a
/// header at all).
pub fn safe_next(next: &str) -> Option<&str> {
    (next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.contains("://")
        && next.len() <= 2_000)
        .then_some(next)
}

/// The page shown for any error, in the request's language.
#[derive(Template)]
#[template(path = "furniture/error.html")]
pub struct ErrorPage {
    pub ctx: PageCtx,
    pub status: u16,
    pub message: String,
    /// What the reader may do about it, in a sentence (empty when there is nothing to add).
    pub hint: String,
}

impl ErrorPage {
    pub fn new(lang: Lang, status: StatusCode, message: String) -> Self {
        let ctx = PageCtx {
            lang,
            csrf: String::new(),
            path: "/".into(),
            user_name: None,
            role_label: String::new(),
            nav: vec![],
        };
        Self {
            ctx,
            status: status.as_u16(),
            message,
            hint: String::new(),
        }
    }

    /// The error page inside a logged-in caller's own frame: their navigation, name, language
    /// switch and logout, as on every other page. A visitor's is bare, and so is one whose
    /// session holds no form token yet: an error never starts a session or changes its token.
    pub async fn framed(
        page: Option<&Page>,
        lang: Lang,
        status: StatusCode,
        message: String,
    ) -> Self {
        let mut shown = Self::new(lang, status, message);
        let has_token = match page {
            Some(p) if p.auth.user.is_some() => {
                crate::csrf::session_token(&p.session).await.is_some()
            }
            _ => false,
        };
        if let Some(page) = page.filter(|_| has_token)
            && let Ok(ctx) = page.ctx("").await
        {
            shown.ctx = ctx;
        }
        let hint = match status {
            StatusCode::FORBIDDEN => "error.hint_forbidden",
            StatusCode::NOT_FOUND => "error.hint_not_found",
            StatusCode::METHOD_NOT_ALLOWED => "error.hint_method",
            _ => "",
        };
        if !hint.is_empty() {
            shown.hint = lang.t(hint);
        }
        shown
    }
}

/// The message for `field` among a form's field problems `(field, message)`, if it has one: what
/// a form page shows under each input.
pub fn field_error<F: AsRef<str>>(errors: &[(F, String)], field: &str) -> Option<String> {
    errors
        .iter()
        .find(|(f, _)| f.as_ref() == field)
        .map(|(_, m)| m.clone())
}

/// A form field read as pairs (for forms whose fields vary, such as a questionnaire), trimmed;
/// empty when absent.
pub fn form_field(form: &[(String, String)], name: &str) -> String {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_home_in_its_own_navigation() {
        for role in Role::ALL {
            assert!(
                nav(*role).iter().any(|(path, _)| *path == home(*role)),
                "{role}"
            );
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next("/admin"), Some("/admin"));
        assert_eq!(safe_next("//evil.example"), None);
        assert_eq!(safe_next("https://evil.example"), None);
        assert_eq!(safe_next("/\\evil"), None);
        for hostile in [
            "/\t/evil.example",
            "/a\nLocation: x",
            "/a\0b",
            "/a/\\evil",
            "/\r\n",
        ] {
            assert_eq!(safe_next(hostile), None, "{hostile:?}");
        }
        assert_eq!(safe_next(&format!("/{}", "a".repeat(3_000))), None);
    }
}
