//! The binary as an operator meets it: URLs it refuses, a busy port, `serve` without a key, and
//! a small demo town built, reused and rebuilt.

use std::path::Path;
use std::process::{Command, Output};

fn vaxloop(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaxloop"))
        .args(args)
        .current_dir(dir)
        .env_remove("VAXLOOP_DATABASE_URL")
        .env_remove("VAXLOOP_PII_KEY")
        .env_remove("VAXLOOP_PII_KEY_FILE")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run vaxloop")
}

/// The last line printed, as the JSON object the command promises there.
fn last_json(o: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&o.stdout);
    serde_json::from_str(stdout.lines().last().expect("a last line")).expect("a JSON last line")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn unsupported_urls_are_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().expect("dir");
    for url in [
        "mysql://root:secret@localhost/db",
        "vaxloop.db",
        "file:vaxloop.db",
    ] {
        let out = vaxloop(dir.path(), &["migrate", "--database-url", url]);
        assert!(!out.status.success(), "{url} accepted");
        let msg = text(&out);
        assert!(msg.contains("expected sqlite://PATH"), "{msg}");
        assert!(!msg.contains("secret"), "the password is not echoed: {msg}");
    }
    let out = vaxloop(
        dir.path(),
        &["demo", "--no-serve", "--database-url", "mongodb://x"],
    );
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_dir(dir.path()).expect("dir").count(),
        0,
        "no file was created"
    );
}

#[test]
fn migrate_reports_the_schema_version() {
    let dir = tempfile::tempdir().expect("dir");
    let out = vaxloop(dir.path(), &["migrate", "--database-url", "sqlite://v.db"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("schema version 15"));
    assert!(dir.path().join("v.db").exists());
}

#[test]
fn serve_refuses_to_start_without_a_key() {
    let dir = tempfile::tempdir().expect("dir");
    let out = vaxloop(
        dir.path(),
        &[
            "serve",
            "--database-url",
            "sqlite://v.db",
            "--addr",
            "127.0.0.1:0",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("VAXLOOP_PII_KEY"), "{}", text(&out));
}

#[test]
fn a_busy_port_gets_a_clear_message() {
    let dir = tempfile::tempdir().expect("dir");
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = vaxloop(dir.path(), &["demo", "--people", "50", "--addr", &addr]);
    assert!(!out.status.success());
    let msg = text(&out);
    assert!(
        msg.contains("already in use") && msg.contains("--addr"),
        "{msg}"
    );
    assert!(
        !dir.path().join("vaxloop-demo.db").exists(),
        "the busy port is found before any work"
    );
}

#[test]
fn the_demo_is_built_once_reused_and_rebuilt_on_reset() {
    let dir = tempfile::tempdir().expect("dir");
    let first = vaxloop(dir.path(), &["demo", "--people", "400", "--no-serve"]);
    assert!(first.status.success(), "{}", text(&first));
    let out = text(&first);
    assert!(
        out.contains("made a new key") && out.contains("stored 400 people"),
        "{out}"
    );
    assert!(
        out.contains("yesterday:") && out.contains("site-days closed"),
        "the demo's days are played: {out}"
    );
    for role in [
        "admin",
        "group_leader",
        "unit_contact",
        "desk",
        "site_staff",
        "staff",
        "resident",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(role)),
            "a login for {role}: {out}"
        );
    }
    let key = dir.path().join("vaxloop-demo.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the key file is private");
    }
    let again = vaxloop(dir.path(), &["demo", "--people", "400", "--no-serve"]);
    assert!(
        text(&again).contains("using the demo town already in"),
        "{}",
        text(&again)
    );
    // A key that does not match the data is caught at once.
    std::fs::write(&key, vaxloop_store::PiiKey::generate().to_hex()).expect("write key");
    let wrong = vaxloop(dir.path(), &["demo", "--no-serve"]);
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("does not open the personal data"),
        "{}",
        text(&wrong)
    );
    let reset = vaxloop(
        dir.path(),
        &["demo", "--people", "300", "--no-serve", "--reset"],
    );
    assert!(reset.status.success(), "{}", text(&reset));
    assert!(text(&reset).contains("stored 300 people"));
}

