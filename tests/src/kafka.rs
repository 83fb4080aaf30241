//! Apache Kafka 4.4 itself, from Maven Central (`tests/kafka/pom.xml`; `scripts/setup.sh`
//! copies the jars to `.tools/kafka/libs`): the reference broker Rill's tests run beside Rill,
//! one KRaft node on 127.0.0.1 started from the stock `tests/kafka/server.properties`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, repo_root};

/// `.tools/kafka/libs`, where set-up put Kafka's jars.
///
/// # Panics
/// When set-up has not run.
#[must_use]
pub fn kafka_libs() -> PathBuf {
    let libs = repo_root().join(".tools/kafka/libs");
    assert!(
        libs.join("kafka-clients-4.4.0.jar").exists(),
        "Apache Kafka 4.4's jars are missing from {}: run ./scripts/setup.sh",
        libs.display()
    );
    libs
}

/// `java -cp <Kafka's jars> <class>`, logging INFO to stdout.
#[must_use]
pub fn kafka_java(class: &str) -> Command {
    java_with_logging(class, "tests/kafka/log4j2.properties")
}

/// One of Kafka's command-line tools by its class (`org.apache.kafka.tools.TopicCommand` is
/// `kafka-topics.sh`), logging warnings to stderr only: stdout is the tool's output.
#[must_use]
pub fn kafka_tool(class: &str) -> Command {
    java_with_logging(class, "tests/kafka/log4j2-tools.properties")
}

/// Runs one of Kafka's tools with `args` and `input` on stdin: its stdout, its stderr, and
/// whether it exited 0.
#[must_use]
pub fn run_kafka_tool(class: &str, args: &[&str], input: &str) -> (String, String, bool) {
    let mut child = kafka_tool(class)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run a Kafka tool");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("tool output");
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    (text(&output.stdout), text(&output.stderr), output.status.success())
}

fn java_with_logging(class: &str, log4j2: &str) -> Command {
    let mut command = Command::new("java");
    command
        .arg("-Xmx512m")
        .arg(format!("-Dlog4j2.configurationFile={}", repo_root().join(log4j2).display()))
        .arg("-cp")
        .arg(format!("{}/*", kafka_libs().display()))
        .arg(class);
    command
}

/// `java -cp <Kafka's jars> <file>.java` (a single-file Java program run from source).
#[must_use]
pub fn kafka_java_source(file: &Path) -> Command {
    let mut command = Command::new("java");
    command.arg("-cp").arg(format!("{}/*", kafka_libs().display())).arg(file);
    command
}

/// The stock single-node `server.properties` with `overrides` appended (a later line wins in
/// Java's `Properties`, and in Rill's reader).
#[must_use]
pub fn stock_properties(overrides: &[(&str, String)]) -> String {
    let mut text = std::fs::read_to_string(repo_root().join("tests/kafka/server.properties")).expect("stock file");
    text.push_str("\n# Overrides for this test\n");
    for (key, value) in overrides {
        text.push_str(&format!("{key}={value}\n"));
    }
    text
}

/// A random cluster id as `kafka-storage random-uuid` prints it (base64url, 22 characters).
fn cluster_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let seed = nanos ^ (u128::from(std::process::id()) << 64);
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    // The first character is a letter: `kafka-storage format -t -x…` would read an id that
    // starts with '-' as an option (a 1-in-64 flaky start before this).
    (0..22)
        .map(|i| {
            let index = usize::try_from((seed >> (i * 5)) & 63).expect("small");
            char::from(ALPHABET[if i == 0 { index % 52 } else { index }])
        })
        .collect()
}

/// A directory id for node index `i` (a Kafka `Uuid` in base64url, fixed per index).
fn directory_id(i: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..22).map(|k| char::from(ALPHABET[(i * 7 + k * 3 + 1) % ALPHABET.len()])).collect()
}

/// One Apache Kafka 4.4 KRaft node (broker and controller) on 127.0.0.1; killed on drop.
pub struct KafkaBroker {
    child: Option<Child>,
    /// The Kafka port.
    pub port: u16,
    log_file: PathBuf,
    data_dir: PathBuf,
}

