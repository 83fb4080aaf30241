//! The contract every [`Storage`] implementation must pass.
//!
//! Call [`run_all`] from a test with a [`Harness`] for your storage: `MemStorage` runs it in
//! `core/tests/storage_contract.rs`, the broker's file storage runs the same suite. Each check
//! panics with a message naming the broken rule.

use bytes::Bytes;

use crate::record::{BatchBuilder, Header, Record, RecordBatch};

use super::{Storage, StorageError};

/// How the suite gets storages and simulates crashes.
pub trait Harness {
    /// The storage under test.
    type Storage: Storage;

    /// A new, empty storage starting at offset 0.
    fn fresh(&mut self) -> Self::Storage;

    /// Simulates a crash (no flush) and recovery; returns the recovered storage.
    fn crash_and_recover(&mut self, storage: Self::Storage) -> Self::Storage;

    /// Closes cleanly (after a flush) and opens again; returns the reopened storage.
    fn reopen(&mut self, storage: Self::Storage) -> Self::Storage;
}

/// Runs every check.
pub fn run_all<H: Harness>(harness: &mut H) {
    empty_log(harness);
    append_is_contiguous(harness);
    read_starts_at_containing_batch(harness);
    read_respects_byte_limit_but_returns_one_batch(harness);
    roll_starts_new_segment(harness);
    segment_info_is_accurate(harness);
    truncate_removes_straddling_batch(harness);
    truncate_across_segments(harness);
    delete_segments_never_deletes_active(harness);
    truncate_fully_and_start_at(harness);
    crash_keeps_flushed_prefix(harness);
    reopen_keeps_everything(harness);
    batches_are_preserved_exactly(harness);
    replace_segment_keeps_offsets(harness);
    offsets_are_dense_without_compaction(harness);
    advance_log_start_hides_and_deletes_below(harness);
    high_watermark_checkpoint_is_durable(harness);
}

/// A batch of `count` records at `base_offset`, with timestamps starting at `timestamp_ms`.
#[must_use]
pub fn test_batch(base_offset: i64, count: usize, timestamp_ms: i64) -> RecordBatch {
    assert!(count > 0);
    let mut builder = BatchBuilder::new();
    for index in 0..count {
        let offset = base_offset + i64::try_from(index).expect("small");
        let key = format!("key-{offset}");
        let value = format!("value-{offset}");
        builder.push(&Record::new(Some(key.as_bytes()), Some(value.as_bytes()), timestamp_ms + offset));
    }
    let mut batch = builder.build();
    batch.assign(base_offset, 1);
    batch
}

/// Appends batches of the given sizes; returns the log end offset.
pub fn append_batches<S: Storage>(storage: &mut S, sizes: &[usize], timestamp_ms: i64) -> i64 {
    for &count in sizes {
        let base_offset = storage.log_end_offset();
        storage.append(test_batch(base_offset, count, timestamp_ms)).expect("contiguous append");
    }
    storage.log_end_offset()
}

fn all_offsets<S: Storage>(storage: &S) -> Vec<i64> {
    let batches = storage.read(storage.log_start_offset(), usize::MAX).expect("read from start");
    batches.iter().flat_map(|batch| batch.base_offset()..batch.next_offset()).collect()
}

fn assert_consistent<S: Storage>(storage: &S) {
    let segments = storage.segments();
    assert!(!segments.is_empty(), "a storage always has an active segment");
    assert_eq!(segments[0].base_offset, storage.log_start_offset(), "log start = first segment base");
    assert_eq!(*segments.last().expect("non-empty"), storage.active_segment(), "active = last segment");
    assert_eq!(storage.active_segment().next_offset, storage.log_end_offset(), "LEO = active segment end");
    for pair in segments.windows(2) {
        assert_eq!(pair[0].next_offset, pair[1].base_offset, "segments are contiguous: {segments:?}");
        assert!(!pair[0].is_empty(), "only the active segment may be empty: {segments:?}");
    }
    assert!(storage.flushed_offset() <= storage.log_end_offset(), "flushed offset beyond LEO");
    assert!(storage.flushed_offset() >= storage.log_start_offset(), "flushed offset below log start");
    let offsets = all_offsets(storage);
    assert!(offsets.windows(2).all(|pair| pair[0] < pair[1]), "offsets only grow");
    if let (Some(first), Some(last)) = (offsets.first(), offsets.last()) {
        assert!(*first >= storage.log_start_offset() && *last < storage.log_end_offset(), "offsets within the log");
    }
}

