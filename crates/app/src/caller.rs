//! Who asks: the caller every use case takes. A caller is a login (an [`Actor`] with its role and
//! scope), an anonymous visitor (a resident registering by QR code), or the operator at the
//! server's shell (the command line, which holds the database and its key and so may do what the
//! town admin may). `via` says through which door the request came — a page's path, an API
//! route, a command — and is what a refusal is audited against.

use vaxloop_core::{Role, SitePost};
use vaxloop_store::users::User;

/// A logged-in user as the use cases see them: who, their role, and the scope it is bound to.
/// Never the password hash or the lock state — those stay with the login itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub id: i64,
    pub display_name: String,
    pub role: Role,
    pub work_group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub site_id: Option<i64>,
    pub site_post: Option<SitePost>,
    pub person_id: Option<i64>,
}

impl From<&User> for Actor {
    fn from(u: &User) -> Self {
        Self {
            id: u.id,
            display_name: u.display_name.clone(),
            role: u.role,
            work_group_id: u.work_group_id,
            unit_id: u.unit_id,
            site_id: u.site_id,
            site_post: u.site_post,
            person_id: u.person_id,
        }
    }
}

/// Who a caller is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Nobody logged in (the public registration page, the login form).
    Anonymous,
    /// A login.
    Login(Actor),
    /// The operator on the server's command line.
    Operator,
}

/// The caller of a use case, and the door they came through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub who: Who,
    /// The page path, API route or command the request came through (audited with a refusal).
    pub via: String,
}

impl Caller {
    pub fn new(actor: Option<Actor>, via: impl Into<String>) -> Self {
        Self {
            who: actor.map_or(Who::Anonymous, Who::Login),
            via: via.into(),
        }
    }

    pub fn login(actor: Actor, via: impl Into<String>) -> Self {
        Self {
            who: Who::Login(actor),
            via: via.into(),
        }
    }

    pub fn anonymous(via: impl Into<String>) -> Self {
        Self {
            who: Who::Anonymous,
            via: via.into(),
        }
    }

    /// The operator at the command line, running `command`.
    pub fn operator(command: impl Into<String>) -> Self {
        Self {
            who: Who::Operator,
            via: command.into(),
        }
    }

    /// The same caller, through another door (a sub-request's own path).
    pub fn via(&self, via: impl Into<String>) -> Self {
        Self {
            who: self.who.clone(),
            via: via.into(),
        }
    }

    /// The login, if the caller is one.
    pub fn actor(&self) -> Option<&Actor> {
        match &self.who {
            Who::Login(a) => Some(a),
            _ => None,
        }
    }

    /// The login's id, for audit rows and "recorded by" columns.
    pub fn user_id(&self) -> Option<i64> {
        self.actor().map(|a| a.id)
    }

    /// The caller's role; the operator counts as the town admin.
    pub fn role(&self) -> Option<Role> {
        match &self.who {
            Who::Login(a) => Some(a.role),
            Who::Operator => Some(Role::Admin),
            Who::Anonymous => None,
        }
    }
}