impl KafkaBroker {
    /// Formats `dir` and starts Kafka with the stock properties plus `extra`, on free ports;
    /// waits until it answers a metadata request (Kafka's port opens before it serves).
    #[must_use]
    pub fn start(dir: &Path, extra: &[(&str, String)]) -> KafkaBroker {
        let (port, controller) = (free_port(), free_port());
        let mut overrides = vec![("controller.quorum.bootstrap.servers", format!("127.0.0.1:{controller}"))];
        overrides.extend(extra.iter().cloned());
        let broker = KafkaBroker::format(dir, (port, controller), &overrides, &["--standalone", "-t", &cluster_id()]);
        broker.wait_until_it_answers()
    }

    /// One combined node whose quorum is the static `controller.quorum.voters` (itself), formatted
    /// without `--standalone`: Kafka's `kraft.version` 0, whose voters cannot change (KIP-853).
    #[must_use]
    pub fn start_static(dir: &Path) -> KafkaBroker {
        let (port, controller) = (free_port(), free_port());
        let overrides = [
            ("controller.quorum.bootstrap.servers", String::new()),
            ("controller.quorum.voters", format!("1@127.0.0.1:{controller}")),
        ];
        let broker = KafkaBroker::format(dir, (port, controller), &overrides, &["-t", &cluster_id()]);
        broker.wait_until_it_answers()
    }

    /// A cluster of `n` combined nodes (each a broker and a controller: a KRaft quorum of `n`
    /// voters), started together; each answers metadata when this returns.
    #[must_use]
    pub fn start_cluster(dir: &Path, n: usize, extra: &[(&str, String)]) -> Vec<KafkaBroker> {
        let ports: Vec<(u16, u16)> = (0..n).map(|_| (free_port(), free_port())).collect();
        let id = cluster_id();
        let controllers: Vec<String> = ports
            .iter()
            .enumerate()
            .map(|(i, (_, controller))| format!("{}@127.0.0.1:{controller}:{}", i + 1, directory_id(i)))
            .collect();
        let bootstrap: Vec<String> = ports.iter().map(|(_, c)| format!("127.0.0.1:{c}")).collect();
        let brokers: Vec<KafkaBroker> = ports
            .iter()
            .enumerate()
            .map(|(i, ports)| {
                let mut overrides = vec![
                    ("node.id", (i + 1).to_string()),
                    ("controller.quorum.bootstrap.servers", bootstrap.join(",")),
                    ("offsets.topic.replication.factor", n.min(3).to_string()),
                ];
                overrides.extend(extra.iter().cloned());
                let joined = controllers.join(",");
                KafkaBroker::format(
                    &dir.join(format!("node-{}", i + 1)),
                    *ports,
                    &overrides,
                    &["--initial-controllers", &joined, "-t", &id],
                )
            })
            .collect();
        brokers.into_iter().map(KafkaBroker::wait_until_it_answers).collect()
    }

