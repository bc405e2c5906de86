//! Who may do what: the one place where a use case asks whether its caller's role and scope reach
//! what it is about, and where a refusal is audited.
//!
//! | role | sees |
//! |---|---|
//! | admin | everything |
//! | appointment desk | all units and sites (no screening answers) |
//! | work-group leader | own group and its units |
//! | unit contact | own unit only |
//! | site staff | own site |
//! | staff / volunteer | own shifts |
//! | resident | own record |
//!
//! The rules are plain functions of an [`Actor`]; [`check`] applies one to a [`Caller`] — the
//! operator at the command line passes every rule, an anonymous caller none — and audits a
//! denial with the door the caller came through.

use vaxloop_core::{Role, SitePost};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::now_ms;
use vaxloop_store::org::Unit;

use crate::App;
use crate::caller::{Actor, Caller, Who};
use crate::error::{Error, Result};

/// Lets the caller through when `allowed` says their login may; otherwise answers
/// [`Error::Unauthenticated`] (nobody logged in) or [`Error::Denied`], audited against the
/// caller's door.
pub async fn check(app: &App, caller: &Caller, allowed: impl FnOnce(&Actor) -> bool) -> Result<()> {
    match &caller.who {
        Who::Operator => Ok(()),
        Who::Anonymous => Err(Error::Unauthenticated),
        Who::Login(actor) if allowed(actor) => Ok(()),
        Who::Login(_) => Err(deny(app, caller).await),
    }
}

/// [`check`] for a rule that is only a list of roles.
pub async fn require(app: &App, caller: &Caller, roles: &[Role]) -> Result<()> {
    check(app, caller, |a| roles.contains(&a.role)).await
}

/// A thing the caller named that does not exist: "not found" to those who see the whole town —
/// the admin, the desk, the operator — for whom its existence is no secret; everyone else goes
/// on to be refused exactly as for a thing out of their scope, so their answer never tells
/// what exists.
fn found<T>(caller: &Caller, thing: &Option<T>) -> Result<()> {
    let town_wide = matches!(caller.role(), Some(Role::Admin | Role::Desk));
    if thing.is_none() && town_wide {
        Err(Error::NotFound)
    } else {
        Ok(())
    }
}

/// The access check for a thing the caller named (a unit, a site, a team's unit…): refused —
/// and audited — unless it exists and `rule` lets the caller reach it; one that does not exist
/// is "not found" to those who see the whole town (see [`found`]).
pub async fn check_thing<T>(
    app: &App,
    caller: &Caller,
    thing: &Option<T>,
    rule: impl FnOnce(&Actor, &T) -> bool,
) -> Result<()> {
    found(caller, thing)?;
    check(app, caller, |a| thing.as_ref().is_some_and(|t| rule(a, t))).await
}

/// The caller's login, or [`Error::Unauthenticated`] (the operator has none: use cases that act
/// for a particular person need one).
pub fn login(caller: &Caller) -> Result<&Actor> {
    caller.actor().ok_or(Error::Unauthenticated)
}

/// Audits a refused access against the caller's door and returns the error to answer with.
pub async fn deny(app: &App, caller: &Caller) -> Error {
    deny_as(app, caller, &caller.via).await
}

/// [`deny`], audited against `target` (the door and what exactly was asked for through it).
pub async fn deny_as(app: &App, caller: &Caller, target: &str) -> Error {
    let entry = Entry {
        actor_user_id: caller.user_id(),
        action: "access",
        target,
        reason: None,
        outcome: Outcome::Denied,
        detail: None,
    };
    if let Err(e) = audit::record(app.db(), &entry, now_ms()).await {
        tracing::error!(error = %e, "could not audit a denied access");
    }
    Error::Denied
}

/// May this user see this work group and its units?
pub fn can_see_group(user: &Actor, group_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::GroupLeader => user.work_group_id == Some(group_id),
        _ => false,
    }
}

/// May this user see this unit and its roster?
pub fn can_see_unit(user: &Actor, unit: &Unit) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::GroupLeader => user.work_group_id == Some(unit.work_group_id),
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user create and edit the units of this work group (and give their contacts logins)?
/// The town admin, and the group's leader.
pub fn can_manage_group(user: &Actor, group_id: i64) -> bool {
    match user.role {
        Role::Admin => true,
        Role::GroupLeader => user.work_group_id == Some(group_id),
        _ => false,
    }
}

/// May this user import people into this unit (and read its import reports)?
pub fn can_import(user: &Actor, unit: &Unit) -> bool {
    match user.role {
        Role::Admin => true,
        Role::GroupLeader => user.work_group_id == Some(unit.work_group_id),
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user unmask the ID and phone numbers of this unit's people (always with a reason,
/// always audited)? The town admin, and the unit's own contact, who supplied the list.
pub fn can_unmask(user: &Actor, unit: &Unit) -> bool {
    match user.role {
        Role::Admin => true,
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user move stock at this site (receive deliveries, record waste, send transfers)?
/// The admin and the desk anywhere; a site's manager at their own site.
pub fn can_manage_stock(user: &Actor, site_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::SiteStaff => {
            user.site_id == Some(site_id) && user.site_post == Some(SitePost::Manager)
        }
        _ => false,
    }
}

/// Whether the user works station `post` at site `site_id`: its staff at that post, the site's
/// manager, or the admin.
pub fn works_at(user: &Actor, site_id: i64, post: SitePost) -> bool {
    match user.role {
        Role::Admin => true,
        Role::SiteStaff => {
            user.site_id == Some(site_id)
                && (user.site_post == Some(post) || user.site_post == Some(SitePost::Manager))
        }
        _ => false,
    }
}

/// Whether the user may watch site `site_id`'s day — the board and the reconciliation: its
/// manager, the admin, or the desk.
pub fn watches(user: &Actor, site_id: i64) -> bool {
    works_at(user, site_id, SitePost::Manager) || user.role == Role::Desk
}

/// May this user see this site?
pub fn can_see_site(user: &Actor, site_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::SiteStaff => user.site_id == Some(site_id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> Actor {
        Actor {
            id: 1,
            display_name: "u".into(),
            role,
            work_group_id: Some(1),
            unit_id: Some(10),
            site_id: Some(100),
            site_post: None,
            person_id: None,
        }
    }

    #[test]
    fn scopes_do_not_cross() {
        assert!(can_see_group(&user(Role::GroupLeader), 1));
        assert!(!can_see_group(&user(Role::GroupLeader), 2));
        assert!(!can_see_group(&user(Role::UnitContact), 1));
        assert!(can_see_site(&user(Role::SiteStaff), 100));
        assert!(!can_see_site(&user(Role::SiteStaff), 101));
        assert!(!can_see_site(&user(Role::Resident), 100));
    }

    #[test]
    fn a_site_post_reaches_its_station_and_the_manager_every_station() {
        let mut u = user(Role::SiteStaff);
        u.site_post = Some(SitePost::Screening);
        assert!(works_at(&u, 100, SitePost::Screening));
        assert!(!works_at(&u, 100, SitePost::Vaccinator));
        assert!(!works_at(&u, 101, SitePost::Screening));
        u.site_post = Some(SitePost::Manager);
        assert!(works_at(&u, 100, SitePost::Vaccinator));
        assert!(watches(&u, 100) && !watches(&u, 101));
        assert!(can_manage_stock(&u, 100) && !can_manage_stock(&u, 101));
    }
}
