//! Compressed record batches through the partition log (issue 15): every Kafka codec appends,
//! reads back and compacts with offsets, sequences and timestamps intact; `compression.type`
//! recompresses as Kafka's `LogValidator` does; corrupt and inflating batches are refused with
//! `CORRUPT_MESSAGE`, never a panic. The codecs are the `compression` feature, which the
//! workspace's test run turns on (the broker needs it).
#![cfg(feature = "compression")]

use bytes::Bytes;
use proptest::prelude::*;
use rill_core::compression::{Codec, DECOMPRESSED_BYTES_MAX};
use rill_core::config::{CleanupPolicy, CompressionType, TopicConfig};
use rill_core::error::ErrorCode;
use rill_core::log::{PartitionLog, ReadLimit};
use rill_core::record::{BatchBuilder, ProducerInfo, Record, RecordBatch};
use rill_core::storage::MemStorage;

const CODECS: [Codec; 5] = [Codec::None, Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd];

fn records(prefix: &str, count: usize, first_timestamp_ms: i64) -> Vec<Record> {
    (0..count)
        .map(|i| {
            let key = format!("{prefix}-key-{}", i % 7);
            let value = format!("{prefix}-value-{i}-{}", "payload ".repeat(i % 13));
            let mut record = Record::new(Some(key.as_bytes()), Some(value.as_bytes()), first_timestamp_ms + i as i64);
            record.headers.push(rill_core::record::Header { key: "h".into(), value: Some(Bytes::from(vec![i as u8])) });
            record
        })
        .collect()
}

fn batch(records: &[Record], codec: Codec, producer: ProducerInfo) -> RecordBatch {
    let mut builder = BatchBuilder::new().producer(producer);
    for record in records {
        builder.push(record);
    }
    builder.build().with_codec(codec).unwrap()
}

/// (offset, key, value, timestamp, headers) of every record in the log.
fn contents(log: &PartitionLog<MemStorage>) -> Vec<(i64, Record)> {
    let read = log.read(log.log_start_offset(), usize::MAX, ReadLimit::LogEnd).unwrap();
    read.batches.iter().flat_map(RecordBatch::records).map(|r| r.unwrap()).map(|r| (r.offset, r.record)).collect()
}

fn stored_codecs(log: &PartitionLog<MemStorage>) -> Vec<Codec> {
    let read = log.read(log.log_start_offset(), usize::MAX, ReadLimit::LogEnd).unwrap();
    read.batches.iter().map(|b| b.codec().unwrap()).collect()
}

fn log_with(compression_type: CompressionType) -> PartitionLog<MemStorage> {
    PartitionLog::new(MemStorage::new(), TopicConfig { compression_type, ..TopicConfig::default() })
}

#[test]
fn producer_compression_is_kept_and_every_record_reads_back_at_its_offset() {
    let mut log = log_with(CompressionType::Producer);
    let mut expected = Vec::new();
    for (i, codec) in CODECS.into_iter().enumerate() {
        let written = records(&codec.to_string(), 40, 1_000 * i as i64);
        let producer = ProducerInfo { producer_id: 7, producer_epoch: 0, base_sequence: 40 * i as i32 };
        let info = log.append_as_leader(0, batch(&written, codec, producer), 3).unwrap();
        assert_eq!((info.base_offset, info.last_offset), (40 * i as i64, 40 * i as i64 + 39));
        expected.extend(written.into_iter().enumerate().map(|(j, r)| (40 * i as i64 + j as i64, r)));
    }
    assert_eq!(stored_codecs(&log), CODECS);
    assert_eq!(contents(&log), expected);
    let read = log.read(0, usize::MAX, ReadLimit::LogEnd).unwrap();
    for (i, stored) in read.batches.iter().enumerate() {
        stored.validate().unwrap();
        assert_eq!(stored.producer().base_sequence, 40 * i as i32);
        assert_eq!(stored.partition_leader_epoch(), 3);
        assert_eq!(stored.max_timestamp_ms(), 1_000 * i as i64 + 39);
    }
}

