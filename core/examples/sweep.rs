//! Seed sweep: `cargo run --release -p rill-core --example sweep -- --seeds 10000 [--first 0]`.
//! Prints a summary table and the first failing seed; exits 1 if any invariant broke.
// A command-line host of core may read the clock to report its own speed.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::process::ExitCode;
use std::time::Instant;

use rill_core::sim::sweep::{random_config, run_seed, SweepSummary, FAULT_PHASE_MS, SETTLE_MS};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::Sim;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str, default: u64| -> u64 {
        args.iter()
            .position(|arg| arg == name)
            .and_then(|index| args.get(index + 1))
            .map_or(default, |text| text.parse().unwrap_or_else(|_| panic!("{name} takes a number, got {text:?}")))
    };
    if args.iter().any(|arg| arg == "--trace") {
        // Replays one seed and prints its trace without per-message lines.
        let seed = value("--trace", 0);
        let mut config = random_config(seed);
        config.record_trace = true;
        println!("{config:#?}");
        let mut sim = Sim::new(config).expect("valid");
        sim.run_until(FAULT_PHASE_MS);
        let summary = sim.finish(SETTLE_MS);
        for event in sim.trace() {
            if !matches!(
                event.kind,
                TraceKind::Sent { .. }
                    | TraceKind::Delivered { .. }
                    | TraceKind::Consumed { .. }
                    | TraceKind::Produced { .. }
            ) {
                println!("{event}");
            }
        }
        println!("{summary:#?}");
        return ExitCode::SUCCESS;
    }
    let seeds = value("--seeds", 500);
    let first = value("--first", 0);
    let started = Instant::now();
    let mut summary = SweepSummary::default();
    for seed in first..first + seeds {
        let run = run_seed(seed);
        if let Some(violation) = run.report.violations.first() {
            eprintln!("seed {seed}: {} at event {}: {}", violation.invariant, violation.event_index, violation.detail);
        }
        summary.add(&run);
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{summary}");
    println!(
        "{} seeds, {} events in {seconds:.1} s ({:.0} events/s)",
        summary.runs,
        summary.events,
        summary.events as f64 / seconds
    );
    if summary.failed_runs == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
