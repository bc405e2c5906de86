//! `vaxloop-bench fuzz [--seconds N] [--target NAME]`: the fuzzing battery of
//! `docs/benchmarks.md`, on stable Rust. The coverage-guided fuzzers (cargo-fuzz, libFuzzer)
//! need a nightly compiler, which this project does not use; so each target is a property test
//! (proptest) driven for a wall-clock budget: inputs generated from the target's grammar, from
//! mutations of a valid seed and from raw bytes, each run under a panic catch and a clock. Per
//! target: inputs tried, panics (0 allowed), hangs — an input taking over [`crate::fuzz_kit::HANG`] — (0 allowed)
//! and the process's peak memory afterwards. A failing input is shrunk and printed.
//!
//! Targets: the resident ID parser, the phone parser, the CSV reader, the XLSX reader, the clinic
//! scenario's TOML, the planner's instance and plan files (and the checker on what they parse
//! to), and every JSON body of the API, posted to the real router by the town admin (no answer
//! may be a server error). `scripts/test` runs each for a few seconds (the tests below);
//! `scripts/bench fuzz` for ten minutes each.

use std::time::Duration;

use anyhow::bail;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::args;
use crate::fuzz_kit::{Figures, drive, mutated, mutated_bytes, mutated_json};

/// The targets, by name.
pub const TARGETS: [&str; 8] = [
    "resident_id",
    "phone",
    "csv",
    "xlsx",
    "scenario",
    "planner_instance",
    "planner_plan",
    "api_json",
];

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let seconds: u64 = args::flag(args, "--seconds", 600)?;
    let only: String = args::flag(args, "--target", String::new())?;
    let mut line = serde_json::Map::new();
    line.insert("benchmark".into(), "fuzz".into());
    line.insert("seconds_per_target".into(), seconds.into());
    let mut failed = false;
    println!(
        "\n{:<18} {:>10} {:>7} {:>6} {:>12} {:>10}",
        "target", "inputs", "panics", "hangs", "slowest ms", "peak MB"
    );
    for name in TARGETS.iter().filter(|t| only.is_empty() || **t == only) {
        let figures = run(name, Duration::from_secs(seconds))?;
        println!(
            "{:<18} {:>10} {:>7} {:>6} {:>12.1} {:>10.1}",
            name,
            figures.inputs,
            figures.panics,
            figures.hangs,
            figures.slowest.as_secs_f64() * 1000.0,
            figures.peak_mb
        );
        if let Some(input) = &figures.failure {
            println!("  failing input ({name}): {input}");
        }
        failed |= figures.panics + figures.hangs > 0;
        line.insert(
            (*name).into(),
            json!({
                "inputs": figures.inputs,
                "panics": figures.panics,
                "hangs": figures.hangs,
                "slowest_ms": (figures.slowest.as_secs_f64() * 10_000.0).round() / 10.0,
                "peak_rss_mb": figures.peak_mb,
            }),
        );
    }
    println!("{}", Value::Object(line));
    if failed {
        bail!("a fuzz target panicked or hung");
    }
    Ok(())
}

/// Runs one target for `budget`.
pub fn run(name: &str, budget: Duration) -> anyhow::Result<Figures> {
    Ok(match name {
        "resident_id" => resident_id(budget),
        "phone" => phone(budget),
        "csv" => csv(budget),
        "xlsx" => xlsx(budget)?,
        "scenario" => scenario(budget),
        "planner_instance" => planner_instance(budget),
        "planner_plan" => planner_plan(budget),
        "api_json" => crate::fuzz_api::api_json(budget)?,
        other => bail!("no fuzz target {other}; the targets are {TARGETS:?}"),
    })
}

fn resident_id(budget: Duration) -> Figures {
    let valid = vaxloop_core::ResidentId::compose(
        310112,
        chrono::NaiveDate::from_ymd_opt(1980, 5, 17).expect("a date"),
        1,
    )
    .as_str()
    .to_string();
    let strategy = prop_oneof![
        any::<String>(),
        "[0-9Xx \\-]{0,24}",
        mutated(valid, "0123456789Xx -\u{3000}\u{ff10}\u{0}"),
    ];
    drive(budget, strategy, |text| {
        if let Ok(id) = vaxloop_core::ResidentId::parse(&text) {
            let again = vaxloop_core::ResidentId::parse(id.as_str())
                .map_err(|e| format!("parsed {text:?}, its own form is refused: {e}"))?;
            if again != id {
                return Err(format!("{text:?} does not read back as itself"));
            }
        }
        Ok(())
    })
}

fn phone(budget: Duration) -> Figures {
    let strategy = prop_oneof![
        any::<String>(),
        "[+0-9 ()\\-]{0,24}",
        mutated("+86 138-0013-8000".into(), "0123456789+-() \u{ff0b}\u{0}"),
    ];
    drive(budget, strategy, |text| {
        if let Ok(p) = vaxloop_core::phone::Phone::parse(&text) {
            let again = vaxloop_core::phone::Phone::parse(p.as_str())
                .map_err(|e| format!("parsed {text:?}, its own form is refused: {e}"))?;
            if again.as_str() != p.as_str() {
                return Err(format!("{text:?} does not read back as itself"));
            }
        }
        Ok(())
    })
}

