//! Property test: `PartitionLog` over `MemStorage` against a simple model, over random
//! sequences of append / read / truncate / roll / high-watermark / retention / flush / crash.

use proptest::prelude::*;
use rill_core::config::TopicConfig;
use rill_core::log::{PartitionLog, ReadLimit, RetentionReason};
use rill_core::record::{BatchBuilder, Record, RecordBatch};
use rill_core::storage::{MemStorage, Storage};
use rill_core::ErrorCode;

#[derive(Clone, Debug)]
enum Op {
    Append { count: usize, advance_ms: u64 },
    Read { position: u16, max_bytes: usize, committed_only: bool },
    Truncate { position: u16 },
    Roll,
    SetHighWatermark { position: u16 },
    Retention { advance_ms: u64, retention_ms: i64, retention_bytes: i64 },
    Flush,
    Crash,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (1usize..6, 0u64..50_000).prop_map(|(count, advance_ms)| Op::Append { count, advance_ms }),
        3 => (any::<u16>(), 1usize..2_000, any::<bool>())
            .prop_map(|(position, max_bytes, committed_only)| Op::Read { position, max_bytes, committed_only }),
        1 => any::<u16>().prop_map(|position| Op::Truncate { position }),
        1 => Just(Op::Roll),
        2 => any::<u16>().prop_map(|position| Op::SetHighWatermark { position }),
        1 => (0u64..400_000, prop_oneof![Just(-1i64), 0i64..300_000], prop_oneof![Just(-1i64), 0i64..3_000])
            .prop_map(|(advance_ms, retention_ms, retention_bytes)| Op::Retention { advance_ms, retention_ms, retention_bytes }),
        1 => Just(Op::Flush),
        1 => Just(Op::Crash),
    ]
}

/// One batch as the model remembers it.
#[derive(Clone, Debug)]
struct ModelBatch {
    base_offset: i64,
    values: Vec<String>,
    size_bytes: u64,
    max_timestamp_ms: i64,
}

impl ModelBatch {
    fn next_offset(&self) -> i64 {
        self.base_offset + i64::try_from(self.values.len()).unwrap()
    }
}

#[derive(Clone, Debug)]
struct ModelSegment {
    base_offset: i64,
    batches: Vec<ModelBatch>,
}

impl ModelSegment {
    fn next_offset(&self) -> i64 {
        self.batches.last().map_or(self.base_offset, ModelBatch::next_offset)
    }
    fn size_bytes(&self) -> u64 {
        self.batches.iter().map(|batch| batch.size_bytes).sum()
    }
}

/// The simplest description of a Kafka log: segments of batches, a high watermark and a
/// flushed offset.
#[derive(Debug)]
struct Model {
    segments: Vec<ModelSegment>,
    high_watermark: i64,
    flushed_offset: i64,
    config: TopicConfig,
}

impl Model {
    fn start(&self) -> i64 {
        self.segments[0].base_offset
    }
    fn end(&self) -> i64 {
        self.segments.last().unwrap().next_offset()
    }
    fn batches(&self) -> impl Iterator<Item = &ModelBatch> {
        self.segments.iter().flat_map(|segment| segment.batches.iter())
    }
    fn pick(&self, position: u16) -> i64 {
        // An offset in [start - 1, end + 1], to hit both edges and both out-of-range sides.
        let span = self.end() - self.start() + 3;
        self.start() - 1 + i64::from(position) % span
    }

    /// Appends; returns whether a new segment was rolled first.
    fn append(&mut self, batch: &RecordBatch, values: Vec<String>) -> bool {
        let mut rolled = false;
        let size = u64::try_from(batch.size_bytes()).unwrap();
        let active = self.segments.last().unwrap();
        if let Some(first) = active.batches.first() {
            let full = active.size_bytes() + size > u64::try_from(self.config.segment_bytes).unwrap();
            let old = batch.max_timestamp_ms() - first.max_timestamp_ms > self.config.segment_ms;
            if full || old {
                let base_offset = self.end();
                self.segments.push(ModelSegment { base_offset, batches: Vec::new() });
                rolled = true;
            }
        }
        let base_offset = self.end();
        self.segments.last_mut().unwrap().batches.push(ModelBatch {
            base_offset,
            values,
            size_bytes: size,
            max_timestamp_ms: batch.max_timestamp_ms(),
        });
        rolled
    }

