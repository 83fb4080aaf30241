//! Compressed record batches with real clients (issue 15), the same steps against one Rill
//! broker, three Rill brokers and Apache Kafka 4.4: librdkafka (kcat `-z`) and Kafka's Java
//! client each produce with every codec; both read everything back; the codec each batch is
//! stored with is read from the brokers' segment files (`compression.type=producer` keeps the
//! producer's; a topic's `compression.type=zstd` recompresses), and Rill's must equal Kafka's.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use rill_core::compression::Codec;
use rill_tests::kafka::{checked, java_client_steps, KafkaBroker};
use rill_tests::{compat, RillBroker, RillCluster, Target};

const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];
const PER_CLIENT: usize = 120;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
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

/// The records `client` wrote with `codec`.
fn expected(client: &str, codec: &str) -> BTreeSet<(String, String)> {
    (0..PER_CLIENT).map(|i| (format!("{client}-{i}"), value(client, codec, i))).collect()
}

/// The codecs a partition's batches are stored with.
fn stored_codecs(target: &impl Target, topic: &str) -> BTreeSet<Codec> {
    (0..2).flat_map(|p| target.batches_on_disk(topic, p)).map(|batch| batch.codec().expect("a known codec")).collect()
}

/// What one broker does with compressed batches, as a comparable summary: per topic (one per
/// producing client and codec, so each client's batches are checked on their own), whether
/// both clients read every record back, and the codecs found on disk.
fn run_steps(target: &impl Target) -> Vec<String> {
    let bootstrap = target.bootstrap();
    let rf = target.replication_factor();
    let topic = |client: &str, codec: &str| format!("c-{codec}-{client}");
    let mut create: Vec<String> = CODECS
        .iter()
        .flat_map(|codec| ["kcat", "java"].map(|client| format!("create:{}:2:{rf}", topic(client, codec))))
        .collect();
    create.push(format!("create:recompressed:2:{rf}:compression.type=zstd"));
    let created = java_client_steps(&bootstrap, &create);
    assert_eq!(created.lines().filter(|l| l.starts_with("created ")).count(), create.len(), "{created}");
    for codec in CODECS {
        kcat_produce(&bootstrap, &topic("kcat", codec), codec);
    }
    kcat_produce(&bootstrap, "recompressed", "gzip");
    let mut steps: Vec<String> =
        CODECS.iter().map(|codec| format!("produce:{}:{codec}:{PER_CLIENT}", topic("java", codec))).collect();
    steps.push(format!("produce:recompressed:lz4:{PER_CLIENT}"));
    for codec in CODECS {
        steps.extend(["kcat", "java"].map(|client| format!("consume:{}:{PER_CLIENT}", topic(client, codec))));
    }
    steps.push(format!("consume:recompressed:{}", 2 * PER_CLIENT));
    let java_out = java_client_steps(&bootstrap, &steps);

    let mut summary = Vec::new();
    for codec in CODECS {
        for client in ["kcat", "java"] {
            let topic = topic(client, codec);
            let want = expected(client, codec);
            assert_eq!(kcat_read(&bootstrap, &topic), want, "kcat reading {topic} from {bootstrap}");
            assert_eq!(java_read(&java_out, &topic), want, "the Java client reading {topic} from {bootstrap}");
            let codecs = stored_codecs(target, &topic);
            let want_codec = Codec::from_name(codec).expect("a codec name");
            assert_eq!(codecs, BTreeSet::from([want_codec]), "{topic} on disk ({client} produced with {codec})");
            summary.push(format!("{topic}: {} records read by both clients, stored as {codecs:?}", want.len()));
        }
    }
    let mut want = expected("kcat", "gzip");
    want.extend(expected("java", "lz4"));
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
    const TITLE: &str = "Compression codecs with librdkafka (kcat) and the Java client";
    let reference = run_steps(&kafka);
    compat::record("codecs", TITLE, "kafka", &reference);
    drop(kafka);

    let one = RillBroker::start(&temp_dir("codecs-rill"));
    let facts = run_steps(&one);
    compat::record("codecs", TITLE, "rill-1", &facts);
    assert_eq!(facts, reference, "one Rill broker against Kafka 4.4");
    drop(one);

    let three = RillCluster::start(&temp_dir("codecs-rill3"), 3);
    let facts = run_steps(&three);
    compat::record("codecs", TITLE, "rill-3", &facts);
    assert_eq!(facts, reference, "three Rill brokers against Kafka 4.4");
}
