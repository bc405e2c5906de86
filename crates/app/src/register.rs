//! Self-registration by scanning a unit's QR code (扫码登记).
//!
//! The person gives their name, ID number, mobile, whether they need the green channel for a
//! disability (age comes from the ID number), a 6-digit PIN for coming back, and a separate,
//! explicit consent to the processing of their sensitive personal information (PIPL arts. 28–30).
//!
//! - On the unit's roster, with the same name: a claim of the roster entry, completed only once
//!   proven — by a code sent to the roster's phone, or the unit contact's word (see
//!   [`crate::claims`]).
//! - Not on a unit that has a roster: stored as pending, for the unit contact to confirm or reject,
//!   so a link shared outside the unit cannot fill it with strangers. A unit without a roster
//!   confirms at once.
//! - Already registered in person, or on another unit's list: "already registered", and nothing
//!   about the existing record.

use chrono::NaiveDate;
use vaxloop_core::{Phone, ResidentId, Role, Source, password};
use vaxloop_store::audit::{self, Entry, Outcome as AuditOutcome};
use vaxloop_store::org::Unit;
use vaxloop_store::people::{self, NewPerson};
use vaxloop_store::users::{self, NewUser};
use vaxloop_store::{Db, PiiCipher, StoreError, journeys};

/// The version of the consent notice shown on the registration page; stored with each consent.
pub const CONSENT_VERSION: &str = "2026-11-v1";

/// What the phone page sends.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RegistrationForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub phone: String,
    /// Present (any value) when the person declares a disability.
    #[serde(default)]
    pub disabled: Option<String>,
    #[serde(default)]
    pub pin: String,
    #[serde(default)]
    pub pin_again: String,
    /// Present when the consent box is ticked.
    #[serde(default)]
    pub consent: Option<String>,
}

/// A field the form must correct: `field` names the input, `code` keys the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub code: &'static str,
}

/// How a registration ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registered {
    /// A new login for the person; `confirmed` is false while the unit contact has to confirm.
    Done {
        user_id: i64,
        person_id: i64,
        confirmed: bool,
    },
    /// The ID number is already registered (here or with another unit).
    AlreadyRegistered,
    /// On this unit's roster under another name: the unit contact has to sort it out.
    RosterMismatch,
    /// On this unit's roster: claimed, to be proven (see [`crate::claims`]).
    Claimed(crate::claims::Proof),
}

#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("the form has problems")]
    Invalid(Vec<FieldProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("hashing the PIN failed: {0}")]
    Hashing(String),
}

struct Valid {
    name: String,
    id: ResidentId,
    phone: Phone,
    disabled: bool,
    pin: String,
}

/// Checks a name (required, at most 50 characters, no control characters) and an ID number
/// (required, valid on `today`), naming each problem; the parsed ID number when it is valid.
fn name_and_id(
    name: &str,
    id_number: &str,
    today: NaiveDate,
    problem: &mut impl FnMut(&'static str, &'static str),
) -> Option<ResidentId> {
    if name.is_empty() {
        problem("name", "required");
    } else if name.chars().count() > 50 || name.chars().any(char::is_control) {
        problem("name", "name_invalid");
    }
    match ResidentId::parse_on(id_number, today) {
        Ok(id) => Some(id),
        Err(_) if id_number.trim().is_empty() => {
            problem("id_number", "required");
            None
        }
        Err(_) => {
            problem("id_number", "id_invalid");
            None
        }
    }
}

