//! Stock (库存): deliveries for the coming week to receive, each lot's balance per site, waste
//! recorded with a reason, transfers between sites. Every movement is one ledger row (two for a
//! transfer) written with its balance change in one transaction.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::Days;
use serde::Deserialize;
use vaxloop_app::supply::{self, SupplyError, VaccineInput};
use vaxloop_core::Role;
use vaxloop_store::sites::{self, Site};
use vaxloop_store::vaccines::{self, DeliveryRow, StockRefusal, Vaccine};

use super::{Page, PageCtx, html};
use crate::AppState;
use crate::access::{self, can_manage_stock, deny, require};
use crate::error::{AppError, AppResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stock", get(page))
        .route("/deliveries/{id}/receive", post(receive))
        .route("/stock/waste", post(waste))
        .route("/stock/transfer", post(transfer))
        .route("/vaccines", post(new_vaccine))
        .route("/lots", post(new_lot))
        .route("/deliveries", post(new_delivery))
}

/// After creating a product, lot or delivery: back to the page, or the page again with what to
/// correct.
async fn created(
    state: &AppState,
    page: &Page,
    result: Result<i64, SupplyError>,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to("/stock").into_response()),
        Err(SupplyError::Invalid(problems)) => {
            let lang = page.lang;
            let notice = problems
                .iter()
                .map(|p| {
                    format!(
                        "{}: {}",
                        lang.t(&format!("supply.field.{}", p.field)),
                        lang.t(&format!("org.problem.{}", p.code))
                    )
                })
                .collect::<Vec<_>>()
                .join("；");
            Ok((
                StatusCode::BAD_REQUEST,
                html(&render(state, page, Some(notice)).await?)?,
            )
                .into_response())
        }
        Err(SupplyError::Refused(r)) => refused(state, page, r).await,
        Err(SupplyError::Store(e)) => Err(e.into()),
    }
}

async fn new_vaccine(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<VaccineInput>,
) -> AppResult<Response> {
    require(&state, &page.auth, &[Role::Admin], "/vaccines").await?;
    let result = supply::create_vaccine(&state.db, &input).await;
    created(&state, &page, result).await
}

#[derive(Deserialize)]
struct LotForm {
    vaccine: i64,
    #[serde(default)]
    lot_number: String,
    #[serde(default)]
    expires_on: String,
}

async fn new_lot(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<LotForm>,
) -> AppResult<Response> {
    require(&state, &page.auth, &[Role::Admin, Role::Desk], "/lots").await?;
    let result = supply::create_lot(
        &state.db,
        form.vaccine,
        &form.lot_number,
        &form.expires_on,
        state.config.today(),
    )
    .await;
    created(&state, &page, result).await
}

#[derive(Deserialize)]
struct DeliveryForm {
    lot: i64,
    site: i64,
    #[serde(default)]
    day: String,
    doses: i64,
}

async fn new_delivery(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<DeliveryForm>,
) -> AppResult<Response> {
    require(
        &state,
        &page.auth,
        &[Role::Admin, Role::Desk],
        "/deliveries",
    )
    .await?;
    let result = supply::plan_delivery(&state.db, form.lot, form.site, &form.day, form.doses).await;
    created(&state, &page, result).await
}

/// A lot's balance at a site, named.
struct BalanceRow {
    site: String,
    vaccine: String,
    lot: String,
    expires: String,
    remaining: i64,
}

#[derive(Template)]
#[template(path = "stock.html")]
struct StockPage {
    ctx: PageCtx,
    vaccines: Vec<Vaccine>,
    deliveries: Vec<DeliveryRow>,
    balances: Vec<BalanceRow>,
    sites: Vec<Site>,
    lots: Vec<(i64, String, String, String)>,
    notice: Option<String>,
    /// The admin edits each vaccine's screening questions.
    is_admin: bool,
}

