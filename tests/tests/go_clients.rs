//! The Go clients people run (issue 15), the same steps against Apache Kafka 4.4, one Rill broker
//! and three: franz-go with its default settings (an idempotent acks=all producer that
//! compresses with snappy; no topic auto-creation) and Sarama produce, consume in a consumer
//! group and commit, then a second consumer of the group resumes exactly after the commit;
//! each codec round-trips. `tests/clients/go` (built by `scripts/setup.sh`) runs the clients.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use rill_core::compression::Codec;
use rill_tests::kafka::{checked, java_client_steps, KafkaBroker};
use rill_tests::{compat, repo_root, RillBroker, RillCluster, Target};

const CODECS: [&str; 5] = ["none", "gzip", "snappy", "lz4", "zstd"];

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rill-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// `rill-go-clients CLIENT BOOTSTRAP STEP...`: each group step's (key, value) records, in order.
fn go(client: &str, bootstrap: &str, steps: &[String]) -> Vec<BTreeSet<(String, String)>> {
    let binary = repo_root().join(".tools/bin/rill-go-clients");
    assert!(binary.exists(), "{} is missing: run ./scripts/setup.sh", binary.display());
    let output = Command::new(&binary).arg(client).arg(bootstrap).args(steps).output().expect("run rill-go-clients");
    let out = checked(output, &format!("{client} ({steps:?})"));
    let mut groups = Vec::new();
    let mut current = BTreeSet::new();
    for line in out.lines() {
        if let Some(rest) = line.strip_prefix("record ") {
            let mut fields = rest.splitn(3, ' ');
            let (_topic, key, value) = (fields.next(), fields.next().unwrap_or(""), fields.next().unwrap_or(""));
            current.insert((key.to_owned(), value.to_owned()));
        } else if line.starts_with("consumed ") {
            groups.push(std::mem::take(&mut current));
        }
    }
    groups
}

/// What `tests/clients/go` writes as record `i` of `client` with `codec`.
fn records(client: &str, codec: &str, range: std::ops::Range<usize>) -> BTreeSet<(String, String)> {
    range
        .map(|i| (format!("{client}-{i}"), format!("{client}-{codec}-{i}-{}", "compressible ".repeat(i % 17))))
        .collect()
}

fn stored_codecs(target: &impl Target, topic: &str, partitions: i32) -> BTreeSet<Codec> {
    let mut codecs: BTreeSet<Codec> = (0..partitions)
        .flat_map(|p| target.batches_on_disk(topic, p))
        .map(|batch| batch.codec().expect("a known codec"))
        .collect();
    // Clients may send a batch uncompressed when compressing does not make it smaller.
    codecs.remove(&Codec::None);
    codecs
}

/// One client's steps; returns a summary to compare with Kafka's.
fn client_steps(target: &impl Target, client: &str) -> Vec<String> {
    let bootstrap = target.bootstrap();
    let rf = target.replication_factor();
    let (main, codecs) = (format!("go-{client}"), format!("go-{client}-codecs"));
    let created = java_client_steps(&bootstrap, &[format!("create:{main}:3:{rf}"), format!("create:{codecs}:2:{rf}")]);
    assert_eq!(created.matches("created ").count(), 2, "{created}");

    // Default settings: produce, consume in a group and commit; a second member resumes there.
    let group = format!("{client}-group");
    let read = go(
        client,
        &bootstrap,
        &[
            format!("produce:{main}:default:0:100"),
            format!("group:{main}:{group}:100"),
            format!("produce:{main}:default:100:10"),
            format!("group:{main}:{group}:10"),
        ],
    );
    assert_eq!(read.len(), 2, "{client}: two group steps");
    assert_eq!(read[0], records(client, "default", 0..100), "{client}: the first consumer of the group");
    assert_eq!(read[1], records(client, "default", 100..110), "{client}: the group resumes at its commit");
    let default_codecs = stored_codecs(target, &main, 3);

    // Every codec explicitly, read back in one group.
    let mut steps: Vec<String> =
        CODECS.iter().enumerate().map(|(i, codec)| format!("produce:{codecs}:{codec}:{}:20", i * 20)).collect();
    steps.push(format!("group:{codecs}:{client}-codecs:100"));
    let read = go(client, &bootstrap, &steps);
    let want: BTreeSet<(String, String)> =
        CODECS.iter().enumerate().flat_map(|(i, codec)| records(client, codec, i * 20..i * 20 + 20)).collect();
    assert_eq!(read, vec![want], "{client}: every codec");
    let codecs_stored = stored_codecs(target, &codecs, 2);
    let want_codecs: BTreeSet<Codec> = CODECS[1..].iter().map(|c| Codec::from_name(c).expect("codec")).collect();
    assert_eq!(codecs_stored, want_codecs, "{client}: every codec stored as sent");
    vec![
        format!("{client}: default producer stored {default_codecs:?}; group read 100 then resumed with 10"),
        format!("{client}: codecs {codecs_stored:?} round-trip"),
    ]
}

fn run_steps(target: &impl Target) -> Vec<String> {
    let mut summary = client_steps(target, "franz");
    summary.extend(client_steps(target, "sarama"));
    summary
}

#[test]
fn franz_go_defaults_and_sarama_produce_consume_and_commit_on_rill_as_on_kafka() {
    let kafka = KafkaBroker::start(&temp_dir("go-kafka"), &[]);
    const TITLE: &str = "Go clients: franz-go (default settings, every codec) and Sarama";
    let reference = run_steps(&kafka);
    compat::record("go-clients", TITLE, "kafka", &reference);
    drop(kafka);
    assert!(reference[0].contains("Snappy"), "franz-go compresses with snappy by default: {reference:?}");

    let one = RillBroker::start(&temp_dir("go-rill"));
    let facts = run_steps(&one);
    compat::record("go-clients", TITLE, "rill-1", &facts);
    assert_eq!(facts, reference, "one Rill broker against Kafka 4.4");
    drop(one);

    let three = RillCluster::start(&temp_dir("go-rill3"), 3);
    let facts = run_steps(&three);
    compat::record("go-clients", TITLE, "rill-3", &facts);
    assert_eq!(facts, reference, "three Rill brokers against Kafka 4.4");
}
