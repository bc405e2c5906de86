//! `vaxloop simulate`: a clinic day from a scenario file (`run`, `docs/formats/clinic-scenario.md`), the
//! spec's example scenario (`example`), and the event engine on an M/M/c queue side by side with
//! Erlang C (`mmc`).

use std::time::Instant;

use anyhow::bail;
use serde_json::json;
use vaxloop_sim::formulas::Mmc;

use crate::settings::Settings;

#[derive(clap::Subcommand)]
pub enum What {
    /// Simulate a clinic day from a scenario file (vaxloop-clinic/1).
    Run(RunArgs),
    /// Print the example scenario of the spec, to start a scenario from.
    Example,
    /// The safe bookings per slot of a site in the database, by shift, from its desks, space and
    /// measured service times; with --per-day, the desks, seats and staff for that many a day.
    Capacity(CapacityArgs),
    /// Simulate an M/M/c queue and compare it with Erlang C.
    Mmc(MmcArgs),
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The scenario (TOML, `format = "vaxloop-clinic/1"`).
    scenario: std::path::PathBuf,
    /// Independent replications of the day.
    #[arg(long, default_value_t = 10)]
    replications: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads to run replications on (default: every core). The result does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Add queue lengths and observation occupancy every 15 minutes to the result.
    #[arg(long)]
    timeline: bool,
    /// The last line printed is the result as one JSON object (vaxloop-clinic-result/1).
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct CapacityArgs {
    /// The site's code.
    #[arg(long)]
    site: String,
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop.db; env VAXLOOP_DATABASE_URL]
    #[arg(long)]
    database_url: Option<String>,
    /// Minutes: the 95th percentile of a person's total wait must stay at or under this.
    #[arg(long, default_value_t = 10.0)]
    target: f64,
    /// Replications per candidate.
    #[arg(long, default_value_t = 20)]
    replications: u64,
    /// Also size the site for this many people a day.
    #[arg(long)]
    per_day: Option<u32>,
    /// Staff per desk, with --per-day.
    #[arg(long, default_value_t = 1.0)]
    staff_per_desk: f64,
    /// Security staff per 100 people an hour, with --per-day.
    #[arg(long, default_value_t = 1.0)]
    security_per_hundred_an_hour: f64,
    /// Volunteers per desk, with --per-day.
    #[arg(long, default_value_t = 0.5)]
    volunteers_per_desk: f64,
    /// Medical staff watching observation per 50 seats, with --per-day.
    #[arg(long, default_value_t = 1.0)]
    observers_per_fifty_seats: f64,
    /// Calibrate from the days before this one (YYYY-MM-DD) [default: today where the campaign is].
    #[arg(long)]
    today: Option<chrono::NaiveDate>,
    /// The last line printed is one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct MmcArgs {
    /// Servers (desks).
    #[arg(long)]
    servers: u32,
    /// Arrivals per unit of time.
    #[arg(long)]
    arrival_rate: f64,
    /// Customers one server serves per unit of time.
    #[arg(long)]
    service_rate: f64,
    /// Customers to simulate (the first 1% are a warm-up).
    #[arg(long, default_value_t = 1_000_000)]
    customers: u64,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Independent replications, run in parallel; the mean's interval is then across them.
    #[arg(long, default_value_t = 1)]
    replications: u64,
    /// The last line printed is one JSON object.
    #[arg(long)]
    json: bool,
}

pub async fn run(what: What, settings: Settings) -> anyhow::Result<()> {
    match what {
        What::Capacity(args) => capacity(&args, settings).await,
        What::Run(args) => clinic_day(&args),
        What::Example => {
            print!("{}", vaxloop_sim::scenario::EXAMPLE);
            Ok(())
        }
        What::Mmc(args) => mmc(&args),
    }
}

