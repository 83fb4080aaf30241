//! The simple consumer: reads assigned partitions from their leaders up to the high
//! watermark, in order, resetting an out-of-range position as `auto.offset.reset` says; and the
//! fetch bookkeeping group members share with it.

use crate::collections::VecMap;
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use super::MetadataClient;
use crate::error::ErrorCode;
use crate::placement::BrokerId;
use crate::protocol::{
    Fetch, FetchPartition, FetchPartitionResponse, FetchResponse, Message, MetadataResponse, NodeId, Outgoing,
    TopicPartition,
};

/// A record a consumer received.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConsumedRecord {
    /// The partition.
    pub tp: TopicPartition,
    /// Its offset.
    pub offset: i64,
    /// Key.
    pub key: Option<Bytes>,
    /// Value.
    pub value: Option<Bytes>,
    /// The high watermark the leader reported with it.
    pub high_watermark: i64,
}

/// What a consumer saw happen.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ConsumerEvent {
    /// A record, in order.
    Record(ConsumedRecord),
    /// The position was out of range and reset to the earliest offset (`auto.offset.reset`).
    PositionReset {
        /// The partition.
        tp: TopicPartition,
        /// Old position.
        from_offset: i64,
        /// New position.
        to_offset: i64,
    },
    /// No committed offset and `auto.offset.reset=none`: the partition is not consumed.
    OutOfRange {
        /// The partition.
        tp: TopicPartition,
        /// The position that was out of range (-1 when there was no committed offset).
        offset: i64,
    },
    /// A group member received its partitions for a generation.
    Assigned {
        /// Group.
        group_id: String,
        /// Generation.
        generation_id: i32,
        /// Its partitions.
        partitions: Vec<TopicPartition>,
    },
    /// A group member's offset commit succeeded.
    Committed {
        /// Group.
        group_id: String,
        /// Partition.
        tp: TopicPartition,
        /// The committed offset (the next record to read).
        offset: i64,
    },
}

#[derive(Clone, Debug)]
pub(crate) struct PartitionPosition {
    pub(crate) position: i64,
    pub(crate) in_flight: Option<(u64, u64)>,
    pub(crate) next_fetch_ms: u64,
}

impl PartitionPosition {
    /// When this partition next needs attention: its fetch's timeout, or its next fetch.
    pub(crate) fn deadline_ms(&self, request_timeout_ms: u64) -> u64 {
        match self.in_flight {
            Some((_, sent_ms)) => sent_ms + request_timeout_ms,
            None => self.next_fetch_ms,
        }
    }

    /// Accepts the response to the fetch in flight (and nothing else); ready to fetch again.
    pub(crate) fn accept(&mut self, request_id: u64, now_ms: u64) -> bool {
        if self.in_flight.map(|(id, _)| id) != Some(request_id) {
            return false;
        }
        self.in_flight = None;
        self.next_fetch_ms = now_ms;
        true
    }

    /// Hands the records at or past the position to `events`, in order, advancing it.
    pub(crate) fn take_records(
        &mut self,
        tp: &TopicPartition,
        batches: &[crate::record::RecordBatch],
        high_watermark: i64,
        events: &mut VecDeque<ConsumerEvent>,
    ) {
        for batch in batches {
            for record in batch.records() {
                let Ok(record) = record else { break };
                if record.offset < self.position {
                    continue;
                }
                self.position = record.offset + 1;
                events.push_back(ConsumerEvent::Record(ConsumedRecord {
                    tp: tp.clone(),
                    offset: record.offset,
                    key: record.record.key,
                    value: record.record.value,
                    high_watermark,
                }));
            }
        }
    }
}

/// Consumer fetch timing (the Java consumer's defaults).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FetchTiming {
    pub(crate) request_timeout_ms: u64,
    pub(crate) max_wait_ms: u64,
}

/// Sends a consumer fetch for every partition that is due, to its leader; partitions without a
/// leader wait and mark the metadata stale. Shared by [`Consumer`] and group members.
pub(crate) fn send_due_fetches(
    now_ms: u64,
    positions: &mut VecMap<TopicPartition, PartitionPosition>,
    metadata: &mut MetadataClient,
    next_request_id: &mut u64,
    timing: FetchTiming,
    outbox: &mut VecDeque<Outgoing>,
) {
    for (tp, position) in positions.iter_mut() {
        if position.in_flight.is_some_and(|(_, sent_ms)| now_ms >= sent_ms + timing.request_timeout_ms) {
            position.in_flight = None;
            metadata.stale = true;
        }
        if position.in_flight.is_some() || now_ms < position.next_fetch_ms {
            continue;
        }
        let Some(leader) = metadata.leader(tp) else {
            position.next_fetch_ms = now_ms + 100;
            metadata.stale = true;
            continue;
        };
        let request_id = *next_request_id;
        *next_request_id += 1;
        position.in_flight = Some((request_id, now_ms));
        // One partition per fetch: the simulated consumers keep one fetch in flight per
        // partition (the Java consumer batches a fetch per broker).
        let message = Message::Fetch(Fetch {
            replica_id: None,
            max_wait_ms: timing.max_wait_ms,
            min_bytes: 1,
            partitions: vec![FetchPartition {
                tp: tp.clone(),
                fetch_offset: position.position,
                last_fetched_epoch: -1,
                current_leader_epoch: -1,
                max_bytes: 1 << 20,
            }],
        });
        outbox.push_back(Outgoing { to: NodeId::Broker(leader), correlation_id: request_id, message });
    }
}

