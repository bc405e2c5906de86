//! A site's stations as their staff use them, the page and the API alike: check-in (and walk-ins),
//! screening, vaccination and observation. [`station`] checks once that the caller works that
//! post at that site (or manages the site, or is the admin) — a refusal audited, the same whether
//! or not the site exists — and answers a [`Station`], which the station's reads and acts then
//! need: nothing here can be reached without passing that check. The acts themselves are
//! `site_ops`'s, each in its own transaction with the visit and journey rows that record who did
//! it; a wrong presence code is audited here, so guessing shows whichever door it came through.

use std::collections::HashMap;

use vaxloop_core::{Role, SitePost, ZoneKind};
use vaxloop_store::{doses, org, screening, sites, visits};

pub use crate::register::{DeskRegistered, DeskRegistration, FieldProblem, RegisterError};
pub use crate::site_ops::{
    AefiRefusal, AefiReport, CheckIn, CheckInRefusal, Decision, DoseGiven, Proof, QR_PREFIX,
    ReleaseRefusal, ScreenRefusal, VaccinateRefusal, Vaccinated,
};
pub use vaxloop_store::doses::{LotChoice, Observed};
pub use vaxloop_store::screening::Question;
pub use vaxloop_store::sites::Site;
pub use vaxloop_store::visits::Waiting;

use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller, register, scope, site_ops};

/// A station the caller was let into: the site, and who works it.
#[derive(Debug, Clone)]
pub struct Station {
    site: Site,
    caller: Caller,
}

/// The station `post` at the site with code `code`, when the caller works it there; an audited
/// denial otherwise.
pub async fn station(app: &App, caller: &Caller, code: &str, post: SitePost) -> Result<Station> {
    let site = sites::by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &site, |a, s| scope::works_at(a, s.id, post)).await?;
    Ok(Station {
        site: site.ok_or(Error::NotFound)?,
        caller: caller.clone(),
    })
}

/// The site with code `code`, when the caller may watch its day — the board and the
/// reconciliation: its manager, the admin, or the desk; an audited denial otherwise.
pub async fn watched(app: &App, caller: &Caller, code: &str) -> Result<Site> {
    let site = sites::by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &site, |a, s| {
        scope::works_at(a, s.id, SitePost::Manager) || a.role == Role::Desk
    })
    .await?;
    site.ok_or(Error::NotFound)
}

/// The questions screening answered "yes" to, by visit.
pub type Notes = HashMap<i64, Vec<Question>>;

/// What the vaccinator needs for a called visit: the lots to choose from (with any open vial)
/// and the vaccine's observation minutes.
#[derive(Debug, Clone)]
pub struct DoseChoice {
    pub vaccine_id: i64,
    pub vaccine_name: String,
    pub lots: Vec<LotChoice>,
    pub observation_minutes: i64,
}

impl Station {
    pub fn site(&self) -> &Site {
        &self.site
    }

    pub fn into_site(self) -> Site {
        self.site
    }

    fn actor(&self) -> Option<i64> {
        self.caller.user_id()
    }

    /// The site's stations in the order people pass them (check-in, screening, vaccination,
    /// observation), each with whether the caller may open it; then whether they may watch the
    /// site's board and day.
    pub fn flow(&self) -> (Vec<(SitePost, bool)>, bool) {
        let posts = [
            SitePost::CheckIn,
            SitePost::Screening,
            SitePost::Vaccinator,
            SitePost::Observation,
        ];
        let actor = self.caller.actor();
        let may = |post| actor.is_some_and(|a| scope::works_at(a, self.site.id, post));
        let stations = posts.iter().map(|&p| (p, may(p))).collect();
        let watches = actor.is_some_and(|a| scope::watches(a, self.site.id));
        (stations, watches)
    }

    fn today(app: &App) -> String {
        app.today().to_string()
    }

    /// Who waits today at the stages given, the green channel first.
    pub async fn queue(&self, app: &App, stages: &[&str]) -> Result<Vec<Waiting>> {
        let today = Self::today(app);
        Ok(visits::queue(app.db(), self.site.id, &today, stages).await?)
    }

