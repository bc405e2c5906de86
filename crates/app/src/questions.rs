//! Each vaccine's screening questionnaire (预检问卷), kept by the admin: the questions in order,
//! in Chinese and English, and what a "yes" means — a note for the vaccinator and the nurse, a
//! deferral, or the doctor. Screenings already recorded keep their answers. Every change commits
//! with its audit row.

use vaxloop_core::Role;
use vaxloop_store::screening;
pub use vaxloop_store::screening::Question;
pub use vaxloop_store::vaccines::Vaccine;

use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller, scope};

/// What a "yes" may mean.
pub const ON_YES: &[&str] = &["note", "defer", "refer"];

/// A question as the form sends it.
#[derive(Debug, Clone, Default)]
pub struct QuestionInput {
    pub text_zh: String,
    pub text_en: String,
    pub on_yes: String,
}

impl QuestionInput {
    /// The field that is wrong, if any: each text present and at most 200 characters, the meaning
    /// of "yes" one of [`ON_YES`].
    pub fn invalid(&self) -> Option<&'static str> {
        let ok = |t: &str| !t.trim().is_empty() && t.trim().chars().count() <= 200;
        if !ok(&self.text_zh) {
            Some("text_zh")
        } else if !ok(&self.text_en) {
            Some("text_en")
        } else if !ON_YES.contains(&self.on_yes.as_str()) {
            Some("on_yes")
        } else {
            None
        }
    }
}

/// A change to one question.
#[derive(Debug, Clone)]
pub enum Change {
    Save(QuestionInput),
    Up,
    Down,
    Delete,
}

impl Change {
    fn name(&self) -> &'static str {
        match self {
            Change::Save(_) => "save",
            Change::Up => "up",
            Change::Down => "down",
            Change::Delete => "delete",
        }
    }
}

/// The vaccine with code `code`, for the admin.
async fn vaccine(app: &App, caller: &Caller, code: &str) -> Result<Vaccine> {
    scope::require(app, caller, &[Role::Admin]).await?;
    vaxloop_store::vaccines::all(app.db())
        .await?
        .into_iter()
        .find(|v| v.code == code)
        .ok_or(Error::NotFound)
}

/// The vaccine and its questions in order.
pub async fn questionnaire(
    app: &App,
    caller: &Caller,
    code: &str,
) -> Result<(Vaccine, Vec<Question>)> {
    let vaccine = vaccine(app, caller, code).await?;
    let questions = screening::questions(app.db(), vaccine.id).await?;
    Ok((vaccine, questions))
}

/// Adds a question at the end of the vaccine's list; the field to correct when one is wrong.
pub async fn add(
    app: &App,
    caller: &Caller,
    code: &str,
    q: &QuestionInput,
) -> Result<std::result::Result<i64, &'static str>> {
    let vaccine = vaccine(app, caller, code).await?;
    if let Some(field) = q.invalid() {
        return Ok(Err(field));
    }
    let mut tx = app.db().begin_write().await?;
    let id = screening::append_question(
        &mut tx,
        vaccine.id,
        q.text_zh.trim(),
        q.text_en.trim(),
        &q.on_yes,
    )
    .await?;
    audited(&mut tx, caller, &vaccine, &format!("add {id}")).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Saves, moves or removes question `id` of the vaccine; the field to correct when a saved text
/// is wrong. [`Error::NotFound`] when the vaccine has no such question (a move at either end of
/// the list changes nothing and is no error).
pub async fn change(
    app: &App,
    caller: &Caller,
    code: &str,
    id: i64,
    change: &Change,
) -> Result<std::result::Result<(), &'static str>> {
    let vaccine = vaccine(app, caller, code).await?;
    if let Change::Save(q) = change
        && let Some(field) = q.invalid()
    {
        return Ok(Err(field));
    }
    let mut tx = app.db().begin_write().await?;
    let done = match change {
        Change::Up | Change::Down => {
            screening::move_question(&mut tx, vaccine.id, id, matches!(change, Change::Up)).await?;
            true
        }
        Change::Delete => screening::delete_question(&mut tx, vaccine.id, id).await?,
        Change::Save(q) => {
            screening::update_question(
                &mut tx,
                vaccine.id,
                id,
                q.text_zh.trim(),
                q.text_en.trim(),
                &q.on_yes,
            )
            .await?
        }
    };
    if !done {
        tx.rollback().await?;
        return Err(Error::NotFound);
    }
    audited(
        &mut tx,
        caller,
        &vaccine,
        &format!("{} {id}", change.name()),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(()))
}

async fn audited(
    tx: &mut vaxloop_store::WriteTx,
    caller: &Caller,
    vaccine: &Vaccine,
    what: &str,
) -> Result<()> {
    let target = format!("vaccine:{}", vaccine.code);
    audit::write(
        tx,
        caller,
        Act::new("screening.questions", &target).detail(what),
    )
    .await
}
