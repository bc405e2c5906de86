//! Tokens for machine clients: an SMS gateway posting delivery reports, a hospital system reading
//! the day's doses, a district dashboard. They cannot log in through a form and scrape a CSRF
//! token, so the admin creates a token for each, bound to a role and scope like a login, and the
//! client sends it as `Authorization: Bearer <token>` on the API.
//!
//! A token acts as a login of its own (migration 0015): a `users` row with the role and scope, no
//! usable password, and the token's name as its display name — so every use case checks its scope
//! and audits what it does exactly as for a person. The token is shown once, at creation; only a
//! keyed hash is stored, with its first characters for the list. Tokens expire (at most
//! [`MAX_DAYS`] days) and the admin revokes them; both creation and revocation are audited, and a
//! revoked or expired token that is tried again is audited too.

use vaxloop_core::{Role, SitePost};
use vaxloop_store::api_tokens::{self, NewToken};
use vaxloop_store::users::{self, NewUser, User};
use vaxloop_store::{org, sites};

use crate::audit::{self, Act};
use crate::error::{Error, Problem, Result, problem};
use crate::{App, Caller, now_ms, scope};

/// What every token starts with, so a leaked one is recognisable (secret scanners look for it).
pub const PREFIX: &str = "vxl_";
/// The longest a token may live; the form's default is [`DEFAULT_DAYS`].
pub const MAX_DAYS: i64 = 730;
pub const DEFAULT_DAYS: i64 = 365;
/// The roles a token may hold: a machine client reads or records within a scope. The admin's
/// role (which makes logins and tokens) and a resident's (a person's own record) are not for
/// machines.
pub const ROLES: [Role; 5] = [
    Role::Desk,
    Role::Staff,
    Role::GroupLeader,
    Role::UnitContact,
    Role::SiteStaff,
];

/// What the admin fills in.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct TokenInput {
    /// A short name saying what uses it: `sms-gateway`, `district-dashboard`.
    pub name: String,
    /// The role's code (`desk`, `site_staff`, …).
    pub role: String,
    /// The code of the work group, unit or site the role is bound to (none for town-wide roles).
    #[serde(default)]
    pub scope: String,
    /// A site-staff token's post.
    #[serde(default)]
    pub post: String,
    /// Days until it expires; [`DEFAULT_DAYS`] when empty.
    #[serde(default)]
    pub days: String,
}

/// A token just made: the secret, shown once.
#[derive(Debug, Clone)]
pub struct Issued {
    pub name: String,
    pub token: String,
    pub expires_at: i64,
}

