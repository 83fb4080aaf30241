//! Kafka's Java client (kafka-clients 4.4) against what Rill does not serve yet: a transactional
//! producer must fail at once with Rill's reason, not retry `FindCoordinator` until
//! `max.block.ms` (60 s) runs out (issue 15).

use std::path::PathBuf;

use rill_tests::kafka::{java_client_steps, kafka_tool, KafkaBroker};
use rill_tests::{compat, RillBroker, RillCluster};

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

/// Issue 15: KIP-848's consumer group protocol (`group.protocol=consumer`) with Kafka's Java
/// client: a member consumes, commits and closes promptly; when a second member joins one that
/// owns every partition, the first revokes only the partitions that move (classic eager
/// rebalancing revokes all of them). The same steps against Kafka 4.4 and Rill, the same output.
#[test]
fn the_consumer_group_protocol_consumes_commits_and_rebalances_incrementally_as_on_kafka() {
    const TITLE: &str = "Consumer groups with the Java client (kafka-clients 4.4): classic and KIP-848";
    let steps: Vec<String> = [
        "create:kip848:4:1",
        "produce:kip848:none:40",
        "group:kip848:g-consumer:consumer:40",
        "group:kip848:g-classic:classic:40",
        "rebalance:kip848:r-consumer:consumer",
        "rebalance:kip848:r-classic:classic",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let facts = |out: String| -> Vec<String> {
        out.lines().filter(|l| l.starts_with("group ") || l.starts_with("rebalance ")).map(str::to_owned).collect()
    };
    let kafka = KafkaBroker::start(&temp_dir("kip848-kafka"), &[]);
    let mut reference = facts(java_client_steps(&kafka.bootstrap(), &steps));
    reference.extend(group_tool_facts(&kafka.bootstrap()));
    compat::record("java-groups", TITLE, "kafka", &reference);
    drop(kafka);
    let rill = RillBroker::start(&temp_dir("kip848-rill"));
    let mut seen = facts(java_client_steps(&rill.bootstrap(), &steps));
    seen.extend(group_tool_facts(&rill.bootstrap()));
    compat::record("java-groups", TITLE, "rill-1", &seen);
    assert_eq!(seen, reference, "Rill (left) and Kafka (right) differ");
    drop(rill);
    // Three Rill brokers, the topic with three replicas: the coordinator is wherever
    // `__consumer_offsets` puts the group.
    let cluster = RillCluster::start(&temp_dir("kip848-rill3"), 3);
    let three: Vec<String> = steps.iter().map(|s| s.replace("create:kip848:4:1", "create:kip848:4:3")).collect();
    let mut seen = facts(java_client_steps(&cluster.bootstrap(), &three));
    seen.extend(group_tool_facts(&cluster.bootstrap()));
    compat::record("java-groups", TITLE, "rill-3", &seen);
    assert_eq!(seen, reference, "three Rill brokers (left) and Kafka (right) differ");
    for fact in [
        "kafka-consumer-groups --list --type: g-consumer Consumer",
        "kafka-consumer-groups --describe --state: g-consumer uniform Empty 0",
        "group consumer consumed 40",
        "group consumer committed 40",
        "group consumer closed within 1 s: true",
        "rebalance consumer: first member had 4, kept 2, revoked 2; second member got 2",
        "rebalance classic: first member had 4, kept 2, revoked 4; second member got 2",
    ] {
        assert!(reference.iter().any(|f| f == fact), "Kafka: {fact:?} not in {reference:#?}");
    }
}

/// What `kafka-consumer-groups` says of the groups the steps left (their members closed): the
/// list with types (ListGroups v5), and the KIP-848 group described (ConsumerGroupDescribe and
/// its offsets), the coordinator's address left out.
fn group_tool_facts(bootstrap: &str) -> Vec<String> {
    let tool = |args: &[&str]| {
        let output = kafka_tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand")
            .args(["--bootstrap-server", bootstrap])
            .args(args)
            .output()
            .expect("run kafka-consumer-groups");
        assert!(output.status.success(), "kafka-consumer-groups {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut facts: Vec<String> = tool(&["--list", "--type"])
        .lines()
        .filter(|line| line.starts_with("g-") || line.starts_with("r-"))
        .map(|line| format!("kafka-consumer-groups --list --type: {}", words(line)))
        .collect();
    facts.sort();
    for line in tool(&["--describe", "--group", "g-consumer"]).lines().filter(|l| !l.trim().is_empty()) {
        facts.push(format!("kafka-consumer-groups --describe: {}", words(line)));
    }
    for line in tool(&["--describe", "--group", "g-consumer", "--state"]).lines().filter(|l| !l.trim().is_empty()) {
        // GROUP COORDINATOR (ID) ASSIGNMENT-STRATEGY STATE #MEMBERS: the coordinator varies.
        let mut columns: Vec<&str> = line.split_whitespace().collect();
        if columns.len() == 6 {
            columns.remove(1);
            columns.remove(1);
        }
        facts.push(format!("kafka-consumer-groups --describe --state: {}", columns.join(" ")));
    }
    facts
}
