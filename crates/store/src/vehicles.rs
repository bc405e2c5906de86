//! The registry of shuttle buses (班车) the planner may dispatch.

use sqlx::AnyConnection;

use crate::error::StoreResult;

#[derive(Debug, Clone, PartialEq)]
pub struct NewVehicle {
    pub code: String,
    pub plate: String,
    pub seats: i64,
    pub driver_name: String,
    pub driver_phone: String,
    pub depot: String,
    pub depot_lat: Option<f64>,
    pub depot_lon: Option<f64>,
}

pub async fn insert(conn: &mut AnyConnection, v: &NewVehicle) -> StoreResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO vehicles (code, plate, seats, driver_name, driver_phone, depot, depot_lat, depot_lon) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&v.code)
    .bind(&v.plate)
    .bind(v.seats)
    .bind(&v.driver_name)
    .bind(&v.driver_phone)
    .bind(&v.depot)
    .bind(v.depot_lat)
    .bind(v.depot_lon)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn count(db: &crate::Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM vehicles")
        .fetch_one(db.pool())
        .await?)
}
