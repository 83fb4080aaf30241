//! The messages core state machines exchange, mirroring the Kafka APIs they stand for.
//!
//! Brokers, the controller and clients talk only through [`Message`]s addressed by
//! [`NodeId`]. Each variant carries one named struct (`Message::Fetch(Fetch)`), defined once
//! here and passed whole by every layer: the state machines, the simulation's network, the
//! broker's internal channel (which serializes these structs with serde, record batches in
//! Kafka's wire format beside them) and the Kafka-wire translation. Correlation ids travel in
//! the envelope ([`Outgoing`] and the `correlation_id` argument of every `handle_message`), as
//! Kafka's request header carries them; a response echoes its request's. Every response
//! carries a Kafka [`ErrorCode`].

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::placement::BrokerId;
use crate::record::RecordBatch;

pub mod group;
pub mod metadata;

pub use group::{
    ConsumerGroupHeartbeat, ConsumerGroupHeartbeatResponse, DeleteGroup, GroupAck, GroupRequest, GroupResponse,
    Heartbeat, JoinGroup, JoinGroupResponse, LeaveGroup, OffsetCommit, OffsetDelete, OffsetDeleteResponse, OffsetFetch,
    OffsetFetchResponse, SyncGroup, SyncGroupResponse,
};
pub use metadata::{BrokerMetadata, MetadataImage, PartitionState, TopicMetadata};

/// Who sends or receives a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeId {
    /// A broker, by `node.id`.
    Broker(BrokerId),
    /// The controller process on node `id` (KRaft's combined mode: beside that node's broker).
    /// Brokers send to the one they believe active; the quorum's own messages go between them.
    Controller(BrokerId),
    /// A client (producer, consumer, admin), by a client number.
    Client(u32),
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Broker(id) => write!(f, "broker {id}"),
            NodeId::Controller(id) => write!(f, "controller {id}"),
            NodeId::Client(id) => write!(f, "client {id}"),
        }
    }
}

/// A topic partition.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// A leader's answer to "where does my epoch end?" (KIP-101 `OffsetForLeaderEpoch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochEndOffset {
    /// The largest epoch the leader has that is ≤ the one asked about.
    pub epoch: i32,
    /// Where that epoch ends in the leader's log.
    pub end_offset: i64,
}

/// Broker → controller: register on start (KRaft `BrokerRegistration`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterBroker {
    /// The broker.
    pub broker_id: BrokerId,
    /// Its rack.
    pub rack: Option<String>,
}

/// Controller → broker: the broker's new epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterBrokerResponse {
    /// Incarnation number; stale epochs are rejected.
    pub broker_epoch: i64,
}

/// Broker → controller: liveness (KRaft `BrokerHeartbeat`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerHeartbeat {
    /// The broker.
    pub broker_id: BrokerId,
    /// Its epoch from registration.
    pub broker_epoch: i64,
    /// The newest metadata it has.
    pub metadata_epoch: i64,
}

/// Controller → broker: heartbeat answer, with the metadata if the broker is behind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BrokerHeartbeatResponse {
    /// `STALE_BROKER_EPOCH` when the broker must register again.
    pub error: ErrorCode,
    /// Newer metadata, if the broker's is stale.
    pub metadata: Option<Arc<MetadataImage>>,
}

/// Controller → brokers: a new metadata image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetadataUpdate {
    /// The image.
    pub image: Arc<MetadataImage>,
}

/// Leader → controller: change the ISR (KIP-497 `AlterPartition`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterPartition {
    /// The leader.
    pub broker_id: BrokerId,
    /// Its broker epoch.
    pub broker_epoch: i64,
    /// The partition.
    pub tp: TopicPartition,
    /// The leader's epoch.
    pub leader_epoch: i32,
    /// The partition epoch the change is based on.
    pub partition_epoch: i32,
    /// The proposed ISR.
    pub new_isr: Vec<BrokerId>,
}

/// Controller → leader: the outcome, with the resulting state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterPartitionResponse {
    /// The partition.
    pub tp: TopicPartition,
    /// `NONE`, `FENCED_LEADER_EPOCH`, `INVALID_UPDATE_VERSION`, `INELIGIBLE_REPLICA`, ...
    pub error: ErrorCode,
    /// The partition's state after the request.
    pub state: Option<PartitionState>,
}

/// Controller → broker: a voter that is not the active controller refuses a broker's
/// request (`NOT_CONTROLLER`) and names the leader it knows, so the broker asks there at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotController {
    /// The quorum leader it knows, if any.
    pub leader: Option<BrokerId>,
}

