//! The resident books, and cancels, their own first-dose appointment on their phone: a site and
//! a day, then a slot with free places. Refusals (a slot that filled a moment ago, a day without
//! doses) say so and offer the others.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::booking::{self, Booking, Slot};
use vaxloop_app::residents::Next;
use vaxloop_app::sites::Site;

use crate::AppState;
use crate::error::AppResult;
use crate::furniture::{Page, PageCtx, html};

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
#[template(path = "book/book.html")]
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
    /// Why the resident cannot book now, or from which day they can: said instead of, or
    /// above, the choices.
    why: Option<String>,
    /// Whether there is anything to book (no: only `why` is shown).
    may_book: bool,
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
    choice: Choice,
    notice: Option<String>,
) -> AppResult<BookPage> {
    let c = booking::choices(
        &state.app,
        &page.caller(),
        choice.site.as_deref(),
        choice.date.as_deref(),
        choice.moving,
    )
    .await?;
    let moving = c.moving.map(|a| {
        let at = format!(
            "{} {} {}",
            a.day,
            vaxloop_core::hhmm(a.starts_min),
            a.site_name
        );
        (a.id, at)
    });
    let lang = page.lang;
    let today = state.config.today();
    let may_book = moving.is_some() || matches!(c.next, Next::Book { .. });
    let why = match (&c.next, &moving) {
        (_, Some(_)) => None,
        (Next::Book { dose, from }, None) if *from > today => Some(lang.tf(
            "book.why.from",
            &[
                ("dose", &dose.to_string()),
                ("day", &lang.day(&from.to_string())),
            ],
        )),
        (Next::Book { .. }, None) => None,
        (Next::Unconfirmed, None) => Some(lang.t("book.why.unconfirmed")),
        (Next::Booked { .. } | Next::AtSite { .. }, None) => Some(lang.t("book.why.booked")),
        (Next::Deferred { until: Some(d), .. }, None) => Some(lang.tf(
            "book.why.deferred_until",
            &[("day", &lang.day(&d.to_string()))],
        )),
        (Next::Deferred { until: None, .. }, None) => Some(lang.t("book.why.deferred")),
        (Next::Complete { .. }, None) => Some(lang.t("book.why.complete")),
        (Next::Declined, None) => Some(lang.t("book.why.declined")),
    };
    Ok(BookPage {
        ctx: page.ctx("/me").await?,
        why,
        may_book: may_book && !c.days.is_empty(),
        sites: c.sites,
        days: c.days,
        site: c.site,
        date: c.date,
        slots: c.slots,
        notice,
        moving,
    })
}

async fn choose(
    State(state): State<AppState>,
    page: Page,
    Query(choice): Query<Choice>,
) -> AppResult<Html<String>> {
    html(&page_for(&state, &page, choice, None).await?)
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
    let caller = page.caller();
    let refusal = match form.moving {
        Some(id) => booking::reschedule(&state.app, &caller, id, form.slot_id)
            .await?
            .err(),
        None => match booking::book_mine(&state.app, &caller, form.slot_id).await? {
            Booking::Refused { refusal, .. } => Some(refusal),
            _ => None,
        },
    };
    match refusal {
        None if form.moving.is_some() => Ok(Redirect::to("/me?done=moved").into_response()),
        None => Ok(Redirect::to("/me?done=booked").into_response()),
        Some(refusal) => {
            let notice = crate::messages::booking(page.lang, &refusal);
            let choice = Choice {
                site: form.site,
                date: form.date,
                moving: form.moving,
            };
            Ok((
                axum::http::StatusCode::CONFLICT,
                html(&page_for(&state, &page, choice, Some(notice)).await?)?,
            )
                .into_response())
        }
    }
}

async fn cancel(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    booking::cancel_own(&state.app, &page.caller(), id).await?;
    Ok(Redirect::to("/me?done=cancelled").into_response())
}
