//! The roster solver: every roster it returns passes the independent checker (a property over
//! generated instances), and it covers most of what can be covered.

use proptest::prelude::*;
use vaxloop_roster::{Options, Preset, check, generate, solve};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn every_roster_of_a_tiny_instance_passes_the_checker(seed in 0u64..1_000_000) {
        let inst = generate(Preset::Tiny, seed);
        let solved = solve(&inst, &Options::default());
        let report = check(&inst, &solved.plan);
        prop_assert!(report.valid, "seed {}: {:?}", seed, report.violations);
        prop_assert_eq!(report.objective, solved.objective);
    }
}

#[test]
fn town_rosters_are_valid_and_cover_most_positions() {
    for seed in 1..=3 {
        let inst = generate(Preset::Town, seed);
        let solved = solve(&inst, &Options::default());
        let report = check(&inst, &solved.plan);
        assert!(
            report.valid,
            "town-{seed}: {:?}",
            &report.violations[..report.violations.len().min(5)]
        );
        assert!(
            solved.covered * 10 >= solved.demand * 8,
            "town-{seed} covers {} of {}",
            solved.covered,
            solved.demand
        );
        assert!(
            solved.objective > 0 && report.home_value > 0,
            "continuity counts"
        );
    }
}

#[test]
fn re_rostering_after_people_drop_out_moves_only_the_displaced() {
    let mut inst = generate(Preset::Town, 1);
    let before = solve(&inst, &Options::default());
    // One person in twenty drops out: no longer available on any day.
    let gone: std::collections::HashSet<String> = (inst.people.iter())
        .step_by(20)
        .map(|p| p.id.clone())
        .collect();
    for p in inst.people.iter_mut().filter(|p| gone.contains(&p.id)) {
        p.available.iter_mut().for_each(|d| d.clear());
    }
    let after = vaxloop_roster::solve_from(&inst, Some(&before.plan), &Options::default());
    let report = check(&inst, &after.plan);
    assert!(
        report.valid,
        "{:?}",
        &report.violations[..report.violations.len().min(5)]
    );
    let now: std::collections::HashSet<&vaxloop_roster::Assignment> =
        after.plan.assignments.iter().collect();
    let kept = before
        .plan
        .assignments
        .iter()
        .filter(|a| !gone.contains(&a.person));
    for a in kept {
        assert!(now.contains(a), "{a:?} was not displaced and stays");
    }
    assert!(
        after
            .plan
            .assignments
            .iter()
            .all(|a| !gone.contains(&a.person)),
        "nobody who dropped out works"
    );
    let displaced = before
        .plan
        .assignments
        .iter()
        .filter(|a| gone.contains(&a.person))
        .count();
    assert!(displaced > 0, "the drop-outs held positions");
    assert!(
        after.covered + displaced as u64 >= before.covered,
        "the gaps are filled again where someone can"
    );
}