fn clinic_day(a: &RunArgs) -> anyhow::Result<()> {
    let path = a.scenario.display();
    let text = std::fs::read_to_string(&a.scenario)
        .map_err(|e| anyhow::anyhow!("cannot read the scenario {path}: {e}"))?;
    let scenario = vaxloop_sim::scenario::Scenario::from_toml(&text)
        .map_err(|e| anyhow::anyhow!("{path}: {e}"))?;
    if a.replications == 0 || a.replications > 100_000 {
        bail!("--replications must be from 1 to 100,000");
    }
    let threads = a
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let step = a.timeline.then_some(15.0);
    let started = Instant::now();
    let model = vaxloop_sim::clinic::Model::new(&scenario);
    let runs = vaxloop_sim::clinic::replicate(&model, a.replications, a.seed, threads, step);
    let result = vaxloop_sim::clinic::summarise(&model, &runs, a.seed, step);
    let seconds = started.elapsed().as_secs_f64();
    let events: u64 = runs.iter().map(|r| r.events).sum();
    let name = if result.name.is_empty() {
        path.to_string()
    } else {
        result.name.clone()
    };
    println!(
        "{name}: {} replications, seed {}; {:.1} arrived, {:.1} completed, {:.1} left{}",
        result.replications,
        result.seed,
        result.arrived,
        result.completed,
        result.left,
        if result.balked > 0.0 {
            format!(" ({:.1} turned away)", result.balked)
        } else {
            String::new()
        }
    );
    println!(
        "{:<14} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}",
        "station", "served", "wait", "±95%", "p95", "p99", "queue max", "busy", "green"
    );
    for st in &result.stations {
        println!(
            "{:<14} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2} {:>9.1} {:>6.0}% {:>9}",
            st.name,
            st.served,
            st.wait_mean,
            st.wait_mean_ci95,
            st.wait_p95,
            st.wait_p99,
            st.queue_max,
            100.0 * st.busy_share,
            st.priority_wait_mean
                .map_or_else(|| "-".to_string(), |w| format!("{w:.2}"))
        );
    }
    println!(
        "total wait: mean {:.2}, p95 {:.2} min; time in the clinic: mean {:.2} ± {:.2}, p95 {:.2} min",
        result.system.wait_mean,
        result.system.wait_p95,
        result.system.time_mean,
        result.system.time_mean_ci95,
        result.system.time_p95
    );
    if let Some(obs) = &result.observation {
        println!(
            "observation: peak {:.1} of {} seats, mean {:.1}; {:.1} waited for a seat",
            obs.peak,
            obs.seats
                .map_or_else(|| "unlimited".to_string(), |s| s.to_string()),
            obs.mean_occupancy,
            obs.waited_for_seat
        );
    }
    if result.waited_outside_peak > 0.0 || result.overtime_minutes > 0.0 {
        println!(
            "waiting outside at the peak: {:.1}; overtime: {:.1} min",
            result.waited_outside_peak, result.overtime_minutes
        );
    }
    // Speed goes to stderr: the output itself is the same for the same inputs.
    eprintln!(
        "{events} events in {seconds:.3} s on {threads} thread(s): {:.1} million events/s",
        events as f64 / seconds.max(1e-9) / 1e6
    );
    if a.json {
        println!("{}", serde_json::to_string(&result)?);
    }
    Ok(())
}

/// The queue the flags describe, when they describe one that settles.
fn mmc_queue(a: &MmcArgs) -> anyhow::Result<Mmc> {
    if a.servers == 0 {
        bail!("--servers must be at least 1");
    }
    if !(a.arrival_rate.is_finite() && a.arrival_rate > 0.0) {
        bail!(
            "--arrival-rate must be a positive number, not {}",
            a.arrival_rate
        );
    }
    if !(a.service_rate.is_finite() && a.service_rate > 0.0) {
        bail!(
            "--service-rate must be a positive number, not {}",
            a.service_rate
        );
    }
    let q = Mmc {
        servers: a.servers,
        lambda: a.arrival_rate,
        mu: a.service_rate,
    };
    if !q.stable() {
        bail!(
            "the queue never settles: utilisation λ/(cμ) = {:.3} is not below 1 (add servers or lower the arrival rate)",
            q.utilisation()
        );
    }
    if a.customers < 100 {
        bail!("--customers must be at least 100 (the first 1% are a warm-up)");
    }
    if a.replications == 0 || a.replications > 10_000 {
        bail!("--replications must be from 1 to 10,000");
    }
    Ok(q)
}

