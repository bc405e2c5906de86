//! Languages: Chinese (zh-CN) first, English second. The language of a request comes from the
//! `lang` cookie set by the switch, then from `Accept-Language`, then zh-CN. Translations are
//! compiled in from `locales/*.yml` and looked up per request — never through rust-i18n's
//! process-global locale.

use std::borrow::Cow;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

/// The cookie that remembers the chosen language.
pub const COOKIE: &str = "lang";

/// Keys asked for that have no translation (rust-i18n answers the key itself): kept so that a
/// test rendering every page can fail on any, and logged once each.
static MISSING: std::sync::Mutex<std::collections::BTreeSet<String>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

fn noted(key: &str, text: &str) {
    if text == key
        && let Ok(mut missing) = MISSING.lock()
        && missing.insert(key.to_string())
    {
        tracing::warn!(key, "no translation");
    }
}

/// The keys asked for so far that had no translation.
pub fn missing_keys() -> Vec<String> {
    MISSING
        .lock()
        .map(|m| m.iter().cloned().collect())
        .unwrap_or_default()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        let code = code.trim().to_ascii_lowercase();
        if code == "zh" || code.starts_with("zh-") || code.starts_with("zh_") {
            Some(Lang::ZhCn)
        } else if code == "en" || code.starts_with("en-") || code.starts_with("en_") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// The translation of `key`.
    pub fn t(self, key: &str) -> String {
        let text = rust_i18n::t!(key, locale = self.code());
        noted(key, &text);
        text.into_owned()
    }

    /// The translation of `key` with `%{name}` placeholders filled in.
    pub fn tf(self, key: &str, args: &[(&str, &str)]) -> String {
        let mut text: Cow<'_, str> = rust_i18n::t!(key, locale = self.code());
        noted(key, &text);
        for (name, value) in args {
            text = Cow::Owned(text.replace(&format!("%{{{name}}}"), value));
        }
        text.into_owned()
    }

    /// A day as people read it: `12月9日 周三`, `Wed 9 Dec`; the text as given when it is not
    /// a `YYYY-MM-DD` date.
    pub fn day(self, iso: &str) -> String {
        use chrono::Datelike;
        let Ok(d) = chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") else {
            return iso.to_string();
        };
        let weekday = self.t(&format!("weekday.{}", d.weekday().num_days_from_monday()));
        match self {
            Lang::ZhCn => format!("{}月{}日 {weekday}", d.month(), d.day()),
            Lang::En => format!("{weekday} {} {}", d.day(), d.format("%b")),
        }
    }

    /// Chooses from the request: the cookie, then the first supported `Accept-Language` entry by
    /// quality, then zh-CN.
    pub fn from_headers(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == COOKIE)
            .and_then(|(_, v)| Lang::parse(v));
        if let Some(lang) = cookie {
            return lang;
        }
        let mut offers: Vec<(f32, Lang)> = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        offers.sort_by(|a, b| b.0.total_cmp(&a.0));
        offers.first().map(|o| o.1).unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn cookie_beats_accept_language_which_beats_the_default() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::from_headers(&h), Lang::ZhCn);
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr;q=1.0, en-GB;q=0.8, zh-CN;q=0.5"),
        );
        assert_eq!(Lang::from_headers(&h), Lang::En);
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; lang=zh-CN"));
        assert_eq!(Lang::from_headers(&h), Lang::ZhCn);
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            Lang::En.tf("home.welcome", &[("name", "Li")]),
            "Welcome, Li"
        );
        assert_eq!(Lang::ZhCn.tf("home.welcome", &[("name", "李")]), "欢迎，李");
    }
}
