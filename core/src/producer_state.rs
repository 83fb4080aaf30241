//! Idempotent-producer state of one partition (Kafka's `ProducerStateManager`).
//!
//! For every producer id the partition remembers its epoch and its last 5 batches' sequence
//! ranges and offsets. The state is derived from the batches in the log (their headers carry
//! producer id, epoch and base sequence), so followers keep it up to date as they replicate and
//! a new leader has it: a retried duplicate gets its original offsets, a gap is
//! `OUT_OF_ORDER_SEQUENCE_NUMBER`, an old epoch `INVALID_PRODUCER_EPOCH`.

use crate::collections::VecMap;
use std::collections::VecDeque;

use crate::error::ErrorCode;
use crate::record::RecordBatch;

/// Batches remembered per producer (Kafka: 5, matching `max.in.flight.requests.per.connection`).
pub const BATCHES_PER_PRODUCER: usize = 5;
/// Most producers one partition tracks (a limit on everything); the least recently written
/// producer is forgotten first, as Kafka expires idle producers.
pub const PRODUCERS_PER_PARTITION_MAX: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BatchMetadata {
    first_sequence: i32,
    last_sequence: i32,
    base_offset: i64,
    last_offset: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct ProducerEntry {
    epoch: i16,
    batches: VecDeque<BatchMetadata>,
    last_offset: i64,
    /// The newest timestamp of its last batch.
    last_timestamp_ms: i64,
}

/// One active producer of a partition, as `DescribeProducers` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerSummary {
    /// Its producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub epoch: i16,
    /// The sequence of its last record here (−1 before any).
    pub last_sequence: i32,
    /// The newest timestamp of its last batch.
    pub last_timestamp_ms: i64,
}

/// What the leader should do with a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SequenceCheck {
    /// Append it.
    Append,
    /// Already in the log at these offsets: answer with them, append nothing.
    Duplicate {
        /// Offset of its first record.
        base_offset: i64,
        /// Offset of its last record.
        last_offset: i64,
    },
}

/// Producer id → epoch and recent batches, for one partition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProducerStateTable {
    producers: VecMap<i64, ProducerEntry>,
}

fn last_sequence(batch: &RecordBatch) -> i32 {
    // Sequences wrap at i32::MAX like Kafka's DefaultRecordBatch.incrementSequence.
    let base = batch.producer().base_sequence;
    let delta = batch.record_count() - 1;
    if base > i32::MAX - delta {
        delta - (i32::MAX - base) - 1
    } else {
        base + delta
    }
}

fn next_sequence(last: i32) -> i32 {
    if last == i32::MAX {
        0
    } else {
        last + 1
    }
}

