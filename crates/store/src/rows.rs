//! The lookup every entity module needs — one row by id, code or another key, mapped by the
//! module's own `from_row` — written once.

use sqlx::any::AnyRow;
use sqlx::{Any, AssertSqlSafe, Encode, Type};

use crate::db::Db;
use crate::error::StoreResult;

/// Runs `sql` with `value` bound to `$1` and maps the row, if there is one.
pub(crate) async fn optional<T, V>(
    db: &Db,
    sql: String,
    value: V,
    map: fn(&AnyRow) -> StoreResult<T>,
) -> StoreResult<Option<T>>
where
    V: for<'q> Encode<'q, Any> + Type<Any> + Send + 'static,
{
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(value)
        .fetch_optional(db.pool())
        .await?;
    row.as_ref().map(map).transpose()
}
