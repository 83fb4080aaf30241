//! Pluggable storage for one partition's log.
//!
//! A [`Storage`] holds a partition's batches in **segments** (the active segment is the last
//! one). It is deliberately dumb: it keeps what it is told, in order, and reports it back. The
//! rules (offsets, rolling, retention, high watermark) live in [`crate::log::PartitionLog`].
//!
//! # Durability contract
//! - [`Storage::append`] makes a batch readable at once but **not durable**.
//! - [`Storage::flush`] makes everything appended so far durable; [`Storage::flushed_offset`]
//!   is the offset below which data survives a crash.
//! - [`Storage::roll`], [`Storage::truncate_to`], [`Storage::delete_segments_below`] and
//!   [`Storage::truncate_fully_and_start_at`] are durable when they return (they are metadata
//!   changes; the file storage fsyncs its directory).
//! - A crash keeps a **prefix** of what was appended: after recovery the log end offset is at
//!   least the flushed offset before the crash, and every batch below it is exactly one that
//!   was appended. [`MemStorage::crash`] drops the whole unflushed tail (the worst case), which
//!   is how the simulation reproduces "acknowledged, then lost with the leader's crash".
//!
//! [`contract`] is the test suite every implementation must pass.

pub mod contract;
mod mem;

pub use mem::MemStorage;

use std::fmt;

use crate::record::RecordBatch;

/// What a storage knows about one segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Offset of the segment's first record (the file name, in the file storage).
    pub base_offset: i64,
    /// Offset after the segment's last record (`base_offset` when empty).
    pub next_offset: i64,
    /// Bytes of batches in the segment, as [`RecordBatch::size_bytes`] counts them.
    pub size_bytes: u64,
    /// Largest record timestamp in the segment, or -1 when empty (time-based retention).
    pub max_timestamp_ms: i64,
    /// Max timestamp of the segment's first batch, or -1 when empty (`segment.ms` rolling,
    /// Kafka's `rollingBasedTimestamp`).
    pub first_batch_timestamp_ms: i64,
    /// Number of batches.
    pub batch_count: u64,
}

impl SegmentInfo {
    /// An empty segment starting at `base_offset`.
    #[must_use]
    pub fn empty(base_offset: i64) -> SegmentInfo {
        SegmentInfo {
            base_offset,
            next_offset: base_offset,
            size_bytes: 0,
            max_timestamp_ms: -1,
            first_batch_timestamp_ms: -1,
            batch_count: 0,
        }
    }

    /// `true` when the segment holds no batch.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.batch_count == 0
    }

    /// The segment after `batch` is added to it.
    pub fn with_batch(mut self, batch: &RecordBatch) -> SegmentInfo {
        // Equal for appends; greater after compaction removed whole batches.
        assert!(batch.base_offset() >= self.next_offset, "batches are in offset order");
        if self.is_empty() {
            self.first_batch_timestamp_ms = batch.max_timestamp_ms();
        }
        self.next_offset = batch.next_offset();
        self.size_bytes += u64::try_from(batch.size_bytes()).expect("usize fits u64");
        self.max_timestamp_ms = self.max_timestamp_ms.max(batch.max_timestamp_ms());
        self.batch_count += 1;
        self
    }
}

/// Why a storage operation failed. Storage errors are environment problems (disk full,
/// corrupt file) or misuse the caller should have prevented; the log maps them to
/// `KAFKA_STORAGE_ERROR` / `OFFSET_OUT_OF_RANGE`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    /// An append whose base offset is not the log end offset.
    NonContiguousAppend {
        /// The log end offset.
        expected: i64,
        /// The batch's base offset.
        actual: i64,
    },
    /// A read, truncation or deletion outside `[log start, log end]`.
    OffsetOutOfRange {
        /// The offending offset.
        offset: i64,
        /// First offset held.
        log_start_offset: i64,
        /// Offset after the last one held.
        log_end_offset: i64,
    },
    /// The medium failed (I/O error, corrupt data found on read, ...).
    Io(String),
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::NonContiguousAppend { expected, actual } => {
                write!(f, "append at offset {actual} but the log ends at {expected}")
            }
            StorageError::OffsetOutOfRange { offset, log_start_offset, log_end_offset } => {
                write!(f, "offset {offset} is outside the log [{log_start_offset}, {log_end_offset}]")
            }
            StorageError::Io(message) => write!(f, "storage I/O error: {message}"),
        }
    }
}

