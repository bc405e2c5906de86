//! The planner against its contract: the validator catches each broken rule, every plan the
//! solver returns passes it, tiny instances are solved to the optimum an exhaustive search finds,
//! the bound is never below a plan, and bad files are refused with the field named.

mod brute;

use std::time::Duration;

use proptest::prelude::*;
use vaxloop_planner::instance::{Buses, Horizon, INSTANCE_FORMAT, Site, Team, Weights};
use vaxloop_planner::plan::{Assignment, Part, Trip, Unassigned};
use vaxloop_planner::{
    Instance, Options, Plan, Preset, Window, check, generate, solve, upper_bound,
};

/// Two sites, one day of four slots from 11:00 (two morning, two afternoon), two 6-seat buses.
fn hand_built() -> Instance {
    let team = |id: &str, size: u32, bus: bool, max_parts: u32| Team {
        id: id.into(),
        unit: "u1".into(),
        size,
        x_km: 0.0,
        y_km: 0.0,
        days: vec![],
        window: Window::Am,
        hard_window: false,
        priority_people: 1,
        bus,
        max_parts,
        sites: vec![],
    };
    Instance {
        format: INSTANCE_FORMAT.into(),
        name: "hand".into(),
        horizon: Horizon {
            dates: vec!["2026-12-01".into()],
            day_start: "11:00".into(),
            slot_minutes: 30,
            slots_per_day: 4,
        },
        sites: vec![
            Site {
                id: "near".into(),
                x_km: 2.0,
                y_km: 0.0,
                slot_capacity: vec![vec![10, 10, 10, 0]],
                doses: vec![25],
            },
            Site {
                id: "far".into(),
                x_km: 10.0,
                y_km: 0.0,
                slot_capacity: vec![vec![5, 5, 5, 5]],
                doses: vec![20],
            },
        ],
        teams: vec![
            team("a", 8, true, 1),
            team("b", 12, false, 2),
            team("c", 4, true, 1),
        ],
        buses: Buses {
            count: 2,
            seats: 6,
            speed_kmh: 20.0,
            stop_minutes: 10,
        },
        weights: Weights::default(),
    }
}

/// A valid plan of [`hand_built`]: a at near slot 0 (two trips), b at near slots 1–2, c at far
/// slot 2 (one trip; near's buses are busy until minute 6 + 30 … see the checks below).
fn valid_plan() -> Plan {
    Plan {
        format: "vaxloop-plan/1".into(),
        instance: "hand".into(),
        assignments: vec![
            Assignment {
                team: "a".into(),
                site: "near".into(),
                day: 0,
                parts: vec![Part { slot: 0, people: 8 }],
                trips: vec![
                    Trip {
                        bus: 0,
                        part: 0,
                        people: 4,
                    },
                    Trip {
                        bus: 1,
                        part: 0,
                        people: 4,
                    },
                ],
            },
            Assignment {
                team: "b".into(),
                site: "near".into(),
                day: 0,
                parts: vec![Part { slot: 1, people: 6 }, Part { slot: 2, people: 6 }],
                trips: vec![],
            },
            Assignment {
                team: "c".into(),
                site: "far".into(),
                day: 0,
                parts: vec![Part { slot: 3, people: 4 }],
                trips: vec![Trip {
                    bus: 0,
                    part: 0,
                    people: 4,
                }],
            },
        ],
        unassigned: vec![],
    }
}

#[test]
fn a_valid_plan_passes_with_its_objective() {
    let inst = hand_built();
    let report = check(&inst, &valid_plan());
    assert!(report.valid, "{:?}", report.violations);
    // a: 8 people, travel 6 min, in window; b: 12, travel 6, slot 1 (11:30) in window;
    // c: 4, travel 30, slot 3 (12:30) outside its morning window.
    let expected = (800 + 50 - 8 * 6) + (1200 + 50 - 12 * 6) + (400 + 50 - 4 * 30 - 4 * 10);
    assert_eq!(report.objective, expected);
    assert_eq!((report.scheduled_teams, report.scheduled_people), (3, 24));
}

