//! Compressed record batches with real clients (issue 15), the same steps against one Rill
//! broker, three Rill brokers and Apache Kafka 4.4: librdkafka (kcat `-z`) and Kafka's Java
//! client each produce with every codec; both read everything back; the codec each batch is
//! stored with is read from the brokers' segment files (`compression.type=producer` keeps the
//! producer's; a topic's `compression.type=zstd` recompresses), and Rill's must equal Kafka's.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use rill_core::compression::Codec;
use rill_core::record::RecordBatch;
use rill_tests::kafka::{kafka_java_source, KafkaBroker};
use rill_tests::{repo_root, rill_batches_on_disk, RillBroker, RillCluster};

const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];
const PER_CLIENT: usize = 120;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn checked(output: Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(output.status.success(), "{what} failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

/// Kafka's Java client running `tests/kafka/ClientSteps.java` steps.
fn java(bootstrap: &str, steps: &[String]) -> String {
    let output = kafka_java_source(&repo_root().join("tests/kafka/ClientSteps.java"))
        .arg(bootstrap)
        .args(steps)
        .output()
        .expect("run java");
    checked(output, &format!("the Java client ({steps:?})"))
}

/// The value both clients write for record `i` (what `ClientSteps.value` computes).
fn value(client: &str, codec: &str, i: usize) -> String {
    format!("{client}-{codec}-{i}-{}", "compressible ".repeat(i % 17))
}

fn kcat_produce(bootstrap: &str, topic: &str, codec: &str) {
    let lines: String = (0..PER_CLIENT).map(|i| format!("kcat-{i}\t{}\n", value("kcat", codec, i))).collect();
    let mut child = Command::new("kcat")
        .args(["-b", bootstrap, "-P", "-t", topic, "-K\t", "-z", codec, "-X", "acks=all", "-X", "linger.ms=20"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kcat -P");
    child.stdin.take().expect("stdin").write_all(lines.as_bytes()).expect("write to kcat");
    checked(child.wait_with_output().expect("kcat"), &format!("kcat -P -z {codec}"));
}

/// (key, value) of every record of `topic`, read with kcat from the start to the end.
fn kcat_read(bootstrap: &str, topic: &str) -> BTreeSet<(String, String)> {
    let output = Command::new("kcat")
        .args(["-b", bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%k\t%s\n"])
        .output()
        .expect("kcat -C");
    let out = checked(output, "kcat -C");
    out.lines()
        .map(|line| {
            let (key, value) = line.split_once('\t').unwrap_or((line, ""));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// (key, value) of the `record TOPIC KEY VALUE` lines the Java consumer printed for `topic`.
fn java_read(out: &str, topic: &str) -> BTreeSet<(String, String)> {
    let prefix = format!("record {topic} ");
    out.lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .map(|rest| {
            let (key, value) = rest.split_once(' ').unwrap_or((rest, ""));
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

fn expected(codec: &str) -> BTreeSet<(String, String)> {
    ["kcat", "java"]
        .into_iter()
        .flat_map(|client| (0..PER_CLIENT).map(move |i| (format!("{client}-{i}"), value(client, codec, i))))
        .collect()
}

/// Where a broker keeps one partition's batches.
trait Target {
    fn bootstrap(&self) -> String;
    fn replication_factor(&self) -> i16;
    fn batches(&self, topic: &str, partition: i32) -> Vec<RecordBatch>;
}

impl Target for RillBroker {
    fn bootstrap(&self) -> String {
        RillBroker::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        1
    }
    fn batches(&self, topic: &str, partition: i32) -> Vec<RecordBatch> {
        let dir = self.log_dir.join(format!("{topic}-{partition}"));
        rill_batches_on_disk(&dir, &dir.with_extension("copy"))
    }
}

impl Target for RillCluster {
    fn bootstrap(&self) -> String {
        RillCluster::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        3
    }
    /// Every replica holds the same batches (the followers fetched them): node 1's copy.
    fn batches(&self, topic: &str, partition: i32) -> Vec<RecordBatch> {
        self.brokers[0].batches(topic, partition)
    }
}

impl Target for KafkaBroker {
    fn bootstrap(&self) -> String {
        KafkaBroker::bootstrap(self)
    }
    fn replication_factor(&self) -> i16 {
        1
    }
    fn batches(&self, topic: &str, partition: i32) -> Vec<RecordBatch> {
        self.batches_on_disk(topic, partition)
    }
}

/// The codecs a partition's batches are stored with.
fn stored_codecs(target: &impl Target, topic: &str) -> BTreeSet<Codec> {
    (0..2).flat_map(|p| target.batches(topic, p)).map(|batch| batch.codec().expect("a known codec")).collect()
}

/// What one broker does with compressed batches, as a comparable summary: per topic, whether
/// both clients read every record back, and the codecs found on disk.
fn run_steps(target: &impl Target) -> Vec<String> {
    let bootstrap = target.bootstrap();
    let rf = target.replication_factor();
    let mut create: Vec<String> = CODECS.iter().map(|codec| format!("create:c-{codec}:2:{rf}")).collect();
    create.push(format!("create:recompressed:2:{rf}:compression.type=zstd"));
    java(&bootstrap, &create);
    for codec in CODECS {
        kcat_produce(&bootstrap, &format!("c-{codec}"), codec);
    }
    kcat_produce(&bootstrap, "recompressed", "gzip");
    let mut steps: Vec<String> = CODECS.iter().map(|codec| format!("produce:c-{codec}:{codec}:{PER_CLIENT}")).collect();
    steps.push(format!("produce:recompressed:lz4:{PER_CLIENT}"));
    steps.extend(CODECS.iter().map(|codec| format!("consume:c-{codec}:{}", 2 * PER_CLIENT)));
    steps.push(format!("consume:recompressed:{}", 2 * PER_CLIENT));
    let java_out = java(&bootstrap, &steps);

    let mut summary = Vec::new();
    for codec in CODECS {
        let topic = format!("c-{codec}");
        let want = expected(codec);
        assert_eq!(kcat_read(&bootstrap, &topic), want, "kcat reading {topic} from {bootstrap}");
        assert_eq!(java_read(&java_out, &topic), want, "the Java client reading {topic} from {bootstrap}");
        // librdkafka sends a batch uncompressed when compressing does not make it smaller, so
        // a few small batches may be `None`; Kafka's Java client always compresses.
        let mut codecs = stored_codecs(target, &topic);
        codecs.remove(&Codec::None);
        let want_codec = Codec::from_name(codec).expect("a codec name");
        let want_codecs = if want_codec == Codec::None { BTreeSet::new() } else { BTreeSet::from([want_codec]) };
        assert_eq!(codecs, want_codecs, "{topic} on disk");
        summary.push(format!(
            "{topic}: {} records read by both clients, stored as {codecs:?} (besides any uncompressed)",
            want.len()
        ));
    }
    let mut want: BTreeSet<(String, String)> =
        (0..PER_CLIENT).map(|i| (format!("kcat-{i}"), value("kcat", "gzip", i))).collect();
    want.extend((0..PER_CLIENT).map(|i| (format!("java-{i}"), value("java", "lz4", i))));
    assert_eq!(kcat_read(&bootstrap, "recompressed"), want, "kcat reading the recompressed topic");
    assert_eq!(java_read(&java_out, "recompressed"), want, "the Java client reading the recompressed topic");
    let codecs = stored_codecs(target, "recompressed");
    assert_eq!(codecs, BTreeSet::from([Codec::Zstd]), "compression.type=zstd stores zstd");
    summary.push(format!("recompressed: {} records read by both clients, stored as {codecs:?}", want.len()));
    summary
}

#[test]
fn every_codec_round_trips_with_librdkafka_and_java_on_rill_as_on_kafka() {
    let kafka_dir = temp_dir("codecs-kafka");
    let kafka = KafkaBroker::start(&kafka_dir, &[]);
    let reference = run_steps(&kafka);
    drop(kafka);

    let one = RillBroker::start(&temp_dir("codecs-rill"));
    assert_eq!(run_steps(&one), reference, "one Rill broker against Kafka 4.4");
    drop(one);

    let three = RillCluster::start(&temp_dir("codecs-rill3"), 3);
    assert_eq!(run_steps(&three), reference, "three Rill brokers against Kafka 4.4");
}
