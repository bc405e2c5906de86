//! What a work group's leader and a unit's contact read: the group with its units' figures, the
//! unit with its roster (masked), pending registrations, inbox and planning preferences — and
//! the two small things they change there: when the unit's people can come, and the inbox read.

use vaxloop_core::{Label, Role};
use vaxloop_store::notifications;
use vaxloop_store::org::{self, UnitProgress};
use vaxloop_store::people::{self, Person};
use vaxloop_store::planning::{self, UnitPrefs};

use super::{Unit, WorkGroup};
use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{Actor, App, Caller, scope};

/// The work group a group leader leads.
pub async fn my_group(app: &App, caller: &Caller) -> Result<WorkGroup> {
    scope::require(app, caller, &[Role::GroupLeader]).await?;
    let id = caller
        .actor()
        .and_then(|a| a.work_group_id)
        .ok_or(Error::NotFound)?;
    org::work_group(app.db(), id).await?.ok_or(Error::NotFound)
}

/// A work group with its units' mobilisation figures.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: WorkGroup,
    pub units: Vec<UnitProgress>,
    pub target: i64,
    pub people: i64,
    pub registered: i64,
    /// The reader may add and edit the group's units.
    pub can_manage: bool,
}

/// The work group coded `code`, for whoever may see it; not-found and not-yours answer alike,
/// so codes cannot be probed.
pub async fn group(app: &App, caller: &Caller, code: &str) -> Result<GroupView> {
    let group = org::work_group_by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &group, |a, g| scope::can_see_group(a, g.id)).await?;
    let group = group.ok_or(Error::NotFound)?;
    let units = org::unit_progress(app.db(), Some(group.id), None).await?;
    Ok(GroupView {
        target: units.iter().map(|u| u.target).sum(),
        people: units.iter().map(|u| u.people).sum(),
        registered: units.iter().map(|u| u.registered).sum(),
        can_manage: caller
            .actor()
            .is_none_or(|a| scope::can_manage_group(a, group.id)),
        units,
        group,
    })
}

/// The unit a unit contact speaks for.
pub async fn my_unit(app: &App, caller: &Caller) -> Result<Unit> {
    scope::require(app, caller, &[Role::UnitContact]).await?;
    let id = caller
        .actor()
        .and_then(|a| a.unit_id)
        .ok_or(Error::NotFound)?;
    org::unit(app.db(), id).await?.ok_or(Error::NotFound)
}

/// A team booked, moved or cancelled, as the unit's inbox lists it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub id: i64,
    /// `team_booked`, `team_moved` or `team_cancelled`.
    pub kind: String,
    pub team_code: String,
    pub label: Label,
    pub site: String,
    pub day: String,
    pub size: i64,
    pub read: bool,
    /// When its first slot starts (minutes past midnight).
    pub starts_min: Option<i64>,
    /// Its shuttles: `(minute the bus leaves the unit, bus number)`.
    pub pickups: Vec<(i64, u32)>,
}

/// What the reader of a unit's page may do there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnitPowers {
    /// Import its people and confirm or reject registrations.
    pub import: bool,
    /// Unmask ID and phone numbers (with a reason, audited).
    pub unmask: bool,
    /// Edit the unit.
    pub manage: bool,
    /// Give its contact a login (the town admin only: a login reaches the unit's personal data).
    pub give_login: bool,
    /// Read the inbox (the unit's own contact).
    pub read_inbox: bool,
    /// Say when the unit's people can come.
    pub set_prefs: bool,
}

/// A unit's page.
#[derive(Debug, Clone)]
pub struct UnitView {
    pub unit: Unit,
    pub group: Option<WorkGroup>,
    pub progress: Option<UnitProgress>,
    /// The contact's phone, masked.
    pub contact_phone: String,
    /// One page of the roster, masked.
    pub roster: Vec<Person>,
    pub page: i64,
    pub pages: i64,
    /// Registrations waiting for the unit to confirm them (for those who may).
    pub pending: Vec<Person>,
    /// Claims of roster entries that wait for the unit's word (the roster has no phone).
    pub claims: Vec<vaxloop_store::claims::Waiting>,
    /// The newest notices first.
    pub notices: Vec<Notice>,
    pub unread: i64,
    pub prefs: UnitPrefs,
    pub powers: UnitPowers,
}

