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

/// Placeholders for `rows` rows of `cols` parameters each, numbered from `$first`:
/// `($1, $2), ($3, $4)`.
pub(crate) fn values(rows: usize, cols: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(first + r * cols + c).to_string());
        }
        out.push(')');
    }
    out
}

/// Integers written into a statement's text, comma-separated, for `IN (…)`: safe (an `i64`
/// prints as digits and a sign, nothing else), and for long lists much cheaper than as many
/// parameters — the SQLite driver looks each parameter's name up by walking the statement's
/// whole list of them.
pub(crate) fn ints(values: impl Iterator<Item = i64>) -> String {
    values.map(|v| v.to_string()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_in_order_and_integers_listed() {
        assert_eq!(super::values(2, 3, 1), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(super::values(1, 1, 4), "($4)");
        assert_eq!(super::ints([3, -1, 42].into_iter()), "3, -1, 42");
    }
}
