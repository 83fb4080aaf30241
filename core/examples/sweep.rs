//! The seed sweep: many random fault schedules against the simulated cluster, checked by the
//! invariant checkers (`rill_core::sim::sweep`).
//!
//! ```sh
//! cargo run --release -p rill-core --example sweep -- --seeds 20000            # seeds 0..20000
//! cargo run --release -p rill-core --example sweep -- --seeds 1000 --first 5000 --threads 2
//! cargo run --release -p rill-core --example sweep -- --trace 8282             # one seed's story
//! ```
//!
//! A sweep prints a progress bar on stderr, then the summary table (the one BENCHMARKS.md
//! records) and every failing seed with the command that replays it; it exits 1 when any
//! invariant broke. `--trace SEED` replays one seed and prints its configuration, faults and
//! story (elections, ISR changes, truncations, violations; `--all` adds every message).
// A command-line host of the core may read the clock to report its own speed, and spawn threads.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rill_core::sim::sweep::{random_config, run_seed, SweepSummary, FAULT_PHASE_MS, SETTLE_MS};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::Sim;

const USAGE: &str = "usage: sweep [--seeds N] [--first SEED] [--threads T] | --trace SEED [--all]";

struct Options {
    seeds: u64,
    first: u64,
    threads: u64,
    trace: Option<u64>,
    all: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let cores = std::thread::available_parallelism().map_or(1, |n| u64::try_from(n.get()).unwrap_or(1));
    let mut options = Options { seeds: 500, first: 0, threads: cores, trace: None, all: false };
    let mut iter = args.iter();
    while let Some(flag) = iter.next() {
        let mut number = |name: &str| -> Result<u64, String> {
            let text = iter.next().ok_or_else(|| format!("{name} takes a number"))?;
            text.parse().map_err(|_| format!("{name} takes a whole number, got {text:?}"))
        };
        match flag.as_str() {
            "--seeds" => options.seeds = number("--seeds")?,
            "--first" => options.first = number("--first")?,
            "--threads" => options.threads = number("--threads")?.max(1),
            "--trace" => options.trace = Some(number("--trace")?),
            "--all" => options.all = true,
            "-h" | "--help" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match options.trace {
        Some(seed) => story(seed, options.all),
        None => sweep(&options),
    }
}

/// Replays one seed and prints what happened, in plain words.
fn story(seed: u64, all: bool) -> ExitCode {
    let mut config = random_config(seed);
    config.record_trace = true;
    println!("seed {seed}: {} brokers, controller quorum on brokers {:?}", config.brokers, config.voters());
    for topic in &config.topics {
        let settings: Vec<String> = topic.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        println!(
            "  topic {}: {} partition(s), RF {}, {}",
            topic.name,
            topic.partitions,
            topic.replication_factor,
            settings.join(", ")
        );
    }
    for producer in &config.producers {
        println!(
            "  producer: acks={} every {} ms, {} records, idempotent {}",
            producer.config.acks.wire(),
            producer.interval_ms,
            producer.records,
            producer.config.enable_idempotence
        );
    }
    println!(
        "  network: latency {}-{} ms, {} drops per million; {} group member(s)",
        config.network.latency_min_ms,
        config.network.latency_max_ms,
        config.network.drop_per_million,
        config.group_consumers.len()
    );
    println!("  faults:");
    for fault in &config.faults {
        println!("    {:>6} ms  {}", fault.at_ms, fault.fault);
    }
    println!("\nstory ({} ms of faults, then {} ms to settle):", FAULT_PHASE_MS, SETTLE_MS);
    let mut sim = match Sim::new(config) {
        Ok(sim) => sim,
        Err(error) => {
            eprintln!("seed {seed}: invalid configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    sim.run_until(FAULT_PHASE_MS);
    let summary = sim.finish(SETTLE_MS);
    for event in sim.trace() {
        let chatty = matches!(
            event.kind,
            TraceKind::Sent { .. }
                | TraceKind::Delivered { .. }
                | TraceKind::Consumed { .. }
                | TraceKind::Produced { .. }
        );
        if all || !chatty {
            println!("{event}");
        }
    }
    let report = &summary.report;
    println!(
        "\nseed {seed}: {} events, trace hash {:016x}; acknowledged acks=0/1/all {}/{}/{}, lost {}/{}/{}; {} violation(s)",
        summary.events,
        summary.trace_hash,
        report.acknowledged.acks_0,
        report.acknowledged.acks_1,
        report.acknowledged.acks_all,
        report.lost.acks_0,
        report.lost.acks_1,
        report.lost.acks_all,
        report.violations.len()
    );
    for violation in &report.violations {
        println!(
            "  {} at event {} (t={} ms): {}",
            violation.invariant, violation.event_index, violation.time_ms, violation.detail
        );
    }
    if report.violations.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs seeds `first..first + seeds` on `threads` threads; the summary does not depend on
/// the thread count (each run is deterministic and the totals are sums).
fn sweep(options: &Options) -> ExitCode {
    let started = Instant::now();
    let next = AtomicU64::new(options.first);
    let done = AtomicU64::new(0);
    let end = options.first.saturating_add(options.seeds);
    let total = Mutex::new(SweepSummary::default());
    let failures = Mutex::new(Vec::new());
    let progress = Progress::new(options.seeds);
    std::thread::scope(|scope| {
        for _ in 0..options.threads.min(options.seeds.max(1)) {
            scope.spawn(|| {
                let mut mine = SweepSummary::default();
                loop {
                    let seed = next.fetch_add(1, Ordering::Relaxed);
                    if seed >= end {
                        break;
                    }
                    let run = run_seed(seed);
                    if let Some(violation) = run.report.violations.first() {
                        let line = format!(
                            "seed {seed}: {} violation(s), first: {} at event {} (t={} ms): {}",
                            run.report.violations.len(),
                            violation.invariant,
                            violation.event_index,
                            violation.time_ms,
                            violation.detail
                        );
                        failures.lock().expect("no panics while held").push((seed, line));
                    }
                    mine.add(&run);
                    let finished = done.fetch_add(1, Ordering::Relaxed) + 1;
                    let failed = failures.lock().expect("no panics while held").len();
                    progress.show(finished, failed, started);
                }
                total.lock().expect("no panics while held").merge(mine);
            });
        }
    });
    progress.finish();
    let summary = total.into_inner().expect("threads are done");
    let mut failures = failures.into_inner().expect("threads are done");
    failures.sort();
    let seconds = started.elapsed().as_secs_f64();
    println!("{summary}");
    println!(
        "seeds {}..{}: {} seeds, {} events in {seconds:.1} s on {} thread(s) ({:.0} events/s)",
        options.first,
        end,
        summary.runs,
        summary.events,
        options.threads,
        summary.events as f64 / seconds
    );
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    println!("\nfailing seeds:");
    for (seed, line) in &failures {
        println!("  {line}");
        println!("    replay: cargo run --release -p rill-core --example sweep -- --trace {seed}");
    }
    ExitCode::FAILURE
}

/// A one-line progress bar on stderr (redrawn in place on a terminal, every 5% otherwise).
struct Progress {
    total: u64,
    terminal: bool,
    last_shown: Mutex<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        Progress { total, terminal: std::io::stderr().is_terminal(), last_shown: Mutex::new(0) }
    }

    fn show(&self, done: u64, failed: usize, started: Instant) {
        let step = if self.terminal { (self.total / 200).max(1) } else { (self.total / 20).max(1) };
        let mut last = self.last_shown.lock().expect("no panics while held");
        if done < self.total && done < *last + step {
            return;
        }
        *last = done;
        let fraction = done as f64 / self.total.max(1) as f64;
        let width = 30;
        let filled = (fraction * f64::from(width)).round() as usize;
        let elapsed = started.elapsed().as_secs_f64();
        let eta = if done == 0 { 0.0 } else { elapsed / done as f64 * (self.total - done) as f64 };
        let line = format!(
            "[{}{}] {done}/{} seeds, {failed} failed, {elapsed:.0} s elapsed, ~{eta:.0} s left",
            "#".repeat(filled),
            "-".repeat(usize::try_from(width).unwrap_or(30) - filled.min(30)),
            self.total
        );
        let mut stderr = std::io::stderr().lock();
        let _ = if self.terminal { write!(stderr, "\r{line}") } else { writeln!(stderr, "{line}") };
        let _ = stderr.flush();
    }

    fn finish(&self) {
        if self.terminal {
            eprintln!();
        }
    }
}