/// A consumer of whole topics (no group yet), reading committed records from leaders.
#[derive(Debug)]
pub struct Consumer {
    id: u32,
    topics: Vec<Arc<str>>,
    metadata: MetadataClient,
    positions: VecMap<TopicPartition, PartitionPosition>,
    outbox: VecDeque<Outgoing>,
    events: VecDeque<ConsumerEvent>,
    next_request_id: u64,
    request_timeout_ms: u64,
    fetch_max_wait_ms: u64,
}

impl Consumer {
    /// A consumer with client number `id` reading every partition of `topics` from offset 0.
    #[must_use]
    pub fn new(id: u32, topics: &[&str], bootstrap: Vec<BrokerId>) -> Consumer {
        Consumer {
            id,
            topics: topics.iter().map(|topic| Arc::from(*topic)).collect(),
            metadata: MetadataClient::new(bootstrap),
            positions: VecMap::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            next_request_id: 1,
            // Kafka consumer defaults: request.timeout.ms 30000, fetch.max.wait.ms 500.
            request_timeout_ms: 30_000,
            fetch_max_wait_ms: 500,
        }
    }

    /// The client number.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Next position per partition.
    #[must_use]
    pub fn positions(&self) -> VecMap<TopicPartition, i64> {
        self.positions.iter().map(|(tp, p)| (tp.clone(), p.position)).collect()
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// Next consumed record or reset.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConsumerEvent> {
        self.events.pop_front()
    }

    /// When to call [`Consumer::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut next = self.metadata.next_deadline(self.request_timeout_ms);
        for position in self.positions.values() {
            let at = position.deadline_ms(self.request_timeout_ms);
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        next
    }

    /// Handles a response to the request `correlation_id`.
    pub fn handle_message(&mut self, now_ms: u64, _from: NodeId, correlation_id: u64, message: Message) {
        let request_id = correlation_id;
        match message {
            Message::MetadataResponse(MetadataResponse { image }) => {
                self.metadata.handle_response(now_ms, request_id, image);
                self.assign_partitions(now_ms);
                self.handle_timeout(now_ms);
            }
            Message::FetchResponse(FetchResponse { partitions }) => {
                // Consumers fetch one partition per request.
                let Some(FetchPartitionResponse { tp, error, high_watermark, log_start_offset, batches, .. }) =
                    partitions.into_iter().next()
                else {
                    return;
                };
                let Some(position) = self.positions.get_mut(&tp) else {
                    return;
                };
                if !position.accept(request_id, now_ms) {
                    return;
                }
                match error {
                    ErrorCode::None => position.take_records(&tp, &batches, high_watermark, &mut self.events),
                    ErrorCode::OffsetOutOfRange => {
                        // auto.offset.reset=earliest.
                        let from_offset = position.position;
                        position.position = log_start_offset.max(0);
                        self.events.push_back(ConsumerEvent::PositionReset {
                            tp: tp.clone(),
                            from_offset,
                            to_offset: position.position,
                        });
                    }
                    _ => {
                        position.next_fetch_ms = now_ms + 100;
                        self.metadata.stale = true;
                    }
                }
                self.handle_timeout(now_ms);
            }
            _ => {}
        }
    }

    fn assign_partitions(&mut self, now_ms: u64) {
        for topic in &self.topics {
            let Some(metadata) = self.metadata.image.topics.get(topic) else {
                // Not created yet, or this broker has not heard of it: ask again.
                self.metadata.stale = true;
                continue;
            };
            for partition in 0..metadata.partitions.len() {
                let tp =
                    TopicPartition { topic: topic.clone(), partition: i32::try_from(partition).unwrap_or(i32::MAX) };
                self.positions.entry(tp).or_insert(PartitionPosition {
                    position: 0,
                    in_flight: None,
                    next_fetch_ms: now_ms,
                });
            }
        }
    }

    /// Sends due fetches and metadata requests.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let request_id = self.next_request_id;
        if self.metadata.poll(now_ms, request_id, self.request_timeout_ms, &mut self.outbox) {
            self.next_request_id += 1;
        }
        let timing = FetchTiming { request_timeout_ms: self.request_timeout_ms, max_wait_ms: self.fetch_max_wait_ms };
        send_due_fetches(
            now_ms,
            &mut self.positions,
            &mut self.metadata,
            &mut self.next_request_id,
            timing,
            &mut self.outbox,
        );
    }
}