fn validate(form: &RegistrationForm, today: NaiveDate) -> Result<Valid, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let mut problem = |field, code| problems.push(FieldProblem { field, code });
    let name = form.name.trim();
    let id = name_and_id(name, &form.id_number, today, &mut problem);
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => Some(p),
        Err(vaxloop_core::PhoneError::Empty) => {
            problem("phone", "required");
            None
        }
        Err(_) => {
            problem("phone", "phone_not_mobile");
            None
        }
    };
    let pin = form.pin.trim();
    if pin.len() != 6 || !pin.bytes().all(|b| b.is_ascii_digit()) {
        problem("pin", "pin_format");
    } else if pin != form.pin_again.trim() {
        problem("pin_again", "pin_mismatch");
    }
    if form.consent.is_none() {
        problem("consent", "consent_required");
    }
    match (id, phone, problems.is_empty()) {
        (Some(id), Some(phone), true) => Ok(Valid {
            name: name.to_string(),
            id,
            phone,
            disabled: form.disabled.is_some(),
            pin: pin.to_string(),
        }),
        _ => Err(problems),
    }
}

/// Registers a person with `unit` from its QR page, in one transaction, audited.
pub async fn register_by_qr(
    db: &Db,
    cipher: &PiiCipher,
    unit: &Unit,
    form: &RegistrationForm,
    today: NaiveDate,
) -> Result<Registered, RegisterError> {
    let valid = validate(form, today).map_err(RegisterError::Invalid)?;
    // Argon2 is slow on purpose: hash before the write lock is taken.
    let pin = valid.pin.clone();
    let pin_hash = tokio::task::spawn_blocking(move || password::hash(&pin))
        .await
        .map_err(|e| RegisterError::Hashing(e.to_string()))?;
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    let (person_id, confirmed) = match people::known(&mut tx, cipher, &valid.id).await? {
        Some(k) if k.unit_id != unit.id || k.registered_in_person => {
            return Ok(Registered::AlreadyRegistered);
        }
        Some(k) if !same_name(&k.name, &valid.name) => return Ok(Registered::RosterMismatch),
        Some(k) => {
            let claimant = crate::claims::Claimant {
                person_id: k.id,
                unit_id: unit.id,
                phone: valid.phone.as_str(),
                disabled: valid.disabled,
                consent: (now, CONSENT_VERSION),
                pin_hash: &pin_hash,
            };
            let proof = crate::claims::open(&mut tx, cipher, &claimant, now).await?;
            tx.commit().await?;
            return Ok(Registered::Claimed(proof));
        }
        None => {
            let confirmed = !people::unit_has_roster(&mut tx, unit.id).await?;
            let person = NewPerson {
                unit_id: unit.id,
                name: valid.name.clone(),
                resident_id: valid.id.clone(),
                phone: Some(valid.phone.as_str().to_string()),
                disabled: valid.disabled,
                consent: Some((now, CONSENT_VERSION.to_string())),
                source: Source::Qr,
                confirmed,
                note: None,
            };
            match people::insert_many(&mut tx, cipher, std::slice::from_ref(&person), now).await {
                Ok(_) => {}
                // Registered a moment ago by a concurrent request.
                Err(e) if e.is_constraint("id_blind") => return Ok(Registered::AlreadyRegistered),
                Err(e) => return Err(e.into()),
            }
            let id = people::id_by_resident_id(&mut tx, cipher, &valid.id)
                .await?
                .ok_or(StoreError::NotFound("person"))?;
            (id, confirmed)
        }
    };
    let login = NewUser {
        username: None,
        display_name: valid.name.clone(),
        password_hash: pin_hash,
        role: Some(Role::Resident),
        person_id: Some(person_id),
        ..NewUser::default()
    };
    let user_id = match users::insert(&mut tx, &login, now).await {
        Ok(id) => id,
        Err(e) if e.is_constraint("person_id") => return Ok(Registered::AlreadyRegistered),
        Err(e) => return Err(e.into()),
    };
    if confirmed {
        journeys::open_for_person(&mut tx, person_id, now).await?;
    }
    let target = format!("person:{person_id}");
    let detail = format!(
        "unit={} source=qr status={}",
        unit.code,
        if confirmed { "confirmed" } else { "pending" }
    );
    let entry = Entry {
        actor_user_id: Some(user_id),
        action: "register",
        target: &target,
        reason: None,
        outcome: AuditOutcome::Ok,
        detail: Some(&detail),
    };
    audit::record_in(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(Registered::Done {
        user_id,
        person_id,
        confirmed,
    })
}

/// Names match when they are equal once spaces (including the full-width space) are removed.
fn same_name(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 27).expect("date")
    }

    #[test]
    fn every_field_is_checked_and_named() {
        let problems = validate(&RegistrationForm::default(), today())
            .err()
            .expect("problems");
        let fields: Vec<_> = problems.iter().map(|p| (p.field, p.code)).collect();
        assert_eq!(
            fields,
            vec![
                ("name", "required"),
                ("id_number", "required"),
                ("phone", "required"),
                ("pin", "pin_format"),
                ("consent", "consent_required")
            ]
        );
        let form = RegistrationForm {
            name: "张三".into(),
            id_number: "11010519491231002X".into(),
            phone: "13800138000".into(),
            disabled: None,
            pin: "123456".into(),
            pin_again: "123457".into(),
            consent: Some("yes".into()),
        };
        let problems = validate(&form, today()).err().expect("mismatch");
        assert_eq!(
            problems,
            vec![FieldProblem {
                field: "pin_again",
                code: "pin_mismatch"
            }]
        );
        assert!(same_name("欧阳 娜娜", "欧阳娜娜"));
    }
}

