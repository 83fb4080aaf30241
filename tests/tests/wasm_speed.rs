//! Simulated events per second in WebAssembly (headless Chromium) next to native, in the same
//! run: prints the table BENCHMARKS.md records. Asserts only that both did the same work.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use rill_core::sim::spec::ClusterSpec;
use rill_core::sim::Sim;
use rill_tests::{require_wasm_package, Browser, StaticServer};

const VIRTUAL_MS: u64 = 10_000;

fn native() -> (u64, f64, String) {
    let producer = serde_json::json!({ "topic": "bench", "acks": "all", "intervalMs": 1, "records": VIRTUAL_MS, "enableIdempotence": false });
    let spec: ClusterSpec = serde_json::from_value(serde_json::json!({
        "seed": 1, "brokers": 3, "recordTrace": false,
        "topics": [{ "name": "bench", "partitions": 6, "minInsyncReplicas": 2 }],
        "producers": [producer.clone(), producer.clone(), producer],
    }))
    .unwrap();
    let mut sim = Sim::from_spec(&spec).unwrap();
    let before = sim.events();
    let started = Instant::now();
    sim.run_for(VIRTUAL_MS);
    let elapsed_ms = started.elapsed().as_secs_f64() * 1_000.0;
    (sim.events() - before, elapsed_ms, format!("{:016x}", sim.trace_hash()))
}

#[test]
fn wasm_versus_native_events_per_second() {
    require_wasm_package();
    let (native_events, native_ms, native_hash) = native();
    let server = StaticServer::start();
    let browser = Browser::start();
    browser.goto(&server.url(&format!("/tests/bench.html?virtualMs={VIRTUAL_MS}")));
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
