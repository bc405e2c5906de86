//! The fuzzing kit shared by the targets (see [`crate::fuzz`]): the driver with its panic catch,
//! clock and memory reading, and the mutators of strings, bytes and JSON values.

use std::cell::Cell;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};
use serde_json::{Value, json};

/// The last panic's message and place, for the report of a failing input.
static LAST_PANIC: std::sync::Mutex<String> = std::sync::Mutex::new(String::new());

/// An input taking longer than this is a hang.
pub const HANG: Duration = Duration::from_secs(2);

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

/// Drives `check` with inputs from `strategy` until `budget` is spent or an input fails.
pub(crate) fn drive<S: Strategy>(
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
pub(crate) fn mutated(seed: String, alphabet: &'static str) -> impl Strategy<Value = String> {
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
pub(crate) fn mutated_bytes(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
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
