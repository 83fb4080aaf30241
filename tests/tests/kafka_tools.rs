//! Kafka's own command-line tools (kafka-tools 4.4 from Maven, run as their classes) against
//! Apache Kafka 4.4 and against one Rill broker, the same steps in the same test: each step's
//! facts (what the tool printed, reduced to what does not depend on ids, timing or host) must
//! be the same on both (issue 15: `kafka-topics --describe` and `kafka-configs --describe`
//! used to fail against Rill).
//!
//! Known differences, normalised away and named here: Kafka's DescribeConfigs lists its KIP-966
//! cluster-wide `min.insync.replicas` among the synonyms, Rill's does not (no cluster-level
//! configs).

use std::collections::BTreeSet;
use std::path::PathBuf;

use rill_tests::kafka::{kafka_tool, run_kafka_tool, KafkaBroker};
use rill_tests::{compat, RillBroker, RillCluster};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Runs one of Kafka's tools (its class) with `args`, `input` on stdin; its stdout.
fn tool(class: &str, args: &[&str], input: &str) -> String {
    let (stdout, stderr, ok) = run_kafka_tool(class, args, input);
    assert!(ok, "{class} {args:?} failed:\n{stdout}\n{stderr}");
    stdout
}

/// Runs one of Kafka's tools that may fail (a refusal is what the step checks); what it
/// printed, stdout then stderr.
fn tool_said(class: &str, args: &[&str]) -> String {
    let output = kafka_tool(class).args(args).output().expect("run a Kafka tool");
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The fields of a `key: value<TAB>key: value` line (kafka-topics --describe).
fn fields(line: &str) -> Vec<(String, String)> {
    line.split('\t')
        .filter_map(|field| field.split_once(": ").or_else(|| field.strip_suffix(':').map(|k| (k, ""))))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The steps against a cluster at `b` whose topics get `replication_factor` replicas. Which
/// broker leads what differs between runs (placement starts at a random broker, in Kafka as in
/// Rill): the facts name replica sets sorted and whether the leader is one of them.
/// The topic configs Rill serves (its `TopicConfig`).
const SERVED_TOPIC_CONFIGS: &[&str] = &[
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "flush.messages",
    "flush.ms",
    "max.message.bytes",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.insync.replicas",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// A `kafka-configs` line without the cluster-wide `min.insync.replicas` that Kafka's
/// controller sets for KIP-966 (`DYNAMIC_DEFAULT_BROKER_CONFIG`); Rill has no cluster-level
/// configs.
fn without_cluster_min_isr(line: &str) -> String {
    line.replace("DYNAMIC_DEFAULT_BROKER_CONFIG:min.insync.replicas=1, ", "")
}

/// The topic defaults Kafka's stock `server.properties` sets (`log.retention.hours`,
/// `log.segment.bytes`, …; not `log.dirs`): Rill is given the same, so both report them as
/// `STATIC_BROKER_CONFIG` synonyms.
fn stock_log_configs() -> Vec<String> {
    let text = std::fs::read_to_string(rill_tests::repo_root().join("tests/kafka/server.properties"))
        .expect("Kafka's stock server.properties");
    text.lines()
        .map(str::trim)
        .filter(|line| line.starts_with("log.") && !line.starts_with("log.dirs="))
        .map(str::to_owned)
        .collect()
}

fn steps(b: &str, replication_factor: i16) -> Vec<String> {
    let rf = replication_factor.to_string();
    let mut facts = Vec::new();

    // kafka-topics --create / --list / --describe
    let created = tool(
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            b,
            "--create",
            "--topic",
            "tools",
            "--partitions",
            "3",
            "--replication-factor",
            &rf,
            "--config",
            "retention.ms=3600000",
        ],
        "",
    );
    facts.push(format!("kafka-topics --create: {}", created.trim()));
    let listed = tool("org.apache.kafka.tools.TopicCommand", &["--bootstrap-server", b, "--list"], "");
    facts.push(format!("kafka-topics --list has tools: {}", listed.lines().any(|l| l.trim() == "tools")));
    let described =
        tool("org.apache.kafka.tools.TopicCommand", &["--bootstrap-server", b, "--describe", "--topic", "tools"], "");
    for line in described.lines().filter(|l| l.contains("Topic: tools")) {
        let kept: Vec<String> = fields(line)
            .into_iter()
            .filter(|(k, _)| k != "TopicId")
            .map(|(k, v)| {
                if k == "Configs" {
                    // The topic's own override; Kafka adds broker-level ones (see above).
                    let own: Vec<&str> = v.split(',').filter(|c| c.starts_with("retention.ms=")).collect();
                    format!("{k}: {}", own.join(","))
                } else if k == "Replicas" || k == "Isr" {
                    let mut ids: Vec<&str> = v.split(',').collect();
                    ids.sort_unstable();
                    format!("{k}: {}", ids.join(","))
                } else if k == "Leader" {
                    let replicas = fields(line).into_iter().find(|(k, _)| k == "Replicas").map(|(_, v)| v);
                    let among = replicas.is_some_and(|r| r.split(',').any(|id| id == v));
                    format!("Leader is a replica: {among}")
                } else {
                    format!("{k}: {v}")
                }
            })
            .collect();
        facts.push(format!("kafka-topics --describe: {}", kept.join(" | ")));
    }

    // kafka-configs --describe (a topic's dynamic configs)
    let configs = tool(
        "org.apache.kafka.tools.ConfigCommand",
        &["--bootstrap-server", b, "--describe", "--entity-type", "topics", "--entity-name", "tools"],
        "",
    );
    for line in configs.lines() {
        let line = line.trim();
        if line.starts_with("Dynamic configs") || line.contains(" synonyms=") {
            facts.push(format!("kafka-configs: {line}"));
        }
    }
    // kafka-configs --describe --all: each value with its source's synonyms (KIP-226), for the
    // topic configs Rill serves.
    let all = tool(
        "org.apache.kafka.tools.ConfigCommand",
        &["--bootstrap-server", b, "--describe", "--all", "--entity-type", "topics", "--entity-name", "tools"],
        "",
    );
    for line in all.lines().map(str::trim) {
        let Some((key, _)) = line.split_once('=') else { continue };
        if SERVED_TOPIC_CONFIGS.contains(&key) {
            facts.push(format!("kafka-configs --all: {}", without_cluster_min_isr(line)));
        }
    }

    // console producer and consumer (keyed: the Java partitioner puts each key where Kafka does)
    let input: String = (0..30).map(|i| format!("key-{i}:value-{i}\n")).collect();
    tool(
        "org.apache.kafka.tools.ConsoleProducer",
        &["--bootstrap-server", b, "--topic", "tools", "--property", "parse.key=true", "--property", "key.separator=:"],
        &input,
    );
    let consumed = tool(
        "org.apache.kafka.tools.consumer.ConsoleConsumer",
        &[
            "--bootstrap-server",
            b,
            "--topic",
            "tools",
            "--group",
            "tools-group",
            "--from-beginning",
            "--max-messages",
            "30",
            "--property",
            "print.key=true",
            "--property",
            "print.partition=true",
            "--property",
            "key.separator=:",
        ],
        "",
    );
    let records: BTreeSet<&str> = consumed.lines().filter(|l| l.contains("key-")).collect();
    facts.push(format!("console consumer read (partition, key, value): {records:?}"));

    // kafka-log-dirs --describe (DescribeLogDirs): each partition of `tools` on broker 1, with
    // data in those the keys went to (the path and byte counts differ between the two).
    let dirs = tool(
        "org.apache.kafka.tools.LogDirsCommand",
        &["--bootstrap-server", b, "--describe", "--topic-list", "tools"],
        "",
    );
    let json: serde_json::Value = dirs.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or_default();
    for broker in json["brokers"].as_array().into_iter().flatten() {
        for dir in broker["logDirs"].as_array().into_iter().flatten() {
            let mut partitions: Vec<String> = dir["partitions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    format!(
                        "{} has data: {}, offsetLag {}, isFuture {}",
                        p["partition"],
                        p["size"].as_i64().unwrap_or(0) > 0,
                        p["offsetLag"],
                        p["isFuture"]
                    )
                })
                .collect();
            partitions.sort();
            facts.push(format!("kafka-log-dirs: broker {} error {}: {partitions:?}", broker["broker"], dir["error"]));
        }
    }

    // kafka-cluster cluster-id / list-endpoints (DescribeCluster; host and port differ)
    let id = tool("org.apache.kafka.tools.ClusterTool", &["cluster-id", "--bootstrap-server", b], "");
    facts.push(format!(
        "kafka-cluster cluster-id prints one: {}",
        id.trim().strip_prefix("Cluster ID: ").is_some_and(|id| !id.is_empty())
    ));
    let endpoints = tool("org.apache.kafka.tools.ClusterTool", &["list-endpoints", "--bootstrap-server", b], "");
    for line in endpoints.lines() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if let [id, _host, _port, rack, state, kind] = columns.as_slice() {
            facts.push(format!("kafka-cluster list-endpoints: {id} {rack} {state} {kind}"));
        }
    }

    // kafka-consumer-groups --list / --describe (the console consumer's committed offsets)
    let groups =
        tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", &["--bootstrap-server", b, "--list"], "");
    facts.push(format!(
        "kafka-consumer-groups --list has tools-group: {}",
        groups.lines().any(|l| l.trim() == "tools-group")
    ));
    let group = tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        &["--bootstrap-server", b, "--describe", "--group", "tools-group"],
        "",
    );
    for line in group.lines().filter(|l| l.starts_with("tools-group") || l.contains("no active members")) {
        // GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG (then member columns, '-').
        let columns: Vec<&str> = line.split_whitespace().take(6).collect();
        facts.push(format!("kafka-consumer-groups --describe: {}", columns.join(" ")));
    }

    // kafka-consumer-groups --delete-offsets (OffsetDelete): partition 0's offset goes, the
    // others stay; an unknown group is refused.
    let groups_tool = "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand";
    for group in ["tools-group", "nope"] {
        let text = tool_said(
            groups_tool,
            &["--bootstrap-server", b, "--delete-offsets", "--group", group, "--topic", "tools:0"],
        );
        let said: Vec<String> = text
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with("at "))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        facts.push(format!("kafka-consumer-groups --delete-offsets --group {group}: {}", said.join(" / ")));
    }
    let group = tool(groups_tool, &["--bootstrap-server", b, "--describe", "--group", "tools-group"], "");
    let partitions: Vec<&str> =
        group.lines().filter(|l| l.starts_with("tools-group")).filter_map(|l| l.split_whitespace().nth(2)).collect();
    facts.push(format!("after --delete-offsets, offsets kept for partitions: {partitions:?}"));

    // kafka-consumer-groups --delete (DeleteGroups): the group and its offsets are gone
    let deleted = tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        &["--bootstrap-server", b, "--delete", "--group", "tools-group"],
        "",
    );
    facts.push(format!("kafka-consumer-groups --delete: {}", deleted.trim()));
    let groups =
        tool("org.apache.kafka.tools.consumer.group.ConsumerGroupCommand", &["--bootstrap-server", b, "--list"], "");
    facts
        .push(format!("after --delete, --list has tools-group: {}", groups.lines().any(|l| l.trim() == "tools-group")));

    // producer and consumer perf tests
    let perf = tool(
        "org.apache.kafka.tools.ProducerPerformance",
        &[
            "--topic",
            "perf",
            "--num-records",
            "20000",
            "--record-size",
            "100",
            "--throughput",
            "-1",
            "--producer-props",
            &format!("bootstrap.servers={b}"),
            "acks=all",
        ],
        "",
    );
    let summary = perf.lines().last().unwrap_or_default();
    facts.push(format!("producer perf test: {}", summary.split(" records sent").next().unwrap_or_default()));
    let perf = tool(
        "org.apache.kafka.tools.ConsumerPerformance",
        &["--bootstrap-server", b, "--topic", "perf", "--messages", "20000", "--timeout", "60000"],
        "",
    );
    // The CSV line: start, end, MB, MB/s, nMsg, nMsg/s, ...
    let data = perf.lines().last().unwrap_or_default();
    facts.push(format!("consumer perf test messages: {}", data.split(", ").nth(4).unwrap_or_default()));

    // verifiable producer and consumer (JSON events)
    let produced = tool(
        "org.apache.kafka.tools.VerifiableProducer",
        &["--bootstrap-server", b, "--topic", "verifiable", "--max-messages", "200", "--acks", "-1"],
        "",
    );
    facts.push(format!("verifiable producer successes: {}", produced.matches("\"producer_send_success\"").count()));
    facts.push(format!("verifiable producer shut down: {}", produced.contains("\"shutdown_complete\"")));
    let consumed = tool(
        "org.apache.kafka.tools.VerifiableConsumer",
        &["--bootstrap-server", b, "--topic", "verifiable", "--group-id", "verifiable-group", "--max-messages", "200"],
        "",
    );
    let count: u64 = consumed
        .lines()
        .filter(|l| l.contains("\"records_consumed\""))
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["count"].as_u64())
        .sum();
    facts.push(format!("verifiable consumer consumed: {count}"));
    facts.push(format!("verifiable consumer committed: {}", consumed.contains("\"offsets_committed\"")));
    facts.push(format!("verifiable consumer shut down: {}", consumed.contains("\"shutdown_complete\"")));

    // kafka-delete-records (DeleteRecords, KIP-107): the log start moves, the earliest offset
    // follows; beyond the high watermark is refused; -1 means the high watermark.
    let dir = std::env::temp_dir().join(format!("rill-delete-records-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for offset in ["50", "100000", "-1"] {
        let file = dir.join(format!("delete-{offset}.json"));
        let json =
            format!(r#"{{"partitions":[{{"topic":"verifiable","partition":0,"offset":{offset}}}],"version":1}}"#);
        std::fs::write(&file, json).expect("offsets file");
        let said = tool_said(
            "org.apache.kafka.tools.DeleteRecordsCommand",
            &["--bootstrap-server", b, "--offset-json-file", &file.display().to_string()],
        );
        let outcome = said.lines().find(|l| l.starts_with("partition: ")).unwrap_or_default();
        // An error line names the exception and Kafka's own words; keep the exception.
        let outcome = outcome.split(": ").take(3).collect::<Vec<_>>().join(": ");
        facts.push(format!("kafka-delete-records offset {offset}: {}", outcome.replace('\t', " ")));
        let earliest = tool(
            "org.apache.kafka.tools.GetOffsetShell",
            &["--bootstrap-server", b, "--topic", "verifiable", "--time", "-2"],
            "",
        );
        facts.push(format!("kafka-get-offsets --time -2 after it: {}", earliest.trim()));
    }
    let _ = std::fs::remove_dir_all(&dir);

    // kafka-transactions describe-producers (DescribeProducers): the perf test's idempotent
    // producer on the partition's leader (its id and timestamp differ between runs).
    let described = tool(
        "org.apache.kafka.tools.TransactionsCommand",
        &["--bootstrap-server", b, "describe-producers", "--topic", "perf", "--partition", "0"],
        "",
    );
    for line in described.lines() {
        let columns: Vec<&str> = line.split_whitespace().collect();
        if let [_id, epoch, coordinator_epoch, last_sequence, _timestamp, txn_start] = columns.as_slice() {
            facts.push(format!(
                "kafka-transactions describe-producers: {epoch} {coordinator_epoch} {last_sequence} {txn_start}"
            ));
        }
    }

    // kafka-topics --alter --partitions (CreatePartitions): more is added, fewer is refused.
    let topics = "org.apache.kafka.tools.TopicCommand";
    tool(topics, &["--bootstrap-server", b, "--alter", "--topic", "tools", "--partitions", "5"], "");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let count = loop {
        let described = tool(topics, &["--bootstrap-server", b, "--describe", "--topic", "tools"], "");
        let count = described.lines().filter(|l| l.contains("Partition: ")).count();
        if count == 5 || std::time::Instant::now() > deadline {
            break count;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    facts.push(format!("kafka-topics --alter --partitions 5: {count} partitions"));
    let text = tool_said(topics, &["--bootstrap-server", b, "--alter", "--topic", "tools", "--partitions", "2"]);
    let reason = text.lines().find(|l| l.contains("Error while executing")).unwrap_or_default().trim().to_owned();
    facts.push(format!("kafka-topics --alter --partitions 2: {reason}"));

    // kafka-configs --alter (IncrementalAlterConfigs): add, delete, and bad keys and values.
    let configs = "org.apache.kafka.tools.ConfigCommand";
    let topic = ["--bootstrap-server", b, "--entity-type", "topics", "--entity-name", "tools"];
    let alter = |change: &[&str]| {
        let text = tool_said(configs, &[&topic[..], &["--alter"], change].concat());
        let said = text.lines().find(|l| l.starts_with("Completed") || l.starts_with("Caused by"));
        said.unwrap_or_default().trim().to_owned()
    };
    let dynamic = || {
        let described = tool(configs, &[&topic[..], &["--describe"]].concat(), "");
        let lines: Vec<String> = described
            .lines()
            .filter(|l| l.starts_with("  "))
            .map(|l| l.split(" sensitive=").next().unwrap_or_default().trim().to_owned())
            .collect();
        lines.join(", ")
    };
    facts.push(format!(
        "kafka-configs --add-config: {}",
        alter(&["--add-config", "retention.ms=7200000,cleanup.policy=compact"])
    ));
    facts.push(format!("kafka-configs --describe after --add-config: {}", dynamic()));
    facts.push(format!("kafka-configs --delete-config: {}", alter(&["--delete-config", "retention.ms"])));
    facts.push(format!("kafka-configs --describe after --delete-config: {}", dynamic()));
    facts.push(format!("kafka-configs unknown key: {}", alter(&["--add-config", "retention.mss=5"])));
    facts.push(format!("kafka-configs bad value: {}", alter(&["--add-config", "retention.ms=abc"])));

    // kafka-leader-election (ElectLeaders): one broker leads everything it should already.
    for args in [
        &["--election-type", "PREFERRED", "--all-topic-partitions"][..],
        &["--election-type", "PREFERRED", "--topic", "tools", "--partition", "0"],
        &["--election-type", "UNCLEAN", "--topic", "tools", "--partition", "1"],
        &["--election-type", "PREFERRED", "--topic", "nope", "--partition", "0"],
    ] {
        let text =
            tool_said("org.apache.kafka.tools.LeaderElectionCommand", &[&["--bootstrap-server", b], args].concat());
        let said: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("at ")).map(str::trim).collect();
        facts.push(format!("kafka-leader-election {}: {}", args.join(" "), said.join(" / ")));
    }
    facts
}

const API_TITLE: &str = "The APIs each broker serves (kafka-broker-api-versions: versions usable by the 4.4 client)";

/// `kafka-broker-api-versions`: each API the 4.4 client knows, and the versions it can use
/// with this broker (or `UNSUPPORTED`).
fn api_versions(bootstrap: &str) -> Vec<String> {
    let listed = tool("org.apache.kafka.tools.BrokerApiVersionsCommand", &["--bootstrap-server", bootstrap], "");
    listed
        .lines()
        .filter_map(|line| {
            let line = line.trim().trim_end_matches(',');
            let (api, versions) = line.split_once("): ")?;
            let name = api.split('(').next()?;
            let usable = versions.split("[usable: ").nth(1).map_or(versions, |u| u.trim_end_matches(']'));
            Some(format!("{name}: {}", if versions == "UNSUPPORTED" { "unsupported" } else { usable }))
        })
        .collect()
}

#[test]
fn kafkas_command_line_tools_see_rill_as_they_see_kafka() {
    const TITLE: &str = "Kafka's command-line tools (kafka-tools 4.4.0 from Maven)";
    let kafka = KafkaBroker::start(&temp_dir("tools-kafka"), &[]);
    let reference = steps(&kafka.bootstrap(), 1);
    compat::record("kafka-tools", TITLE, "kafka", &reference);
    compat::record("kafka-apis", API_TITLE, "kafka", &api_versions(&kafka.bootstrap()));
    drop(kafka);
    let sets: Vec<String> = stock_log_configs().into_iter().flat_map(|pair| ["--set".to_owned(), pair]).collect();
    let rill = RillBroker::start_with(&temp_dir("tools-rill"), &sets.iter().map(String::as_str).collect::<Vec<_>>());
    let facts = steps(&rill.bootstrap(), 1);
    compat::record("kafka-tools", TITLE, "rill-1", &facts);
    compat::record("kafka-apis", API_TITLE, "rill-1", &api_versions(&rill.bootstrap()));
    eprintln!("Kafka's tools against Rill:\n{}", facts.join("\n"));
    for (rill_fact, kafka_fact) in facts.iter().zip(&reference) {
        assert_eq!(rill_fact, kafka_fact, "Rill (left) and Kafka (right) differ");
    }
    assert_eq!(facts.len(), reference.len(), "Rill: {facts:#?}\nKafka: {reference:#?}");
    assert!(reference.iter().any(|f| f.contains("consumed: 200")), "{reference:#?}");
}

#[test]
fn kafkas_command_line_tools_see_three_rill_brokers_as_three_kafka_brokers() {
    const TITLE: &str = "Kafka's command-line tools against three brokers (topics with 3 replicas)";
    let kafka = KafkaBroker::start_cluster(&temp_dir("tools3-kafka"), 3, &[]);
    let bootstrap: Vec<String> = kafka.iter().map(KafkaBroker::bootstrap).collect();
    let reference = steps(&bootstrap.join(","), 3);
    compat::record("kafka-tools-3", TITLE, "kafka", &reference);
    drop(kafka);
    let stock = stock_log_configs();
    let rill =
        RillCluster::start_with(&temp_dir("tools3-rill"), 3, &stock.iter().map(String::as_str).collect::<Vec<_>>());
    let facts = steps(&rill.bootstrap(), 3);
    compat::record("kafka-tools-3", TITLE, "rill-3", &facts);
    for (rill_fact, kafka_fact) in facts.iter().zip(&reference) {
        assert_eq!(rill_fact, kafka_fact, "three Rill brokers (left) and three Kafka brokers (right) differ");
    }
    assert_eq!(facts.len(), reference.len(), "Rill: {facts:#?}\nKafka: {reference:#?}");
    assert!(reference.iter().any(|f| f.contains("list-endpoints: 3 null unfenced broker")), "{reference:#?}");
}

/// DeleteGroups writes tombstones to `__consumer_offsets`: a deleted group stays deleted when
/// the broker restarts and loads the log again (Rill only: Kafka is the reference above).
#[test]
fn a_deleted_group_stays_deleted_after_a_restart() {
    let mut rill = RillBroker::start(&temp_dir("tools-delete"));
    let b = rill.bootstrap();
    let input: String = (0..5).map(|i| format!("value-{i}\n")).collect();
    tool("org.apache.kafka.tools.ConsoleProducer", &["--bootstrap-server", &b, "--topic", "kept"], &input);
    for group in ["deleted-group", "kept-group"] {
        tool(
            "org.apache.kafka.tools.consumer.ConsoleConsumer",
            &["--bootstrap-server", &b, "--topic", "kept", "--group", group, "--from-beginning", "--max-messages", "5"],
            "",
        );
    }
    tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        &["--bootstrap-server", &b, "--delete", "--group", "deleted-group"],
        "",
    );
    rill.kill();
    rill.restart();
    // The coordinator loads `__consumer_offsets` once the restarted broker leads it again.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let groups = loop {
        let groups = tool(
            "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
            &["--bootstrap-server", &b, "--list"],
            "",
        );
        if groups.lines().any(|l| l.trim() == "kept-group") || std::time::Instant::now() > deadline {
            break groups;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let listed: BTreeSet<&str> = groups.lines().map(str::trim).collect();
    assert!(listed.contains("kept-group") && !listed.contains("deleted-group"), "{groups}");
    let kept = tool(
        "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
        &["--bootstrap-server", &b, "--describe", "--group", "kept-group"],
        "",
    );
    assert!(kept.lines().any(|l| l.starts_with("kept-group") && l.split_whitespace().nth(3) == Some("5")), "{kept}");
}

/// `kafka-metadata-quorum --describe --status`'s keys and the voters it lists.
fn quorum_status(bootstrap: &str) -> (Vec<String>, String) {
    let status = tool(
        "org.apache.kafka.tools.MetadataQuorumCommand",
        &["--bootstrap-server", bootstrap, "describe", "--status"],
        "",
    );
    let keys = status.lines().filter_map(|line| line.split_once(':').map(|(key, _)| key.trim().to_owned())).collect();
    let voters = status.lines().find(|line| line.starts_with("CurrentVoters:")).unwrap_or_default().to_owned();
    (keys, voters)
}

/// Issue 16: Kafka's `kafka-metadata-quorum` describes Rill's controller quorum as it describes
/// Kafka's — the same fields — and sees all three voters and a leader of a 3-node Rill cluster.
#[test]
fn kafka_metadata_quorum_describes_rills_quorum() {
    let kafka = KafkaBroker::start(&temp_dir("quorum-kafka"), &[]);
    let (kafka_keys, kafka_voters) = quorum_status(&kafka.bootstrap());
    drop(kafka);
    assert!(kafka_voters.contains("\"id\": 1"), "{kafka_voters}");
    let dir = temp_dir("quorum-rill");
    let cluster =
        RillCluster::start_with(&dir, 3, &["controller.quorum.voters=1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3"]);
    let bootstrap = cluster.brokers[2].bootstrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (keys, voters) = loop {
        let output = kafka_tool("org.apache.kafka.tools.MetadataQuorumCommand")
            .args(["--bootstrap-server", &bootstrap, "describe", "--status"])
            .output()
            .expect("run the tool");
        if output.status.success() {
            break quorum_status(&bootstrap);
        }
        assert!(std::time::Instant::now() < deadline, "no quorum leader: {}", String::from_utf8_lossy(&output.stderr));
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    assert_eq!(keys, kafka_keys, "the same fields as Kafka's");
    for id in 1..=3 {
        assert!(voters.contains(&format!("\"id\": {id}")), "voter {id} in {voters}");
    }
    let replication = tool(
        "org.apache.kafka.tools.MetadataQuorumCommand",
        &["--bootstrap-server", &bootstrap, "describe", "--replication"],
        "",
    );
    let statuses: Vec<&str> = replication.lines().skip(1).filter_map(|line| line.split_whitespace().last()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == "Leader").count(), 1, "{replication}");
    assert_eq!(statuses.iter().filter(|s| **s == "Follower").count(), 2, "{replication}");

    // kafka-configs --alter through each broker: a broker that is not the active controller
    // forwards the change; every broker then describes the same value.
    tool(
        "org.apache.kafka.tools.TopicCommand",
        &[
            "--bootstrap-server",
            &bootstrap,
            "--create",
            "--topic",
            "spread",
            "--partitions",
            "3",
            "--replication-factor",
            "3",
        ],
        "",
    );
    for (broker, retention) in cluster.brokers.iter().zip(["1000001", "1000002", "1000003"]) {
        let b = broker.bootstrap();
        let topic = ["--bootstrap-server", b.as_str(), "--entity-type", "topics", "--entity-name", "spread"];
        let said = tool(
            "org.apache.kafka.tools.ConfigCommand",
            &[&topic[..], &["--alter", "--add-config", &format!("retention.ms={retention}")]].concat(),
            "",
        );
        assert!(said.contains("Completed updating config for topic spread."), "{said}");
        for other in &cluster.brokers {
            let b = other.bootstrap();
            let described = tool(
                "org.apache.kafka.tools.ConfigCommand",
                &["--bootstrap-server", &b, "--describe", "--entity-type", "topics", "--entity-name", "spread"],
                "",
            );
            assert!(described.contains(&format!("retention.ms={retention} ")), "{b}: {described}");
        }
    }
}

/// KIP-853: `kafka-metadata-quorum remove-controller` against a quorum whose voters are the
/// static `controller.quorum.voters` (Kafka's `kraft.version` 0) — Kafka 4.4 formatted that way,
/// then Rill, whose voters are always static — fails with the same exception and words.
#[test]
fn a_static_quorum_refuses_to_remove_a_controller_as_kafka_does() {
    let remove = |bootstrap: &str| {
        let (out, err, ok) = run_kafka_tool(
            "org.apache.kafka.tools.MetadataQuorumCommand",
            &["--bootstrap-server", bootstrap, "remove-controller", "--controller-id", "1"]
                .into_iter()
                .chain(["--controller-directory-id", "AAAAAAAAAAAAAAAAAAAAAQ"])
                .collect::<Vec<_>>(),
            "",
        );
        assert!(!ok, "remove-controller succeeded: {out}");
        let said = format!("{out}{err}");
        said.lines().next().unwrap_or_default().to_owned()
    };
    let kafka = KafkaBroker::start_static(&temp_dir("static-quorum-kafka"));
    let kafka_said = remove(&kafka.bootstrap());
    drop(kafka);
    assert_eq!(
        kafka_said,
        "org.apache.kafka.common.errors.UnsupportedVersionException: Cluster doesn't support removing voter because \
         the kraft.version feature is 0"
    );
    let rill = RillBroker::start(&temp_dir("static-quorum-rill"));
    assert_eq!(remove(&rill.bootstrap()), kafka_said, "Rill (left) and Kafka (right) differ");
}
