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

/// Creates the next team of a site-day on the caller's transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    unit_id: i64,
    site_id: i64,
    day: &str,
    size: i64,
) -> StoreResult<Team> {
    let number: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM teams WHERE site_id = $1 AND day = $2",
    )
    .bind(site_id)
    .bind(day)
    .fetch_one(&mut *conn)
    .await?;
    let colour = (number - 1) % 20;
    let code = format!("T{site_id}-{}-{number}", day.replace('-', ""));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO teams (code, unit_id, site_id, day, colour, number, size) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(&code)
    .bind(unit_id)
    .bind(site_id)
    .bind(day)
    .bind(colour)
    .bind(number)
    .bind(size)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Team {
        id,
        code,
        number,
        colour,
    })
}
