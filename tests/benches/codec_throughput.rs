//! Produce and consume throughput with each compression codec: one `rill` broker (release
//! build) next to Apache Kafka 4.4 (the reference, one KRaft node) in the same run, the same
//! client (kcat, librdkafka) and records. Prints the table BENCHMARKS.md records.
//!
//! `cargo bench -p rill-tests --bench codec_throughput [-- --records N | --quick]`
//! Needs `scripts/setup.sh` (kcat, Kafka's jars, Java).
// A benchmark measures wall time and runs processes; it is a host of core, not core itself.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use rill_tests::kafka::{java_client_steps, KafkaBroker};
use rill_tests::{repo_root, RillBroker, Target};

fn kcat(bootstrap: &str) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", bootstrap, "-q"]);
    command
}

/// Produces the file's `key:value` lines with `codec`; returns records/s.
fn produce(bootstrap: &str, topic: &str, file: &Path, records: u64, codec: &str) -> f64 {
    let started = Instant::now();
    let status = kcat(bootstrap)
        .args(["-P", "-t", topic, "-K:", "-z", codec, "-l"])
        .arg(file)
        .args(["-X", "acks=1", "-X", "linger.ms=5", "-X", "batch.size=1000000", "-X", "enable.idempotence=false"])
        .args(["-X", "batch.num.messages=100000", "-X", "queue.buffering.max.messages=2000000"])
        .args(["-X", "queue.buffering.max.kbytes=2097151"])
        .status()
        .expect("kcat -P");
    assert!(status.success(), "kcat -P -z {codec} failed against {bootstrap}");
    records as f64 / started.elapsed().as_secs_f64()
}

/// Consumes `records` records from the start; returns records/s.
fn consume(bootstrap: &str, topic: &str, records: u64) -> f64 {
    let started = Instant::now();
    let output = kcat(bootstrap)
        .args(["-C", "-t", topic, "-o", "beginning", "-e", "-c", &records.to_string(), "-f", "%o\n"])
        .args(["-X", "fetch.message.max.bytes=4194304", "-X", "queued.min.messages=1000000"])
        .stderr(Stdio::null())
        .output()
        .expect("kcat -C");
    let elapsed = started.elapsed().as_secs_f64();
    let got = output.stdout.iter().filter(|b| **b == b'\n').count() as u64;
    assert_eq!(got, records, "consumed {got} of {records} from {topic} on {bootstrap}");
    records as f64 / elapsed
}

/// Creates the topic (Kafka's Java AdminClient), produces and consumes it: (produce rec/s,
/// consume rec/s, bytes stored).
fn measure(
    target: &dyn Target,
    topic: &str,
    config: &str,
    file: &Path,
    records: u64,
    codec: &str,
) -> (f64, f64, usize) {
    let bootstrap = target.bootstrap();
    let created = java_client_steps(&bootstrap, &[format!("create:{topic}:1:1{config}")]);
    assert!(created.contains("created"), "{created}");
    let produced = produce(&bootstrap, topic, file, records, codec);
    let consumed = consume(&bootstrap, topic, records);
    let stored = target.batches_on_disk(topic, 0).iter().map(rill_core::record::RecordBatch::size_bytes).sum();
    (produced, consumed, stored)
}

struct Row {
    case: String,
    rill: (f64, f64, usize),
    kafka: (f64, f64, usize),
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let records: u64 = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 20_000 } else { 500_000 });
    let data_dir = repo_root().join("target/bench-data");
    std::fs::create_dir_all(&data_dir).expect("bench data dir");
    // JSON-like click events (~100 B values, keyed): compressible as real event streams are.
    let file = data_dir.join(format!("events-{records}.txt"));
    if !file.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("data file"));
        for i in 0..records {
            writeln!(
                out,
                "user-{}:{{\"user\":\"user-{}\",\"event\":\"click\",\"page\":\"/products/{}\",\"ts\":{}}}",
                i % 5_000,
                i % 5_000,
                i % 250,
                1_700_000_000_000u64 + i * 7
            )
            .expect("write data");
        }
    }
    let dir = std::env::temp_dir().join(format!("rill-codec-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("bench dir");
    let rill = RillBroker::start_release(&dir.join("rill"));
    let kafka = KafkaBroker::start(&dir.join("kafka"), &[]);
    let cases: Vec<(String, &str, Option<&str>)> = ["none", "lz4", "zstd", "snappy", "gzip"]
        .iter()
        .map(|codec| (format!("producer {codec}"), *codec, None))
        .chain([("producer lz4, topic compression.type=zstd".to_owned(), "lz4", Some("zstd"))])
        .collect();
    let mut rows = Vec::new();
    for (index, (case, codec, topic_codec)) in cases.iter().enumerate() {
        let topic = format!("bench-{index}");
        let config = topic_codec.map(|c| format!(":compression.type={c}")).unwrap_or_default();
        let rill_figures = measure(&rill, &topic, &config, &file, records, codec);
        let kafka_figures = measure(&kafka, &topic, &config, &file, records, codec);
        rows.push(Row { case: case.clone(), rill: rill_figures, kafka: kafka_figures });
    }
    drop(kafka);
    drop(rill);
    let _ = std::fs::remove_dir_all(&dir);
    println!("codec throughput, {records} keyed JSON-like records (~100 B), kcat (librdkafka) acks=1, 1 partition:");
    println!("| case | rill produce rec/s | kafka produce rec/s | ratio | rill consume rec/s | kafka consume rec/s | ratio | rill stored MB | kafka stored MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let mb = |bytes: usize| bytes as f64 / 1_000_000.0;
        println!(
            "| {} | {:.0} | {:.0} | {:.2} | {:.0} | {:.0} | {:.2} | {:.1} | {:.1} |",
            row.case,
            row.rill.0,
            row.kafka.0,
            row.rill.0 / row.kafka.0,
            row.rill.1,
            row.kafka.1,
            row.rill.1 / row.kafka.1,
            mb(row.rill.2),
            mb(row.kafka.2)
        );
    }
}