#[test]
fn import_people_reports_rows_and_ends_with_json() {
    let dir = tempfile::tempdir().expect("dir");
    let built = vaxloop(dir.path(), &["demo", "--people", "300", "--no-serve"]);
    assert!(built.status.success(), "{}", text(&built));
    let id = |seq: u16| {
        vaxloop_core::ResidentId::compose(
            310112,
            chrono::NaiveDate::from_ymd_opt(1990, 1, 2).expect("date"),
            seq,
        )
        .as_str()
        .to_string()
    };
    let csv = format!(
        "姓名,身份证号,手机号\n甲,{},13800138000\n乙,{},12345\n,{},\n",
        id(1),
        id(3),
        id(5)
    );
    std::fs::write(dir.path().join("roster.csv"), csv).expect("write");
    let args = [
        "import",
        "people",
        "--unit",
        "E001",
        "--database-url",
        "sqlite://vaxloop-demo.db",
        "--key-file",
        "vaxloop-demo.key",
        "roster.csv",
        "--json",
    ];
    let out = vaxloop(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let last: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a last line")).expect("JSON last line");
    assert_eq!(last["rows"], 3);
    assert_eq!(last["imported"], 1);
    assert_eq!(last["rejected"], 2);
    assert_eq!(last["errors"][0]["row"], 3);
    assert_eq!(last["errors"][0]["field"], "phone");
    assert_eq!(last["errors"][1]["row"], 4);
    let again = vaxloop(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&again.stdout).into_owned();
    let last: serde_json::Value =
        serde_json::from_str(stdout.lines().last().expect("a last line")).expect("JSON");
    assert_eq!(
        (last["imported"].as_u64(), last["unchanged"].as_u64()),
        (Some(0), Some(1)),
        "the second run changes nothing"
    );

    std::fs::write(dir.path().join("scan.pdf"), b"%PDF-1.7 not a roster").expect("write");
    let bad = vaxloop(
        dir.path(),
        &[
            "import",
            "people",
            "--unit",
            "E001",
            "--database-url",
            "sqlite://vaxloop-demo.db",
            "--key-file",
            "vaxloop-demo.key",
            "scan.pdf",
        ],
    );
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("neither an XLSX workbook nor a CSV"),
        "{}",
        text(&bad)
    );
    let nounit = vaxloop(
        dir.path(),
        &[
            "import",
            "people",
            "--unit",
            "NOPE",
            "--database-url",
            "sqlite://vaxloop-demo.db",
            "--key-file",
            "vaxloop-demo.key",
            "roster.csv",
        ],
    );
    assert!(!nounit.status.success());
    assert!(text(&nounit).contains("no unit with the code NOPE"));
    let nokey = vaxloop(
        dir.path(),
        &[
            "import",
            "people",
            "--unit",
            "E001",
            "--database-url",
            "sqlite://vaxloop-demo.db",
            "roster.csv",
        ],
    );
    assert!(!nokey.status.success());
    assert!(text(&nokey).contains("--key-file"));
}

