//! Seeing personal data in full, which every view otherwise masks: one person's ID and phone
//! numbers unmasked, or a unit's list exported. Each needs a permitted role and a stated reason,
//! and each is written to the audit log (who, what, when, why) before anything is shown.

use vaxloop_store::org::{self, Unit};
use vaxloop_store::people::{self, Person};

use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller, scope};

/// The shortest reason accepted, in characters.
pub const MIN_REASON: usize = 4;

/// The refusal when no reason (or too short a one) was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reason of at least {MIN_REASON} characters is required")]
pub struct ReasonRequired;

/// A reason fit for the audit log, if `text` is one: at least [`MIN_REASON`] characters besides
/// the spaces around them, and no NUL.
pub fn reason(text: &str) -> std::result::Result<&str, ReasonRequired> {
    let reason = text.trim();
    // A NUL character is no reason (and PostgreSQL cannot keep one in the audit log).
    if reason.chars().count() < MIN_REASON || reason.contains('\0') {
        Err(ReasonRequired)
    } else {
        Ok(reason)
    }
}

/// The person with id `person_id` (masked) and their unit, when the caller may unmask them —
/// the admin, or their unit's own contact; an audited denial otherwise, the same whether or not
/// the person exists.
pub async fn unmaskable(app: &App, caller: &Caller, person_id: i64) -> Result<(Person, Unit)> {
    let person = people::by_id(app.db(), person_id).await?;
    let unit = match &person {
        Some(p) => org::unit(app.db(), p.unit_id).await?,
        None => None,
    };
    scope::check_thing(app, caller, &unit, scope::can_unmask).await?;
    match (person, unit) {
        (Some(p), Some(u)) => Ok((p, u)),
        _ => Err(Error::NotFound),
    }
}

/// ID number and phone, in full.
pub type Opened = (String, Option<String>);

/// Records who unmasked whom, why and through which `channel` (`page`, `api`), then opens the
/// person's ID and phone numbers.
pub async fn unmask(
    app: &App,
    caller: &Caller,
    person_id: i64,
    why: &str,
    channel: &str,
) -> Result<std::result::Result<Opened, ReasonRequired>> {
    unmaskable(app, caller, person_id).await?;
    let why = match reason(why) {
        Ok(why) => why,
        Err(refused) => return Ok(Err(refused)),
    };
    let target = format!("person:{person_id}");
    let detail = format!("id_number,phone via {channel}");
    let mut tx = app.db().begin_write().await?;
    audit::write(
        &mut tx,
        caller,
        Act::new("unmask", &target).reason(why).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(people::reveal(app.db(), app.cipher(), person_id).await?))
}

/// A unit's list to export: each person masked, with the full numbers when they were asked for.
#[derive(Debug, Clone)]
pub struct Export {
    pub unit: Unit,
    pub rows: Vec<(Person, Option<Opened>)>,
}

/// A unit's list, for whoever may see the unit; in full only for those who may unmask and ask
/// to. Always with a reason; audited with the row count and the `format` asked for.
pub async fn export(
    app: &App,
    caller: &Caller,
    code: &str,
    why: &str,
    full: bool,
    format: &str,
) -> Result<std::result::Result<Export, ReasonRequired>> {
    let unit = org::unit_by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &unit, scope::can_see_unit).await?;
    let unit = unit.ok_or(Error::NotFound)?;
    let why = match reason(why) {
        Ok(why) => why,
        Err(refused) => return Ok(Err(refused)),
    };
    if full && caller.actor().is_some_and(|a| !scope::can_unmask(a, &unit)) {
        return Err(scope::deny_as(app, caller, &format!("{}?full", caller.via)).await);
    }
    let rows = people::export_rows(app.db(), app.cipher(), unit.id, full).await?;
    let detail = format!(
        "rows={} full={} format={format}",
        rows.len(),
        if full { "yes" } else { "no" },
    );
    let target = format!("unit:{}", unit.code);
    let mut tx = app.db().begin_write().await?;
    audit::write(
        &mut tx,
        caller,
        Act::new("export", &target).reason(why).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Export { unit, rows }))
}
