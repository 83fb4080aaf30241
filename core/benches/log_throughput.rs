//! Append and read throughput of `PartitionLog` over `MemStorage`, printed as a table.
//!
//! `cargo bench -p rill-core --bench log_throughput` (add `-- --quick` for a short run).
//! 100-byte values in batches of 1 and 1000. Batches are built once up front (as a producer or
//! the wire decoder would hand them over) and appended as cheap clones, so the figure is the
//! log's own cost: CRC and framing validation, offset assignment, segment rolling, storage.
//! A reference measured in the same run (a plain `Vec::extend_from_slice` of the same bytes)
//! gives a machine-independent ratio.

// A benchmark measures wall time; it is a host of core, not core itself.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use rill_core::config::TopicConfig;
use rill_core::log::{PartitionLog, ReadLimit};
use rill_core::record::{BatchBuilder, Record, RecordBatch};
use rill_core::storage::MemStorage;

const VALUE_BYTES: usize = 100;

fn batches(batch_records: usize, total_records: usize) -> Vec<RecordBatch> {
    let value = vec![b'x'; VALUE_BYTES];
    (0..total_records / batch_records)
        .map(|index| {
            let mut builder = BatchBuilder::new();
            for _ in 0..batch_records {
                builder.push(&Record::new(None, Some(&value), i64::try_from(index).unwrap()));
            }
            builder.build()
        })
        .collect()
}

struct Figures {
    records_per_s: f64,
    mb_per_s: f64,
}

fn figures(records: usize, bytes: usize, elapsed: Duration) -> Figures {
    let seconds = elapsed.as_secs_f64();
    Figures { records_per_s: records as f64 / seconds, mb_per_s: bytes as f64 / seconds / 1e6 }
}

fn config() -> TopicConfig {
    // 64 MiB segments: several rolls per run, like a busy partition.
    TopicConfig { segment_bytes: 64 << 20, ..TopicConfig::default() }
}

/// Best of `rounds` runs of appending every batch to a fresh log.
fn bench_append(input: &[RecordBatch], rounds: usize) -> (Figures, PartitionLog<MemStorage>) {
    let records: usize = input.iter().map(|b| usize::try_from(b.record_count()).unwrap()).sum();
    let bytes: usize = input.iter().map(RecordBatch::size_bytes).sum();
    let mut best = Duration::MAX;
    let mut last_log = None;
    for _ in 0..rounds {
        let mut log = PartitionLog::new(MemStorage::new(), config());
        let start = Instant::now();
        for (index, batch) in input.iter().enumerate() {
            let now_ms = u64::try_from(index).unwrap();
            black_box(log.append_as_leader(now_ms, batch.clone(), 0).unwrap());
        }
        best = best.min(start.elapsed());
        last_log = Some(log);
    }
    let mut log = last_log.unwrap();
    log.set_high_watermark(log.log_end_offset());
    (figures(records, bytes, best), log)
}

/// Best of `rounds` full scans, reading 1 MiB per fetch like a consumer, decoding every record.
fn bench_read(log: &PartitionLog<MemStorage>, rounds: usize) -> Figures {
    let mut best = Duration::MAX;
    let mut records = 0usize;
    let mut bytes = 0usize;
    for _ in 0..rounds {
        records = 0;
        bytes = 0;
        let start = Instant::now();
        let mut offset = 0;
        while offset < log.high_watermark() {
            let read = log.read(offset, 1 << 20, ReadLimit::HighWatermark).unwrap();
            for batch in &read.batches {
                for record in batch.records() {
                    black_box(record.unwrap());
                    records += 1;
                }
                bytes += batch.size_bytes();
                offset = batch.next_offset();
            }
        }
        best = best.min(start.elapsed());
    }
    figures(records, bytes, best)
}

/// Reference: copying the same bytes into a Vec, best of `rounds`.
fn bench_memcpy(input: &[RecordBatch], rounds: usize) -> Figures {
    let bytes: usize = input.iter().map(RecordBatch::size_bytes).sum();
    let records: usize = input.iter().map(|b| usize::try_from(b.record_count()).unwrap()).sum();
    let mut best = Duration::MAX;
    for _ in 0..rounds {
        let mut sink: Vec<u8> = Vec::with_capacity(bytes);
        let start = Instant::now();
        for batch in input {
            sink.extend_from_slice(batch.records_bytes());
        }
        black_box(&sink);
        best = best.min(start.elapsed());
    }
    figures(records, bytes, best)
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let (total, rounds) = if quick { (200_000, 2) } else { (2_000_000, 5) };
    println!("PartitionLog over MemStorage, {VALUE_BYTES} B values, {total} records, best of {rounds}");
    println!("{:<34} {:>14} {:>10} {:>12}", "case", "records/s", "MB/s", "vs memcpy");
    for batch_records in [1usize, 1000] {
        let build_start = Instant::now();
        let input = batches(batch_records, total);
        let build_bytes: usize = input.iter().map(RecordBatch::size_bytes).sum();
        let build = figures(total, build_bytes, build_start.elapsed());
        let reference = bench_memcpy(&input, rounds);
        let (append, log) = bench_append(&input, rounds);
        let read = bench_read(&log, rounds);
        for (name, figure) in [
            (format!("append, batches of {batch_records}"), &append),
            (format!("read+decode, batches of {batch_records}"), &read),
            (format!("build (encode+CRC), batches of {batch_records}"), &build),
            (format!("reference memcpy, batches of {batch_records}"), &reference),
        ] {
            println!(
                "{:<34} {:>14.0} {:>10.0} {:>12.3}",
                name,
                figure.records_per_s,
                figure.mb_per_s,
                figure.mb_per_s / reference.mb_per_s
            );
        }
    }
}
