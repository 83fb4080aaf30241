//! Simulated events per second in WebAssembly (headless Chromium) next to native, in the same
//! run: prints the table BENCHMARKS.md records. Asserts only that both did the same work.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use rill_core::sim::spec::{AcksSpec, ClusterSpec, ProduceSpec, TopicSpec};
use rill_core::sim::Sim;
use rill_tests::{require_wasm_package, Browser, StaticServer};

const ITERATIONS: u64 = 3_000;

fn native() -> (u64, f64, String) {
    let spec = ClusterSpec {
        seed: 1,
        brokers: 3,
        topics: vec![TopicSpec {
            name: "bench".into(),
            partitions: 6,
            replication_factor: None,
            min_insync_replicas: 2,
            unclean_leader_election: false,
            configs: Default::default(),
        }],
        record_trace: false,
        ..ClusterSpec::default()
    };
    let mut sim = Sim::from_spec(&spec).unwrap();
    sim.run_for(100);
    let before = sim.events();
    let started = Instant::now();
    for i in 0..ITERATIONS {
        for j in 0..3 {
            let spec = ProduceSpec {
                topic: "bench".into(),
                key: Some(format!("k{}", (i * 3 + j) % 64)),
                value: Some(format!("v{i}-{j}")),
                acks: Some(AcksSpec::Text("all".into())),
                partition: None,
            };
            sim.produce(&spec).unwrap();
        }
        sim.run_for(1);
    }
    let elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0;
    (sim.events() - before, elapsed_ms, format!("{:016x}", sim.trace_hash()))
}

#[test]
fn wasm_versus_native_events_per_second() {
    require_wasm_package();
    let (native_events, native_ms, native_hash) = native();
    let server = StaticServer::start();
    let browser = Browser::start();
    browser.goto(&server.url(&format!("/tests/bench.html?iterations={ITERATIONS}")));
    let result = browser.wait_for_result(Duration::from_secs(300));
    assert!(result.get("error").is_none(), "{result}");
    let wasm_events = result["events"].as_u64().unwrap();
    let wasm_ms = result["elapsedMs"].as_f64().unwrap();
    assert_eq!(wasm_events, native_events, "both ran the same simulation");
    assert_eq!(result["traceHash"].as_str().unwrap(), native_hash);
    let native_rate = native_events as f64 / native_ms * 1_000.0;
    let wasm_rate = wasm_events as f64 / wasm_ms * 1_000.0;
    println!("| build | events | wall ms | events/s |");
    println!("|---|---:|---:|---:|");
    println!("| native | {native_events} | {native_ms:.0} | {native_rate:.0} |");
    println!("| wasm (Chromium) | {wasm_events} | {wasm_ms:.0} | {wasm_rate:.0} |");
    println!("wasm/native ratio: {:.3}", wasm_rate / native_rate);
}