/// Client → broker → controller: the metadata quorum's state (`DescribeQuorum`, KIP-595; what
/// `kafka-metadata-quorum --describe` asks). A broker forwards it to the active controller.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeQuorum {}

/// One replica of the metadata log as the quorum leader sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumReplicaState {
    /// Its node id.
    pub replica_id: BrokerId,
    /// Its log end offset as of its last fetch (−1: none yet).
    pub log_end_offset: i64,
    /// When it last fetched, in the leader's `now_ms` (−1: never).
    pub last_fetch_ms: i64,
    /// When it last fetched up to the leader's log end (−1: never).
    pub last_caught_up_ms: i64,
}

/// The quorum leader's answer to [`DescribeQuorum`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribeQuorumResponse {
    /// `NONE`, or `NOT_LEADER_OR_FOLLOWER` when no controller leads.
    pub error: ErrorCode,
    /// The leader.
    pub leader_id: BrokerId,
    /// Its quorum epoch.
    pub leader_epoch: i32,
    /// The quorum high watermark.
    pub high_watermark: i64,
    /// The voters.
    pub voters: Vec<QuorumReplicaState>,
    /// Replicas that fetch without voting.
    pub observers: Vec<QuorumReplicaState>,
}

impl DescribeQuorumResponse {
    /// The answer when no controller leads the quorum (`NOT_LEADER_OR_FOLLOWER`).
    #[must_use]
    pub fn no_leader() -> DescribeQuorumResponse {
        DescribeQuorumResponse {
            error: ErrorCode::NotLeaderOrFollower,
            leader_id: -1,
            leader_epoch: -1,
            high_watermark: -1,
            voters: Vec::new(),
            observers: Vec::new(),
        }
    }
}

/// How [`AlterTopicConfig`] changes one key (Kafka's `IncrementalAlterConfigs` operations).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfigOperation {
    /// Set the value.
    Set,
    /// Remove the topic's override: back to the broker's default.
    Delete,
    /// Add the value to a list-valued config (`cleanup.policy`).
    Append,
    /// Remove the value from a list-valued config.
    Subtract,
}

/// Client → broker → controller: change a topic's config (`IncrementalAlterConfigs`, as
/// `kafka-configs --alter` sends it). A broker forwards it to the active controller, which
/// answers once the change is committed; every broker then applies it to its replicas.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterTopicConfig {
    /// The topic.
    pub topic: String,
    /// The changes, in order: (key, operation, value).
    pub changes: Vec<(String, ConfigOperation, Option<String>)>,
    /// Only check them.
    pub validate_only: bool,
    /// The legacy `AlterConfigs`: the changes replace every override (keys not named go back
    /// to the broker's defaults) instead of applying to the current config.
    #[serde(default)]
    pub replace: bool,
}

/// The controller's answer to [`AlterTopicConfig`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterTopicConfigResponse {
    /// `NONE`, `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_CONFIG`, `INVALID_REQUEST`, or
    /// `NOT_CONTROLLER` when no controller could be reached.
    pub error: ErrorCode,
    /// Why, in words.
    pub message: Option<String>,
}

/// Client → broker → controller: elect leaders (`ElectLeaders`, KIP-460; what
/// `kafka-leader-election` sends): the preferred replica, or (unclean) any live replica of a
/// partition that has no leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectLeaders {
    /// `UNCLEAN` rather than `PREFERRED`.
    pub unclean: bool,
    /// The partitions; `None`: every partition (only those where something happened or failed
    /// are answered, as Kafka does).
    pub partitions: Option<Vec<TopicPartition>>,
}

/// The controller's answer to [`ElectLeaders`]: per topic, per partition, the outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElectLeadersResponse {
    /// `NONE`, or `REQUEST_TIMED_OUT` when no controller answered.
    pub error: ErrorCode,
    /// Per topic, the outcomes.
    pub results: Vec<TopicElections>,
}

/// One topic's election outcomes: (topic, [(partition, error, message)]).
pub type TopicElections = (String, Vec<(i32, ErrorCode, Option<String>)>);

/// Client → broker → controller: create, grow or delete a topic (`CreateTopics`,
/// `CreatePartitions`, `DeleteTopics`), forwarded by a broker that does not host the active
/// controller (KIP-590's forwarding; with controller-only nodes no broker does). The
/// controller answers once the change is committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeTopic {
    /// Create it.
    Create(crate::topic::NewTopic),
    /// Raise its partition count to `count`.
    AddPartitions {
        /// The topic.
        topic: String,
        /// The new partition count.
        count: i32,
    },
    /// Delete it.
    Delete {
        /// The topic.
        topic: String,
    },
}