/// A walk-in registered at a site's desk: no login (the desk has their identity card in hand).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct DeskRegistration {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_number: String,
    /// Optional at the desk; a mobile number when given.
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub disabled: Option<String>,
    /// The code of the unit they belong to.
    #[serde(default)]
    pub unit: String,
    /// Present when the person gave their consent at the desk.
    #[serde(default)]
    pub consent: Option<String>,
}

/// How a desk registration ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskRegistered {
    /// Registered, confirmed, their dose-1 journey open.
    Done { person_id: i64 },
    /// The ID number is registered already: check them in by it.
    AlreadyRegistered,
}

/// Registers a walk-in at a site's desk, confirmed at once (the desk saw their identity card),
/// with the unit they name, in one transaction, audited with the desk as the actor.
pub async fn register_at_desk(
    db: &Db,
    cipher: &PiiCipher,
    form: &DeskRegistration,
    today: NaiveDate,
    actor: Option<i64>,
) -> Result<DeskRegistered, RegisterError> {
    let mut problems = Vec::new();
    let mut problem = |field, code| problems.push(FieldProblem { field, code });
    let name = form.name.trim();
    let id = name_and_id(name, &form.id_number, today, &mut problem);
    let phone = match Phone::parse(&form.phone) {
        Ok(p) => Some(p.as_str().to_string()),
        Err(vaxloop_core::PhoneError::Empty) => None,
        Err(_) => {
            problem("phone", "phone_not_mobile");
            None
        }
    };
    let unit = vaxloop_store::org::unit_by_code(db, form.unit.trim()).await?;
    if unit.is_none() {
        problem("unit", "unit_unknown");
    }
    if form.consent.is_none() {
        problem("consent", "consent_required");
    }
    let (Some(id), Some(unit), true) = (id, unit, problems.is_empty()) else {
        return Err(RegisterError::Invalid(problems));
    };
    let now = vaxloop_store::now_ms();
    let mut tx = db.begin_write().await?;
    if people::known(&mut tx, cipher, &id).await?.is_some() {
        return Ok(DeskRegistered::AlreadyRegistered);
    }
    let person = NewPerson {
        unit_id: unit.id,
        name: name.to_string(),
        resident_id: id.clone(),
        phone,
        disabled: form.disabled.is_some(),
        consent: Some((now, CONSENT_VERSION.to_string())),
        source: Source::Desk,
        confirmed: true,
        note: None,
    };
    match people::insert_many(&mut tx, cipher, std::slice::from_ref(&person), now).await {
        Ok(_) => {}
        Err(e) if e.is_constraint("id_blind") => return Ok(DeskRegistered::AlreadyRegistered),
        Err(e) => return Err(e.into()),
    }
    let person_id = people::id_by_resident_id(&mut tx, cipher, &id)
        .await?
        .ok_or(StoreError::NotFound("person"))?;
    journeys::open_for_person(&mut tx, person_id, now).await?;
    let target = format!("person:{person_id}");
    let detail = format!("unit={} source=desk status=confirmed", unit.code);
    let entry = Entry {
        actor_user_id: actor,
        action: "register",
        target: &target,
        reason: None,
        outcome: AuditOutcome::Ok,
        detail: Some(&detail),
    };
    audit::record_in(&mut tx, &entry, now).await?;
    tx.commit().await?;
    Ok(DeskRegistered::Done { person_id })
}

