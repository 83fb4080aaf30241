//! [`BrokerNode`]: one broker's replicas, as a sans-IO state machine.
//!
//! A broker hosts a replica of each partition assigned to it. For each, it is the **leader**
//! (appends produce requests, answers follower and consumer fetches, tracks each follower's LEO
//! and `last_caught_up_ms`, advances the high watermark, proposes ISR changes to the
//! controller) or a **follower** (pulls from the leader with fetches carrying its LEO and last
//! epoch, truncates on divergence per KIP-101/279/320, learns the high watermark from fetch
//! responses). Roles come from the controller's metadata.
//!
//! Inputs: [`BrokerNode::handle_message`], [`BrokerNode::handle_timeout`]. Outputs:
//! [`BrokerNode::poll_output`] (messages), [`BrokerNode::poll_event`] (state changes),
//! [`BrokerNode::poll_timeout`] (when to call back). Storage is called synchronously through
//! the [`Storage`] trait: an acknowledgement goes out only after the storage call returned, so
//! with `flush.messages=1` an ack implies the data was flushed.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::collections::{self, VecMap};

use crate::config::BrokerConfig;
use crate::epoch::LeaderEpochCache;
use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::group::coordinator::{
    coordinator_partition, offset_record, parse_offset_key, parse_offset_record, GroupConfig, GroupCoordinator,
    OFFSETS_TOPIC,
};
use crate::log::{PartitionLog, ReadLimit};
use crate::placement::BrokerId;
use crate::producer_state::{ProducerStateTable, SequenceCheck};
use crate::protocol::{
    Acks, AlterPartition, AlterPartitionResponse, BrokerHeartbeat, BrokerHeartbeatResponse, DeleteGroup,
    EpochEndOffset, Fetch, FetchPartition, FetchPartitionResponse, FetchResponse, FindCoordinator,
    FindCoordinatorResponse, GroupAck, GroupRequest, GroupResponse, InitProducerId, InitProducerIdResponse, Message,
    MetadataImage, MetadataRequest, MetadataResponse, MetadataUpdate, NodeId, NotController, OffsetCommit,
    OffsetDelete, OffsetDeleteResponse, Outgoing, PartitionState, Produce, ProduceResponse, RegisterBroker,
    RegisterBrokerResponse, ReplyTo, TopicPartition,
};
use crate::record::{BatchBuilder, Record, RecordBatch};
use crate::storage::{MemStorage, Storage};

mod fetch;
mod follower;
mod groups;
mod isr;
mod produce;
mod replica;
mod roles;

use replica::rebuild_state;

/// How long a leader waits for an AlterPartition answer before proposing again.
const ALTER_PARTITION_RETRY_MS: u64 = 5_000;
/// Most produce requests one partition holds waiting for acks=all (a limit on everything).
const PURGATORY_PER_PARTITION_MAX: usize = 10_000;
/// Kafka's `replica.fetch.min.bytes` default: a follower's fetch waits for any data.
const REPLICA_FETCH_MIN_BYTES: usize = 1;
/// Most fetches a broker holds waiting for data (the long poll); more are answered at once.
const PARKED_FETCHES_MAX: usize = 100_000;

/// Opens the storage of a partition replica (existing data after a restart, or empty).
pub trait StorageFactory {
    /// The storage type.
    type Storage: Storage;
    /// The storage for `tp`.
    fn open(&mut self, tp: &TopicPartition) -> Self::Storage;

    /// The partition was deleted (its topic left the metadata): remove its data. The default
    /// just drops the storage.
    fn delete(&mut self, tp: &TopicPartition, storage: Self::Storage) {
        let _ = (tp, storage);
    }

    /// Storages handed in but never opened (a broker that crashed before it learned its
    /// partitions must not lose them).
    fn into_unopened(self) -> VecMap<TopicPartition, Self::Storage>
    where
        Self: Sized,
    {
        VecMap::new()
    }
}

/// Hands out [`MemStorage`]s, returning ones kept from before a (simulated) restart.
#[derive(Debug, Default)]
pub struct MemStorageFactory {
    kept: VecMap<TopicPartition, MemStorage>,
}