/// Roster lines per page.
pub const ROSTER_PAGE: i64 = 50;
/// How many notifications the unit page lists.
pub const INBOX_SHOWN: i64 = 50;

/// Whether `user` is the unit's own contact.
fn own_contact(user: &Actor, unit: &Unit) -> bool {
    user.role == Role::UnitContact && user.unit_id == Some(unit.id)
}

/// Who sets a unit's preferences: its own contact, the desk and the admin.
fn can_set_prefs(user: &Actor, unit: &Unit) -> bool {
    matches!(user.role, Role::Admin | Role::Desk) || own_contact(user, unit)
}

/// The unit coded `code` with page `page` of its roster, for whoever may see it.
pub async fn unit(app: &App, caller: &Caller, code: &str, page: i64) -> Result<UnitView> {
    let db = app.db();
    let unit = seen_unit(app, caller, code).await?;
    let may = |rule: fn(&Actor, &Unit) -> bool| caller.actor().is_none_or(|a| rule(a, &unit));
    let powers = UnitPowers {
        import: may(scope::can_import),
        unmask: may(scope::can_unmask),
        manage: may(|a, u| scope::can_manage_group(a, u.work_group_id)),
        give_login: caller.actor().is_none_or(|a| a.role == Role::Admin),
        read_inbox: caller.actor().is_some_and(|a| own_contact(a, &unit)),
        set_prefs: may(can_set_prefs),
    };
    let progress = org::unit_progress(db, None, Some(unit.id))
        .await?
        .into_iter()
        .next();
    let total = progress.as_ref().map_or(0, |p| p.people);
    let pages = ((total + ROSTER_PAGE - 1) / ROSTER_PAGE).max(1);
    let current = page.clamp(1, pages);
    let roster = people::of_unit(db, unit.id, ROSTER_PAGE, (current - 1) * ROSTER_PAGE).await?;
    // What waits for the unit's word: registrations off its list, and claims of its list.
    let (pending, claims) = if powers.import {
        let now = vaxloop_store::now_ms();
        let claims = vaxloop_store::claims::waiting_for_contact(db, unit.id, now).await?;
        (people::pending_of_unit(db, unit.id).await?, claims)
    } else {
        (vec![], vec![])
    };
    let notices = notifications::of_unit(db, unit.id, INBOX_SHOWN)
        .await?
        .into_iter()
        .map(|n| Notice {
            id: n.id,
            kind: n.kind,
            team_code: n.team_code,
            label: Label::from_stored(n.colour, n.number),
            site: n.site_name,
            day: n.day,
            size: n.size,
            read: n.read,
            starts_min: n.starts_min,
            pickups: n
                .trips
                .as_deref()
                .and_then(|j| serde_json::from_str::<Vec<crate::planning::BusTrip>>(j).ok())
                .unwrap_or_default()
                .iter()
                .map(|t| (t.departs_min, t.bus))
                .collect(),
        })
        .collect();
    Ok(UnitView {
        group: org::work_group(db, unit.work_group_id).await?,
        contact_phone: unit.contact_phone_masked.clone().unwrap_or_default(),
        progress,
        roster,
        page: current,
        pages,
        pending,
        claims,
        notices,
        unread: notifications::unread(db, unit.id).await?,
        prefs: planning::prefs_of(db, unit.id).await?,
        powers,
        unit,
    })
}

/// When a unit's people can come, as ticked: weekdays (1 = Monday; all or none = any day), the
/// part of the day (`any`, `am`, `pm`), and whether that part is a rule rather than a wish.
#[derive(Debug, Clone, Default)]
pub struct PrefsInput {
    pub weekdays: [bool; 7],
    pub window: String,
    pub hard: bool,
}