impl std::error::Error for StorageError {}

/// One partition's log storage. See the module doc for the durability contract.
pub trait Storage {
    /// Segments, oldest first. Never empty: there is always an active (last) segment.
    fn segments(&self) -> Vec<SegmentInfo>;

    /// The active (last) segment.
    fn active_segment(&self) -> SegmentInfo;

    /// Offset of the first record held: the first segment's base offset, or above it once
    /// [`Storage::advance_log_start`] raised it.
    fn log_start_offset(&self) -> i64;

    /// Offset the next appended batch gets (LEO).
    fn log_end_offset(&self) -> i64;

    /// Appends a batch to the active segment. Its base offset must be at least the log end
    /// offset (equal for a leader; above it when a follower copies a compacted leader's batch).
    fn append(&mut self, batch: RecordBatch) -> Result<(), StorageError>;

    /// Starts a new, empty active segment at the log end offset. A no-op when the active
    /// segment is already empty.
    fn roll(&mut self) -> Result<(), StorageError>;

    /// Batches from the one containing `offset` on, at most `max_bytes` in total but always
    /// the first batch whole (Kafka KIP-74). Empty at the log end offset.
    fn read(&self, offset: i64, max_bytes: usize) -> Result<Vec<RecordBatch>, StorageError>;

    /// Removes every batch whose last offset is at or above `offset`; a batch straddling
    /// `offset` goes whole, as in Kafka, so the log end offset becomes at most `offset`. A no-op
    /// at or above the log end offset; below the log start offset it is an error (use
    /// [`Storage::truncate_fully_and_start_at`]). Empty segments left behind are removed, but
    /// one segment always remains.
    fn truncate_to(&mut self, offset: i64) -> Result<(), StorageError>;

    /// Deletes every whole segment whose records all lie below `offset`, oldest first,
    /// never the active segment. Returns the deleted segments.
    fn delete_segments_below(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError>;

    /// Raises the log start offset to `offset` (DeleteRecords, KIP-107): reads below it fail,
    /// whole segments below it are deleted (returned). A no-op at or below the current start;
    /// above the log end offset it is an error. Durable when it returns (Kafka's
    /// `log-start-offset-checkpoint`).
    fn advance_log_start(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError>;

    /// Replaces the batches of the non-active segment starting at `base_offset` with
    /// `batches` (log compaction): they must lie within the segment, in offset order. The
    /// segment keeps its offset range. Durable when it returns (Kafka swaps in the cleaned file).
    fn replace_segment(&mut self, base_offset: i64, batches: Vec<RecordBatch>) -> Result<(), StorageError>;

    /// Deletes everything and continues empty at `offset` (a follower whose log the leader
    /// no longer has; Kafka's `truncateFullyAndStartAt`).
    fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), StorageError>;

    /// Makes everything appended so far durable.
    fn flush(&mut self) -> Result<(), StorageError>;

    /// Offset below which everything is durable; within `[log start, log end]`.
    fn flushed_offset(&self) -> i64;

    /// Records the high watermark (Kafka's `replication-offset-checkpoint`, written every
    /// `replica.high.watermark.checkpoint.interval.ms`). Durable when it returns.
    fn checkpoint_high_watermark(&mut self, offset: i64) -> Result<(), StorageError>;

    /// The last checkpointed high watermark, or the log start offset when none was written.
    /// It may lie beyond the log end after a crash lost unflushed records.
    fn high_watermark_checkpoint(&self) -> i64;
}
