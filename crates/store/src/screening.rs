//! Screening (预检, migration 0008): the questions asked before each vaccine and each visit's
//! screenings. A screening moves the visit on only from `waiting` (or `referred`, for the
//! doctor), in the transaction that records it, so two screeners never both decide.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::StoreResult;

/// A screening question of a vaccine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    pub id: i64,
    pub position: i64,
    pub text_zh: String,
    pub text_en: String,
    /// `note`, `defer` or `refer`: what a "yes" means.
    pub on_yes: String,
}

/// A vaccine's questions, in order.
pub async fn questions(db: &Db, vaccine_id: i64) -> StoreResult<Vec<Question>> {
    let rows = sqlx::query(
        "SELECT id, position, text_zh, text_en, on_yes FROM screening_questions \
         WHERE vaccine_id = $1 ORDER BY position",
    )
    .bind(vaccine_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Question {
                id: r.try_get(0)?,
                position: r.try_get(1)?,
                text_zh: r.try_get(2)?,
                text_en: r.try_get(3)?,
                on_yes: r.try_get(4)?,
            })
        })
        .collect()
}

/// Adds a question to a vaccine on the caller's transaction.
pub async fn add_question_in(
    conn: &mut AnyConnection,
    vaccine_id: i64,
    position: i64,
    text_zh: &str,
    text_en: &str,
    on_yes: &str,
) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO screening_questions (vaccine_id, position, text_zh, text_en, on_yes) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(vaccine_id)
    .bind(position)
    .bind(text_zh)
    .bind(text_en)
    .bind(on_yes)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// A screening to record.
#[derive(Debug, Clone, Copy)]
pub struct Screening<'a> {
    pub visit_id: i64,
    /// JSON `[{"question": id, "yes": bool}]`.
    pub answers: &'a str,
    /// `pass`, `defer` or `refer`.
    pub outcome: &'a str,
    pub reason: Option<&'a str>,
    /// `YYYY-MM-DD`, with `defer`.
    pub defer_until: Option<&'a str>,
    pub by: Option<i64>,
}

/// Records a screening and moves the visit and the journey on, on the caller's transaction — when the
/// visit is still waiting (or referred). Returns false, recording nothing, when it was not.
pub async fn record_in(tx: &mut AnyConnection, s: &Screening<'_>, now: i64) -> StoreResult<bool> {
    let stage = match s.outcome {
        "pass" => "ready",
        "defer" => "deferred",
        _ => "referred",
    };
    let moved = sqlx::query(
        "UPDATE visits SET stage = $2 WHERE id = $1 AND stage IN ('waiting', 'referred')",
    )
    .bind(s.visit_id)
    .bind(stage)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() != 1 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO screenings (visit_id, answers, outcome, reason, defer_until, screened_at, screened_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(s.visit_id)
    .bind(s.answers)
    .bind(s.outcome)
    .bind(s.reason)
    .bind(s.defer_until)
    .bind(now)
    .bind(s.by)
    .execute(&mut *tx)
    .await?;
    let row = sqlx::query(
        "SELECT person_id, dose_number, site_id, appointment_id FROM visits WHERE id = $1",
    )
    .bind(s.visit_id)
    .fetch_one(&mut *tx)
    .await?;
    if s.outcome == "defer" {
        // The appointment took place; the dose waits for the day the person may come again,
        // with a new appointment then.
        sqlx::query("UPDATE appointments SET status = 'completed', updated_at = $2 WHERE id = $1")
            .bind(row.try_get::<i64, _>(3)?)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let (person, dose, site): (i64, i64, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
    // The journey: screened, or deferred; a referral stays checked in (the event says why)
    // until the doctor decides.
    let (state, detail) = match s.outcome {
        "pass" => ("screened", None),
        "defer" => ("deferred", s.defer_until.map(|d| format!("until {d}"))),
        _ => ("checked_in", Some("referred to a doctor".to_string())),
    };
    let e = crate::journeys::SiteEvent {
        person,
        dose,
        state,
        at: now,
        site,
        actor: s.by,
        detail: detail.as_deref(),
    };
    if state == "checked_in" {
        crate::journeys::record_in(tx, &e).await?;
    } else {
        crate::journeys::advance_in(tx, &e, &["checked_in"]).await?;
    }
    Ok(true)
}

impl Question {
    /// The question in English, or in Chinese.
    pub fn text(&self, english: bool) -> &str {
        if english {
            &self.text_en
        } else {
            &self.text_zh
        }
    }
}

/// For each of `visit_ids`, the questions answered "yes" at its last screening, in order: what
/// the vaccinator and the observation nurse should know (an allergy history, say). A fixed
/// number of reads however many visits: their screenings at once, then each vaccine's questions.
pub async fn yes_answers(
    db: &Db,
    visit_ids: &[i64],
) -> StoreResult<std::collections::HashMap<i64, Vec<Question>>> {
    let mut out = std::collections::HashMap::new();
    if visit_ids.is_empty() {
        return Ok(out);
    }
    let list: Vec<String> = visit_ids.iter().map(i64::to_string).collect();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT s.visit_id, s.answers, a.vaccine_id FROM screenings s \
         JOIN visits v ON v.id = s.visit_id JOIN appointments a ON a.id = v.appointment_id \
         WHERE s.visit_id IN ({}) ORDER BY s.visit_id, s.screened_at, s.id",
        list.join(", ")
    )))
    .fetch_all(db.pool())
    .await?;
    // The last screening of each visit wins (rows come oldest first).
    let mut last: std::collections::HashMap<i64, (String, i64)> = std::collections::HashMap::new();
    for r in &rows {
        last.insert(r.try_get(0)?, (r.try_get(1)?, r.try_get(2)?));
    }
    let mut by_vaccine: std::collections::HashMap<i64, Vec<Question>> =
        std::collections::HashMap::new();
    for (visit, (answers, vaccine)) in last {
        if let std::collections::hash_map::Entry::Vacant(e) = by_vaccine.entry(vaccine) {
            e.insert(questions(db, vaccine).await?);
        }
        let yes: Vec<i64> = serde_json::from_str::<Vec<serde_json::Value>>(&answers)
            .unwrap_or_default()
            .iter()
            .filter(|a| a["yes"].as_bool() == Some(true))
            .filter_map(|a| a["question"].as_i64())
            .collect();
        let asked = by_vaccine
            .get(&vaccine)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let noted: Vec<Question> = asked
            .iter()
            .filter(|q| yes.contains(&q.id))
            .cloned()
            .collect();
        out.insert(visit, noted);
    }
    Ok(out)
}