/// Client → broker → controller: add a voter to the controller quorum, or remove one
/// (KIP-853's `AddRaftVoter` / `RemoveRaftVoter`), forwarded to the active controller as Kafka's
/// brokers forward them. The controller answers once the `VotersRecord` is committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeVoters {
    /// Add (`true`) or remove.
    pub add: bool,
    /// The controller's `node.id`.
    pub id: BrokerId,
}

/// The controller's answer to [`ChangeVoters`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeVotersResponse {
    /// `NONE` once committed, the quorum's refusal, or `REQUEST_TIMED_OUT` when no controller
    /// answered.
    pub error: ErrorCode,
    /// Why, in words.
    pub message: Option<String>,
}

/// The controller's answer to [`ChangeTopic`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeTopicResponse {
    /// `NONE`, the controller's refusal, or `REQUEST_TIMED_OUT` when no controller answered.
    pub error: ErrorCode,
    /// Why, in words.
    pub message: Option<String>,
    /// A created topic as committed (its id, partitions and config), alone in an image.
    pub created: Option<MetadataImage>,
}

/// Client → broker → controller: move partitions to other replicas, or cancel such moves
/// (`AlterPartitionReassignments`, KIP-455; what `kafka-reassign-partitions --execute` and
/// `--cancel` send).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterReassignments {
    /// Per partition, the target replicas (first = preferred leader), or `None` to cancel the
    /// reassignment in progress.
    pub partitions: Vec<(TopicPartition, Option<Vec<BrokerId>>)>,
    /// Whether a target may have another replica count than the partition (KIP-860; the
    /// tool's `--disallow-replication-factor-change` clears it).
    #[serde(default = "yes")]
    pub allow_replication_factor_change: bool,
}

fn yes() -> bool {
    true
}

/// The controller's answer to [`AlterReassignments`]: per partition, in the request's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlterReassignmentsResponse {
    /// `NONE`, or `REQUEST_TIMED_OUT` when no controller answered.
    pub error: ErrorCode,
    /// Why, in words.
    pub message: Option<String>,
    /// (partition, error, message).
    pub results: Vec<(TopicPartition, ErrorCode, Option<String>)>,
}

/// Producer → any broker: a producer id for idempotence (KIP-98 `InitProducerId`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitProducerId {}

/// Broker → producer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitProducerIdResponse {
    /// Outcome.
    pub error: ErrorCode,
    /// The producer id.
    pub producer_id: i64,
    /// Its epoch.
    pub producer_epoch: i16,
}

/// Client → any broker: which broker coordinates a group (Kafka `FindCoordinator`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindCoordinator {
    /// The group.
    pub group_id: String,
}

/// Broker → client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindCoordinatorResponse {
    /// Outcome (`COORDINATOR_NOT_AVAILABLE` while `__consumer_offsets` has no leader).
    pub error: ErrorCode,
    /// The coordinator.
    pub coordinator: Option<BrokerId>,
}

/// Client → broker: what the broker knows of the cluster (Kafka `Metadata`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataRequest {}

/// Broker → client: the broker's metadata image.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetadataResponse {
    /// The image.
    pub image: Arc<MetadataImage>,
}

/// Producer → leader.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Produce {
    /// Target partition.
    pub tp: TopicPartition,
    /// Required acks.
    pub acks: Acks,
    /// How long the leader may wait for acks=all.
    pub timeout_ms: u64,
    /// The records.
    pub batch: RecordBatch,
}

/// Leader → producer (not sent for acks=0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProduceResponse {
    /// The partition.
    pub tp: TopicPartition,
    /// Outcome.
    pub error: ErrorCode,
    /// Offset of the first record on success, else -1.
    pub base_offset: i64,
}

/// One partition of a [`Fetch`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchPartition {
    /// The partition.
    pub tp: TopicPartition,
    /// First offset wanted (a follower's LEO).
    pub fetch_offset: i64,
    /// Epoch of the fetcher's last batch, -1 if none (KIP-320 divergence check).
    pub last_fetched_epoch: i32,
    /// The leader epoch the fetcher believes in, -1 for "any".
    pub current_leader_epoch: i32,
    /// Byte limit for this partition (the first batch always comes whole, KIP-74).
    pub max_bytes: usize,
}

