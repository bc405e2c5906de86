//! Where each role lands and what its navigation offers. Who may do what is the application's
//! (`vaxloop_app::scope`): every use case checks its caller there and audits a denial.

use vaxloop_app::sessions::User;
use vaxloop_core::Role;

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

/// The logged-in user, or `Unauthenticated`.
pub fn user(auth: &AuthSession) -> AppResult<&User> {
    auth.user
        .as_ref()
        .map(|u| &u.0)
        .ok_or(AppError::Unauthenticated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_has_a_home_in_its_own_navigation() {
        for role in Role::ALL {
            assert!(
                nav(*role).iter().any(|(path, _)| *path == home(*role)),
                "{role}"
            );
        }
    }
}
