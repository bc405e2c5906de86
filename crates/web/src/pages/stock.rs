//! Stock (库存): deliveries for the coming week to receive, each lot's balance per site, waste
//! recorded with a reason, transfers between sites. Every movement is one ledger row (two for a
//! transfer) written with its balance change in one transaction — by `vaxloop_app::supply`.

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use vaxloop_app::supply::{
    self, BalanceRow, DeliveryRow, Site, SiteRef, StockRefusal, Vaccine, VaccineInput,
};
use vaxloop_core::Role;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::furniture::{Page, PageCtx, html};

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
    result: Result<i64, vaxloop_app::Error>,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to("/stock").into_response()),
        Err(vaxloop_app::Error::Invalid(problems)) => {
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
        Err(e) => Err(e.into()),
    }
}

async fn new_vaccine(
    State(state): State<AppState>,
    page: Page,
    Form(input): Form<VaccineInput>,
) -> AppResult<Response> {
    let result = supply::create_vaccine(&state.app, &page.caller(), &input).await;
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
    let result = supply::create_lot(
        &state.app,
        &page.caller(),
        form.vaccine,
        &form.lot_number,
        &form.expires_on,
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
    let result = supply::plan_delivery(
        &state.app,
        &page.caller(),
        form.lot,
        SiteRef::Id(form.site),
        &form.day,
        form.doses,
    )
    .await;
    created(&state, &page, result).await
}

#[derive(Template)]
#[template(path = "stock/stock.html")]
struct StockPage {
    ctx: PageCtx,
    vaccines: Vec<Vaccine>,
    deliveries: Vec<DeliveryRow>,
    balances: Vec<BalanceRow>,
    sites: Vec<Site>,
    lots: Vec<(i64, String, String, String)>,
    notice: Option<String>,
    /// Whether the notice says something was done (not a refusal).
    done: bool,
    /// The admin edits each vaccine's screening questions.
    is_admin: bool,
    /// Today, `YYYY-MM-DD`: a delivery dated later asks before it is received.
    today: String,
}

impl StockPage {
    /// The deliveries still to receive.
    fn planned(&self) -> Vec<&DeliveryRow> {
        self.deliveries
            .iter()
            .filter(|d| d.status == "planned")
            .collect()
    }

    /// The question before a delivery dated days ahead is received today.
    fn early_receipt(&self, d: &DeliveryRow) -> String {
        self.ctx.lang.tf(
            "stock.receive_early",
            &[
                ("day", &d.day),
                ("doses", &d.doses.to_string()),
                ("site", &d.site_name),
            ],
        )
    }
}

async fn render(state: &AppState, page: &Page, notice: Option<String>) -> AppResult<StockPage> {
    render_with(state, page, notice, false).await
}

async fn render_with(
    state: &AppState,
    page: &Page,
    notice: Option<String>,
    done: bool,
) -> AppResult<StockPage> {
    let view = supply::stock_view(&state.app, &page.caller()).await?;
    Ok(StockPage {
        ctx: page.ctx("/stock").await?,
        vaccines: view.vaccines,
        deliveries: view.deliveries,
        balances: view.balances,
        sites: view.sites,
        lots: view.lots,
        notice,
        done,
        today: state.config.today().to_string(),
        is_admin: page
            .auth
            .user
            .as_ref()
            .is_some_and(|u| u.0.role == Role::Admin),
    })
}

#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<Done>,
) -> AppResult<Html<String>> {
    let notice = q
        .done
        .as_deref()
        .filter(|d| ["received", "wasted", "transferred", "before"].contains(d))
        .map(|d| page.lang.t(&format!("stock.done.{d}")));
    let done = notice.is_some();
    html(&render_with(&state, &page, notice, done).await?)
}

/// Received now or before, the ledger counted it once: back to the page either way.
async fn receive(
    State(state): State<AppState>,
    page: Page,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let done = match supply::receive_delivery(&state.app, &page.caller(), id).await? {
        supply::Received::Now => "received",
        supply::Received::Before => "before",
    };
    Ok(Redirect::to(&format!("/stock?done={done}")).into_response())
}

#[derive(Deserialize)]
struct WasteForm {
    site: i64,
    lot: i64,
    doses: i64,
    #[serde(default)]
    reason: String,
}

/// Back to the page after a stock movement, or the page again saying why it was refused.
async fn moved(
    state: &AppState,
    page: &Page,
    result: vaxloop_app::Result<Result<(), StockRefusal>>,
    done: &str,
) -> AppResult<Response> {
    let refusal = match result {
        Ok(Ok(())) => return Ok(Redirect::to(&format!("/stock?done={done}")).into_response()),
        Ok(Err(refusal)) => refusal,
        Err(vaxloop_app::Error::Invalid(_)) => {
            return Err(AppError::BadRequest {
                field: Some("doses".into()),
                message: "stock.doses_positive".into(),
            });
        }
        Err(e) => return Err(e.into()),
    };
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
    let result = supply::waste(
        &state.app,
        &page.caller(),
        form.site,
        form.lot,
        form.doses,
        &form.reason,
    )
    .await;
    moved(&state, &page, result, "wasted").await
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
    let result = supply::transfer(
        &state.app,
        &page.caller(),
        form.lot,
        form.from,
        form.to,
        form.doses,
    )
    .await;
    moved(&state, &page, result, "transferred").await
}
