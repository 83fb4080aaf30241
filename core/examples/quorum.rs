//! The metadata quorum's seed sweep: random runs of 1, 3 or 5 controllers (plus observers)
//! under kills, pauses, partitions and message loss — half of them adding and removing voters
//! (KIP-853) as they go — checked for Raft's safety properties and
//! for a working leader after heal (`rill_core::raft::sim`).
//!
//! ```sh
//! cargo run --release -p rill-core --example quorum -- --seeds 10000
//! cargo run --release -p rill-core --example quorum -- --trace 42      # one seed, every step
//! ```
//!
//! Exits 1 when any seed broke an invariant, naming the seed and the command that replays it.
// A command-line host of the core may read the clock to report its own speed.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Instant;

use rill_core::raft::sim::{random_quorum_config, run_quorum_seed, QuorumSim};

const USAGE: &str = "usage: quorum [--seeds N] [--first SEED] | --trace SEED";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mut seeds, mut first, mut trace) = (1_000_u64, 0_u64, None);
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let value = match flag.as_str() {
            "--seeds" | "--first" | "--trace" => match iter.next().map(|text| text.parse::<u64>()) {
                Some(Ok(value)) => value,
                _ => {
                    eprintln!("{flag} takes a whole number\n{USAGE}");
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("unknown argument {flag:?}\n{USAGE}");
                return ExitCode::from(2);
            }
        };
        match flag.as_str() {
            "--seeds" => seeds = value,
            "--first" => first = value,
            _ => trace = Some(value),
        }
    }
    if let Some(seed) = trace {
        let config = random_quorum_config(seed);
        println!("seed {seed}: {config:#?}");
        let report = QuorumSim::new(config).traced().run();
        for line in &report.trace {
            println!("{line}");
        }
        println!(
            "\nseed {seed}: {} steps, {} elections, {} committed, trace hash {:016x}; {} violation(s)",
            report.events,
            report.elections,
            report.committed,
            report.trace_hash,
            report.violations.len()
        );
        for violation in &report.violations {
            println!("  {violation}");
        }
        return if report.violations.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE };
    }
    let started = Instant::now();
    let (mut steps, mut elections, mut committed) = (0_u64, 0_usize, 0_usize);
    let (mut snapshots, mut snapshot_loads, mut voter_changes) = (0_usize, 0_u64, 0_u64);
    let mut failures = Vec::new();
    for seed in first..first.saturating_add(seeds) {
        match std::panic::catch_unwind(|| run_quorum_seed(seed)) {
            Ok(report) => {
                steps += report.events;
                elections += report.elections;
                committed += report.committed;
                snapshots += report.snapshots;
                snapshot_loads += report.snapshot_loads;
                voter_changes += report.voter_changes;
                if let Some(first) = report.violations.first() {
                    failures.push(format!("seed {seed}: {} violation(s), first: {first}", report.violations.len()));
                }
            }
            Err(_) => failures.push(format!("seed {seed}: a replica's own assertion failed (see above)")),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "quorum seeds {first}..{}: {seeds} runs, {} failed, {steps} steps, {elections} elections, \
         {committed} entries committed, {snapshots} snapshots taken, {snapshot_loads} fetched by a replica \
         behind the leader's log start, {voter_changes} voter changes (KIP-853), in {seconds:.1} s",
        first + seeds,
        failures.len()
    );
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    for line in &failures {
        println!("  {line}");
    }
    println!("replay one: cargo run --release -p rill-core --example quorum -- --trace SEED");
    ExitCode::FAILURE
}
