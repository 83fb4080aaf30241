//! Issue 18: Kafka's own `server.properties` starts a Rill broker, and Rill reads it as Kafka
//! does — checked against Apache Kafka 4.4 started from the same file in the same test.

use std::process::{Command, Stdio};

use rill_tests::kafka::{stock_properties, KafkaBroker};
use rill_tests::{free_port, rill_binary};

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// `rill broker --config <stock file + overrides>`; the child and its log file.
fn start_rill(dir: &std::path::Path, port: u16, extra: &[(&str, String)]) -> (std::process::Child, std::path::PathBuf) {
    let controller = free_port();
    let mut overrides = vec![
        ("listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}")),
        ("advertised.listeners", format!("PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}")),
        ("log.dirs", dir.join("data").display().to_string()),
    ];
    overrides.extend(extra.iter().cloned());
    let properties = dir.join("server.properties");
    std::fs::write(&properties, stock_properties(&overrides)).expect("write properties");
    let log = dir.join("rill.log");
    let file = std::fs::File::create(&log).expect("log");
    let child = Command::new(rill_binary())
        .args(["broker", "--config"])
        .arg(&properties)
        .stdout(Stdio::from(file.try_clone().expect("clone")))
        .stderr(Stdio::from(file))
        .spawn()
        .expect("start rill");
    (child, log)
}

fn kcat(bootstrap: &str) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", bootstrap, "-X", "socket.timeout.ms=20000"]);
    command
}