    /// Who is in observation today.
    pub async fn observing(&self, app: &App) -> Result<Vec<Observed>> {
        let today = Self::today(app);
        Ok(doses::observing(app.db(), self.site.id, &today).await?)
    }

    /// The observation zone's seats.
    pub async fn observation_seats(&self, app: &App) -> Result<i64> {
        Ok(sites::zones(app.db(), self.site.id)
            .await?
            .into_iter()
            .find(|z| z.kind == ZoneKind::Observation)
            .map(|z| z.space)
            .unwrap_or(0))
    }

    /// What screening noted for each of `visits` (the questions answered "yes"): shown to the
    /// vaccinator and the observation nurse.
    pub async fn notes(&self, app: &App, visits: &[i64]) -> Result<Notes> {
        Ok(screening::yes_answers(app.db(), visits).await?)
    }

    /// The questions of the vaccine visit `visit_id` is for.
    pub async fn questions(&self, app: &App, visit_id: i64) -> Result<Vec<Question>> {
        match visits::by_id(app.db(), visit_id).await? {
            Some((_, vaccine)) => Ok(screening::questions(app.db(), vaccine).await?),
            None => Ok(Vec::new()),
        }
    }

    /// The lots a dose for visit `visit_id` may come from here on the visit's day, and its
    /// observation minutes; `None` when the visit is not one of this site's.
    pub async fn dose_choice(&self, app: &App, visit_id: i64) -> Result<Option<DoseChoice>> {
        let Some((visit, vaccine_id)) = visits::by_id(app.db(), visit_id).await? else {
            return Ok(None);
        };
        if visit.site_id != self.site.id {
            return Ok(None);
        }
        let now = vaxloop_store::now_ms();
        let lots = doses::lots_for(
            app.db(),
            self.site.id,
            vaccine_id,
            &visit.day,
            now,
            self.actor(),
        )
        .await?;
        let vaccine = vaxloop_store::vaccines::all(app.db())
            .await?
            .into_iter()
            .find(|v| v.id == vaccine_id);
        Ok(Some(DoseChoice {
            vaccine_id,
            vaccine_name: vaccine.as_ref().map(|v| v.name.clone()).unwrap_or_default(),
            lots,
            observation_minutes: vaccine.map_or(30, |v| v.observation_minutes),
        }))
    }

    /// Checks in whoever `typed` names (a scanned personal code or a typed ID number) for today;
    /// someone far too early for their slot only when the desk says `early_ok`.
    pub async fn check_in(
        &self,
        app: &App,
        typed: &str,
        early_ok: bool,
    ) -> Result<std::result::Result<CheckIn, CheckInRefusal>> {
        let limit = if early_ok { None } else { app.early_check_in() };
        let done = site_ops::check_in(
            app.db(),
            app.cipher(),
            self.site.id,
            site_ops::At::now(app.tz(), limit),
            typed,
            self.actor(),
        )
        .await?;
        Ok(done)
    }

    /// The personal code (`VXL1:…`) of the registered person `typed` names, for the desk to book
    /// them as a walk-in — never the typed ID number itself.
    pub async fn walk_in_code(&self, app: &App, typed: &str) -> Result<Option<String>> {
        Ok(
            match site_ops::resolve(app.db(), app.cipher(), app.today(), typed).await? {
                Ok(person) => Some(personal_code(app, person.id)),
                Err(_) => None,
            },
        )
    }

    /// The units a walk-in may be registered with here: those the site serves, or every unit.
    pub async fn walk_in_units(&self, app: &App) -> Result<Vec<(String, String)>> {
        let served = sites::units_served(app.db(), self.site.id).await?;
        if !served.is_empty() {
            return Ok(served
                .into_iter()
                .map(|(_, code, name)| (code, name))
                .collect());
        }
        Ok(org::units(app.db(), None)
            .await?
            .into_iter()
            .take(500)
            .map(|u| (u.code, u.name))
            .collect())
    }