/// Follower or consumer → leader: records of one or more partitions (Kafka `Fetch`). The
/// leader answers at once when it has `min_bytes` for the fetcher (or an error, or a
/// divergence), else holds the fetch until it has, or until `max_wait_ms` passed — the one
/// long poll, for consumers and followers alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetch {
    /// `Some(id)` for a follower replica, `None` for a consumer.
    pub replica_id: Option<BrokerId>,
    /// How long the leader may hold the fetch while it has less than `min_bytes`.
    pub max_wait_ms: u64,
    /// Bytes the leader should have before it answers (Kafka `fetch.min.bytes`, at least 1).
    pub min_bytes: usize,
    /// The partitions, in order.
    pub partitions: Vec<FetchPartition>,
}

/// One partition of a [`FetchResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchPartitionResponse {
    /// The partition.
    pub tp: TopicPartition,
    /// Outcome.
    pub error: ErrorCode,
    /// The leader's high watermark.
    pub high_watermark: i64,
    /// The leader's log start offset.
    pub log_start_offset: i64,
    /// The leader's log end offset.
    pub log_end_offset: i64,
    /// Set when the fetcher's log diverges: truncate, then fetch again.
    pub diverging_epoch: Option<EpochEndOffset>,
    /// Records. Not part of the serde form: the broker's internal channel carries them in
    /// Kafka's wire format after the serialized header.
    #[serde(skip)]
    pub batches: Vec<RecordBatch>,
}

impl FetchPartitionResponse {
    /// An answer with no records.
    #[must_use]
    pub fn error(tp: TopicPartition, error: ErrorCode) -> FetchPartitionResponse {
        FetchPartitionResponse {
            tp,
            error,
            high_watermark: -1,
            log_start_offset: -1,
            log_end_offset: -1,
            diverging_epoch: None,
            batches: Vec::new(),
        }
    }

    /// Bytes of records it carries.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        self.batches.iter().map(RecordBatch::size_bytes).sum()
    }
}

/// Leader → fetcher: one answer per partition asked for, in the same order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchResponse {
    /// The partitions.
    pub partitions: Vec<FetchPartitionResponse>,
}

/// A message between nodes: one variant per Kafka API it stands for, each carrying its struct.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Message {
    /// See [`RegisterBroker`].
    RegisterBroker(RegisterBroker),
    /// See [`RegisterBrokerResponse`].
    RegisterBrokerResponse(RegisterBrokerResponse),
    /// See [`BrokerHeartbeat`].
    BrokerHeartbeat(BrokerHeartbeat),
    /// See [`BrokerHeartbeatResponse`].
    BrokerHeartbeatResponse(BrokerHeartbeatResponse),
    /// See [`MetadataUpdate`].
    MetadataUpdate(MetadataUpdate),
    /// See [`AlterPartition`].
    AlterPartition(AlterPartition),
    /// See [`AlterPartitionResponse`].
    AlterPartitionResponse(AlterPartitionResponse),
    /// See [`NotController`].
    NotController(NotController),
    /// See [`DescribeQuorum`].
    DescribeQuorum(DescribeQuorum),
    /// See [`DescribeQuorumResponse`].
    DescribeQuorumResponse(DescribeQuorumResponse),
    /// See [`AlterTopicConfig`].
    AlterTopicConfig(AlterTopicConfig),
    /// See [`AlterTopicConfigResponse`].
    AlterTopicConfigResponse(AlterTopicConfigResponse),
    /// See [`ElectLeaders`].
    ElectLeaders(ElectLeaders),
    /// See [`ElectLeadersResponse`].
    ElectLeadersResponse(ElectLeadersResponse),
    /// See [`AlterReassignments`].
    AlterReassignments(AlterReassignments),
    /// See [`AlterReassignmentsResponse`].
    AlterReassignmentsResponse(AlterReassignmentsResponse),
    /// See [`ChangeTopic`].
    ChangeTopic(ChangeTopic),
    /// See [`ChangeTopicResponse`].
    ChangeTopicResponse(ChangeTopicResponse),
    /// See [`ChangeVoters`].
    ChangeVoters(ChangeVoters),
    /// See [`ChangeVotersResponse`].
    ChangeVotersResponse(ChangeVotersResponse),
    /// See [`InitProducerId`].
    InitProducerId(InitProducerId),
    /// See [`InitProducerIdResponse`].
    InitProducerIdResponse(InitProducerIdResponse),
    /// See [`FindCoordinator`].
    FindCoordinator(FindCoordinator),
    /// See [`FindCoordinatorResponse`].
    FindCoordinatorResponse(FindCoordinatorResponse),
    /// Client → coordinator: a group request (Join, Sync, Heartbeat, Leave, offsets).
    Group(GroupRequest),
    /// Coordinator → client.
    GroupResponse(GroupResponse),
    /// See [`MetadataRequest`].
    Metadata(MetadataRequest),
    /// See [`MetadataResponse`].
    MetadataResponse(MetadataResponse),
    /// See [`Produce`].
    Produce(Produce),
    /// See [`ProduceResponse`].
    ProduceResponse(ProduceResponse),
    /// See [`Fetch`].
    Fetch(Fetch),
    /// See [`FetchResponse`].
    FetchResponse(FetchResponse),
    /// Between controllers: the metadata quorum's own RPCs (KRaft's Vote, BeginQuorumEpoch,
    /// EndQuorumEpoch, Fetch of the metadata log).
    Quorum(crate::raft::QuorumMessage<crate::controller::quorum::MetadataRecord>),
}

