//! Issue 13 against the real broker: three `rill` processes, a compacted topic, the leader of
//! one partition frozen with SIGSTOP while a new leader is elected, then resumed with a queue
//! of produce requests it still answers as the old leader. Idempotent acks=all writes must all
//! survive (or be compacted away by a later write of the same key), and every replica's log
//! must agree with every other's on the epochs: no stale tail of the old epoch.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rill_core::record::RecordBatch;
use rill_tests::{describe_topic, repo_root, rill_binary, RillCluster};
use serde_json::Value;

const TOPIC: &str = "ledger";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rill(args: &[&str]) -> std::process::Output {
    Command::new(rill_binary()).args(args).output().expect("run rill")
}

/// (leader, leader epoch, ISR size) of each partition.
fn describe(bootstrap: &str) -> BTreeMap<i64, (i64, i64, usize)> {
    describe_topic(bootstrap, TOPIC)
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_paused_leader_of_a_compacted_topic_leaves_no_stale_tail() {
    let dir = temp_dir("stale-leader");
    let mut cluster = RillCluster::start_with(&dir, 3, &["log.retention.check.interval.ms=1000"]);
    let controller = cluster.brokers[0].bootstrap();
    wait_for("the topic to be created", Duration::from_secs(20), || {
        rill(&[
            "topics",
            "create",
            "--bootstrap-server",
            &controller,
            "--topic",
            TOPIC,
            "--partitions",
            "3",
            "--replication-factor",
            "3",
            "--config",
            "min.insync.replicas=2",
            "--config",
            "cleanup.policy=compact",
            "--config",
            "segment.bytes=8192",
            "--config",
            "delete.retention.ms=1000",
        ])
        .status
        .success()
    });
    wait_for("leaders", Duration::from_secs(20), || {
        let state = describe(&controller);
        state.len() == 3 && state.values().all(|(leader, _, isr)| *leader > 0 && *isr == 3)
    });
    // A partition led outside node 1 (node 1 hosts the controller, which must stay up).
    let (partition, (old_leader, old_epoch, _)) = describe(&controller)
        .into_iter()
        .find(|(_, (leader, _, _))| *leader != 1)
        .expect("a partition led by node 2 or 3");
    let stale = usize::try_from(old_leader - 1).expect("node ids start at 1");

    let load = Command::new(repo_root().join(".venv/bin/python"))
        .args([
            repo_root().join("tests/clients/python_clients.py").to_str().expect("utf-8 path"),
            &cluster.bootstrap(),
            TOPIC,
            "compacted-load",
            "14",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the load");
    std::thread::sleep(Duration::from_millis(2_500));
    cluster.brokers[stale].pause();
    wait_for("a new leader", Duration::from_secs(30), || {
        describe(&controller)
            .get(&partition)
            .is_some_and(|(leader, epoch, _)| *leader != old_leader && *epoch > old_epoch)
    });
    // The producers move to the new leader and the cleaner runs; then the old leader wakes up
    // to the requests queued on its sockets.
    std::thread::sleep(Duration::from_millis(3_000));
    cluster.brokers[stale].resume();
    let output = load.wait_with_output().expect("the load finishes");
    let result: Value =
        serde_json::from_slice(output.stdout.split(|b| *b == b'\n').rfind(|l| !l.is_empty()).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let acked = result["acked"].as_array().expect("acked list");
    assert!(acked.len() > 1_000, "the load ran on both sides of the pause: {} acked", acked.len());
    wait_for("the old leader back in the ISR", Duration::from_secs(40), || {
        describe(&controller).get(&partition).is_some_and(|(_, _, isr)| *isr == 3)
    });
    std::thread::sleep(Duration::from_millis(2_000));

    // Full read-back through a consumer: per key, the newest record is the last acknowledged
    // acks=all write of that key (compaction keeps the newest), and nothing is there twice.
    let out = Command::new("kcat")
        .args(["-b", &cluster.bootstrap(), "-X", "socket.timeout.ms=20000", "-C", "-t", TOPIC, "-e", "-q"])
        .args(["-f", "%p %o %k %s\\n"])
        .output()
        .expect("kcat -C");
    assert!(out.status.success(), "kcat: {}", String::from_utf8_lossy(&out.stderr));
    let mut newest: BTreeMap<(i64, String), (i64, String)> = BTreeMap::new();
    let mut values_seen = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let fields: Vec<&str> = line.splitn(4, ' ').collect();
        let (p, o) = (fields[0].parse::<i64>().expect("partition"), fields[1].parse::<i64>().expect("offset"));
        let (key, value) = (fields[2].to_owned(), fields[3].to_owned());
        if value.starts_with("all-") {
            assert!(values_seen.insert(value.clone(), (p, o)).is_none(), "{value} is in the log twice");
        }
        let slot = newest.entry((p, key)).or_insert((o, value.clone()));
        if o >= slot.0 {
            *slot = (o, value);
        }
    }
    let mut last_acked: BTreeMap<(i64, String), (i64, String)> = BTreeMap::new();
    for entry in acked {
        let (p, o) = (entry[0].as_i64().expect("partition"), entry[1].as_i64().expect("offset"));
        let (key, value) = (entry[2].as_str().expect("key").to_owned(), entry[3].as_str().expect("value").to_owned());
        let slot = last_acked.entry((p, key)).or_insert((o, value.clone()));
        if o >= slot.0 {
            *slot = (o, value);
        }
    }
    for ((p, key), (offset, value)) in &last_acked {
        assert_eq!(
            newest.get(&(*p, key.clone())),
            Some(&(*offset, value.clone())),
            "the newest record of {key} in partition {p} is its last acknowledged write"
        );
    }

    // Every replica's files agree on the epochs: no replica holds a batch of an older epoch at
    // an offset where another holds a batch of a newer epoch (compaction only removes batches).
    for broker in &mut cluster.brokers {
        broker.kill();
    }
    let logs: Vec<Vec<RecordBatch>> = (0..3)
        .map(|node| {
            let dir = cluster.brokers[node].log_dir.join(format!("{TOPIC}-{partition}"));
            rill_tests::rill_batches_on_disk(&dir, &dir.with_extension(format!("copy-{node}")))
        })
        .collect();
    for (a, log_a) in logs.iter().enumerate() {
        for (b, log_b) in logs.iter().enumerate().filter(|(b, _)| *b != a) {
            // Epochs never go down along one log: the first batch of a newer epoch is found by
            // bisection.
            for older in log_a {
                let epoch = older.partition_leader_epoch();
                let first_newer = log_b.partition_point(|batch| batch.partition_leader_epoch() <= epoch);
                if let Some(newer) = log_b.get(first_newer) {
                    assert!(
                        newer.base_offset() > older.last_offset(),
                        "node {} holds epoch {epoch} through offset {} but node {} holds epoch {} from offset {}",
                        a + 1,
                        older.last_offset(),
                        b + 1,
                        newer.partition_leader_epoch(),
                        newer.base_offset()
                    );
                }
            }
        }
    }
    let truncations = cluster.brokers[stale]
        .log()
        .lines()
        .filter(|line| line.contains(&format!("truncated {TOPIC}-{partition}")))
        .count();
    // Whether the resumed node answered queued requests as the old leader before it learnt of
    // the new one depends on which socket it reads first; the simulation's scenario
    // (`core/tests/scenarios.rs`) makes that order certain. Say which happened here.
    eprintln!("node {}: {truncations} truncation(s) of {TOPIC}-{partition} after it resumed", stale + 1);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 16: a node whose `controller.quorum.voters` differs from the others' is the odd one
/// out — the quorum refuses its vote — and stops with the reason; the others go on.
#[test]
fn a_node_with_another_voter_list_stops_and_says_why() {
    let dir = temp_dir("voter-mismatch");
    let mut cluster = RillCluster::start_with_each(&dir, 3, &[], |id, _| {
        let voters = if id == 3 { "1@127.0.0.1:1,2@127.0.0.1:2,3@127.0.0.1:3" } else { "1@127.0.0.1:1,2@127.0.0.1:2" };
        vec![format!("controller.quorum.voters={voters}")]
    });
    wait_for("node 3 to stop", Duration::from_secs(30), || !cluster.brokers[2].is_running());
    let log = cluster.brokers[2].log();
    assert!(log.contains("disagree on controller.quorum.voters: every node must list the same voters"), "{log}");
    assert!(cluster.brokers[0].is_running() && cluster.brokers[1].is_running(), "nodes 1 and 2 go on");
}

/// The `cluster.id` each node of `cluster` stored in its `meta.properties`, once all have one.
fn cluster_ids(cluster: &RillCluster) -> Vec<String> {
    let read = |broker: &rill_tests::RillBroker| {
        let text = std::fs::read_to_string(broker.log_dir.join("meta.properties")).unwrap_or_default();
        text.lines().find_map(|line| line.strip_prefix("cluster.id=")).map(str::to_owned)
    };
    let mut ids = Vec::new();
    wait_for("every node to store the cluster id", Duration::from_secs(30), || {
        ids = cluster.brokers.iter().filter_map(read).collect();
        ids.len() == cluster.brokers.len()
    });
    ids
}

/// Starts a 3-node cluster under `dir` with `voters`, creates `topic` (RF 3), and stops it;
/// returns it (stopped) and its cluster id.
fn a_stopped_cluster(dir: &std::path::Path, voters: &str, topic: &str) -> (RillCluster, String) {
    let voters = format!("controller.quorum.voters={voters}");
    let mut cluster = RillCluster::start_with(dir, 3, &[voters.as_str()]);
    let bootstrap = cluster.bootstrap();
    wait_for("the topic", Duration::from_secs(30), || {
        let args = ["--topic", topic, "--partitions", "1", "--replication-factor", "3"];
        rill(&[&["topics", "create", "--bootstrap-server", &bootstrap][..], &args].concat()).status.success()
    });
    let ids = cluster_ids(&cluster);
    assert!(ids.iter().all(|id| *id == ids[0] && id.len() == 22), "one Kafka-style id for the cluster: {ids:?}");
    for broker in &mut cluster.brokers {
        broker.kill();
    }
    (cluster, ids[0].clone())
}

/// Issue 16: a node started on a directory left over from another cluster (Kafka's
/// `meta.properties` check, `INCONSISTENT_CLUSTER_ID`) is refused by the quorum before it can
/// vote or replicate — its log could otherwise win an election and truncate this cluster's
/// metadata — and stops saying why; the cluster keeps its metadata. Both as a voter of three
/// and as a broker beside one voter.
#[test]
fn a_node_on_another_clusters_directory_stops_and_the_cluster_keeps_its_metadata() {
    for (name, voters) in [("three-voters", "1@h:1,2@h:2,3@h:3"), ("one-voter", "1@h:1")] {
        let dir = temp_dir(&format!("cluster-id-{name}"));
        let (_a, a_id) = a_stopped_cluster(&dir.join("a"), voters, "from-a");
        let (mut b, b_id) = a_stopped_cluster(&dir.join("b"), voters, "from-b");
        assert_ne!(a_id, b_id, "two clusters, two ids");
        // Node 3 of cluster B comes back on cluster A's node-3 directory.
        let b3 = b.brokers[2].log_dir.clone();
        std::fs::remove_dir_all(&b3).expect("remove node 3's directory");
        let copied = Command::new("cp").arg("-a").arg(dir.join("a/node-3")).arg(&b3).status().expect("cp");
        assert!(copied.success());
        b.brokers[0].restart();
        b.brokers[1].restart();
        b.brokers[2].spawn();
        wait_for("the node from cluster A to stop", Duration::from_secs(30), || !b.brokers[2].is_running());
        let log = b.brokers[2].log();
        assert!(log.contains("INCONSISTENT_CLUSTER_ID"), "{name}: {log}");
        assert!(log.contains(&format!("belongs to cluster {a_id}, but the controller quorum")), "{name}: {log}");
        assert!(b.brokers[0].is_running() && b.brokers[1].is_running(), "{name}: nodes 1 and 2 go on");
        let bootstrap = b.brokers[0].bootstrap();
        wait_for("cluster B's topic to have a leader", Duration::from_secs(30), || {
            describe_topic(&bootstrap, "from-b").get(&0).is_some_and(|(leader, _, _)| *leader > 0)
        });
        let listed = rill(&["topics", "list", "--bootstrap-server", &bootstrap]);
        let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
        assert!(listed.contains("from-b") && !listed.contains("from-a"), "{name}: only cluster B's topics: {listed}");
        let stored = std::fs::read_to_string(b3.join("meta.properties")).expect("meta.properties");
        assert!(stored.contains(&format!("cluster.id={a_id}")), "{name}: the other cluster's directory is untouched");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