impl ProducerStateTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> ProducerStateTable {
        ProducerStateTable::default()
    }

    /// Number of producers tracked.
    #[must_use]
    pub fn len(&self) -> usize {
        self.producers.len()
    }

    /// `true` when no producer is tracked.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.producers.is_empty()
    }

    /// Decides what to do with a batch before the leader appends it. Batches without a
    /// producer id are always appended.
    pub fn check(&self, batch: &RecordBatch) -> Result<SequenceCheck, ErrorCode> {
        let producer = batch.producer();
        if producer.producer_id < 0 {
            return Ok(SequenceCheck::Append);
        }
        let first = producer.base_sequence;
        if first < 0 {
            return Err(ErrorCode::InvalidRecord);
        }
        let Some(entry) = self.producers.get(&producer.producer_id) else {
            // A producer we know nothing of must start at sequence 0.
            return if first == 0 { Ok(SequenceCheck::Append) } else { Err(ErrorCode::OutOfOrderSequenceNumber) };
        };
        if producer.producer_epoch < entry.epoch {
            return Err(ErrorCode::InvalidProducerEpoch);
        }
        if producer.producer_epoch > entry.epoch {
            // A new epoch restarts the sequence.
            return if first == 0 { Ok(SequenceCheck::Append) } else { Err(ErrorCode::OutOfOrderSequenceNumber) };
        }
        let last = last_sequence(batch);
        if let Some(duplicate) = entry.batches.iter().find(|b| b.first_sequence == first && b.last_sequence == last) {
            return Ok(SequenceCheck::Duplicate {
                base_offset: duplicate.base_offset,
                last_offset: duplicate.last_offset,
            });
        }
        let expected = entry.batches.back().map_or(0, |b| next_sequence(b.last_sequence));
        if first == expected {
            Ok(SequenceCheck::Append)
        } else {
            Err(ErrorCode::OutOfOrderSequenceNumber)
        }
    }

    /// Records a batch now in the log (leader append, follower replication, log replay).
    pub fn record(&mut self, batch: &RecordBatch) {
        let producer = batch.producer();
        if producer.producer_id < 0 || producer.base_sequence < 0 {
            return;
        }
        if !self.producers.contains_key(&producer.producer_id) && self.producers.len() >= PRODUCERS_PER_PARTITION_MAX {
            let oldest = self.producers.iter().min_by_key(|(_, e)| e.last_offset).map(|(id, _)| *id);
            if let Some(oldest) = oldest {
                self.producers.remove(&oldest);
            }
        }
        let entry = self.producers.entry(producer.producer_id).or_insert(ProducerEntry {
            epoch: producer.producer_epoch,
            batches: VecDeque::new(),
            last_offset: -1,
            last_timestamp_ms: -1,
        });
        if producer.producer_epoch > entry.epoch {
            entry.epoch = producer.producer_epoch;
            entry.batches.clear();
        }
        entry.batches.push_back(BatchMetadata {
            first_sequence: producer.base_sequence,
            last_sequence: last_sequence(batch),
            base_offset: batch.base_offset(),
            last_offset: batch.last_offset(),
        });
        while entry.batches.len() > BATCHES_PER_PRODUCER {
            entry.batches.pop_front();
        }
        entry.last_offset = batch.last_offset();
        entry.last_timestamp_ms = batch.max_timestamp_ms();
    }

    /// The producers it knows, by producer id.
    #[must_use]
    pub fn active(&self) -> Vec<ProducerSummary> {
        self.producers
            .iter()
            .map(|(id, entry)| ProducerSummary {
                producer_id: *id,
                epoch: entry.epoch,
                last_sequence: entry.batches.back().map_or(-1, |batch| batch.last_sequence),
                last_timestamp_ms: entry.last_timestamp_ms,
            })
            .collect()
    }

    /// Forgets everything (before a rebuild from the log).
    pub fn clear(&mut self) {
        self.producers.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{BatchBuilder, ProducerInfo, Record};

    fn batch(producer_id: i64, epoch: i16, base_sequence: i32, records: usize, base_offset: i64) -> RecordBatch {
        let mut builder =
            BatchBuilder::new().producer(ProducerInfo { producer_id, producer_epoch: epoch, base_sequence });
        for index in 0..records {
            builder.push(&Record::new(None, Some(format!("v{index}").as_bytes()), 0));
        }
        let mut batch = builder.build();
        batch.assign(base_offset, 0);
        batch
    }

    #[test]
    fn duplicates_gaps_and_epochs() {
        let mut table = ProducerStateTable::new();
        let first = batch(7, 0, 0, 3, 10);
        assert_eq!(table.check(&first), Ok(SequenceCheck::Append));
        table.record(&first);
        assert_eq!(
            table.check(&batch(7, 0, 0, 3, 99)),
            Ok(SequenceCheck::Duplicate { base_offset: 10, last_offset: 12 })
        );
        assert_eq!(table.check(&batch(7, 0, 4, 1, 99)), Err(ErrorCode::OutOfOrderSequenceNumber), "a gap");
        let second = batch(7, 0, 3, 2, 13);
        assert_eq!(table.check(&second), Ok(SequenceCheck::Append));
        table.record(&second);
        assert_eq!(
            table.check(&batch(7, 1, 5, 1, 99)),
            Err(ErrorCode::OutOfOrderSequenceNumber),
            "new epoch starts at 0"
        );
        let bumped = batch(7, 1, 0, 1, 15);
        assert_eq!(table.check(&bumped), Ok(SequenceCheck::Append));
        table.record(&bumped);
        assert_eq!(
            table.check(&batch(7, 0, 5, 1, 99)),
            Err(ErrorCode::InvalidProducerEpoch),
            "the old epoch is fenced"
        );
        assert_eq!(
            table.check(&batch(8, 0, 3, 1, 99)),
            Err(ErrorCode::OutOfOrderSequenceNumber),
            "unknown producer, seq 3"
        );
        assert_eq!(table.check(&batch(-1, -1, -1, 1, 99)), Ok(SequenceCheck::Append), "not idempotent");
    }

    #[test]
    fn only_the_last_five_batches_are_remembered() {
        let mut table = ProducerStateTable::new();
        for index in 0..7 {
            table.record(&batch(1, 0, index, 1, i64::from(index)));
        }
        assert_eq!(
            table.check(&batch(1, 0, 1, 1, 99)),
            Err(ErrorCode::OutOfOrderSequenceNumber),
            "too old to recognise"
        );
        assert_eq!(
            table.check(&batch(1, 0, 2, 1, 99)),
            Ok(SequenceCheck::Duplicate { base_offset: 2, last_offset: 2 })
        );
        assert_eq!(table.check(&batch(1, 0, 7, 1, 99)), Ok(SequenceCheck::Append));
    }

    #[test]
    fn sequences_wrap_like_kafka() {
        let mut table = ProducerStateTable::new();
        table.record(&batch(1, 0, i32::MAX - 1, 2, 0));
        assert_eq!(table.check(&batch(1, 0, 0, 1, 2)), Ok(SequenceCheck::Append));
    }
}