/// Each broken rule, made on the valid plan, with words its violation must contain.
#[test]
fn the_validator_catches_each_kind_of_violation() {
    let inst = hand_built();
    type Break = fn(&mut Plan, &mut Instance);
    let cases: Vec<(&str, Break)> = vec![
        ("appears more than once", |p, _| {
            let u = Unassigned {
                team: "a".into(),
                reason: "x".into(),
            };
            p.unassigned.push(u)
        }),
        ("not in the instance", |p, _| {
            p.assignments[0].team = "zz".into()
        }),
        ("neither assigned nor unassigned", |p, _| {
            p.assignments.remove(1);
        }),
        ("site nowhere is not in the instance", |p, _| {
            p.assignments[0].site = "nowhere".into()
        }),
        ("past the horizon", |p, _| p.assignments[1].day = 3),
        ("is not one of its days", |_, i| i.teams[1].days = vec![1]),
        ("at most 1 allowed", |_, i| i.teams[1].max_parts = 1),
        ("does not follow slot", |p, _| {
            p.assignments[1].parts[1].slot = 3
        }),
        ("has no people", |p, _| {
            p.assignments[1].parts[0].people = 0;
            p.assignments[1].parts[1].people = 12
        }),
        ("parts hold 11 people, the team has 12", |p, _| {
            p.assignments[1].parts[1].people = 5
        }),
        ("slot 1: 12 people, capacity 10", |p, _| {
            p.assignments[1].parts = vec![Part {
                slot: 1,
                people: 12,
            }];
        }),
        ("20 people, 19 doses", |_, i| i.sites[0].doses[0] = 19),
        ("outside its hard", |_, i| {
            i.teams[2].hard_window = true;
        }),
        ("site far does not serve its unit", |_, i| {
            i.teams[2].sites = vec!["near".into()]
        }),
        ("does not ride the shuttle but has trips", |p, _| {
            p.assignments[1].trips.push(Trip {
                bus: 1,
                part: 0,
                people: 6,
            })
        }),
        ("has 1 trips, 2 needed", |p, _| {
            p.assignments[0].trips = vec![Trip {
                bus: 0,
                part: 0,
                people: 8,
            }]
        }),
        ("a bus has 6 seats", |p, _| {
            p.assignments[0].trips[0].people = 7;
            p.assignments[0].trips[1].people = 1
        }),
        ("its trips carry 7", |p, _| {
            p.assignments[0].trips[1].people = 3
        }),
        ("on bus 5, there are 2", |p, _| {
            p.assignments[0].trips[1].bus = 5
        }),
        ("names part 4", |p, _| p.assignments[0].trips[1].part = 4),
        ("overlap", |p, _| p.assignments[2].parts[0].slot = 1),
    ];
    for (words, make) in cases {
        let (mut plan, mut inst) = (valid_plan(), inst.clone());
        make(&mut plan, &mut inst);
        let report = check(&inst, &plan);
        assert!(!report.valid, "{words}: not caught");
        assert!(
            report.violations.iter().any(|v| v.contains(words)),
            "{words}: not named in {:?}",
            report.violations
        );
    }
    // An overlap hidden behind a short trip in between is caught too: on bus 0, c's long trip
    // to the far site (-40..30) holds a's short one (-16..6) and overlaps b's later (14..36).
    let mut inst = hand_built();
    inst.teams[1].bus = true;
    let mut plan = valid_plan();
    plan.assignments[1].trips = vec![
        Trip {
            bus: 0,
            part: 0,
            people: 6,
        },
        Trip {
            bus: 1,
            part: 1,
            people: 6,
        },
    ];
    plan.assignments[2].parts[0].slot = 0;
    let report = check(&inst, &plan);
    let overlaps: Vec<_> = report
        .violations
        .iter()
        .filter(|v| v.contains("overlap"))
        .collect();
    assert_eq!(overlaps.len(), 2, "{:?}", report.violations);
    assert!(
        overlaps
            .iter()
            .any(|v| v.contains("for c (-40..30) and b (14..36)")),
        "{overlaps:?}"
    );
    // A plan naming another instance is warned about, not refused.
    let mut plan = valid_plan();
    plan.instance = "other".into();
    let report = check(&hand_built(), &plan);
    assert!(report.valid && report.warnings.len() == 1, "{report:?}");
}

