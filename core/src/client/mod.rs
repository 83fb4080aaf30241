//! Client models: a producer and a simple consumer, as sans-IO state machines.
//!
//! They behave like Kafka's Java clients where it matters for replication: the producer picks
//! partitions with the Java partitioner, sends to the leader from its metadata, retries
//! retriable errors after `retry.backoff.ms` until `delivery.timeout.ms`, refreshes metadata on
//! `NOT_LEADER_OR_FOLLOWER`, and reports every record's outcome. The consumer reads assigned
//! partitions from the leader up to the high watermark, in order (`consumer.rs`). Rill
//! simplification: one record per produce request (no linger/batching); an idempotent
//! producer keeps one request in flight per partition.

use crate::collections::VecMap;
use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::ErrorCode;
use crate::partitioner::{Partitioner, PartitionerKind};
use crate::placement::BrokerId;
use crate::protocol::{
    Acks, InitProducerId, InitProducerIdResponse, Message, MetadataImage, MetadataRequest, MetadataResponse, NodeId,
    Outgoing, Produce, ProduceResponse, TopicPartition,
};
use crate::record::{BatchBuilder, ProducerInfo, Record};
use crate::rng::Rng;

mod consumer;
pub(crate) use consumer::{send_due_fetches, FetchTiming, PartitionPosition};
pub use consumer::{ConsumedRecord, Consumer, ConsumerEvent};

/// Most records a producer queues (a limit on everything).
pub const PRODUCER_QUEUE_MAX: usize = 100_000;

/// Producer settings (Kafka's names; defaults are the Java client's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `acks`.
    pub acks: Acks,
    /// `retries` (Kafka: `Integer.MAX_VALUE`).
    pub retries: u32,
    /// `retry.backoff.ms`.
    pub retry_backoff_ms: u64,
    /// `request.timeout.ms`.
    pub request_timeout_ms: u64,
    /// `delivery.timeout.ms`.
    pub delivery_timeout_ms: u64,
    /// `partitioner.class`: built-in or round-robin.
    pub partitioner: PartitionerKind,
    /// `batch.size` (drives the sticky partitioner).
    pub batch_size: usize,
    /// `enable.idempotence` (Kafka's default: true). Takes effect with `acks=all`, as in the
    /// Java client; Rill's idempotent producer keeps one request in flight per partition.
    pub enable_idempotence: bool,
}

impl Default for ProducerConfig {
    fn default() -> ProducerConfig {
        ProducerConfig {
            acks: Acks::All,
            retries: u32::MAX,
            retry_backoff_ms: 100,
            request_timeout_ms: 30_000,
            delivery_timeout_ms: 120_000,
            partitioner: PartitionerKind::Default,
            batch_size: 16_384,
            enable_idempotence: true,
        }
    }
}

/// What became of one sent record.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ProduceOutcome {
    /// The number `send` returned.
    pub send_id: u64,
    /// Where it went (`None` if no partition could be chosen).
    pub tp: Option<TopicPartition>,
    /// The record's key.
    pub key: Option<Bytes>,
    /// The record's value.
    pub value: Option<Bytes>,
    /// The acks it was sent with.
    pub acks: Acks,
    /// Offset on success (-1 for acks=0), or the final error.
    pub result: Result<i64, ErrorCode>,
    /// How many produce requests were sent for it.
    pub attempts: u32,
    /// When `send` was called.
    pub sent_ms: u64,
    /// When the outcome was known.
    pub completed_ms: u64,
    /// Sent by an idempotent producer (producer id and sequence numbers).
    pub idempotent: bool,
}

#[derive(Clone, Debug)]
struct PendingRecord {
    send_id: u64,
    topic: Arc<str>,
    partition: Option<i32>,
    record: Record,
    created_ms: u64,
    attempts: u32,
    next_attempt_ms: u64,
    /// Idempotent producers: producer id, epoch and sequence, fixed at the first send so every
    /// retry is recognisable as the same batch (even after the producer took a new id).
    sequence: Option<ProducerInfo>,
    /// Waiting for a producer id or for the partition's request in flight: a response, not a
    /// timer, wakes it.
    blocked: bool,
}