#[test]
fn a_topic_codec_recompresses_every_batch_and_keeps_its_header() {
    for target in CODECS {
        let mut log = log_with(CompressionType::Codec(target));
        let mut expected = Vec::new();
        for (i, codec) in CODECS.into_iter().enumerate() {
            let written = records("r", 25, 500 * i as i64);
            let producer = ProducerInfo { producer_id: 11, producer_epoch: 2, base_sequence: 25 * i as i32 };
            let sent = batch(&written, codec, producer);
            log.append_as_leader(0, sent.clone(), 1).unwrap();
            expected.extend(written.into_iter().enumerate().map(|(j, r)| (25 * i as i64 + j as i64, r)));
        }
        assert_eq!(stored_codecs(&log), vec![target; CODECS.len()], "compression.type={target}");
        assert_eq!(contents(&log), expected, "compression.type={target}");
        for (i, stored) in log.read(0, usize::MAX, ReadLimit::LogEnd).unwrap().batches.iter().enumerate() {
            stored.validate().unwrap();
            assert_eq!(
                stored.producer(),
                ProducerInfo { producer_id: 11, producer_epoch: 2, base_sequence: 25 * i as i32 }
            );
        }
    }
}

#[test]
fn recompression_that_outgrows_max_message_bytes_is_refused() {
    // Random-looking values: gzip makes them no smaller, so the uncompressed batch is bigger.
    let noise: Vec<Record> = (0..50u64)
        .map(|i| {
            let value: Vec<u8> =
                (0..200u64).map(|j| (i * 7919 + j * 104_729).wrapping_mul(2_654_435_761) as u8).collect();
            Record::new(None, Some(&value), 0)
        })
        .collect();
    let sent = batch(&noise, Codec::Gzip, ProducerInfo::default());
    let uncompressed = sent.with_codec(Codec::None).unwrap();
    let limit = i32::try_from(sent.size_bytes().min(uncompressed.size_bytes())).unwrap();
    let mut log = PartitionLog::new(
        MemStorage::new(),
        TopicConfig {
            compression_type: CompressionType::Codec(Codec::None),
            max_message_bytes: limit,
            ..TopicConfig::default()
        },
    );
    let bigger = if uncompressed.size_bytes() > sent.size_bytes() {
        sent
    } else {
        uncompressed.with_codec(Codec::Gzip).unwrap()
    };
    let error = log.append_as_leader(0, bigger, 0).unwrap_err();
    assert_eq!(error.code, ErrorCode::MessageTooLarge, "{error}");
    assert_eq!(log.log_end_offset(), 0);
}

#[test]
fn compaction_keeps_the_codec_and_the_last_value_of_each_key() {
    for codec in CODECS {
        let config =
            TopicConfig { cleanup_policy: CleanupPolicy::COMPACT, segment_bytes: 400, ..TopicConfig::default() };
        let mut log = PartitionLog::new(MemStorage::new(), config);
        let mut last = std::collections::BTreeMap::new();
        for round in 0..30 {
            let written = records(&format!("round{round}"), 10, round * 10);
            // Same keys every round (k0..k6 within a prefix), so give them one shared prefix.
            let written: Vec<Record> = written
                .into_iter()
                .enumerate()
                .map(|(i, mut r)| {
                    r.key = Some(Bytes::from(format!("key-{}", i % 4)));
                    r
                })
                .collect();
            let info = log.append_as_leader(0, batch(&written, codec, ProducerInfo::default()), 0).unwrap();
            for (i, record) in written.iter().enumerate() {
                last.insert(record.key.clone(), (info.base_offset + i as i64, record.value.clone()));
            }
        }
        log.set_high_watermark(log.log_end_offset());
        let result = log.compact(10_000).unwrap();
        assert!(result.records_removed > 100, "{codec}: {result:?}");
        assert!(stored_codecs(&log).iter().all(|c| *c == codec), "{codec}: {:?}", stored_codecs(&log));
        let after = contents(&log);
        // Every key's last write survives at its offset, and offsets still only grow.
        for (key, (offset, value)) in &last {
            assert!(after.iter().any(|(o, r)| o == offset && &r.key == key && &r.value == value), "{codec}: {key:?}");
        }
        assert!(after.windows(2).all(|w| w[0].0 < w[1].0), "{codec}");
    }
}