    fn truncate(&mut self, offset: i64) {
        if offset >= self.end() {
            return;
        }
        for segment in &mut self.segments {
            segment.batches.retain(|batch| batch.next_offset() <= offset);
        }
        while self.segments.len() > 1 && self.segments.last().unwrap().batches.is_empty() {
            self.segments.pop();
        }
        self.high_watermark = self.high_watermark.min(self.end());
        self.flushed_offset = self.flushed_offset.min(self.end());
    }

    fn roll(&mut self) {
        if !self.segments.last().unwrap().batches.is_empty() {
            let base_offset = self.end();
            self.segments.push(ModelSegment { base_offset, batches: Vec::new() });
        }
    }

    /// Kafka: time pass, then size pass; each deletes a prefix of non-active segments that
    /// lie wholly below the high watermark.
    fn retention(&mut self, now_ms: i64) -> Vec<RetentionReason> {
        let mut reasons = Vec::new();
        if self.config.retention_ms >= 0 {
            while self.segments.len() > 1
                && self.segments[0].next_offset() <= self.high_watermark
                && now_ms - self.segments[0].batches.iter().map(|b| b.max_timestamp_ms).max().unwrap()
                    > self.config.retention_ms
            {
                self.segments.remove(0);
                self.flushed_offset = self.flushed_offset.max(self.start());
                reasons.push(RetentionReason::Time);
            }
        }
        if self.config.retention_bytes >= 0 {
            let total: u64 = self.segments.iter().map(ModelSegment::size_bytes).sum();
            let mut excess = i64::try_from(total).unwrap() - self.config.retention_bytes;
            while self.segments.len() > 1 && self.segments[0].next_offset() <= self.high_watermark {
                let size = i64::try_from(self.segments[0].size_bytes()).unwrap();
                if excess - size < 0 {
                    break;
                }
                excess -= size;
                self.segments.remove(0);
                self.flushed_offset = self.flushed_offset.max(self.start());
                reasons.push(RetentionReason::Size);
            }
        }
        reasons
    }
}

fn values_of(batch: &RecordBatch) -> Vec<String> {
    batch.records().map(|record| String::from_utf8(record.unwrap().record.value.unwrap().to_vec()).unwrap()).collect()
}

fn check_same(log: &PartitionLog<MemStorage>, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(log.log_start_offset(), model.start());
    prop_assert_eq!(log.log_end_offset(), model.end());
    prop_assert_eq!(log.high_watermark(), model.high_watermark);
    prop_assert_eq!(log.storage().flushed_offset(), model.flushed_offset);
    prop_assert!(model.start() <= model.high_watermark && model.high_watermark <= model.end());
    let segments = log.segments();
    prop_assert_eq!(segments.len(), model.segments.len(), "segments {:?}", segments);
    for (actual, expected) in segments.iter().zip(&model.segments) {
        prop_assert_eq!(actual.base_offset, expected.base_offset);
        prop_assert_eq!(actual.next_offset, expected.next_offset());
        prop_assert_eq!(actual.size_bytes, expected.size_bytes());
    }
    let read = log.read(model.start(), usize::MAX, ReadLimit::LogEnd).unwrap();
    let actual: Vec<(i64, Vec<String>)> = read.batches.iter().map(|b| (b.base_offset(), values_of(b))).collect();
    let expected: Vec<(i64, Vec<String>)> = model.batches().map(|b| (b.base_offset, b.values.clone())).collect();
    prop_assert_eq!(actual, expected);
    Ok(())
}

