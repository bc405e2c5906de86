//! Claiming a roster record. Anyone who knows a rostered person's name and ID number can open the
//! unit's public registration link, so knowing them proves nothing: the claim waits (migration
//! 0012) until it is proven — by a one-time code sent to the phone the roster already holds
//! (through the outbox and the SMS gateway), or, when the roster has no phone, by the unit
//! contact's confirmation. Only then do the claimant's phone, consent and PIN reach the record,
//! and a login exist. Codes are six digits, kept only as a keyed hash, valid for
//! [`CODE_MINUTES`], with [`MAX_TRIES`] tries.

use vaxloop_core::Role;
pub use vaxloop_store::claims::Waiting;
use vaxloop_store::claims::{self, Claim, NewClaim};
use vaxloop_store::users::{self, NewUser, User};
use vaxloop_store::{PiiCipher, StoreError, WriteTx, journeys, notifications};

use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller};

/// Minutes a code may be entered in.
pub const CODE_MINUTES: i64 = 10;
/// Wrong codes before a claim is void.
pub const MAX_TRIES: i64 = 5;
/// Days a claim waits for the unit contact.
pub const CONTACT_DAYS: i64 = 14;

/// What the claimant gave, to keep with the claim.
#[derive(Debug, Clone)]
pub struct Claimant<'a> {
    pub person_id: i64,
    pub unit_id: i64,
    pub phone: &'a str,
    pub disabled: bool,
    pub consent: (i64, &'a str),
    pub pin_hash: &'a str,
}

/// How a claim is to be proven.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A code went to the roster's phone (shown masked).
    CodeSent { claim_id: i64, to: String },
    /// The roster has no phone: the unit contact decides.
    Contact,
}

/// Why a code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    /// Wrong; this many tries are left.
    Wrong { left: i64 },
    /// No such claim waiting for a code here: expired, used up, or never made.
    Gone,
}

/// The keyed hash a code is kept as.
fn code_hash(cipher: &PiiCipher, person_id: i64, code: &str) -> Vec<u8> {
    cipher.blind(&format!("claim:{person_id}:{}", code.trim()))
}

/// Six random digits.
fn new_code() -> String {
    let mut bytes = [0u8; 4];
    rand::fill(&mut bytes);
    format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000)
}

/// Opens a claim inside the registration's transaction: a code to the roster's phone, or a wait
/// for the unit contact. Audited (by person, never by what was typed).
pub(crate) async fn open(
    tx: &mut WriteTx,
    cipher: &PiiCipher,
    claimant: &Claimant<'_>,
    now: i64,
) -> std::result::Result<Proof, StoreError> {
    let person = claimant.person_id;
    let on_file = claims::roster_phone(tx, cipher, person).await?;
    let code = on_file.as_ref().map(|_| new_code());
    let expires_at = match code {
        Some(_) => now + CODE_MINUTES * 60_000,
        None => now + CONTACT_DAYS * 86_400_000,
    };
    let claim = NewClaim {
        person_id: person,
        unit_id: claimant.unit_id,
        phone: claimant.phone,
        disabled: claimant.disabled,
        consent: claimant.consent,
        pin_hash: claimant.pin_hash,
        code_hash: code.as_deref().map(|c| code_hash(cipher, person, c)),
        expires_at,
    };
    let claim_id = claims::insert(tx, cipher, &claim, now).await?;
    let proof = match (&code, &on_file) {
        (Some(code), Some(phone)) => {
            let text = format!(
                "【疫苗接种登记】验证码 {code}，{CODE_MINUTES}分钟内有效。如非本人操作，请忽略。"
            );
            let sms = serde_json::json!({ "to": phone, "text": text }).to_string();
            notifications::enqueue_in(tx, cipher, crate::outbox::SMS, &sms, now).await?;
            Proof::CodeSent {
                claim_id,
                to: vaxloop_store::people::mask_phone(phone),
            }
        }
        _ => Proof::Contact,
    };
    let target = format!("person:{person}");
    let detail = match proof {
        Proof::CodeSent { .. } => "proof=sms",
        Proof::Contact => "proof=contact",
    };
    let act = Act::new("claim", &target).detail(detail);
    audit::record_in(tx, &Caller::anonymous("/r"), act).await?;
    Ok(proof)
}