/// A fresh storage is empty at offset 0.
pub fn empty_log<H: Harness>(harness: &mut H) {
    let storage = harness.fresh();
    assert_eq!(storage.log_start_offset(), 0);
    assert_eq!(storage.log_end_offset(), 0);
    assert_eq!(storage.segments().len(), 1);
    assert!(storage.read(0, 1024).expect("read at LEO").is_empty(), "read at LEO is empty");
    assert!(
        matches!(storage.read(1, 1024), Err(StorageError::OffsetOutOfRange { offset: 1, .. })),
        "read past LEO is OffsetOutOfRange"
    );
    assert_consistent(&storage);
}

/// Appends must start at LEO; a rejected append changes nothing.
pub fn append_is_contiguous<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    assert_eq!(append_batches(&mut storage, &[3, 1, 5], 1_000), 9);
    let error = storage.append(test_batch(5, 2, 1_000)).expect_err("append below LEO");
    assert_eq!(error, StorageError::NonContiguousAppend { expected: 9, actual: 5 });
    assert_eq!(storage.log_end_offset(), 9, "a rejected append changes nothing");
    // Above the LEO is a gap a compacted leader left: accepted, offsets keep growing.
    storage.append(test_batch(11, 2, 1_000)).expect("append above LEO");
    assert_eq!(storage.log_end_offset(), 13);
    assert_consistent(&storage);
}

/// A read from the middle of a batch returns that whole batch first.
pub fn read_starts_at_containing_batch<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[3, 4], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[2], 0);
    let batches = storage.read(4, usize::MAX).expect("read mid-batch");
    let bases: Vec<i64> = batches.iter().map(RecordBatch::base_offset).collect();
    assert_eq!(bases, [3, 7], "read from 4 starts at the batch [3, 7) and crosses segments");
    let batches = storage.read(7, usize::MAX).expect("read at segment start");
    assert_eq!(batches.len(), 1);
    assert_eq!(batches[0].base_offset(), 7);
    assert!(storage.read(9, usize::MAX).expect("read at LEO").is_empty());
}

/// `max_bytes` bounds a read, but the first batch always comes whole (KIP-74).
pub fn read_respects_byte_limit_but_returns_one_batch<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[2, 2, 2], 0);
    let one = storage.read(0, 1).expect("tiny read");
    assert_eq!(one.len(), 1, "a read always returns at least one batch");
    let first_size = one[0].size_bytes();
    let two = storage.read(0, first_size * 2).expect("read two");
    assert_eq!(two.len(), 2);
    let total: usize = two.iter().map(RecordBatch::size_bytes).sum();
    assert!(total <= first_size * 2);
}

/// `roll` starts a new segment at LEO; rolling an empty active segment does nothing.
pub fn roll_starts_new_segment<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    storage.roll().expect("roll empty");
    assert_eq!(storage.segments().len(), 1, "rolling an empty active segment is a no-op");
    append_batches(&mut storage, &[2], 0);
    storage.roll().expect("roll");
    let segments = storage.segments();
    assert_eq!(segments.len(), 2);
    assert_eq!(segments[1].base_offset, 2);
    assert!(segments[1].is_empty());
    storage.roll().expect("roll again");
    assert_eq!(storage.segments().len(), 2);
    assert_consistent(&storage);
}

/// Segment sizes, counts and timestamps match what was appended.
pub fn segment_info_is_accurate<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    let first = test_batch(0, 2, 100);
    let second = test_batch(2, 3, 50);
    let expected_size = first.size_bytes() + second.size_bytes();
    storage.append(first.clone()).expect("append");
    storage.append(second.clone()).expect("append");
    let segment = storage.active_segment();
    assert_eq!(segment.size_bytes, u64::try_from(expected_size).expect("fits"));
    assert_eq!(segment.batch_count, 2);
    assert_eq!(segment.next_offset, 5);
    assert_eq!(segment.first_batch_timestamp_ms, first.max_timestamp_ms());
    assert_eq!(segment.max_timestamp_ms, first.max_timestamp_ms().max(second.max_timestamp_ms()));
}

/// Truncating into a batch removes the whole batch; beyond LEO is a no-op.
pub fn truncate_removes_straddling_batch<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[3, 3, 3], 0);
    storage.truncate_to(100).expect("truncate beyond LEO");
    assert_eq!(storage.log_end_offset(), 9, "truncating beyond LEO is a no-op");
    storage.truncate_to(6).expect("truncate at boundary");
    assert_eq!(storage.log_end_offset(), 6);
    storage.truncate_to(4).expect("truncate mid-batch");
    assert_eq!(storage.log_end_offset(), 3, "the batch straddling 4 goes whole");
    assert_eq!(storage.active_segment().size_bytes, u64::try_from(test_batch(0, 3, 0).size_bytes()).expect("fits"));
    append_batches(&mut storage, &[1], 0);
    assert_eq!(storage.log_end_offset(), 4, "appends continue at the new LEO");
    assert_consistent(&storage);
}

