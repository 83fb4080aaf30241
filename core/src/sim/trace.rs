//! The recorded event trace of a simulation and its platform-independent hash.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use crate::error::ErrorCode;
use crate::event::Event;
use crate::protocol::{Acks, NodeId, TopicPartition};

use super::Fault;

/// Why the network did not deliver a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum DropReason {
    /// The link between the two hosts is cut in that direction.
    LinkCut,
    /// The network's random drop rate.
    Random,
    /// The destination was crashed when the message arrived.
    NodeDown,
    /// A person dropped it by hand (the dashboard's message control).
    ByHand,
}

/// What happened at one step.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum TraceKind {
    /// A fault or a user action was applied.
    Fault(Fault),
    /// A message left a node.
    Sent {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The Kafka API it stands for.
        api: &'static str,
        /// When it will arrive.
        deliver_at_ms: u64,
    },
    /// A message arrived.
    Delivered {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The Kafka API it stands for.
        api: &'static str,
    },
    /// A message was lost.
    Dropped {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The Kafka API it stands for.
        api: &'static str,
        /// Why.
        reason: DropReason,
    },
    /// A person held a message back (the dashboard's message control); later messages on
    /// its connection wait behind it, as on TCP.
    Delayed {
        /// Sender.
        from: NodeId,
        /// Receiver.
        to: NodeId,
        /// The Kafka API it stands for.
        api: &'static str,
        /// When it arrives now.
        deliver_at_ms: u64,
    },
    /// A broker or the controller changed state.
    Node {
        /// Where.
        node: NodeId,
        /// What.
        event: Event,
    },
    /// A producer learned the outcome of a record.
    Produced {
        /// Producer client number.
        client: u32,
        /// Its send id.
        send_id: u64,
        /// Partition.
        tp: Option<TopicPartition>,
        /// Acks used.
        acks: Acks,
        /// Offset or error.
        result: Result<i64, ErrorCode>,
        /// Produce requests sent for it.
        attempts: u32,
    },
    /// A consumer received a record.
    Consumed {
        /// Consumer client number.
        client: u32,
        /// Partition.
        tp: TopicPartition,
        /// Offset.
        offset: i64,
    },
    /// A consumer reset its position.
    ConsumerReset {
        /// Consumer client number.
        client: u32,
        /// Partition.
        tp: TopicPartition,
        /// Old position.
        from_offset: i64,
        /// New position.
        to_offset: i64,
    },
    /// A group member received its partitions.
    Assigned {
        /// Member's client number.
        client: u32,
        /// Group.
        group_id: String,
        /// Generation.
        generation_id: i32,
        /// Partitions.
        partitions: Vec<TopicPartition>,
    },
    /// A group member committed an offset.
    Committed {
        /// Member's client number.
        client: u32,
        /// Group.
        group_id: String,
        /// Partition.
        tp: TopicPartition,
        /// Offset.
        offset: i64,
    },
    /// An invariant broke.
    Violation {
        /// Which invariant.
        invariant: &'static str,
        /// Details.
        detail: String,
    },
}

