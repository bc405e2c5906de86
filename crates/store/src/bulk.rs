//! Multi-row INSERT statements with `$n` placeholders, which both engines accept (sqlx's
//! `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL refuses).

use std::fmt::Write;

use sqlx::AnyConnection;

/// How many rows one INSERT should carry on this connection's engine. SQLite looks bound
/// parameters up by name with a linear scan, so binding n parameters costs O(n²): a few hundred
/// parameters per statement keep that negligible. PostgreSQL pays a round trip per statement
/// instead, so it gets large statements (its limit is 65,535 parameters).
pub(crate) fn rows_per_statement(conn: &AnyConnection, columns: usize) -> usize {
    let parameters = if conn.backend_name().eq_ignore_ascii_case("sqlite") {
        256
    } else {
        8192
    };
    (parameters / columns.max(1)).max(1)
}

/// `INSERT INTO table (a, b) VALUES ($1, $2), ($3, $4), …` for `rows` rows.
pub(crate) fn insert_sql(table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..columns.len() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            let _ = write!(sql, "${n}");
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_placeholders_across_rows() {
        assert_eq!(
            super::insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
    }
}
