//! The native broker with real, unmodified Kafka clients over real TCP on 127.0.0.1: kcat
//! (librdkafka), confluent-kafka, kafka-python and kafkajs; `kill -9` under acks=all load;
//! recovery of a torn log tail; bad frames and a protocol fuzz smoke test. Each test starts and
//! stops its own `rill broker` process. Clients come from `scripts/setup.sh`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rill_tests::{repo_root, rill_binary, RillBroker, RillCluster};
use serde_json::Value;

fn tool(path: &str) -> PathBuf {
    let path = repo_root().join(path);
    assert!(path.exists(), "{} is missing: run ./scripts/setup.sh", path.display());
    path
}

fn run(command: &mut Command) -> Output {
    command.output().expect("run a client")
}

fn ok(command: &mut Command) -> String {
    let output = run(command);
    assert!(
        output.status.success(),
        "{command:?} failed: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Where clients connect: one broker, or a three-node cluster (RF 3, min.insync.replicas 2).
trait Target {
    fn bootstrap(&self) -> String;
    /// The node that hosts the controller (topic changes go there).
    fn controller(&self) -> String;
    fn replication_factor(&self) -> i16;
}

impl Target for RillBroker {
    fn bootstrap(&self) -> String {
        RillBroker::bootstrap(self)
    }
    fn controller(&self) -> String {
        RillBroker::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        1
    }
}

impl Target for RillCluster {
    fn bootstrap(&self) -> String {
        RillCluster::bootstrap(self)
    }
    fn controller(&self) -> String {
        self.brokers[0].bootstrap()
    }
    fn replication_factor(&self) -> i16 {
        3
    }
}

fn kcat(broker: &impl Target) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", &broker.bootstrap(), "-X", "socket.timeout.ms=20000"]);
    command
}

fn create_topic(broker: &impl Target, topic: &str, partitions: i32) {
    let rf = broker.replication_factor();
    let min_isr = if rf >= 3 { 2 } else { 1 };
    // A broker that just (re)started is fenced until it has caught up with the metadata
    // (its next heartbeat, broker.heartbeat.interval.ms): retry like an admin client would.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let output = run(Command::new(rill_binary()).args([
            "topics",
            "create",
            "--bootstrap-server",
            &broker.controller(),
            "--topic",
            topic,
            "--partitions",
            &partitions.to_string(),
            "--replication-factor",
            &rf.to_string(),
            "--config",
            &format!("min.insync.replicas={min_isr}"),
        ]));
        let stderr = String::from_utf8_lossy(&output.stderr);
        if output.status.success() {
            assert!(String::from_utf8_lossy(&output.stdout).contains(&format!("Created topic {topic}")));
            return;
        }
        // Retriable, as for an admin client: brokers still registering, a quorum still electing
        // (a broker that forwards the request answers REQUEST_TIMED_OUT when no controller
        // did, as Kafka's forwarding does).
        let retriable = ["INVALID_REPLICATION_FACTOR", "NOT_CONTROLLER", "REQUEST_TIMED_OUT"]
            .iter()
            .any(|retriable| stderr.contains(retriable));
        assert!(retriable && Instant::now() < deadline, "creating {topic} failed: {stderr}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn produce_with_kcat(broker: &impl Target, topic: &str, lines: &str) {
    let mut child = kcat(broker)
        .args(["-P", "-t", topic, "-K:", "-X", "acks=all"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat -P");
    child.stdin.take().unwrap().write_all(lines.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "kcat -P: {}", String::from_utf8_lossy(&output.stderr));
}

/// (partition, offset, key) of every record, read with kcat from the start to the end.
fn read_all(broker: &impl Target, topic: &str) -> Vec<(i32, i64, String)> {
    read_all_from(&broker.bootstrap(), topic)
}

/// (partition, offset, key) of every record, read with kcat from the start to the end.
fn read_all_from(bootstrap: &str, topic: &str) -> Vec<(i32, i64, String)> {
    let out = ok(Command::new("kcat").args(["-b", bootstrap, "-X", "socket.timeout.ms=20000"]).args([
        "-C",
        "-t",
        topic,
        "-e",
        "-q",
        "-f",
        "%p %o %k\\n",
    ]));
    out.lines()
        .map(|line| {
            let mut fields = line.splitn(3, ' ');
            (
                fields.next().unwrap().parse().unwrap(),
                fields.next().unwrap().parse().unwrap(),
                fields.next().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn kcat_with_one_broker() {
    let mut broker = RillBroker::start(&temp_dir("kcat"));
    let metadata = ok(kcat(&broker).args(["-L"]));
    assert!(metadata.contains(&format!("broker 1 at 127.0.0.1:{} (controller)", broker.port)), "{metadata}");
    kcat_lists_produces_consumes_and_commits_with_a_group(&broker, &broker);
    assert!(broker.is_running());
}

#[test]
fn kcat_with_three_brokers() {
    let cluster = RillCluster::start(&temp_dir("kcat3"), 3);
    // A broker is listed once it has registered with the controller (its first heartbeat
    // after start): on a busy machine that can come after its port opens.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let metadata = ok(kcat(&cluster).args(["-L"]));
        if metadata.contains(" 3 brokers:") {
            break;
        }
        assert!(Instant::now() < deadline, "three brokers never listed: {metadata}");
        std::thread::sleep(Duration::from_millis(200));
    }
    kcat_lists_produces_consumes_and_commits_with_a_group(&cluster, &cluster.brokers[0]);
    let describe = ok(Command::new(rill_binary()).args([
        "topics",
        "describe",
        "--bootstrap-server",
        &cluster.controller(),
        "--topic",
        "orders",
    ]));
    assert_eq!(describe.matches("Isr: ").count(), 3, "{describe}");
    for line in describe.lines().filter(|l| l.contains("Isr: ")) {
        let isr = line.rsplit("Isr: ").next().unwrap();
        assert_eq!(isr.split(',').count(), 3, "every replica in sync: {line}");
    }
}

/// OffsetForLeaderEpoch (KIP-320), as a consumer asks it after a leader change: where an epoch
/// ends in the leader's log, and the fencing of a stale or future current epoch.
#[test]
fn offset_for_leader_epoch_answers_where_an_epoch_ends() {
    use kafka_protocol::messages::offset_for_leader_epoch_request::{OffsetForLeaderPartition, OffsetForLeaderTopic};
    use kafka_protocol::messages::{
        ApiKey, BrokerId, OffsetForLeaderEpochRequest, RequestKind, ResponseKind, TopicName,
    };
    use kafka_protocol::protocol::StrBytes;
    let broker = RillBroker::start(&temp_dir("epochs"));
    create_topic(&broker, "orders", 1);
    produce_with_kcat(&broker, "orders", "a:1\nb:2\nc:3\n");
    let mut client = rill_broker::admin_client::AdminClient::connect(&broker.bootstrap()).expect("connect");
    let ask = |client: &mut rill_broker::admin_client::AdminClient, topic: &str, current: i32, epoch: i32| {
        let mut partition = OffsetForLeaderPartition::default();
        partition.current_leader_epoch = current;
        partition.leader_epoch = epoch;
        let mut asked = OffsetForLeaderTopic::default();
        asked.topic = TopicName(StrBytes::from_string(topic.to_owned()));
        asked.partitions = vec![partition];
        let mut request = OffsetForLeaderEpochRequest::default();
        request.replica_id = BrokerId(-1);
        request.topics = vec![asked];
        match client.call(ApiKey::OffsetForLeaderEpoch, 4, &RequestKind::OffsetForLeaderEpoch(request)) {
            Ok(ResponseKind::OffsetForLeaderEpoch(response)) => {
                let answer = &response.topics[0].partitions[0];
                (answer.error_code, answer.leader_epoch, answer.end_offset)
            }
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(ask(&mut client, "orders", 0, 0), (0, 0, 3), "epoch 0 ends at the log end");
    assert_eq!(ask(&mut client, "orders", -1, 1), (0, -1, -1), "a newer epoch than the leader's is unknown");
    assert_eq!(ask(&mut client, "orders", 4, 0).0, 75, "UNKNOWN_LEADER_EPOCH: the client is ahead");
    assert_eq!(ask(&mut client, "nope", -1, 0).0, 3, "UNKNOWN_TOPIC_OR_PARTITION");
}

fn kcat_lists_produces_consumes_and_commits_with_a_group(target: &impl Target, observed: &RillBroker) {
    let broker = target;
    create_topic(broker, "orders", 3);
    let lines: String = (0..500).map(|i| format!("k{i}:value-{i}\n")).collect();
    produce_with_kcat(broker, "orders", &lines);
    let records = read_all(broker, "orders");
    assert_eq!(records.len(), 500);
    // murmur2 keyed partitioning: each key in exactly one partition, offsets dense per partition.
    let mut per_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for (partition, offset, _) in &records {
        per_partition.entry(*partition).or_default().push(*offset);
    }
    assert_eq!(per_partition.len(), 3);
    for offsets in per_partition.values() {
        assert_eq!(*offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
    }
    // A group consumer reads everything and commits; run again, it starts after the commit.
    let group = |args: &[&str]| {
        let out = run(kcat(broker)
            .args(["-G", "billing", "orders", "-e", "-q", "-f", "%k\\n", "-X", "auto.offset.reset=earliest"])
            .args(args));
        String::from_utf8_lossy(&out.stdout).lines().count()
    };
    assert_eq!(group(&[]), 500);
    produce_with_kcat(broker, "orders", "late:one\n");
    assert_eq!(group(&[]), 1, "only the record after the committed offsets");
    let describe = ok(Command::new(rill_binary()).args([
        "topics",
        "describe",
        "--bootstrap-server",
        &broker.controller(),
        "--topic",
        "orders",
    ]));
    assert!(describe.contains("Partition: 2\tLeader: "), "{describe}");
    // Observability.
    let metrics = observed.metrics();
    for line in [
        "rill_request_latency_seconds_count{api=\"Metadata\"}",
        "kafka_server_brokertopicmetrics_bytesin_total",
        "kafka_server_replicamanager_underreplicatedpartitions 0",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    if broker.replication_factor() > 1 {
        // The group's coordinator may be any node; lag and listing are checked on one broker.
        return;
    }
    let groups = ok(Command::new(rill_binary()).args(["groups", "list", "--bootstrap-server", &observed.bootstrap()]));
    assert!(groups.contains("billing"), "{groups}");
    produce_with_kcat(broker, "orders", "lagging:one\n");
    let lag = (0..40)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            let metrics = observed.metrics();
            metrics
                .lines()
                .find(|l| l.starts_with("kafka_consumergroup_lag{consumergroup=\"billing\"") && l.ends_with(" 1"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| panic!("no lag of 1 for billing:\n{}", observed.metrics()));
    assert!(lag.contains("topic=\"orders\""), "{lag}");
}

fn python(broker: &impl Target, topic: &str, client: &str, count: u64) -> Value {
    let out = ok(Command::new(tool(".venv/bin/python")).args([
        repo_root().join("tests/clients/python_clients.py").to_str().unwrap(),
        &broker.bootstrap(),
        topic,
        client,
        &count.to_string(),
    ]));
    last_json_line(&out)
}

/// The JSON summary a client script prints as its last line.
fn last_json_line(out: &str) -> Value {
    serde_json::from_str(out.lines().last().unwrap_or_default()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn confluent_kafka_with_one_broker() {
    confluent_kafka_idempotent_producer_and_a_three_member_group(&RillBroker::start(&temp_dir("confluent")));
}

#[test]
fn confluent_kafka_with_three_brokers() {
    confluent_kafka_idempotent_producer_and_a_three_member_group(&RillCluster::start(&temp_dir("confluent3"), 3));
}

fn confluent_kafka_idempotent_producer_and_a_three_member_group(broker: &impl Target) {
    create_topic(broker, "payments", 6);
    let result = python(broker, "payments", "confluent", 600);
    assert_eq!(result["consumed"], 600, "{result}");
    assert_eq!(result["members_used"], 3, "three members shared the partitions: {result}");
    assert_eq!(result["committed"], result["expected_committed"], "{result}");
}

#[test]
fn confluent_admin_creates_describes_and_deletes_and_deletion_survives_a_restart() {
    let dir = temp_dir("admin");
    let mut broker = RillBroker::start(&dir);
    let result = python(&broker, "configured", "confluent-admin", 0);
    assert_eq!(result["retention.ms"], "3600000", "{result}");
    assert_eq!(result["min.insync.replicas"], "1", "Kafka's default: {result}");
    assert_eq!(result["broker.num.partitions"], "1", "{result}");
    assert_eq!(result["altered.segment.ms"], "3600000", "AlterConfigs set it: {result}");
    assert_eq!(result["altered.retention.ms"], "604800000", "AlterConfigs reset what it did not name: {result}");
    assert_eq!(result["listed"], true, "{result}");
    assert_eq!(result["listed_after_delete"], false, "{result}");
    assert!(!dir.join("configured-0").exists(), "the partition's files are gone");
    // With the CLI, and across a restart.
    create_topic(&broker, "short-lived", 2);
    create_topic(&broker, "long-lived", 1);
    produce_with_kcat(&broker, "short-lived", "a:1\nb:2\n");
    let cli =
        |args: &[&str]| ok(Command::new(rill_binary()).args(args).args(["--bootstrap-server", &broker.bootstrap()]));
    assert!(cli(&["topics", "delete", "--topic", "short-lived"]).contains("Deleted topic short-lived"));
    let missing = run(Command::new(rill_binary()).args([
        "topics",
        "delete",
        "--topic",
        "short-lived",
        "--bootstrap-server",
        &broker.bootstrap(),
    ]));
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("UNKNOWN_TOPIC_OR_PARTITION"));
    broker.kill();
    broker.restart();
    let listed = ok(Command::new(rill_binary()).args(["topics", "list", "--bootstrap-server", &broker.bootstrap()]));
    assert!(listed.contains("long-lived") && !listed.contains("short-lived"), "{listed}");
    // The name can be used again, and the new topic starts empty.
    create_topic(&broker, "short-lived", 2);
    assert!(read_all(&broker, "short-lived").is_empty());
}

#[test]
fn kafka_python_with_one_broker() {
    let broker = RillBroker::start(&temp_dir("kafka-python"));
    // kafka-python bootstraps through ApiVersions; the topic is auto-created on first use.
    let result = python(&broker, "clicks", "kafka-python", 300);
    assert_eq!(result["consumed"], 300, "{result}");
}

#[test]
fn kafka_python_with_three_brokers() {
    let cluster = RillCluster::start(&temp_dir("kafka-python3"), 3);
    create_topic(&cluster, "clicks", 3);
    let result = python(&cluster, "clicks", "kafka-python", 300);
    assert_eq!(result["consumed"], 300, "{result}");
}

#[test]
fn kafkajs_with_one_broker() {
    kafkajs_produces_consumes_and_commits(&RillBroker::start(&temp_dir("kafkajs")));
}

#[test]
fn kafkajs_with_three_brokers() {
    kafkajs_produces_consumes_and_commits(&RillCluster::start(&temp_dir("kafkajs3"), 3));
}

fn kafkajs_produces_consumes_and_commits(broker: &impl Target) {
    create_topic(broker, "events", 3);
    let out = ok(Command::new("node")
        .arg(repo_root().join("tests/clients/kafkajs_client.js"))
        .args([&broker.bootstrap(), "events", "400"])
        .env("KAFKAJS_DIR", tool(".tools/node")));
    let result = last_json_line(&out);
    assert_eq!(result["consumed"], 400, "{result}");
    assert_eq!(result["committed_total"], 400, "{result}");
}

#[test]
fn kill_9_under_acks_all_load_loses_no_acknowledged_record() {
    let mut broker = RillBroker::start(&temp_dir("crash"));
    create_topic(&broker, "ledger", 3);
    let bootstrap = broker.bootstrap();
    crash_under_load(&bootstrap, || {
        broker.kill();
        std::thread::sleep(Duration::from_millis(300));
        broker.restart();
    });
    assert!(broker.log().contains("rill broker started"));
}

#[test]
fn kill_9_a_partition_leader_of_a_three_broker_cluster() {
    let mut cluster = RillCluster::start(&temp_dir("crash3"), 3);
    create_topic(&cluster, "ledger", 3);
    let controller = cluster.controller();
    let describe = || {
        ok(Command::new(rill_binary()).args([
            "topics",
            "describe",
            "--bootstrap-server",
            &controller,
            "--topic",
            "ledger",
        ]))
    };
    // (partition, leader, epoch) of a partition led by a broker that does not host the controller.
    let field = |line: &str, name: &str| -> i64 {
        line.split('\t').find_map(|f| f.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap_or(-1)
    };
    let before = describe();
    let (partition, leader, epoch) = before
        .lines()
        .filter(|l| l.contains("Partition: "))
        .map(|l| (field(l, "Partition: "), field(l, "Leader: "), field(l, "LeaderEpoch: ")))
        .find(|(_, leader, _)| *leader != 1)
        .unwrap_or_else(|| panic!("a partition led outside the controller's node: {before}"));
    let index = usize::try_from(leader - 1).unwrap();
    let bootstrap = cluster.bootstrap();
    crash_under_load(&bootstrap, || {
        cluster.brokers[index].kill();
        std::thread::sleep(Duration::from_millis(1_000));
        cluster.brokers[index].restart();
    });
    let after = describe();
    let line = after.lines().find(|l| field(l, "Partition: ") == partition && l.contains("Partition: ")).unwrap();
    assert!(field(line, "LeaderEpoch: ") > epoch, "a new leader epoch after the crash: {before} -> {after}");
}

#[test]
fn a_whole_cluster_restart_keeps_every_record_and_epochs_only_grow() {
    // Three controllers (issue 16): the metadata comes back from the quorum's logs.
    let voters = "controller.quorum.voters=1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3";
    let mut cluster = RillCluster::start_with(&temp_dir("restart3"), 3, &[voters]);
    create_topic(&cluster, "kept", 3);
    let lines: String = (0..300).map(|i| format!("k{i}:v{i}\n")).collect();
    produce_with_kcat(&cluster, "kept", &lines);
    let controller = cluster.controller();
    let epochs = || -> Vec<i64> {
        let out = ok(Command::new(rill_binary()).args([
            "topics",
            "describe",
            "--bootstrap-server",
            &controller,
            "--topic",
            "kept",
        ]));
        out.lines()
            .filter(|l| l.contains("Partition: "))
            .map(|l| l.split('\t').find_map(|f| f.strip_prefix("LeaderEpoch: ")).unwrap().parse().unwrap())
            .collect()
    };
    let before = epochs();
    for broker in &mut cluster.brokers {
        broker.kill();
    }
    for broker in &mut cluster.brokers {
        broker.restart();
    }
    // Every partition gets a leader again (the brokers re-register and catch up).
    // (Until the quorum has elected a leader, a restarted broker knows no topic yet.)
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let output = run(Command::new(rill_binary()).args([
            "topics",
            "describe",
            "--bootstrap-server",
            &controller,
            "--topic",
            "kept",
        ]));
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        if out.matches("Leader: -1").count() == 0 && out.matches("Partition: ").count() == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "partitions stay offline after the restart:\n{out}");
        std::thread::sleep(Duration::from_millis(200));
    }
    let after = epochs();
    for (old, new) in before.iter().zip(&after) {
        assert!(new >= old, "leader epochs only grow: {before:?} -> {after:?}");
    }
    // Every leader learns it leads a moment after the controller says so (as in Kafka, a
    // reader may meet UNKNOWN_TOPIC_OR_PARTITION until then): wait for a full read.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !run(Command::new("kcat").args(["-b", &cluster.bootstrap(), "-C", "-t", "kept", "-e", "-q", "-o", "end"]))
        .status
        .success()
    {
        assert!(Instant::now() < deadline, "the partitions' leaders do not serve after the restart");
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(read_all(&cluster, "kept").len(), 300, "every record survived");
    produce_with_kcat(&cluster, "kept", "after:restart\n");
    assert_eq!(read_all(&cluster, "kept").len(), 301);
}

/// Runs 8 s of acks=all load from confluent-kafka, calls `crash` 2.5 s in, and checks that every
/// acknowledged record is in the log afterwards, once per offset, in order, each key once.
fn crash_under_load(bootstrap: &str, crash: impl FnOnce()) {
    let load = Command::new(tool(".venv/bin/python"))
        .args([
            repo_root().join("tests/clients/python_clients.py").to_str().unwrap(),
            bootstrap,
            "ledger",
            "confluent-load",
            "8",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the load");
    std::thread::sleep(Duration::from_millis(2_500));
    crash();
    let output = load.wait_with_output().unwrap();
    let result: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let acked = result["acked"].as_array().unwrap();
    assert!(acked.len() > 500, "the load ran on both sides of the crash: {} acked, {result:.300}", acked.len());
    let log = read_all_from(bootstrap, "ledger");
    let by_offset: BTreeMap<(i64, i64), String> =
        log.iter().map(|(p, o, k)| ((i64::from(*p), *o), k.clone())).collect();
    assert_eq!(by_offset.len(), log.len(), "one record per offset");
    for entry in acked {
        let (partition, offset, key) =
            (entry[0].as_i64().unwrap(), entry[1].as_i64().unwrap(), entry[2].as_str().unwrap());
        assert_eq!(
            by_offset.get(&(partition, offset)).map(String::as_str),
            Some(key),
            "acknowledged {key} at {partition}/{offset}"
        );
    }
    let mut seen = BTreeMap::new();
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for (partition, _, key) in &log {
        assert!(seen.insert(key.clone(), ()).is_none(), "{key} is in the log twice");
        let sequence: i64 = key.trim_start_matches("load-").parse().unwrap();
        assert!(
            last.insert(*partition, sequence).is_none_or(|before| before < sequence),
            "order within partition {partition}"
        );
    }
}

#[test]
fn a_torn_segment_tail_is_truncated_on_restart() {
    let dir = temp_dir("torn");
    let mut broker = RillBroker::start(&dir);
    create_topic(&broker, "audit", 1);
    for batch in 0..3 {
        let lines: String = (0..10).map(|i| format!("b{batch}-{i}:x\n")).collect();
        produce_with_kcat(&broker, "audit", &lines);
    }
    assert_eq!(read_all(&broker, "audit").len(), 30);
    broker.kill();
    let segment = dir.join("audit-0/00000000000000000000.log");
    let length = std::fs::metadata(&segment).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(&segment).unwrap().set_len(length - 7).unwrap();
    broker.restart();
    let records = read_all(&broker, "audit");
    assert!(records.len() < 30 && records.len() >= 10, "the torn last batch is gone: {}", records.len());
    assert_eq!(records.iter().map(|r| r.1).collect::<Vec<_>>(), (0..records.len() as i64).collect::<Vec<_>>());
    assert!(broker.log().contains("recovery truncated"), "{}", broker.log());
    assert!(broker.is_running());
}

#[test]
fn a_toml_config_file_with_kafka_names() {
    let dir = temp_dir("toml");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broker.toml");
    std::fs::write(
        &file,
        "node.id = 7\nnum.partitions = 4\noffsets.topic.replication.factor = 1\n\n[log]\nretention.hours = 24\n",
    )
    .unwrap();
    let broker = RillBroker::start_with(&dir.join("data"), &["--config", file.to_str().unwrap()]);
    produce_with_kcat(&broker, "auto", "a:1\n");
    let metadata = ok(kcat(&broker).args(["-L", "-t", "auto"]));
    assert!(metadata.contains("broker 7 at"), "node.id from the file: {metadata}");
    assert!(metadata.contains("with 4 partitions"), "num.partitions from the file: {metadata}");
    // A key Kafka does not know is accepted with a warning (as Kafka starts with it); a value
    // Kafka refuses is refused with Kafka's words.
    std::fs::write(&file, "node.id = 7\nbogus.setting = 1\n").unwrap();
    let output =
        run(Command::new(rill_binary()).args(["broker", "--config", file.to_str().unwrap(), "--print-config"]));
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("bogus.setting=1 sensitive=false"));
    std::fs::write(&file, "node.id = 7\nnum.partitions = 0\n").unwrap();
    let output = run(Command::new(rill_binary()).args(["broker", "--config", file.to_str().unwrap()]));
    assert!(!output.status.success());
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).trim(),
        "error: Invalid value 0 for configuration num.partitions: Value must be at least 1"
    );
}

fn send(broker: &RillBroker, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(("127.0.0.1", broker.port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let _ = stream.write_all(bytes);
    let mut reply = Vec::new();
    let _ = stream.read_to_end(&mut reply);
    reply
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(body);
    frame
}

/// A valid Metadata v1 request for all topics.
fn metadata_request() -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&3i16.to_be_bytes()); // Metadata
    body.extend_from_slice(&1i16.to_be_bytes()); // v1
    body.extend_from_slice(&42i32.to_be_bytes()); // correlation id
    body.extend_from_slice(&4i16.to_be_bytes());
    body.extend_from_slice(b"fuzz");
    body.extend_from_slice(&(-1i32).to_be_bytes()); // all topics
    body
}

#[test]
fn bad_frames_and_fuzzed_requests_never_bring_the_broker_down() {
    let mut broker = RillBroker::start(&temp_dir("fuzz"));
    create_topic(&broker, "target", 2);
    // Over socket.request.max.bytes (100 MiB): closed without reading the body.
    assert!(send(&broker, &(200i32 << 20).to_be_bytes()).is_empty());
    // Unknown API key: closed, with a log line.
    assert!(send(&broker, &frame(&[0x7f, 0x00, 0, 0, 0, 0, 0, 1])).is_empty());
    // ApiVersions at a version from the future: a v0-format UNSUPPORTED_VERSION (35) answer.
    let reply = send(&broker, &frame(&[0, 18, 0, 99, 0, 0, 0, 7, 0, 0]));
    assert!(reply.len() > 10, "an answer: {reply:?}");
    assert_eq!(&reply[4..8], &7i32.to_be_bytes(), "correlation id");
    assert_eq!(&reply[8..10], &35i16.to_be_bytes(), "UNSUPPORTED_VERSION");
    // The valid request answers.
    let valid = frame(&metadata_request());
    assert!(send(&broker, &valid).len() > 20);
    // Random frames and mutated valid requests, for a bounded time.
    let mut rng = rill_core::rng::Rng::from_seed(99);
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut sent = 0;
    while Instant::now() < deadline {
        let bytes = if rng.below(2) == 0 {
            let length = rng.below(64) as usize;
            let body: Vec<u8> = (0..length).map(|_| rng.below(256) as u8).collect();
            frame(&body)
        } else {
            let mut body = metadata_request();
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(body.len() as u64) as usize;
                body[at] = rng.below(256) as u8;
            }
            if rng.below(4) == 0 {
                body.truncate(rng.below(body.len() as u64) as usize);
            }
            frame(&body)
        };
        let _ = send(&broker, &bytes);
        sent += 1;
    }
    assert!(sent > 50, "{sent} fuzzed frames");
    assert!(broker.is_running(), "the broker survived {sent} bad frames:\n{}", broker.log());
    assert!(send(&broker, &valid).len() > 20, "and still answers a valid request");
    assert!(!broker.log().contains("panicked"), "{}", broker.log());
    let records: String = (0..5).map(|i| format!("k{i}:v\n")).collect();
    produce_with_kcat(&broker, "target", &records);
    assert_eq!(read_all(&broker, "target").len(), 5);
}

/// ConsumerGroupDescribe before any group exists (no `__consumer_offsets` yet) is answered
/// with an error for the group; the broker goes on (it used to stop on an assertion).
#[test]
fn describing_a_consumer_group_before_the_offsets_topic_exists_is_answered() {
    use kafka_protocol::messages::{ApiKey, ConsumerGroupDescribeRequest, GroupId, RequestKind, ResponseKind};
    use kafka_protocol::protocol::StrBytes;
    let mut broker = RillBroker::start(&temp_dir("describe-early"));
    let mut client = rill_broker::admin_client::AdminClient::connect(&broker.bootstrap()).expect("connect");
    let mut request = ConsumerGroupDescribeRequest::default();
    request.group_ids = vec![GroupId(StrBytes::from_static_str("nobody-yet"))];
    match client.call(ApiKey::ConsumerGroupDescribe, 0, &RequestKind::ConsumerGroupDescribe(request)) {
        Ok(ResponseKind::ConsumerGroupDescribe(response)) => {
            assert_eq!(response.groups[0].error_code, 16, "NOT_COORDINATOR: {response:?}");
        }
        other => panic!("{other:?}\n{}", broker.log()),
    }
    assert!(broker.is_running(), "{}", broker.log());
}
