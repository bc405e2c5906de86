//! The logged-in user, as the API tells them.

use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::kit::ApiError;
use crate::auth::AuthSession;
use crate::error::AppResult;

/// The logged-in user and their scope.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub display_name: String,
    /// One of `admin`, `group_leader`, `unit_contact`, `desk`, `site_staff`, `staff`, `resident`.
    pub role: String,
    pub site_post: Option<String>,
    pub work_group_id: Option<i64>,
    pub unit_id: Option<i64>,
    pub site_id: Option<i64>,
    /// Where this role's home page is.
    pub home: String,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "session",
    responses((status = 200, body = Me), (status = 401, body = ApiError)))]
pub async fn me(auth: AuthSession) -> AppResult<Json<Me>> {
    let u = crate::furniture::user(&auth)?;
    Ok(Json(Me {
        id: u.id,
        display_name: u.display_name.clone(),
        role: u.role.to_string(),
        site_post: u.site_post.map(|p| p.to_string()),
        work_group_id: u.work_group_id,
        unit_id: u.unit_id,
        site_id: u.site_id,
        home: crate::furniture::home(u.role).to_string(),
    }))
}
