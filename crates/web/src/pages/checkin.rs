//! The check-in desk's page on a site tablet: one large field that a handheld scanner types the
//! personal QR code into (or the desk types an ID number), and a card with who it is — name,
//! masked ID number, appointment, team colour label, green channel — or why not. A second scan
//! says when the person was checked in, and changes nothing.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Html;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::stations::{CheckIn, CheckInRefusal, DeskRegistration, Site, Station, WalkedIn};
use vaxloop_core::SitePost;
use vaxloop_core::hhmm;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/sites/{code}/checkin", get(show).post(scan))
        .route("/sites/{code}/checkin/walk-in", post(walk_in))
        .route("/sites/{code}/checkin/register", post(register))
}

/// What the card shows after a scan.
struct Card {
    /// `fresh`, `before` or `refused`.
    kind: &'static str,
    headline: String,
    name: String,
    id_masked: String,
    appointment: String,
    /// `(label text, colour index)` of the person's team; the stylesheet has `label-c0` …
    /// `label-c19`.
    label: Option<(String, u8)>,
    green: bool,
    /// For a registered person without an appointment here today: their personal code, to
    /// book them as a walk-in (never the typed ID number).
    walk_in: Option<String>,
    /// For someone far too early for their slot: their personal code, to check them in anyway.
    early: Option<String>,
}

#[derive(Template)]
#[template(path = "checkin/checkin.html")]
struct CheckinPage {
    ctx: PageCtx,
    site: Site,
    card: Option<Card>,
    /// The walk-in registration form, open when an ID number was not found (or being
    /// corrected), with what was entered and the problems found.
    register: Option<(DeskRegistration, Vec<(String, String)>)>,
    /// Units this site serves, offered for the registration (all units when it names none).
    units: Vec<(String, String)>,
    /// The site's stations, this one marked.
    tabs: Vec<super::station::Tab>,
}

impl CheckinPage {
    /// The translated problem with a registration field, if any.
    fn problem(&self, field: &str) -> Option<String> {
        let (_, problems) = self.register.as_ref()?;
        crate::furniture::field_error(problems, field)
    }
}

async fn desk_of(state: &AppState, page: &Page, code: &str) -> AppResult<Station> {
    super::station::station_of(state, page, code, SitePost::CheckIn).await
}

async fn show(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
) -> AppResult<Html<String>> {
    let desk = desk_of(&state, &page, &code).await?;
    html(&CheckinPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
        site: desk.into_site(),
        card: None,
        register: None,
        units: Vec::new(),
    })
}

#[derive(Deserialize)]
struct ScanForm {
    code: String,
    /// The desk checks in someone who came far too early for their slot.
    #[serde(default)]
    early: Option<String>,
}

async fn scan(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<ScanForm>,
) -> AppResult<Html<String>> {
    let desk = desk_of(&state, &page, &code).await?;
    if form.code.trim().is_empty() || form.code.len() > 256 {
        return Err(AppError::BadRequest {
            field: Some("code".into()),
            message: "checkin.code_required".into(),
        });
    }
    let lang = page.lang;
    let done = desk
        .check_in(&state.app, &form.code, form.early.is_some())
        .await?;
    // A registered person without an appointment here today may walk in: the card carries
    // their personal code for it.
    let may_walk_in = done.as_ref().err().is_some_and(CheckInRefusal::may_walk_in);
    let unknown = matches!(done, Err(CheckInRefusal::UnknownPerson));
    let too_early = matches!(done, Err(CheckInRefusal::TooEarly { .. }));
    let mut card = card_of(&state, lang, done);
    if may_walk_in {
        card.walk_in = desk.walk_in_code(&state.app, &form.code).await?;
    }
    if too_early {
        // Their personal code, never a typed ID number, goes into the page.
        card.early = desk.walk_in_code(&state.app, &form.code).await?;
    }
    // Nobody with this ID number: register them here, then book and check them in.
    let (register, units) = if unknown {
        (
            Some((DeskRegistration::default(), Vec::new())),
            desk.walk_in_units(&state.app).await?,
        )
    } else {
        (None, Vec::new())
    };
    html(&CheckinPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
        site: desk.into_site(),
        card: Some(card),
        register,
        units,
    })
}

