//! Issue 16, KIP-853 on real processes: a controller quorum formatted by `rill format` as
//! `kafka-storage format` formats Kafka's (`--standalone` on the first controller,
//! `--no-initial-controllers` on the others), whose voters Kafka 4.4's own
//! `kafka-metadata-quorum add-controller` / `remove-controller` change.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rill_tests::kafka::run_kafka_tool;
use rill_tests::RillCluster;

const TOOL: &str = "org.apache.kafka.tools.MetadataQuorumCommand";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `kafka-metadata-quorum --bootstrap-controller AT describe --status`: its output once it
/// satisfies `done` (or the last one, failing the test, after 40 s).
fn status_until(at: &str, what: &str, done: impl Fn(&Status) -> bool) -> Status {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        // A short API timeout: asked right after the leader died, the tool would otherwise wait
        // its 60 s default on the dead node before it asks again.
        let config = std::env::temp_dir().join(format!("rill-test-admin-{}.properties", std::process::id()));
        std::fs::write(&config, "default.api.timeout.ms=5000\nrequest.timeout.ms=2000\n").expect("admin config");
        let config = config.display().to_string();
        let args = ["--bootstrap-controller", at, "--command-config", &config, "describe", "--status"];
        let (out, err, _) = run_kafka_tool(TOOL, &args, "");
        let status = Status::parse(&out);
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; the tool said:\n{out}{err}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// What `describe --status` says of the quorum.
#[derive(Debug)]
struct Status {
    leader: Option<i32>,
    voters: Vec<i32>,
    observers: Vec<i32>,
    text: String,
}

impl Status {
    fn parse(out: &str) -> Status {
        let line = |name: &str| out.lines().find_map(|line| line.strip_prefix(name)).unwrap_or_default().to_owned();
        let ids = |text: String| -> Vec<i32> {
            text.split("\"id\": ")
                .skip(1)
                .filter_map(|rest| rest.split([',', '}']).next()?.trim().parse().ok())
                .collect()
        };
        Status {
            leader: line("LeaderId:").trim().parse().ok(),
            voters: ids(line("CurrentVoters:")),
            observers: ids(line("CurrentObservers:")),
            text: out.to_owned(),
        }
    }
}

#[test]
fn controllers_join_and_leave_a_dynamic_quorum_through_kafkas_tool() {
    let dir = temp_dir("dynamic-quorum");
    let mut cluster = RillCluster::configure_each(
        &dir,
        3,
        &["process.roles=controller", "controller.listener.names=CONTROLLER"],
        |_, port| vec![format!("listeners=CONTROLLER://127.0.0.1:{port}")],
    );
    let at: Vec<String> = cluster.brokers.iter().map(|node| node.bootstrap()).collect();
    for node in &mut cluster.brokers {
        node.add_setting(format!("controller.quorum.bootstrap.servers={}", at[0]));
    }
    // Unformatted, a controller that names no voters is refused, as Kafka refuses it.
    let unformatted = cluster.brokers[1].format(&[]).expect_err("a controller must say how its quorum starts");
    assert!(unformatted.contains("--standalone, --initial-controllers or --no-initial-controllers"), "{unformatted}");

    let first = cluster.brokers[0].format(&["--standalone"]).expect("format node 1");
    let field = |said: &str, before: &str| -> String {
        said.split(before).nth(1).and_then(|rest| rest.split([' ', ')']).next()).unwrap_or_default().to_owned()
    };
    let cluster_id = field(&first, "of cluster ");
    let mut directory_ids = vec![field(&first, "(directory.id ")];
    assert_eq!((cluster_id.len(), directory_ids[0].len()), (22, 22), "{first}");
    for node in &cluster.brokers[1..] {
        let said = node.format(&["--no-initial-controllers", &format!("--cluster-id={cluster_id}")]).expect("format");
        directory_ids.push(field(&said, "(directory.id "));
    }
    let again = cluster.brokers[0].format(&["--standalone"]).expect_err("formatted twice");
    assert!(again.contains("already formatted"), "{again}");
    for node in &mut cluster.brokers {
        node.restart();
    }
    let status = status_until(&at[0], "node 1 to lead and nodes 2 and 3 to observe", |s| {
        s.leader == Some(1) && s.observers.contains(&2) && s.observers.contains(&3)
    });
    assert_eq!(status.voters, [1], "{status:?}");

    // Kafka's tool reads each new controller's config and meta.properties (its directory id).
    for id in 2..=3 {
        let properties = dir.join(format!("node-{id}.properties"));
        std::fs::write(&properties, cluster.brokers[id - 1].settings().join("\n")).expect("write properties");
        let properties = properties.display().to_string();
        let args = ["--bootstrap-controller", &at[0], "--command-config", &properties, "add-controller"];
        let (out, err, ok) = run_kafka_tool(TOOL, &args, "");
        assert!(ok, "add-controller {id} failed:\n{out}{err}");
        let expected = format!(
            "Added controller {id} with directory id {} and endpoints: CONTROLLER://{}",
            directory_ids[id - 1],
            at[id - 1]
        );
        assert_eq!(out.trim(), expected);
        if id == 2 {
            // A voter already: Kafka's DUPLICATE_VOTER.
            let (out, err, ok) = run_kafka_tool(TOOL, &args, "");
            assert!(!ok && format!("{out}{err}").contains("DuplicateVoterException"), "{out}{err}");
        }
    }
    let status = status_until(&at[0], "three voters", |s| s.voters.len() == 3);
    assert_eq!(status.voters, [1, 2, 3], "{status:?}");
    // Each voter at its controller listener, where --bootstrap-controller reaches it.
    for address in &at {
        assert!(status.text.contains(&format!("\"CONTROLLER://{address}\"")), "{address}: {}", status.text);
    }

    // The added controllers vote: with node 1 killed, one of them is elected.
    cluster.brokers[0].kill();
    let status = status_until(&at[1], "a new leader among the added controllers", |s| {
        s.leader.is_some_and(|leader| leader == 2 || leader == 3)
    });
    let leader = status.leader.expect("a leader");
    let remove = ["--bootstrap-controller", &at[1], "remove-controller", "--controller-id", "1"];
    let (out, err, ok) =
        run_kafka_tool(TOOL, &[&remove[..], &["--controller-directory-id", &directory_ids[0]]].concat(), "");
    assert!(ok, "remove-controller 1 failed:\n{out}{err}");
    assert_eq!(out.trim(), format!("Removed KRaft controller 1 with directory id {}", directory_ids[0]));
    let status = status_until(&at[1], "voters 2 and 3", |s| s.voters == [2, 3]);
    assert_eq!(status.leader, Some(leader), "{status:?}");

    // Back, node 1 learns from the log that it no longer votes: it observes.
    cluster.brokers[0].restart();
    let status = status_until(&at[1], "node 1 back as an observer", |s| s.observers.contains(&1));
    assert_eq!(status.voters, [2, 3], "{status:?}");
    // The voters survive a restart of the whole quorum.
    for node in &mut cluster.brokers {
        node.kill();
    }
    for node in &mut cluster.brokers {
        node.restart();
    }
    let status = status_until(&at[1], "a leader after the restart", |s| s.leader.is_some());
    assert_eq!(status.voters, [2, 3], "{status:?}");
}