impl MemStorageFactory {
    /// A factory that returns `kept` storages first.
    #[must_use]
    pub fn with(kept: VecMap<TopicPartition, MemStorage>) -> MemStorageFactory {
        MemStorageFactory { kept }
    }
}

impl StorageFactory for MemStorageFactory {
    type Storage = MemStorage;
    fn open(&mut self, tp: &TopicPartition) -> MemStorage {
        self.kept.remove(tp).unwrap_or_default()
    }

    fn into_unopened(self) -> VecMap<TopicPartition, MemStorage> {
        self.kept
    }
}

#[derive(Clone, Copy, Debug)]
struct FollowerProgress {
    /// The follower's LEO as of its last fetch; -1 until it fetches.
    log_end_offset: i64,
    last_caught_up_ms: u64,
    last_fetch_ms: u64,
    last_fetch_leader_log_end_offset: i64,
}

impl FollowerProgress {
    /// A follower that has not fetched yet, taken as caught up at `last_caught_up_ms` (now for
    /// an ISR member, 0 for a replica still to catch up).
    fn new(last_caught_up_ms: u64) -> FollowerProgress {
        FollowerProgress {
            log_end_offset: -1,
            last_caught_up_ms,
            last_fetch_ms: 0,
            last_fetch_leader_log_end_offset: -1,
        }
    }
}

#[derive(Clone, Debug)]
struct PendingProduce {
    asker: ReplyTo,
    base_offset: i64,
    required_offset: i64,
    deadline_ms: u64,
    /// Set for a write to `__consumer_offsets` on behalf of the group coordinator: answered
    /// with a group response and applied to the coordinator once committed.
    group_write: Option<GroupWrite>,
}

/// What a group coordinator's write to `__consumer_offsets` does once it is committed.
#[derive(Clone, Debug)]
enum GroupWrite {
    /// OffsetCommit: the group's new offsets.
    Commit(String, Vec<(TopicPartition, i64)>),
    /// DeleteGroups: tombstones for the group's offsets; then the group is gone.
    Delete(String),
    /// OffsetDelete: tombstones for some offsets; each partition's outcome for the answer.
    DeleteOffsets(String, Vec<(TopicPartition, ErrorCode)>),
}

/// A fetch waiting for data (the long poll), until `deadline_ms` (`max_wait_ms` after it came).
#[derive(Clone, Debug)]
struct ParkedFetch {
    asker: ReplyTo,
    fetch: Fetch,
    deadline_ms: u64,
    /// Each partition's high watermark when the fetch came (a follower wakes when it moves).
    high_watermarks_seen: Vec<i64>,
}

#[derive(Debug)]
struct LeaderState {
    followers: VecMap<BrokerId, FollowerProgress>,
    pending_isr: Option<(Vec<BrokerId>, u64)>,
    /// After a rejected ISR change, no new proposal before this time.
    isr_retry_after_ms: u64,
    purgatory: Vec<PendingProduce>,
}

#[derive(Debug)]
struct FollowerState {
    fetch_in_flight: Option<(u64, u64)>,
    next_fetch_ms: u64,
}

#[derive(Debug)]
enum Role {
    Leader(LeaderState),
    Follower(FollowerState),
}

#[derive(Debug)]
struct Replica<S: Storage> {
    tp: TopicPartition,
    log: PartitionLog<S>,
    epochs: LeaderEpochCache,
    producers: ProducerStateTable,
    state: PartitionState,
    role: Role,
}

/// What a test or the dashboard may read of one replica.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaView {
    /// The partition.
    pub tp: TopicPartition,
    /// `true` when this broker leads the partition.
    pub is_leader: bool,
    /// The leader epoch this replica acts in.
    pub leader_epoch: i32,
    /// The ISR as this replica knows it.
    pub isr: Vec<BrokerId>,
    /// Log start offset.
    pub log_start_offset: i64,
    /// Log end offset.
    pub log_end_offset: i64,
    /// High watermark.
    pub high_watermark: i64,
    /// Offset below which the log is flushed.
    pub flushed_offset: i64,
    /// Leader epoch cache entries.
    pub epochs: Vec<(i32, i64)>,
    /// On a leader: each follower's progress as the leader sees it (what
    /// `replica.lag.time.max.ms` is measured against).
    pub followers: Vec<FollowerView>,
}