#[test]
fn plan_generate_solve_and_check_round_trip() {
    let dir = tempfile::tempdir().expect("dir");
    let generated = vaxloop(
        dir.path(),
        &["plan", "generate", "--preset", "town", "--seed", "2"],
    );
    assert!(generated.status.success(), "{}", text(&generated));
    std::fs::write(dir.path().join("town.json"), &generated.stdout).expect("write");
    let again = vaxloop(
        dir.path(),
        &["plan", "generate", "--preset", "town", "--seed", "2"],
    );
    assert_eq!(
        generated.stdout, again.stdout,
        "the same seed, the same file"
    );

    let solved = vaxloop(
        dir.path(),
        &[
            "plan",
            "solve",
            "town.json",
            "--time-limit",
            "0.5",
            "--out",
            "plan.json",
            "--json",
        ],
    );
    assert!(solved.status.success(), "{}", text(&solved));
    let out = String::from_utf8_lossy(&solved.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("summary json");
    for key in [
        "objective",
        "scheduled_teams",
        "scheduled_people",
        "unassigned_teams",
        "seconds",
    ] {
        assert!(summary.get(key).is_some(), "{key} in {summary}");
    }

    let checked = vaxloop(
        dir.path(),
        &["plan", "check", "town.json", "plan.json", "--json"],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    let out = String::from_utf8_lossy(&checked.stdout);
    let report: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("report json");
    assert_eq!(report["valid"], true);
    assert_eq!(report["objective"], summary["objective"]);

    // A broken plan: the first team placed twice. The checker names it and exits non-zero.
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).expect("read"))
            .expect("plan json");
    let first = plan["assignments"][0].clone();
    plan["assignments"]
        .as_array_mut()
        .expect("list")
        .push(first);
    std::fs::write(dir.path().join("bad.json"), plan.to_string()).expect("write");
    let checked = vaxloop(dir.path(), &["plan", "check", "town.json", "bad.json"]);
    assert!(!checked.status.success());
    assert!(
        text(&checked).contains("appears more than once"),
        "{}",
        text(&checked)
    );

    // Bad files get the file and the field named.
    std::fs::write(dir.path().join("broken.json"), "{\"format\": \"x\"}").expect("write");
    let refused = vaxloop(dir.path(), &["plan", "solve", "broken.json"]);
    assert!(!refused.status.success());
    assert!(text(&refused).contains("broken.json"), "{}", text(&refused));
    let refused = vaxloop(dir.path(), &["plan", "solve", "missing.json"]);
    assert!(
        text(&refused).contains("cannot read the instance file missing.json"),
        "{}",
        text(&refused)
    );
    let refused = vaxloop(dir.path(), &["plan", "generate", "--preset", "county"]);
    assert!(
        text(&refused).contains("tiny, town or city"),
        "{}",
        text(&refused)
    );
}

#[test]
fn simulate_mmc_prints_the_simulation_beside_erlang_c_and_refuses_an_unstable_queue() {
    let dir = tempfile::tempdir().expect("dir");
    let args = [
        "simulate",
        "mmc",
        "--servers",
        "2",
        "--arrival-rate",
        "1.8",
        "--service-rate",
        "1",
        "--customers",
        "400000",
        "--seed",
        "3",
        "--json",
    ];
    let out = vaxloop(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out));
    let last = last_json(&out);
    assert_eq!(last["servers"], 2);
    assert_eq!(last["customers"], 400_000);
    let analytic = last["analytic"]["wq_mean"].as_f64().expect("analytic");
    assert!((analytic - 4.26316).abs() < 1e-4, "{analytic}");
    let simulated = last["simulated"]["wq_mean"].as_f64().expect("simulated");
    let half = last["simulated"]["wq_mean_ci95"]
        .as_f64()
        .expect("interval");
    assert!(
        half > 0.0 && (simulated - analytic).abs() < 4.0 * half,
        "{simulated} ± {half}"
    );
    assert!(last["simulated"]["wq_p95"].as_f64().expect("p95") > 0.0);
    // The same seed, the same figures.
    let again = last_json(&vaxloop(dir.path(), &args));
    assert_eq!(again["simulated"]["wq_mean"], last["simulated"]["wq_mean"]);
    // Replications in parallel: the interval is across them, the same whatever the threads.
    let mut replicated = args.to_vec();
    replicated.extend(["--replications", "4"]);
    let reps = last_json(&vaxloop(dir.path(), &replicated));
    assert_eq!(reps["replications"], 4);
    assert_eq!(reps["simulated"]["events"], 4 * 4 * 400_000);
    assert!(reps["simulated"]["wq_mean_ci95"].as_f64().expect("ci") > 0.0);

    let unstable = vaxloop(
        dir.path(),
        &[
            "simulate",
            "mmc",
            "--servers",
            "1",
            "--arrival-rate",
            "2",
            "--service-rate",
            "1",
        ],
    );
    assert!(!unstable.status.success());
    assert!(
        text(&unstable).contains("utilisation"),
        "{}",
        text(&unstable)
    );
    let bad = vaxloop(
        dir.path(),
        &[
            "simulate",
            "mmc",
            "--servers",
            "0",
            "--arrival-rate",
            "1",
            "--service-rate",
            "1",
        ],
    );
    assert!(!bad.status.success());
    assert!(text(&bad).contains("--servers"), "{}", text(&bad));
}