impl Message {
    /// A short name for traces (the Kafka API it stands for).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Message::RegisterBroker(_) => "BrokerRegistration",
            Message::RegisterBrokerResponse(_) => "BrokerRegistrationResponse",
            Message::BrokerHeartbeat(_) => "BrokerHeartbeat",
            Message::BrokerHeartbeatResponse(_) => "BrokerHeartbeatResponse",
            Message::MetadataUpdate(_) => "MetadataUpdate",
            Message::AlterPartition(_) => "AlterPartition",
            Message::AlterPartitionResponse(_) => "AlterPartitionResponse",
            Message::NotController(_) => "NotController",
            Message::DescribeQuorum(_) => "DescribeQuorum",
            Message::DescribeQuorumResponse(_) => "DescribeQuorumResponse",
            Message::AlterTopicConfig(_) => "IncrementalAlterConfigs",
            Message::AlterTopicConfigResponse(_) => "IncrementalAlterConfigsResponse",
            Message::ElectLeaders(_) => "ElectLeaders",
            Message::ElectLeadersResponse(_) => "ElectLeadersResponse",
            Message::AlterReassignments(_) => "AlterPartitionReassignments",
            Message::AlterReassignmentsResponse(_) => "AlterPartitionReassignmentsResponse",
            Message::ChangeTopic(ChangeTopic::Create(_)) => "CreateTopics",
            Message::ChangeTopic(ChangeTopic::AddPartitions { .. }) => "CreatePartitions",
            Message::ChangeTopic(ChangeTopic::Delete { .. }) => "DeleteTopics",
            Message::ChangeTopicResponse(_) => "ChangeTopicResponse",
            Message::ChangeVoters(ChangeVoters { add: true, .. }) => "AddRaftVoter",
            Message::ChangeVoters(ChangeVoters { add: false, .. }) => "RemoveRaftVoter",
            Message::ChangeVotersResponse(_) => "ChangeVotersResponse",
            Message::InitProducerId(_) => "InitProducerId",
            Message::InitProducerIdResponse(_) => "InitProducerIdResponse",
            Message::FindCoordinator(_) => "FindCoordinator",
            Message::FindCoordinatorResponse(_) => "FindCoordinatorResponse",
            Message::Group(request) => request.api(),
            Message::GroupResponse(_) => "GroupResponse",
            Message::Metadata(_) => "Metadata",
            Message::MetadataResponse(_) => "MetadataResponse",
            Message::Produce(_) => "Produce",
            Message::ProduceResponse(_) => "ProduceResponse",
            Message::Fetch(_) => "Fetch",
            Message::FetchResponse(_) => "FetchResponse",
            Message::Quorum(message) => message.name(),
        }
    }
}

/// Where an answer goes: the asker and its request's correlation id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReplyTo {
    /// The asker.
    pub node: NodeId,
    /// The request's correlation id.
    pub correlation_id: u64,
}

impl ReplyTo {
    /// The envelope for `message` as the answer.
    #[must_use]
    pub fn answer(self, message: Message) -> Outgoing {
        Outgoing { to: self.node, correlation_id: self.correlation_id, message }
    }
}

/// A message with its destination and correlation id, as state machines emit them (the
/// envelope: a response carries its request's correlation id; one-way messages carry 0).
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// Destination.
    pub to: NodeId,
    /// The request's correlation id (echoed by its response).
    pub correlation_id: u64,
    /// The message.
    pub message: Message,
}