/// The card for a check-in's outcome.
fn card_of(
    state: &AppState,
    lang: crate::i18n::Lang,
    done: Result<CheckIn, CheckInRefusal>,
) -> Card {
    match done {
        Ok(c) => {
            let at = state.config.local_hhmm(c.visit.checked_in_at);
            let label = c.appointment.team.as_ref().map(|(_, colour, number)| {
                let l = vaxloop_core::Label::from_stored(*colour, *number);
                let text = if lang == crate::i18n::Lang::En {
                    l.en()
                } else {
                    l.zh()
                };
                (text, l.colour % 20)
            });
            Card {
                kind: if c.fresh { "fresh" } else { "before" },
                headline: if c.fresh {
                    lang.t("checkin.done")
                } else {
                    lang.tf("checkin.already", &[("time", &at)])
                },
                name: c.person.name,
                id_masked: c.person.id_masked,
                appointment: format!(
                    "{} {}–{} · {}",
                    c.appointment.day,
                    hhmm(c.appointment.starts_min),
                    hhmm(c.appointment.ends_min),
                    lang.tf(
                        "checkin.dose",
                        &[("n", &c.appointment.dose_number.to_string())]
                    )
                ),
                label,
                green: c.visit.green,
                walk_in: None,
                early: None,
            }
        }
        Err(refusal) => Card {
            kind: "refused",
            headline: crate::messages::check_in(lang, state, &refusal),
            name: String::new(),
            id_masked: String::new(),
            appointment: String::new(),
            label: None,
            green: false,
            walk_in: None,
            early: None,
        },
    }
}

#[derive(Deserialize)]
struct WalkInForm {
    /// The person's personal code, as the check-in card carried it.
    code: String,
}

/// Books a registered person who came without an appointment here today into the slot under
/// way (their appointment elsewhere moves here), then checks them in.
async fn walk_in(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<WalkInForm>,
) -> AppResult<Html<String>> {
    let desk = desk_of(&state, &page, &code).await?;
    let done = desk.walk_in(&state.app, &form.code).await?;
    let card = card_of(&state, page.lang, done);
    html(&CheckinPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
        site: desk.into_site(),
        card: Some(card),
        register: None,
        units: Vec::new(),
    })
}

/// Registers a walk-in nobody knew (the desk has their identity card in hand), then books them
/// into the slot under way and checks them in.
async fn register(
    State(state): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    Form(form): Form<DeskRegistration>,
) -> AppResult<Response> {
    let desk = desk_of(&state, &page, &code).await?;
    let lang = page.lang;
    let done = match desk.register_walk_in(&state.app, &form).await? {
        Ok(WalkedIn::Registered(done)) => *done,
        Ok(WalkedIn::AlreadyRegistered) => {
            let card = Card {
                kind: "refused",
                headline: lang.t("checkin.already_registered"),
                ..card_of(&state, lang, Err(CheckInRefusal::UnknownPerson))
            };
            let body = html(&CheckinPage {
                ctx: page.ctx("/site").await?,
                tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
                site: desk.into_site(),
                card: Some(card),
                register: None,
                units: Vec::new(),
            })?;
            return Ok((StatusCode::CONFLICT, body).into_response());
        }
        Err(problems) => {
            let problems = problems
                .iter()
                .map(|p| {
                    let message = lang.t(&format!("register.problem.{}", p.code));
                    (p.field.to_string(), message)
                })
                .collect();
            // The ID number is never echoed back: the desk types it again.
            let entered = DeskRegistration {
                id_number: String::new(),
                ..form
            };
            let units = desk.walk_in_units(&state.app).await?;
            let body = html(&CheckinPage {
                ctx: page.ctx("/site").await?,
                tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
                site: desk.into_site(),
                card: None,
                register: Some((entered, problems)),
                units,
            })?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, body).into_response());
        }
    };
    let card = card_of(&state, lang, done);
    Ok(html(&CheckinPage {
        ctx: page.ctx("/site").await?,
        tabs: super::station::tabs(page.lang, &desk, SitePost::CheckIn),
        site: desk.into_site(),
        card: Some(card),
        register: None,
        units: Vec::new(),
    })?
    .into_response())
}