/// A batch's wire bytes with the compressed records replaced by `records` and a correct CRC, so
/// only the decompression can object.
fn forged(codec: Codec, records: &[u8], record_count: i32) -> Bytes {
    let mut wire = batch(&[Record::new(None, Some(b"x"), 0)], codec, ProducerInfo::default()).to_wire();
    wire.truncate(61);
    wire.extend_from_slice(records);
    let length = i32::try_from(wire.len() - 12).unwrap();
    wire[8..12].copy_from_slice(&length.to_be_bytes());
    wire[57..61].copy_from_slice(&record_count.to_be_bytes());
    wire[23..27].copy_from_slice(&(record_count - 1).to_be_bytes());
    let crc = crc32c::crc32c(&wire[21..]);
    wire[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(wire)
}

#[test]
fn corrupt_and_inflating_batches_are_corrupt_message() {
    let mut log = log_with(CompressionType::Producer);
    for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
        let error = RecordBatch::from_wire(forged(codec, b"definitely not compressed", 1)).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage, "{codec}: {error}");
        // A zip bomb: 64 MiB + 1 of zeros in a small batch.
        let zeros = vec![0u8; DECOMPRESSED_BYTES_MAX + 1];
        let bomb = rill_core::compression::compress(codec, &zeros).unwrap();
        let error = RecordBatch::from_wire(forged(codec, &bomb, 1)).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage, "{codec}: {error}");
        assert!(error.message.contains("more than"), "{codec}: {error}");
        // Compressed well-formed records that do not match the header's count.
        let plain = batch(&records("c", 3, 0), Codec::None, ProducerInfo::default());
        let inner = rill_core::compression::compress(codec, plain.records_bytes()).unwrap();
        let error = RecordBatch::from_wire(forged(codec, &inner, 4)).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage, "{codec}: {error}");
        assert!(RecordBatch::from_wire(forged(codec, &inner, 3)).is_ok(), "{codec}");
    }
    assert_eq!(log.log_end_offset(), 0);
    let good =
        RecordBatch::from_wire(forged(Codec::Zstd, &rill_core::compression::compress(Codec::Zstd, b"").unwrap(), 1));
    assert!(good.is_err(), "an empty record set cannot hold one record");
    log.append_as_leader(0, batch(&records("ok", 2, 0), Codec::Lz4, ProducerInfo::default()), 0).unwrap();
    assert_eq!(log.log_end_offset(), 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// Fuzz: any bytes as any codec's payload, or a real compressed payload with bytes flipped,
    /// are an error or a batch whose records all decode; never a panic.
    #[test]
    fn fuzzed_compressed_batches_never_panic(
        codec in prop::sample::select(vec![Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd]),
        garbage in prop::collection::vec(any::<u8>(), 0..300),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        count in 1i32..8,
    ) {
        let plain = batch(&records("f", 5, 0), Codec::None, ProducerInfo::default());
        let mut payload = rill_core::compression::compress(codec, plain.records_bytes()).unwrap();
        for (index, byte) in flips {
            let at = index.index(payload.len());
            payload[at] ^= byte;
        }
        for candidate in [garbage, payload] {
            if let Ok(parsed) = RecordBatch::from_wire(forged(codec, &candidate, count)) {
                prop_assert!(parsed.records().all(|r| r.is_ok()));
                let mut log = log_with(CompressionType::Codec(Codec::Gzip));
                log.append_as_leader(0, parsed, 0).unwrap();
            }
        }
    }
}
