//! Produce and consume throughput of the `rill` broker with a real client (kcat, librdkafka),
//! next to librdkafka's own in-memory mock cluster measured in the same run (a reference for
//! what the client and this machine can do). Prints a table for BENCHMARKS.md.
//!
//! `cargo bench -p rill-broker --bench client_throughput [-- --records N]`
//! Needs kcat and the Python venv from `scripts/setup.sh`.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("broker/ is in the repository").to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_rill(dir: &Path) -> (Process, String) {
    start_node(dir, free_port(), &[])
}

fn start_node(dir: &Path, port: u16, extra: &[String]) -> (Process, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_rill"))
        .args(["broker", "--set", &format!("listeners=PLAINTEXT://127.0.0.1:{port}")])
        .args(["--set", &format!("log.dirs={}", dir.display())])
        .args(extra.iter().flat_map(|pair| ["--set".to_owned(), pair.clone()]))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start rill");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "rill did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    (Process(child), format!("127.0.0.1:{port}"))
}

fn start_mock() -> (Process, String) {
    let mut child = Command::new(repo_root().join(".venv/bin/python"))
        .arg(repo_root().join("tests/clients/mock_cluster.py"))
        .arg("1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the librdkafka mock cluster (run scripts/setup.sh)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (Process(child), line.trim().to_owned())
}

fn kcat(bootstrap: &str) -> Command {
    let mut command = Command::new("kcat");
    command.args(["-b", bootstrap, "-q"]);
    command
}

/// Produces the file's lines as records; returns records/s.
fn produce(bootstrap: &str, topic: &str, file: &Path, records: u64, acks: &str) -> f64 {
    let started = Instant::now();
    let status = kcat(bootstrap)
        .args(["-P", "-t", topic, "-l"])
        .arg(file)
        .args(["-X", &format!("acks={acks}"), "-X", "linger.ms=5", "-X", "batch.size=1000000"])
        .args(["-X", "batch.num.messages=100000", "-X", "queue.buffering.max.messages=2000000"])
        .args(["-X", "queue.buffering.max.kbytes=2097151", "-X", "enable.idempotence=false"])
        .status()
        .expect("kcat -P");
    assert!(status.success(), "kcat -P failed against {bootstrap}");
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
    assert_eq!(got, records, "consumed {got} of {records}");
    records as f64 / elapsed
}

/// Three nodes on 127.0.0.1; returns them and the first node's address (the controller).
fn start_cluster(dir: &Path) -> (Vec<Process>, String) {
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let nodes: Vec<String> =
        ports.iter().enumerate().map(|(i, (k, n))| format!("{}@127.0.0.1:{k}:{n}", i + 1)).collect();
    let mut processes = Vec::new();
    let mut first = String::new();
    for (i, (kafka, _)) in ports.iter().enumerate() {
        let extra = [format!("node.id={}", i + 1), format!("rill.cluster.nodes={}", nodes.join(","))];
        let (process, address) = start_node(&dir.join(format!("node-{}", i + 1)), *kafka, &extra);
        processes.push(process);
        if i == 0 {
            first = address;
        }
    }
    (processes, first)
}

fn create(bootstrap: &str, topic: &str, partitions: i32) {
    create_replicated(bootstrap, topic, partitions, 1, 1);
}

fn create_replicated(bootstrap: &str, topic: &str, partitions: i32, replication_factor: i16, min_isr: i32) {
    let status = Command::new(env!("CARGO_BIN_EXE_rill"))
        .args(["topics", "create", "--bootstrap-server", bootstrap, "--topic", topic])
        .args(["--partitions", &partitions.to_string(), "--replication-factor", &replication_factor.to_string()])
        .args(["--config", &format!("min.insync.replicas={min_isr}")])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let records: u64 = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let data_dir = repo_root().join("target/bench-data");
    std::fs::create_dir_all(&data_dir).unwrap();
    let file = data_dir.join(format!("records-{records}.txt"));
    if !file.exists() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        for i in 0..records {
            // 100-byte values.
            writeln!(out, "{:0>100}", i).unwrap();
        }
    }
    let log_dir = std::env::temp_dir().join(format!("rill-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&log_dir);
    let (_rill, rill) = start_rill(&log_dir);
    let (_mock, mock) = start_mock();
    create(&rill, "bench-acks1", 1);
    create(&rill, "bench-acksall", 1);
    // Warm up both (metadata, topic creation, connections).
    let small = data_dir.join("warmup.txt");
    std::fs::write(&small, "warm\n".repeat(1_000)).unwrap();
    produce(&rill, "warmup", &small, 1_000, "1");
    produce(&mock, "warmup", &small, 1_000, "1");
    let mock_acks1 = produce(&mock, "bench-acks1", &file, records, "1");
    let rill_acks1 = produce(&rill, "bench-acks1", &file, records, "1");
    let mock_all = produce(&mock, "bench-acksall", &file, records, "all");
    let rill_all = produce(&rill, "bench-acksall", &file, records, "all");
    let rill_consume = consume(&rill, "bench-acks1", records);
    let (_cluster, controller) = start_cluster(&log_dir.join("cluster"));
    create_replicated(&controller, "bench-rf3", 1, 3, 2);
    produce(&controller, "warmup", &small, 1_000, "1");
    let cluster_all = produce(&controller, "bench-rf3", &file, records, "all");
    let cluster_consume = consume(&controller, "bench-rf3", records);
    let _ = std::fs::remove_dir_all(&log_dir);
    println!("client throughput, {records} records of 100 B, kcat (librdkafka), 1 partition, 1 broker:");
    println!("| case | rill records/s | librdkafka mock records/s (reference) | rill / mock |");
    println!("|---|---:|---:|---:|");
    println!("| produce acks=1 | {rill_acks1:.0} | {mock_acks1:.0} | {:.2} |", rill_acks1 / mock_acks1);
    println!("| produce acks=all | {rill_all:.0} | {mock_all:.0} | {:.2} |", rill_all / mock_all);
    println!("| consume from the start | {rill_consume:.0} | (the mock keeps ~46k records per partition) | |");
    println!("| 3 brokers, RF 3, min.insync.replicas 2: produce acks=all | {cluster_all:.0} | {mock_all:.0} (1 mock broker) | {:.2} |", cluster_all / mock_all);
    println!("| 3 brokers: consume from the start | {cluster_consume:.0} | | |");
}
