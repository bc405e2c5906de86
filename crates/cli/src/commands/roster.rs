//! `vaxloop roster generate|solve|check`: the staff roster on instance and plan files
//! (`docs/formats/roster-format.md`). `check` exits non-zero when a plan breaks any rule.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use vaxloop_roster::{Instance, Plan, Preset};

use super::plan::{read, seconds};

#[derive(clap::Subcommand)]
pub enum What {
    /// Write a seeded instance to stdout.
    Generate(GenerateArgs),
    /// Roster an instance.
    Solve(SolveArgs),
    /// Judge a roster against its instance: every broken rule, and the objective's terms.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct GenerateArgs {
    /// tiny (1 site, 2 days, 18 people), town (10 sites, 7 days, 1,200 people) or city (150
    /// sites, 14 days, 19,995 people).
    #[arg(long)]
    preset: Preset,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(clap::Args)]
pub struct SolveArgs {
    /// The instance file.
    instance: PathBuf,
    /// Seconds for the whole solve.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    /// Write the roster here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The last line printed is `{"objective", "covered", "demand", "seconds"}`.
    #[arg(long)]
    json: bool,
    /// Re-roster from this earlier roster (after someone dropped out, a site-day was added):
    /// every assignment that still keeps the rules stays; only the empty positions are filled.
    #[arg(long)]
    from: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    instance: PathBuf,
    plan: PathBuf,
    /// The last line printed is the report as one JSON object (the format's fields).
    #[arg(long)]
    json: bool,
}

pub fn run(what: What) -> anyhow::Result<()> {
    match what {
        What::Generate(a) => {
            let instance = vaxloop_roster::generate(a.preset, a.seed);
            let mut out = std::io::stdout().lock();
            serde_json::to_writer(&mut out, &instance)?;
            writeln!(out)?;
            Ok(())
        }
        What::Solve(a) => solve(a),
        What::Check(a) => check(a),
    }
}

fn solve(a: SolveArgs) -> anyhow::Result<()> {
    let instance = Instance::parse(&read(&a.instance, "instance")?)
        .with_context(|| format!("{}", a.instance.display()))?;
    let time_limit = seconds(a.time_limit, "--time-limit")?;
    let options = vaxloop_roster::Options { time_limit };
    let solved = match &a.from {
        Some(path) => {
            let previous = Plan::parse(&read(path, "roster")?)
                .with_context(|| format!("{}", path.display()))?;
            vaxloop_roster::solve_from(&instance, Some(&previous), &options)
        }
        None => vaxloop_roster::solve(&instance, &options),
    };
    let plan = serde_json::to_string(&solved.plan)?;
    match &a.out {
        Some(path) => std::fs::write(path, plan)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => println!("{plan}"),
    }
    let summary = serde_json::json!({"objective": solved.objective, "covered": solved.covered,
        "demand": solved.demand, "seconds": solved.seconds});
    if a.json {
        println!("{summary}");
    } else {
        eprintln!(
            "objective {}, {} of {} positions covered, {:.2} s",
            solved.objective, solved.covered, solved.demand, solved.seconds
        );
    }
    Ok(())
}

fn check(a: CheckArgs) -> anyhow::Result<()> {
    let instance = Instance::parse(&read(&a.instance, "instance")?)
        .with_context(|| format!("{}", a.instance.display()))?;
    let plan =
        Plan::parse(&read(&a.plan, "plan")?).with_context(|| format!("{}", a.plan.display()))?;
    let report = vaxloop_roster::check(&instance, &plan);
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if a.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        for v in &report.violations {
            println!("{v}");
        }
        println!(
            "{}: objective {}, {} of {} positions covered",
            if report.valid { "valid" } else { "INVALID" },
            report.objective,
            report.covered,
            report.demand
        );
    }
    if !report.valid {
        bail!("the roster breaks {} rule(s)", report.violations.len());
    }
    Ok(())
}
