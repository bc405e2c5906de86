//! Teams (批次): the people of one unit booked together into a site-day, numbered per site-day
//! and given one of twenty colours for the armbands the site's marshals read at a glance.

use sqlx::AnyConnection;

use crate::error::StoreResult;

/// A team as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: i64,
    pub code: String,
    pub number: i64,
    pub colour: i64,
}

/// Creates the next team of a site-day on the caller's transaction. Two transactions creating
/// a team of the same site-day at once may both read the same last number: the second's insert
/// then stores nothing (it waits for the first to commit and finds its code taken) and takes the
/// next number after it.
pub async fn insert(
    conn: &mut AnyConnection,
    unit_id: i64,
    site_id: i64,
    day: &str,
    size: i64,
) -> StoreResult<Team> {
    for _ in 0..1_000 {
        let number: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM teams WHERE site_id = $1 AND day = $2",
        )
        .bind(site_id)
        .bind(day)
        .fetch_one(&mut *conn)
        .await?;
        let colour = (number - 1) % 20;
        let code = format!("T{site_id}-{}-{number}", day.replace('-', ""));
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO teams (code, unit_id, site_id, day, colour, number, size) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING id",
        )
        .bind(&code)
        .bind(unit_id)
        .bind(site_id)
        .bind(day)
        .bind(colour)
        .bind(number)
        .bind(size)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = id {
            return Ok(Team {
                id,
                code,
                number,
                colour,
            });
        }
    }
    Err(crate::StoreError::Constraint {
        constraint: "teams_code_key".into(),
    })
}

/// Sets (or clears) a team's shuttle trips on the caller's transaction.
pub async fn set_trips_in(
    conn: &mut AnyConnection,
    team_id: i64,
    trips: Option<&str>,
) -> StoreResult<()> {
    sqlx::query("UPDATE teams SET trips = $1 WHERE id = $2")
        .bind(trips)
        .bind(team_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// A team as the desk lists it: where and when, whose, and how many of its people still hold an
/// appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamRow {
    pub id: i64,
    pub code: String,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub site_id: i64,
    pub site_code: String,
    pub day: String,
    pub colour: i64,
    pub number: i64,
    pub size: i64,
    /// Active appointments of the team now.
    pub active: i64,
    /// The first of its slots to start, while it holds any.
    pub starts_min: Option<i64>,
    /// Its shuttle trips as published (JSON, see migration 0007); `None` when it makes its own
    /// way.
    pub trips: Option<String>,
}

const ROW: &str = "SELECT t.id, t.code, t.unit_id, u.code, u.name, t.site_id, s.code, t.day, t.colour, t.number, t.size, \
     (SELECT COUNT(*) FROM appointments a WHERE a.team_id = t.id AND a.status = 'active'), \
     (SELECT MIN(sl.starts_min) FROM appointments a JOIN slots sl ON sl.id = a.slot_id \
        WHERE a.team_id = t.id AND a.status = 'active'), t.trips \
     FROM teams t JOIN units u ON u.id = t.unit_id JOIN sites s ON s.id = t.site_id";

fn row(r: &sqlx::any::AnyRow) -> StoreResult<TeamRow> {
    use sqlx::Row;
    Ok(TeamRow {
        id: r.try_get(0)?,
        code: r.try_get(1)?,
        unit_id: r.try_get(2)?,
        unit_code: r.try_get(3)?,
        unit_name: r.try_get(4)?,
        site_id: r.try_get(5)?,
        site_code: r.try_get(6)?,
        day: r.try_get(7)?,
        colour: r.try_get(8)?,
        number: r.try_get(9)?,
        size: r.try_get(10)?,
        active: r.try_get(11)?,
        starts_min: r.try_get(12)?,
        trips: r.try_get(13)?,
    })
}

/// The teams of the site-days from `from` to `to` (inclusive, `YYYY-MM-DD`) that still hold
/// appointments, by day, site and number.
pub async fn of_days(db: &crate::Db, from: &str, to: &str) -> StoreResult<Vec<TeamRow>> {
    let sql = format!(
        "{ROW} WHERE t.day BETWEEN $1 AND $2 AND EXISTS \
         (SELECT 1 FROM appointments a WHERE a.team_id = t.id AND a.status = 'active') \
         ORDER BY t.day, s.code, t.number"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(from)
        .bind(to)
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(row).collect()
}

/// Which teams [`find`] lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Find<'a> {
    /// Days from and to (inclusive, `YYYY-MM-DD`).
    pub from: &'a str,
    pub to: &'a str,
    pub site_id: Option<i64>,
    pub day: Option<&'a str>,
    /// Part of the unit's name, or the unit's or the team's code (or its start).
    pub text: Option<&'a str>,
    /// Teams that still hold appointments (`Some(true)`), those that hold none (`Some(false)`),
    /// or both.
    pub holding: Option<bool>,
    pub limit: i64,
    pub offset: i64,
}

/// `text` made safe inside a `LIKE` pattern (escaped with `\\`).
fn like_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A page of the teams `f` names, by day, site and number, and how many there are in all.
pub async fn find(db: &crate::Db, f: &Find<'_>) -> StoreResult<(Vec<TeamRow>, i64)> {
    let holding =
        "EXISTS (SELECT 1 FROM appointments a WHERE a.team_id = t.id AND a.status = 'active')";
    let mut cond = String::from("t.day BETWEEN $1 AND $2");
    cond.push_str(" AND ($3 IS NULL OR t.site_id = $3) AND ($4 IS NULL OR t.day = $4)");
    cond.push_str(
        " AND ($5 IS NULL OR u.name LIKE $5 ESCAPE '\\' OR u.code = $6 OR t.code LIKE $7 ESCAPE '\\')",
    );
    match f.holding {
        Some(true) => cond.push_str(&format!(" AND {holding}")),
        Some(false) => cond.push_str(&format!(" AND NOT {holding}")),
        None => {}
    }
    let text = f.text.map(str::trim).filter(|t| !t.is_empty());
    let contains = text.map(|t| format!("%{}%", like_escaped(t)));
    let starts = text.map(|t| format!("{}%", like_escaped(&t.to_uppercase())));
    let count_sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM teams t JOIN units u ON u.id = t.unit_id WHERE {cond}"
    );
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql))
        .bind(f.from)
        .bind(f.to)
        .bind(f.site_id)
        .bind(f.day)
        .bind(contains.as_deref())
        .bind(text)
        .bind(starts.as_deref())
        .fetch_one(db.pool())
        .await?;
    let sql = format!("{ROW} WHERE {cond} ORDER BY t.day, s.code, t.number LIMIT $8 OFFSET $9");
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(f.from)
        .bind(f.to)
        .bind(f.site_id)
        .bind(f.day)
        .bind(contains.as_deref())
        .bind(text)
        .bind(starts.as_deref())
        .bind(f.limit)
        .bind(f.offset)
        .fetch_all(db.pool())
        .await?;
    Ok((rows.iter().map(row).collect::<StoreResult<_>>()?, total))
}

