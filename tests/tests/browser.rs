//! Browser tests: real headless Chromium (WebDriver) against pages served on 127.0.0.1.
//! Needs `www/pkg` (`./scripts/build-wasm.sh`) and Debian's chromium + chromium-driver.

use std::time::Duration;

use rill_core::sim::spec::{AcksSpec, ClusterSpec, ProduceSpec};
use rill_core::sim::{Fault, Sim};
use rill_tests::{repo_root, require_wasm_package, Browser, StaticServer};
use serde_json::Value;

fn open(page: &str) -> (StaticServer, Browser) {
    require_wasm_package();
    let server = StaticServer::start();
    let browser = Browser::start();
    browser.goto(&server.url(page));
    (server, browser)
}

/// Runs `tests/browser/scenario.json` natively, step for step as `parity.html` does in JS.
fn run_scenario_natively() -> Sim {
    let text = std::fs::read_to_string(repo_root().join("tests/browser/scenario.json")).unwrap();
    let scenario: Value = serde_json::from_str(&text).unwrap();
    let spec: ClusterSpec = serde_json::from_value(scenario["spec"].clone()).unwrap();
    let mut sim = Sim::from_spec(&spec).unwrap();
    sim.record_history();
    let broker = |value: &Value| i32::try_from(value.as_i64().unwrap()).unwrap();
    for step in scenario["steps"].as_array().unwrap() {
        let (name, arg) = step.as_object().unwrap().iter().next().unwrap();
        match name.as_str() {
            "runFor" => sim.run_for(arg.as_u64().unwrap()),
            "produceMany" => {
                let topic = arg["topic"].as_str().unwrap();
                let acks_text = match &arg["acks"] {
                    Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let acks: AcksSpec = serde_json::from_value(arg["acks"].clone()).unwrap();
                for i in 0..arg["count"].as_u64().unwrap() {
                    let spec = ProduceSpec {
                        topic: topic.to_owned(),
                        key: Some(format!("k{}", i % 7)),
                        value: Some(format!("{topic}-{acks_text}-{i}")),
                        acks: Some(acks.clone()),
                        partition: None,
                    };
                    sim.produce(&spec).unwrap();
                    sim.run_for(arg["everyMs"].as_u64().unwrap());
                }
            }
            "addConsumer" => {
                let topics: Vec<String> = serde_json::from_value(arg.clone()).unwrap();
                sim.add_consumer(&topics).unwrap();
            }
            "crash" => sim.act(Fault::Crash(broker(arg))).unwrap(),
            "restart" => sim.act(Fault::Restart(broker(arg))).unwrap(),
            "pause" => sim.act(Fault::Pause(broker(arg))).unwrap(),
            "resume" => sim.act(Fault::Resume(broker(arg))).unwrap(),
            "isolate" => sim.act(Fault::Isolate(broker(arg))).unwrap(),
            "reconnect" => sim.act(Fault::Reconnect(broker(arg))).unwrap(),
            "cutLink" => sim.act(Fault::CutLink { from: broker(&arg[0]), to: broker(&arg[1]) }).unwrap(),
            "healNetwork" => sim.act(Fault::HealNetwork).unwrap(),
            "finish" => {
                sim.finish(arg.as_u64().unwrap());
            }
            other => panic!("unknown step {other}"),
        }
    }
    sim
}

#[test]
fn browser_and_native_runs_have_the_same_trace_hash() {
    let native = run_scenario_natively();
    let (_server, browser) = open("/tests/parity.html");
    let result = browser.wait_for_result(Duration::from_secs(120));
    assert!(result.get("error").is_none(), "{result}");
    assert_eq!(result["traceHash"].as_str().unwrap(), format!("{:016x}", native.trace_hash()), "{result}");
    assert_eq!(result["events"].as_u64().unwrap(), native.events());
    assert_eq!(result["traceLength"].as_u64().unwrap(), native.trace().len() as u64);
    assert!(native.events() > 3_000, "the scenario does real work: {} events, {:?}", native.events(), native.report());
    assert_eq!(result["violations"].as_u64(), Some(0));
    // The Jepsen history too, op for op.
    let edn = native.history().unwrap().to_edn();
    assert!(edn.contains(":type :ok, :process") && edn.contains("[[:poll {"), "sends acknowledged and polls read");
    assert_eq!(result["historyEdn"].as_str().unwrap(), edn);
}

#[test]
fn embed_page_prints_what_happened() {
    let (_server, browser) = open("/embed.html");
    let result = browser.wait_for_result(Duration::from_secs(120));
    assert!(result.get("error").is_none(), "{result}");
    let acks1 = &result["acks1"];
    let acks_all = &result["acksAll"];
    assert!(
        acks1["lost"].as_u64().unwrap() >= 10,
        "acks=1 loses the writes made while followers were cut off: {result}"
    );
    assert_eq!(acks_all["lost"].as_u64(), Some(0), "{result}");
    assert!(acks_all["acked"].as_u64().unwrap() >= 20, "{result}");
    assert_eq!(acks1["liveLost"], acks1["lost"], "{result}");
    // Issue 17 (2): acks=0 losses are seen live too, not only by the end-of-run check.
    let acks0 = &result["acks0"];
    assert!(acks0["lost"].as_u64().unwrap() >= 10, "{result}");
    assert_eq!(acks0["liveLost"], acks0["lost"], "{result}");
    assert_ne!(acks1["leaderAfter"], acks1["leaderBefore"]);
    assert_eq!(acks1["epochAfter"].as_u64(), Some(1));
    let text = browser.eval("return document.getElementById('log').textContent;");
    let text = text.as_str().unwrap();
    assert!(text.contains("acks=1: leader") && text.contains("of them lost"), "{text}");
    let shots = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    browser.screenshot(&shots.join("embed.png"));
    assert!(std::fs::metadata(shots.join("embed.png")).unwrap().len() > 1_000);
}

#[test]
fn bad_input_from_js_throws_clear_errors_and_changes_nothing() {
    let (_server, browser) = open("/tests/bad-input.html");
    let result = browser.wait_for_result(Duration::from_secs(60));
    assert!(result.get("error").is_none(), "{result}");
    let expected = [
        ("negative partitions", "INVALID_PARTITIONS"),
        ("RF > brokers", "INVALID_REPLICATION_FACTOR"),
        ("malformed config", "INVALID_CONFIG"),
        ("unknown field", "INVALID_CONFIG"),
        ("bad broker config", "replica.lag.time.max.ms"),
        ("unknown broker id", "BROKER_ID_NOT_REGISTERED"),
        ("fractional broker id", "BROKER_ID_NOT_REGISTERED"),
        ("restart a running broker", "INVALID_REQUEST"),
        ("produce to unknown topic", "UNKNOWN_TOPIC_OR_PARTITION"),
        ("bad acks", "INVALID_REQUIRED_ACKS"),
        ("bad partition", "UNKNOWN_TOPIC_OR_PARTITION"),
        ("negative duration", "INVALID_REQUEST"),
        ("disk slower than a minute per write", "a slow disk waits at most 60000 ms per write"),
        ("history not recorded", "call recordHistory() before running"),
        ("history format", "use \"edn\" or \"json\""),
    ];
    let results = result["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for (got, (call, needle)) in results.iter().zip(expected) {
        assert_eq!(got["call"], call);
        let message = got["message"].as_str().unwrap_or_else(|| panic!("{call} did not throw"));
        assert!(message.contains(needle), "{call}: {message:?} should mention {needle}");
    }
    assert_eq!(result["unchanged"], Value::Bool(true), "rejected calls must leave the cluster unchanged");
    assert_eq!(result["goodAfterwards"], Value::Bool(true));
}
