//! [`PartitionLog`]: one replica's log of one partition, over any [`Storage`].
//!
//! It owns the rules Kafka's `UnifiedLog` applies: offsets are assigned on append, segments roll
//! at `segment.bytes` / `segment.ms`, reads outside `[log start, LEO]` are `OFFSET_OUT_OF_RANGE`,
//! and retention deletes whole segments, oldest first, never the active one and only below
//! the high watermark. The high watermark itself is set from outside (by the replica state
//! machine); a single-replica caller sets it to the LEO.

use crate::collections::VecMap;

use bytes::Bytes;

use crate::config::{CompressionType, TimestampType, TopicConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::record::RecordBatch;
use crate::storage::{SegmentInfo, Storage, StorageError};

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendInfo {
    /// Offset of the first appended record.
    pub base_offset: i64,
    /// Offset of the last appended record.
    pub last_offset: i64,
    /// Whether a new segment was rolled before the append.
    pub rolled: bool,
}

/// What a read returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadResult {
    /// Whole batches, the first containing the requested offset.
    pub batches: Vec<RecordBatch>,
    /// The high watermark at the time of the read.
    pub high_watermark: i64,
    /// The log start offset at the time of the read.
    pub log_start_offset: i64,
    /// The log end offset at the time of the read.
    pub log_end_offset: i64,
}

/// Which records a read may return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadLimit {
    /// Up to the log end offset (followers replicating).
    LogEnd,
    /// Up to the high watermark (consumers: only committed records).
    HighWatermark,
}

/// Why segments were deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetentionReason {
    /// `retention.ms` exceeded.
    Time,
    /// `retention.bytes` exceeded.
    Size,
}

/// What a compaction pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CompactionResult {
    /// Segments rewritten.
    pub segments_cleaned: usize,
    /// Records removed because a later record has the same key.
    pub records_removed: u64,
    /// Tombstones removed after `delete.retention.ms`.
    pub tombstones_removed: u64,
}

/// One deleted segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeletedSegment {
    /// The segment.
    pub segment: SegmentInfo,
    /// Which rule deleted it.
    pub reason: RetentionReason,
}

/// A partition replica's log.
#[derive(Debug)]
pub struct PartitionLog<S: Storage> {
    storage: S,
    config: TopicConfig,
    high_watermark: i64,
    unflushed_records: i64,
    first_unflushed_append_ms: Option<u64>,
}