/// A token as the admin's list shows it.
#[derive(Debug, Clone)]
pub struct TokenLine {
    pub name: String,
    /// The token's first characters, to tell which one a client holds.
    pub prefix: String,
    pub role: Role,
    pub post: Option<SitePost>,
    /// The scope's code, when the role has one.
    pub scope: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

/// The keyed hash a token is stored and found by.
fn hash_of(app: &App, token: &str) -> Vec<u8> {
    app.cipher().blind(&format!("api-token\u{0}{token}"))
}

fn valid_name(name: &str) -> bool {
    (2..=40).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// The login a token's input describes, or what to correct.
async fn login_of(app: &App, input: &TokenInput) -> Result<(NewUser, i64)> {
    let mut problems: Vec<Problem> = Vec::new();
    let name = input.name.trim();
    if !valid_name(name) {
        problems.push(problem("name", "token_name"));
    } else if api_tokens::name_taken(app.db(), name).await? {
        problems.push(problem("name", "token_name_taken"));
    }
    let days = match input.days.trim() {
        "" => Some(DEFAULT_DAYS),
        text => text
            .parse::<i64>()
            .ok()
            .filter(|d| (1..=MAX_DAYS).contains(d)),
    };
    if days.is_none() {
        problems.push(problem("days", "token_days"));
    }
    let role = input
        .role
        .trim()
        .parse::<Role>()
        .ok()
        .filter(|r| ROLES.contains(r));
    let mut user = NewUser {
        username: Some(format!("api:{name}")),
        display_name: format!("API: {name}"),
        password_hash: users::MACHINE_HASH.to_string(),
        role,
        ..NewUser::default()
    };
    let code = input.scope.trim();
    match role {
        None => problems.push(problem("role", "token_role")),
        Some(Role::GroupLeader) => match org::work_group_by_code(app.db(), code).await? {
            Some(g) => user.work_group_id = Some(g.id),
            None => problems.push(problem("scope", "token_scope")),
        },
        Some(Role::UnitContact) => match org::unit_by_code(app.db(), code).await? {
            Some(u) => user.unit_id = Some(u.id),
            None => problems.push(problem("scope", "token_scope")),
        },
        Some(Role::SiteStaff) => {
            match sites::by_code(app.db(), code).await? {
                Some(s) => user.site_id = Some(s.id),
                None => problems.push(problem("scope", "token_scope")),
            }
            match input.post.trim().parse::<SitePost>() {
                Ok(post) => user.site_post = Some(post),
                Err(_) => problems.push(problem("post", "token_post")),
            }
        }
        Some(_) if !code.is_empty() => problems.push(problem("scope", "token_no_scope")),
        Some(_) => {}
    }
    match days {
        Some(days) if problems.is_empty() => Ok((user, days)),
        _ => Err(Error::Invalid(problems)),
    }
}

/// The admin makes a token; the answer holds the secret, which is shown this once.
pub async fn create(app: &App, caller: &Caller, input: &TokenInput) -> Result<Issued> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let (user, days) = login_of(app, input).await?;
    let name = input.name.trim().to_string();
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let token = format!("{PREFIX}{}", hex::encode(secret));
    let hash = hash_of(app, &token);
    let now = now_ms();
    let expires_at = now + days * 86_400_000;
    let target = format!("api_token:{name}");
    let mut tx = app.db().begin_write().await?;
    let user_id = users::insert(&mut tx, &user, now).await?;
    let row = NewToken {
        name: &name,
        user_id,
        hash: &hash,
        prefix: &token[..PREFIX.len() + 6],
        created_by: caller.user_id(),
        expires_at,
    };
    api_tokens::insert(&mut tx, &row, now).await?;
    let detail = format!("role={}", input.role.trim());
    let act = Act::new("create_api_token", &target).detail(&detail);
    audit::write(&mut tx, caller, act).await?;
    tx.commit().await?;
    Ok(Issued {
        name,
        token,
        expires_at,
    })
}

/// The admin revokes the token `name` (and its login): the next request with it is refused.
/// False when it was revoked already.
pub async fn revoke(app: &App, caller: &Caller, name: &str) -> Result<bool> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let token = api_tokens::by_name(app.db(), name.trim())
        .await?
        .ok_or(Error::NotFound)?;
    let mut tx = app.db().begin_write().await?;
    let revoked = api_tokens::revoke_in(&mut tx, token.id, now_ms()).await?;
    if revoked {
        let target = format!("api_token:{}", token.name);
        audit::write(&mut tx, caller, Act::new("revoke_api_token", &target)).await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// Every token, newest first, for the admin.
pub async fn list(app: &App, caller: &Caller) -> Result<Vec<TokenLine>> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let db = app.db();
    let groups = org::work_groups(db).await?;
    let units = org::units(db, None).await?;
    let all_sites = sites::all(db).await?;
    Ok(api_tokens::all(db)
        .await?
        .into_iter()
        .map(|t| {
            let u = &t.user;
            let scope = match u.role {
                Role::GroupLeader => groups
                    .iter()
                    .find(|g| Some(g.id) == u.work_group_id)
                    .map(|g| g.code.clone()),
                Role::UnitContact => units
                    .iter()
                    .find(|x| Some(x.id) == u.unit_id)
                    .map(|x| x.code.clone()),
                Role::SiteStaff => all_sites
                    .iter()
                    .find(|s| Some(s.id) == u.site_id)
                    .map(|s| s.code.clone()),
                _ => None,
            };
            TokenLine {
                name: t.name,
                prefix: t.prefix,
                role: u.role,
                post: u.site_post,
                scope,
                created_at: t.created_at,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
                last_used_at: t.last_used_at,
            }
        })
        .collect())
}

/// Who presents a bearer token.
#[derive(Debug, Clone)]
pub enum Bearer {
    /// A live token: its login, and the token's id (for its rate limit).
    Login { user: User, token_id: i64 },
    /// Not a token this server issued (nothing is written: a flood of guesses must not grow
    /// the audit log; the web layer throttles guessing like logins).
    Unknown,
    /// A token revoked or past its expiry (audited: a client still holding it is worth knowing
    /// about).
    Dead,
}

/// The login a bearer token acts as, when it is live.
pub async fn bearer(app: &App, token: &str, via: &str) -> Result<Bearer> {
    if !token.starts_with(PREFIX) || token.len() != PREFIX.len() + 64 {
        return Ok(Bearer::Unknown);
    }
    let Some(found) = api_tokens::by_hash(app.db(), &hash_of(app, token)).await? else {
        return Ok(Bearer::Unknown);
    };
    let now = now_ms();
    if found.revoked_at.is_some() || found.expires_at <= now || !found.user.active {
        let mut tx = app.db().begin_write().await?;
        let target = format!("api_token:{}", found.name);
        let detail = if found.revoked_at.is_some() {
            "revoked"
        } else {
            "expired"
        };
        let act = Act::new("api_token", &target).detail(detail);
        audit::write_denied(&mut tx, &Caller::anonymous(via), act).await?;
        tx.commit().await?;
        return Ok(Bearer::Dead);
    }
    // Its last use, at most once a minute: a busy client's requests stay reads.
    if found.last_used_at.is_none_or(|at| at < now - 60_000) {
        api_tokens::touch(app.db(), found.id, now).await?;
    }
    Ok(Bearer::Login {
        user: found.user,
        token_id: found.id,
    })
}