#[test]
fn bad_instance_files_are_refused_with_the_field_named() {
    let good = serde_json::to_string(&hand_built()).expect("json");
    assert!(Instance::parse(&good).is_ok());
    type Spoil = fn(&mut serde_json::Value);
    let cases: Vec<(&str, Spoil)> = vec![
        ("format", |v| v["format"] = "vaxloop-plan-instance/9".into()),
        ("horizon.day_start", |v| {
            v["horizon"]["day_start"] = "25:00".into()
        }),
        ("horizon.dates[0]", |v| {
            v["horizon"]["dates"][0] = "1 Dec".into()
        }),
        ("sites[1] (far).slot_capacity[0]: 4 numbers", |v| {
            v["sites"][1]["slot_capacity"][0] = serde_json::json!([1, 2])
        }),
        ("sites[0] (near).doses", |v| {
            v["sites"][0]["doses"] = serde_json::json!([])
        }),
        ("teams[2] (c).size", |v| v["teams"][2]["size"] = 0.into()),
        ("teams[0] (a).priority_people: 9 is more", |v| {
            v["teams"][0]["priority_people"] = 9.into()
        }),
        ("teams[1] (b).days: day 4", |v| {
            v["teams"][1]["days"] = serde_json::json!([4])
        }),
        ("teams[1].id", |v| v["teams"][1]["id"] = "a".into()),
        ("buses.speed_kmh", |v| v["buses"]["speed_kmh"] = 0.into()),
        ("teams[0] (a).sites: site \"moon\"", |v| {
            v["teams"][0]["sites"] = serde_json::json!(["moon"])
        }),
    ];
    for (field, spoil) in cases {
        let mut v: serde_json::Value = serde_json::from_str(&good).expect("json");
        spoil(&mut v);
        let e = Instance::parse(&v.to_string())
            .expect_err(field)
            .to_string();
        assert!(e.contains(field), "{field}: {e}");
    }
    let e = Instance::parse("{\"format\": ")
        .expect_err("truncated")
        .to_string();
    assert!(e.contains("line 1"), "{e}");
    let e = Plan::parse(
        "{\"format\":\"vaxloop-plan/1\",\"instance\":\"x\",\"assignments\":[{\"team\":1}]}",
    )
    .expect_err("bad plan")
    .to_string();
    assert!(e.contains("plan file") && e.contains("column"), "{e}");
}

fn quick(steps: u64, seed: u64) -> Options {
    Options {
        time_limit: Duration::from_secs(60),
        max_steps: Some(steps),
        seed,
    }
}