fn mmc(a: &MmcArgs) -> anyhow::Result<()> {
    let q = mmc_queue(a)?;
    let started = Instant::now();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runs = if a.replications == 1 {
        vec![vaxloop_sim::mmc::simulate(&q, a.customers, a.seed)]
    } else {
        vaxloop_sim::mmc::replicate(&q, a.customers, a.replications, a.seed, threads)
    };
    let seconds = started.elapsed().as_secs_f64();
    let run = mmc_summary(&runs);
    print_mmc(a, &q, &run, runs.len(), seconds);
    if a.json {
        println!("{}", mmc_json(a, &q, &run, runs.len(), seconds));
    }
    Ok(())
}

/// One run: its own figures, the interval by batch means. Several: means across them.
fn mmc_summary(runs: &[vaxloop_sim::mmc::MmcRun]) -> vaxloop_sim::mmc::MmcRun {
    if runs.len() == 1 {
        return runs[0].clone();
    }
    let figure = |f: fn(&vaxloop_sim::mmc::MmcRun) -> f64| {
        let values: Vec<f64> = runs.iter().map(f).collect();
        vaxloop_sim::stats::across(&values)
    };
    let (wq_mean, wq_mean_ci95) = figure(|r| r.wq_mean);
    vaxloop_sim::mmc::MmcRun {
        wq_mean,
        wq_mean_ci95,
        wq_p50: figure(|r| r.wq_p50).0,
        wq_p95: figure(|r| r.wq_p95).0,
        wq_p99: figure(|r| r.wq_p99).0,
        events: runs.iter().map(|r| r.events).sum(),
        ..runs[0].clone()
    }
}

/// The simulated queue beside Erlang C's figures.
fn print_mmc(a: &MmcArgs, q: &Mmc, run: &vaxloop_sim::mmc::MmcRun, runs: usize, seconds: f64) {
    let (wq_mean, wq_p95) = (q.wq_mean(), q.wq_quantile(0.95));
    println!(
        "M/M/{} with λ = {}, μ = {} (utilisation {:.3}), {} customers, seed {}",
        a.servers,
        a.arrival_rate,
        a.service_rate,
        q.utilisation(),
        a.customers,
        a.seed
    );
    println!("{:<28} {:>14} {:>14}", "", "simulated", "Erlang C");
    println!(
        "{:<28} {:>14.6} {:>14.6}",
        "mean wait in queue", run.wq_mean, wq_mean
    );
    let interval = if runs == 1 {
        "  ± (95%, 20 batch means)".to_string()
    } else {
        format!("  ± (95%, {} replications)", runs)
    };
    println!("{:<28} {:>14.6}", interval, run.wq_mean_ci95);
    println!(
        "{:<28} {:>14.6} {:>14.6}",
        "95th percentile of the wait", run.wq_p95, wq_p95
    );
    println!(
        "{:<28} {:>14.6} {:>14.6}",
        "probability of waiting",
        run.sample.iter().filter(|w| **w > 0.0).count() as f64 / run.sample.len().max(1) as f64,
        q.wait_probability()
    );
    println!(
        "{:<28} {:>14.0}",
        "events per second",
        run.events as f64 / seconds.max(1e-9)
    );
}

fn mmc_json(
    a: &MmcArgs,
    q: &Mmc,
    run: &vaxloop_sim::mmc::MmcRun,
    runs: usize,
    seconds: f64,
) -> serde_json::Value {
    let (wq_mean, wq_p95) = (q.wq_mean(), q.wq_quantile(0.95));
    json!({
        "servers": a.servers,
        "arrival_rate": a.arrival_rate,
        "service_rate": a.service_rate,
        "customers": a.customers,
        "simulated": {
            "wq_mean": run.wq_mean,
            "wq_p95": run.wq_p95,
            "wq_mean_ci95": run.wq_mean_ci95,
            "wq_p50": run.wq_p50,
            "wq_p99": run.wq_p99,
            "events": run.events,
            "seconds": seconds,
        },
        "analytic": {
            "wq_mean": wq_mean,
            "wq_p95": wq_p95,
            "wait_probability": q.wait_probability(),
        },
        "seed": a.seed,
        "replications": runs,
    })
}

