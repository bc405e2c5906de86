//! The resident books, and cancels, their own first-dose appointment on their phone: a site and
//! a day, then a slot with free places. Refusals (a slot that filled a moment ago, a day without
//! doses) say so and offer the others.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Days;
use serde::Deserialize;
use vaxloop_app::booking::{BookRefusal, Request};
use vaxloop_core::Role;
use vaxloop_store::booking::{self, Refusal};
use vaxloop_store::people;
use vaxloop_store::sites::{self, Site};
use vaxloop_store::slots::{self, Slot};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::require;
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/me/book", get(choose).post(book))
        .route("/me/appointments/{id}/cancel", post(cancel))
}

#[derive(Deserialize, Default)]
struct Choice {
    site: Option<String>,
    date: Option<String>,
    /// The resident's appointment being moved, when they came to change it.
    #[serde(rename = "move")]
    moving: Option<i64>,
}

#[derive(Template)]
#[template(path = "book.html")]
struct BookPage {
    ctx: PageCtx,
    sites: Vec<Site>,
    days: Vec<String>,
    site: Option<Site>,
    date: String,
    slots: Vec<Slot>,
    notice: Option<String>,
    /// The appointment being moved: `(id, "day HH:MM site")`.
    moving: Option<(i64, String)>,
}

impl BookPage {
    fn hhmm(&self, minutes: &i64) -> String {
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }
}

/// The booking page for a resident: only the sites that serve their unit are offered.
async fn page_for(
    state: &AppState,
    page: &Page,
    person: i64,
    choice: Choice,
    notice: Option<String>,
) -> AppResult<BookPage> {
    let today = state.config.today();
    let days: Vec<String> = (0..4)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .map(|d| d.to_string())
        .collect();
    let unit = people::by_id(&state.db, person)
        .await?
        .ok_or(AppError::NotFound)?
        .unit_id;
    let all = sites::serving_unit(&state.db, unit).await?;
    let site = choice
        .site
        .as_ref()
        .and_then(|c| all.iter().find(|s| &s.code == c).cloned());
    let date = choice
        .date
        .filter(|d| days.contains(d))
        .unwrap_or_else(|| days[0].clone());
    let moving = match choice.moving {
        Some(id) => booking::appointment(&state.db, id)
            .await?
            .filter(|a| a.person_id == person)
            .map(|a| {
                let at = format!(
                    "{} {:02}:{:02} {}",
                    a.day,
                    a.starts_min / 60,
                    a.starts_min % 60,
                    a.site_name
                );
                (a.id, at)
            }),
        None => None,
    };
    let slots = match &site {
        Some(s) => slots::of_site_day(&state.db, s.id, &date).await?,
        None => vec![],
    };
    Ok(BookPage {
        ctx: page.ctx("/me").await?,
        sites: all,
        days,
        site,
        date,
        slots,
        notice,
        moving,
    })
}

async fn choose(
    State(state): State<AppState>,
    page: Page,
    Query(choice): Query<Choice>,
) -> AppResult<Html<String>> {
    let user = require(&state, &page.auth, &[Role::Resident], "/me/book").await?;
    let person = user.person_id.ok_or(AppError::NotFound)?;
    html(&page_for(&state, &page, person, choice, None).await?)
}

#[derive(Deserialize)]
struct BookForm {
    slot_id: i64,
    #[serde(default)]
    site: Option<String>,
    #[serde(default)]
    date: Option<String>,
    /// Move this appointment of the resident's instead of booking a new one.
    #[serde(default, rename = "move")]
    moving: Option<i64>,
}

async fn book(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<BookForm>,
) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::Resident], "/me/book").await?;
    let person = user.person_id.ok_or(AppError::NotFound)?;
    let req = Request {
        slot_id: form.slot_id,
        people: &[person],
        dose_number: 1,
        team_id: None,
        walk_in: false,
    };
    let result = match form.moving {
        Some(id) => {
            let own = booking::appointment(&state.db, id)
                .await?
                .is_some_and(|a| a.person_id == person);
            if !own {
                return Err(crate::access::deny(&state, Some(user), "/me/book move").await);
            }
            vaxloop_app::booking::reschedule(&state.db, state.config.timezone, id, form.slot_id)
                .await?
        }
        None => vaxloop_app::booking::book(&state.db, state.config.timezone, &req).await?,
    };
    match result {
        Ok(_) => Ok(Redirect::to("/me").into_response()),
        Err(refusal) => {
            let notice = refusal_message(page.lang, &refusal);
            let choice = Choice {
                site: form.site,
                date: form.date,
                moving: form.moving,
            };
            Ok((
                axum::http::StatusCode::CONFLICT,
                html(&page_for(&state, &page, person, choice, Some(notice)).await?)?,
            )
                .into_response())
        }
    }
}

/// A refusal in the reader's language.
pub(crate) fn refusal_message(lang: crate::i18n::Lang, refusal: &BookRefusal) -> String {
    match refusal {
        BookRefusal::Store(Refusal::SlotFull { .. }) => lang.t("book.slot_full"),
        BookRefusal::Store(Refusal::NoDoses { .. }) => lang.t("book.no_doses"),
        BookRefusal::Store(Refusal::AlreadyBooked { .. }) => lang.t("book.already"),
        BookRefusal::Store(Refusal::NotBookable { .. }) => lang.t("book.not_bookable"),
        BookRefusal::Store(Refusal::NoSlot) => lang.t("error.not_found"),
        BookRefusal::NoPriorDose { .. } => lang.t("book.no_prior_dose"),
        BookRefusal::TooEarly { earliest, .. } => {
            lang.tf("book.too_early", &[("date", &earliest.to_string())])
        }
        BookRefusal::SiteNotServing { .. } => lang.t("book.site_not_serving"),
    }
}

async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let user = require(&state, &page.auth, &[Role::Resident], "/me/appointments").await?;
    let own = booking::appointment(&state.db, id)
        .await?
        .filter(|a| Some(a.person_id) == user.person_id);
    if own.is_none() {
        return Err(crate::access::deny(
            &state,
            Some(user),
            &format!("/me/appointments/{id}/cancel"),
        )
        .await);
    }
    booking::cancel(&state.db, id).await?;
    Ok(Redirect::to("/me").into_response())
}
