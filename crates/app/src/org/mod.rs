//! Organisation admin: work groups and units created, edited and imported, and unit contacts
//! given a login scoped to their unit. Inputs are checked field by field; every change is
//! audited in its own transaction.
//!
//! Who: the town admin creates and edits work groups and imports units; the admin and a group's
//! leader create and edit that group's units and give their contacts logins.

mod import;
mod input;
mod views;

use vaxloop_core::{Role, password};
use vaxloop_store::org::{self, NewUnit};
use vaxloop_store::users::{self, NewUser};

pub use import::{UnitsImportError, UnitsReport, import_units};
pub use input::{GroupInput, UnitInput, new_token};
pub(crate) use input::{check_code, check_name};
pub use vaxloop_store::org::{GroupProgress, Unit, UnitProgress, WorkGroup};
pub use vaxloop_store::people::Person;
pub use vaxloop_store::planning::UnitPrefs;
pub use views::{
    GroupView, INBOX_SHOWN, Notice, PrefsInput, ROSTER_PAGE, UnitPowers, UnitSummary, UnitView,
    group, groups, inbox_read, my_group, my_unit, roster, set_prefs, unit, unit_summary,
};

use crate::audit::Act;
pub use crate::error::Problem;
use crate::error::{Error, Result, problem};
use crate::save::{Clash, saved};
use crate::{Actor, App, Caller, scope};

/// Creates a work group (the admin's).
pub async fn create_group(app: &App, caller: &Caller, input: &GroupInput) -> Result<i64> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let group = input.parse().map_err(Error::Invalid)?;
    let target = format!("group:{}", group.code);
    let now = vaxloop_store::now_ms();
    saved(
        app,
        caller,
        Some(Clash::CODE),
        Act::new("create_group", &target),
        async |tx| org::insert_work_group(tx, &group, now).await,
    )
    .await
}

/// A code is fixed once created: an edit may repeat it or leave it out, not change it.
fn keeps_code(given: &str, existing: &str) -> Result<()> {
    match given.trim() {
        "" => Ok(()),
        same if same == existing => Ok(()),
        _ => Err(Error::invalid("code", "code_fixed")),
    }
}

/// The work group coded `code`, to edit (the admin's).
pub async fn group_to_edit(app: &App, caller: &Caller, code: &str) -> Result<WorkGroup> {
    scope::require(app, caller, &[Role::Admin]).await?;
    org::work_group_by_code(app.db(), code)
        .await?
        .ok_or(Error::NotFound)
}

/// Changes the work group coded `code` (its code stays).
pub async fn update_group(
    app: &App,
    caller: &Caller,
    code: &str,
    input: &GroupInput,
) -> Result<()> {
    let existing = group_to_edit(app, caller, code).await?;
    keeps_code(&input.code, &existing.code)?;
    let mut input = input.clone();
    input.code = existing.code.clone();
    let group = input.parse().map_err(Error::Invalid)?;
    let target = format!("group:{}", existing.code);
    saved(
        app,
        caller,
        None,
        Act::new("update_group", &target),
        async |tx| org::update_work_group(tx, existing.id, &group).await,
    )
    .await
    .map(|_| ())
}

/// The work groups the caller may add units to and edit the units of: every group for the
/// admin, their own for a group's leader.
pub async fn groups_for_units(app: &App, caller: &Caller) -> Result<Vec<WorkGroup>> {
    scope::require(app, caller, &[Role::Admin, Role::GroupLeader]).await?;
    manageable_groups(app, caller).await
}

async fn manageable_groups(app: &App, caller: &Caller) -> Result<Vec<WorkGroup>> {
    let all = org::work_groups(app.db()).await?;
    Ok(match caller.actor() {
        Some(a) => all
            .into_iter()
            .filter(|g| scope::can_manage_group(a, g.id))
            .collect(),
        None => all,
    })
}

/// Checks a unit as typed against the groups the caller may put units in (a leader naming
/// another group finds it unknown: only their own is offered).
async fn parse_unit(app: &App, caller: &Caller, input: &UnitInput) -> Result<NewUnit> {
    let groups = manageable_groups(app, caller).await?;
    input.parse(&groups).map_err(Error::Invalid)
}

/// Creates a unit, with a fresh registration token.
pub async fn create_unit(app: &App, caller: &Caller, input: &UnitInput) -> Result<i64> {
    scope::require(app, caller, &[Role::Admin, Role::GroupLeader]).await?;
    let unit = parse_unit(app, caller, input).await?;
    let target = format!("unit:{}", unit.code);
    let now = vaxloop_store::now_ms();
    saved(
        app,
        caller,
        Some(Clash::CODE),
        Act::new("create_unit", &target),
        async |tx| org::insert_unit(tx, app.cipher(), &unit, now).await,
    )
    .await
}

