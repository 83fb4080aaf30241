//! The seed sweep in the test suite: 500 random fault schedules, zero violations.

use rill_core::sim::sweep::{run_seed, sweep};

#[test]
fn five_hundred_random_fault_schedules_break_no_invariant() {
    let summary = sweep(0, 500);
    println!("{summary}");
    assert_eq!(summary.runs, 500);
    assert!(summary.first_failure.is_none(), "{summary}");
    // The sweep must actually exercise the system: writes with every acks setting, and losses
    // where Kafka allows them (acks=0/1, unclean elections, crashed unflushed tails).
    assert!(summary.acknowledged.acks_all > 100_000, "{summary}");
    assert!(summary.acknowledged.acks_1 > 100_000, "{summary}");
    assert!(summary.lost.acks_1 > 0, "faults must cost some acks=1 writes: {summary}");
    assert!(summary.unclean_elections > 0, "{summary}");
    assert!(summary.duplicates > 0, "retries without idempotence duplicate: {summary}");
}

/// Seeds that once found real bugs (kept as regression tests):
/// - 128: a broker that crashed before learning its partitions lost its kept storages;
/// - 521: an idempotent producer that took a new producer id re-sent an in-flight record
///   under the new id, duplicating it;
/// - 2877: a replica that led an epoch without appending kept reporting that epoch after it
///   became a follower, so it never converged (Kafka's `truncateTo` drops such epoch entries);
/// - 4066 (with compacted topics in the sweep): followers refused the offset gaps a compacted
///   leader's batches leave, stalled, and their committed prefix went stale;
/// - 6061: a follower whose last epoch predates every epoch of the new leader was not told it
///   diverged (KIP-101 `endOffsetFor` must answer "your epoch ends where mine start");
/// - 8282 (issue 13): a leader that derived its epoch cache from a compacted log after a
///   restart put the start of an epoch at its first surviving batch, past a compacted gap, and
///   so told a stale replica that the older epoch ran on through the gap: the stale tail stayed,
///   rejoined the ISR, and changed committed records when that replica led.
#[test]
fn seeds_that_found_bugs_stay_clean() {
    for seed in [128, 421, 521, 2877, 4066, 6061, 8282] {
        let run = run_seed(seed);
        assert!(run.report.violations.is_empty(), "seed {seed}: {:#?}", run.report.violations);
    }
}

#[test]
fn a_seed_reproduces_exactly() {
    let first = run_seed(42);
    let second = run_seed(42);
    assert_eq!(first, second);
    assert_ne!(first.trace_hash, run_seed(43).trace_hash);
}
