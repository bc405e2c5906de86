//! `vaxloop-bench`: the programs behind `scripts/bench` that the `vaxloop` binary itself has no
//! business carrying.
//!
//! - `roster FILE --rows N --bad FRACTION --seed S` writes an XLSX roster like an enterprise HR
//!   contact's — 姓名, 身份证号, 手机号, 部门 — with the given share of bad rows (bad ID checksums,
//!   impossible birth dates, landlines, missing names, in-file duplicates).
//! - `parse FILE` reads the file with the same reader the import uses and a sink that keeps
//!   nothing, and prints the seconds: the raw parse time the import's figures are compared with.
//! - `booking DATABASE_URL…` runs the booking benchmark (surge, sustained, reference,
//!   availability) on each database; see [`booking`].
//! - `planner --vaxloop BIN --python PY --peers DIR --work DIR` runs the planner benchmark
//!   (vaxloop against the CP-SAT and HiGHS peers, gaps to a bound, a re-plan); see [`planner`].
//! - `crash --vaxloop BIN [--kills N] DATABASE_URL…` drives `vaxloop serve` under load and
//!   SIGKILLs it again and again, then proves every acknowledged write is there, keyed answers
//!   come back the same and the invariants hold; see [`crash`].
//! - `fuzz [--seconds N] [--target NAME]` drives each fuzz target (parsers, readers, file
//!   formats, the API's JSON bodies) for N seconds; see [`fuzz`].
//! - `desk DATABASE_URL… [--people N]` makes and publishes a proposal in the demo town as the
//!   desk does, then times the desk's pages and the counting pages; see [`desk`].
//! - `site DATABASE_URL…` replays a 5,000-person site day at full speed through the API with the
//!   board open, then closes and reconciles it; see [`site`].
//! - `sim --python PY --peers DIR --work DIR` runs the clinic simulator against its SimPy peer
//!   and on a 3-day town plan; see [`sim`].

mod args;
mod booking;
mod crash;
mod desk;
mod fuzz;
mod fuzz_api;
mod fuzz_kit;
mod planner;
mod sim;
mod site;

/// The same allocator as the `vaxloop` binary, so the server measured here is the one served.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use vaxloop_core::ResidentId;
use vaxloop_documents::{Limits, ReadError, RowSink, read_rows};

fn main() -> anyhow::Result<()> {
    // What the use cases log (their step timings among it) goes to stderr, as RUST_LOG says.
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("roster") => roster(&args[1..]),
        Some("parse") => parse(&args[1..]),
        Some("booking") => booking::main(&args[1..]),
        Some("crash") => crash::main(&args[1..]),
        Some("desk") => desk::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("planner") => planner::main(&args[1..]),
        Some("site") => site::main(&args[1..]),
        Some("sim") => sim::main(&args[1..]),
        _ => {
            bail!(
                "usage: vaxloop-bench roster FILE --rows N --bad FRACTION --seed S | parse FILE | booking DATABASE_URL… | planner --vaxloop BIN --python PY --work DIR | desk DATABASE_URL… | site DATABASE_URL…"
            )
        }
    }
}

fn roster(args: &[String]) -> anyhow::Result<()> {
    let path = args.first().context("roster FILE")?;
    let rows: usize = args::flag(args, "--rows", 100_000)?;
    let bad: f64 = args::flag(args, "--bad", 0.02)?;
    let seed: u64 = args::flag(args, "--seed", 1)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["姓名", "身份证号", "手机号", "部门"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h)?;
    }
    let base = NaiveDate::from_ymd_opt(1960, 1, 1).context("date")?;
    let departments = [
        "销售部",
        "财务部",
        "技术部",
        "物流部",
        "客服中心",
        "人事行政部",
    ];
    let mut ids: Vec<String> = Vec::with_capacity(rows);
    let mut bad_rows = 0;
    for r in 0..rows {
        // Unique across the file: a thousand sequence numbers per birth date, and 37 coprime
        // with 15,000 spreads the dates without repeating one.
        let birth = base + Days::new((r / 1000) as u64 * 37 % 15_000);
        let mut id = ResidentId::compose(310112, birth, (r % 1000) as u16)
            .as_str()
            .to_string();
        let mut name = format!("员工{r}");
        let mut phone = format!(
            "1{}{:08}",
            ["38", "39", "50", "86", "77"][r % 5],
            rng.random_range(0..100_000_000u64)
        );
        if rng.random_bool(bad) {
            bad_rows += 1;
            match r % 5 {
                0 => id = format!("{}{}", &id[..17], if id.ends_with('1') { '2' } else { '1' }),
                1 => id = format!("{}0230{}", &id[..10], &id[14..]),
                2 => phone = format!("021-6{:07}", r),
                3 => name.clear(),
                _ => id = ids.last().cloned().unwrap_or(id),
            }
        }
        ids.push(id.clone());
        let row = (r + 1) as u32;
        sheet.write_string(row, 0, &name)?;
        sheet.write_string(row, 1, &id)?;
        sheet.write_string(row, 2, &phone)?;
        sheet.write_string(row, 3, departments[r % departments.len()])?;
    }
    book.save(path)?;
    println!("{{\"rows\":{rows},\"bad_rows\":{bad_rows}}}");
    Ok(())
}

struct Discard(usize);

impl RowSink for Discard {
    fn header(&mut self, _: &[&str]) -> Result<(), ReadError> {
        Ok(())
    }
    fn row(&mut self, _: usize, cells: &[&str]) -> Result<(), ReadError> {
        self.0 += cells.len();
        Ok(())
    }
}

fn parse(args: &[String]) -> anyhow::Result<()> {
    let path = args.first().context("parse FILE")?;
    let started = Instant::now();
    let bytes = std::fs::read(path)?;
    let mut sink = Discard(0);
    let rows = read_rows(&bytes, &Limits::default(), &mut sink)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"rows\":{rows},\"cells\":{},\"parse_seconds\":{seconds:.3}}}",
        sink.0
    );
    Ok(())
}
