//! `vaxloop-bench fuzz [--seconds N] [--target NAME]`: the fuzzing battery of
//! `docs/benchmarks.md`, on stable Rust. The coverage-guided fuzzers (cargo-fuzz, libFuzzer)
//! need a nightly compiler, which this project does not use; so each target is a property test
//! (proptest) driven for a wall-clock budget: inputs generated from the target's grammar, from
//! mutations of a valid seed and from raw bytes, each run under a panic catch and a clock. Per
//! target: inputs tried, panics (0 allowed), hangs — an input taking over [`HANG`] — (0 allowed)
//! and the process's peak memory afterwards. A failing input is shrunk and printed.
//!
//! Targets: the resident ID parser, the phone parser, the CSV reader, the XLSX reader, the clinic
//! scenario's TOML, the planner's instance and plan files (and the checker on what they parse
//! to), and every JSON body of the API, posted to the real router by the town admin (no answer
//! may be a server error). `scripts/test` runs each for a few seconds (the tests below);
//! `scripts/bench fuzz` for ten minutes each.

use std::cell::Cell;
use std::time::{Duration, Instant};

use anyhow::bail;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

use crate::args;

/// The last panic's message and place, for the report of a failing input.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// An input taking longer than this is a hang.
pub const HANG: Duration = Duration::from_secs(2);

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

/// What driving one target gave.
#[derive(Debug, Default)]
pub struct Figures {
    pub inputs: u64,
    pub panics: u64,
    pub hangs: u64,
    pub slowest: Duration,
    pub peak_mb: f64,
    /// The shrunk failing input and why.
    pub failure: Option<String>,
}

/// The process's peak resident memory (MB), from `/proc` (0 where there is none).
fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// [`drive`], for the API target (another module).
pub(crate) fn drive_for_api<S: Strategy>(
    budget: Duration,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), String>,
) -> Figures
where
    S::Value: std::fmt::Debug,
{
    drive(budget, strategy, check)
}

/// Drives `check` with inputs from `strategy` until `budget` is spent or an input fails.
fn drive<S: Strategy>(
    budget: Duration,
    strategy: S,
    check: impl Fn(S::Value) -> Result<(), String>,
) -> Figures
where
    S::Value: std::fmt::Debug,
{
    let deadline = Instant::now() + budget;
    let inputs = Cell::new(0u64);
    let slowest = Cell::new(Duration::ZERO);
    let hung = Cell::new(false);
    let mut figures = Figures::default();
    let mut round = 0u32;
    // A panic is caught and counted; its message would only flood the output while shrinking.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = info.to_string();
        }
    }));
    while Instant::now() < deadline {
        round += 1;
        let config = Config {
            cases: 256,
            failure_persistence: None,
            rng_seed: proptest::test_runner::RngSeed::Fixed(u64::from(round)),
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let outcome = runner.run(&strategy, |input| {
            inputs.set(inputs.get() + 1);
            let started = Instant::now();
            let result = check(input);
            let took = started.elapsed();
            if took > slowest.get() {
                slowest.set(took);
            }
            if took > HANG {
                hung.set(true);
                return Err(TestCaseError::fail(format!("took {took:?}")));
            }
            result.map_err(TestCaseError::fail)
        });
        if let Err(e) = outcome {
            let panic = LAST_PANIC.lock().map(|p| p.clone()).unwrap_or_default();
            let text = match e {
                TestError::Fail(why, input) => format!("{why} [{panic}]: {input:?}"),
                TestError::Abort(why) => why.to_string(),
            };
            if hung.get() {
                figures.hangs += 1;
            } else {
                figures.panics += 1;
            }
            figures.failure = Some(text.chars().take(2_000).collect());
            break;
        }
    }
    std::panic::set_hook(hook);
    figures.inputs = inputs.get();
    figures.slowest = slowest.get();
    figures.peak_mb = peak_mb();
    figures
}

/// A string that is mostly the seed with a few edits: characters replaced, inserted, removed.
fn mutated(seed: String, alphabet: &'static str) -> impl Strategy<Value = String> {
    let edits = proptest::collection::vec(
        (
            any::<prop::sample::Index>(),
            0u8..3,
            prop::sample::select(alphabet.chars().collect::<Vec<_>>()),
        ),
        0..8,
    );
    edits.prop_map(move |edits| {
        let mut chars: Vec<char> = seed.chars().collect();
        for (at, kind, c) in edits {
            if chars.is_empty() {
                chars.push(c);
                continue;
            }
            let i = at.index(chars.len());
            match kind {
                0 => chars[i] = c,
                1 => chars.insert(i, c),
                _ => {
                    chars.remove(i);
                }
            }
        }
        chars.into_iter().collect()
    })
}

/// Bytes that are mostly `seed`: bytes flipped, runs cut out, the tail cut off.
fn mutated_bytes(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let edits =
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 0..12);
    (edits, any::<prop::sample::Index>()).prop_map(move |(edits, cut)| {
        let mut bytes = seed.clone();
        for (at, b, kind) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 | 1 => bytes[i] ^= b | 1,
                2 => {
                    let end = (i + usize::from(b)).min(bytes.len());
                    bytes.drain(i..end);
                }
                _ => bytes.insert(i, b),
            }
        }
        if !bytes.is_empty() && cut.index(8) == 0 {
            bytes.truncate(cut.index(bytes.len()));
        }
        bytes
    })
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

/// A JSON value with a few of its leaves replaced by hostile ones (huge, negative, fractional,
/// of another type, long, empty), keys removed or arrays emptied.
pub(crate) fn mutated_json(seed: Value) -> impl Strategy<Value = Value> {
    let hostile = prop_oneof![
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1.5e308)),
        Just(json!(null)),
        Just(json!("")),
        Just(json!("x".repeat(300))),
        Just(json!([])),
        Just(json!({})),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z0-9:\\-]{0,12}".prop_map(|s| json!(s)),
    ];
    proptest::collection::vec((any::<prop::sample::Index>(), hostile, 0u8..4), 0..6).prop_map(
        move |edits| {
            let mut value = seed.clone();
            for (at, replacement, kind) in edits {
                edit(&mut value, at, replacement, kind);
            }
            value
        },
    )
}

/// Applies one edit at the leaf (or container) `at` picks.
fn edit(value: &mut Value, at: prop::sample::Index, replacement: Value, kind: u8) {
    let mut paths = Vec::new();
    collect_paths(value, &mut Vec::new(), &mut paths);
    if paths.is_empty() {
        *value = replacement;
        return;
    }
    let path = &paths[at.index(paths.len())];
    let Some(target) = pointer_mut(value, path) else {
        return;
    };
    match (kind, &mut *target) {
        (1, Value::Object(map)) => {
            if let Some(k) = map.keys().next().cloned() {
                map.remove(&k);
            }
        }
        (1, Value::Array(list)) => list.clear(),
        (2, Value::Array(list)) if !list.is_empty() => {
            let first = list[0].clone();
            list.extend(std::iter::repeat_n(first, 50));
        }
        _ => *target = replacement,
    }
}

fn collect_paths(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                at.push(k.clone());
                collect_paths(v, at, out);
                at.pop();
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate().take(20) {
                at.push(i.to_string());
                collect_paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn pointer_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    let mut here = value;
    for step in path {
        here = match here {
            Value::Object(map) => map.get_mut(step)?,
            Value::Array(list) => list.get_mut(step.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(here)
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