/// Truncation can remove whole segments; the remaining last segment becomes active.
pub fn truncate_across_segments<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[2], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[2], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[2], 0);
    storage.flush().expect("flush");
    storage.truncate_to(2).expect("truncate to segment boundary");
    assert_eq!(storage.log_end_offset(), 2);
    assert!(storage.flushed_offset() <= 2, "truncation pulls the flushed offset down");
    assert_eq!(storage.active_segment().base_offset, 0, "emptied segments are removed");
    assert!(matches!(storage.truncate_to(-1), Err(StorageError::OffsetOutOfRange { .. })));
    storage.truncate_to(0).expect("truncate to start");
    assert_eq!(storage.log_end_offset(), 0);
    assert_consistent(&storage);
}

/// Whole segments below an offset go, oldest first; the active segment never does.
pub fn delete_segments_never_deletes_active<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    for _ in 0..3 {
        append_batches(&mut storage, &[2, 2], 0);
        storage.roll().expect("roll");
    }
    append_batches(&mut storage, &[2], 0);
    // Segments: [0,4) [4,8) [8,12) [12,14 active)
    let deleted = storage.delete_segments_below(6).expect("delete");
    assert_eq!(deleted.len(), 1, "only segments wholly below 6 go: {deleted:?}");
    assert_eq!(storage.log_start_offset(), 4);
    assert!(matches!(storage.read(3, 100), Err(StorageError::OffsetOutOfRange { .. })));
    let deleted = storage.delete_segments_below(i64::MAX).expect("delete all");
    assert_eq!(deleted.len(), 2);
    assert_eq!(storage.log_start_offset(), 12, "the active segment stays");
    assert_eq!(storage.log_end_offset(), 14);
    assert_consistent(&storage);
    assert!(storage.truncate_to(11).is_err(), "truncating below log start is an error");
}

/// `truncate_fully_and_start_at` empties the log and moves both ends.
pub fn truncate_fully_and_start_at<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[5], 0);
    storage.truncate_fully_and_start_at(42).expect("reset");
    assert_eq!(storage.log_start_offset(), 42);
    assert_eq!(storage.log_end_offset(), 42);
    assert_eq!(append_batches(&mut storage, &[1], 0), 43);
    assert_consistent(&storage);
    let storage = harness.reopen(storage);
    assert_eq!(storage.log_start_offset(), 42, "the new start survives a reopen");
    assert_eq!(storage.log_end_offset(), 43);
}

/// A crash keeps at least the flushed prefix and only batches that were appended.
pub fn crash_keeps_flushed_prefix<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[2, 2], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[2], 0);
    storage.flush().expect("flush");
    assert_eq!(storage.flushed_offset(), 6);
    append_batches(&mut storage, &[3, 3], 0);
    let before = storage.read(0, usize::MAX).expect("read");
    let storage = harness.crash_and_recover(storage);
    let end = storage.log_end_offset();
    assert!((6..=12).contains(&end), "after a crash LEO {end} is within [flushed 6, old LEO 12]");
    let after = storage.read(0, usize::MAX).expect("read after crash");
    assert_eq!(after[..], before[..after.len()], "what survives is a prefix of what was appended");
    assert_consistent(&storage);
}

/// A clean close and reopen keeps every batch and the segment layout.
pub fn reopen_keeps_everything<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[1, 2], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[3], 0);
    storage.flush().expect("flush");
    let segments = storage.segments();
    let batches = storage.read(0, usize::MAX).expect("read");
    let storage = harness.reopen(storage);
    assert_eq!(storage.segments(), segments, "segment layout survives a reopen");
    assert_eq!(storage.read(0, usize::MAX).expect("read"), batches);
    assert_eq!(storage.flushed_offset(), storage.log_end_offset());
}

/// Every header field and byte of a batch comes back as it went in.
pub fn batches_are_preserved_exactly<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    let mut builder = BatchBuilder::new().producer(crate::record::ProducerInfo {
        producer_id: 77,
        producer_epoch: 3,
        base_sequence: 12,
    });
    builder.push(&Record {
        key: None,
        value: Some(Bytes::from_static(b"")),
        timestamp_ms: -5,
        headers: vec![Header { key: "h".into(), value: None }],
    });
    builder.push(&Record::new(Some(&[0, 255, 1]), None, i64::MAX / 2));
    let mut batch = builder.build();
    batch.assign(0, 9);
    storage.append(batch.clone()).expect("append");
    storage.flush().expect("flush");
    let storage = harness.reopen(storage);
    let read = storage.read(0, usize::MAX).expect("read");
    assert_eq!(read, vec![batch.clone()]);
    read[0].validate().expect("CRC still valid");
    assert_eq!(read[0].producer(), batch.producer());
    assert_eq!(read[0].partition_leader_epoch(), 9);
}

