//! A unit's imports as the people who keep its list use them: the upload (with its history), the
//! report of each import, and the rejected rows handed back — an export of personal data, so it
//! is audited. Each takes the caller and checks it against the unit ([`scope::can_import`]).

use vaxloop_documents::Limits;
use vaxloop_store::imports::{self, ImportRecord};
use vaxloop_store::org::{self, Unit};

use super::{ImportError, ImportReport, Imported, Upload, import_people, load_report};
use crate::audit::{self, Act};
use crate::error::{Error, Result};
use crate::{App, Caller, scope};

/// The imports listed on a unit's upload page.
const HISTORY: i64 = 20;

/// The unit with code `code`, when the caller may look after its list (import, registration code,
/// poster, pending registrations); an audited denial otherwise, the same whether or not it exists.
pub async fn importable(app: &App, caller: &Caller, code: &str) -> Result<Unit> {
    let unit = org::unit_by_code(app.db(), code).await?;
    scope::check_thing(app, caller, &unit, scope::can_import).await?;
    unit.ok_or(Error::NotFound)
}

/// The upload page: the unit and its latest imports.
pub async fn upload_page(
    app: &App,
    caller: &Caller,
    code: &str,
) -> Result<(Unit, Vec<ImportRecord>)> {
    let unit = importable(app, caller, code).await?;
    let history = imports::of_unit(app.db(), unit.id, HISTORY).await?;
    Ok((unit, history))
}

/// Imports `upload` into the unit's list (see [`import_people`]): the rows, the import's record
/// and its audit row commit together. A file that cannot be read is the inner refusal.
pub async fn upload(
    app: &App,
    caller: &Caller,
    code: &str,
    upload: Upload<'_>,
    limits: &Limits,
) -> Result<std::result::Result<Imported, ImportError>> {
    let unit = importable(app, caller, code).await?;
    let done = import_people(
        app.db(),
        app.cipher(),
        &unit,
        upload,
        limits,
        app.today(),
        caller.user_id(),
    )
    .await;
    match done {
        Err(ImportError::Store(e)) => Err(e.into()),
        other => Ok(other),
    }
}

/// An import as its report page shows it.
#[derive(Debug, Clone)]
pub struct Report {
    pub record: ImportRecord,
    pub unit: Unit,
    pub report: ImportReport,
}

/// The import with id `id`, its unit and its full report, when the caller may see them.
pub async fn report(app: &App, caller: &Caller, id: i64) -> Result<Report> {
    let record = imports::by_id(app.db(), id).await?;
    let unit = match &record {
        Some(r) => org::unit(app.db(), r.unit_id).await?,
        None => None,
    };
    scope::check_thing(app, caller, &unit, scope::can_import).await?;
    let (Some(record), Some(unit)) = (record, unit) else {
        return Err(Error::NotFound);
    };
    let report = load_report(app.db(), app.cipher(), id).await?;
    Ok(Report {
        record,
        unit,
        report,
    })
}

/// [`report`] for handing the rejected rows back as a spreadsheet: the export is audited (who,
/// which import, how many rows) before anything is returned.
pub async fn rejected(app: &App, caller: &Caller, id: i64) -> Result<Report> {
    let mut found = report(app, caller, id).await?;
    let target = format!("import:{} unit:{}", found.record.id, found.unit.code);
    // Only those who may unmask the unit's people get the cells as typed; a group leader gets
    // the ID and phone cells masked, like every other view of them.
    let may_unmask = caller
        .actor()
        .is_none_or(|a| scope::can_unmask(a, &found.unit));
    if !may_unmask {
        found.report.mask_personal();
    }
    let masked = if may_unmask { "" } else { " masked" };
    let detail = format!("rows={}{masked}", found.report.rejected_rows.len());
    let mut tx = app.db().begin_write().await?;
    audit::write(
        &mut tx,
        caller,
        Act::new("export", &target)
            .reason("rejected rows of an import, to correct and upload again")
            .detail(&detail),
    )
    .await?;
    tx.commit().await?;
    Ok(found)
}
