//! The closed-loop funnel (漏斗): target → registered (by QR code, roster import, at a desk) →
//! booked → arrived → vaccinated → series complete, per group and per unit, the units that lag
//! behind, and the people stuck in a state longer than expected — for the admin, the desk, and a
//! group's leader (who sees their own group only).

use std::sync::Arc;

use vaxloop_core::Role;
use vaxloop_store::funnel;
use vaxloop_store::org::{self, WorkGroup};

pub use vaxloop_store::funnel::{Stuck, UnitFunnel};

use crate::error::Result;
use crate::kept::Counted;
pub use crate::kept::TownCounts;
use crate::{App, Caller, scope};

/// The town's counts as last counted (see [`crate::kept`]); no permission of its own — each
/// use case that shows them checks its caller first.
pub(crate) async fn town_counts(app: &App) -> Result<Arc<Counted<TownCounts>>> {
    let db = app.db().clone();
    app.town()
        .get((), move || async move {
            Ok::<_, crate::Error>(TownCounts {
                units: funnel::by_unit(&db, None).await?,
                groups: org::group_progress(&db).await?,
                overview: vaxloop_store::stats::overview(&db).await?,
                registered: vaxloop_store::journeys::state_counts(&db, None, None)
                    .await?
                    .iter()
                    .map(|(_, n)| n)
                    .sum(),
            })
        })
        .await
}

/// Totals of a set of units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub target: i64,
    pub by_qr: i64,
    pub by_import: i64,
    pub by_desk: i64,
    pub pending: i64,
    pub booked: i64,
    pub arrived: i64,
    pub vaccinated: i64,
    pub complete: i64,
}

impl Totals {
    pub fn of<'a>(units: impl IntoIterator<Item = &'a UnitFunnel>) -> Self {
        units.into_iter().fold(Totals::default(), |mut t, u| {
            t.target += u.target;
            t.by_qr += u.by_qr;
            t.by_import += u.by_import;
            t.by_desk += u.by_desk;
            t.pending += u.pending;
            t.booked += u.booked;
            t.arrived += u.arrived;
            t.vaccinated += u.vaccinated;
            t.complete += u.complete;
            t
        })
    }

    pub fn registered(&self) -> i64 {
        self.by_qr + self.by_import + self.by_desk
    }
}

/// The funnel of one scope: the town or one group.
#[derive(Debug, Clone)]
pub struct Funnel {
    /// The group looked at; none for the whole town.
    pub chosen: Option<WorkGroup>,
    /// The groups the caller may choose among.
    pub groups: Vec<WorkGroup>,
    pub units: Vec<UnitFunnel>,
    pub totals: Totals,
    /// When the figures were counted (milliseconds since the epoch; see [`crate::kept`]).
    pub counted_at: i64,
}

impl Funnel {
    /// Each group's totals, when the whole town is looked at.
    pub fn by_group(&self) -> Vec<(WorkGroup, Totals)> {
        if self.chosen.is_some() {
            return vec![];
        }
        (self.groups.iter())
            .map(|g| {
                let units = self.units.iter().filter(|u| u.work_group_id == g.id);
                (g.clone(), Totals::of(units))
            })
            .collect()
    }

    /// The units whose registrations are below `threshold` per cent of their target, the
    /// furthest behind first.
    pub fn lagging(&self, threshold: i64) -> Vec<UnitFunnel> {
        let mut lagging: Vec<UnitFunnel> = (self.units.iter())
            .filter(|u| u.target > 0 && u.registered() * 100 < threshold * u.target)
            .cloned()
            .collect();
        lagging.sort_by(|a, b| {
            (a.registered() * b.target)
                .cmp(&(b.registered() * a.target))
                .then(a.code.cmp(&b.code))
        });
        lagging
    }
}

/// The scope the caller asked for (`group`: a group's code) against what they may see: a leader
/// always gets their own group (asking for another is a denial, audited); the admin and the desk
/// any group, or the whole town.
async fn resolve(
    app: &App,
    caller: &Caller,
    group: Option<&str>,
) -> Result<(Option<WorkGroup>, Vec<WorkGroup>)> {
    scope::require(app, caller, &[Role::Admin, Role::Desk, Role::GroupLeader]).await?;
    let groups = org::work_groups(app.db()).await?;
    if let Some(leader) = caller.actor().filter(|a| a.role == Role::GroupLeader) {
        let own = groups
            .iter()
            .find(|g| Some(g.id) == leader.work_group_id)
            .cloned();
        if group.is_some_and(|c| own.as_ref().is_none_or(|g| g.code != c)) {
            let target = format!("{}?group={}", caller.via, group.unwrap_or_default());
            return Err(scope::deny_as(app, caller, &target).await);
        }
        return Ok((own.clone(), own.into_iter().collect()));
    }
    let chosen = group.and_then(|c| groups.iter().find(|g| g.code == c).cloned());
    Ok((chosen, groups))
}

/// The funnel of the town, or of the group coded `group`.
pub async fn funnel(app: &App, caller: &Caller, group: Option<&str>) -> Result<Funnel> {
    let (chosen, groups) = resolve(app, caller, group).await?;
    let counts = town_counts(app).await?;
    let units: Vec<UnitFunnel> = (counts.value.units.iter())
        .filter(|u| chosen.as_ref().is_none_or(|g| g.id == u.work_group_id))
        .cloned()
        .collect();
    Ok(Funnel {
        totals: Totals::of(&units),
        chosen,
        groups,
        units,
        counted_at: counts.at_ms,
    })
}

/// Up to `limit` people stuck in a state longer than expected in the town or the group coded
/// `group`, the longest first, and how many there are in all.
pub async fn stuck(
    app: &App,
    caller: &Caller,
    group: Option<&str>,
    limit: i64,
) -> Result<(Vec<Stuck>, i64)> {
    let (chosen, _) = resolve(app, caller, group).await?;
    let today = app.today().to_string();
    let group = chosen.as_ref().map(|g| g.id);
    let db = app.db().clone();
    let stuck = app
        .stuck()
        .get((group, limit), move || async move {
            let now = vaxloop_store::now_ms();
            Ok::<_, crate::Error>(funnel::stuck(&db, group, now, &today, limit).await?)
        })
        .await?;
    Ok(stuck.value.clone())
}
