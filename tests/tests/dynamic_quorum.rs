//! Issue 16, KIP-853 on real processes: a controller quorum formatted as `kafka-storage
//! format` formats Kafka's (`--standalone` on the first controller, `--no-initial-controllers`
//! on the others), whose voters Kafka 4.4's own `kafka-metadata-quorum add-controller` /
//! `remove-controller` change — on three Apache Kafka 4.4 controllers, then on three Rill
//! controllers formatted with `rill format`, expecting the same transcript.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rill_tests::kafka::{run_kafka_tool, KafkaBroker};
use rill_tests::RillCluster;

const TOOL: &str = "org.apache.kafka.tools.MetadataQuorumCommand";

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// What `describe --status` says of the quorum.
#[derive(Debug)]
struct Status {
    leader: Option<usize>,
    voters: Vec<usize>,
    observers: Vec<usize>,
    text: String,
}

impl Status {
    fn parse(out: &str) -> Status {
        let line = |name: &str| out.lines().find_map(|line| line.strip_prefix(name)).unwrap_or_default().to_owned();
        let ids = |text: String| -> Vec<usize> {
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

/// `kafka-metadata-quorum --bootstrap-controller AT describe --status`, until what it says
/// satisfies `done` (failing the test after `patience`).
fn status_until(at: &str, what: &str, patience: Duration, done: impl Fn(&Status) -> bool) -> Status {
    status_through("--bootstrap-controller", at, what, patience, done)
}

/// [`status_until`] asking through `flag` (`--bootstrap-server`: a broker).
fn status_through(flag: &str, at: &str, what: &str, patience: Duration, done: impl Fn(&Status) -> bool) -> Status {
    // A short API timeout: asked right after the leader died, the tool would otherwise wait
    // its 60 s default on the dead node before it asks again.
    let config = std::env::temp_dir().join(format!("rill-test-admin-{}.properties", std::process::id()));
    std::fs::write(&config, "default.api.timeout.ms=5000\nrequest.timeout.ms=2000\n").expect("admin config");
    let config = config.display().to_string();
    let deadline = Instant::now() + patience;
    loop {
        let args = [flag, at, "--command-config", &config, "describe", "--status"];
        let (out, err, _) = run_kafka_tool(TOOL, &args, "");
        let status = Status::parse(&out);
        if done(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}; the tool said:\n{out}{err}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Three controllers, Kafka's or Rill's, numbered 1 to 3.
trait Controllers {
    /// The controller listener of `node`.
    fn at(&self, node: usize) -> String;
    /// `node`'s config file.
    fn properties(&self, node: usize) -> PathBuf;
    /// `node`'s `log.dirs`.
    fn log_dir(&self, node: usize) -> PathBuf;
    fn kill(&mut self, node: usize);
    fn restart(&mut self, node: usize);
}

impl Controllers for Vec<KafkaBroker> {
    fn at(&self, node: usize) -> String {
        self[node - 1].bootstrap()
    }
    fn properties(&self, node: usize) -> PathBuf {
        self[node - 1].properties()
    }
    fn log_dir(&self, node: usize) -> PathBuf {
        self[node - 1].data_dir().to_path_buf()
    }
    fn kill(&mut self, node: usize) {
        self[node - 1].kill();
    }
    fn restart(&mut self, node: usize) {
        self[node - 1].restart();
    }
}

/// Rill's controllers and the config file written for each (Kafka's tool reads it).
struct Rill {
    cluster: RillCluster,
    files: Vec<PathBuf>,
}

impl Controllers for Rill {
    fn at(&self, node: usize) -> String {
        self.cluster.brokers[node - 1].bootstrap()
    }
    fn properties(&self, node: usize) -> PathBuf {
        self.files[node - 1].clone()
    }
    fn log_dir(&self, node: usize) -> PathBuf {
        self.cluster.brokers[node - 1].log_dir.clone()
    }
    fn kill(&mut self, node: usize) {
        self.cluster.brokers[node - 1].kill();
    }
    fn restart(&mut self, node: usize) {
        self.cluster.brokers[node - 1].restart();
    }
}

/// The `directory.id` of `log_dir`'s `meta.properties` (Kafka's or Rill's).
fn directory_id(log_dir: &Path) -> String {
    rill_broker::meta_properties::directory_id(log_dir).expect("a directory.id")
}

/// `text` with the directory ids and addresses of `quorum`'s nodes named (`dir1`, `node1`).
fn named(text: &str, quorum: &dyn Controllers) -> String {
    (1..=3).fold(text.trim().to_owned(), |text, node| {
        text.replace(&directory_id(&quorum.log_dir(node)), &format!("dir{node}"))
            .replace(&quorum.at(node), &format!("node{node}"))
    })
}

/// Adds controllers 2 and 3 (2 twice), kills controller 1, removes it, brings it back, then
/// restarts the whole quorum. The transcript: what the tool printed and the quorum's state
/// after each step, with directory ids and addresses named (`dir1`, `node1`).
fn add_kill_remove(quorum: &mut dyn Controllers) -> Vec<String> {
    let mut transcript = Vec::new();
    let first = quorum.at(1);
    let status = status_until(&first, "node 1 to lead, nodes 2 and 3 to observe", Duration::from_secs(90), |s| {
        s.leader == Some(1) && s.observers.contains(&2) && s.observers.contains(&3)
    });
    transcript.push(format!("started: voters {:?}", status.voters));
    for node in 2..=3 {
        let properties = quorum.properties(node).display().to_string();
        let add = ["--bootstrap-controller", &first, "--command-config", &properties, "add-controller"];
        let (out, err, ok) = run_kafka_tool(TOOL, &add, "");
        assert!(ok, "add-controller {node} failed:\n{out}{err}");
        transcript.push(named(&out, quorum));
        if node == 2 {
            // A voter already.
            let (out, err, ok) = run_kafka_tool(TOOL, &add, "");
            let said = format!("{out}{err}");
            let exception = said.lines().find(|line| line.contains("Exception")).unwrap_or_default();
            transcript.push(format!("again: {ok} {}", exception.split(':').next().unwrap_or_default()));
        }
    }
    let status = status_until(&first, "three voters", Duration::from_secs(30), |s| s.voters.len() == 3);
    transcript.push(format!("added: voters {:?}", status.voters));
    // The added controllers vote: with node 1 killed, one of them is elected.
    quorum.kill(1);
    let second = quorum.at(2);
    let status = status_until(&second, "a new leader", Duration::from_secs(40), |s| s.leader.is_some_and(|l| l != 1));
    transcript.push(format!("node 1 killed: a leader among [2, 3]: {}", [2, 3].contains(&status.leader.unwrap_or(0))));
    let directory = directory_id(&quorum.log_dir(1));
    let remove = ["--bootstrap-controller", &second, "remove-controller", "--controller-id", "1"];
    let (out, err, ok) = run_kafka_tool(TOOL, &[&remove[..], &["--controller-directory-id", &directory]].concat(), "");
    assert!(ok, "remove-controller 1 failed:\n{out}{err}");
    transcript.push(named(&out, quorum));
    let status = status_until(&second, "voters 2 and 3", Duration::from_secs(30), |s| s.voters == [2, 3]);
    transcript.push(format!("removed: voters {:?}", status.voters));
    // Back, node 1 learns from the log that it no longer votes: it observes.
    quorum.restart(1);
    let status = status_until(&second, "node 1 back", Duration::from_secs(90), |s| s.observers.contains(&1));
    transcript.push(format!("node 1 back: voters {:?}, observers {:?}", status.voters, status.observers));
    for node in 1..=3 {
        quorum.kill(node);
    }
    for node in 1..=3 {
        quorum.restart(node);
    }
    let status = status_until(&second, "a leader after the restart", Duration::from_secs(90), |s| s.leader.is_some());
    transcript.push(format!("restarted: voters {:?}", status.voters));
    transcript
}

#[test]
fn controllers_join_and_leave_a_dynamic_quorum_as_on_kafka() {
    let mut kafka = KafkaBroker::start_dynamic_controllers(&temp_dir("dynamic-quorum-kafka"), 3);
    let reference = add_kill_remove(&mut kafka);
    drop(kafka);
    eprintln!("Kafka 4.4: {reference:#?}");

    let dir = temp_dir("dynamic-quorum-rill");
    let mut cluster = RillCluster::configure_each(
        &dir,
        3,
        &["process.roles=controller", "controller.listener.names=CONTROLLER"],
        |_, port| vec![format!("listeners=CONTROLLER://127.0.0.1:{port}")],
    );
    let first = cluster.brokers[0].bootstrap();
    for node in &mut cluster.brokers {
        node.add_setting(format!("controller.quorum.bootstrap.servers={first}"));
    }
    // Unformatted, a controller that names no voters is refused, as Kafka refuses it.
    let unformatted = cluster.brokers[1].format(&[]).expect_err("a controller must say how its quorum starts");
    assert!(unformatted.contains("--standalone, --initial-controllers or --no-initial-controllers"), "{unformatted}");
    let said = cluster.brokers[0].format(&["--standalone"]).expect("format node 1");
    let cluster_id = said.split("of cluster ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_default();
    assert_eq!(cluster_id.len(), 22, "{said}");
    for node in &cluster.brokers[1..] {
        node.format(&["--no-initial-controllers", &format!("--cluster-id={cluster_id}")]).expect("format");
    }
    let again = cluster.brokers[0].format(&["--standalone"]).expect_err("formatted twice");
    assert!(again.contains("already formatted"), "{again}");
    let mut files = Vec::new();
    for (i, node) in cluster.brokers.iter_mut().enumerate() {
        let file = dir.join(format!("node-{}.properties", i + 1));
        std::fs::write(&file, node.settings().join("\n")).expect("write properties");
        files.push(file);
        node.restart();
    }
    let mut rill = Rill { cluster, files };
    let transcript = add_kill_remove(&mut rill);
    eprintln!("Rill: {transcript:#?}");
    assert_eq!(transcript, reference, "Rill (left) and Kafka 4.4 (right) differ");
    // Each voter named at its controller listener, where --bootstrap-controller reaches it.
    let status = status_until(&rill.at(2), "voters 2 and 3", Duration::from_secs(10), |s| s.voters == [2, 3]);
    for node in 2..=3 {
        assert!(status.text.contains(&format!("\"CONTROLLER://{}\"", rill.at(node))), "{}", status.text);
    }
}

/// Three combined nodes (each a broker and a controller) formatted with the same
/// `--initial-controllers`. The quorum leader is removed through another node's broker
/// listener (`--bootstrap-server`: the broker forwards it to the active controller, as Kafka's
/// do); the leader commits its own removal, answers, and steps down; a remaining voter leads,
/// the removed node observes, and it still serves as a broker. The transcript, with the
/// leader's id named `L`.
fn remove_the_leader_through_a_broker(quorum: &mut dyn Controllers) -> Vec<String> {
    let mut transcript = Vec::new();
    let status = status_through("--bootstrap-server", &quorum.at(1), "a leader", Duration::from_secs(90), |s| {
        s.leader.is_some()
    });
    transcript.push(format!("started: voters {:?}", status.voters));
    let leader = status.leader.expect("a leader");
    let other = if leader == 1 { 2 } else { 1 };
    let directory = directory_id(&quorum.log_dir(leader));
    let (via, id) = (quorum.at(other), leader.to_string());
    let remove = ["--bootstrap-server", &via, "remove-controller", "--controller-id", &id];
    let (out, err, ok) = run_kafka_tool(TOOL, &[&remove[..], &["--controller-directory-id", &directory]].concat(), "");
    assert!(ok, "remove-controller {leader} through node {other} failed:\n{out}{err}");
    transcript.push(
        named(&out, quorum)
            .replace(&format!("controller {leader} "), "controller L ")
            .replace(&format!("dir{leader}"), "dirL"),
    );
    let status = status_through("--bootstrap-server", &via, "two voters", Duration::from_secs(30), |s| {
        s.voters.len() == 2 && s.leader.is_some_and(|l| l != leader) && s.observers.contains(&leader)
    });
    let rest: Vec<usize> = (1..=3).filter(|node| *node != leader).collect();
    transcript.push(format!("removed: voters are the others: {}, L observes", status.voters == rest));
    // Still a broker: every node is in the metadata the removed one serves.
    let out =
        std::process::Command::new("kcat").args(["-b", &quorum.at(leader), "-L", "-m", "5"]).output().expect("kcat");
    transcript.push(format!("metadata from L: {}", String::from_utf8_lossy(&out.stdout).contains(" 3 brokers:")));
    transcript
}

#[test]
fn the_quorum_leader_is_removed_through_any_broker_as_on_kafka() {
    let mut kafka = KafkaBroker::start_cluster(&temp_dir("remove-leader-kafka"), 3, &[]);
    let reference = remove_the_leader_through_a_broker(&mut kafka);
    drop(kafka);
    eprintln!("Kafka 4.4: {reference:#?}");

    let dir = temp_dir("remove-leader-rill");
    let mut cluster = RillCluster::configure_each(&dir, 3, &[], |_, _| Vec::new());
    let addresses: Vec<String> = cluster.brokers.iter().map(|node| node.bootstrap()).collect();
    let initial: Vec<String> = addresses.iter().enumerate().map(|(i, at)| format!("{}@{at}", i + 1)).collect();
    let initial = format!("--initial-controllers={}", initial.join(","));
    let mut cluster_id = String::new();
    for node in &mut cluster.brokers {
        node.add_setting(format!("controller.quorum.bootstrap.servers={}", addresses.join(",")));
        let id = format!("--cluster-id={cluster_id}");
        let args: Vec<&str> = if cluster_id.is_empty() { vec![&initial] } else { vec![&initial, &id] };
        let said = node.format(&args).expect("format");
        if cluster_id.is_empty() {
            cluster_id =
                said.split("of cluster ").nth(1).and_then(|rest| rest.split(' ').next()).unwrap_or_default().to_owned();
        }
    }
    for node in &mut cluster.brokers {
        node.restart();
    }
    let mut rill = Rill { cluster, files: Vec::new() };
    let transcript = remove_the_leader_through_a_broker(&mut rill);
    eprintln!("Rill: {transcript:#?}");
    assert_eq!(transcript, reference, "Rill (left) and Kafka 4.4 (right) differ");
}