#[test]
fn the_same_seed_gives_the_same_instance_and_plan() {
    let a = generate(Preset::Town, 3);
    assert_eq!(a, generate(Preset::Town, 3));
    assert_ne!(a, generate(Preset::Town, 4));
    let people: u32 = a.teams.iter().map(|t| t.size).sum();
    let doses: u32 = a.sites.iter().flat_map(|s| s.doses.iter()).sum();
    assert!((1900..=2100).contains(&a.teams.len()), "{}", a.teams.len());
    assert!(
        (0.80..0.90).contains(&(f64::from(doses) / f64::from(people))),
        "{doses} / {people}"
    );
    assert!(Instance::parse(&serde_json::to_string(&a).expect("json")).is_ok());
    let (x, y) = (solve(&a, &quick(50, 9)), solve(&a, &quick(50, 9)));
    assert_eq!(x.plan, y.plan);
    let report = check(&a, &x.plan);
    assert!(
        report.valid,
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    assert_eq!(report.objective, x.objective);
    assert!(x.objective >= x.first_objective);
    let bound = upper_bound(&a, Some(x.objective), Duration::from_secs(20), 300);
    assert!(
        bound.value >= x.objective,
        "bound {} below a plan {}",
        bound.value,
        x.objective
    );
    // The plan is not far off: within 5% of the bound even after a few steps.
    assert!(
        (bound.value - x.objective) as f64 / (bound.value as f64) < 0.05,
        "{bound:?} vs {}",
        x.objective
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every plan the solver returns passes the validator, lists every team once, gives the
    /// objective the validator computes, and is no better than the bound.
    #[test]
    fn every_plan_passes_the_validator(seed in 0u64..10_000, steps in 0u64..200, buses in 0u32..3) {
        let mut inst = generate(Preset::Tiny, seed);
        inst.buses.count = buses;
        let solved = solve(&inst, &quick(steps, seed));
        let report = check(&inst, &solved.plan);
        prop_assert!(report.valid, "{:?}", report.violations);
        prop_assert_eq!(report.objective, solved.objective);
        prop_assert_eq!(solved.plan.assignments.len() + solved.plan.unassigned.len(), inst.teams.len());
        let bound = upper_bound(&inst, Some(solved.objective), Duration::from_secs(5), 500);
        prop_assert!(bound.value >= solved.objective);
    }

    /// On tiny instances the solver reaches the optimum that an exhaustive search finds.
    #[test]
    fn tiny_instances_are_solved_to_the_optimum(seed in 0u64..10_000) {
        let inst = generate(Preset::Tiny, seed);
        let (best, at) = brute::optimum_with_plan(&inst);
        let solved = solve(&inst, &quick(200_000, seed));
        prop_assert_eq!(solved.objective, best, "seed {}: the optimum places {:?}; the solver {:?}", seed, at, solved.plan.assignments);
        let bound = upper_bound(&inst, Some(best), Duration::from_secs(5), 500);
        prop_assert!(bound.value >= best);
    }
}

#[test]
fn replanning_after_a_site_closes_keeps_everyone_else_in_place() {
    let inst = generate(Preset::Town, 1);
    let first = solve(&inst, &quick(200, 1));
    // The busiest site closes on the second day; its doses go to the nearest other site.
    let mut closed = inst.clone();
    let busiest = (0..inst.sites.len())
        .max_by_key(|&s| {
            first
                .plan
                .assignments
                .iter()
                .filter(|a| a.site == inst.sites[s].id && a.day == 1)
                .count()
        })
        .expect("a site");
    let site_id = closed.sites[busiest].id.clone();
    closed.close_site_day(busiest, 1).expect("another site");
    let displaced: Vec<&str> = first
        .plan
        .assignments
        .iter()
        .filter(|a| a.site == site_id && a.day == 1)
        .map(|a| a.team.as_str())
        .collect();
    assert!(displaced.len() > 20, "a busy site-day: {}", displaced.len());

    let again = vaxloop_planner::replan(&closed, &first.plan, &quick(300, 2));
    let report = check(&closed, &again.plan);
    assert!(
        report.valid,
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    assert_eq!(report.objective, again.objective);
    // Everyone not at the closed site-day is exactly where they were.
    let now: std::collections::HashMap<&str, &Assignment> = again
        .plan
        .assignments
        .iter()
        .map(|a| (a.team.as_str(), a))
        .collect();
    for a in &first.plan.assignments {
        if !displaced.contains(&a.team.as_str()) {
            assert_eq!(now.get(a.team.as_str()), Some(&a), "team {} moved", a.team);
        }
    }
    assert_eq!(
        again.moved,
        Some(displaced.len()),
        "only the displaced teams moved"
    );
    assert!(
        again
            .plan
            .assignments
            .iter()
            .all(|a| !(a.site == site_id && a.day == 1))
    );
    // Some of the displaced found another place (the doses moved with them).
    let reseated = displaced.iter().filter(|t| now.contains_key(*t)).count();
    assert!(reseated > 0, "nobody re-seated");
}

#[test]
fn locked_teams_keep_their_place_and_the_rest_is_planned_around_them() {
    let inst = generate(Preset::Town, 2);
    let first = solve(&inst, &quick(100, 1));
    // The desk moves one team by hand to another slot of its site and locks it, with two others.
    let mut hand = first.plan.clone();
    let locked_ids: Vec<String> = hand
        .assignments
        .iter()
        .take(3)
        .map(|a| a.team.clone())
        .collect();
    let lock = |id: &str| locked_ids.iter().any(|l| l == id);
    let again = vaxloop_planner::solve_from(
        &inst,
        Some(vaxloop_planner::Start {
            plan: &hand,
            locked: &lock,
        }),
        &quick(300, 3),
    );
    assert!(check(&inst, &again.plan).valid);
    for a in hand.assignments.iter_mut().take(3) {
        let now = again
            .plan
            .assignments
            .iter()
            .find(|b| b.team == a.team)
            .expect("still placed");
        assert_eq!((&now.site, now.day, &now.parts), (&a.site, a.day, &a.parts));
    }
}

#[test]
fn teams_go_only_to_sites_that_serve_their_unit() {
    let mut inst = generate(Preset::Town, 4);
    // Every team of some units is served by one site only.
    let only = inst.sites[3].id.clone();
    for t in inst
        .teams
        .iter_mut()
        .filter(|t| t.unit.ends_with(['0', '3', '6', '9']))
    {
        t.sites = vec![only.clone()];
    }
    let solved = solve(&inst, &quick(200, 1));
    let report = check(&inst, &solved.plan);
    assert!(
        report.valid,
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    let bound = upper_bound(&inst, Some(solved.objective), Duration::from_secs(10), 300);
    assert!(bound.value >= solved.objective);
}

#[test]
fn a_team_moved_by_hand_goes_there_or_is_refused_with_the_reason() {
    use vaxloop_planner::{Change, MoveRefusal, diff, place_team};
    let inst = hand_built();
    let plan = valid_plan();
    // c to near's third slot: room for its 4 beside b, doses left, its bus free then.
    let moved = place_team(&inst, &plan, "c", "near", 0, 2).expect("fits");
    let report = check(&inst, &moved.plan);
    assert!(report.valid, "{:?}", report.violations);
    assert_eq!(
        diff(&plan, &moved.plan),
        vec![Change {
            team: "c".into(),
            before: Some(("far".into(), 0, 3)),
            after: Some(("near".into(), 0, 2)),
        }]
    );
    assert_eq!(moved.moved, Some(1));
    // Everyone else keeps their buses.
    let a = |p: &Plan| p.assignments.iter().find(|x| x.team == "a").cloned();
    assert_eq!(a(&plan), a(&moved.plan));
    let c = moved.plan.assignments.iter().find(|x| x.team == "c");
    assert_eq!(c.map(|c| c.trips.len()), Some(1));

    // Refusals, each with its reason.
    let refused = |inst: &Instance, team: &str, site: &str, day: usize, slot: usize| {
        place_team(inst, &plan, team, site, day, slot).expect_err("refused")
    };
    assert_eq!(
        refused(&inst, "b", "far", 0, 0),
        MoveRefusal::NoRoom {
            free: 10,
            needed: 12
        }
    );
    assert_eq!(
        refused(&inst, "c", "near", 0, 3),
        MoveRefusal::NoRoom { free: 0, needed: 4 }
    );
    assert_eq!(refused(&inst, "zz", "near", 0, 0), MoveRefusal::UnknownTeam);
    assert_eq!(refused(&inst, "c", "moon", 0, 0), MoveRefusal::UnknownSite);
    assert_eq!(
        refused(&inst, "c", "near", 1, 0),
        MoveRefusal::OutsideHorizon
    );
    let mut short = hand_built();
    short.sites[0].doses[0] = 22;
    assert_eq!(
        refused(&short, "c", "near", 0, 2),
        MoveRefusal::NoDoses { free: 2, needed: 4 }
    );
    let mut served = hand_built();
    served.teams[2].sites = vec!["far".into()];
    assert_eq!(refused(&served, "c", "near", 0, 2), MoveRefusal::NotServed);
    let mut hard = hand_built();
    hard.teams[2].hard_window = true;
    assert_eq!(
        refused(&hard, "c", "near", 0, 2),
        MoveRefusal::OutsideWindow
    );
    // Both buses busy with a at near's first slot: c cannot ride then to far.
    assert_eq!(refused(&inst, "c", "far", 0, 0), MoveRefusal::NoBus);
}

#[test]
fn the_difference_between_two_plans_names_moved_placed_and_dropped_teams() {
    use vaxloop_planner::{Change, diff};
    let before = valid_plan();
    let mut after = valid_plan();
    let c = after.assignments.remove(2);
    after.unassigned.push(Unassigned {
        team: "c".into(),
        reason: "x".into(),
    });
    after.assignments[1].parts = vec![Part {
        slot: 2,
        people: 12,
    }];
    // Renumbered buses alone are no change.
    after.assignments[0].trips[0].bus = 1;
    after.assignments[0].trips[1].bus = 0;
    let changes = diff(&before, &after);
    assert_eq!(
        changes,
        vec![
            Change {
                team: "b".into(),
                before: Some(("near".into(), 0, 1)),
                after: Some(("near".into(), 0, 2)),
            },
            Change {
                team: "c".into(),
                before: Some(("far".into(), 0, 3)),
                after: None,
            },
        ]
    );
    assert!(diff(&after, &after).is_empty());
    let _ = c;
}