/// A follower as its leader sees it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FollowerView {
    /// The follower.
    pub broker: BrokerId,
    /// Its log end offset at its last fetch (-1 before its first).
    pub log_end_offset: i64,
    /// The last time it had fetched up to the leader's log end (virtual ms).
    pub last_caught_up_ms: u64,
}

/// One broker.
#[derive(Debug)]
pub struct BrokerNode<F: StorageFactory> {
    id: BrokerId,
    config: BrokerConfig,
    factory: F,
    broker_epoch: Option<i64>,
    image: Arc<MetadataImage>,
    // A real broker can host thousands of partitions, created one by one: boxed, so adding one
    // moves pointers, not replicas (see crate::collections).
    replicas: VecMap<TopicPartition, Box<Replica<F::Storage>>>,
    outbox: VecDeque<Outgoing>,
    events: VecDeque<Event>,
    next_heartbeat_ms: u64,
    next_correlation_id: u64,
    next_producer_id: i64,
    next_log_cleanup_ms: u64,
    /// When the replicas' high watermarks are next checkpointed (only with
    /// `rill.truncate.to.high.watermark`, the one mode that reads them back).
    next_high_watermark_checkpoint_ms: Option<u64>,
    /// Group coordinators for the `__consumer_offsets` partitions this broker leads.
    coordinators: VecMap<i32, GroupCoordinator>,
    /// Fetches waiting for data (the long poll), oldest first.
    parked: Vec<ParkedFetch>,
    /// The controller quorum's voters (`controller.quorum.voters`).
    controllers: Vec<BrokerId>,
    /// The controller it believes active: the last one that answered or pushed metadata.
    active_controller: Option<BrokerId>,
    /// Without one, it tries the voters in turn.
    controller_attempt: usize,
    /// When it sent a registration or heartbeat that has not been answered yet.
    controller_unanswered_since: Option<u64>,
    /// Client requests forwarded to the active controller (`DescribeQuorum`,
    /// `IncrementalAlterConfigs`, topic changes, …): by the forward's correlation id, the asker, how many
    /// controllers were tried, when to try another (a dead controller never answers), and the
    /// request.
    forwarded: VecMap<u64, (ReplyTo, u32, u64, Message)>,
}

const NO_CONTROLLER: &str = "no active controller answered (the controller quorum may have no leader)";

/// What the asker of a forwarded `request` hears when no controller answered it.
fn no_controller_answer(request: &Message) -> Message {
    match request {
        Message::AlterTopicConfig(_) => Message::AlterTopicConfigResponse(crate::protocol::AlterTopicConfigResponse {
            error: ErrorCode::RequestTimedOut,
            message: Some(NO_CONTROLLER.to_owned()),
        }),
        Message::ElectLeaders(_) => Message::ElectLeadersResponse(crate::protocol::ElectLeadersResponse {
            error: ErrorCode::RequestTimedOut,
            results: Vec::new(),
        }),
        Message::AlterReassignments(_) => {
            Message::AlterReassignmentsResponse(crate::protocol::AlterReassignmentsResponse {
                error: ErrorCode::RequestTimedOut,
                message: Some(NO_CONTROLLER.to_owned()),
                results: Vec::new(),
            })
        }
        Message::ChangeTopic(_) => Message::ChangeTopicResponse(crate::protocol::ChangeTopicResponse {
            error: ErrorCode::RequestTimedOut,
            message: Some(NO_CONTROLLER.to_owned()),
            created: None,
        }),
        Message::ChangeVoters(_) => Message::ChangeVotersResponse(crate::protocol::ChangeVotersResponse {
            error: ErrorCode::RequestTimedOut,
            message: Some(NO_CONTROLLER.to_owned()),
        }),
        _ => Message::DescribeQuorumResponse(crate::protocol::DescribeQuorumResponse::no_leader()),
    }
}