#[test]
fn simulate_run_reads_a_scenario_prints_the_day_and_refuses_a_bad_file_by_its_key() {
    let dir = tempfile::tempdir().expect("dir");
    let example = vaxloop(dir.path(), &["simulate", "example"]);
    assert!(example.status.success(), "{}", text(&example));
    let path = dir.path().join("day.toml");
    std::fs::write(&path, &example.stdout).expect("write");
    let file = path.to_str().expect("utf-8");
    let args = [
        "simulate",
        "run",
        file,
        "--replications",
        "6",
        "--seed",
        "4",
        "--timeline",
        "--json",
    ];
    let out = vaxloop(dir.path(), &args);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("screening"), "{stdout}");
    let r = last_json(&out);
    assert_eq!(r["format"], "vaxloop-clinic-result/1");
    assert_eq!(r["name"], "hechuan-weekday");
    assert_eq!(r["replications"], 6);
    assert_eq!(r["stations"].as_array().expect("stations").len(), 3);
    let arrived = r["arrived"].as_f64().expect("arrived");
    let (completed, left) = (r["completed"].as_f64(), r["left"].as_f64());
    assert!((completed.expect("c") + left.expect("l") - arrived).abs() < 1e-3);
    assert!(r["stations"][1]["wait_p95"].as_f64().expect("p95") > 0.0);
    assert!(r["observation"]["peak"].as_f64().expect("peak") > 0.0);
    assert!(
        r["timeline"]["queues"]["screening"]
            .as_array()
            .expect("steps")
            .len()
            > 40
    );
    // Byte-identical output for the same scenario, seed and replications, on any threads.
    let mut one_thread = args.to_vec();
    one_thread.extend(["--threads", "1"]);
    let again = vaxloop(dir.path(), &one_thread);
    assert_eq!(again.stdout, out.stdout);

    std::fs::write(
        &path,
        String::from_utf8_lossy(&example.stdout).replace("cv = 0.6", "cv = -0.6"),
    )
    .expect("write");
    let bad = vaxloop(dir.path(), &["simulate", "run", file]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("day.toml: stations[1].service.cv: must be from 0 to 10"),
        "{}",
        text(&bad)
    );
    let missing = vaxloop(dir.path(), &["simulate", "run", "nowhere.toml"]);
    assert!(text(&missing).contains("cannot read the scenario nowhere.toml"));
}

