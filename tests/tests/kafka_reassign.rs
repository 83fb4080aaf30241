//! `kafka-reassign-partitions` (kafka-tools 4.4.0 from Maven; AlterPartitionReassignments and
//! ListPartitionReassignments, KIP-455) against three Apache Kafka 4.4 brokers and against
//! three Rill brokers, the same steps in the same test: a partition with records moves off
//! one of its brokers while it serves, `--verify` sees it complete and clears the (unset)
//! throttles, the records are all still there, and the tool's refusals read the same.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rill_tests::kafka::{run_kafka_tool, KafkaBroker};
use rill_tests::{compat, RillCluster};

const TITLE: &str = "kafka-reassign-partitions against three brokers (moving a replica live)";
const REASSIGN: &str = "org.apache.kafka.tools.reassign.ReassignPartitionsCommand";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs one of Kafka's tools; what it printed (stdout then stderr) and whether it succeeded.
fn run(class: &str, args: &[&str], input: Option<&str>) -> (String, bool) {
    let (stdout, stderr, ok) = run_kafka_tool(class, args, input.unwrap_or_default());
    (format!("{stdout}{stderr}"), ok)
}

/// The lines a tool printed that are not a stack trace or a log line.
fn said(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("at ") && !l.contains(" WARN ") && !l.contains(" INFO "))
        .map(str::to_owned)
        .collect()
}