/// The unit coded `code` and the groups it may move to, when the caller may edit it: the admin,
/// or the leader of its group.
pub async fn unit_to_edit(
    app: &App,
    caller: &Caller,
    code: &str,
) -> Result<(Unit, Vec<WorkGroup>)> {
    let unit = org::unit_by_code(app.db(), code).await?;
    let may = |a: &Actor, u: &Unit| scope::can_manage_group(a, u.work_group_id);
    scope::check_thing(app, caller, &unit, may).await?;
    let unit = unit.ok_or(Error::NotFound)?;
    Ok((unit, manageable_groups(app, caller).await?))
}

/// Seals the contact phones stored in plain text before migration 0013 and empties the plain
/// column, in one transaction (the server does it at start-up: it holds the key, SQL does not).
/// Returns how many.
pub async fn seal_plain_contact_phones(app: &App) -> Result<u64> {
    let plain = org::plain_contact_phones(app.db()).await?;
    if plain.is_empty() {
        return Ok(0);
    }
    let mut tx = app.db().begin_write().await?;
    for (id, phone) in &plain {
        org::seal_contact_phone(&mut tx, app.cipher(), *id, phone).await?;
    }
    tx.commit().await?;
    Ok(plain.len() as u64)
}

/// The contact phone of a unit handed out by [`unit_to_edit`], opened for its edit form (whoever
/// may edit the unit sets and corrects that number).
pub fn contact_phone_to_edit(app: &App, unit: &Unit) -> Result<String> {
    Ok(match &unit.contact_phone_sealed {
        Some(sealed) => app.cipher().open(sealed)?,
        None => String::new(),
    })
}

/// Changes the unit coded `code` (its code and registration token stay).
pub async fn update_unit(app: &App, caller: &Caller, code: &str, input: &UnitInput) -> Result<()> {
    let (existing, _) = unit_to_edit(app, caller, code).await?;
    keeps_code(&input.code, &existing.code)?;
    let mut input = input.clone();
    input.code = existing.code.clone();
    let unit = parse_unit(app, caller, &input).await?;
    let target = format!("unit:{}", existing.code);
    saved(
        app,
        caller,
        None,
        Act::new("update_unit", &target),
        async |tx| org::update_unit(tx, app.cipher(), existing.id, &unit).await,
    )
    .await
    .map(|_| ())
}

/// A login created for a unit's contact.
#[derive(Debug, Clone)]
pub struct ContactLogin {
    pub unit: Unit,
    pub username: String,
    /// The generated initial password, shown once to whoever created the login.
    pub initial_password: String,
}

/// A new login for the contact of the unit coded `code`, scoped to that unit — by the town admin
/// only: the contact may unmask and export the unit's personal data, so a group leader (who may
/// not) cannot mint one and read its initial password.
pub async fn create_contact_login(
    app: &App,
    caller: &Caller,
    code: &str,
    username: &str,
    display_name: &str,
) -> Result<ContactLogin> {
    scope::require(app, caller, &[Role::Admin]).await?;
    let (unit, _) = unit_to_edit(app, caller, code).await?;
    let username = username.trim();
    let mut problems = Vec::new();
    if !(3..=40).contains(&username.len())
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        problems.push(problem("username", "username_invalid"));
    }
    check_name(display_name, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let initial = new_token()[..12].to_string();
    let secret = initial.clone();
    let hash = tokio::task::spawn_blocking(move || password::hash(&secret))
        .await
        .map_err(|e| Error::Internal(format!("hashing the password failed: {e}")))?;
    let login = NewUser {
        username: Some(username.to_string()),
        display_name: display_name.trim().to_string(),
        password_hash: hash,
        role: Some(Role::UnitContact),
        unit_id: Some(unit.id),
        ..NewUser::default()
    };
    let target = format!("unit:{}", unit.code);
    let detail = format!("username={username}");
    let act = Act::new("create_login", &target).detail(&detail);
    let clash = Clash {
        constraint: "username",
        field: "username",
        code: "username_taken",
    };
    let now = vaxloop_store::now_ms();
    saved(app, caller, Some(clash), act, async |tx| {
        users::insert(tx, &login, now).await
    })
    .await?;
    Ok(ContactLogin {
        unit,
        username: username.to_string(),
        initial_password: initial,
    })
}
