//! The town admin's overview, the logins and the audit log, and the appointment desk's board of
//! the next three days.

use chrono::Days;
use vaxloop_core::{Role, SitePost};
use vaxloop_store::{audit, journeys, org, sites, stats, teams, users, vaccines};

pub use vaxloop_store::audit::Logged;
pub use vaxloop_store::stats::Overview;
pub use vaxloop_store::teams::TeamRow;
pub use vaxloop_store::vaccines::SiteDay;

use crate::error::Result;
use crate::org::GroupProgress;
use crate::sites::Site;
use crate::{App, Caller, scope};

/// The town at a glance.
#[derive(Debug, Clone)]
pub struct TownOverview {
    pub overview: Overview,
    /// Everyone registered, in any journey state.
    pub registered: i64,
    pub groups: Vec<GroupProgress>,
}

/// The admin's overview.
pub async fn overview(app: &App, caller: &Caller) -> Result<TownOverview> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let db = app.db();
    Ok(TownOverview {
        overview: stats::overview(db).await?,
        registered: journeys::state_counts(db, None, None)
            .await?
            .iter()
            .map(|(_, n)| n)
            .sum(),
        groups: org::group_progress(db).await?,
    })
}

/// A staff login as the admin's list shows it.
#[derive(Debug, Clone)]
pub struct LoginLine {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub post: Option<SitePost>,
    /// The group, unit or site the login is bound to, by name; none for town-wide roles.
    pub scope: Option<String>,
    pub locked: bool,
}

/// Every staff login (residents' logins are not listed), for the admin.
pub async fn logins(app: &App, caller: &Caller) -> Result<Vec<LoginLine>> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let db = app.db();
    let groups = org::work_groups(db).await?;
    let units = org::units(db, None).await?;
    let all_sites = sites::all(db).await?;
    let now = vaxloop_store::now_ms();
    Ok(users::list_staff(db)
        .await?
        .into_iter()
        .map(|u| {
            let scope = match u.role {
                Role::GroupLeader => groups
                    .iter()
                    .find(|g| Some(g.id) == u.work_group_id)
                    .map(|g| g.name.clone()),
                Role::UnitContact => units
                    .iter()
                    .find(|x| Some(x.id) == u.unit_id)
                    .map(|x| x.name.clone()),
                Role::SiteStaff => all_sites
                    .iter()
                    .find(|s| Some(s.id) == u.site_id)
                    .map(|s| s.name.clone()),
                _ => None,
            };
            LoginLine {
                username: u.username.unwrap_or_default(),
                display_name: u.display_name,
                role: u.role,
                post: u.site_post,
                scope,
                locked: u.locked_until.is_some_and(|t| t > now),
            }
        })
        .collect())
}

/// The newest `limit` audit entries, for the admin.
pub async fn audit_log(app: &App, caller: &Caller, limit: i64) -> Result<Vec<Logged>> {
    scope::require(app, caller, &[Role::Admin]).await?;
    Ok(audit::recent(app.db(), limit).await?)
}

/// The desk's board: each site's supply for the next three days, who waits longest, and the
/// teams booked into those days.
#[derive(Debug, Clone)]
pub struct DeskBoard {
    /// The three days, `YYYY-MM-DD`.
    pub days: Vec<String>,
    pub sites: Vec<Site>,
    pub supply: Vec<SiteDay>,
    /// Units with the most people waiting: `(code, name, waiting)`.
    pub waiting: Vec<(String, String, i64)>,
    pub teams: Vec<TeamRow>,
}

/// The desk's board, for the admin and the desk.
pub async fn desk_board(app: &App, caller: &Caller) -> Result<DeskBoard> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let db = app.db();
    let today = app.today();
    let days: Vec<String> = (1..=3)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .map(|d| d.to_string())
        .collect();
    let (from, to) = (
        days.first().cloned().unwrap_or_default(),
        days.last().cloned().unwrap_or_default(),
    );
    Ok(DeskBoard {
        supply: vaccines::site_days(db, &from, &to, None).await?,
        sites: sites::all(db).await?,
        waiting: journeys::waiting_by_unit(db, 20).await?,
        teams: teams::of_days(db, &from, &to).await?,
        days,
    })
}
