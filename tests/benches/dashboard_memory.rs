//! The dashboard's memory over a long run under load (issue 17: "its memory must stay bounded
//! over a long run"): the load scenario (5 brokers, 12 partitions, RF 3, 1000 records/s) plays
//! at 1× in headless Chromium; each minute the page's WebAssembly memory and JavaScript heap
//! are read. The reference, measured in the same run, is the first minute's figure: bounded
//! means the last minute's ratio to it stays near 1 rather than growing with the run.
//! `cargo bench -p rill-tests --bench dashboard_memory` (10 minutes; `-- --minutes N` for
//! another length, `-- --quick` for a 20-second smoke run).
// A benchmark measures wall time and drives a browser; it is a host of core, not core itself.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::time::{Duration, Instant};

use rill_tests::{require_wasm_package, Browser, StaticServer};

const MIB: f64 = 1024.0 * 1024.0;

struct Sample {
    wall_s: f64,
    virtual_s: f64,
    wasm_bytes: f64,
    js_heap_bytes: f64,
    events: f64,
}

fn sample(browser: &Browser, started: Instant) -> Sample {
    let read = browser.eval(
        "return { wasm: window.rillWasmMemory?.buffer.byteLength ?? -1, \
                  heap: performance.memory?.usedJSHeapSize ?? -1, \
                  now: parseFloat(document.getElementById('now').textContent), \
                  events: parseFloat(document.getElementById('events').textContent) };",
    );
    let number = |key: &str| read[key].as_f64().unwrap_or_else(|| panic!("{key} in {read}"));
    Sample {
        wall_s: started.elapsed().as_secs_f64(),
        virtual_s: number("now"),
        wasm_bytes: number("wasm"),
        js_heap_bytes: number("heap"),
        events: number("events"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|arg| arg == "--quick");
    let minutes: u64 = args
        .iter()
        .position(|arg| arg == "--minutes")
        .and_then(|i| args.get(i + 1))
        .map_or(10, |m| m.parse().expect("--minutes takes a whole number"));
    let (interval, samples) = if quick { (Duration::from_secs(5), 4) } else { (Duration::from_secs(60), minutes) };
    require_wasm_package();
    let server = StaticServer::start();
    let browser = Browser::start();
    browser.goto(&server.url("/index.html#scenario=load&play=1"));
    browser.wait_until("return (window.rillFrames?.length ?? 0) > 30 || null;", Duration::from_secs(60));
    let started = Instant::now();
    let mut rows = Vec::new();
    for _ in 0..samples {
        std::thread::sleep(interval);
        let row = sample(&browser, started);
        assert!(row.wasm_bytes > 0.0, "the page exposes window.rillWasmMemory");
        rows.push(row);
    }
    let playing = browser.eval("return document.getElementById('play').textContent.trim();");
    assert_eq!(playing.as_str(), Some("Pause"), "the run was still playing at the end");
    println!(
        "dashboard memory, load scenario (5 brokers x 12 partitions, 1000 records/s) at 1x, sampled every {} s:",
        interval.as_secs()
    );
    println!("| wall s | virtual s | events | wasm memory MiB | JS heap MiB |");
    println!("|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {:.0} | {:.1} | {:.0} | {:.1} | {:.1} |",
            row.wall_s,
            row.virtual_s,
            row.events,
            row.wasm_bytes / MIB,
            row.js_heap_bytes / MIB
        );
    }
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    println!(
        "last / first sample: wasm memory {:.2}, JS heap {:.2}",
        last.wasm_bytes / first.wasm_bytes,
        last.js_heap_bytes / first.js_heap_bytes
    );
    if quick {
        // 20 s: the logs are still filling up to their retention, so memory still grows here.
        println!("(--quick is a smoke run: the bounded figure is the 10-minute run's, see BENCHMARKS.md)");
    }
}