async fn capacity(a: &CapacityArgs, settings: Settings) -> anyhow::Result<()> {
    use vaxloop_app::capacity as cap;
    use vaxloop_sim::capacity::Judge;

    if !(a.target.is_finite() && a.target >= 0.0) {
        bail!("--target must be 0 or more minutes, not {}", a.target);
    }
    if a.replications == 0 || a.replications > 1_000 {
        bail!("--replications must be from 1 to 1,000");
    }
    let ratios = staffing_ratios(a)?;
    let url = settings.database_url(a.database_url.as_deref(), "sqlite://vaxloop.db")?;
    let db = super::open(&url).await?;
    let site = vaxloop_store::sites::by_code(&db, &a.site)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no site has the code {:?}", a.site))?;
    let zones = vaxloop_store::sites::zones(&db, site.id).await?;
    let today = a.today.unwrap_or_else(|| settings.web.0.today());
    let measured = cap::measured_before(&db, site.id, Some(today)).await?;
    db.close().await;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let judge = Judge {
        wait_p95_target: a.target,
        replications: a.replications,
        seed: 1,
        threads,
        max_arrivals: vaxloop_sim::capacity::MAX_ARRIVALS,
    };
    let slot = vaxloop_app::slots::SLOT_MINUTES;
    println!(
        "{} ({}): safe bookings per {slot}-minute slot, the 95th percentile of the total wait at most {} min, {} replications each",
        site.name, site.code, a.target, a.replications
    );
    let model = SiteModel {
        zones: &zones,
        measured: &measured,
        judge: &judge,
        ratios: &ratios,
    };
    let shifts: Vec<serde_json::Value> = [("am", false), ("pm", true)]
        .into_iter()
        .map(|(shift, afternoon)| model.shift(shift, afternoon, a.per_day))
        .collect();
    if a.json {
        println!(
            "{}",
            json!({"site": site.code, "wait_p95_target": a.target, "replications": a.replications, "shifts": shifts})
        );
    }
    Ok(())
}

/// The staffing ratios the flags give, each from 0 to 100.
fn staffing_ratios(a: &CapacityArgs) -> anyhow::Result<vaxloop_sim::capacity::Ratios> {
    let ratios = vaxloop_sim::capacity::Ratios {
        staff_per_desk: a.staff_per_desk,
        security_per_hundred_an_hour: a.security_per_hundred_an_hour,
        volunteers_per_desk: a.volunteers_per_desk,
        observers_per_fifty_seats: a.observers_per_fifty_seats,
    };
    for (flag, v) in [
        ("--staff-per-desk", a.staff_per_desk),
        (
            "--security-per-hundred-an-hour",
            a.security_per_hundred_an_hour,
        ),
        ("--volunteers-per-desk", a.volunteers_per_desk),
        ("--observers-per-fifty-seats", a.observers_per_fifty_seats),
    ] {
        if !(v.is_finite() && (0.0..=100.0).contains(&v)) {
            bail!("{flag} must be a number from 0 to 100, not {v}");
        }
    }
    Ok(ratios)
}

/// A site as the capacity search sees it: its zones, what was measured there, the judge of a
/// safe day and the staffing ratios.
struct SiteModel<'a> {
    zones: &'a [vaxloop_store::sites::Zone],
    measured: &'a vaxloop_app::capacity::Measured,
    judge: &'a vaxloop_sim::capacity::Judge,
    ratios: &'a vaxloop_sim::capacity::Ratios,
}