fn run(ops: Vec<Op>, segment_bytes: i32, segment_ms: i64) -> Result<(), TestCaseError> {
    let config = TopicConfig { segment_bytes, segment_ms, ..TopicConfig::default() };
    let mut log = PartitionLog::new(MemStorage::new(), config.clone());
    let mut model = Model {
        segments: vec![ModelSegment { base_offset: 0, batches: Vec::new() }],
        high_watermark: 0,
        flushed_offset: 0,
        config,
    };
    let mut now_ms: u64 = 1_000_000;
    let mut next_value = 0u64;
    for op in ops {
        match op {
            Op::Append { count, advance_ms } => {
                now_ms += advance_ms;
                let values: Vec<String> = (0..count).map(|i| format!("r{}", next_value + i as u64)).collect();
                next_value += count as u64;
                let records: Vec<Record> = values
                    .iter()
                    .map(|value| Record::new(None, Some(value.as_bytes()), i64::try_from(now_ms).unwrap()))
                    .collect();
                let batch = BatchBuilder::from_records(&records);
                let info = log.append_as_leader(now_ms, batch.clone(), 3).unwrap();
                prop_assert_eq!(info.base_offset, model.end());
                let rolled = model.append(&batch, values);
                prop_assert_eq!(info.rolled, rolled, "segment roll decision");
            }
            Op::Read { position, max_bytes, committed_only } => {
                let offset = model.pick(position);
                let limit = if committed_only { ReadLimit::HighWatermark } else { ReadLimit::LogEnd };
                let result = log.read(offset, max_bytes, limit);
                if offset < model.start() || offset > model.end() {
                    prop_assert_eq!(result.unwrap_err().code, ErrorCode::OffsetOutOfRange);
                    continue;
                }
                let read = result.unwrap();
                let upper = if committed_only { model.high_watermark } else { model.end() };
                let mut expected = Vec::new();
                let mut total = 0u64;
                for batch in model.batches().filter(|b| b.next_offset() > offset) {
                    if !expected.is_empty() && total + batch.size_bytes > max_bytes as u64 {
                        break;
                    }
                    total += batch.size_bytes;
                    expected.push(batch);
                }
                let expected: Vec<(i64, Vec<String>)> = expected
                    .into_iter()
                    .filter(|b| b.next_offset() <= upper)
                    .map(|b| (b.base_offset, b.values.clone()))
                    .collect();
                let actual: Vec<(i64, Vec<String>)> =
                    read.batches.iter().map(|b| (b.base_offset(), values_of(b))).collect();
                prop_assert_eq!(actual, expected);
                prop_assert!(read.batches.iter().all(|b| b.partition_leader_epoch() == 3));
            }
            Op::Truncate { position } => {
                let offset = model.pick(position);
                let result = log.truncate_to(offset);
                if offset < model.start() {
                    prop_assert_eq!(result.unwrap_err().code, ErrorCode::OffsetOutOfRange);
                } else {
                    result.unwrap();
                    model.truncate(offset);
                }
            }
            Op::Roll => {
                log.roll().unwrap();
                model.roll();
            }
            Op::SetHighWatermark { position } => {
                let span = model.end() - model.start() + 1;
                let high_watermark = model.start() + i64::from(position) % span;
                log.set_high_watermark(high_watermark);
                model.high_watermark = high_watermark;
            }
            Op::Retention { advance_ms, retention_ms, retention_bytes } => {
                now_ms += advance_ms;
                let config = TopicConfig { retention_ms, retention_bytes, ..log.config().clone() };
                log.set_config(config.clone());
                model.config = config;
                let deleted = log.apply_retention(now_ms).unwrap();
                let reasons: Vec<RetentionReason> = deleted.iter().map(|d| d.reason).collect();
                prop_assert_eq!(reasons, model.retention(i64::try_from(now_ms).unwrap()));
            }
            Op::Flush => {
                log.flush().unwrap();
                model.flushed_offset = model.end();
            }
            Op::Crash => {
                // A crash loses the unflushed tail; the broker reopens the log from storage.
                let config = log.config().clone();
                let mut storage = log.storage().clone();
                storage.crash();
                log = PartitionLog::new(storage, config);
                model.truncate(model.flushed_offset);
                model.high_watermark = model.start();
            }
        }
        check_same(&log, &model)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn partition_log_matches_model(
        ops in prop::collection::vec(op(), 1..80),
        segment_bytes in 200i32..1_500,
        segment_ms in 1_000i64..200_000,
    ) {
        run(ops, segment_bytes, segment_ms)?;
    }
}

#[test]
fn retention_never_deletes_the_active_segment_or_above_high_watermark() {
    let config = TopicConfig { segment_bytes: 14, retention_ms: 0, ..TopicConfig::default() };
    let mut log = PartitionLog::new(MemStorage::new(), config);
    for index in 0..5 {
        let batch = BatchBuilder::from_records(&[Record::new(None, Some(b"x"), index)]);
        log.append_as_leader(10, batch, 0).unwrap();
    }
    assert_eq!(log.segments().len(), 5, "segment.bytes=14 rolls before every batch");
    assert!(log.apply_retention(1_000_000).unwrap().is_empty(), "nothing below HW 0 goes");
    log.set_high_watermark(2);
    let deleted = log.apply_retention(1_000_000).unwrap();
    assert_eq!(deleted.len(), 2, "only segments wholly below HW 2 go");
    assert_eq!(log.log_start_offset(), 2);
    log.set_high_watermark(5);
    assert_eq!(log.apply_retention(1_000_000).unwrap().len(), 2);
    assert_eq!(log.segments().len(), 1, "the active segment stays");
    assert_eq!(log.log_start_offset(), 4);
    assert_eq!(log.read(3, 100, ReadLimit::LogEnd).unwrap_err().code, ErrorCode::OffsetOutOfRange);
}

#[test]
fn oversized_and_corrupt_batches_are_rejected_without_change() {
    let config = TopicConfig { max_message_bytes: 100, ..TopicConfig::default() };
    let mut log = PartitionLog::new(MemStorage::new(), config);
    let big = BatchBuilder::from_records(&[Record::new(None, Some(&[0u8; 200]), 0)]);
    let error = log.append_as_leader(0, big, 0).unwrap_err();
    assert_eq!(error.code, ErrorCode::MessageTooLarge);
    assert!(error.message.contains("max.message.bytes 100"), "{error}");
    let good = BatchBuilder::from_records(&[Record::new(None, Some(b"ok"), 0)]);
    let mut header = good.header();
    header.crc ^= 1;
    assert!(RecordBatch::from_parts(header, good.records_bytes().clone()).is_err());
    assert_eq!(log.log_end_offset(), 0);
    log.append_as_leader(0, good.clone(), 0).unwrap();
    assert_eq!(log.log_end_offset(), 1);
    let mut overlapping = good.clone();
    overlapping.assign(0, 0);
    let error = log.append_as_follower(0, overlapping).unwrap_err();
    assert_eq!(error.code, ErrorCode::OffsetOutOfRange, "a follower never appends below its LEO");
    let mut after_gap = good;
    after_gap.assign(5, 0);
    log.append_as_follower(0, after_gap).unwrap();
    assert_eq!(log.log_end_offset(), 6, "a gap left by compaction is fine");
}

#[test]
fn flush_policy_follows_flush_messages_and_flush_ms() {
    let config = TopicConfig { flush_messages: 3, flush_ms: 1_000, ..TopicConfig::default() };
    let mut log = PartitionLog::new(MemStorage::new(), config);
    let batch = || BatchBuilder::from_records(&[Record::new(None, Some(b"v"), 0)]);
    assert!(!log.should_flush(0));
    log.append_as_leader(100, batch(), 0).unwrap();
    assert!(!log.should_flush(500));
    assert!(log.should_flush(1_100), "flush.ms since the first unflushed append");
    log.append_as_leader(200, batch(), 0).unwrap();
    log.append_as_leader(300, batch(), 0).unwrap();
    assert!(log.should_flush(300), "flush.messages=3 reached");
    log.flush().unwrap();
    assert!(!log.should_flush(10_000));
    assert_eq!(log.storage().flushed_offset(), 3);
}
