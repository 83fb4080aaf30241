//! The messages core state machines exchange, mirroring the Kafka APIs they stand for.
//!
//! Brokers, the controller and clients talk only through [`Message`]s addressed by
//! [`NodeId`]. The native broker translates Kafka's wire format to and from these; the
//! simulation carries them over its virtual network. Every response carries a Kafka
//! [`ErrorCode`].

use std::fmt;
use std::sync::Arc;

use crate::config::TopicConfig;
use crate::error::ErrorCode;
use crate::placement::BrokerId;
use crate::record::RecordBatch;

/// Who sends or receives a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum NodeId {
    /// A broker, by `node.id`.
    Broker(BrokerId),
    /// The controller (hosted by one configured broker, like a one-node KRaft quorum).
    Controller,
    /// A client (producer, consumer, admin), by a client number.
    Client(u32),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Broker(id) => write!(f, "broker {id}"),
            NodeId::Controller => f.write_str("controller"),
            NodeId::Client(id) => write!(f, "client {id}"),
        }
    }
}

/// A topic partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition index.
    pub partition: i32,
}

impl TopicPartition {
    /// `topic`-`partition`.
    #[must_use]
    pub fn new(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition { topic: Arc::from(topic), partition }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// Producer `acks`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Acks {
    /// `acks=0`: no response.
    None,
    /// `acks=1`: the leader's append.
    Leader,
    /// `acks=all` (-1): every member of the current ISR.
    All,
}

impl Acks {
    /// Kafka's wire value (0, 1, -1).
    #[must_use]
    pub fn wire(self) -> i16 {
        match self {
            Acks::None => 0,
            Acks::Leader => 1,
            Acks::All => -1,
        }
    }

    /// From Kafka's wire value; anything else is `INVALID_REQUIRED_ACKS`.
    pub fn from_wire(acks: i16) -> Result<Acks, ErrorCode> {
        match acks {
            0 => Ok(Acks::None),
            1 => Ok(Acks::Leader),
            -1 => Ok(Acks::All),
            _ => Err(ErrorCode::InvalidRequiredAcks),
        }
    }
}

impl fmt::Display for Acks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Acks::None => "acks=0",
            Acks::Leader => "acks=1",
            Acks::All => "acks=all",
        })
    }
}

/// A partition's replication state as the controller decides it (KRaft `PartitionRecord`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionState {
    /// Assigned replicas; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// In-sync replicas.
    pub isr: Vec<BrokerId>,
    /// The leader, or `None` when no replica is eligible (offline partition).
    pub leader: Option<BrokerId>,
    /// Bumped on every leader change (KIP-101).
    pub leader_epoch: i32,
    /// Bumped on every change (ISR or leader); guards AlterPartition against stale updates.
    pub partition_epoch: i32,
}

/// One topic in the metadata image.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicMetadata {
    /// Topic id.
    pub topic_id: u128,
    /// Topic config.
    pub config: TopicConfig,
    /// Partition states, index = partition.
    pub partitions: Vec<PartitionState>,
}

/// One broker in the metadata image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerMetadata {
    /// Rack.
    pub rack: Option<String>,
    /// Fenced brokers are out of every ISR and cannot lead.
    pub fenced: bool,
}

/// The cluster metadata a broker or client knows, versioned by `metadata_epoch` so stale
/// metadata is detectable (the offset of KRaft's metadata log).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct MetadataImage {
    /// Version; higher is newer.
    pub metadata_epoch: i64,
    /// Registered brokers.
    pub brokers: crate::collections::VecMap<BrokerId, BrokerMetadata>,
    /// Topics by name.
    pub topics: crate::collections::VecMap<Arc<str>, TopicMetadata>,
}

impl MetadataImage {
    /// A partition's state.
    #[must_use]
    pub fn partition(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.topics.get(&tp.topic)?.partitions.get(usize::try_from(tp.partition).ok()?)
    }

