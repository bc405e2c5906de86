//! `vaxloop-bench sim --python PY --peers DIR --work DIR [--replications R]`: the clinic-flow
//! simulator against its SimPy peer, and on a 3-day town plan (`docs/benchmark-methods.md`, "sim").
//!
//! 1. **Against SimPy**, for two clinic days — the spec's example day, and the busiest site-day
//!    of the town plan below — the same scenario file, the same number of replications, one
//!    thread each: wall time of the simulation and its summary (SimPy's measured inside its
//!    script, without starting Python; vaxloop's in process, the median of five runs). The two
//!    must agree on every station's mean wait and the mean total wait: the difference of the
//!    means lies within its 95% interval, simultaneous over the comparisons (Bonferroni).
//! 2. **Events per second** on one thread: 1,000 replications of the busiest site-day, counting
//!    arrivals, service starts, service ends and departures only, over the whole wall time
//!    (arrivals drawn, the day run, its figures summarised).
//! 3. **A 3-day town plan**: the town preset (seed 1) planned by the solver, turned into 30
//!    site-day scenarios (10 sites × 3 days; appointments from the plan, bus loads as batches,
//!    walk-ins at 10% of bookings, each site staffed for its busiest slot), all 30 simulated
//!    once on one thread. The wall time includes building the scenarios and models; reported
//!    for 21 seeds (median and slowest).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};
use vaxloop_planner::solve::{Options, solve};
use vaxloop_planner::{Instance, Plan, Preset, generate};
use vaxloop_sim::clinic::{Model, replicate, summarise};
use vaxloop_sim::scenario::{EXAMPLE, Scenario};
use vaxloop_sim::site::{DayBookings, SiteProfile};
use vaxloop_sim::stats::{mean_and_se, t_quantile};

use crate::args::flag;

fn path_arg(args: &[String], name: &str) -> Option<PathBuf> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
}

pub fn main(args: &[String]) -> anyhow::Result<()> {
    let python = path_arg(args, "--python").context("--python PY (with simpy)")?;
    let peers = path_arg(args, "--peers").unwrap_or_else(|| "bench/peers".into());
    let work = path_arg(args, "--work").context("--work DIR")?;
    let replications: u64 = flag(args, "--replications", 40)?;

    // The town plan, and its site-days.
    let started = Instant::now();
    let instance = generate(Preset::Town, 1);
    let solved = solve(
        &instance,
        &Options {
            time_limit: Duration::from_secs(5),
            ..Options::default()
        },
    );
    let days = site_days(&instance, &solved.plan);
    let people: u32 = days.iter().map(|d| d.1.booked()).sum();
    println!(
        "town seed 1: {} teams, {people} people booked by the planner ({:.1} s) into {} site-days",
        instance.teams.len(),
        started.elapsed().as_secs_f64(),
        days.len()
    );
    let busiest = days
        .iter()
        .max_by_key(|d| d.1.booked())
        .context("a site-day")?;
    let busiest = busiest.0.day(&busiest.2, &busiest.1);

    // 1. Against SimPy.
    let example = Scenario::from_toml(EXAMPLE)?;
    let mut cases = Vec::new();
    let mut agree_all = true;
    for scenario in [&example, &busiest] {
        let file = work.join(format!("{}.toml", scenario.name));
        std::fs::write(&file, scenario.to_toml())?;
        let out = Command::new(&python)
            .arg(peers.join("clinic_simpy.py"))
            .arg(&file)
            .args(["--replications", &replications.to_string(), "--seed", "1"])
            .output()
            .context("running the SimPy peer")?;
        if !out.status.success() {
            bail!(
                "the SimPy peer failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let peer: Value = serde_json::from_str(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .last()
                .context("the peer's last line")?,
        )?;
        let peer_seconds = peer["seconds"].as_f64().context("seconds")?;
        let model = Model::new(scenario);
        let mut times = Vec::new();
        let mut runs = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            runs = replicate(&model, replications, 1, 1, None);
            let result = summarise(&model, &runs, 1, None);
            std::hint::black_box(&result);
            times.push(t.elapsed().as_secs_f64());
        }
        times.sort_by(f64::total_cmp);
        let ours = times[2];
        let peer_runs = peer["runs"].as_array().context("runs")?;
        let stations = scenario.stations.len();
        // Each station's mean wait, then the mean total wait.
        let comparisons = 2 * (stations + 1);
        let level = 1.0 - 0.05 / comparisons as f64;
        let mut figures = Vec::new();
        for k in 0..=stations {
            let ours_k: Vec<f64> = runs
                .iter()
                .map(|r| {
                    if k < stations {
                        r.stations[k].wait_mean
                    } else {
                        r.wait_mean
                    }
                })
                .collect();
            let theirs_k: Vec<f64> = peer_runs
                .iter()
                .map(|r| {
                    if k < stations {
                        r["stations"][k]["wait_mean"].as_f64().unwrap_or(f64::NAN)
                    } else {
                        r["wait_mean"].as_f64().unwrap_or(f64::NAN)
                    }
                })
                .collect();
            let (a, sa) = mean_and_se(&ours_k);
            let (b, sb) = mean_and_se(&theirs_k);
            let half = t_quantile(0.5 + level / 2.0, 2 * replications as usize - 2)
                * (sa * sa + sb * sb).sqrt();
            let agree = (a - b).abs() <= half;
            agree_all &= agree;
            let name = if k < stations {
                scenario.stations[k].name.clone()
            } else {
                "total".to_string()
            };
            println!(
                "  {:<22} {name:<12} mean wait: vaxloop {a:7.3}, SimPy {b:7.3}, difference {:+.3} ± {half:.3} {}",
                scenario.name,
                a - b,
                if agree { "agree" } else { "DIFFER" }
            );
            figures.push(json!({"station": name, "vaxloop": a, "simpy": b, "half_width": half, "agree": agree}));
        }
        let events: u64 = runs.iter().map(|r| r.events).sum();
        let people: u64 = runs.iter().map(|r| r.arrived).sum();
        println!(
            "{}: {} people a day, {replications} replications on one thread: vaxloop {:.4} s, SimPy {peer_seconds:.2} s: {:.0}× faster",
            scenario.name,
            people / replications.max(1),
            ours,
            peer_seconds / ours
        );
        cases.push(json!({
            "scenario": scenario.name,
            "people": people as f64 / replications as f64,
            "replications": replications,
            "vaxloop_seconds": ours,
            "simpy_seconds": peer_seconds,
            "speedup": peer_seconds / ours,
            "events": events,
            "waits": figures,
        }));
    }

    // 2. Events per second.
    let model = Model::new(&busiest);
    let t = Instant::now();
    let runs = replicate(&model, 1_000, 7, 1, None);
    let summary = summarise(&model, &runs, 7, None);
    std::hint::black_box(&summary);
    let seconds = t.elapsed().as_secs_f64();
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let per_second = events as f64 / seconds;
    println!(
        "events: {events} in {seconds:.3} s on one thread: {:.1} million a second",
        per_second / 1e6
    );

    // 3. One replication of the 3-day town plan.
    let mut walls = Vec::new();
    let mut simulated_people = 0;
    for seed in 1..=21u64 {
        let t = Instant::now();
        let mut arrived = 0;
        for (profile, bookings, name) in &days {
            let scenario = profile.day(name, bookings);
            let model = Model::new(&scenario);
            let run = replicate(&model, 1, seed, 1, None);
            arrived += run[0].arrived;
        }
        walls.push(t.elapsed().as_secs_f64());
        simulated_people = arrived;
    }
    let first = walls[0];
    walls.sort_by(f64::total_cmp);
    let (median, slowest) = (walls[walls.len() / 2], walls[walls.len() - 1]);
    println!(
        "3-day town plan: 30 site-days, {simulated_people} people arriving: one replication in {:.1} ms (median of 21; slowest {:.1} ms, first {:.1} ms)",
        1e3 * median,
        1e3 * slowest,
        1e3 * first
    );

    let speedup = cases
        .iter()
        .filter_map(|c| c["speedup"].as_f64())
        .fold(f64::INFINITY, f64::min);
    let ok = speedup >= 50.0 && per_second >= 10e6 && median <= 0.05 && agree_all;
    println!(
        "{}",
        json!({
            "benchmark": "sim",
            "simpy": cases,
            "speedup_min": speedup,
            "agree": agree_all,
            "events_per_second": per_second,
            "town_plan": {
                "site_days": days.len(),
                "people_booked": people,
                "people_arrived": simulated_people,
                "replication_ms_median": 1e3 * median,
                "replication_ms_slowest": 1e3 * slowest,
            },
            "targets": {"speedup": 50, "events_per_second": 10e6, "town_plan_ms": 50},
            "targets_met": ok,
        })
    );
    Ok(())
}

