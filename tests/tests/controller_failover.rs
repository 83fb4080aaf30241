//! Issue 16 against real processes, beside the reference: three nodes, each a broker and a
//! controller (Apache Kafka 4.4 in KRaft combined mode, then Rill with
//! `controller.quorum.voters`), an idempotent acks=all load, and `kill -9` of the node whose
//! controller leads the quorum. On both: another controller takes over, writes to the partitions
//! whose leader stayed up resume once the dead broker leaves the ISR, and no acknowledged write
//! is lost. The longest stall is printed for both (BENCHMARKS.md records it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rill_tests::kafka::{kafka_tool, KafkaBroker};
use rill_tests::{describe_topic, repo_root, rill_binary, RillCluster};
use serde_json::Value;

const TOPIC: &str = "ledger";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// The quorum leader's node id, as `kafka-metadata-quorum --describe --status` says.
fn quorum_leader(bootstrap: &str) -> Option<usize> {
    let output = kafka_tool("org.apache.kafka.tools.MetadataQuorumCommand")
        .args(["--bootstrap-server", bootstrap, "describe", "--status"])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("LeaderId:"))
        .and_then(|id| id.trim().parse().ok())
}

/// (leader, ISR size) of each partition.
fn describe(bootstrap: &str) -> BTreeMap<i64, (i64, usize)> {
    describe_topic(bootstrap, TOPIC).into_iter().map(|(p, (leader, _, isr))| (p, (leader, isr))).collect()
}

struct Outcome {
    victim: usize,
    successor: usize,
    longest_stall_ms: i64,
    acked: usize,
    missing: usize,
}

/// Creates the topic, runs 25 s of load, kills the quorum leader's node 4 s in (with `kill`),
/// and checks every acknowledged write is readable from the survivors.
fn kill_the_quorum_leader_under_load(bootstraps: &[String], kill: &mut dyn FnMut(usize)) -> Outcome {
    let all = bootstraps.join(",");
    wait_for("the topic to be created", Duration::from_secs(30), || {
        bootstraps.iter().any(|bootstrap| {
            Command::new(rill_binary())
                .args(["topics", "create", "--bootstrap-server", bootstrap, "--topic", TOPIC, "--partitions", "3"])
                .args(["--replication-factor", "3", "--config", "min.insync.replicas=2"])
                .output()
                .is_ok_and(|o| o.status.success())
        })
    });
    wait_for("leaders with full ISRs", Duration::from_secs(30), || {
        let state = describe(&bootstraps[0]);
        state.len() == 3 && state.values().all(|(leader, isr)| *leader > 0 && *isr == 3)
    });
    let victim = quorum_leader(&bootstraps[0]).expect("a quorum leader");
    let survivor = bootstraps[if victim == 1 { 1 } else { 0 }].clone();
    let load = Command::new(repo_root().join(".venv/bin/python"))
        .args([repo_root().join("tests/clients/python_clients.py").to_str().expect("utf-8"), &all, TOPIC])
        .args(["confluent-load", "25"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the load");
    std::thread::sleep(Duration::from_millis(4_000));
    let elsewhere: Vec<i64> = describe(&survivor)
        .into_iter()
        .filter(|(_, (leader, _))| usize::try_from(*leader).ok() != Some(victim))
        .map(|(partition, _)| partition)
        .collect();
    let killed_at = i64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap();
    kill(victim);
    let mut successor = None;
    wait_for("another quorum leader", Duration::from_secs(30), || {
        successor = quorum_leader(&survivor).filter(|id| *id != victim);
        successor.is_some()
    });
    let output = load.wait_with_output().expect("the load finishes");
    let result: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let acked = result["acked"].as_array().expect("acked list");
    let mut longest = 0;
    for partition in &elsewhere {
        let mut times: Vec<i64> = acked
            .iter()
            .filter(|a| a[0].as_i64() == Some(*partition))
            .filter_map(|a| a[3].as_i64())
            .filter(|t| *t >= killed_at)
            .collect();
        times.insert(0, killed_at);
        times.sort_unstable();
        longest = longest.max(times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(i64::MAX));
    }
    let survivors: Vec<String> =
        bootstraps.iter().enumerate().filter(|(i, _)| i + 1 != victim).map(|(_, b)| b.clone()).collect();
    let out = Command::new("kcat")
        .args(["-b", &survivors.join(","), "-X", "socket.timeout.ms=20000", "-C", "-t", TOPIC, "-e", "-q"])
        .args(["-f", "%p %o %k\\n"])
        .output()
        .expect("kcat -C");
    let read: BTreeSet<(i64, i64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut fields = line.splitn(3, ' ');
            Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?, fields.next()?.to_owned()))
        })
        .collect();
    let missing = acked
        .iter()
        .filter(|a| {
            !read.contains(&(a[0].as_i64().unwrap(), a[1].as_i64().unwrap(), a[2].as_str().unwrap().to_owned()))
        })
        .count();
    Outcome { victim, successor: successor.expect("found"), longest_stall_ms: longest, acked: acked.len(), missing }
}

#[test]
fn killing_the_quorum_leader_loses_nothing_on_kafka_and_on_rill() {
    let kafka_dir = temp_dir("failover-kafka");
    let mut kafka = KafkaBroker::start_cluster(&kafka_dir, 3, &[]);
    let bootstraps: Vec<String> = kafka.iter().map(KafkaBroker::bootstrap).collect();
    let reference = kill_the_quorum_leader_under_load(&bootstraps, &mut |node| kafka[node - 1].kill());
    drop(kafka);
    let dir = temp_dir("failover-rill");
    let voters = "controller.quorum.voters=1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3";
    let mut cluster = RillCluster::start_with(&dir, 3, &[voters]);
    let bootstraps: Vec<String> = cluster.brokers.iter().map(|b| b.bootstrap()).collect();
    let rill = kill_the_quorum_leader_under_load(&bootstraps, &mut |node| cluster.brokers[node - 1].kill());
    for (name, outcome) in [("Kafka 4.4", &reference), ("Rill", &rill)] {
        eprintln!(
            "{name}: node {} (quorum leader) killed, node {} leads now; longest stall of a partition whose leader \
             stayed up: {} ms; {} acknowledged, {} missing",
            outcome.victim, outcome.successor, outcome.longest_stall_ms, outcome.acked, outcome.missing
        );
    }
    assert_eq!(reference.missing, 0, "Kafka lost acknowledged writes");
    assert_eq!(rill.missing, 0, "Rill lost acknowledged writes");
    assert!(rill.acked > 1_000 && reference.acked > 1_000, "the load ran");
    assert!(
        rill.longest_stall_ms < 15_000,
        "Rill's writes resumed without the dead node ({} ms)",
        rill.longest_stall_ms
    );
    // Back: the node rejoins the quorum and every ISR.
    cluster.brokers[rill.victim - 1].restart();
    wait_for("the node back in every ISR", Duration::from_secs(40), || {
        describe(&bootstraps[0]).values().all(|(_, isr)| *isr == 3)
    });
}
