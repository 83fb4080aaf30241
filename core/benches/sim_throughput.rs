//! Simulation speed: events per second and replicated records per second (RF=3, acks=all),
//! printed as a table. `cargo bench -p rill-core --bench sim_throughput` (`-- --quick`).
//!
//! Reference measured in the same run: a `BinaryHeap` push+pop loop, the event-queue work
//! every simulated event needs at least, so the ratio says how much each event costs beyond it.
// A benchmark measures wall time; it is a host of core, not core itself.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::Instant;

use rill_core::protocol::Acks;
use rill_core::sim::{ProducerSpec, Sim, SimConfig};
use rill_core::topic::NewTopic;

struct Row {
    name: &'static str,
    events: u64,
    acked: u64,
    seconds: f64,
}

fn run(name: &'static str, virtual_ms: u64, record_trace: bool, checked_consumer: bool) -> Row {
    let topic = NewTopic::new("bench", 6, 3).config("min.insync.replicas", "2");
    let mut config = SimConfig::new(1, 3, topic);
    config.record_trace = record_trace;
    for _ in 0..3 {
        let mut producer = ProducerSpec::new("bench", Acks::All, 1, virtual_ms);
        // Non-idempotent: one request per record with up to one per record in flight. Rill's
        // idempotent producer keeps one request per partition in flight and does not batch,
        // so at 1000 records/s it would measure its own queue, not the simulation.
        producer.config.enable_idempotence = false;
        config.producers.push(producer);
    }
    if checked_consumer {
        config.consumers.push(vec!["bench".to_owned()]);
    }
    let mut sim = Sim::new(config).expect("valid config");
    let started = Instant::now();
    sim.run_until(virtual_ms + 1_000);
    let seconds = started.elapsed().as_secs_f64();
    let report = sim.report();
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    Row { name, events: sim.events(), acked: report.acknowledged.acks_all, seconds }
}

fn heap_reference(operations: u64) -> f64 {
    let started = Instant::now();
    let mut heap = BinaryHeap::new();
    let mut state = 1u64;
    for index in 0..operations {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        heap.push((state >> 40, index));
        if heap.len() > 64 {
            black_box(heap.pop());
        }
    }
    operations as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let virtual_ms = if quick { 3_000 } else { 30_000 };
    let reference = heap_reference(if quick { 1_000_000 } else { 20_000_000 });
    println!("Simulated cluster: 3 brokers, 6 partitions, RF=3, min.insync.replicas=2, 3 producers acks=all at 1000 records/s each");
    println!("{:<44} {:>12} {:>14} {:>18} {:>10}", "case", "events", "events/s", "replicated rec/s", "vs heap");
    for row in [
        run("hash-only trace, no consumer", virtual_ms, false, false),
        run("hash-only trace + checked consumer", virtual_ms, false, true),
        run("full trace kept + checked consumer", virtual_ms, true, true),
    ] {
        let events_per_s = row.events as f64 / row.seconds;
        println!(
            "{:<44} {:>12} {:>14.0} {:>18.0} {:>10.3}",
            row.name,
            row.events,
            events_per_s,
            row.acked as f64 / row.seconds,
            events_per_s / reference
        );
    }
    println!("{:<44} {:>12} {:>14.0}", "reference: BinaryHeap push+pop", "", reference);
}