#[derive(Clone, Debug)]
struct InFlight {
    pending: PendingRecord,
    tp: TopicPartition,
    sent_ms: u64,
}

/// Metadata fetching shared by the producer and the consumers.
#[derive(Debug)]
pub(crate) struct MetadataClient {
    bootstrap: Vec<BrokerId>,
    pub(crate) image: Arc<MetadataImage>,
    in_flight: Option<(u64, u64)>,
    pub(crate) stale: bool,
    next_bootstrap: usize,
    /// No new request before this time (Kafka's `retry.backoff.ms` between refreshes).
    not_before_ms: u64,
}

/// Pause between metadata refreshes (the Java client's `retry.backoff.ms`).
const METADATA_BACKOFF_MS: u64 = 100;

impl MetadataClient {
    pub(crate) fn new(bootstrap: Vec<BrokerId>) -> MetadataClient {
        assert!(!bootstrap.is_empty(), "a client needs at least one bootstrap broker");
        MetadataClient {
            bootstrap,
            image: Arc::new(MetadataImage::default()),
            in_flight: None,
            stale: true,
            next_bootstrap: 0,
            not_before_ms: 0,
        }
    }

    pub(crate) fn leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        self.image.partition(tp)?.leader
    }

    /// Sends a metadata request when the image is stale and none is in flight (or it timed out).
    pub(crate) fn poll(
        &mut self,
        now_ms: u64,
        request_id: u64,
        timeout_ms: u64,
        outbox: &mut VecDeque<Outgoing>,
    ) -> bool {
        if let Some((_, sent_ms)) = self.in_flight {
            if now_ms < sent_ms + timeout_ms {
                return false;
            }
            self.in_flight = None;
        }
        if !self.stale || now_ms < self.not_before_ms {
            return false;
        }
        // Try the brokers in turn, like the Java client's least-loaded-node choice.
        let broker = self.bootstrap[self.next_bootstrap % self.bootstrap.len()];
        self.next_bootstrap += 1;
        self.in_flight = Some((request_id, now_ms));
        let message = Message::Metadata(MetadataRequest {});
        outbox.push_back(Outgoing { to: NodeId::Broker(broker), correlation_id: request_id, message });
        true
    }

    pub(crate) fn handle_response(&mut self, now_ms: u64, request_id: u64, image: Arc<MetadataImage>) {
        if self.in_flight.map(|(id, _)| id) == Some(request_id) {
            self.in_flight = None;
            self.not_before_ms = now_ms + METADATA_BACKOFF_MS;
            // A broker that has no metadata yet (epoch 0) cannot help: ask again.
            if image.metadata_epoch > 0 && image.metadata_epoch >= self.image.metadata_epoch {
                self.image = image;
                self.stale = false;
            }
        }
    }

    pub(crate) fn next_deadline(&self, timeout_ms: u64) -> Option<u64> {
        match self.in_flight {
            Some((_, sent_ms)) => Some(sent_ms + timeout_ms),
            None if self.stale => Some(self.not_before_ms),
            None => None,
        }
    }
}

/// A producer client.
#[derive(Debug)]
pub struct Producer {
    id: u32,
    config: ProducerConfig,
    metadata: MetadataClient,
    partitioner: Partitioner,
    rng: Rng,
    queue: VecDeque<PendingRecord>,
    in_flight: VecMap<u64, Box<InFlight>>,
    outbox: VecDeque<Outgoing>,
    outcomes: VecDeque<ProduceOutcome>,
    next_request_id: u64,
    next_send_id: u64,
    idempotence: IdempotenceState,
}

/// The idempotent producer's id, epoch and per-partition sequence numbers.
#[derive(Debug, Default)]
struct IdempotenceState {
    producer: Option<(i64, i16)>,
    init_in_flight: Option<(u64, u64)>,
    next_sequence: VecMap<TopicPartition, i32>,
    /// Partitions with a sequenced record backing off: later records wait behind it, or
    /// they would open a sequence gap.
    held: crate::collections::VecSet<TopicPartition>,
}

