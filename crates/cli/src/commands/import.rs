//! `vaxloop import people --unit CODE FILE`: a unit's people from XLSX or CSV, validated and
//! stored, with a report of every rejected row. Exit status 0 whenever the file could be read,
//! whatever was rejected; with `--json` the last line is the summary object.

use std::path::PathBuf;

use anyhow::{Context, bail};
use std::io::Write;

use vaxloop_app::import::{ImportError, ImportReport, Upload, import_people};
use vaxloop_documents::Limits;
use vaxloop_store::{PiiCipher, PiiKey, org};

use crate::settings::Settings;

#[derive(clap::Subcommand)]
pub enum What {
    /// Import a unit's people (姓名/name, 身份证号/id_number, 手机号/phone, 备注/note).
    People(PeopleArgs),
}

#[derive(clap::Args)]
pub struct PeopleArgs {
    /// The unit's code, as shown on its page (e.g. E001).
    #[arg(long)]
    unit: String,
    /// An .xlsx workbook (first sheet) or a .csv file in UTF-8 or GBK/GB18030.
    file: PathBuf,
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop.db; env VAXLOOP_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
    /// The key for personal data, as written by `vaxloop keygen` (or env VAXLOOP_PII_KEY /
    /// VAXLOOP_PII_KEY_FILE); the demo keeps its key in vaxloop-demo.key.
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Print the summary as one JSON object on the last line.
    #[arg(long)]
    json: bool,
    /// The largest file accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    max_bytes: usize,
    /// The most data rows accepted.
    #[arg(long, default_value_t = Limits::default().max_rows)]
    max_rows: usize,
}

pub async fn run(what: What, settings: Settings) -> anyhow::Result<()> {
    match what {
        What::People(args) => people(args, settings).await,
    }
}

async fn people(args: PeopleArgs, settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url(args.database_url.as_deref(), "sqlite://vaxloop.db")?;
    let key = match &args.key_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read the key file {}", path.display()))?;
            PiiKey::from_hex(&text).with_context(|| format!("the key file {}", path.display()))?
        }
        None => settings.pii_key()?.context(
            "no key for personal data: pass --key-file (the demo's is vaxloop-demo.key) or set VAXLOOP_PII_KEY / VAXLOOP_PII_KEY_FILE",
        )?,
    };
    let limits = Limits {
        max_bytes: args.max_bytes,
        max_rows: args.max_rows,
        ..Limits::default()
    };
    let size = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    if size > limits.max_bytes as u64 {
        bail!(
            "cannot import {}: the file is {size} bytes; the limit is {} bytes",
            args.file.display(),
            limits.max_bytes
        );
    }
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let db = super::open(&url).await?;
    let unit = org::unit_by_code(&db, &args.unit)
        .await?
        .with_context(|| format!("there is no unit with the code {}", args.unit))?;
    let today = settings.web.0.today();
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let upload = Upload {
        file_name: &file_name,
        bytes: &bytes,
    };
    let report = match import_people(
        &db,
        &PiiCipher::new(&key),
        &unit,
        upload,
        &limits,
        today,
        None,
    )
    .await
    {
        Ok(imported) => imported.report,
        Err(e @ (ImportError::Read(_) | ImportError::MissingColumns(_))) => {
            bail!("cannot import {}: {e}", args.file.display())
        }
        Err(ImportError::Store(e)) => return Err(e).context("the import was not stored"),
    };
    db.close().await;

    match print_report(&unit.name, &report, args.json) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write the report"),
    }
}

/// The report on standard output; a reader that stops early (`| head`) is not an error.
fn print_report(unit: &str, report: &ImportReport, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{unit}: {} rows read, {} imported, {} updated, {} unchanged, {} rejected",
        report.rows, report.imported, report.updated, report.unchanged, report.rejected
    )?;
    for w in &report.warnings {
        match w.code.as_str() {
            "kept_in_note" => writeln!(
                out,
                "note: column '{}' is not a known field; its values are kept in the note",
                w.column
            )?,
            _ => writeln!(
                out,
                "note: column '{}' appears twice; the first is used",
                w.column
            )?,
        }
    }
    if json {
        writeln!(out, "{}", report.summary_json())?;
        return Ok(());
    }
    for e in report.errors.iter().take(50) {
        writeln!(
            out,
            "  row {:>6}  {:<10} {}",
            e.row,
            e.field.as_str(),
            e.reason
        )?;
    }
    if report.errors.len() > 50 {
        writeln!(
            out,
            "  … and {} more (use --json for all)",
            report.errors.len() - 50
        )?;
    }
    Ok(())
}