/// The unit a registration link names; [`crate::Error::NotFound`] when the code is not valid.
pub async fn link_unit(app: &crate::App, token: &str) -> crate::Result<Unit> {
    vaxloop_store::org::unit_by_reg_token(app.db(), token)
        .await?
        .ok_or(crate::Error::NotFound)
}

/// Registers a person with `unit` from its public QR page (anyone may: the roster and the
/// pending queue decide what the registration becomes, see the module's notes). A registration
/// that made a login answers it, for the page to log in.
pub async fn register(
    app: &crate::App,
    unit: &Unit,
    form: &RegistrationForm,
) -> crate::Result<Result<(Registered, Option<users::User>), RegisterError>> {
    let outcome = match register_by_qr(app.db(), app.cipher(), unit, form, app.today()).await {
        Ok(outcome) => outcome,
        Err(RegisterError::Store(e)) => return Err(e.into()),
        Err(e @ RegisterError::Hashing(_)) => return Err(crate::Error::Internal(e.to_string())),
        Err(e) => return Ok(Err(e)),
    };
    let user = match &outcome {
        Registered::Done { user_id, .. } => users::by_id(app.db(), *user_id).await?,
        _ => None,
    };
    Ok(Ok((outcome, user)))
}

/// What the unit's contact decides about a registration that matched no roster entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Confirm,
    Reject,
}

/// Confirms (the person's journey opens) or rejects a pending registration of the unit with code
/// `code`, audited in the same transaction. [`crate::Error::NotFound`] when no such registration
/// is pending there.
pub async fn decide(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
    person: i64,
    decision: Decision,
) -> crate::Result<Unit> {
    let unit = crate::import::importable(app, caller, code).await?;
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    let done = match decision {
        Decision::Confirm => {
            let ok = people::confirm_pending(&mut tx, unit.id, person, now).await?;
            if ok {
                journeys::open_for_person(&mut tx, person, now).await?;
            }
            ok
        }
        Decision::Reject => people::reject_pending(&mut tx, unit.id, person).await?,
    };
    if !done {
        tx.rollback().await?;
        return Err(crate::Error::NotFound);
    }
    let target = format!("person:{person}");
    let detail = format!("unit={}", unit.code);
    let action = match decision {
        Decision::Confirm => "confirm_registration",
        Decision::Reject => "reject_registration",
    };
    crate::audit::write(
        &mut tx,
        caller,
        crate::audit::Act::new(action, &target).detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(unit)
}

/// The unit with code `code` and its work group's name, for its registration poster.
pub async fn poster(
    app: &crate::App,
    caller: &crate::Caller,
    code: &str,
) -> crate::Result<(Unit, String)> {
    let unit = crate::import::importable(app, caller, code).await?;
    let group = vaxloop_store::org::work_group(app.db(), unit.work_group_id)
        .await?
        .map(|g| g.name)
        .unwrap_or_default();
    Ok((unit, group))
}

/// The signed token the resident's personal QR code carries, which check-in scans.
pub async fn personal_token(app: &crate::App, caller: &crate::Caller) -> crate::Result<String> {
    crate::scope::require(app, caller, &[Role::Resident]).await?;
    let person = crate::scope::login(caller)?
        .person_id
        .ok_or(crate::Error::NotFound)?;
    Ok(app.cipher().sign("person", person))
}
