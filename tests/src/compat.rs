//! The compatibility matrix's raw material: each suite that runs the same client steps against
//! Apache Kafka 4.4 and against Rill records what it saw (`record`), and `compat-matrix`
//! (`cargo run -p rill-tests --bin compat-matrix`) turns the records into
//! `docs/compatibility.md`. Records live in `target/compat/`, one file per suite and target.

use std::path::PathBuf;

use serde_json::{json, Value};

use crate::repo_root;

/// Where the records go.
#[must_use]
pub fn dir() -> PathBuf {
    repo_root().join("target/compat")
}

/// Records what `suite` saw on `target` (`kafka`, `rill-1`, `rill-3`): one `label: value` fact
/// per step. `title` says what the suite runs.
pub fn record(suite: &str, title: &str, target: &str, facts: &[String]) {
    std::fs::create_dir_all(dir()).expect("create target/compat");
    let record = json!({ "suite": suite, "title": title, "target": target, "facts": facts });
    let path = dir().join(format!("{suite}--{target}.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(&record).expect("json")).expect("write a compat record");
}

/// Every record, sorted by suite then target.
#[must_use]
pub fn records() -> Vec<Value> {
    let mut records: Vec<Value> = std::fs::read_dir(dir())
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .filter_map(|e| serde_json::from_slice(&std::fs::read(e.path()).ok()?).ok())
                .collect()
        })
        .unwrap_or_default();
    records.sort_by_key(|r| {
        (r["suite"].as_str().unwrap_or_default().to_owned(), r["target"].as_str().unwrap_or_default().to_owned())
    });
    records
}