    /// Every partition, in order.
    pub fn partitions(&self) -> impl Iterator<Item = (TopicPartition, &PartitionState)> {
        self.topics.iter().flat_map(|(topic, metadata)| {
            metadata.partitions.iter().enumerate().map(move |(index, state)| {
                let partition = i32::try_from(index).expect("partition count fits i32");
                (TopicPartition { topic: topic.clone(), partition }, state)
            })
        })
    }
}

/// A leader's answer to "where does my epoch end?" (KIP-101 `OffsetForLeaderEpoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpochEndOffset {
    /// The largest epoch the leader has that is ≤ the one asked about.
    pub epoch: i32,
    /// Where that epoch ends in the leader's log.
    pub end_offset: i64,
}

/// A message between nodes.
#[derive(Clone, Debug)]
pub enum Message {
    /// Broker → controller: register on start (KRaft `BrokerRegistration`).
    RegisterBroker {
        /// The broker.
        broker_id: BrokerId,
        /// Its rack.
        rack: Option<String>,
    },
    /// Controller → broker: the broker's new epoch.
    RegisterBrokerResponse {
        /// Incarnation number; stale epochs are rejected.
        broker_epoch: i64,
    },
    /// Broker → controller: liveness (KRaft `BrokerHeartbeat`).
    BrokerHeartbeat {
        /// The broker.
        broker_id: BrokerId,
        /// Its epoch from registration.
        broker_epoch: i64,
        /// The newest metadata it has.
        metadata_epoch: i64,
    },
    /// Controller → broker: heartbeat answer, with the metadata if the broker is behind.
    BrokerHeartbeatResponse {
        /// `STALE_BROKER_EPOCH` when the broker must register again.
        error: ErrorCode,
        /// Newer metadata, if the broker's is stale.
        metadata: Option<Arc<MetadataImage>>,
    },
    /// Controller → brokers: a new metadata image.
    MetadataUpdate(Arc<MetadataImage>),
    /// Leader → controller: change the ISR (KIP-497 `AlterPartition`).
    AlterPartition {
        /// The leader.
        broker_id: BrokerId,
        /// Its broker epoch.
        broker_epoch: i64,
        /// The partition.
        tp: TopicPartition,
        /// The leader's epoch.
        leader_epoch: i32,
        /// The partition epoch the change is based on.
        partition_epoch: i32,
        /// The proposed ISR.
        new_isr: Vec<BrokerId>,
    },
    /// Controller → leader: the outcome, with the resulting state.
    AlterPartitionResponse {
        /// The partition.
        tp: TopicPartition,
        /// `NONE`, `FENCED_LEADER_EPOCH`, `INVALID_UPDATE_VERSION`, `INELIGIBLE_REPLICA`, ...
        error: ErrorCode,
        /// The partition's state after the request.
        state: Option<PartitionState>,
    },
    /// Producer → any broker: a producer id for idempotence (KIP-98 `InitProducerId`).
    InitProducerId {
        /// Correlation id.
        request_id: u64,
    },
    /// Broker → producer.
    InitProducerIdResponse {
        /// Correlation id.
        request_id: u64,
        /// Outcome.
        error: ErrorCode,
        /// The producer id.
        producer_id: i64,
        /// Its epoch.
        producer_epoch: i16,
    },
    /// Client → any broker: which broker coordinates a group (Kafka `FindCoordinator`).
    FindCoordinator {
        /// Correlation id.
        request_id: u64,
        /// The group.
        group_id: String,
    },
    /// Broker → client.
    FindCoordinatorResponse {
        /// Correlation id.
        request_id: u64,
        /// Outcome (`COORDINATOR_NOT_AVAILABLE` while `__consumer_offsets` has no leader).
        error: ErrorCode,
        /// The coordinator.
        coordinator: Option<BrokerId>,
    },
    /// Client → coordinator: a group request (Join, Sync, Heartbeat, Leave, offsets).
    Group(crate::group::coordinator::GroupRequest),
    /// Coordinator → client.
    GroupResponse(crate::group::coordinator::GroupResponse),
    /// Client → broker: metadata request.
    MetadataRequest {
        /// Correlation id.
        request_id: u64,
    },
    /// Broker → client: the broker's metadata image.
    MetadataResponse {
        /// Correlation id.
        request_id: u64,
        /// The image.
        image: Arc<MetadataImage>,
    },
    /// Producer → leader.
    Produce {
        /// Correlation id.
        request_id: u64,
        /// Target partition.
        tp: TopicPartition,
        /// Required acks.
        acks: Acks,
        /// How long the leader may wait for acks=all.
        timeout_ms: u64,
        /// The records.
        batch: RecordBatch,
    },
    /// Leader → producer (not sent for acks=0).
    ProduceResponse {
        /// Correlation id.
        request_id: u64,
        /// The partition.
        tp: TopicPartition,
        /// Outcome.
        error: ErrorCode,
        /// Offset of the first record on success, else -1.
        base_offset: i64,
    },
    /// Follower or consumer → leader.
    Fetch {
        /// Correlation id.
        request_id: u64,
        /// `Some(id)` for a follower replica, `None` for a consumer.
        replica_id: Option<BrokerId>,
        /// The partition.
        tp: TopicPartition,
        /// First offset wanted (a follower's LEO).
        fetch_offset: i64,
        /// Epoch of the fetcher's last batch, -1 if none (KIP-320 divergence check).
        last_fetched_epoch: i32,
        /// The leader epoch the fetcher believes in, -1 for "any".
        current_leader_epoch: i32,
        /// Byte limit.
        max_bytes: usize,
        /// How long the leader may hold the request while there is nothing new.
        max_wait_ms: u64,
    },
    /// Leader → fetcher.
    FetchResponse {
        /// Correlation id.
        request_id: u64,
        /// The partition.
        tp: TopicPartition,
        /// Outcome.
        error: ErrorCode,
        /// The leader's high watermark.
        high_watermark: i64,
        /// The leader's log start offset.
        log_start_offset: i64,
        /// The leader's log end offset.
        log_end_offset: i64,
        /// Set when the fetcher's log diverges: truncate, then fetch again.
        diverging_epoch: Option<EpochEndOffset>,
        /// Records.
        batches: Vec<RecordBatch>,
    },
}