/// Without compaction every offset from log start to LEO is present.
pub fn offsets_are_dense_without_compaction<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[2, 3], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[1], 0);
    let expected: Vec<i64> = (storage.log_start_offset()..storage.log_end_offset()).collect();
    assert_eq!(all_offsets(&storage), expected, "offsets are dense from log start to LEO");
}

/// Compaction replaces a segment's batches; offsets and the segment's range stay.
pub fn replace_segment_keeps_offsets<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[2, 2, 2], 0);
    storage.roll().expect("roll");
    append_batches(&mut storage, &[2], 0);
    let first = storage.segments()[0];
    let batches = storage.read(0, usize::MAX).expect("read");
    // Keep only the record at offset 3 (inside the second batch) and the third batch whole.
    let kept = batches[1].retain_records(|record| record.offset == 3).expect("one record kept");
    storage.replace_segment(0, vec![kept, batches[2].clone()]).expect("replace");
    let segment = storage.segments()[0];
    assert_eq!(segment.base_offset, first.base_offset);
    assert_eq!(segment.next_offset, first.next_offset, "the segment keeps its offset range");
    assert_eq!(segment.batch_count, 2);
    assert!(segment.size_bytes < first.size_bytes);
    let offsets: Vec<i64> = storage
        .read(0, usize::MAX)
        .expect("read")
        .iter()
        .flat_map(|batch| batch.records().map(|r| r.expect("decodes").offset).collect::<Vec<_>>())
        .collect();
    assert_eq!(offsets, [3, 4, 5, 6, 7], "kept records keep their offsets");
    let from_one = storage.read(1, usize::MAX).expect("read in a gap");
    assert_eq!(from_one[0].base_offset(), 2, "a read inside a gap starts at the next batch");
    assert!(storage.replace_segment(6, Vec::new()).is_err(), "the active segment is never replaced");
    assert_consistent(&storage);
    let storage = harness.reopen(storage);
    assert_eq!(storage.segments()[0], segment, "the rewrite survives a reopen");
}

/// DeleteRecords (KIP-107): the start moves inside a segment, reads below it fail, whole
/// segments below it go, and it survives a reopen and a crash.
pub fn advance_log_start_hides_and_deletes_below<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[3, 3], 1_000);
    storage.roll().unwrap();
    append_batches(&mut storage, &[3], 1_000);
    storage.flush().unwrap();
    assert!(storage.advance_log_start(10).is_err(), "beyond the log end");
    assert_eq!(storage.advance_log_start(4).unwrap(), Vec::new(), "inside the first segment: nothing deleted");
    assert_eq!(storage.log_start_offset(), 4);
    assert!(storage.read(2, usize::MAX).is_err(), "below the start");
    assert_eq!(storage.read(4, usize::MAX).unwrap()[0].base_offset(), 3, "the batch holding the start");
    assert_eq!(storage.advance_log_start(2).unwrap(), Vec::new(), "never back");
    assert_eq!(storage.log_start_offset(), 4);
    let storage = harness.reopen(storage);
    assert_eq!(storage.log_start_offset(), 4, "kept across a reopen");
    let mut storage = harness.crash_and_recover(storage);
    assert_eq!(storage.log_start_offset(), 4, "kept across a crash");
    let deleted = storage.advance_log_start(7).unwrap();
    assert_eq!(deleted.iter().map(|s| s.base_offset).collect::<Vec<_>>(), [0], "the first segment went");
    assert_eq!((storage.log_start_offset(), storage.log_end_offset()), (7, 9));
    let storage = harness.reopen(storage);
    assert_eq!((storage.log_start_offset(), storage.log_end_offset()), (7, 9));
}

/// The high watermark checkpoint: the log start until one is written, then the last one
/// written, across a reopen and a crash.
pub fn high_watermark_checkpoint_is_durable<H: Harness>(harness: &mut H) {
    let mut storage = harness.fresh();
    append_batches(&mut storage, &[3, 3], 1_000);
    storage.flush().unwrap();
    assert_eq!(storage.high_watermark_checkpoint(), 0, "none written yet");
    storage.checkpoint_high_watermark(3).unwrap();
    storage.checkpoint_high_watermark(6).unwrap();
    assert_eq!(storage.high_watermark_checkpoint(), 6);
    let mut storage = harness.reopen(storage);
    assert_eq!(storage.high_watermark_checkpoint(), 6, "kept across a reopen");
    append_batches(&mut storage, &[4], 1_000);
    storage.checkpoint_high_watermark(8).unwrap();
    let storage = harness.crash_and_recover(storage);
    // A power loss may take the unflushed batch (the memory storage's crash does), never the
    // checkpoint: it can then lie beyond the log end, and readers take the smaller.
    assert_eq!(storage.high_watermark_checkpoint(), 8, "kept across a crash");
}