/// Adds a question at the end of a vaccine's list, on the caller's transaction. Returns its id.
pub async fn append_question(
    tx: &mut AnyConnection,
    vaccine_id: i64,
    text_zh: &str,
    text_en: &str,
    on_yes: &str,
) -> StoreResult<i64> {
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(position) FROM screening_questions WHERE vaccine_id = $1")
            .bind(vaccine_id)
            .fetch_one(&mut *tx)
            .await?;
    let id = add_question_in(
        tx,
        vaccine_id,
        last.unwrap_or(0) + 1,
        text_zh,
        text_en,
        on_yes,
    )
    .await?;
    Ok(id)
}

/// Changes a question's texts and what a "yes" means. False when the vaccine has no such
/// question.
pub async fn update_question(
    conn: &mut AnyConnection,
    vaccine_id: i64,
    id: i64,
    text_zh: &str,
    text_en: &str,
    on_yes: &str,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE screening_questions SET text_zh = $3, text_en = $4, on_yes = $5 \
         WHERE id = $1 AND vaccine_id = $2",
    )
    .bind(id)
    .bind(vaccine_id)
    .bind(text_zh)
    .bind(text_en)
    .bind(on_yes)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes a question (screenings already recorded keep their answers). False when the
/// vaccine has no such question.
pub async fn delete_question(
    conn: &mut AnyConnection,
    vaccine_id: i64,
    id: i64,
) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM screening_questions WHERE id = $1 AND vaccine_id = $2")
        .bind(id)
        .bind(vaccine_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Swaps a question with the one before it (`up`) or after it, on the caller's transaction. False when
/// there is nothing to swap with.
pub async fn move_question(
    tx: &mut AnyConnection,
    vaccine_id: i64,
    id: i64,
    up: bool,
) -> StoreResult<bool> {
    let position: Option<i64> = sqlx::query_scalar(
        "SELECT position FROM screening_questions WHERE id = $1 AND vaccine_id = $2",
    )
    .bind(id)
    .bind(vaccine_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(position) = position else {
        return Ok(false);
    };
    let sql = if up {
        "SELECT id, position FROM screening_questions WHERE vaccine_id = $1 AND position < $2 \
         ORDER BY position DESC LIMIT 1"
    } else {
        "SELECT id, position FROM screening_questions WHERE vaccine_id = $1 AND position > $2 \
         ORDER BY position LIMIT 1"
    };
    let other = sqlx::query(sql)
        .bind(vaccine_id)
        .bind(position)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(other) = other else {
        return Ok(false);
    };
    let (other_id, other_position): (i64, i64) = (other.try_get(0)?, other.try_get(1)?);
    // Through a free position, so the unique (vaccine, position) holds at every step.
    let free: i64 = sqlx::query_scalar(
        "SELECT MAX(position) + 1 FROM screening_questions WHERE vaccine_id = $1",
    )
    .bind(vaccine_id)
    .fetch_one(&mut *tx)
    .await?;
    for (q, p) in [(id, free), (other_id, position), (id, other_position)] {
        sqlx::query("UPDATE screening_questions SET position = $2 WHERE id = $1")
            .bind(q)
            .bind(p)
            .execute(&mut *tx)
            .await?;
    }
    Ok(true)
}

/// The day from which a deferred person may come again for a dose: their last deferral's.
pub async fn deferred_until(db: &Db, person_id: i64, dose: i64) -> StoreResult<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT s.defer_until FROM screenings s JOIN visits v ON v.id = s.visit_id \
         WHERE v.person_id = $1 AND v.dose_number = $2 AND s.outcome = 'defer' \
         ORDER BY s.screened_at DESC, s.id DESC LIMIT 1",
    )
    .bind(person_id)
    .bind(dose)
    .fetch_optional(db.pool())
    .await?
    .flatten())
}