impl Message {
    /// A short name for traces (the Kafka API it stands for).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Message::RegisterBroker { .. } => "BrokerRegistration",
            Message::RegisterBrokerResponse { .. } => "BrokerRegistrationResponse",
            Message::BrokerHeartbeat { .. } => "BrokerHeartbeat",
            Message::BrokerHeartbeatResponse { .. } => "BrokerHeartbeatResponse",
            Message::MetadataUpdate(_) => "MetadataUpdate",
            Message::AlterPartition { .. } => "AlterPartition",
            Message::AlterPartitionResponse { .. } => "AlterPartitionResponse",
            Message::InitProducerId { .. } => "InitProducerId",
            Message::InitProducerIdResponse { .. } => "InitProducerIdResponse",
            Message::FindCoordinator { .. } => "FindCoordinator",
            Message::FindCoordinatorResponse { .. } => "FindCoordinatorResponse",
            Message::Group(request) => request.api(),
            Message::GroupResponse(_) => "GroupResponse",
            Message::MetadataRequest { .. } => "Metadata",
            Message::MetadataResponse { .. } => "MetadataResponse",
            Message::Produce { .. } => "Produce",
            Message::ProduceResponse { .. } => "ProduceResponse",
            Message::Fetch { .. } => "Fetch",
            Message::FetchResponse { .. } => "FetchResponse",
        }
    }
}

/// A message with its destination, as state machines emit them.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// Destination.
    pub to: NodeId,
    /// The message.
    pub message: Message,
}
