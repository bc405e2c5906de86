//! The sites the caller may see.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::kit::ApiError;
use crate::AppState;
use crate::error::AppResult;
use crate::who::Who;

#[derive(Serialize, ToSchema)]
pub struct SiteOut {
    pub code: String,
    pub name: String,
    /// `fixed`, `temporary`, `mobile` or `workplace`.
    pub kind: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub open_from: Option<String>,
    pub open_until: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/sites", tag = "sites",
    responses((status = 200, body = [SiteOut]), (status = 401, body = ApiError), (status = 403, body = ApiError)))]
pub async fn site_list(
    State(state): State<AppState>,
    Who(caller): Who,
) -> AppResult<Json<Vec<SiteOut>>> {
    let out = vaxloop_app::sites::visible(&state.app, &caller)
        .await?
        .into_iter()
        .map(|s| SiteOut {
            code: s.code,
            name: s.name,
            kind: s.kind.to_string(),
            address: s.address,
            lat: s.lat,
            lon: s.lon,
            open_from: s.open_from,
            open_until: s.open_until,
        })
        .collect();
    Ok(Json(out))
}
