//! The roster checker on a small hand-made instance: a valid plan passes with the objective the
//! format defines; a plan breaking each hard rule once is caught, naming the rule's subject; a
//! malformed instance is refused with its field.

use vaxloop_roster::instance::{Agency, Instance, Person, Post, Shift, Site, Weights};
use vaxloop_roster::plan::PLAN_FORMAT;
use vaxloop_roster::{Assignment, Plan, check};

fn person(id: &str, agency: &str, skills: &[&str], available: [&[&str]; 3]) -> Person {
    Person {
        id: id.into(),
        agency: agency.into(),
        skills: skills.iter().map(|s| s.to_string()).collect(),
        trainings: vec![],
        available: available
            .iter()
            .map(|d| d.iter().map(|s| s.to_string()).collect())
            .collect(),
        max_shifts_per_day: 2,
        max_shifts: 4,
        max_consecutive_days: 2,
        min_rest_minutes: 900,
        home_site: Some("L".into()),
        home_post: None,
        sites: None,
    }
}

/// Three days, two sites (L runs am and pm, C only am), a doctor's post and a guard's.
fn instance() -> Instance {
    let shift = |id: &str, start, end| Shift {
        id: id.into(),
        start,
        end,
    };
    let all: &[&str] = &["am", "pm", "md"];
    Instance {
        format: "vaxloop-roster-instance/1".into(),
        name: "hand-1".into(),
        dates: vec![
            "2026-12-07".into(),
            "2026-12-08".into(),
            "2026-12-09".into(),
        ],
        shifts: vec![
            shift("am", 480, 780),
            shift("pm", 780, 1080),
            shift("md", 600, 900),
        ],
        posts: vec![
            Post {
                id: "screening".into(),
                skill: "doctor".into(),
                training: None,
                weight: 1000,
            },
            Post {
                id: "qr".into(),
                skill: "volunteer".into(),
                training: Some("qr".into()),
                weight: 300,
            },
        ],
        sites: vec![
            Site {
                id: "L".into(),
                shifts: vec!["am".into(), "pm".into(), "md".into()],
                demand: vec![vec![vec![1, 1], vec![1, 0], vec![1, 0]]; 3],
            },
            Site {
                id: "C".into(),
                shifts: vec!["am".into()],
                demand: vec![vec![vec![1, 0]]; 3],
            },
        ],
        agencies: vec![
            Agency {
                id: "h".into(),
                kind: "hospital".into(),
                fair_shifts: 2,
            },
            Agency {
                id: "v".into(),
                kind: "volunteer".into(),
                fair_shifts: 1,
            },
        ],
        people: vec![
            person("doc", "h", &["doctor"], [all, all, all]),
            Person {
                trainings: vec!["qr".into()],
                home_post: Some("qr".into()),
                ..person("vol", "v", &["volunteer"], [&["am"], &[], &["am"]])
            },
            Person {
                sites: Some(vec!["C".into()]),
                home_site: Some("C".into()),
                ..person("cdoc", "h", &["doctor"], [all, all, all])
            },
        ],
        weights: Weights::default(),
    }
}

fn at(person: &str, day: usize, shift: &str, site: &str, post: &str) -> Assignment {
    Assignment {
        person: person.into(),
        day,
        shift: shift.into(),
        site: site.into(),
        post: post.into(),
    }
}

fn plan(assignments: Vec<Assignment>) -> Plan {
    Plan {
        format: PLAN_FORMAT.into(),
        instance: "hand-1".into(),
        assignments,
    }
}

#[test]
fn a_valid_plan_passes_with_the_objective_of_the_format() {
    let inst = instance();
    inst.validate().expect("a valid instance");
    assert!(
        check(&inst, &plan(vec![])).valid,
        "an empty roster is valid"
    );
    let p = plan(vec![
        at("doc", 0, "am", "L", "screening"),
        at("doc", 0, "pm", "L", "screening"),
        at("vol", 0, "am", "L", "qr"),
        at("cdoc", 0, "am", "C", "screening"),
        at("cdoc", 1, "am", "C", "screening"),
    ]);
    let r = check(&inst, &p);
    assert!(r.valid, "{:?}", r.violations);
    assert_eq!(r.coverage_value, 4 * 1000 + 300);
    // doc: home site L twice; vol: home site L and home post qr; cdoc: home site C twice.
    assert_eq!(r.home_value, 10 * 2 + (10 + 10) + 10 * 2);
    assert_eq!(r.extra_site_posts, 0);
    // Hospital's fair share is 2: nobody above it.
    assert_eq!(r.over_fair_shifts, 0);
    assert_eq!(r.objective, 4300 + 60);
    assert_eq!(r.demand, 3 * (1 + 1 + 1 + 1) + 3);
    assert_eq!(r.covered, 5);
    // Working two site-posts costs; a third shift of a hospital member is over the fair share.
    let p = plan(vec![
        at("doc", 0, "am", "L", "screening"),
        at("doc", 0, "pm", "L", "screening"),
        at("doc", 2, "am", "C", "screening"),
    ]);
    let r = check(&inst, &p);
    assert!(r.valid, "{:?}", r.violations);
    assert_eq!((r.extra_site_posts, r.over_fair_shifts), (1, 1));
    assert_eq!(r.objective, 3000 + 20 - 30 - 5);
}