/// One team by its code.
pub async fn by_code(db: &crate::Db, code: &str) -> StoreResult<Option<TeamRow>> {
    let sql = format!("{ROW} WHERE t.code = $1");
    let found = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(code)
        .fetch_optional(db.pool())
        .await?;
    found.as_ref().map(row).transpose()
}

/// A team's active appointments: `(appointment, person, slot, dose number)`, by slot and person.
pub async fn members(db: &crate::Db, team_id: i64) -> StoreResult<Vec<(i64, i64, i64, i64)>> {
    let mut conn = db.pool().acquire().await?;
    members_in(&mut conn, team_id).await
}

/// [`members`], read on the caller's connection (inside its transaction).
pub async fn members_in(
    conn: &mut AnyConnection,
    team_id: i64,
) -> StoreResult<Vec<(i64, i64, i64, i64)>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT a.id, a.person_id, a.slot_id, a.dose_number FROM appointments a JOIN slots s ON s.id = a.slot_id \
         WHERE a.team_id = $1 AND a.status = 'active' ORDER BY s.starts_min, a.person_id",
    )
    .bind(team_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?)))
        .collect()
}

/// A member of a team as its papers list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub name: String,
    pub id_masked: String,
    pub appointment_id: i64,
    pub starts_min: i64,
    pub ends_min: i64,
}

/// A team's members with active appointments, by slot and name.
pub async fn roster(db: &crate::Db, team_id: i64) -> StoreResult<Vec<Member>> {
    use sqlx::Row;
    let rows = sqlx::query(
        "SELECT p.name, p.id_masked, a.id, s.starts_min, s.ends_min FROM appointments a \
         JOIN people p ON p.id = a.person_id JOIN slots s ON s.id = a.slot_id \
         WHERE a.team_id = $1 AND a.status = 'active' ORDER BY s.starts_min, p.name, p.id",
    )
    .bind(team_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Member {
                name: r.try_get(0)?,
                id_masked: r.try_get(1)?,
                appointment_id: r.try_get(2)?,
                starts_min: r.try_get(3)?,
                ends_min: r.try_get(4)?,
            })
        })
        .collect()
}