    /// Writes the properties (the stock file, listeners on `ports`, `overrides`), runs
    /// `kafka-storage format` with `format_args` and starts the node.
    fn format(
        dir: &Path,
        (port, controller): (u16, u16),
        overrides: &[(&str, String)],
        format_args: &[&str],
    ) -> KafkaBroker {
        let mut all = vec![
            ("listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}")),
            ("advertised.listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}")),
            ("log.dirs", dir.join("data").display().to_string()),
        ];
        all.extend(overrides.iter().cloned());
        KafkaBroker::format_properties(dir, port, &stock_properties(&all), format_args)
    }

    /// Three brokers and three controller-only nodes (`process.roles=broker` and
    /// `process.roles=controller`, Kafka's `config/broker.properties` and
    /// `config/controller.properties` on free ports): node ids 1–3 the brokers, 4–6 the
    /// controllers. Returns both when every broker answers metadata.
    #[must_use]
    pub fn start_separate(dir: &Path) -> (Vec<KafkaBroker>, Vec<KafkaBroker>) {
        let id = cluster_id();
        let controller_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let bootstrap: Vec<String> = controller_ports.iter().map(|port| format!("127.0.0.1:{port}")).collect();
        let initial: Vec<String> = controller_ports
            .iter()
            .enumerate()
            .map(|(i, port)| format!("{}@127.0.0.1:{port}:{}", i + 4, directory_id(i + 3)))
            .collect();
        let common = |node: usize, dir: &Path| {
            format!(
                "node.id={node}\ncontroller.quorum.bootstrap.servers={}\ncontroller.listener.names=CONTROLLER\n\
                 listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\nlog.dirs={}\n",
                bootstrap.join(","),
                dir.join("data").display()
            )
        };
        let controllers: Vec<KafkaBroker> = controller_ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let dir = dir.join(format!("controller-{}", i + 4));
                let text = format!(
                    "process.roles=controller\n{}listeners=CONTROLLER://127.0.0.1:{port}\n\
                     advertised.listeners=CONTROLLER://127.0.0.1:{port}\n",
                    common(i + 4, &dir)
                );
                KafkaBroker::format_properties(
                    &dir,
                    *port,
                    &text,
                    &["--initial-controllers", &initial.join(","), "-t", &id],
                )
            })
            .collect();
        let brokers: Vec<KafkaBroker> = (1..=3)
            .map(|node| {
                let dir = dir.join(format!("broker-{node}"));
                let port = free_port();
                let text = format!(
                    "process.roles=broker\n{}listeners=PLAINTEXT://127.0.0.1:{port}\n\
                     advertised.listeners=PLAINTEXT://127.0.0.1:{port}\ninter.broker.listener.name=PLAINTEXT\n\
                     offsets.topic.replication.factor=3\n",
                    common(node, &dir)
                );
                KafkaBroker::format_properties(&dir, port, &text, &["-t", &id])
            })
            .collect();
        (brokers.into_iter().map(KafkaBroker::wait_until_it_answers).collect(), controllers)
    }

    /// `n` controller-only nodes (ids 1..=n, Kafka's `config/controller.properties` on free
    /// ports) of a dynamic quorum (KIP-853): node 1 formatted `--standalone`, the others
    /// `--no-initial-controllers`, all bootstrapping from node 1. Returned as started (a
    /// controller answers no metadata request: ask the quorum with `--bootstrap-controller`).
    #[must_use]
    pub fn start_dynamic_controllers(dir: &Path, n: usize) -> Vec<KafkaBroker> {
        let id = cluster_id();
        let ports: Vec<u16> = (0..n).map(|_| free_port()).collect();
        ports
            .iter()
            .enumerate()
            .map(|(i, port)| {
                let node = i + 1;
                let dir = dir.join(format!("controller-{node}"));
                let text = format!(
                    "process.roles=controller\nnode.id={node}\ncontroller.quorum.bootstrap.servers=127.0.0.1:{}\n\
                     controller.listener.names=CONTROLLER\nlistener.security.protocol.map=CONTROLLER:PLAINTEXT\n\
                     listeners=CONTROLLER://127.0.0.1:{port}\nadvertised.listeners=CONTROLLER://127.0.0.1:{port}\n\
                     log.dirs={}\n",
                    ports[0],
                    dir.join("data").display()
                );
                let quorum = if node == 1 { "--standalone" } else { "--no-initial-controllers" };
                KafkaBroker::format_properties(&dir, *port, &text, &[quorum, "-t", &id])
            })
            .collect()
    }

    /// The node's `server.properties` (what `kafka-metadata-quorum --command-config` reads).
    #[must_use]
    pub fn properties(&self) -> PathBuf {
        self.data_dir.parent().expect("the node's directory").join("server.properties")
    }

    /// `log.dirs`.
    #[must_use]
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Starts the node again (after `kill`) on the same properties and data, logging to the
    /// same file.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let log = std::fs::OpenOptions::new().append(true).open(&self.log_file).expect("kafka log");
        let child = kafka_java("kafka.Kafka")
            .arg(self.properties())
            .stdout(Stdio::from(log.try_clone().expect("clone log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start kafka");
        self.child = Some(child);
    }

    /// Writes `properties` to `dir`, runs `kafka-storage format` with `format_args` and starts
    /// the node, whose clients' port is `port`.
    fn format_properties(dir: &Path, port: u16, properties_text: &str, format_args: &[&str]) -> KafkaBroker {
        std::fs::create_dir_all(dir).expect("kafka dir");
        let properties = dir.join("server.properties");
        std::fs::write(&properties, properties_text).expect("write properties");
        let format = kafka_java("kafka.tools.StorageTool")
            .arg("format")
            .args(format_args)
            .arg("-c")
            .arg(&properties)
            .output()
            .expect("run kafka-storage format");
        assert!(format.status.success(), "kafka-storage format: {}", String::from_utf8_lossy(&format.stderr));
        let log_file = dir.join("kafka.log");
        let log = std::fs::File::create(&log_file).expect("kafka log");
        let child = kafka_java("kafka.Kafka")
            .arg(&properties)
            .stdout(Stdio::from(log.try_clone().expect("clone log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start kafka");
        KafkaBroker { child: Some(child), port, log_file, data_dir: dir.join("data") }
    }

    fn wait_until_it_answers(mut self) -> KafkaBroker {
        let broker = &mut self;
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let answered = Command::new("kcat")
                .args(["-b", &broker.bootstrap(), "-L", "-m", "2"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|status| status.success());
            if answered {
                return self;
            }
            let exited = broker.child.as_mut().and_then(|child| child.try_wait().ok().flatten());
            assert!(exited.is_none(), "Kafka exited on start:\n{}", broker.log());
            assert!(Instant::now() < deadline, "Kafka did not answer within 90 s:\n{}", broker.log());
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// Runs Kafka with the stock properties plus `extra` until it exits (for configs Kafka
    /// refuses at start), at most 60 s.
    #[must_use]
    pub fn run_to_exit(dir: &Path, extra: &[(&str, String)]) -> Output {
        std::fs::create_dir_all(dir).expect("kafka dir");
        let properties = dir.join("refused.properties");
        let mut file = std::fs::File::create(&properties).expect("properties");
        file.write_all(stock_properties(extra).as_bytes()).expect("write properties");
        let mut child = kafka_java("kafka.Kafka")
            .arg(&properties)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kafka");
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().expect("wait").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        child.wait_with_output().expect("kafka output")
    }

    /// `127.0.0.1:port`.
    #[must_use]
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What Kafka logged so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_file).unwrap_or_default()
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl crate::Target for KafkaBroker {
    fn bootstrap(&self) -> String {
        KafkaBroker::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        1
    }
    /// Kafka's `.log` files are batches in the wire format, back to back (read while Kafka
    /// runs, from the page cache).
    fn batches_on_disk(&self, topic: &str, partition: i32) -> Vec<rill_core::record::RecordBatch> {
        let dir = self.data_dir.join(format!("{topic}-{partition}"));
        let mut segments: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("entry").path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "log"))
            .collect();
        segments.sort();
        let mut batches = Vec::new();
        for segment in segments {
            let bytes = bytes::Bytes::from(std::fs::read(&segment).expect("read segment"));
            batches.extend(rill_core::record::RecordBatch::read_wire_all(&bytes).expect("Kafka's segment parses"));
        }
        batches
    }
}

/// The stdout of a finished command; panics with its output when it failed.
///
/// # Panics
/// When the command failed.
pub fn checked(output: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Kafka's Java client running `tests/kafka/ClientSteps.java` steps against `bootstrap`.
#[must_use]
pub fn java_client_steps(bootstrap: &str, steps: &[String]) -> String {
    let output = kafka_java_source(&repo_root().join("tests/kafka/ClientSteps.java"))
        .arg(bootstrap)
        .args(steps)
        .output()
        .expect("run java");
    checked(output, &format!("the Java client ({steps:?})"))
}