/// The plan's site-days, each as a scenario-to-be: the site's profile (staffed for its busiest
/// slot), the day's bookings and a name.
fn site_days(instance: &Instance, plan: &Plan) -> Vec<(SiteProfile, DayBookings, String)> {
    let h = &instance.horizon;
    let slot = h.slot_minutes as f64;
    let open = slot * h.slots_per_day as f64;
    let teams: std::collections::HashMap<&str, &vaxloop_planner::instance::Team> =
        instance.teams.iter().map(|t| (t.id.as_str(), t)).collect();
    let mut out = Vec::new();
    for site in &instance.sites {
        let peak = site
            .slot_capacity
            .iter()
            .flatten()
            .copied()
            .max()
            .unwrap_or(1);
        let profile = SiteProfile::standard(peak, slot, open, 0.85);
        for day in 0..h.dates.len() {
            let mut b = DayBookings {
                per_slot: vec![0; h.slots_per_day],
                walk_in_share: 0.1,
                ..DayBookings::default()
            };
            let (mut green, mut all) = (0u64, 0u64);
            for a in plan
                .assignments
                .iter()
                .filter(|a| a.site == site.id && a.day == day)
            {
                let Some(team) = teams.get(a.team.as_str()) else {
                    continue;
                };
                green += team.priority_people as u64;
                all += team.size as u64;
                for (p, part) in a.parts.iter().enumerate() {
                    if team.bus {
                        for trip in a.trips.iter().filter(|t| t.part == p) {
                            b.buses.push((part.slot as f64 * slot, trip.people));
                        }
                    } else {
                        b.per_slot[part.slot] += part.people;
                    }
                }
            }
            b.priority_share = if all > 0 {
                green as f64 / all as f64
            } else {
                0.0
            };
            out.push((profile.clone(), b, format!("{}-day{}", site.id, day + 1)));
        }
    }
    out
}