async fn render(state: &AppState, page: &Page, notice: Option<String>) -> AppResult<StockPage> {
    let today = state.config.today();
    let until = today.checked_add_days(Days::new(7)).unwrap_or(today);
    let sites = sites::all(&state.db).await?;
    let mut balances = Vec::new();
    for s in &sites {
        for l in vaccines::stock_at(&state.db, s.id).await? {
            balances.push(BalanceRow {
                site: s.name.clone(),
                vaccine: l.vaccine_name,
                lot: l.lot_number,
                expires: l.expires_on,
                remaining: l.remaining,
            });
        }
    }
    Ok(StockPage {
        ctx: page.ctx("/stock").await?,
        vaccines: vaccines::all(&state.db).await?,
        deliveries: vaccines::deliveries(&state.db, &today.to_string(), &until.to_string(), None)
            .await?,
        balances,
        sites,
        lots: vaccines::lots(&state.db).await?,
        notice,
        is_admin: page
            .auth
            .user
            .as_ref()
            .is_some_and(|u| u.0.role == Role::Admin),
    })
}

async fn page(State(state): State<AppState>, page: Page) -> AppResult<Html<String>> {
    require(&state, &page.auth, &[Role::Admin, Role::Desk], "/stock").await?;
    html(&render(&state, &page, None).await?)
}

async fn receive(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    let site = vaccines::delivery_site(&state.db, id).await?;
    if !site.is_some_and(|s| can_manage_stock(user, s)) {
        return Err(deny(&state, Some(user), &format!("/deliveries/{id}/receive")).await);
    }
    let mut tx = state.db.begin_write().await?;
    match vaccines::receive_delivery(&mut tx, id, Some(user.id), vaxloop_store::now_ms()).await {
        Ok(()) => tx.commit().await.map_err(vaxloop_store::StoreError::from)?,
        // Received already: nothing to do, the ledger counted it once.
        Err(vaxloop_store::StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to("/stock").into_response())
}

#[derive(Deserialize)]
struct WasteForm {
    site: i64,
    lot: i64,
    doses: i64,
    #[serde(default)]
    reason: String,
}

/// Commits a stock movement and goes back to the page, or rolls it back and says why not.
async fn settle(
    state: &AppState,
    page: &Page,
    tx: vaxloop_store::WriteTx,
    moved: Result<(), StockRefusal>,
) -> AppResult<Response> {
    match moved {
        Ok(()) => {
            tx.commit().await.map_err(vaxloop_store::StoreError::from)?;
            Ok(Redirect::to("/stock").into_response())
        }
        Err(refusal) => {
            tx.rollback()
                .await
                .map_err(vaxloop_store::StoreError::from)?;
            refused(state, page, refusal).await
        }
    }
}

async fn refused(state: &AppState, page: &Page, refusal: StockRefusal) -> AppResult<Response> {
    let notice = match refusal {
        StockRefusal::Short { remaining } => page
            .lang
            .tf("stock.short", &[("n", &remaining.to_string())]),
        StockRefusal::NoReason => page.lang.t("privacy.reason_required"),
    };
    Ok((
        StatusCode::CONFLICT,
        html(&render(state, page, Some(notice)).await?)?,
    )
        .into_response())
}

async fn waste(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<WasteForm>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    if !can_manage_stock(user, form.site) {
        return Err(deny(&state, Some(user), "/stock/waste").await);
    }
    if form.doses < 1 {
        return Err(AppError::BadRequest {
            field: Some("doses".into()),
            message: "stock.doses_positive".into(),
        });
    }
    let mut tx = state.db.begin_write().await?;
    let moved = vaccines::waste(
        &mut tx,
        form.lot,
        form.site,
        form.doses,
        &form.reason,
        Some(user.id),
        vaxloop_store::now_ms(),
    )
    .await?;
    settle(&state, &page, tx, moved).await
}

#[derive(Deserialize)]
struct TransferForm {
    lot: i64,
    from: i64,
    to: i64,
    doses: i64,
}

async fn transfer(
    State(state): State<AppState>,
    page: Page,
    Form(form): Form<TransferForm>,
) -> AppResult<Response> {
    let user = access::user(&page.auth)?;
    if !can_manage_stock(user, form.from) {
        return Err(deny(&state, Some(user), "/stock/transfer").await);
    }
    if form.doses < 1 || form.from == form.to {
        return Err(AppError::BadRequest {
            field: Some("doses".into()),
            message: "stock.doses_positive".into(),
        });
    }
    let mut tx = state.db.begin_write().await?;
    let moved = vaccines::transfer(
        &mut tx,
        form.lot,
        form.from,
        form.to,
        form.doses,
        Some(user.id),
        vaxloop_store::now_ms(),
    )
    .await?;
    settle(&state, &page, tx, moved).await
}