/// A sink that counts, as the import's does without keeping anything.
struct Count(usize);

impl vaxloop_documents::RowSink for Count {
    fn header(&mut self, _: &[&str]) -> Result<(), vaxloop_documents::ReadError> {
        Ok(())
    }
    fn row(&mut self, _: usize, cells: &[&str]) -> Result<(), vaxloop_documents::ReadError> {
        self.0 += cells.len();
        Ok(())
    }
}

/// The import's limits, smaller, so a case stays quick.
fn limits() -> vaxloop_documents::Limits {
    vaxloop_documents::Limits {
        max_bytes: 256 * 1024,
        max_rows: 2_000,
        max_columns: 64,
        max_inflated_bytes: 8 * 1024 * 1024,
        max_duration: Duration::from_secs(1),
    }
}

fn read(bytes: &[u8]) -> Result<(), String> {
    let outcome = std::panic::catch_unwind(|| {
        vaxloop_documents::read_rows(bytes, &limits(), &mut Count(0)).map(|_| ())
    });
    match outcome {
        Ok(_) => Ok(()),
        Err(_) => Err("the reader panicked".into()),
    }
}

fn csv(budget: Duration) -> Figures {
    let seed = "姓名,身份证号,手机号\n王五,310112198005170014,13800138000\n\"李,四\",\"x\"\"y\",\n"
        .to_string();
    let strategy = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..2048),
        "[a-z0-9,\"\r\n\u{feff}\u{4e00}]{0,400}".prop_map(String::into_bytes),
        mutated(seed, ",\"\r\n\u{feff}\u{0}x").prop_map(String::into_bytes),
    ];
    drive(budget, strategy, |bytes| read(&bytes))
}

fn xlsx(budget: Duration) -> anyhow::Result<Figures> {
    let mut sheet = vaxloop_documents::Sheet::new("名单", &["姓名", "身份证号", "手机号"]);
    for i in 0..20 {
        sheet.push(vec![
            format!("人{i}"),
            "310112198005170014".into(),
            "13800138000".into(),
        ]);
    }
    let seed = vaxloop_documents::write_xlsx(&[sheet])?;
    Ok(drive(budget, mutated_bytes(seed), |bytes| read(&bytes)))
}

fn scenario(budget: Duration) -> Figures {
    let seed = vaxloop_sim::scenario::EXAMPLE.to_string();
    let strategy = prop_oneof![
        4 => mutated(seed, "0123456789.-=[]{}\"\n#e "),
        1 => any::<String>(),
    ];
    drive(budget, strategy, |text| {
        let parsed = std::panic::catch_unwind(|| {
            vaxloop_sim::scenario::Scenario::from_toml(&text).map(|s| s.expected_people())
        });
        parsed
            .map(|_| ())
            .map_err(|_| "the scenario reader panicked".into())
    })
}

/// A small instance and a plan for it, as JSON values to mutate.
fn planner_seeds() -> (Value, Value) {
    let instance = vaxloop_planner::generate(vaxloop_planner::Preset::Tiny, 3);
    let options = vaxloop_planner::Options {
        time_limit: Duration::from_millis(200),
        max_steps: Some(50),
        seed: 1,
    };
    let plan = vaxloop_planner::solve(&instance, &options).plan;
    (
        serde_json::to_value(&instance).unwrap_or(Value::Null),
        serde_json::to_value(&plan).unwrap_or(Value::Null),
    )
}

fn planner_instance(budget: Duration) -> Figures {
    let (instance, plan) = planner_seeds();
    let plan = vaxloop_planner::Plan::parse(&plan.to_string()).ok();
    drive(budget, mutated_json(instance), move |value| {
        let text = value.to_string();
        let outcome = std::panic::catch_unwind(|| {
            // What parses is what the checker may be given, with the seed's plan.
            if let (Ok(instance), Some(plan)) = (vaxloop_planner::Instance::parse(&text), &plan) {
                let _ = vaxloop_planner::check(&instance, plan);
            }
        });
        outcome.map_err(|_| "the instance reader or the checker panicked".into())
    })
}

fn planner_plan(budget: Duration) -> Figures {
    let (instance, plan) = planner_seeds();
    let instance = vaxloop_planner::Instance::parse(&instance.to_string()).ok();
    drive(budget, mutated_json(plan), move |value| {
        let text = value.to_string();
        let outcome = std::panic::catch_unwind(|| {
            if let (Ok(plan), Some(instance)) = (vaxloop_planner::Plan::parse(&text), &instance) {
                let _ = vaxloop_planner::check(instance, &plan);
            }
        });
        outcome.map_err(|_| "the plan reader or the checker panicked".into())
    })
}

#[cfg(test)]
mod tests {
    /// The short run of every target that `scripts/test` makes: a few seconds each, no panic,
    /// no hang.
    #[test]
    fn every_fuzz_target_survives_a_short_run() {
        for name in super::TARGETS {
            let figures = super::run(name, std::time::Duration::from_secs(3)).expect("target");
            assert!(figures.inputs > 0, "{name} ran");
            assert_eq!(
                (figures.panics, figures.hangs),
                (0, 0),
                "{name}: {:?}",
                figures.failure
            );
            println!("fuzz {name}: {} inputs", figures.inputs);
        }
    }
}
