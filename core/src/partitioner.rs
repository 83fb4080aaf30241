//! Choosing a partition for a record, bit-for-bit like the Java client.
//!
//! Order of precedence (Kafka's `KafkaProducer.partition`): an explicit partition wins; else
//! a keyed record goes to `toPositive(murmur2(key)) % partitions` (`BuiltInPartitioner`);
//! else the sticky partitioner (KIP-480 / KIP-794) keeps sending to one partition until
//! `batch.size` bytes went there, then picks another at random (from Rill's seeded [`Rng`]).
//! [`PartitionerKind::RoundRobin`] is Kafka's `RoundRobinPartitioner`, which ignores keys.

use crate::collections::VecMap;

use crate::error::{Error, ErrorCode, Result};
use crate::rng::Rng;

/// Kafka's `Utils.murmur2`: 32-bit MurmurHash2 with seed `0x9747b28c`.
#[must_use]
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    // Java's int arithmetic wraps; the length is an int.
    let length = u32::try_from(data.len()).expect("keys are shorter than 4 GiB");
    let mut h = SEED ^ length;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    // Java's switch falls through: 3 then 2 then 1. Bytes are sign-extended then masked.
    if tail.len() >= 3 {
        h ^= u32::from(tail[2]) << 16;
    }
    if tail.len() >= 2 {
        h ^= u32::from(tail[1]) << 8;
    }
    if !tail.is_empty() {
        h ^= u32::from(tail[0]);
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h.cast_signed()
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows).
#[must_use]
pub const fn to_positive(number: i32) -> i32 {
    number & 0x7fff_ffff
}

/// The partition Kafka's default partitioner gives a keyed record.
#[must_use]
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
    assert!(partitions > 0, "a topic has at least one partition");
    to_positive(murmur2(key)) % partitions
}

/// Which strategy picks partitions for records without an explicit partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PartitionerKind {
    /// Kafka's built-in partitioner: murmur2 for keys, sticky for null keys.
    Default,
    /// Kafka's `RoundRobinPartitioner`: every record to the next partition, keys ignored.
    RoundRobin,
}

#[derive(Clone, Debug, Default)]
struct StickyState {
    partition: Option<i32>,
    produced_bytes: usize,
}

/// A producer's partitioner, with per-topic state for sticky and round-robin choices.
#[derive(Clone, Debug)]
pub struct Partitioner {
    kind: PartitionerKind,
    batch_size: usize,
    sticky: VecMap<String, StickyState>,
    round_robin: VecMap<String, u32>,
}

impl Partitioner {
    /// A partitioner of `kind`; null-key records switch partition after `batch_size` bytes
    /// (the producer's `batch.size`, default 16384).
    #[must_use]
    pub fn new(kind: PartitionerKind, batch_size: usize) -> Partitioner {
        assert!(batch_size > 0, "batch.size must be positive");
        Partitioner { kind, batch_size, sticky: VecMap::new(), round_robin: VecMap::new() }
    }

    /// The strategy.
    #[must_use]
    pub fn kind(&self) -> PartitionerKind {
        self.kind
    }

    /// The partition for a record of `record_bytes` bytes to `topic` with `partitions`
    /// partitions. An explicit partition outside the topic is an error.
    pub fn partition(
        &mut self,
        topic: &str,
        explicit: Option<i32>,
        key: Option<&[u8]>,
        record_bytes: usize,
        partitions: i32,
        rng: &mut Rng,
    ) -> Result<i32> {
        if partitions < 1 {
            return Err(Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic {topic} has no partitions")));
        }
        if let Some(partition) = explicit {
            if !(0..partitions).contains(&partition) {
                return Err(Error::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("invalid partition given with record: {partition} is not in the range [0...{partitions})"),
                ));
            }
            return Ok(partition);
        }
        let chosen = match (self.kind, key) {
            (PartitionerKind::RoundRobin, _) => {
                let counter = self.round_robin.entry(topic.to_owned()).or_insert(0);
                let next = *counter;
                *counter = counter.wrapping_add(1);
                // Java: toPositive(counter.getAndIncrement()) % numPartitions.
                to_positive(next.cast_signed()) % partitions
            }
            (PartitionerKind::Default, Some(key)) => partition_for_key(key, partitions),
            (PartitionerKind::Default, None) => self.sticky_partition(topic, record_bytes, partitions, rng),
        };
        debug_assert!((0..partitions).contains(&chosen));
        Ok(chosen)
    }

    fn sticky_partition(&mut self, topic: &str, record_bytes: usize, partitions: i32, rng: &mut Rng) -> i32 {
        let batch_size = self.batch_size;
        let state = self.sticky.entry(topic.to_owned()).or_default();
        let partition = match state.partition {
            Some(partition) if partition < partitions => partition,
            _ => {
                state.produced_bytes = 0;
                random_partition(partitions, rng)
            }
        };
        // KIP-794: count what went to the sticky partition; switch once batch.size is reached.
        state.produced_bytes += record_bytes;
        if state.produced_bytes >= batch_size {
            state.partition = Some(random_partition(partitions, rng));
            state.produced_bytes = 0;
        } else {
            state.partition = Some(partition);
        }
        partition
    }
}

fn random_partition(partitions: i32, rng: &mut Rng) -> i32 {
    let bound = u64::try_from(partitions).expect("partitions is positive");
    i32::try_from(rng.below(bound)).expect("below(partitions) fits i32")
}