/// `replica.high.watermark.checkpoint.interval.ms` as a duration.
fn checkpoint_interval_ms(config: &BrokerConfig) -> u64 {
    u64::try_from(config.replica_high_watermark_checkpoint_interval_ms).unwrap_or(5_000)
}

/// Most client requests waiting on a controller's answer at once.
const FORWARDED_MAX: usize = 1_024;

/// How long a forwarded request waits for a controller before the next one is tried.
const FORWARD_TIMEOUT_MS: u64 = 2_000;

/// How many more controllers a forwarded request tries.
const FORWARD_TRIES_MAX: u32 = 3;

impl<F: StorageFactory> BrokerNode<F> {
    /// A broker starting at `now_ms`; it registers with the controller right away.
    pub fn new(config: BrokerConfig, factory: F, now_ms: u64) -> BrokerNode<F> {
        assert!(config.validate().is_ok(), "BrokerNode needs a validated config");
        let cleanup_interval_ms = u64::try_from(config.log_retention_check_interval_ms).unwrap_or(300_000);
        let checkpoint_ms =
            config.truncate_to_high_watermark.then(|| now_ms.saturating_add(checkpoint_interval_ms(&config)));
        BrokerNode {
            id: config.node_id,
            config,
            factory,
            broker_epoch: None,
            image: Arc::new(MetadataImage::default()),
            replicas: VecMap::new(),
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            next_heartbeat_ms: now_ms,
            next_correlation_id: 1,
            next_producer_id: 0,
            next_log_cleanup_ms: now_ms.saturating_add(cleanup_interval_ms),
            next_high_watermark_checkpoint_ms: checkpoint_ms,
            coordinators: VecMap::new(),
            parked: Vec::new(),
            controllers: vec![1],
            active_controller: None,
            controller_attempt: 0,
            controller_unanswered_since: None,
            forwarded: VecMap::new(),
        }
    }

    /// The controller quorum's voters; registrations, heartbeats and ISR changes go to the one
    /// that last answered, or to each in turn until one does.
    pub fn set_controllers(&mut self, voters: Vec<BrokerId>) {
        assert!(!voters.is_empty(), "a broker needs at least one controller");
        self.controllers = voters;
        self.active_controller = None;
    }

    /// The controller it believes active, if any answered yet.
    #[must_use]
    pub fn active_controller(&self) -> Option<BrokerId> {
        self.active_controller
    }

    /// Sends a client's request on to the active controller; its answer goes back to `asker`.
    fn forward(&mut self, now_ms: u64, asker: ReplyTo, message: Message, tries: u32) {
        if self.forwarded.len() >= FORWARDED_MAX || tries > FORWARD_TRIES_MAX {
            self.answer(asker, no_controller_answer(&message));
            return;
        }
        let correlation_id = self.next_correlation_id();
        self.forwarded.insert(correlation_id, (asker, tries, now_ms + FORWARD_TIMEOUT_MS, message.clone()));
        self.outbox.push_back(Outgoing { to: self.controller(), correlation_id, message });
    }

    /// Where a request for the controller goes.
    fn controller(&self) -> NodeId {
        let id = self.active_controller.unwrap_or(self.controllers[self.controller_attempt % self.controllers.len()]);
        NodeId::Controller(id)
    }

    /// This broker's id.
    #[must_use]
    pub fn id(&self) -> BrokerId {
        self.id
    }

    /// The newest metadata this broker has.
    #[must_use]
    pub fn image(&self) -> &Arc<MetadataImage> {
        &self.image
    }

    /// Views of every hosted replica.
    #[must_use]
    pub fn replicas(&self) -> Vec<ReplicaView> {
        self.replicas.values().map(|replica| replica.view()).collect()
    }

    /// A replica's view.
    #[must_use]
    pub fn replica(&self, tp: &TopicPartition) -> Option<ReplicaView> {
        self.replicas.get(tp).map(|replica| replica.view())
    }

