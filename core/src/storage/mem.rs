//! [`MemStorage`]: the in-memory [`Storage`] used by the simulation, the wasm build and tests.

use crate::record::RecordBatch;

use super::{SegmentInfo, Storage, StorageError};

#[derive(Clone, Debug)]
struct MemSegment {
    info: SegmentInfo,
    batches: Vec<RecordBatch>,
}

impl MemSegment {
    fn empty(base_offset: i64) -> MemSegment {
        MemSegment { info: SegmentInfo::empty(base_offset), batches: Vec::new() }
    }

    fn recompute(base_offset: i64, batches: Vec<RecordBatch>) -> MemSegment {
        let info = batches.iter().fold(SegmentInfo::empty(base_offset), |info, batch| info.with_batch(batch));
        MemSegment { info, batches }
    }

    /// Index of the batch containing `offset` (its last offset ≥ `offset`).
    fn batch_index(&self, offset: i64) -> usize {
        self.batches.partition_point(|batch| batch.last_offset() < offset)
    }
}

/// An in-memory storage with an explicit flushed point, so a simulated crash
/// ([`MemStorage::crash`]) loses exactly the unflushed tail.
#[derive(Clone, Debug)]
pub struct MemStorage {
    segments: Vec<MemSegment>,
    flushed_offset: i64,
    /// The log start offset DeleteRecords raised (0: the first segment's base).
    start_floor: i64,
    /// The checkpointed high watermark (durable: a crash keeps it).
    high_watermark_checkpoint: Option<i64>,
}

impl Default for MemStorage {
    fn default() -> Self {
        MemStorage::new()
    }
}

impl MemStorage {
    /// An empty log starting at offset 0.
    #[must_use]
    pub fn new() -> MemStorage {
        MemStorage::starting_at(0)
    }

    /// An empty log starting at `offset`.
    #[must_use]
    pub fn starting_at(offset: i64) -> MemStorage {
        assert!(offset >= 0);
        MemStorage {
            segments: vec![MemSegment::empty(offset)],
            flushed_offset: offset,
            start_floor: offset,
            high_watermark_checkpoint: None,
        }
    }

    /// Simulates a crash and restart: everything appended after the last flush is gone.
    pub fn crash(&mut self) {
        let flushed = self.flushed_offset;
        if flushed < self.log_end_offset() {
            self.truncate_to(flushed).expect("the flushed offset lies within the log");
        }
        debug_assert_eq!(self.log_end_offset(), self.flushed_offset);
    }

    fn active(&self) -> &MemSegment {
        self.segments.last().expect("there is always an active segment")
    }

    fn out_of_range(&self, offset: i64) -> StorageError {
        StorageError::OffsetOutOfRange {
            offset,
            log_start_offset: self.log_start_offset(),
            log_end_offset: self.log_end_offset(),
        }
    }

    /// Index of the segment holding `offset` (the last one whose base offset ≤ `offset`).
    fn segment_index(&self, offset: i64) -> usize {
        self.segments.partition_point(|segment| segment.info.base_offset <= offset).saturating_sub(1)
    }
}

impl Storage for MemStorage {
    fn segments(&self) -> Vec<SegmentInfo> {
        self.segments.iter().map(|segment| segment.info).collect()
    }

    fn active_segment(&self) -> SegmentInfo {
        self.active().info
    }

    fn log_start_offset(&self) -> i64 {
        self.segments[0].info.base_offset.max(self.start_floor)
    }

    fn log_end_offset(&self) -> i64 {
        self.active().info.next_offset
    }

    fn append(&mut self, batch: RecordBatch) -> Result<(), StorageError> {
        let expected = self.log_end_offset();
        // Above the LEO is allowed: a compacted leader's batches leave offset gaps, and
        // followers replicate them as they are (Kafka: offsets increase, not necessarily by 1).
        if batch.base_offset() < expected {
            return Err(StorageError::NonContiguousAppend { expected, actual: batch.base_offset() });
        }
        let active = self.segments.last_mut().expect("there is always an active segment");
        active.info = active.info.with_batch(&batch);
        active.batches.push(batch);
        Ok(())
    }

    fn roll(&mut self) -> Result<(), StorageError> {
        if !self.active().info.is_empty() {
            let base_offset = self.log_end_offset();
            self.segments.push(MemSegment::empty(base_offset));
        }
        Ok(())
    }