/// One trace entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TraceEvent {
    /// Position in the trace.
    pub index: u64,
    /// Virtual time.
    pub time_ms: u64,
    /// What happened.
    pub kind: TraceKind,
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} t={}ms ", self.index, self.time_ms)?;
        match &self.kind {
            TraceKind::Fault(fault) => write!(f, "fault: {fault}"),
            TraceKind::Sent { from, to, api, deliver_at_ms } => {
                write!(f, "{from} sends {api} to {to} (arrives at {deliver_at_ms} ms)")
            }
            TraceKind::Delivered { from, to, api } => write!(f, "{to} receives {api} from {from}"),
            TraceKind::Delayed { from, to, api, deliver_at_ms } => write!(
                f,
                "{api} from {from} to {to} held back by hand until {deliver_at_ms} ms (later messages on that \
                 connection wait behind it, as on TCP)"
            ),
            TraceKind::Dropped { from, to, api, reason } => {
                write!(f, "{api} from {from} to {to} was lost ({reason:?})")
            }
            TraceKind::Node { event, .. } => write!(f, "{event}"),
            TraceKind::Produced { client, send_id, tp, acks, result, attempts } => {
                let tp = tp.as_ref().map_or_else(|| "?".to_owned(), ToString::to_string);
                match result {
                    Ok(offset) => write!(
                        f,
                        "producer {client} record #{send_id} acknowledged at {tp} offset {offset} ({acks}, {attempts} attempt(s))"
                    ),
                    Err(error) => write!(f, "producer {client} record #{send_id} to {tp} failed: {error} ({acks})"),
                }
            }
            TraceKind::Consumed { client, tp, offset } => write!(f, "consumer {client} read {tp} offset {offset}"),
            TraceKind::ConsumerReset { client, tp, from_offset, to_offset } if *from_offset < 0 && *to_offset >= 0 => {
                write!(f, "consumer {client} has no committed offset for {tp}: starts at {to_offset} (auto.offset.reset)")
            }
            TraceKind::ConsumerReset { client, tp, from_offset, to_offset } if *to_offset < 0 => write!(
                f,
                "consumer {client}: position {from_offset} of {tp} is out of range and auto.offset.reset=none: it stops reading {tp}"
            ),
            TraceKind::ConsumerReset { client, tp, from_offset, to_offset } => {
                write!(f, "consumer {client}: position {from_offset} of {tp} is out of range, reset to {to_offset}")
            }
            TraceKind::Assigned { client, group_id, generation_id, partitions } => {
                let names: Vec<String> = partitions.iter().map(ToString::to_string).collect();
                write!(
                    f,
                    "consumer {client} of group {group_id} owns [{}] in generation {generation_id}",
                    names.join(", ")
                )
            }
            TraceKind::Committed { client, group_id, tp, offset } => {
                write!(f, "consumer {client} committed offset {offset} of {tp} for group {group_id}")
            }
            TraceKind::Violation { invariant, detail } => write!(f, "VIOLATION of {invariant}: {detail}"),
        }
    }
}

/// A hasher whose output is the same on every platform: integers are fed little-endian and
/// `usize` as `u64` (so x86_64 and wasm32 agree), mixed with a 64-bit multiply-xorshift.
#[derive(Clone, Debug)]
pub struct StableHasher {
    state: u64,
}

impl Default for StableHasher {
    fn default() -> Self {
        StableHasher { state: 0xcbf2_9ce4_8422_2325 }
    }
}

impl StableHasher {
    fn mix(&mut self, word: u64) {
        self.state = (self.state ^ word).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
}

impl Hasher for StableHasher {
    fn finish(&self) -> u64 {
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.mix(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let mut tail = [0u8; 8];
        let remainder = chunks.remainder();
        tail[..remainder.len()].copy_from_slice(remainder);
        self.mix(u64::from_le_bytes(tail) ^ (u64::try_from(remainder.len()).expect("< 8") << 56));
    }

    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }
    fn write_u16(&mut self, value: u16) {
        self.mix(u64::from(value));
    }
    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }
    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }
    fn write_usize(&mut self, value: usize) {
        self.mix(u64::try_from(value).expect("usize fits u64"));
    }
    fn write_i8(&mut self, value: i8) {
        self.write_u8(value.cast_unsigned());
    }
    fn write_i16(&mut self, value: i16) {
        self.write_u16(value.cast_unsigned());
    }
    fn write_i32(&mut self, value: i32) {
        self.write_u32(value.cast_unsigned());
    }
    fn write_i64(&mut self, value: i64) {
        self.write_u64(value.cast_unsigned());
    }
    fn write_isize(&mut self, value: isize) {
        self.write_i64(i64::try_from(value).expect("isize fits i64"));
    }
}

/// Stable 64-bit hash of any `Hash` value (see [`StableHasher`]).
pub fn stable_hash<T: Hash + ?Sized>(value: &T) -> u64 {
    let mut hasher = StableHasher::default();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Bytes of a record, hashed (the checkers' record fingerprint).
pub fn fingerprint(key: Option<&[u8]>, value: Option<&[u8]>) -> u64 {
    stable_hash(&(key, value))
}

impl TraceEvent {
    /// Feeds this event into a running trace hash.
    pub fn hash_into(&self, hasher: &mut StableHasher) {
        self.hash(hasher);
    }
}