/// Sets when the unit coded `code`'s people can come, for the planner; audited.
pub async fn set_prefs(app: &App, caller: &Caller, code: &str, input: &PrefsInput) -> Result<()> {
    let unit = org::unit_by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &unit, can_set_prefs).await?;
    let unit = unit.ok_or(Error::NotFound)?;
    let window = input.window.trim();
    if !["any", "am", "pm"].contains(&window) {
        return Err(Error::invalid("window", "prefs_window_invalid"));
    }
    let mut weekdays: String = (1..=7u32)
        .zip(input.weekdays)
        .filter(|(_, on)| *on)
        .filter_map(|(d, _)| char::from_digit(d, 10))
        .collect();
    if weekdays.len() == 7 {
        weekdays.clear();
    }
    let prefs = UnitPrefs {
        weekdays,
        window: window.to_string(),
        hard_window: input.hard && window != "any",
    };
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    planning::set_prefs(&mut tx, unit.id, &prefs, caller.user_id(), now).await?;
    let detail = format!(
        "weekdays={} window={} hard={}",
        prefs.weekdays, prefs.window, prefs.hard_window
    );
    let target = format!("unit:{}", unit.code);
    audit::write(
        &mut tx,
        caller,
        Act::new("unit_prefs", &target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The unit's own contact marks the notifications they saw (up to `upto`) as read; others
/// only look.
pub async fn inbox_read(app: &App, caller: &Caller, code: &str, upto: i64) -> Result<()> {
    let unit = org::unit_by_code(app.db(), code).await?;
    scope::check(app, caller, |a| {
        unit.as_ref().is_some_and(|u| own_contact(a, u))
    })
    .await?;
    let unit = unit.ok_or(Error::NotFound)?;
    let mut tx = app.db().begin_write().await?;
    notifications::mark_read(&mut tx, unit.id, upto, vaxloop_store::now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

/// Every work group the caller may see, with its units' figures (as last counted: see
/// [`crate::kept`]): the admin and the desk see all, a leader their own.
pub async fn groups(app: &App, caller: &Caller) -> Result<Vec<org::GroupProgress>> {
    scope::require(app, caller, &[Role::Admin, Role::Desk, Role::GroupLeader]).await?;
    let all = crate::funnel::town_counts(app).await?.value.groups.clone();
    Ok(match caller.actor() {
        Some(a) => all
            .into_iter()
            .filter(|g| scope::can_see_group(a, g.group.id))
            .collect(),
        None => all,
    })
}

/// A unit with its figures and its group's code, for whoever may see it.
#[derive(Debug, Clone)]
pub struct UnitSummary {
    pub unit: Unit,
    pub progress: Option<UnitProgress>,
    pub group_code: String,
    /// The contact's phone, masked.
    pub contact_phone: Option<String>,
}

/// The unit coded `code` in brief, for whoever may see it.
pub async fn unit_summary(app: &App, caller: &Caller, code: &str) -> Result<UnitSummary> {
    let unit = seen_unit(app, caller, code).await?;
    let progress = org::unit_progress(app.db(), None, Some(unit.id))
        .await?
        .into_iter()
        .next();
    let group_code = org::work_group(app.db(), unit.work_group_id)
        .await?
        .map(|g| g.code)
        .unwrap_or_default();
    Ok(UnitSummary {
        contact_phone: unit.contact_phone_masked.clone(),
        unit,
        progress,
        group_code,
    })
}

/// The most people one page of a roster holds.
pub const MAX_PER_PAGE: i64 = 500;
/// The last page anyone may ask for (a town's largest unit has far fewer).
pub const MAX_PAGE: i64 = 1_000_000;

/// Page `page` (from 1) of `per_page` people (1 to [`MAX_PER_PAGE`]) of the unit coded `code`,
/// masked, for whoever may see the unit; a page or size out of range is refused by field.
pub async fn roster(
    app: &App,
    caller: &Caller,
    code: &str,
    page: i64,
    per_page: i64,
) -> Result<Vec<Person>> {
    if !(1..=MAX_PAGE).contains(&page) {
        return Err(Error::invalid("page", "page_range"));
    }
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Error::invalid("per_page", "per_page_range"));
    }
    let unit = seen_unit(app, caller, code).await?;
    let offset = (page - 1).saturating_mul(per_page);
    Ok(people::of_unit(app.db(), unit.id, per_page, offset).await?)
}

/// The unit coded `code`, when the caller may see it; an audited denial otherwise (not-found
/// and not-yours alike).
async fn seen_unit(app: &App, caller: &Caller, code: &str) -> Result<Unit> {
    let unit = org::unit_by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &unit, scope::can_see_unit).await?;
    unit.ok_or(Error::NotFound)
}