    fn read(&self, offset: i64, max_bytes: usize) -> Result<Vec<RecordBatch>, StorageError> {
        if offset < self.log_start_offset() || offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        let mut result = Vec::new();
        let mut total_bytes = 0usize;
        for segment in &self.segments[self.segment_index(offset)..] {
            let first = segment.batch_index(offset);
            for batch in &segment.batches[first..] {
                let size = batch.size_bytes();
                if !result.is_empty() && total_bytes + size > max_bytes {
                    return Ok(result);
                }
                total_bytes += size;
                result.push(batch.clone());
            }
        }
        Ok(result)
    }

    fn truncate_to(&mut self, offset: i64) -> Result<(), StorageError> {
        if offset < self.log_start_offset() {
            return Err(self.out_of_range(offset));
        }
        if offset >= self.log_end_offset() {
            return Ok(());
        }
        let index = self.segment_index(offset);
        self.segments.truncate(index + 1);
        let segment = self.segments.last_mut().expect("index + 1 ≥ 1 segments remain");
        let keep = segment.batch_index(offset);
        let mut batches = std::mem::take(&mut segment.batches);
        batches.truncate(keep);
        *segment = MemSegment::recompute(segment.info.base_offset, batches);
        // An emptied segment that is not the first can go: its predecessor becomes active.
        if segment.info.is_empty() && self.segments.len() > 1 {
            self.segments.pop();
        }
        self.flushed_offset = self.flushed_offset.min(self.log_end_offset());
        Ok(())
    }

    fn delete_segments_below(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError> {
        let deletable = self.segments[..self.segments.len() - 1]
            .iter()
            .take_while(|segment| segment.info.next_offset <= offset)
            .count();
        let deleted: Vec<SegmentInfo> = self.segments.drain(..deletable).map(|segment| segment.info).collect();
        // Nothing below the log start exists any more, so nothing there can be unflushed.
        self.flushed_offset = self.flushed_offset.max(self.log_start_offset());
        Ok(deleted)
    }

    fn replace_segment(&mut self, base_offset: i64, batches: Vec<RecordBatch>) -> Result<(), StorageError> {
        let last = self.segments.len() - 1;
        let Some(index) = self.segments[..last].iter().position(|segment| segment.info.base_offset == base_offset)
        else {
            return Err(StorageError::OffsetOutOfRange {
                offset: base_offset,
                log_start_offset: self.log_start_offset(),
                log_end_offset: self.log_end_offset(),
            });
        };
        let next_offset = self.segments[index].info.next_offset;
        let ordered = batches.windows(2).all(|pair| pair[0].next_offset() <= pair[1].base_offset());
        let inside = batches.first().is_none_or(|b| b.base_offset() >= base_offset)
            && batches.last().is_none_or(|b| b.next_offset() <= next_offset);
        if !ordered || !inside {
            return Err(StorageError::Io(format!(
                "replacement batches do not fit segment {base_offset}..{next_offset}"
            )));
        }
        let mut segment = MemSegment::recompute(base_offset, batches);
        segment.info.next_offset = next_offset;
        self.segments[index] = segment;
        Ok(())
    }

    fn advance_log_start(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError> {
        if offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        if offset <= self.log_start_offset() {
            return Ok(Vec::new());
        }
        self.start_floor = offset;
        let deleted = self.delete_segments_below(offset)?;
        self.flushed_offset = self.flushed_offset.max(offset);
        Ok(deleted)
    }

    fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), StorageError> {
        if offset < 0 {
            return Err(self.out_of_range(offset));
        }
        let checkpoint = self.high_watermark_checkpoint;
        *self = MemStorage::starting_at(offset);
        self.high_watermark_checkpoint = checkpoint;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        self.flushed_offset = self.log_end_offset();
        Ok(())
    }

    fn flushed_offset(&self) -> i64 {
        self.flushed_offset
    }

    fn checkpoint_high_watermark(&mut self, offset: i64) -> Result<(), StorageError> {
        self.high_watermark_checkpoint = Some(offset);
        Ok(())
    }

    fn high_watermark_checkpoint(&self) -> i64 {
        self.high_watermark_checkpoint.unwrap_or(0).max(self.log_start_offset())
    }
}