impl Producer {
    /// A producer with client number `id` that bootstraps from `bootstrap` brokers.
    #[must_use]
    pub fn new(id: u32, config: ProducerConfig, bootstrap: Vec<BrokerId>, rng: Rng) -> Producer {
        let partitioner = Partitioner::new(config.partitioner, config.batch_size);
        Producer {
            id,
            config,
            metadata: MetadataClient::new(bootstrap),
            partitioner,
            rng,
            queue: VecDeque::new(),
            in_flight: VecMap::new(),
            outbox: VecDeque::new(),
            outcomes: VecDeque::new(),
            next_request_id: 1,
            next_send_id: 1,
            idempotence: IdempotenceState::default(),
        }
    }

    /// The client number.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The producer's settings.
    #[must_use]
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// Whether this producer uses producer ids and sequence numbers.
    #[must_use]
    pub fn is_idempotent(&self) -> bool {
        self.config.enable_idempotence && self.config.acks == Acks::All
    }

    /// Records waiting or in flight.
    #[must_use]
    pub fn pending(&self) -> usize {
        self.queue.len() + self.in_flight.len()
    }

    /// Records queued (not sent yet), records in flight, and when the oldest request in
    /// flight was sent (it fails or is retried `request.timeout.ms` after that).
    #[must_use]
    pub fn backlog(&self) -> (usize, usize, Option<u64>) {
        let oldest = self.in_flight.values().map(|in_flight| in_flight.sent_ms).min();
        (self.queue.len(), self.in_flight.len(), oldest)
    }

