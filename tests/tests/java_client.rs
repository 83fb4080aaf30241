//! Kafka's Java client (kafka-clients 4.4) against what Rill does not serve yet: a transactional
//! producer must fail at once with Rill's reason, not retry `FindCoordinator` until
//! `max.block.ms` (60 s) runs out (issue 15).

use std::path::PathBuf;

use rill_tests::kafka::java_client_steps;
use rill_tests::RillBroker;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn a_transactional_producer_is_refused_with_a_reason() {
    let broker = RillBroker::start(&temp_dir("java-txn"));
    let out = java_client_steps(&broker.bootstrap(), &["create:txn:1:1".into(), "transactional:txn".into()]);
    let line = out.lines().find(|line| line.starts_with("transaction ")).unwrap_or_default();
    assert!(line.starts_with("transaction failed: org.apache.kafka.common.KafkaException"), "{out}");
    assert!(line.contains("Rill does not support transactions (transactional.id) yet"), "{out}");
    assert!(!line.contains("Timeout"), "the producer waited out max.block.ms: {out}");
}