    /// Where `epoch` ends in a replica's log (KIP-101, its leader epoch cache); `None` for an
    /// unknown replica or an empty cache.
    #[must_use]
    pub fn epoch_end_offset(&self, tp: &TopicPartition, epoch: i32) -> Option<EpochEndOffset> {
        let replica = self.replicas.get(tp)?;
        replica.epochs.end_offset_for(epoch, replica.log.log_end_offset())
    }

    /// The producers a replica knows (`DescribeProducers`).
    #[must_use]
    pub fn producers(&self, tp: &TopicPartition) -> Option<Vec<crate::producer_state::ProducerSummary>> {
        self.replicas.get(tp).map(|replica| replica.producers.active())
    }

    /// A replica's log (read-only), for checkers and tests.
    #[must_use]
    pub fn log(&self, tp: &TopicPartition) -> Option<&PartitionLog<F::Storage>> {
        self.replicas.get(tp).map(|replica| &replica.log)
    }

    /// The group coordinators this broker runs, by `__consumer_offsets` partition.
    pub fn coordinators(&self) -> impl Iterator<Item = (i32, &GroupCoordinator)> {
        self.coordinators.iter().map(|(partition, coordinator)| (*partition, coordinator))
    }

    /// DeleteRecords (KIP-107) for a partition this broker leads: its log start moves to
    /// `offset` (−1: the high watermark); the new log start (Kafka's low watermark here;
    /// followers follow on their next fetch). Refused on a follower, beyond the high
    /// watermark, or for a negative offset.
    pub fn handle_delete_records(&mut self, tp: &TopicPartition, offset: i64) -> Result<i64> {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).ok_or_else(|| {
            Error::new(ErrorCode::UnknownTopicOrPartition, format!("broker {me} has no replica of {tp}"))
        })?;
        if !matches!(replica.role, Role::Leader(_)) {
            return Err(Error::new(ErrorCode::NotLeaderOrFollower, format!("broker {me} does not lead {tp}")));
        }
        let offset = if offset == -1 { replica.log.high_watermark() } else { offset };
        if offset < 0 {
            return Err(Error::new(ErrorCode::OffsetOutOfRange, format!("cannot delete records below {offset}")));
        }
        let before = replica.log.log_start_offset();
        replica.log.delete_records(offset)?;
        let after = replica.log.log_start_offset();
        if after > before {
            replica.epochs.truncate_from_start(after);
            self.events.push_back(Event::RecordsDeleted { broker: me, tp: tp.clone(), log_start_offset: after });
        }
        Ok(after)
    }

    /// Every partition this broker leads: (partition, leader epoch, log).
    pub fn leader_logs(&self) -> impl Iterator<Item = (&TopicPartition, i32, &PartitionLog<F::Storage>)> {
        self.replicas
            .iter()
            .filter(|(_, replica)| matches!(replica.role, Role::Leader(_)))
            .map(|(tp, replica)| (tp, replica.state.leader_epoch, &replica.log))
    }

    /// Gives up every storage, opened or not (a crash: the caller decides what survives).
    #[must_use]
    pub fn into_storages(self) -> VecMap<TopicPartition, F::Storage> {
        let mut storages = self.factory.into_unopened();
        for (tp, replica) in self.replicas {
            storages.insert(tp, replica.log.into_storage());
        }
        storages
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// Next observable event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`BrokerNode::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let lag_ms = u64::try_from(self.config.replica_lag_time_max_ms).unwrap_or(u64::MAX);
        let socket_timeout_ms = u64::try_from(self.config.replica_socket_timeout_ms).unwrap_or(u64::MAX);
        let mut next = self.next_heartbeat_ms.min(self.next_log_cleanup_ms);
        if let Some(due_ms) = self.next_high_watermark_checkpoint_ms {
            next = next.min(due_ms);
        }
        for (_, _, deadline, _) in self.forwarded.values() {
            next = next.min(*deadline);
        }
        for parked in &self.parked {
            next = next.min(parked.deadline_ms);
        }
        for coordinator in self.coordinators.values() {
            if let Some(due_ms) = coordinator.poll_timeout() {
                next = next.min(due_ms);
            }
        }
        for replica in self.replicas.values() {
            if let Some(due_ms) = replica.log.flush_due_ms() {
                next = next.min(due_ms);
            }
            match &replica.role {
                Role::Leader(leader) => {
                    for member in &replica.state.isr {
                        if let Some(progress) = leader.followers.get(member) {
                            next = next.min(progress.last_caught_up_ms.saturating_add(lag_ms) + 1);
                        }
                    }
                    if let Some((_, sent_ms)) = leader.pending_isr {
                        next = next.min(sent_ms + ALTER_PARTITION_RETRY_MS);
                    }
                    for pending in &leader.purgatory {
                        next = next.min(pending.deadline_ms);
                    }
                }
                Role::Follower(follower) => match follower.fetch_in_flight {
                    Some((_, sent_ms)) => next = next.min(sent_ms.saturating_add(socket_timeout_ms)),
                    None if replica.state.leader.is_some_and(|leader| leader != self.id) => {
                        next = next.min(follower.next_fetch_ms);
                    }
                    None => {}
                },
            }
        }
        Some(next)
    }

    /// A one-way message (heartbeats, registrations, ISR proposals: correlation id 0).
    fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push_back(Outgoing { to, correlation_id: 0, message });
    }

    /// The answer to a request.
    fn answer(&mut self, asker: ReplyTo, message: Message) {
        self.outbox.push_back(asker.answer(message));
    }

    fn next_correlation_id(&mut self) -> u64 {
        let id = self.next_correlation_id;
        self.next_correlation_id += 1;
        id
    }

    /// Handles a message; `correlation_id` is the request's (for requests) or the one this
    /// broker sent (for responses).
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, message: Message) {
        let asker = ReplyTo { node: from, correlation_id };
        if let (NodeId::Controller(id), false) = (from, matches!(message, Message::NotController(_))) {
            // Only the active controller answers brokers or pushes metadata.
            self.active_controller = Some(id);
            self.controller_unanswered_since = None;
        }
        match message {
            request @ (Message::DescribeQuorum(_)
            | Message::AlterTopicConfig(_)
            | Message::ElectLeaders(_)
            | Message::AlterReassignments(_)
            | Message::ChangeTopic(_)
            | Message::ChangeVoters(_)) => {
                self.forward(now_ms, asker, request, 0);
            }
            response @ (Message::DescribeQuorumResponse(_)
            | Message::AlterTopicConfigResponse(_)
            | Message::ElectLeadersResponse(_)
            | Message::AlterReassignmentsResponse(_)
            | Message::ChangeTopicResponse(_)
            | Message::ChangeVotersResponse(_)) => {
                if let Some((asker, _, _, _)) = self.forwarded.remove(&correlation_id) {
                    self.answer(asker, response);
                }
            }
            Message::NotController(NotController { leader }) if self.forwarded.contains_key(&correlation_id) => {
                // A forwarded request reached a controller that does not lead: try the one it
                // names (a few times), or tell the asker.
                let (asker, tries, _, request) = self.forwarded.remove(&correlation_id).expect("checked");
                match leader {
                    Some(leader) if tries < FORWARD_TRIES_MAX => {
                        self.active_controller = Some(leader);
                        self.forward(now_ms, asker, request, tries + 1);
                    }
                    _ => self.answer(asker, no_controller_answer(&request)),
                }
            }
            Message::NotController(NotController { leader }) => {
                // Ask the leader it named, at once (or the next voter when it knows none).
                if leader.is_none() {
                    self.controller_attempt += 1;
                }
                self.active_controller = leader;
                self.controller_unanswered_since = None;
                self.next_heartbeat_ms = self.next_heartbeat_ms.min(now_ms + 50);
            }
            Message::RegisterBrokerResponse(RegisterBrokerResponse { broker_epoch }) => {
                self.broker_epoch = Some(broker_epoch);
                self.next_heartbeat_ms = now_ms;
                self.handle_timeout(now_ms);
            }
            Message::BrokerHeartbeatResponse(BrokerHeartbeatResponse { error, metadata }) => {
                if matches!(error, ErrorCode::StaleBrokerEpoch | ErrorCode::BrokerIdNotRegistered) {
                    self.broker_epoch = None;
                    self.next_heartbeat_ms = now_ms;
                }
                if let Some(image) = metadata {
                    self.apply_metadata(now_ms, image);
                }
            }
            Message::MetadataUpdate(MetadataUpdate { image }) => self.apply_metadata(now_ms, image),
            Message::AlterPartitionResponse(response) => self.handle_alter_partition_response(now_ms, response),
            Message::InitProducerId(InitProducerId {}) => {
                let response = match self.broker_epoch {
                    // Producer ids unique across brokers and incarnations without coordination:
                    // the broker epoch (unique per registration) in the high bits. (Kafka hands
                    // out blocks from the controller, KIP-730.)
                    Some(broker_epoch) if self.next_producer_id < (1 << 24) => {
                        let producer_id = (broker_epoch << 24) | self.next_producer_id;
                        self.next_producer_id += 1;
                        InitProducerIdResponse { error: ErrorCode::None, producer_id, producer_epoch: 0 }
                    }
                    _ => InitProducerIdResponse {
                        error: ErrorCode::CoordinatorNotAvailable,
                        producer_id: -1,
                        producer_epoch: -1,
                    },
                };
                self.answer(asker, Message::InitProducerIdResponse(response));
            }
            Message::FindCoordinator(FindCoordinator { group_id }) => self.handle_find_coordinator(asker, &group_id),
            Message::Group(request) => self.handle_group_request(now_ms, asker, request),
            Message::Metadata(MetadataRequest {}) => {
                let image = self.image.clone();
                self.answer(asker, Message::MetadataResponse(MetadataResponse { image }));
            }
            Message::Produce(produce) => self.handle_produce(now_ms, asker, produce),
            Message::Fetch(fetch) => self.handle_fetch(now_ms, asker, fetch),
            Message::FetchResponse(response) => self.handle_fetch_response(now_ms, correlation_id, response),
            Message::RegisterBroker(_)
            | Message::BrokerHeartbeat(_)
            | Message::AlterPartition(_)
            | Message::MetadataResponse(_)
            | Message::InitProducerIdResponse(_)
            | Message::FindCoordinatorResponse(_)
            | Message::GroupResponse(_)
            | Message::Quorum(_)
            | Message::ProduceResponse(_) => {}
        }
    }

    /// Heartbeats, follower fetches, ISR shrink checks, timeouts, flushes.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let expired: Vec<u64> =
            self.forwarded.iter().filter(|(_, (_, _, deadline, _))| now_ms >= *deadline).map(|(id, _)| *id).collect();
        for id in expired {
            // The controller it went to did not answer (dead, or cut off): try the next voter.
            let (asker, tries, _, request) = self.forwarded.remove(&id).expect("listed");
            self.active_controller = None;
            self.controller_attempt += 1;
            self.forward(now_ms, asker, request, tries + 1);
        }
        if now_ms >= self.next_heartbeat_ms {
            let interval_ms = u64::try_from(self.config.broker_heartbeat_interval_ms).unwrap_or(2_000);
            self.next_heartbeat_ms = now_ms + interval_ms;
            match self.controller_unanswered_since {
                // The last request went unanswered for a whole interval: try the next voter.
                Some(since) if now_ms >= since + interval_ms => {
                    if let Some(silent) = self.active_controller.take() {
                        self.controller_attempt =
                            self.controllers.iter().position(|id| *id == silent).unwrap_or(self.controller_attempt);
                    }
                    self.controller_attempt += 1;
                    self.controller_unanswered_since = Some(now_ms);
                }
                Some(_) => {}
                None => self.controller_unanswered_since = Some(now_ms),
            }
            let message = match self.broker_epoch {
                None => Message::RegisterBroker(RegisterBroker {
                    broker_id: self.id,
                    rack: self.config.broker_rack.clone(),
                }),
                Some(broker_epoch) => Message::BrokerHeartbeat(BrokerHeartbeat {
                    broker_id: self.id,
                    broker_epoch,
                    metadata_epoch: self.image.metadata_epoch,
                }),
            };
            self.send(self.controller(), message);
        }
        if self.next_high_watermark_checkpoint_ms.is_some_and(|due_ms| now_ms >= due_ms) {
            self.next_high_watermark_checkpoint_ms = Some(now_ms.saturating_add(checkpoint_interval_ms(&self.config)));
            for replica in self.replicas.values_mut() {
                let high_watermark = replica.log.high_watermark();
                replica.log.storage_mut().checkpoint_high_watermark(high_watermark).expect("storage checkpoint");
            }
        }
        if now_ms >= self.next_log_cleanup_ms {
            self.clean_logs(now_ms);
        }
        let partitions: Vec<i32> = self.coordinators.keys().copied().collect();
        for partition in partitions {
            if let Some(coordinator) = self.coordinators.get_mut(&partition) {
                coordinator.handle_timeout(now_ms);
            }
            self.drain_coordinator(partition);
        }
        let partitions: Vec<TopicPartition> = self.replicas.keys().cloned().collect();
        for tp in partitions {
            self.partition_timeout(now_ms, &tp);
        }
    }

    /// Every `log.retention.check.interval.ms`: retention for `delete` topics and compaction
    /// for `compact` topics (Kafka runs the cleaner on its own schedule; Rill runs both here).
    fn clean_logs(&mut self, now_ms: u64) {
        let interval_ms = u64::try_from(self.config.log_retention_check_interval_ms).unwrap_or(300_000);
        self.next_log_cleanup_ms = now_ms.saturating_add(interval_ms);
        let me = self.id;
        for (tp, replica) in &mut self.replicas {
            let before = replica.log.log_start_offset();
            let deleted = replica.log.apply_retention(now_ms).map(|deleted| deleted.len()).unwrap_or(0);
            let compacted = replica
                .log
                .compact(now_ms)
                .map(|result| result.records_removed + result.tombstones_removed)
                .unwrap_or(0);
            if replica.log.log_start_offset() > before {
                replica.epochs.truncate_from_start(replica.log.log_start_offset());
            }
            if deleted > 0 || compacted > 0 {
                // Compaction removes batches but never moves an epoch's start.
                replica.assert_epochs_match_log();
            }
            if deleted > 0 || compacted > 0 {
                self.events.push_back(Event::LogCleaned {
                    broker: me,
                    tp: tp.clone(),
                    segments_deleted: u64::try_from(deleted).unwrap_or(u64::MAX),
                    records_compacted: compacted,
                    log_start_offset: replica.log.log_start_offset().max(before),
                });
            }
        }
    }

    fn partition_timeout(&mut self, now_ms: u64, tp: &TopicPartition) {
        let socket_timeout_ms = u64::try_from(self.config.replica_socket_timeout_ms).unwrap_or(u64::MAX);
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        if replica.log.should_flush(now_ms) {
            replica.log.flush().expect("MemStorage and FileStorage flush or report through the log");
        }
        match &mut replica.role {
            Role::Follower(follower) => {
                if follower
                    .fetch_in_flight
                    .is_some_and(|(_, sent_ms)| now_ms >= sent_ms.saturating_add(socket_timeout_ms))
                {
                    follower.fetch_in_flight = None;
                }
                let due = follower.fetch_in_flight.is_none() && now_ms >= follower.next_fetch_ms;
                if due {
                    self.send_follower_fetch(now_ms, tp);
                }
            }
            Role::Leader(_) => {
                // Checked on every tick, not only when the partition is busy: an idle
                // leader's broken state is caught too.
                replica.assert_leader_invariants(self.id);
                self.expire_purgatory(now_ms, tp);
                self.answer_parked_fetches(now_ms, tp, true);
                self.maybe_change_isr(now_ms, tp);
            }
        }
    }
}
