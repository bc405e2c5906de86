//! Booking use cases shared by the resident's page, the desk and the API.

use vaxloop_store::booking::{self, Booking, Refusal};
use vaxloop_store::{Db, StoreError, vaccines};

/// The vaccine a first dose is booked with when the caller names none: the first product in the
/// catalogue. (Eligibility by age and series rules arrive with the dose-interval work.)
pub async fn default_vaccine(db: &Db) -> Result<Option<i64>, StoreError> {
    Ok(vaccines::all(db).await?.first().map(|v| v.id))
}

/// Books people for dose 1 into a slot, all or nothing.
pub async fn book_first_dose(
    db: &Db,
    slot_id: i64,
    people: &[i64],
    team_id: Option<i64>,
) -> Result<Result<Vec<i64>, Refusal>, StoreError> {
    let Some(vaccine_id) = default_vaccine(db).await? else {
        return Err(StoreError::NotFound("vaccine"));
    };
    booking::book(
        db,
        &Booking {
            slot_id,
            people,
            vaccine_id,
            dose_number: 1,
            team_id,
            walk_in: false,
        },
    )
    .await
}