/// A proven claim reaches the record: its phone, consent and PIN, a login, the journey. Returns
/// the new login's id.
async fn apply(
    tx: &mut WriteTx,
    cipher: &PiiCipher,
    claim: &Claim,
    now: i64,
) -> std::result::Result<i64, StoreError> {
    let phone = cipher.open(&claim.phone_cipher)?;
    let consent = (claim.consent_at, claim.consent_version.as_str());
    let person = claim.person_id;
    vaxloop_store::people::complete_in_person(tx, cipher, person, &phone, claim.disabled, consent)
        .await?;
    let name = claims::roster_name(tx, person).await?.unwrap_or_default();
    let login = NewUser {
        username: None,
        display_name: name,
        password_hash: claim.pin_hash.clone(),
        role: Some(Role::Resident),
        person_id: Some(person),
        ..NewUser::default()
    };
    let user_id = users::insert(tx, &login, now).await?;
    journeys::open_for_person(tx, person, now).await?;
    claims::delete(tx, claim.id).await?;
    Ok(user_id)
}

/// The claimant enters the code sent for claim `claim_id` on `unit`'s link: right, and the record
/// is theirs (answered with the new login, to log in); wrong, with the tries left.
pub async fn confirm_code(
    app: &App,
    unit_id: i64,
    claim_id: i64,
    code: &str,
) -> Result<std::result::Result<User, CodeRefusal>> {
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    let claim = claims::by_id(&mut tx, claim_id)
        .await?
        .filter(|c| c.unit_id == unit_id && c.expires_at > now && c.attempts < MAX_TRIES);
    let Some(claim) = claim else {
        return Ok(Err(CodeRefusal::Gone));
    };
    let Some(expected) = &claim.code_hash else {
        return Ok(Err(CodeRefusal::Gone));
    };
    let target = format!("person:{}", claim.person_id);
    if code_hash(app.cipher(), claim.person_id, code) != *expected {
        if !claims::count_attempt(&mut tx, claim.id, MAX_TRIES).await? {
            return Ok(Err(CodeRefusal::Gone));
        }
        let act = Act::new("claim_code", &target);
        audit::write_denied(&mut tx, &Caller::anonymous("/r"), act).await?;
        tx.commit().await?;
        let left = MAX_TRIES - claim.attempts - 1;
        return Ok(Err(CodeRefusal::Wrong { left }));
    }
    let user_id = match apply(&mut tx, app.cipher(), &claim, now).await {
        Ok(id) => id,
        // Registered meanwhile by another way (a concurrent claim proven first).
        Err(e) if e.is_constraint("person_id") => return Ok(Err(CodeRefusal::Gone)),
        Err(e) => return Err(e.into()),
    };
    let detail = format!("unit_id={unit_id} source=qr status=confirmed proof=sms");
    let act = Act::new("register", &target).detail(&detail);
    audit::record_in(&mut tx, &Caller::anonymous("/r"), act).await?;
    tx.commit().await?;
    users::by_id(app.db(), user_id)
        .await?
        .ok_or(Error::NotFound)
        .map(Ok)
}

/// The claims on the unit coded `code` that wait for its contact, for whoever may import there.
pub async fn waiting(app: &App, caller: &Caller, code: &str) -> Result<Vec<Waiting>> {
    let unit = crate::import::importable(app, caller, code).await?;
    Ok(claims::waiting_for_contact(app.db(), unit.id, vaxloop_store::now_ms()).await?)
}

/// The unit's contact confirms (the record becomes the claimant's) or rejects a claim waiting for
/// them, audited in the same transaction. [`Error::NotFound`] when no such claim waits there.
pub async fn decide(
    app: &App,
    caller: &Caller,
    code: &str,
    claim_id: i64,
    confirm: bool,
) -> Result<()> {
    let unit = crate::import::importable(app, caller, code).await?;
    let now = vaxloop_store::now_ms();
    let mut tx = app.db().begin_write().await?;
    let claim = claims::by_id(&mut tx, claim_id)
        .await?
        .filter(|c| c.unit_id == unit.id && c.code_hash.is_none() && c.expires_at > now)
        .ok_or(Error::NotFound)?;
    let target = format!("person:{}", claim.person_id);
    let action = if confirm {
        match apply(&mut tx, app.cipher(), &claim, now).await {
            Ok(_) => {}
            Err(e) if e.is_constraint("person_id") => return Err(Error::NotFound),
            Err(e) => return Err(e.into()),
        }
        "confirm_claim"
    } else {
        claims::delete(&mut tx, claim.id).await?;
        "reject_claim"
    };
    let detail = format!("unit={}", unit.code);
    audit::write(&mut tx, caller, Act::new(action, &target).detail(&detail)).await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets claims that ran out before `now` (the server's sweep).
pub async fn sweep(app: &App, now: i64) -> Result<u64> {
    let mut tx = app.db().begin_write().await?;
    let n = claims::delete_expired(&mut tx, now).await?;
    tx.commit().await?;
    Ok(n)
}
