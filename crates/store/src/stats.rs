//! Whole-campaign counts for the home pages.

use sqlx::Row;

use crate::db::Db;
use crate::error::StoreResult;

/// The headline figures of the campaign.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Overview {
    pub work_groups: i64,
    pub units: i64,
    pub people: i64,
    pub target: i64,
    pub sites: i64,
    pub doses_delivered: i64,
    pub doses_planned: i64,
    pub doses_in_stock: i64,
}

pub async fn overview(db: &Db) -> StoreResult<Overview> {
    let r = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM work_groups), \
           (SELECT COUNT(*) FROM units), \
           (SELECT COUNT(*) FROM people), \
           CAST(COALESCE((SELECT SUM(target_headcount) FROM units), 0) AS BIGINT), \
           (SELECT COUNT(*) FROM sites), \
           CAST(COALESCE((SELECT SUM(doses) FROM deliveries WHERE status = 'received'), 0) AS BIGINT), \
           CAST(COALESCE((SELECT SUM(doses) FROM deliveries WHERE status = 'planned'), 0) AS BIGINT), \
           CAST(COALESCE((SELECT SUM(remaining) FROM stock_balances), 0) AS BIGINT)",
    )
    .fetch_one(db.pool())
    .await?;
    Ok(Overview {
        work_groups: r.try_get(0)?,
        units: r.try_get(1)?,
        people: r.try_get(2)?,
        target: r.try_get(3)?,
        sites: r.try_get(4)?,
        doses_delivered: r.try_get(5)?,
        doses_planned: r.try_get(6)?,
        doses_in_stock: r.try_get(7)?,
    })
}
