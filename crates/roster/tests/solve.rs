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
