//! Multi-row INSERT statements, written for the engine of the connection they run on.
//!
//! sqlx's `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL refuses; `$n` works on
//! both engines but SQLite looks named parameters up with a linear scan, so binding n of them costs
//! O(n²) — 77 % of the time of a 250,000-person insert. So PostgreSQL gets `$n` and SQLite gets
//! anonymous `?`, and both get large statements.

use std::fmt::Write;

use sqlx::AnyConnection;

/// How a statement for this connection numbers its parameters, and how many rows it may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dialect {
    numbered: bool,
    max_parameters: usize,
}

impl Dialect {
    pub(crate) fn of(conn: &AnyConnection) -> Self {
        if conn.backend_name().eq_ignore_ascii_case("sqlite") {
            // SQLite allows 32,766 parameters since 3.32.
            Dialect {
                numbered: false,
                max_parameters: 32_000,
            }
        } else {
            Dialect {
                numbered: true,
                max_parameters: 65_000,
            }
        }
    }

    /// Rows per statement for a table of `columns` columns (at most 1,000).
    pub(crate) fn rows_per_statement(self, columns: usize) -> usize {
        (self.max_parameters / columns.max(1)).clamp(1, 1000)
    }

    /// `($1, $2, …)` or `(?, ?, …)` with `n` parameters, for an `IN` list.
    pub(crate) fn list(self, n: usize) -> String {
        let mut sql = String::from("(");
        for i in 1..=n {
            if i > 1 {
                sql.push_str(", ");
            }
            if self.numbered {
                let _ = write!(sql, "${i}");
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
        sql
    }

    /// `INSERT INTO table (a, b) VALUES (…), (…)` for `rows` rows.
    pub(crate) fn insert_sql(self, table: &str, columns: &[&str], rows: usize) -> String {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for r in 0..rows {
            sql.push_str(if r > 0 { ", (" } else { "(" });
            for c in 0..columns.len() {
                if c > 0 {
                    sql.push_str(", ");
                }
                n += 1;
                if self.numbered {
                    let _ = write!(sql, "${n}");
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn each_engine_gets_its_placeholders() {
        let pg = Dialect {
            numbered: true,
            max_parameters: 65_000,
        };
        assert_eq!(
            pg.insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"
        );
        let lite = Dialect {
            numbered: false,
            max_parameters: 32_000,
        };
        assert_eq!(
            lite.insert_sql("t", &["a", "b"], 2),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"
        );
        assert_eq!(lite.rows_per_statement(13), 1000);
        assert_eq!(pg.rows_per_statement(100), 650);
        assert_eq!(pg.list(3), "($1, $2, $3)");
        assert_eq!(lite.list(2), "(?, ?)");
    }
}