    /// Books the registered person `personal` names (their personal code) into the slot under
    /// way here, then checks them in (see [`site_ops::walk_in`]).
    pub async fn walk_in(
        &self,
        app: &App,
        personal: &str,
    ) -> Result<std::result::Result<CheckIn, CheckInRefusal>> {
        let now = chrono::Utc::now().with_timezone(&app.tz()).naive_local();
        let now = app.today().and_time(now.time());
        let done = site_ops::walk_in(app, self.site.id, now, personal, self.actor()).await?;
        Ok(done)
    }

    /// Registers a walk-in nobody knew (the desk has their identity card in hand), then books and
    /// checks them in as [`Station::walk_in`] does.
    pub async fn register_walk_in(
        &self,
        app: &App,
        form: &DeskRegistration,
    ) -> Result<std::result::Result<WalkedIn, Vec<FieldProblem>>> {
        let registered =
            register::register_at_desk(app.db(), app.cipher(), form, app.today(), self.actor())
                .await;
        let person = match registered {
            Ok(DeskRegistered::Done { person_id }) => person_id,
            Ok(DeskRegistered::AlreadyRegistered) => return Ok(Ok(WalkedIn::AlreadyRegistered)),
            Err(RegisterError::Invalid(problems)) => return Ok(Err(problems)),
            Err(RegisterError::Store(e)) => return Err(e.into()),
            Err(RegisterError::Hashing(e)) => return Err(Error::Internal(e)),
        };
        let personal = personal_code(app, person);
        let done = self.walk_in(app, &personal).await?;
        Ok(Ok(WalkedIn::Registered(Box::new(done))))
    }

    /// Records the screening of visit `visit_id`; answers the visit's new stage.
    pub async fn screen(
        &self,
        app: &App,
        visit_id: i64,
        answers: &[(i64, bool)],
        decision: &Decision,
    ) -> Result<std::result::Result<&'static str, ScreenRefusal>> {
        let done = site_ops::screen(
            app.db(),
            self.site.id,
            app.today(),
            visit_id,
            answers,
            decision,
            self.actor(),
        )
        .await?;
        Ok(done)
    }

    /// Gives a dose (see [`site_ops::vaccinate`]); a wrong presence code is audited.
    pub async fn vaccinate(
        &self,
        app: &App,
        dose: &DoseGiven,
    ) -> Result<std::result::Result<Vaccinated, VaccinateRefusal>> {
        let done = site_ops::vaccinate(
            app.db(),
            app.cipher(),
            self.site.id,
            app.today(),
            dose,
            self.actor(),
        )
        .await?;
        if matches!(done, Err(VaccinateRefusal::WrongCode)) {
            let target = format!("visit:{}", dose.visit_id);
            let mut tx = app.db().begin_write().await?;
            audit::write_denied(&mut tx, &self.caller, Act::new("dose.wrong_code", &target))
                .await?;
            tx.commit().await?;
        }
        Ok(done)
    }

    /// Releases visit `visit_id` from observation (early only with a reason).
    pub async fn release(
        &self,
        app: &App,
        visit_id: i64,
        early_reason: Option<&str>,
    ) -> Result<std::result::Result<(), ReleaseRefusal>> {
        let done = site_ops::release(
            app.db(),
            self.site.id,
            app.today(),
            visit_id,
            early_reason,
            self.actor(),
        )
        .await?;
        Ok(done)
    }

    /// Records an adverse event after a dose given here today; answers the report's id.
    pub async fn report_aefi(
        &self,
        app: &App,
        report: &AefiReport,
    ) -> Result<std::result::Result<i64, AefiRefusal>> {
        let done = site_ops::report_aefi(
            app.db(),
            app.tz(),
            self.site.id,
            app.today(),
            report,
            self.actor(),
        )
        .await?;
        Ok(done)
    }
}

/// What registering and booking a walk-in came to.
#[derive(Debug)]
pub enum WalkedIn {
    /// Registered here, then booked and checked in (or refused that).
    Registered(Box<std::result::Result<CheckIn, CheckInRefusal>>),
    /// The ID number is registered already: check them in by it.
    AlreadyRegistered,
}

/// A person's personal code, as their QR code carries it.
fn personal_code(app: &App, person_id: i64) -> String {
    format!("{QR_PREFIX}{}", app.cipher().sign("person", person_id))
}