fn storage_error(error: StorageError) -> Error {
    match error {
        StorageError::OffsetOutOfRange { .. } => Error::new(ErrorCode::OffsetOutOfRange, error.to_string()),
        StorageError::NonContiguousAppend { .. } => Error::new(ErrorCode::InvalidRecord, error.to_string()),
        StorageError::Io(_) => Error::new(ErrorCode::KafkaStorageError, error.to_string()),
    }
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl<S: Storage> PartitionLog<S> {
    /// A log over `storage` (possibly already holding data, e.g. after recovery). The high
    /// watermark starts at the log start offset, as Kafka's does before a checkpoint is read.
    pub fn new(storage: S, config: TopicConfig) -> PartitionLog<S> {
        assert!(config.validate().is_ok(), "PartitionLog needs a validated config");
        let high_watermark = storage.log_start_offset();
        PartitionLog { storage, config, high_watermark, unflushed_records: 0, first_unflushed_append_ms: None }
    }

    /// The storage (read-only).
    pub fn storage(&self) -> &S {
        &self.storage
    }

    /// The storage, mutably (the simulation crashes it; the broker recovers it).
    pub fn storage_mut(&mut self) -> &mut S {
        &mut self.storage
    }

    /// The topic config in force.
    pub fn config(&self) -> &TopicConfig {
        &self.config
    }

    /// Replaces the topic config (an `AlterConfigs`).
    pub fn set_config(&mut self, config: TopicConfig) {
        assert!(config.validate().is_ok(), "PartitionLog needs a validated config");
        self.config = config;
    }

    /// First offset still in the log.
    pub fn log_start_offset(&self) -> i64 {
        self.storage.log_start_offset()
    }

    /// Offset the next record gets (LEO).
    pub fn log_end_offset(&self) -> i64 {
        self.storage.log_end_offset()
    }

    /// Offsets below this are committed (replicated to the whole ISR).
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// Segments, oldest first.
    pub fn segments(&self) -> Vec<SegmentInfo> {
        self.storage.segments()
    }

    /// Total size of all segments.
    pub fn size_bytes(&self) -> u64 {
        self.storage.segments().iter().map(|segment| segment.size_bytes).sum()
    }

    /// Sets the high watermark; it must lie within `[log start, LEO]`.
    pub fn set_high_watermark(&mut self, high_watermark: i64) {
        assert!(
            high_watermark >= self.log_start_offset() && high_watermark <= self.log_end_offset(),
            "high watermark {high_watermark} outside [{}, {}]",
            self.log_start_offset(),
            self.log_end_offset()
        );
        self.high_watermark = high_watermark;
    }

    fn check_batch(&self, batch: &RecordBatch) -> Result<()> {
        self.check_size(batch)?;
        batch.validate()
    }

    fn check_size(&self, batch: &RecordBatch) -> Result<()> {
        let limit = usize::try_from(self.config.max_message_bytes).unwrap_or(0);
        if batch.size_bytes() > limit {
            return Err(Error::new(
                ErrorCode::MessageTooLarge,
                format!(
                    "batch of {} bytes exceeds max.message.bytes {}",
                    batch.size_bytes(),
                    self.config.max_message_bytes
                ),
            ));
        }
        Ok(())
    }

    /// Rolls first if the batch would overflow `segment.bytes` or the active segment is older
    /// than `segment.ms` (Kafka's `LogSegment.shouldRoll`, without jitter).
    fn maybe_roll(&mut self, now_ms: u64, batch: &RecordBatch) -> Result<bool> {
        let active = self.storage.active_segment();
        if active.is_empty() {
            return Ok(false);
        }
        let size_limit = u64::try_from(self.config.segment_bytes).unwrap_or(0);
        let batch_size = u64::try_from(batch.size_bytes()).unwrap_or(u64::MAX);
        let full = active.size_bytes > size_limit.saturating_sub(batch_size);
        // Kafka measures segment age by record timestamps once the segment has one.
        let reference_ms = match self.config.message_timestamp_type {
            TimestampType::CreateTime => batch.max_timestamp_ms(),
            TimestampType::LogAppendTime => as_i64(now_ms),
        };
        let waited_ms = reference_ms.saturating_sub(active.first_batch_timestamp_ms);
        let old = waited_ms > self.config.segment_ms;
        if full || old {
            self.storage.roll().map_err(storage_error)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Appends a batch as the leader: validates it (CRC, size, records), compresses it again
    /// when the topic's `compression.type` names another codec (Kafka's `LogValidator`; the
    /// size is checked again after), rolls if needed, assigns offsets from the LEO and stamps
    /// `leader_epoch`.
    pub fn append_as_leader(&mut self, now_ms: u64, mut batch: RecordBatch, leader_epoch: i32) -> Result<AppendInfo> {
        self.check_batch(&batch)?;
        if let CompressionType::Codec(codec) = self.config.compression_type {
            if batch.codec()? != codec {
                batch = batch.with_codec(codec)?;
                self.check_size(&batch)?;
            }
        }
        batch.assign(self.log_end_offset(), leader_epoch);
        self.append(now_ms, batch)
    }

    /// Appends a batch as a follower: offsets and epoch come from the leader and must continue
    /// at the LEO.
    pub fn append_as_follower(&mut self, now_ms: u64, batch: RecordBatch) -> Result<AppendInfo> {
        self.check_batch(&batch)?;
        if batch.base_offset() < self.log_end_offset() {
            return Err(Error::new(
                ErrorCode::OffsetOutOfRange,
                format!("follower append at {} but the log ends at {}", batch.base_offset(), self.log_end_offset()),
            ));
        }
        self.append(now_ms, batch)
    }

    fn append(&mut self, now_ms: u64, batch: RecordBatch) -> Result<AppendInfo> {
        let rolled = self.maybe_roll(now_ms, &batch)?;
        let info = AppendInfo { base_offset: batch.base_offset(), last_offset: batch.last_offset(), rolled };
        let count = i64::from(batch.record_count());
        self.storage.append(batch).map_err(storage_error)?;
        self.unflushed_records += count;
        self.first_unflushed_append_ms.get_or_insert(now_ms);
        debug_assert_eq!(self.log_end_offset(), info.last_offset + 1);
        Ok(info)
    }

    /// Reads whole batches from the one containing `offset`, at most `max_bytes` (but at least
    /// one batch), up to `limit`. Outside `[log start, LEO]` → `OFFSET_OUT_OF_RANGE`.
    pub fn read(&self, offset: i64, max_bytes: usize, limit: ReadLimit) -> Result<ReadResult> {
        let log_start_offset = self.log_start_offset();
        let log_end_offset = self.log_end_offset();
        if offset < log_start_offset || offset > log_end_offset {
            return Err(Error::new(
                ErrorCode::OffsetOutOfRange,
                format!("offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]"),
            ));
        }
        let upper = match limit {
            ReadLimit::LogEnd => log_end_offset,
            ReadLimit::HighWatermark => self.high_watermark,
        };
        let mut batches =
            if offset < upper { self.storage.read(offset, max_bytes).map_err(storage_error)? } else { Vec::new() };
        batches.retain(|batch| batch.last_offset() < upper);
        Ok(ReadResult { batches, high_watermark: self.high_watermark, log_start_offset, log_end_offset })
    }

    /// Every batch from the one containing `from` up to `limit`, in order (rebuilding state after
    /// a restart, loading coordinators, checks). Empty when `from` is outside the log.
    pub fn batches_from(&self, from: i64, limit: ReadLimit) -> Vec<RecordBatch> {
        let mut batches = Vec::new();
        let mut offset = from.max(self.log_start_offset());
        loop {
            let Ok(read) = self.read(offset, 1 << 20, limit) else { break };
            let Some(last) = read.batches.last() else { break };
            offset = last.next_offset();
            batches.extend(read.batches);
        }
        batches
    }

    /// Removes every batch at or above `offset` (a follower truncating to the leader's epoch
    /// end offset). The high watermark follows it down.
    pub fn truncate_to(&mut self, offset: i64) -> Result<()> {
        if offset < self.log_start_offset() {
            return Err(Error::new(
                ErrorCode::OffsetOutOfRange,
                format!("cannot truncate to {offset}, below the log start {}", self.log_start_offset()),
            ));
        }
        self.storage.truncate_to(offset).map_err(storage_error)?;
        self.high_watermark = self.high_watermark.min(self.log_end_offset());
        self.unflushed_records = self.unflushed_records.min(self.log_end_offset() - self.storage.flushed_offset());
        Ok(())
    }

    /// Empties the log and continues at `offset`.
    pub fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<()> {
        self.storage.truncate_fully_and_start_at(offset).map_err(storage_error)?;
        self.high_watermark = offset;
        self.unflushed_records = 0;
        self.first_unflushed_append_ms = None;
        Ok(())
    }

    /// Rolls a new segment now (an explicit roll, e.g. from a test or admin action).
    pub fn roll(&mut self) -> Result<()> {
        self.storage.roll().map_err(storage_error)
    }

    /// Gives up the storage (a broker crash or shutdown).
    pub fn into_storage(self) -> S {
        self.storage
    }

    /// When `flush.ms` makes a flush due, if anything is unflushed.
    pub fn flush_due_ms(&self) -> Option<u64> {
        let flush_ms = u64::try_from(self.config.flush_ms).ok()?;
        if self.config.flush_ms == i64::MAX {
            return None;
        }
        self.first_unflushed_append_ms.map(|first| first.saturating_add(flush_ms))
    }

    /// Records appended and not yet flushed.
    pub fn unflushed_records(&self) -> i64 {
        self.unflushed_records
    }

    /// Whether `flush.messages` or `flush.ms` says it is time to flush.
    pub fn should_flush(&self, now_ms: u64) -> bool {
        if self.unflushed_records == 0 {
            return false;
        }
        let waited_ms = self.first_unflushed_append_ms.map_or(0, |first| now_ms.saturating_sub(first));
        self.unflushed_records >= self.config.flush_messages || as_i64(waited_ms) >= self.config.flush_ms
    }

    /// Makes everything appended durable.
    pub fn flush(&mut self) -> Result<()> {
        self.storage.flush().map_err(storage_error)?;
        self.unflushed_records = 0;
        self.first_unflushed_append_ms = None;
        Ok(())
    }

    /// Applies `retention.ms`, then `retention.bytes`, when `cleanup.policy` includes `delete`
    /// (Kafka's `deleteOldSegments`): whole segments, oldest first, stopping at the first that
    /// must stay, never the active segment, only segments wholly below the high watermark.
    pub fn apply_retention(&mut self, now_ms: u64) -> Result<Vec<DeletedSegment>> {
        let mut deleted = Vec::new();
        if !self.config.cleanup_policy.delete {
            return Ok(deleted);
        }
        let retention_ms = self.config.retention_ms;
        if retention_ms >= 0 {
            let now_ms = as_i64(now_ms);
            deleted.extend(self.delete_segments_while(RetentionReason::Time, |segment| {
                now_ms.saturating_sub(segment.max_timestamp_ms) > retention_ms
            })?);
        }
        if self.config.retention_bytes >= 0 {
            let mut excess_bytes = as_i64(self.size_bytes()) - self.config.retention_bytes;
            deleted.extend(self.delete_segments_while(RetentionReason::Size, |segment| {
                let size = as_i64(segment.size_bytes);
                let delete = excess_bytes - size >= 0;
                if delete {
                    excess_bytes -= size;
                }
                delete
            })?);
        }
        Ok(deleted)
    }

    /// DeleteRecords (KIP-107): raises the log start offset to `offset`, which must not pass
    /// the high watermark (only committed records can be deleted); whole segments below it go.
    /// Returns how many segments were deleted.
    pub fn delete_records(&mut self, offset: i64) -> Result<usize> {
        if offset > self.high_watermark {
            return Err(Error::new(
                ErrorCode::OffsetOutOfRange,
                format!("cannot delete records below {offset}: the high watermark is {}", self.high_watermark),
            ));
        }
        let deleted = self.storage.advance_log_start(offset).map_err(storage_error)?;
        debug_assert!(self.log_start_offset() >= offset.min(self.log_end_offset()));
        Ok(deleted.len())
    }

    /// Deletes the longest run of oldest non-active segments below the high watermark for
    /// which `predicate` holds (Kafka's `deletableSegments`).
    fn delete_segments_while(
        &mut self,
        reason: RetentionReason,
        mut predicate: impl FnMut(&SegmentInfo) -> bool,
    ) -> Result<Vec<DeletedSegment>> {
        let segments = self.storage.segments();
        let high_watermark = self.high_watermark;
        let deletable: Vec<DeletedSegment> = segments[..segments.len() - 1]
            .iter()
            .take_while(|segment| segment.next_offset <= high_watermark && predicate(segment))
            .map(|segment| DeletedSegment { segment: *segment, reason })
            .collect();
        let Some(last) = deletable.last() else {
            return Ok(deletable);
        };
        let deleted = self.storage.delete_segments_below(last.segment.next_offset).map_err(storage_error)?;
        assert_eq!(deleted.len(), deletable.len(), "storage deleted other segments than asked");
        debug_assert!(self.high_watermark >= self.log_start_offset());
        Ok(deletable)
    }

    /// Compacts the log when `cleanup.policy` includes `compact` (Kafka's `LogCleaner`): in
    /// every non-active segment wholly below the high watermark, keeps only the latest record
    /// of each key (latest within that cleanable range), and drops tombstones (null values)
    /// older than `delete.retention.ms`. Offsets never change; records without a key stay.
    /// Rill simplifications: a tombstone's age is its record timestamp (Kafka counts from the
    /// first cleaning), and compaction runs when called (no dirty-ratio scheduling).
    pub fn compact(&mut self, now_ms: u64) -> Result<CompactionResult> {
        let mut result = CompactionResult::default();
        if !self.config.cleanup_policy.compact {
            return Ok(result);
        }
        let segments = self.storage.segments();
        let high_watermark = self.high_watermark;
        let cleanable: Vec<SegmentInfo> =
            segments[..segments.len() - 1].iter().copied().take_while(|s| s.next_offset <= high_watermark).collect();
        let Some(end) = cleanable.last().map(|s| s.next_offset) else {
            return Ok(result);
        };
        // Pass 1: the latest offset of every key in the cleanable range.
        let mut offsets_by_key: Vec<(Bytes, i64)> = Vec::new();
        let mut batches_by_segment = Vec::with_capacity(cleanable.len());
        for segment in &cleanable {
            let batches = self.segment_batches(segment)?;
            for batch in &batches {
                for record in batch.records() {
                    let record = record?;
                    if let Some(key) = record.record.key {
                        offsets_by_key.push((key, record.offset));
                    }
                }
            }
            batches_by_segment.push(batches);
        }
        // In offset order, so for a key given more than once the last (latest) offset wins.
        let latest: VecMap<Bytes, i64> = offsets_by_key.into_iter().collect();
        debug_assert!(latest.values().all(|offset| *offset < end));
        // Pass 2: rewrite each segment with what survives.
        let now_ms = as_i64(now_ms);
        let delete_retention_ms = self.config.delete_retention_ms;
        for (segment, batches) in cleanable.iter().zip(batches_by_segment) {
            let mut removed = 0u64;
            let mut tombstones = 0u64;
            let mut kept = Vec::with_capacity(batches.len());
            for batch in &batches {
                let retained = batch.retain_records(|record| {
                    let Some(key) = &record.record.key else { return true };
                    if latest.get(key) != Some(&record.offset) {
                        removed += 1;
                        return false;
                    }
                    let expired = now_ms.saturating_sub(record.record.timestamp_ms) > delete_retention_ms;
                    if record.record.value.is_none() && expired {
                        tombstones += 1;
                        return false;
                    }
                    true
                });
                kept.extend(retained);
            }
            if removed + tombstones == 0 {
                continue;
            }
            self.storage.replace_segment(segment.base_offset, kept).map_err(storage_error)?;
            result.segments_cleaned += 1;
            result.records_removed += removed;
            result.tombstones_removed += tombstones;
        }
        Ok(result)
    }

    fn segment_batches(&self, segment: &SegmentInfo) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        let mut offset = segment.base_offset;
        while offset < segment.next_offset {
            let max_bytes = usize::try_from(segment.size_bytes).unwrap_or(usize::MAX).max(1);
            let read = self.storage.read(offset, max_bytes).map_err(storage_error)?;
            let mut progressed = false;
            for batch in read {
                if batch.base_offset() >= segment.next_offset {
                    break;
                }
                offset = batch.next_offset();
                progressed = true;
                batches.push(batch);
            }
            if !progressed {
                break;
            }
        }
        Ok(batches)
    }
}
