//! The dashboard's memory over a long run (issue 17): the reducer (`State`: the simulation,
//! its recording, the view, the event log, the metrics) driven like the page drives it — one
//! `Tick` per 100 ms frame at 1× — through 10 minutes of the "load" run (5 brokers, 12
//! partitions RF 3, 1,000 acks=1 records/s). The process's resident memory is printed every
//! simulated minute; the first minute is the reference.
//!
//! `cargo bench -p rill-dashboard --bench memory` (`-- --minutes N` for a shorter run;
//! `-- --no-retention` for the reference: the same run with Kafka's default retention, where
//! nothing is deleted within 10 minutes).

use std::rc::Rc;

use rill_core::sim::session::Action as SimAction;
use rill_dashboard::scenarios;
use rill_dashboard::state::{Action, State};
use yew::Reducible;

/// Resident set size of this process (Linux `/proc/self/status`), in bytes.
fn resident_bytes() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kb: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kb * 1_024.0
}

fn main() {
    let minutes: u64 =
        std::env::args().skip_while(|arg| arg != "--minutes").nth(1).and_then(|m| m.parse().ok()).unwrap_or(10);
    let no_retention = std::env::args().any(|arg| arg == "--no-retention");
    let mut spec = scenarios::load_spec();
    if no_retention {
        spec.topics[0].configs.clear();
    }
    let mut state = Rc::new(State::initial());
    state = state.reduce(Action::Configure(spec, false));
    state = state.reduce(Action::Do(SimAction::StartProducer(scenarios::load_workload())));
    state = state.reduce(Action::SetPlaying(true));
    let start = std::time::Instant::now();
    let retention = if no_retention { "Kafka's default retention (7 days)" } else { "retention.bytes=262144" };
    println!("dashboard state memory, \"load\" run at 1x with {retention}, one Tick per 100 ms frame:");
    println!("| simulated minute | resident MB | vs minute 1 | acknowledged records | events |");
    println!("|---:|---:|---:|---:|---:|");
    let mut wall_ms = 0.0;
    let mut first = None;
    for minute in 1..=minutes {
        for _ in 0..600 {
            wall_ms += 100.0;
            state = state.reduce(Action::Tick(wall_ms));
        }
        let bytes = resident_bytes();
        let first_bytes = *first.get_or_insert(bytes);
        let acked = &state.view.snapshot.report.acknowledged;
        println!(
            "| {minute} | {:.1} | {:.2}× | {} | {} |",
            bytes / 1e6,
            bytes / first_bytes,
            acked.acks_0 + acked.acks_1 + acked.acks_all,
            state.events()
        );
        assert!(state.error.is_none(), "{:?}", state.error);
    }
    println!(
        "({minutes} simulated minutes in {:.1} s of wall time; speed stayed {}×)",
        start.elapsed().as_secs_f64(),
        state.speed
    );
}