#[test]
fn simulate_capacity_sizes_a_site_in_the_database_by_shift() {
    let dir = tempfile::tempdir().expect("dir");
    let demo = vaxloop(dir.path(), &["demo", "--people", "400", "--no-serve"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let url = "sqlite://vaxloop-demo.db";
    let out = vaxloop(
        dir.path(),
        &[
            "simulate",
            "capacity",
            "--site",
            "HCL",
            "--database-url",
            url,
            "--replications",
            "6",
            "--per-day",
            "1200",
            "--volunteers-per-desk",
            "2",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let r = last_json(&out);
    assert_eq!(r["site"], "HCL");
    let shifts = r["shifts"].as_array().expect("shifts");
    assert_eq!(shifts.len(), 2);
    for s in shifts {
        let per_slot = s["per_slot"].as_i64().expect("per slot");
        assert!(per_slot > 0, "{s}");
        assert!(s["wait_p95"].as_f64().expect("wait") <= 10.0);
        assert!(s["bottleneck_rule"].as_i64().expect("rule") > 0);
        assert!(s["staffing"]["safe"].as_bool().expect("safe"));
        assert!(s["staffing"]["seats"].as_u64().expect("seats") > 0);
        let desks: u64 = s["staffing"]["desks"]
            .as_array()
            .expect("desks")
            .iter()
            .map(|d| d["desks"].as_u64().expect("n"))
            .sum();
        assert_eq!(
            s["staffing"]["volunteers"].as_u64(),
            Some(2 * desks),
            "the ratio asked for"
        );
    }
    assert!(stdout.contains("safe:"), "{stdout}");
    // A stricter target takes fewer people.
    let strict = vaxloop(
        dir.path(),
        &[
            "simulate",
            "capacity",
            "--site",
            "HCL",
            "--database-url",
            url,
            "--target",
            "2",
            "--replications",
            "6",
            "--json",
        ],
    );
    let strict = last_json(&strict);
    assert!(strict["shifts"][0]["per_slot"].as_i64() < shifts[0]["per_slot"].as_i64());
    let unknown = vaxloop(
        dir.path(),
        &[
            "simulate",
            "capacity",
            "--site",
            "NOPE",
            "--database-url",
            url,
        ],
    );
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).contains("no site has the code \"NOPE\""),
        "{}",
        text(&unknown)
    );
}

#[test]
fn roster_generate_and_check_judge_a_roster_file() {
    let dir = tempfile::tempdir().expect("dir");
    let generated = vaxloop(
        dir.path(),
        &["roster", "generate", "--preset", "tiny", "--seed", "3"],
    );
    assert!(generated.status.success(), "{}", text(&generated));
    std::fs::write(dir.path().join("tiny.json"), &generated.stdout).expect("write");
    let instance: serde_json::Value =
        serde_json::from_slice(&generated.stdout).expect("instance json");
    assert_eq!(instance["format"], "vaxloop-roster-instance/1");

    // An empty roster is valid and covers nothing.
    let empty = serde_json::json!({"format": "vaxloop-roster/1", "instance": instance["name"], "assignments": []});
    std::fs::write(dir.path().join("empty.json"), empty.to_string()).expect("write");
    let checked = vaxloop(
        dir.path(),
        &["roster", "check", "tiny.json", "empty.json", "--json"],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    let out = String::from_utf8_lossy(&checked.stdout);
    let report: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("report json");
    for key in [
        "valid",
        "violations",
        "objective",
        "covered",
        "demand",
        "coverage_value",
        "home_value",
        "extra_site_posts",
        "over_fair_shifts",
    ] {
        assert!(report.get(key).is_some(), "{key} in {report}");
    }
    assert_eq!(
        (report["valid"].clone(), report["covered"].clone()),
        (serde_json::json!(true), serde_json::json!(0))
    );

    // A solved roster is valid, and the checker agrees with its objective.
    let solved = vaxloop(
        dir.path(),
        &[
            "roster",
            "solve",
            "tiny.json",
            "--time-limit",
            "2",
            "--out",
            "solved.json",
            "--json",
        ],
    );
    assert!(solved.status.success(), "{}", text(&solved));
    let out = String::from_utf8_lossy(&solved.stdout);
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("summary json");
    let checked = vaxloop(
        dir.path(),
        &["roster", "check", "tiny.json", "solved.json", "--json"],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    let out = String::from_utf8_lossy(&checked.stdout);
    let report: serde_json::Value =
        serde_json::from_str(out.lines().last().expect("a line")).expect("report json");
    assert_eq!(report["objective"], summary["objective"]);
    assert!(summary["covered"].as_u64().expect("covered") > 0);
    // Re-rostered from itself, nothing changes.
    let again = vaxloop(
        dir.path(),
        &[
            "roster",
            "solve",
            "tiny.json",
            "--from",
            "solved.json",
            "--out",
            "again.json",
        ],
    );
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("again.json")).expect("read"),
        std::fs::read_to_string(dir.path().join("solved.json")).expect("read")
    );

    // A roster naming someone who does not exist: named, and a non-zero exit.
    let bad = serde_json::json!({"format": "vaxloop-roster/1", "instance": instance["name"],
        "assignments": [{"person": "nobody", "day": 0, "shift": "am", "site": "s000-L", "post": "security"}]});
    std::fs::write(dir.path().join("bad.json"), bad.to_string()).expect("write");
    let checked = vaxloop(dir.path(), &["roster", "check", "tiny.json", "bad.json"]);
    assert!(!checked.status.success());
    assert!(
        text(&checked).contains("unknown person"),
        "{}",
        text(&checked)
    );
}