    /// Queues a record; returns its send id, or `None` when the queue is full.
    pub fn send(&mut self, now_ms: u64, topic: &str, partition: Option<i32>, record: Record) -> Option<u64> {
        if self.pending() >= PRODUCER_QUEUE_MAX {
            return None;
        }
        let send_id = self.next_send_id;
        self.next_send_id += 1;
        self.queue.push_back(PendingRecord {
            send_id,
            topic: Arc::from(topic),
            partition,
            record,
            created_ms: now_ms,
            attempts: 0,
            next_attempt_ms: now_ms,
            sequence: None,
            blocked: false,
        });
        Some(send_id)
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// Next record outcome.
    #[must_use]
    pub fn poll_outcome(&mut self) -> Option<ProduceOutcome> {
        self.outcomes.pop_front()
    }

    /// When to call [`Producer::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let mut next = self.metadata.next_deadline(self.config.request_timeout_ms);
        let mut consider = |at: u64| next = Some(next.map_or(at, |n: u64| n.min(at)));
        for pending in &self.queue {
            if !self.metadata.stale && !pending.blocked {
                consider(pending.next_attempt_ms);
            }
            consider(pending.created_ms.saturating_add(self.config.delivery_timeout_ms));
        }
        for in_flight in self.in_flight.values() {
            consider(in_flight.sent_ms + self.config.request_timeout_ms);
        }
        if let Some((_, sent_ms)) = self.idempotence.init_in_flight {
            consider(sent_ms + self.config.request_timeout_ms);
        }
        next
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    /// Handles a response to the request `correlation_id`.
    pub fn handle_message(&mut self, now_ms: u64, _from: NodeId, correlation_id: u64, message: Message) {
        let request_id = correlation_id;
        match message {
            Message::MetadataResponse(MetadataResponse { image }) => {
                self.metadata.handle_response(now_ms, request_id, image);
                self.handle_timeout(now_ms);
            }
            Message::InitProducerIdResponse(InitProducerIdResponse { error, producer_id, producer_epoch }) => {
                if self.idempotence.init_in_flight.map(|(id, _)| id) == Some(request_id) {
                    self.idempotence.init_in_flight = None;
                    if error.is_ok() {
                        self.idempotence.producer = Some((producer_id, producer_epoch));
                    }
                }
                self.handle_timeout(now_ms);
            }
            Message::ProduceResponse(ProduceResponse { error, base_offset, .. }) => {
                let Some(in_flight) = self.in_flight.remove(&request_id) else {
                    return;
                };
                if error.is_ok() {
                    self.complete(now_ms, in_flight.pending, Some(in_flight.tp), Ok(base_offset));
                } else {
                    self.retry_or_fail(now_ms, in_flight.pending, Some(in_flight.tp), error);
                }
                self.handle_timeout(now_ms);
            }
            _ => {}
        }
    }

    fn complete(
        &mut self,
        now_ms: u64,
        pending: PendingRecord,
        tp: Option<TopicPartition>,
        result: Result<i64, ErrorCode>,
    ) {
        self.outcomes.push_back(ProduceOutcome {
            send_id: pending.send_id,
            tp,
            key: pending.record.key,
            value: pending.record.value,
            acks: self.config.acks,
            result,
            attempts: pending.attempts,
            sent_ms: pending.created_ms,
            completed_ms: now_ms,
            idempotent: self.is_idempotent(),
        });
    }

    fn retry_or_fail(&mut self, now_ms: u64, mut pending: PendingRecord, tp: Option<TopicPartition>, error: ErrorCode) {
        if matches!(
            error,
            ErrorCode::NotLeaderOrFollower
                | ErrorCode::UnknownTopicOrPartition
                | ErrorCode::LeaderNotAvailable
                | ErrorCode::RequestTimedOut
                | ErrorCode::NetworkException
        ) {
            self.metadata.stale = true;
        }
        let expired = now_ms >= pending.created_ms.saturating_add(self.config.delivery_timeout_ms);
        let mut retriable = error.is_retriable();
        if self.is_idempotent() && matches!(error, ErrorCode::OutOfOrderSequenceNumber | ErrorCode::UnknownProducerId) {
            // The partition lost our sequence state (an unclean election, a wiped log): take a
            // new producer id whose sequences start at 0 (the Java client bumps the epoch,
            // KIP-360). Only this record, which the leader rejected and so did not append, is
            // re-sequenced; records already sent keep their (id, sequence), so their retries
            // are still recognised as duplicates where they landed.
            if pending
                .sequence
                .is_some_and(|sent| Some((sent.producer_id, sent.producer_epoch)) == self.idempotence.producer)
            {
                self.idempotence.producer = None;
                self.idempotence.next_sequence.clear();
            }
            pending.sequence = None;
            retriable = true;
        }
        if retriable && pending.attempts <= self.config.retries && !expired {
            pending.next_attempt_ms = now_ms + self.config.retry_backoff_ms;
            if let Some(tp) = tp {
                pending.partition = Some(tp.partition);
            }
            if self.is_idempotent() {
                // First in line again, so sequences go out in order.
                self.queue.push_front(pending);
            } else {
                self.queue.push_back(pending);
            }
        } else {
            self.complete(now_ms, pending, tp, Err(error));
        }
    }

    /// Sends due records, expires timed-out requests, refreshes metadata.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let expired: Vec<u64> = self
            .in_flight
            .iter()
            .filter(|(_, in_flight)| now_ms >= in_flight.sent_ms + self.config.request_timeout_ms)
            .map(|(id, _)| *id)
            .collect();
        for request_id in expired {
            let in_flight = self.in_flight.remove(&request_id).expect("listed above");
            // The Java client treats a request timeout as a retriable network error.
            self.retry_or_fail(now_ms, in_flight.pending, Some(in_flight.tp), ErrorCode::RequestTimedOut);
        }
        let request_id = self.next_request_id;
        if self.metadata.poll(now_ms, request_id, self.config.request_timeout_ms, &mut self.outbox) {
            self.next_request_id += 1;
        }
        if self.metadata.image.metadata_epoch == 0 {
            return;
        }
        if self.is_idempotent() && self.idempotence.producer.is_none() {
            let timed_out = self
                .idempotence
                .init_in_flight
                .is_some_and(|(_, sent_ms)| now_ms >= sent_ms + self.config.request_timeout_ms);
            if self.idempotence.init_in_flight.is_none() || timed_out {
                let request_id = self.request_id();
                let brokers: Vec<BrokerId> = self.metadata.image.brokers.keys().copied().collect();
                let broker = brokers[usize::try_from(request_id).unwrap_or(0) % brokers.len().max(1)];
                self.idempotence.init_in_flight = Some((request_id, now_ms));
                self.outbox.push_back(Outgoing {
                    to: NodeId::Broker(broker),
                    correlation_id: request_id,
                    message: Message::InitProducerId(InitProducerId {}),
                });
            }
        }
        self.idempotence.held.clear();
        let mut waiting = VecDeque::new();
        while let Some(pending) = self.queue.pop_front() {
            if now_ms >= pending.created_ms.saturating_add(self.config.delivery_timeout_ms) {
                self.complete(now_ms, pending, None, Err(ErrorCode::RequestTimedOut));
                continue;
            }
            if pending.next_attempt_ms > now_ms {
                if let (Some(_), Some(partition)) = (pending.sequence, pending.partition) {
                    self.idempotence.held.insert(TopicPartition { topic: pending.topic.clone(), partition });
                }
                waiting.push_back(pending);
                continue;
            }
            let mut pending = pending;
            pending.blocked = false;
            if let Some(pending) = self.dispatch(now_ms, pending) {
                waiting.push_back(pending);
            }
        }
        self.queue = waiting;
    }