/// A reassignment file for `moving-0`.
fn plan(dir: &Path, name: &str, replicas: &str) -> String {
    let file = dir.join(format!("{name}.json"));
    let json = format!(r#"{{"version":1,"partitions":[{{"topic":"moving","partition":0,"replicas":[{replicas}]}}]}}"#);
    std::fs::write(&file, json).expect("write a reassignment file");
    file.display().to_string()
}

/// `moving-0`'s Replicas, Isr and Leader from `kafka-topics --describe`, ids sorted for the ISR.
fn described(b: &str) -> String {
    let (text, ok) =
        run("org.apache.kafka.tools.TopicCommand", &["--bootstrap-server", b, "--describe", "--topic", "moving"], None);
    assert!(ok, "{text}");
    let line = text.lines().find(|l| l.contains("Partition: 0")).unwrap_or_default();
    let field = |name: &str| {
        line.split('\t')
            .find_map(|f| f.trim().strip_prefix(&format!("{name}: ")).map(str::to_owned))
            .unwrap_or_default()
    };
    let mut isr: Vec<String> = field("Isr").split(',').map(str::to_owned).collect();
    isr.sort();
    format!("Replicas: {} | Isr: {} | Leader: {}", field("Replicas"), isr.join(","), field("Leader"))
}

fn steps(b: &str) -> Vec<String> {
    let dir = temp_dir("reassign-plans");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut facts = Vec::new();
    // One partition on brokers 1 and 2, with 100 records.
    let (text, ok) = run(
        "org.apache.kafka.tools.TopicCommand",
        &["--bootstrap-server", b, "--create", "--topic", "moving", "--replica-assignment", "1:2"],
        None,
    );
    assert!(ok, "{text}");
    let records: String = (1..=100).map(|i| format!("record-{i}\n")).collect();
    let (text, ok) = run(
        "org.apache.kafka.tools.ConsoleProducer",
        &["--bootstrap-server", b, "--topic", "moving", "--producer-property", "acks=all"],
        Some(&records),
    );
    assert!(ok, "{text}");
    facts.push(format!("before: {}", described(b)));
    let (text, _) = run(REASSIGN, &["--bootstrap-server", b, "--list"], None);
    facts.push(format!("--list before: {}", said(&text).join(" / ")));

    // Refusals: the replication factor guard (KIP-860), a cancel with nothing to cancel.
    let grow = plan(&dir, "grow", "1,2,3");
    let (text, ok) = run(
        REASSIGN,
        &[
            "--bootstrap-server",
            b,
            "--reassignment-json-file",
            &grow,
            "--execute",
            "--disallow-replication-factor-change",
        ],
        None,
    );
    let refusal: Vec<String> = said(&text).into_iter().filter(|l| l.starts_with("moving-0")).collect();
    facts.push(format!("--execute growing with --disallow-replication-factor-change: ok={ok} {}", refusal.join(" / ")));
    let (text, ok) = run(REASSIGN, &["--bootstrap-server", b, "--reassignment-json-file", &grow, "--cancel"], None);
    let lines: Vec<String> = said(&text).into_iter().filter(|l| !l.starts_with("Current partition")).collect();
    facts.push(format!("--cancel with nothing under way: ok={ok} {}", lines.join(" / ")));

    // The move: [1, 2] to [3, 2], 1 leaves while the partition serves.
    let moved = plan(&dir, "move", "3,2");
    let (text, ok) = run(REASSIGN, &["--bootstrap-server", b, "--reassignment-json-file", &moved, "--execute"], None);
    let started: Vec<String> = said(&text).into_iter().filter(|l| l.starts_with("Successfully")).collect();
    facts.push(format!("--execute: ok={ok} {}", started.join(" / ")));
    let deadline = Instant::now() + Duration::from_secs(60);
    let verified = loop {
        let (text, ok) =
            run(REASSIGN, &["--bootstrap-server", b, "--reassignment-json-file", &moved, "--verify"], None);
        if text.contains("is completed") || Instant::now() > deadline {
            break format!("ok={ok} {}", said(&text).join(" / "));
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    facts.push(format!("--verify: {verified}"));
    facts.push(format!("after: {}", described(b)));
    let (text, _) = run(REASSIGN, &["--bootstrap-server", b, "--list"], None);
    facts.push(format!("--list after: {}", said(&text).join(" / ")));

    // Every record is still there, read from the new replicas.
    let (text, ok) = run(
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        &[
            "--bootstrap-server",
            b,
            "--topic",
            "moving",
            "--from-beginning",
            "--max-messages",
            "100",
            "--timeout-ms",
            "30000",
        ],
        None,
    );
    let read: Vec<&str> = text.lines().filter(|l| l.starts_with("record-")).collect();
    facts.push(format!("consumed after the move: ok={ok} {} records, last {:?}", read.len(), read.last()));

    // Broker 1 no longer holds the partition (kafka-log-dirs), 3 does.
    let holders = |broker: &str| {
        let (text, ok) = run(
            "org.apache.kafka.tools.LogDirsCommand",
            &["--bootstrap-server", b, "--describe", "--broker-list", broker, "--topic-list", "moving"],
            None,
        );
        assert!(ok, "{text}");
        text.contains("\"partition\":\"moving-0\"")
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while holders("1") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    facts.push(format!("kafka-log-dirs: broker 1 holds moving-0: {}, broker 3: {}", holders("1"), holders("3")));
    let _ = std::fs::remove_dir_all(&dir);
    facts
}

#[test]
fn kafka_reassign_partitions_moves_a_replica_on_rill_as_on_kafka() {
    let kafka = KafkaBroker::start_cluster(&temp_dir("reassign-kafka"), 3, &[]);
    let bootstrap: Vec<String> = kafka.iter().map(KafkaBroker::bootstrap).collect();
    let reference = steps(&bootstrap.join(","));
    compat::record("kafka-reassign", TITLE, "kafka", &reference);
    drop(kafka);
    let rill = RillCluster::start_with(&temp_dir("reassign-rill"), 3, &[]);
    let facts = steps(&rill.bootstrap());
    compat::record("kafka-reassign", TITLE, "rill-3", &facts);
    eprintln!("kafka-reassign-partitions against Rill:\n{}", facts.join("\n"));
    for (rill_fact, kafka_fact) in facts.iter().zip(&reference) {
        assert_eq!(rill_fact, kafka_fact, "three Rill brokers (left) and three Kafka brokers (right) differ");
    }
    assert_eq!(facts.len(), reference.len(), "Rill: {facts:#?}\nKafka: {reference:#?}");
    assert!(reference.iter().any(|f| f.contains("Reassignment of partition moving-0 is completed")), "{reference:#?}");
    assert!(reference.iter().any(|f| f.contains("100 records")), "{reference:#?}");
}