#[test]
fn each_hard_rule_broken_once_is_caught() {
    let inst = instance();
    let cases: Vec<(&str, Vec<Assignment>, &str)> = vec![
        (
            "1 unknown id",
            vec![at("nobody", 0, "am", "L", "screening")],
            "unknown person",
        ),
        (
            "1 day outside",
            vec![at("doc", 3, "am", "L", "screening")],
            "outside the horizon",
        ),
        (
            "1 shift not run",
            vec![at("doc", 0, "pm", "C", "screening")],
            "does not run shift",
        ),
        (
            "2 not qualified",
            vec![at("doc", 0, "am", "L", "qr")],
            "not qualified",
        ),
        (
            "2 skill missing",
            vec![at("vol", 0, "am", "L", "screening")],
            "not qualified",
        ),
        (
            "2 not available",
            vec![at("vol", 1, "am", "L", "qr")],
            "not available",
        ),
        (
            "2 site not allowed",
            vec![at("cdoc", 0, "am", "L", "screening")],
            "may not work at that site",
        ),
        (
            "3 over demand",
            vec![
                at("doc", 0, "am", "C", "screening"),
                at("cdoc", 0, "am", "C", "screening"),
            ],
            "2 assigned, 1 wanted",
        ),
        (
            "4 overlap",
            vec![
                at("doc", 0, "am", "L", "screening"),
                at("doc", 0, "md", "L", "screening"),
            ],
            "overlap",
        ),
        (
            "4 two sites a day",
            vec![
                at("doc", 0, "am", "C", "screening"),
                at("doc", 0, "pm", "L", "screening"),
            ],
            "more than one site",
        ),
        (
            "4 too many a day",
            vec![
                at("doc", 0, "am", "L", "screening"),
                at("doc", 0, "pm", "L", "screening"),
                at("doc", 0, "md", "L", "screening"),
            ],
            "3 shifts, at most 2",
        ),
        (
            "5 too many shifts",
            vec![
                at("doc", 0, "am", "L", "screening"),
                at("doc", 0, "pm", "L", "screening"),
                at("doc", 2, "am", "L", "screening"),
                at("doc", 2, "pm", "L", "screening"),
                at("doc", 2, "md", "L", "screening"),
            ],
            "doc: 5 shifts, at most 4",
        ),
        (
            "5 consecutive days",
            vec![
                at("doc", 0, "am", "L", "screening"),
                at("doc", 1, "am", "L", "screening"),
                at("doc", 2, "am", "L", "screening"),
            ],
            "consecutive days",
        ),
        (
            "6 rest",
            vec![
                at("doc", 0, "pm", "L", "screening"),
                at("doc", 1, "am", "L", "screening"),
            ],
            "minutes of rest",
        ),
    ];
    for (rule, assignments, says) in cases {
        let r = check(&inst, &plan(assignments));
        assert!(!r.valid, "rule {rule} is caught");
        assert!(
            r.violations.iter().any(|v| v.contains(says)),
            "rule {rule}: {:?}",
            r.violations
        );
    }
    let mut untrained = instance();
    untrained.people[1].trainings.clear();
    let r = check(&untrained, &plan(vec![at("vol", 0, "am", "L", "qr")]));
    assert!(
        r.violations
            .iter()
            .any(|v| v.contains("not qualified for post qr")),
        "rule 2: the training"
    );
    let mut wrong = plan(vec![]);
    wrong.format = "vaxloop-roster/0".into();
    assert!(!check(&inst, &wrong).valid, "rule 1: the format");
    wrong = plan(vec![]);
    wrong.instance = "other".into();
    let r = check(&inst, &wrong);
    assert!(
        r.valid && !r.warnings.is_empty(),
        "another instance's name is a warning"
    );
}

#[test]
fn a_malformed_instance_is_refused_with_its_field() {
    let mut inst = instance();
    inst.dates[2] = "2026-12-11".into();
    assert!(
        inst.validate()
            .expect_err("a gap")
            .to_string()
            .contains("dates[2]")
    );
    let mut inst = instance();
    inst.sites[0].demand.pop();
    assert!(
        inst.validate()
            .expect_err("short demand")
            .to_string()
            .contains("sites[0].demand")
    );
    let mut inst = instance();
    inst.people[0].available[0].push("night".into());
    assert!(
        inst.validate()
            .expect_err("unknown shift")
            .to_string()
            .contains("people[0].available")
    );
    let text = serde_json::to_string(&instance()).expect("json");
    assert_eq!(Instance::parse(&text).expect("round trip"), instance());
    assert!(
        Instance::parse("{\"format\": 1}")
            .expect_err("not an instance")
            .to_string()
            .contains("line 1")
    );
}