    /// Sends one record to its partition's leader; gives it back when there is no leader yet.
    fn dispatch(&mut self, now_ms: u64, mut pending: PendingRecord) -> Option<PendingRecord> {
        let Some(topic) = self.metadata.image.topics.get(&pending.topic) else {
            self.metadata.stale = true;
            pending.next_attempt_ms = now_ms + self.config.retry_backoff_ms;
            return Some(pending);
        };
        let partitions = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        let partition = match pending.partition {
            Some(partition) => partition,
            None => {
                let size = pending.record.key.as_ref().map_or(0, Bytes::len)
                    + pending.record.value.as_ref().map_or(0, Bytes::len);
                match self.partitioner.partition(
                    &pending.topic,
                    None,
                    pending.record.key.as_deref(),
                    size,
                    partitions,
                    &mut self.rng,
                ) {
                    Ok(partition) => partition,
                    Err(error) => {
                        self.complete(now_ms, pending, None, Err(error.code));
                        return None;
                    }
                }
            }
        };
        pending.partition = Some(partition);
        let tp = TopicPartition { topic: pending.topic.clone(), partition };
        let Some(leader) = self.metadata.leader(&tp) else {
            self.metadata.stale = true;
            pending.next_attempt_ms = now_ms + self.config.retry_backoff_ms;
            return Some(pending);
        };
        let mut builder = BatchBuilder::new();
        if self.is_idempotent() {
            let Some((producer_id, producer_epoch)) = self.idempotence.producer else {
                pending.blocked = true;
                return Some(pending);
            };
            if self.idempotence.held.contains(&tp) {
                // Behind a sequenced record that is backing off: its timer wakes us.
                return Some(pending);
            }
            if self.in_flight.values().any(|in_flight| in_flight.tp == tp) {
                pending.blocked = true;
                return Some(pending);
            }
            let producer = *pending.sequence.get_or_insert_with(|| {
                let next = self.idempotence.next_sequence.entry(tp.clone()).or_insert(0);
                let base_sequence = *next;
                *next = if *next == i32::MAX { 0 } else { *next + 1 };
                ProducerInfo { producer_id, producer_epoch, base_sequence }
            });
            builder = builder.producer(producer);
        }
        builder.push(&pending.record);
        let batch = builder.build();
        let request_id = self.request_id();
        pending.attempts += 1;
        let message = Message::Produce(Produce {
            tp: tp.clone(),
            acks: self.config.acks,
            timeout_ms: self.config.request_timeout_ms,
            batch,
        });
        self.outbox.push_back(Outgoing { to: NodeId::Broker(leader), correlation_id: request_id, message });
        if self.config.acks == Acks::None {
            self.complete(now_ms, pending, Some(tp), Ok(-1));
        } else {
            self.in_flight.insert(request_id, Box::new(InFlight { pending, tp, sent_ms: now_ms }));
        }
        None
    }
}
