//! Logins: staff accounts with a username and password, residents with their ID number and PIN.
//! A login's role and scope (work group, unit, site) are fixed in the row, and the schema refuses a
//! scoped role without its scope.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use vaxloop_core::{Role, SitePost};

use crate::db::Db;
use crate::error::{StoreError, StoreResult};
use crate::rows;

/// Failed passwords in a row before a login is locked for [`LOCK_MINUTES`].
pub const MAX_FAILED_LOGINS: i64 = 5;
pub const LOCK_MINUTES: i64 = 15;

/// The password hash of a machine client's login (see [`crate::api_tokens`]): not a PHC string,
/// so no password matches it, and the login form treats the name as unknown.
pub const MACHINE_HASH: &str = "!api-token";

/// A login as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: i64,
    pub username: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub work_group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub site_id: Option<i64>,
    pub site_post: Option<SitePost>,
    pub person_id: Option<i64>,
    pub active: bool,
    pub failed_logins: i64,
    pub locked_until: Option<i64>,
}

impl User {
    /// Whether this is a machine client's login (an API token's).
    pub fn is_machine(&self) -> bool {
        self.password_hash == MACHINE_HASH
    }
}

/// What it takes to create a login; `password_hash` is an Argon2id PHC string.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub username: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub role: Option<Role>,
    pub work_group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub site_id: Option<i64>,
    pub site_post: Option<SitePost>,
    pub person_id: Option<i64>,
}

pub(crate) const COLUMNS: &str = "id, username, display_name, password_hash, role, work_group_id, unit_id, \
                       site_id, site_post, person_id, active, failed_logins, locked_until";

pub(crate) fn from_row(row: &AnyRow) -> StoreResult<User> {
    let role: String = row.try_get("role")?;
    let post: Option<String> = row.try_get("site_post")?;
    let corrupt = |e: vaxloop_core::kinds::UnknownCode| {
        StoreError::Database(sqlx::Error::Decode(Box::new(e)))
    };
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        password_hash: row.try_get("password_hash")?,
        role: role.parse().map_err(corrupt)?,
        work_group_id: row.try_get("work_group_id")?,
        unit_id: row.try_get("unit_id")?,
        site_id: row.try_get("site_id")?,
        site_post: post.map(|p| p.parse()).transpose().map_err(corrupt)?,
        person_id: row.try_get("person_id")?,
        active: row.try_get::<i64, _>("active")? == 1,
        failed_logins: row.try_get("failed_logins")?,
        locked_until: row.try_get("locked_until")?,
    })
}

/// Creates a login and returns its id.
pub async fn insert(conn: &mut AnyConnection, user: &NewUser, now: i64) -> StoreResult<i64> {
    let role = user.role.unwrap_or(Role::Staff);
    let id = sqlx::query_scalar(
        "INSERT INTO users (username, display_name, password_hash, role, work_group_id, unit_id, \
         site_id, site_post, person_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(user.username.as_deref())
    .bind(&user.display_name)
    .bind(&user.password_hash)
    .bind(role.as_str())
    .bind(user.work_group_id)
    .bind(user.unit_id)
    .bind(user.site_id)
    .bind(user.site_post.map(SitePost::as_str))
    .bind(user.person_id)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn by_id(db: &Db, id: i64) -> StoreResult<Option<User>> {
    rows::optional(
        db,
        format!("SELECT {COLUMNS} FROM users WHERE id = $1"),
        id,
        from_row,
    )
    .await
}

pub async fn by_username(db: &Db, username: &str) -> StoreResult<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE username = $1");
    rows::optional(db, sql, username.to_string(), from_row).await
}

pub async fn by_person(db: &Db, person_id: i64) -> StoreResult<Option<User>> {
    rows::optional(
        db,
        format!("SELECT {COLUMNS} FROM users WHERE person_id = $1"),
        person_id,
        from_row,
    )
    .await
}

/// Counts a wrong password, inside the caller's transaction; the fifth in a row locks the login
/// until `now + LOCK_MINUTES` and starts the count again (after the lock, five more tries). A
/// login locked now is left alone: a failure during the lock neither counts nor extends it. One
/// conditional statement, so concurrent guesses cannot slip past the count. Returns the lock's
/// end when this failure locked the login.
pub async fn record_failed_login(
    conn: &mut AnyConnection,
    id: i64,
    now: i64,
) -> StoreResult<Option<i64>> {
    let until = now + LOCK_MINUTES * 60_000;
    let locked: Option<Option<i64>> = sqlx::query_scalar(
        "UPDATE users SET \
           locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3 ELSE NULL END, \
           failed_logins = CASE WHEN failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END \
         WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $4) \
         RETURNING locked_until",
    )
    .bind(id)
    .bind(MAX_FAILED_LOGINS)
    .bind(until)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    Ok(locked.flatten())
}

/// Clears the failure count and any lock: after a successful login, or when the admin unlocks
/// the login.
pub async fn record_login(conn: &mut AnyConnection, id: i64) -> StoreResult<()> {
    sqlx::query("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every staff login, ordered by role then username (for the admin's user list); machine
/// clients' logins are listed with their tokens instead.
pub async fn list_staff(db: &Db) -> StoreResult<Vec<User>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM users WHERE role <> 'resident' AND password_hash <> '{MACHINE_HASH}' \
         ORDER BY role, username"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(from_row).collect()
}
