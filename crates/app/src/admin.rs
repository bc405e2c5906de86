//! The town admin's overview, the logins and the audit log, and the appointment desk's board of
//! the next three days.

use chrono::Days;
use vaxloop_core::{Role, SitePost};
use vaxloop_store::{audit, journeys, org, sites, teams, users, vaccines};

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
    /// When the figures were counted (milliseconds since the epoch; see [`crate::kept`]).
    pub counted_at: i64,
}

/// The admin's overview, as last counted (see [`crate::kept`]).
pub async fn overview(app: &App, caller: &Caller) -> Result<TownOverview> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let counts = crate::funnel::town_counts(app).await?;
    let town = &counts.value;
    Ok(TownOverview {
        overview: town.overview.clone(),
        registered: town.registered,
        groups: town.groups.clone(),
        counted_at: counts.at_ms,
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
    let mut entries = audit::recent(app.db(), limit).await?;
    // A login the entry is about is named by its username, not its row number.
    let mut names: std::collections::HashMap<i64, String> = std::collections::HashMap::new();
    for e in &mut entries {
        let Some(id) = e
            .target
            .strip_prefix("user:")
            .and_then(|i| i.parse::<i64>().ok())
        else {
            continue;
        };
        let name = match names.get(&id) {
            Some(name) => name.clone(),
            None => {
                let name = vaxloop_store::users::by_id(app.db(), id)
                    .await?
                    .and_then(|u| u.username)
                    .unwrap_or_else(|| format!("#{id}"));
                names.insert(id, name.clone());
                name
            }
        };
        e.target = format!("user:{name}");
    }
    Ok(entries)
}

/// The desk's board: each site's supply for the next three days, who waits longest, and the
/// teams booked into those days.
#[derive(Debug, Clone)]
pub struct DeskBoard {
    /// The three days, `YYYY-MM-DD`.
    pub days: Vec<String>,
    pub sites: Vec<Site>,
    pub supply: Vec<SiteDay>,
    /// Units with people waiting, the most first: `(code, name, waiting)`.
    pub waiting: Vec<(String, String, i64)>,
    /// The page of teams the filter asked for.
    pub teams: Vec<TeamRow>,
    /// How many teams the filter names in all, and how many pages of
    /// [`TEAMS_PER_PAGE`] that makes.
    pub teams_total: i64,
    pub pages: i64,
}

/// Teams listed per page on the desk.
pub const TEAMS_PER_PAGE: i64 = 50;

/// Which of the next three days' teams the desk lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamFilter {
    /// A site's code.
    pub site: Option<String>,
    /// One of the three days, `YYYY-MM-DD`.
    pub day: Option<String>,
    /// Part of a unit's name, a unit's code or a team's code.
    pub text: Option<String>,
    /// `booked` (teams holding appointments; the default), `cancelled` (holding none) or `all`.
    pub state: Option<String>,
    /// From 1.
    pub page: i64,
}

/// What a desk user may do with a team, and what it is.
#[derive(Debug, Clone)]
pub struct DeskTeam {
    pub team: TeamRow,
    /// The sites and days it may be moved to.
    pub sites: Vec<Site>,
    pub days: Vec<String>,
}

/// One team, for the desk's page of its actions.
pub async fn desk_team(app: &App, caller: &Caller, code: &str) -> Result<DeskTeam> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let team = teams::by_code(app.db(), code)
        .await?
        .ok_or(crate::Error::NotFound)?;
    Ok(DeskTeam {
        team,
        sites: sites::all(app.db()).await?,
        days: next_days(app),
    })
}

/// The three days the desk plans: tomorrow and the two after.
fn next_days(app: &App) -> Vec<String> {
    let today = app.today();
    (1..=3)
        .filter_map(|d| today.checked_add_days(Days::new(d)))
        .map(|d| d.to_string())
        .collect()
}

/// A site-day's slots as the desk picks a team's first one: `(starts, ends, free places)` in
/// minutes past midnight, for the admin and the desk; none for a site or day it does not know.
pub async fn slot_starts(
    app: &App,
    caller: &Caller,
    site: &str,
    day: &str,
) -> Result<Vec<(i64, i64, i64)>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let Some(site) = sites::by_code(app.db(), site).await? else {
        return Ok(Vec::new());
    };
    if chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").is_err() {
        return Ok(Vec::new());
    }
    Ok(vaxloop_store::slots::of_site_day(app.db(), site.id, day)
        .await?
        .into_iter()
        .map(|s| (s.starts_min, s.ends_min, (s.capacity - s.booked).max(0)))
        .collect())
}

/// The desk's board, for the admin and the desk: the next three days' supply, the units with
/// people waiting, and a page of the teams `filter` names.
pub async fn desk_board(app: &App, caller: &Caller, filter: &TeamFilter) -> Result<DeskBoard> {
    scope::require(app, caller, &[Role::Admin, Role::Desk]).await?;
    let db = app.db();
    let days = next_days(app);
    let (from, to) = (
        days.first().cloned().unwrap_or_default(),
        days.last().cloned().unwrap_or_default(),
    );
    let all_sites = sites::all(db).await?;
    let site_id = filter
        .site
        .as_ref()
        .and_then(|c| all_sites.iter().find(|s| &s.code == c))
        .map(|s| s.id);
    let day = filter
        .day
        .as_deref()
        .filter(|d| days.iter().any(|x| x == d));
    let holding = match filter.state.as_deref() {
        Some("cancelled") => Some(false),
        Some("all") => None,
        _ => Some(true),
    };
    let page = filter.page.max(1);
    let find = teams::Find {
        from: &from,
        to: &to,
        site_id,
        day,
        text: filter
            .text
            .as_deref()
            .map(|t| t.trim())
            .filter(|t| !t.is_empty()),
        holding,
        limit: TEAMS_PER_PAGE,
        offset: (page - 1).saturating_mul(TEAMS_PER_PAGE),
    };
    let (teams, teams_total) = teams::find(db, &find).await?;
    Ok(DeskBoard {
        supply: vaccines::site_days(db, &from, &to, None).await?,
        sites: all_sites,
        waiting: journeys::waiting_by_unit(db, 2000).await?,
        teams,
        pages: ((teams_total + TEAMS_PER_PAGE - 1) / TEAMS_PER_PAGE).max(1),
        teams_total,
        days,
    })
}
