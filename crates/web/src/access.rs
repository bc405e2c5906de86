//! Who may see what: the authorisation rules of every page and API call, in one place.
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
//! A denial is audited with the path that was asked for.

use vaxloop_core::{Role, SitePost};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::now_ms;
use vaxloop_store::org::Unit;
use vaxloop_store::users::User;

use crate::AppState;
use crate::auth::AuthSession;
use crate::error::{AppError, AppResult};

/// The page each role lands on after logging in.
pub fn home(role: Role) -> &'static str {
    match role {
        Role::Admin => "/admin",
        Role::GroupLeader => "/group",
        Role::UnitContact => "/unit",
        Role::Desk => "/desk",
        Role::SiteStaff => "/site",
        Role::Staff => "/staff",
        Role::Resident => "/me",
    }
}

/// Navigation entries for a role: `(path, translation key)`.
pub fn nav(role: Role) -> &'static [(&'static str, &'static str)] {
    match role {
        Role::Admin => &[
            ("/admin", "nav.overview"),
            ("/funnel", "nav.funnel"),
            ("/desk", "nav.desk"),
            ("/sites", "nav.sites"),
            ("/stock", "nav.stock"),
            ("/admin/users", "nav.users"),
            ("/admin/audit", "nav.audit"),
        ],
        Role::GroupLeader => &[("/group", "nav.my_group"), ("/funnel", "nav.funnel")],
        Role::UnitContact => &[("/unit", "nav.my_unit")],
        Role::Desk => &[
            ("/desk", "nav.desk"),
            ("/funnel", "nav.funnel"),
            ("/sites", "nav.sites"),
        ],
        Role::SiteStaff => &[("/site", "nav.my_site")],
        Role::Staff => &[("/staff", "nav.my_shifts")],
        Role::Resident => &[("/me", "nav.my_record")],
    }
}

/// Audits a refused access and returns the error to answer with.
pub async fn deny(state: &AppState, user: Option<&User>, what: &str) -> AppError {
    let entry = Entry {
        actor_user_id: user.map(|u| u.id),
        action: "access",
        target: what,
        reason: None,
        outcome: Outcome::Denied,
        detail: None,
    };
    if let Err(e) = audit::record(&state.db, &entry, now_ms()).await {
        tracing::error!(error = %e, "could not audit a denied access");
    }
    AppError::Forbidden
}

/// The logged-in user, or `Unauthenticated`.
pub fn user(auth: &AuthSession) -> AppResult<&User> {
    auth.user
        .as_ref()
        .map(|u| &u.0)
        .ok_or(AppError::Unauthenticated)
}

/// The logged-in user if their role is one of `roles`; otherwise a denial, audited.
pub async fn require<'a>(
    state: &AppState,
    auth: &'a AuthSession,
    roles: &[Role],
    what: &str,
) -> AppResult<&'a User> {
    let user = user(auth)?;
    if roles.contains(&user.role) {
        Ok(user)
    } else {
        Err(deny(state, Some(user), what).await)
    }
}

/// May this user see this work group and its units?
pub fn can_see_group(user: &User, group_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::GroupLeader => user.work_group_id == Some(group_id),
        _ => false,
    }
}

/// May this user see this unit and its roster?
pub fn can_see_unit(user: &User, unit: &Unit) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::GroupLeader => user.work_group_id == Some(unit.work_group_id),
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user create and edit the units of this work group (and give their contacts logins)?
/// The town admin, and the group's leader.
pub fn can_manage_group(user: &User, group_id: i64) -> bool {
    match user.role {
        Role::Admin => true,
        Role::GroupLeader => user.work_group_id == Some(group_id),
        _ => false,
    }
}

/// The work groups this user may add units to and edit the units of.
pub async fn manageable_groups(
    state: &AppState,
    user: &User,
) -> AppResult<Vec<vaxloop_store::org::WorkGroup>> {
    let all = vaxloop_store::org::work_groups(&state.db).await?;
    Ok(all
        .into_iter()
        .filter(|g| can_manage_group(user, g.id))
        .collect())
}

/// May this user import people into this unit (and read its import reports)?
pub fn can_import(user: &User, unit: &Unit) -> bool {
    match user.role {
        Role::Admin => true,
        Role::GroupLeader => user.work_group_id == Some(unit.work_group_id),
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user unmask the ID and phone numbers of this unit's people (always with a reason,
/// always audited)? The town admin, and the unit's own contact, who supplied the list.
pub fn can_unmask(user: &User, unit: &Unit) -> bool {
    match user.role {
        Role::Admin => true,
        Role::UnitContact => user.unit_id == Some(unit.id),
        _ => false,
    }
}

/// May this user move stock at this site (receive deliveries, record waste, send transfers)?
/// The admin and the desk anywhere; a site's manager at their own site.
pub fn can_manage_stock(user: &User, site_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::SiteStaff => {
            user.site_id == Some(site_id) && user.site_post == Some(vaxloop_core::SitePost::Manager)
        }
        _ => false,
    }
}

/// May this user see this site?
/// Whether the user works station `post` at site `site_id`: its staff at that post, the site's
/// manager, or the admin.
pub fn works_at(user: &User, site_id: i64, post: SitePost) -> bool {
    match user.role {
        Role::Admin => true,
        Role::SiteStaff => {
            user.site_id == Some(site_id)
                && (user.site_post == Some(post) || user.site_post == Some(SitePost::Manager))
        }
        _ => false,
    }
}

/// The site with code `code`, when the user works station `post` there; otherwise (or when
/// there is no such site) a denial, audited with `path`.
pub async fn station(
    state: &AppState,
    user: &User,
    code: &str,
    post: SitePost,
    path: &str,
) -> AppResult<vaxloop_store::sites::Site> {
    let site = vaxloop_store::sites::by_code(&state.db, code).await?;
    match site.filter(|s| works_at(user, s.id, post)) {
        Some(s) => Ok(s),
        None => Err(deny(state, Some(user), path).await),
    }
}

/// The site with code `code`, when the user may watch its day — the board and the
/// reconciliation: its manager, the admin, or the desk; otherwise a denial, audited with `path`.
pub async fn watched_site(
    state: &AppState,
    user: &User,
    code: &str,
    path: &str,
) -> AppResult<vaxloop_store::sites::Site> {
    let site = vaxloop_store::sites::by_code(&state.db, code).await?;
    match site.filter(|s| works_at(user, s.id, SitePost::Manager) || user.role == Role::Desk) {
        Some(s) => Ok(s),
        None => Err(deny(state, Some(user), path).await),
    }
}

pub fn can_see_site(user: &User, site_id: i64) -> bool {
    match user.role {
        Role::Admin | Role::Desk => true,
        Role::SiteStaff => user.site_id == Some(site_id),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: 1,
            username: Some("u".into()),
            display_name: "u".into(),
            password_hash: String::new(),
            role,
            work_group_id: Some(1),
            unit_id: Some(10),
            site_id: Some(100),
            site_post: None,
            person_id: None,
            active: true,
            failed_logins: 0,
            locked_until: None,
        }
    }

    #[test]
    fn every_role_has_a_home_in_its_own_navigation() {
        for role in Role::ALL {
            assert!(
                nav(*role).iter().any(|(path, _)| *path == home(*role)),
                "{role}"
            );
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
}