impl SiteModel<'_> {
    /// One shift: its stations, the safe bookings per slot beside the bottleneck rule, and — for
    /// `per_day` people — the staff it takes; printed, and answered as JSON.
    fn shift(&self, shift: &str, afternoon: bool, per_day: Option<u32>) -> serde_json::Value {
        use vaxloop_app::capacity as cap;
        use vaxloop_sim::capacity::safe_per_slot;
        let (zones, measured) = (self.zones, self.measured);
        let slot = vaxloop_app::slots::SLOT_MINUTES;
        let observation = vaxloop_app::slots::OBSERVATION_MINUTES;
        let judge = self.judge;
        let rule = cap::bottleneck_rule(zones, afternoon, slot, observation);
        let Some((profile, used)) = cap::profile(zones, afternoon, measured, slot, observation)
        else {
            println!("{shift}: closed (a station has no desks)");
            return json!({"shift": shift, "closed": true, "per_slot": 0});
        };
        let demand = cap::demand_for(&profile);
        let found = safe_per_slot(&profile, &demand, judge);
        let at = found.at_capacity.as_ref();
        let stations: Vec<serde_json::Value> = profile
            .stations
            .iter()
            .map(|st| {
                let measured = used.iter().find(|u| u.0 == st.name).map(|u| u.1);
                json!({
                    "name": st.name,
                    "desks": st.servers,
                    "space": st.capacity,
                    "service": st.service.name(),
                    "service_mean": st.service.mean(),
                    "measured": measured,
                })
            })
            .collect();
        println!("{shift}:");
        for st in &profile.stations {
            let source = match used.iter().find(|u| u.0 == st.name) {
                Some((_, n)) => format!("measured, {n} times"),
                None => "configured".to_string(),
            };
            println!(
                "  {:<12} {:>3} desks, space {:>5}, service {:.2} min ({}, {source})",
                st.name,
                st.servers.unwrap_or(0),
                st.capacity
                    .map_or_else(|| "-".to_string(), |c| c.to_string()),
                st.service.mean(),
                st.service.name()
            );
        }
        println!(
            "  observation  {} seats, {:.1} min on average",
            profile
                .observation
                .seats
                .map_or_else(|| "unlimited".to_string(), |s| s.to_string()),
            profile.observation.minutes.mean()
        );
        println!(
            "  safe: {} a slot (p95 total wait {:.1} min, observation peak {:.0}); the bottleneck rule gives {}; next limit: {}",
            found.per_slot,
            at.map_or(0.0, |r| r.system.wait_p95),
            at.and_then(|r| r.observation.as_ref())
                .map_or(0.0, |o| o.peak),
            rule.capacity,
            found.bottleneck.as_deref().unwrap_or("-")
        );
        let staffing = match per_day {
            Some(per_day) => self.staffing(&profile, &demand, per_day),
            None => serde_json::Value::Null,
        };
        json!({
            "shift": shift,
            "closed": false,
            "per_slot": found.per_slot,
            "wait_p95": at.map(|r| r.system.wait_p95),
            "observation_peak": at.and_then(|r| r.observation.as_ref()).map(|o| o.peak),
            "limiting": found.bottleneck,
            "bottleneck_rule": rule.capacity,
            "stations": stations,
            "staffing": staffing,
        })
    }

    /// The desks, seats and staff that serve `per_day` people a day safely.
    fn staffing(
        &self,
        profile: &vaxloop_sim::site::SiteProfile,
        demand: &vaxloop_sim::capacity::Demand,
        per_day: u32,
    ) -> serde_json::Value {
        let s = vaxloop_sim::capacity::staff_for(
            profile,
            demand,
            per_day,
            self.judge,
            self.ratios,
            200,
        );
        let desks: Vec<String> = s.desks.iter().map(|(n, d)| format!("{n} {d}")).collect();
        println!(
            "  for {per_day} a day ({} a slot): desks {}, {} seats; staff: {} at desks, {} security, {} volunteers, {} watching observation{}",
            s.per_slot,
            desks.join(", "),
            s.seats,
            s.desk_staff,
            s.security,
            s.volunteers,
            s.observers,
            if s.safe {
                ""
            } else {
                " (not safe within 200 additions)"
            }
        );
        json!({
            "per_day": per_day,
            "per_slot": s.per_slot,
            "safe": s.safe,
            "desks": s.desks.iter().map(|(n, d)| json!({"station": n, "desks": d})).collect::<Vec<_>>(),
            "seats": s.seats,
            "desk_staff": s.desk_staff,
            "security": s.security,
            "volunteers": s.volunteers,
            "observers": s.observers,
            "wait_p95": s.result.as_ref().map(|r| r.system.wait_p95),
        })
    }
}