fn wait_until_serving(bootstrap: &str, child: &mut std::process::Child, log: &std::path::Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !kcat(bootstrap).args(["-L", "-m", "2"]).output().is_ok_and(|o| o.status.success()) {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "rill exited:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        assert!(std::time::Instant::now() < deadline, "rill did not serve");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A kcat produce/consume round trip: the values read back.
fn round_trip(bootstrap: &str, topic: &str) -> Vec<String> {
    let mut producer =
        kcat(bootstrap).args(["-P", "-t", topic, "-X", "acks=all"]).stdin(Stdio::piped()).spawn().expect("kcat -P");
    std::io::Write::write_all(producer.stdin.as_mut().expect("stdin"), b"one\ntwo\nthree\n").expect("write");
    drop(producer.stdin.take());
    assert!(producer.wait().expect("kcat -P").success());
    let out =
        kcat(bootstrap).args(["-C", "-t", topic, "-o", "beginning", "-c", "3", "-e", "-q"]).output().expect("kcat -C");
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect()
}

#[test]
fn kafkas_stock_server_properties_starts_rill_like_it_starts_kafka() {
    let dir = temp_dir("stock-config");
    let port = free_port();
    let (mut rill, log) = start_rill(&dir, port, &[]);
    let bootstrap = format!("127.0.0.1:{port}");
    wait_until_serving(&bootstrap, &mut rill, &log);
    assert_eq!(round_trip(&bootstrap, "stock"), ["one", "two", "three"]);
    let _ = rill.kill();
    let _ = rill.wait();
    let text = std::fs::read_to_string(&log).expect("log");
    let line =
        text.lines().find(|l| l.contains("have no effect in Rill")).unwrap_or_else(|| panic!("no notice:\n{text}"));
    for key in [
        "controller.quorum.bootstrap.servers",
        "num.network.threads",
        "num.io.threads",
        "socket.send.buffer.bytes",
        "socket.receive.buffer.bytes",
        "num.recovery.threads.per.data.dir",
        "share.coordinator.state.topic.replication.factor",
        "share.coordinator.state.topic.min.isr",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
    ] {
        assert!(line.contains(key), "{key} is listed as having no effect: {line}");
    }
    for applied in ["num.partitions", "log.retention.hours", "log.segment.bytes", "socket.request.max.bytes", "node.id"]
    {
        assert!(!line.contains(&format!(" {applied}")), "{applied} takes effect in Rill: {line}");
    }
    assert!(
        text.contains("controller listener CONTROLLER://127.0.0.1:"),
        "the controller listener is explained:\n{text}"
    );

    // Apache Kafka 4.4 from the same file (same overrides) serves the same round trip.
    let kafka = KafkaBroker::start(&dir.join("kafka"), &[]);
    assert_eq!(round_trip(&kafka.bootstrap(), "stock"), ["one", "two", "three"]);
}

#[test]
fn unknown_keys_warn_and_kafka_invalid_values_are_refused_in_kafkas_words() {
    let dir = temp_dir("config-errors");
    // A key neither Kafka nor Rill knows: Rill warns (in the words of Kafka's logUnused) and
    // starts; Kafka 4.4 starts with it too.
    let port = free_port();
    let (mut rill, log) = start_rill(&dir, port, &[("made.up.key", "1".to_owned())]);
    wait_until_serving(&format!("127.0.0.1:{port}"), &mut rill, &log);
    let _ = rill.kill();
    let _ = rill.wait();
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(
        text.contains("WARN")
            && text.contains("These configurations '[made.up.key]' were supplied but are not used yet."),
        "{text}"
    );

    // num.partitions=0: Kafka refuses to start; Rill refuses with Kafka's own message.
    refused_in_kafkas_words(
        &dir.join("partitions"),
        &[("num.partitions", "0".to_owned())],
        "Invalid value 0 for configuration num.partitions: Value must be at least 1",
    );
    // process.roles must agree with the voters (issue 16): a broker-only node named a voter.
    refused_in_kafkas_words(
        &dir.join("roles"),
        &[("process.roles", "broker".to_owned()), ("controller.quorum.voters", "1@localhost:9093".to_owned())],
        "If process.roles contains just the 'broker' role, the node id 1 must not be included in the set of voters \
         controller.quorum.voters=Set(1)",
    );
}

/// Kafka 4.4 refuses the stock file plus `refused` at start with `message` (its
/// `ConfigException`, or the `requirement failed:` of its `KafkaConfig` checks); Rill refuses
/// it with the same words.
fn refused_in_kafkas_words(dir: &std::path::Path, refused: &[(&str, String)], message: &str) {
    std::fs::create_dir_all(dir).expect("test dir");
    let kafka = KafkaBroker::run_to_exit(&dir.join("kafka"), refused);
    let kafka_text = format!("{}{}", String::from_utf8_lossy(&kafka.stdout), String::from_utf8_lossy(&kafka.stderr));
    assert!(!kafka.status.success(), "Kafka refuses {refused:?}:\n{kafka_text}");
    let kafka_message = kafka_text
        .lines()
        .find_map(|line| {
            line.split("ConfigException: ")
                .nth(1)
                .or_else(|| line.split("IllegalArgumentException: requirement failed: ").nth(1))
        })
        .unwrap_or_else(|| panic!("Kafka's refusal:\n{kafka_text}"))
        .trim()
        .to_owned();
    assert_eq!(kafka_message, message);
    let (mut rill, log) = start_rill(dir, free_port(), refused);
    let status = rill.wait().expect("rill exits");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(!status.success(), "rill refuses {refused:?}");
    assert_eq!(text.trim(), format!("error: {kafka_message}"), "the same words as Kafka");
}

#[test]
fn print_config_shows_each_value_and_its_source() {
    let dir = temp_dir("print-config");
    let properties = dir.join("server.properties");
    std::fs::write(&properties, stock_properties(&[])).expect("write");
    let out = Command::new(rill_binary())
        .args(["broker", "--config"])
        .arg(&properties)
        .args(["--set", "num.partitions=6", "--print-config"])
        .output()
        .expect("rill --print-config");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let file = properties.display().to_string();
    for expected in [
        "All configs for broker 1 are:".to_owned(),
        "  num.partitions=6 sensitive=false source=STATIC_BROKER_CONFIG (--set)".to_owned(),
        format!("  log.retention.hours=168 sensitive=false source=STATIC_BROKER_CONFIG ({file})"),
        "  delete.topic.enable=true sensitive=false source=DEFAULT_CONFIG".to_owned(),
        format!("  num.io.threads=8 sensitive=false source=STATIC_BROKER_CONFIG ({file}), no effect in Rill"),
    ] {
        assert!(text.lines().any(|line| line == expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn the_checked_in_config_table_is_kafka_4_4s_configdef() {
    let out = rill_tests::kafka::kafka_java_source(&rill_tests::repo_root().join("tests/kafka/ConfigDefDump.java"))
        .output()
        .expect("run ConfigDefDump.java");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dumped = String::from_utf8_lossy(&out.stdout);
    let checked_in =
        std::fs::read_to_string(rill_tests::repo_root().join("broker/src/kafka_broker_configs.tsv")).expect("table");
    assert!(dumped.starts_with("# Apache Kafka 4.4.0 broker configs"), "{dumped:.200}");
    assert_eq!(
        checked_in, dumped,
        "broker/src/kafka_broker_configs.tsv differs from Kafka's ConfigDef: regenerate it with java -cp '.tools/kafka/libs/*' tests/kafka/ConfigDefDump.java"
    );
}
