//! `vaxloop plan generate|solve|check|bound|live`: the team planner on instance and plan files
//! (`docs/formats/planner-format.md`). `check` exits non-zero when a plan breaks any rule.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::json;
use vaxloop_planner::{Instance, Options, Plan, Preset};

use crate::settings::Settings;

#[derive(clap::Subcommand)]
pub enum What {
    /// Write a seeded instance to stdout.
    Generate(GenerateArgs),
    /// Plan an instance.
    Solve(SolveArgs),
    /// Judge a plan against its instance: every broken rule, and the objective.
    Check(CheckArgs),
    /// A valid upper bound on any plan's objective, for the gap of a plan.
    Bound(BoundArgs),
    /// Write the instance of the next three days from the database to stdout: people not yet
    /// booked in teams per unit, free places and doses, the shuttle pool.
    Live(LiveArgs),
}

#[derive(clap::Args)]
pub struct LiveArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop.db; env VAXLOOP_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
    /// Plan the three days after this one (YYYY-MM-DD) [default: today where the campaign is].
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// tiny (6 teams), town (about 2,000 teams, 10 sites) or city (about 40,000, 150 sites).
    #[arg(long)]
    preset: Preset,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
pub struct SolveArgs {
    /// The instance file.
    instance: PathBuf,
    /// Seconds for the whole solve, construction included.
    #[arg(long, default_value_t = 5.0)]
    time_limit: f64,
    /// Write the plan here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The last line printed is one summary object.
    #[arg(long)]
    json: bool,
    /// The search's random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Re-plan from this earlier plan (after a delivery fell short or a site closed): every
    /// team whose place still fits keeps it; only the others are planned again.
    #[arg(long)]
    from: Option<PathBuf>,
    /// Stop after this many search steps (with the seed, a reproducible plan), or at the
    /// time limit, whichever comes first.
    #[arg(long)]
    steps: Option<u64>,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    instance: PathBuf,
    plan: PathBuf,
    /// The last line printed is `{"valid":…,"objective":…,"violations":[…]}`.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct BoundArgs {
    instance: PathBuf,
    /// Seconds to spend tightening the bound.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// The objective of a known plan, to steer the steps (never the bound's validity).
    #[arg(long)]
    target: Option<i64>,
    #[arg(long)]
    json: bool,
}

pub async fn run(what: What, settings: Settings) -> anyhow::Result<()> {
    match what {
        What::Live(a) => {
            let url = settings.database_url(a.database_url.as_deref(), "sqlite://vaxloop.db")?;
            let db = super::open(&url).await?;
            let today = a.today.unwrap_or_else(|| settings.web.0.today());
            let live = vaxloop_app::planning::live_instance(&db, today).await?;
            db.close().await;
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &live.instance)?;
            writeln!(out)?;
            eprintln!(
                "{} teams ({} people) waiting, {} sites, {} to {}",
                live.instance.teams.len(),
                live.instance
                    .teams
                    .iter()
                    .map(|t| u64::from(t.size))
                    .sum::<u64>(),
                live.instance.sites.len(),
                live.instance
                    .horizon
                    .dates
                    .first()
                    .map_or("", String::as_str),
                live.instance
                    .horizon
                    .dates
                    .last()
                    .map_or("", String::as_str),
            );
            Ok(())
        }
        What::Generate(a) => {
            let instance = vaxloop_planner::generate(a.preset, a.seed);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &instance)?;
            writeln!(out)?;
            Ok(())
        }
        What::Solve(a) => solve(a),
        What::Check(a) => check(a),
        What::Bound(a) => {
            let instance = read_instance(&a.instance)?;
            let b = vaxloop_planner::upper_bound(
                &instance,
                a.target,
                seconds(a.seconds, "--seconds")?,
                u32::MAX,
            );
            if a.json {
                println!(
                    "{}",
                    json!({"bound": b.value, "iterations": b.iterations, "seconds": b.seconds})
                );
            } else {
                println!(
                    "upper bound {} ({} steps, {:.2} s)",
                    b.value, b.iterations, b.seconds
                );
            }
            Ok(())
        }
    }
}

pub(super) fn seconds(value: f64, flag: &str) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .with_context(|| format!("{flag} {value}: a positive number of seconds"))
}

pub(super) fn read(path: &Path, what: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the {what} file {}", path.display()))
}

fn read_instance(path: &Path) -> anyhow::Result<Instance> {
    Instance::parse(&read(path, "instance")?).with_context(|| format!("{}", path.display()))
}

fn solve(a: SolveArgs) -> anyhow::Result<()> {
    let instance = read_instance(&a.instance)?;
    let options = Options {
        time_limit: seconds(a.time_limit, "--time-limit")?,
        max_steps: a.steps,
        seed: a.seed,
    };
    let solved = match &a.from {
        Some(path) => {
            let previous =
                Plan::parse(&read(path, "plan")?).with_context(|| format!("{}", path.display()))?;
            vaxloop_planner::replan(&instance, &previous, &options)
        }
        None => vaxloop_planner::solve(&instance, &options),
    };
    let text = serde_json::to_string(&solved.plan)?;
    match &a.out {
        Some(path) => std::fs::write(path, format!("{text}\n"))
            .with_context(|| format!("cannot write the plan to {}", path.display()))?,
        None => println!("{text}"),
    }
    let unassigned = solved.plan.unassigned.len();
    if a.json {
        println!(
            "{}",
            json!({
                "objective": solved.objective,
                "scheduled_teams": solved.scheduled_teams,
                "scheduled_people": solved.scheduled_people,
                "unassigned_teams": unassigned,
                "seconds": (solved.seconds * 1000.0).round() / 1000.0,
                "first_plan_seconds": (solved.first_plan_seconds * 1000.0).round() / 1000.0,
                "first_objective": solved.first_objective,
                "steps": solved.steps,
                "moved_teams": solved.moved,
            })
        );
    } else {
        if let Some(moved) = solved.moved {
            eprintln!("{moved} teams of the earlier plan moved or left out");
        }
        eprintln!(
            "objective {}: {} teams ({} people) placed, {} left out, in {:.2} s ({} search steps)",
            solved.objective,
            solved.scheduled_teams,
            solved.scheduled_people,
            unassigned,
            solved.seconds,
            solved.steps
        );
    }
    Ok(())
}

fn check(a: CheckArgs) -> anyhow::Result<()> {
    let instance = read_instance(&a.instance)?;
    let plan =
        Plan::parse(&read(&a.plan, "plan")?).with_context(|| format!("{}", a.plan.display()))?;
    let report = vaxloop_planner::check(&instance, &plan);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if a.json {
        println!(
            "{}",
            json!({"valid": report.valid, "objective": report.objective, "violations": report.violations,
                   "scheduled_teams": report.scheduled_teams, "scheduled_people": report.scheduled_people,
                   "unassigned_teams": report.unassigned_teams})
        );
    } else {
        for v in &report.violations {
            println!("{v}");
        }
        println!(
            "{}: objective {}, {} teams ({} people) placed, {} left out",
            if report.valid { "valid" } else { "INVALID" },
            report.objective,
            report.scheduled_teams,
            report.scheduled_people,
            report.unassigned_teams
        );
    }
    if !report.valid {
        bail!("the plan breaks {} rule(s)", report.violations.len());
    }
    Ok(())
}
