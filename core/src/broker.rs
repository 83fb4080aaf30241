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
use crate::error::ErrorCode;
use crate::event::Event;
use crate::group::coordinator::{
    coordinator_partition, offset_record, parse_offset_record, GroupConfig, GroupCoordinator, GroupRequest,
    GroupResponse, OFFSETS_TOPIC,
};
use crate::log::{PartitionLog, ReadLimit};
use crate::placement::BrokerId;
use crate::producer_state::{ProducerStateTable, SequenceCheck};
use crate::protocol::{Acks, EpochEndOffset, Message, MetadataImage, NodeId, Outgoing, PartitionState, TopicPartition};
use crate::record::{BatchBuilder, Record, RecordBatch};
use crate::storage::{MemStorage, Storage};

/// How long a leader waits for an AlterPartition answer before proposing again.
const ALTER_PARTITION_RETRY_MS: u64 = 5_000;
/// Most produce requests one partition holds waiting for acks=all (a limit on everything).
const PURGATORY_PER_PARTITION_MAX: usize = 10_000;
/// Most fetches one partition holds waiting for data.
const PARKED_FETCHES_PER_PARTITION_MAX: usize = 1_000;

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

#[derive(Clone, Debug)]
struct PendingProduce {
    from: NodeId,
    request_id: u64,
    base_offset: i64,
    required_offset: i64,
    deadline_ms: u64,
    /// Set for an OffsetCommit written to `__consumer_offsets`: (group, offsets), answered
    /// with a group response and applied to the coordinator once committed.
    commit: Option<(String, Vec<(TopicPartition, i64)>)>,
}

#[derive(Clone, Debug)]
struct ParkedFetch {
    from: NodeId,
    request_id: u64,
    replica_id: Option<BrokerId>,
    fetch_offset: i64,
    max_bytes: usize,
    deadline_ms: u64,
    high_watermark_seen: i64,
}

#[derive(Debug)]
struct LeaderState {
    followers: VecMap<BrokerId, FollowerProgress>,
    pending_isr: Option<(Vec<BrokerId>, u64)>,
    /// After a rejected ISR change, no new proposal before this time.
    isr_retry_after_ms: u64,
    purgatory: Vec<PendingProduce>,
    parked: Vec<ParkedFetch>,
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
    next_request_id: u64,
    next_producer_id: i64,
    next_log_cleanup_ms: u64,
    /// Group coordinators for the `__consumer_offsets` partitions this broker leads.
    coordinators: VecMap<i32, GroupCoordinator>,
}

impl<F: StorageFactory> BrokerNode<F> {
    /// A broker starting at `now_ms`; it registers with the controller right away.
    pub fn new(config: BrokerConfig, factory: F, now_ms: u64) -> BrokerNode<F> {
        assert!(config.validate().is_ok(), "BrokerNode needs a validated config");
        let cleanup_interval_ms = u64::try_from(config.log_retention_check_interval_ms).unwrap_or(300_000);
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
            next_request_id: 1,
            next_producer_id: 0,
            next_log_cleanup_ms: now_ms.saturating_add(cleanup_interval_ms),
            coordinators: VecMap::new(),
        }
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

    /// A replica's log (read-only), for checkers and tests.
    #[must_use]
    pub fn log(&self, tp: &TopicPartition) -> Option<&PartitionLog<F::Storage>> {
        self.replicas.get(tp).map(|replica| &replica.log)
    }

    /// The group coordinators this broker runs, by `__consumer_offsets` partition.
    pub fn coordinators(&self) -> impl Iterator<Item = (i32, &GroupCoordinator)> {
        self.coordinators.iter().map(|(partition, coordinator)| (*partition, coordinator))
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
                    for parked in &leader.parked {
                        next = next.min(parked.deadline_ms);
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

    fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push_back(Outgoing { to, message });
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    /// Handles a message.
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message) {
        match message {
            Message::RegisterBrokerResponse { broker_epoch } => {
                self.broker_epoch = Some(broker_epoch);
                self.next_heartbeat_ms = now_ms;
                self.handle_timeout(now_ms);
            }
            Message::BrokerHeartbeatResponse { error, metadata } => {
                if matches!(error, ErrorCode::StaleBrokerEpoch | ErrorCode::BrokerIdNotRegistered) {
                    self.broker_epoch = None;
                    self.next_heartbeat_ms = now_ms;
                }
                if let Some(image) = metadata {
                    self.apply_metadata(now_ms, image);
                }
            }
            Message::MetadataUpdate(image) => self.apply_metadata(now_ms, image),
            Message::AlterPartitionResponse { tp, error, state } => {
                self.handle_alter_partition_response(now_ms, &tp, error, state);
            }
            Message::InitProducerId { request_id } => {
                let message = match self.broker_epoch {
                    // Producer ids unique across brokers and incarnations without coordination:
                    // the broker epoch (unique per registration) in the high bits. (Kafka hands
                    // out blocks from the controller, KIP-730.)
                    Some(broker_epoch) if self.next_producer_id < (1 << 24) => {
                        let producer_id = (broker_epoch << 24) | self.next_producer_id;
                        self.next_producer_id += 1;
                        Message::InitProducerIdResponse {
                            request_id,
                            error: ErrorCode::None,
                            producer_id,
                            producer_epoch: 0,
                        }
                    }
                    _ => Message::InitProducerIdResponse {
                        request_id,
                        error: ErrorCode::CoordinatorNotAvailable,
                        producer_id: -1,
                        producer_epoch: -1,
                    },
                };
                self.send(from, message);
            }
            Message::FindCoordinator { request_id, group_id } => {
                self.handle_find_coordinator(from, request_id, &group_id)
            }
            Message::Group(request) => self.handle_group_request(now_ms, from, request),
            Message::MetadataRequest { request_id } => {
                let image = self.image.clone();
                self.send(from, Message::MetadataResponse { request_id, image });
            }
            Message::Produce { request_id, tp, acks, timeout_ms, batch } => {
                self.handle_produce(now_ms, from, request_id, &tp, acks, timeout_ms, batch);
            }
            Message::Fetch {
                request_id,
                replica_id,
                tp,
                fetch_offset,
                last_fetched_epoch,
                current_leader_epoch,
                max_bytes,
                max_wait_ms,
            } => {
                let request = FetchRequest {
                    from,
                    request_id,
                    replica_id,
                    fetch_offset,
                    last_fetched_epoch,
                    current_leader_epoch,
                    max_bytes,
                    max_wait_ms,
                };
                self.handle_fetch(now_ms, &tp, request);
            }
            Message::FetchResponse {
                request_id,
                tp,
                error,
                high_watermark,
                log_start_offset,
                log_end_offset,
                diverging_epoch,
                batches,
            } => {
                let response = FetchReply {
                    request_id,
                    error,
                    high_watermark,
                    log_start_offset,
                    log_end_offset,
                    diverging_epoch,
                    batches,
                };
                self.handle_fetch_response(now_ms, &tp, response);
            }
            Message::RegisterBroker { .. }
            | Message::BrokerHeartbeat { .. }
            | Message::AlterPartition { .. }
            | Message::MetadataResponse { .. }
            | Message::InitProducerIdResponse { .. }
            | Message::FindCoordinatorResponse { .. }
            | Message::GroupResponse(_)
            | Message::ProduceResponse { .. } => {}
        }
    }

    /// Heartbeats, follower fetches, ISR shrink checks, timeouts, flushes.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if now_ms >= self.next_heartbeat_ms {
            let interval_ms = u64::try_from(self.config.broker_heartbeat_interval_ms).unwrap_or(2_000);
            self.next_heartbeat_ms = now_ms + interval_ms;
            let message = match self.broker_epoch {
                None => Message::RegisterBroker { broker_id: self.id, rack: self.config.broker_rack.clone() },
                Some(broker_epoch) => Message::BrokerHeartbeat {
                    broker_id: self.id,
                    broker_epoch,
                    metadata_epoch: self.image.metadata_epoch,
                },
            };
            self.send(NodeId::Controller, message);
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
                self.expire_purgatory(now_ms, tp);
                self.answer_parked_fetches(now_ms, tp, true);
                self.maybe_change_isr(now_ms, tp);
            }
        }
    }

    // ----- metadata and roles -----

    fn apply_metadata(&mut self, now_ms: u64, image: Arc<MetadataImage>) {
        // Like a KRaft broker, act on metadata only once registered (this incarnation).
        if self.broker_epoch.is_none() || image.metadata_epoch <= self.image.metadata_epoch {
            return;
        }
        self.image = image.clone();
        for (tp, state) in image.partitions() {
            if !state.replicas.contains(&self.id) {
                continue;
            }
            if !self.replicas.contains_key(&tp) {
                let config = image.topics[&tp.topic].config.clone();
                let storage = self.factory.open(&tp);
                let log = PartitionLog::new(storage, config);
                let (epochs, producers) = rebuild_state(&log);
                let role = Role::Follower(FollowerState { fetch_in_flight: None, next_fetch_ms: now_ms });
                let replica = Replica { tp: tp.clone(), log, epochs, producers, state: state.clone(), role };
                replica.assert_epochs_match_log();
                self.replicas.insert(tp.clone(), Box::new(replica));
                self.take_role(now_ms, &tp, state.clone(), true);
            } else {
                self.take_role(now_ms, &tp, state.clone(), false);
            }
        }
        // Topics deleted by the controller: answer what waits on them, then drop their data.
        let deleted: Vec<TopicPartition> =
            self.replicas.keys().filter(|tp| !image.topics.contains_key(&tp.topic)).cloned().collect();
        for tp in deleted {
            let replica = self.replicas.remove(&tp).expect("listed above");
            self.fail_leader_requests(replica.role, &tp, ErrorCode::UnknownTopicOrPartition);
            self.factory.delete(&tp, replica.log.into_storage());
        }
    }

    /// Applies a partition state from the controller: becomes leader or follower when the
    /// leader or leader epoch changed, else just adopts the newer ISR.
    fn take_role(&mut self, now_ms: u64, tp: &TopicPartition, state: PartitionState, new_replica: bool) {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        if !new_replica && state.leader_epoch < replica.state.leader_epoch {
            return;
        }
        let epoch_changed = new_replica || state.leader_epoch > replica.state.leader_epoch;
        let was_leader = matches!(replica.role, Role::Leader(_));
        if !epoch_changed {
            if state.partition_epoch > replica.state.partition_epoch {
                replica.state = state;
                if was_leader {
                    self.maybe_advance_high_watermark(now_ms, tp);
                    self.check_min_isr_after_shrink(tp);
                }
            }
            return;
        }
        replica.state = state.clone();
        if state.leader == Some(me) {
            self.become_leader(now_ms, tp);
        } else {
            self.become_follower(now_ms, tp, was_leader);
        }
    }

    fn become_leader(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        let old_role = std::mem::replace(
            &mut replica.role,
            Role::Leader(LeaderState {
                followers: VecMap::new(),
                pending_isr: None,
                isr_retry_after_ms: 0,
                purgatory: Vec::new(),
                parked: Vec::new(),
            }),
        );
        let leader_epoch = replica.state.leader_epoch;
        // KIP-279: the new leader records its epoch at its current LEO.
        replica.epochs.assign(leader_epoch, replica.log.log_end_offset());
        let Role::Leader(leader) = &mut replica.role else { unreachable!("just set") };
        for &follower in replica.state.replicas.iter().filter(|r| **r != me) {
            let in_isr = replica.state.isr.contains(&follower);
            leader.followers.insert(
                follower,
                FollowerProgress {
                    log_end_offset: -1,
                    last_caught_up_ms: if in_isr { now_ms } else { 0 },
                    last_fetch_ms: 0,
                    last_fetch_leader_log_end_offset: -1,
                },
            );
        }
        self.events.push_back(Event::BecameLeader {
            broker: me,
            tp: tp.clone(),
            leader_epoch,
            log_end_offset: replica.log.log_end_offset(),
            high_watermark: replica.log.high_watermark(),
        });
        self.fail_leader_requests(old_role, tp, ErrorCode::NotLeaderOrFollower);
        if tp.topic.as_ref() == OFFSETS_TOPIC {
            self.start_coordinator(tp);
        }
        self.maybe_advance_high_watermark(now_ms, tp);
    }

    fn become_follower(&mut self, now_ms: u64, tp: &TopicPartition, was_leader: bool) {
        if tp.topic.as_ref() == OFFSETS_TOPIC {
            // Its groups move to the new leader; members learn NOT_COORDINATOR and rediscover.
            self.coordinators.remove(&tp.partition);
        }
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        let old_role = std::mem::replace(
            &mut replica.role,
            Role::Follower(FollowerState { fetch_in_flight: None, next_fetch_ms: now_ms }),
        );
        self.events.push_back(Event::BecameFollower {
            broker: self.id,
            tp: tp.clone(),
            leader: replica.state.leader,
            leader_epoch: replica.state.leader_epoch,
        });
        if was_leader {
            self.fail_leader_requests(old_role, tp, ErrorCode::NotLeaderOrFollower);
        }
        self.partition_timeout(now_ms, tp);
    }

    fn fail_leader_requests(&mut self, role: Role, tp: &TopicPartition, error: ErrorCode) {
        let Role::Leader(leader) = role else { return };
        for pending in leader.purgatory {
            self.answer_pending(pending, tp, error);
        }
        for parked in leader.parked {
            self.send(parked.from, fetch_error(parked.request_id, tp.clone(), error));
        }
    }

    /// Answers a request that waited in the purgatory: a produce response, or for an offset
    /// commit a group response (applying the offsets once they are committed), with Kafka's
    /// error mapping for offset commits (`GroupMetadataManager.storeOffsets`).
    fn answer_pending(&mut self, pending: PendingProduce, tp: &TopicPartition, error: ErrorCode) {
        let Some((group_id, offsets)) = pending.commit else {
            let base_offset = if error.is_ok() { pending.base_offset } else { -1 };
            let message =
                Message::ProduceResponse { request_id: pending.request_id, tp: tp.clone(), error, base_offset };
            self.send(pending.from, message);
            return;
        };
        let error = match error {
            ErrorCode::None => {
                if let Some(coordinator) = self.coordinators.get_mut(&tp.partition) {
                    coordinator.apply_commit(&group_id, offsets);
                }
                ErrorCode::None
            }
            ErrorCode::UnknownTopicOrPartition
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend => ErrorCode::CoordinatorNotAvailable,
            ErrorCode::NotLeaderOrFollower | ErrorCode::KafkaStorageError => ErrorCode::NotCoordinator,
            ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge => ErrorCode::InvalidCommitOffsetSize,
            other => other,
        };
        self.send(pending.from, Message::GroupResponse(GroupResponse::Ack { request_id: pending.request_id, error }));
    }

    // ----- groups -----

    fn offsets_partitions(&self) -> Option<i32> {
        self.image.topics.get(OFFSETS_TOPIC).map(|topic| i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX))
    }

    fn handle_find_coordinator(&mut self, from: NodeId, request_id: u64, group_id: &str) {
        let coordinator = self.offsets_partitions().and_then(|partitions| {
            let tp = TopicPartition::new(OFFSETS_TOPIC, coordinator_partition(group_id, partitions));
            self.image.partition(&tp)?.leader
        });
        let error = if coordinator.is_some() { ErrorCode::None } else { ErrorCode::CoordinatorNotAvailable };
        self.send(from, Message::FindCoordinatorResponse { request_id, error, coordinator });
    }

    fn handle_group_request(&mut self, now_ms: u64, from: NodeId, request: GroupRequest) {
        let Some(partitions) = self.offsets_partitions() else {
            self.send(from, Message::GroupResponse(request.error_response(ErrorCode::CoordinatorNotAvailable)));
            return;
        };
        let partition = coordinator_partition(request.group_id(), partitions);
        let Some(coordinator) = self.coordinators.get_mut(&partition) else {
            self.send(from, Message::GroupResponse(request.error_response(ErrorCode::NotCoordinator)));
            return;
        };
        if let GroupRequest::OffsetCommit { request_id, group_id, generation_id, member_id, offsets } = &request {
            let error = coordinator.validate_commit(group_id, *generation_id, member_id, offsets);
            if !error.is_ok() || offsets.is_empty() {
                self.send(from, Message::GroupResponse(GroupResponse::Ack { request_id: *request_id, error }));
                return;
            }
            // Durable first: append to __consumer_offsets with acks=all, answer once committed.
            let mut builder = BatchBuilder::new();
            let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
            for (tp, offset) in offsets {
                let (key, value) = offset_record(group_id, tp, *offset);
                builder.push(&Record::new(Some(key.as_bytes()), Some(value.as_bytes()), timestamp_ms));
            }
            let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, partition);
            let commit = Some((group_id.clone(), offsets.clone()));
            let request_id = *request_id;
            match self.append_produce(now_ms, &offsets_tp, Acks::All, builder.build()) {
                Ok((base_offset, last_offset)) => {
                    let timeout_ms = u64::try_from(self.config.offsets_commit_timeout_ms).unwrap_or(5_000);
                    let pending = PendingProduce {
                        from,
                        request_id,
                        base_offset,
                        required_offset: last_offset + 1,
                        deadline_ms: now_ms.saturating_add(timeout_ms),
                        commit,
                    };
                    if let Some(Replica { role: Role::Leader(leader), .. }) =
                        self.replicas.get_mut(&offsets_tp).map(|replica| &mut **replica)
                    {
                        leader.purgatory.push(pending);
                    }
                    self.maybe_advance_high_watermark(now_ms, &offsets_tp);
                    self.answer_parked_fetches(now_ms, &offsets_tp, false);
                }
                Err(error) => {
                    let pending = PendingProduce {
                        from,
                        request_id,
                        base_offset: -1,
                        required_offset: 0,
                        deadline_ms: 0,
                        commit,
                    };
                    self.answer_pending(pending, &offsets_tp, error);
                }
            }
            return;
        }
        coordinator.handle_request(now_ms, from, request);
        self.drain_coordinator(partition);
    }

    fn drain_coordinator(&mut self, partition: i32) {
        let Some(coordinator) = self.coordinators.get_mut(&partition) else { return };
        let mut responses = Vec::new();
        while let Some(response) = coordinator.poll_output() {
            responses.push(response);
        }
        for (to, response) in responses {
            self.send(to, Message::GroupResponse(response));
        }
    }

    /// A broker that starts leading a `__consumer_offsets` partition becomes the coordinator of
    /// its groups, loading their committed offsets from the log (Kafka's
    /// `GroupMetadataManager.loadGroupsForPartition`). Group membership is not persisted in
    /// Rill: members of a moved group rejoin, their offsets survive.
    fn start_coordinator(&mut self, tp: &TopicPartition) {
        let config = GroupConfig {
            min_session_timeout_ms: u64::try_from(self.config.group_min_session_timeout_ms).unwrap_or(6_000),
            max_session_timeout_ms: u64::try_from(self.config.group_max_session_timeout_ms).unwrap_or(1_800_000),
            initial_rebalance_delay_ms: u64::try_from(self.config.group_initial_rebalance_delay_ms).unwrap_or(3_000),
            max_size: usize::try_from(self.config.group_max_size).unwrap_or(usize::MAX),
        };
        let leader_epoch = self.replicas.get(tp).map_or(0, |replica| replica.state.leader_epoch);
        let mut coordinator = GroupCoordinator::new(config, &format!("member-b{}-e{leader_epoch}", self.id))
            .with_generation_floor(leader_epoch.saturating_mul(1_000_000));
        if let Some(replica) = self.replicas.get(tp) {
            for batch in replica.log.batches_from(replica.log.log_start_offset(), ReadLimit::LogEnd) {
                for record in batch.records().flatten() {
                    let (Some(key), Some(value)) = (&record.record.key, &record.record.value) else { continue };
                    if let Some((group, partition, committed)) = parse_offset_record(key, value) {
                        coordinator.apply_commit(&group, vec![(partition, committed)]);
                    }
                }
            }
        }
        self.coordinators.insert(tp.partition, coordinator);
    }

    // ----- produce -----

    #[allow(clippy::too_many_arguments)]
    fn handle_produce(
        &mut self,
        now_ms: u64,
        from: NodeId,
        request_id: u64,
        tp: &TopicPartition,
        acks: Acks,
        timeout_ms: u64,
        batch: RecordBatch,
    ) {
        let me = self.id;
        let result = self.append_produce(now_ms, tp, acks, batch);
        let (base_offset, last_offset) = match result {
            Ok(offsets) => offsets,
            Err(error) => {
                self.events.push_back(Event::ProduceFailed { broker: me, tp: tp.clone(), error });
                if acks != Acks::None {
                    self.send(from, Message::ProduceResponse { request_id, tp: tp.clone(), error, base_offset: -1 });
                }
                return;
            }
        };
        match acks {
            Acks::None => {}
            Acks::Leader => {
                self.send(
                    from,
                    Message::ProduceResponse { request_id, tp: tp.clone(), error: ErrorCode::None, base_offset },
                );
            }
            Acks::All => {
                let replica = self.replicas.get_mut(tp).expect("append succeeded");
                let Role::Leader(leader) = &mut replica.role else { unreachable!("append checks leadership") };
                if leader.purgatory.len() >= PURGATORY_PER_PARTITION_MAX {
                    let error = ErrorCode::RequestTimedOut;
                    self.send(from, Message::ProduceResponse { request_id, tp: tp.clone(), error, base_offset: -1 });
                } else {
                    leader.purgatory.push(PendingProduce {
                        from,
                        request_id,
                        base_offset,
                        required_offset: last_offset + 1,
                        deadline_ms: now_ms.saturating_add(timeout_ms),
                        commit: None,
                    });
                }
            }
        }
        self.maybe_advance_high_watermark(now_ms, tp);
        self.answer_parked_fetches(now_ms, tp, false);
    }

    fn append_produce(
        &mut self,
        now_ms: u64,
        tp: &TopicPartition,
        acks: Acks,
        batch: RecordBatch,
    ) -> Result<(i64, i64), ErrorCode> {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        if !matches!(replica.role, Role::Leader(_)) {
            return Err(ErrorCode::NotLeaderOrFollower);
        }
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        // Checked before the append: nothing is written when the ISR is too small.
        if acks == Acks::All && replica.state.isr.len() < min_isr {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let leader_epoch = replica.state.leader_epoch;
        match replica.producers.check(&batch)? {
            // A retry of a batch already in the log: its original offsets, nothing appended.
            SequenceCheck::Duplicate { base_offset, last_offset } => {
                self.events.push_back(Event::DuplicateIgnored { broker: me, tp: tp.clone(), base_offset });
                return Ok((base_offset, last_offset));
            }
            SequenceCheck::Append => {}
        }
        let mut stored = batch.clone();
        let info = replica.log.append_as_leader(now_ms, batch, leader_epoch).map_err(|error| error.code)?;
        stored.assign(info.base_offset, leader_epoch);
        replica.producers.record(&stored);
        if replica.log.should_flush(now_ms) {
            replica.log.flush().map_err(|error| error.code)?;
        }
        self.events.push_back(Event::Appended {
            broker: me,
            tp: tp.clone(),
            base_offset: info.base_offset,
            last_offset: info.last_offset,
            leader_epoch,
        });
        Ok((info.base_offset, info.last_offset))
    }

    fn expire_purgatory(&mut self, now_ms: u64, tp: &TopicPartition) {
        let Some(Replica { role: Role::Leader(leader), .. }) = self.replicas.get_mut(tp).map(|replica| &mut **replica)
        else {
            return;
        };
        let (expired, kept): (Vec<PendingProduce>, Vec<PendingProduce>) =
            leader.purgatory.drain(..).partition(|pending| now_ms >= pending.deadline_ms);
        leader.purgatory = kept;
        for pending in expired {
            self.answer_pending(pending, tp, ErrorCode::RequestTimedOut);
        }
    }

    /// Rill answers waiting acks=all requests with `NOT_ENOUGH_REPLICAS_AFTER_APPEND` as soon
    /// as a committed ISR shrink leaves fewer than `min.insync.replicas` members (Kafka's
    /// `DelayedProduce` reaches the same answer once it re-checks; the record stays in the log).
    fn check_min_isr_after_shrink(&mut self, tp: &TopicPartition) {
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        if replica.state.isr.len() >= min_isr {
            return;
        }
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        let failed: Vec<PendingProduce> = leader.purgatory.drain(..).collect();
        for pending in failed {
            self.answer_pending(pending, tp, ErrorCode::NotEnoughReplicasAfterAppend);
        }
    }

    // ----- high watermark and ISR -----

    /// HW = min LEO over the ISR (plus pending additions, KIP-497's maximal ISR); it does not
    /// advance while the ISR is smaller than `min.insync.replicas` (KIP-966).
    fn maybe_advance_high_watermark(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        let mut members: Vec<BrokerId> = replica.state.isr.clone();
        if let Some((pending, _)) = &leader.pending_isr {
            for member in pending {
                if !members.contains(member) {
                    members.push(*member);
                }
            }
        }
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        if members.len() < min_isr || !members.contains(&me) {
            return;
        }
        let mut candidate = replica.log.log_end_offset();
        for member in members.iter().filter(|member| **member != me) {
            let leo = leader.followers.get(member).map_or(-1, |progress| progress.log_end_offset);
            candidate = candidate.min(leo);
        }
        let advanced = candidate > replica.log.high_watermark();
        if advanced {
            replica.log.set_high_watermark(candidate);
            self.events.push_back(Event::HighWatermarkAdvanced {
                broker: me,
                tp: tp.clone(),
                high_watermark: candidate,
            });
        }
        // Everything at or below the HW is committed, including retried duplicates whose
        // original offsets were committed already.
        let high_watermark = replica.log.high_watermark();
        let (done, waiting): (Vec<PendingProduce>, Vec<PendingProduce>) =
            leader.purgatory.drain(..).partition(|pending| pending.required_offset <= high_watermark);
        leader.purgatory = waiting;
        for pending in done {
            self.answer_pending(pending, tp, ErrorCode::None);
        }
        if advanced {
            self.answer_parked_fetches(now_ms, tp, false);
        }
    }

    /// Proposes an ISR shrink (followers not caught up for `replica.lag.time.max.ms`) or an
    /// expansion (a follower at or past the HW and the current epoch's start), one change in
    /// flight at a time.
    fn maybe_change_isr(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let lag_max_ms = u64::try_from(self.config.replica_lag_time_max_ms).unwrap_or(u64::MAX);
        let Some(broker_epoch) = self.broker_epoch else {
            return;
        };
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        if let Some((_, sent_ms)) = leader.pending_isr {
            if now_ms < sent_ms + ALTER_PARTITION_RETRY_MS {
                return;
            }
            leader.pending_isr = None;
        }
        if now_ms < leader.isr_retry_after_ms {
            return;
        }
        let image = &self.image;
        let isr = &replica.state.isr;
        let leaving: Vec<(BrokerId, u64)> = isr
            .iter()
            .filter(|member| **member != me)
            .filter_map(|member| {
                let progress = leader.followers.get(member)?;
                let lag_ms = now_ms.saturating_sub(progress.last_caught_up_ms);
                (lag_ms > lag_max_ms).then_some((*member, lag_ms))
            })
            .collect();
        let epoch_start = replica.epochs.start_offset(replica.state.leader_epoch).unwrap_or(0);
        let high_watermark = replica.log.high_watermark();
        let joining: Vec<BrokerId> = leader
            .followers
            .iter()
            .filter(|(id, progress)| {
                // Kafka's isReplicaIsrEligible: only unfenced brokers may join.
                let unfenced = image.brokers.get(*id).is_some_and(|broker| !broker.fenced);
                unfenced
                    && !isr.contains(id)
                    && progress.log_end_offset >= high_watermark
                    && progress.log_end_offset >= epoch_start
            })
            .map(|(id, _)| *id)
            .collect();
        if leaving.is_empty() && joining.is_empty() {
            return;
        }
        let mut new_isr: Vec<BrokerId> = isr.iter().copied().filter(|m| !leaving.iter().any(|(l, _)| l == m)).collect();
        if !leaving.is_empty() {
            // One kind of change at a time: shrink first, expand on a later check.
        } else {
            new_isr.extend(joining);
        }
        collections::sort(&mut new_isr);
        leader.pending_isr = Some((new_isr.clone(), now_ms));
        self.events.push_back(Event::IsrChangeProposed {
            broker: me,
            tp: tp.clone(),
            new_isr: new_isr.clone(),
            leaving,
        });
        let message = Message::AlterPartition {
            broker_id: me,
            broker_epoch,
            tp: tp.clone(),
            leader_epoch: replica.state.leader_epoch,
            partition_epoch: replica.state.partition_epoch,
            new_isr,
        };
        self.send(NodeId::Controller, message);
    }

    fn handle_alter_partition_response(
        &mut self,
        now_ms: u64,
        tp: &TopicPartition,
        error: ErrorCode,
        state: Option<PartitionState>,
    ) {
        let me = self.id;
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        leader.pending_isr = None;
        if !error.is_ok() {
            let backoff_ms = u64::try_from(self.config.replica_fetch_backoff_ms).unwrap_or(1_000);
            leader.isr_retry_after_ms = now_ms + backoff_ms;
        }
        if let Some(state) = state {
            let same_leadership = state.leader == Some(me) && state.leader_epoch == replica.state.leader_epoch;
            if same_leadership && state.partition_epoch > replica.state.partition_epoch {
                replica.state = state;
            }
        }
        self.maybe_advance_high_watermark(now_ms, tp);
        self.check_min_isr_after_shrink(tp);
    }

    // ----- fetch (leader side) -----

    fn handle_fetch(&mut self, now_ms: u64, tp: &TopicPartition, request: FetchRequest) {
        let me = self.id;
        let Some(replica) = self.replicas.get_mut(tp) else {
            self.send(request.from, fetch_error(request.request_id, tp.clone(), ErrorCode::NotLeaderOrFollower));
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            self.send(request.from, fetch_error(request.request_id, tp.clone(), ErrorCode::NotLeaderOrFollower));
            return;
        };
        let leader_epoch = replica.state.leader_epoch;
        if request.current_leader_epoch >= 0 && request.current_leader_epoch != leader_epoch {
            let error = if request.current_leader_epoch < leader_epoch {
                ErrorCode::FencedLeaderEpoch
            } else {
                ErrorCode::UnknownLeaderEpoch
            };
            self.send(request.from, fetch_error(request.request_id, tp.clone(), error));
            return;
        }
        if let Some(replica_id) = request.replica_id {
            if replica_id == me || !replica.state.replicas.contains(&replica_id) {
                self.send(request.from, fetch_error(request.request_id, tp.clone(), ErrorCode::NotLeaderOrFollower));
                return;
            }
            // KIP-320: a follower whose last epoch ends earlier here must truncate first.
            if request.last_fetched_epoch >= 0 {
                let end = replica.epochs.end_offset_for(request.last_fetched_epoch, replica.log.log_end_offset());
                if let Some(end) = end {
                    if end.epoch < request.last_fetched_epoch || end.end_offset < request.fetch_offset {
                        let message = Message::FetchResponse {
                            request_id: request.request_id,
                            tp: tp.clone(),
                            error: ErrorCode::None,
                            high_watermark: replica.log.high_watermark(),
                            log_start_offset: replica.log.log_start_offset(),
                            log_end_offset: replica.log.log_end_offset(),
                            diverging_epoch: Some(end),
                            batches: Vec::new(),
                        };
                        self.send(request.from, message);
                        return;
                    }
                }
            }
        }
        let log_end_offset = replica.log.log_end_offset();
        if request.fetch_offset < replica.log.log_start_offset() || request.fetch_offset > log_end_offset {
            let message = Message::FetchResponse {
                request_id: request.request_id,
                tp: tp.clone(),
                error: ErrorCode::OffsetOutOfRange,
                high_watermark: replica.log.high_watermark(),
                log_start_offset: replica.log.log_start_offset(),
                log_end_offset,
                diverging_epoch: None,
                batches: Vec::new(),
            };
            self.send(request.from, message);
            return;
        }
        if let Some(replica_id) = request.replica_id {
            if let Some(progress) = leader.followers.get_mut(&replica_id) {
                // Kafka's Replica.updateFetchState.
                if request.fetch_offset >= log_end_offset {
                    progress.last_caught_up_ms = progress.last_caught_up_ms.max(now_ms);
                } else if request.fetch_offset >= progress.last_fetch_leader_log_end_offset {
                    progress.last_caught_up_ms = progress.last_caught_up_ms.max(progress.last_fetch_ms);
                }
                progress.log_end_offset = request.fetch_offset;
                progress.last_fetch_ms = now_ms;
                progress.last_fetch_leader_log_end_offset = log_end_offset;
            }
            self.maybe_advance_high_watermark(now_ms, tp);
            self.maybe_change_isr(now_ms, tp);
        }
        let replica = self.replicas.get_mut(tp).expect("checked above");
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        let limit = if request.replica_id.is_some() { ReadLimit::LogEnd } else { ReadLimit::HighWatermark };
        let has_data = match limit {
            ReadLimit::LogEnd => request.fetch_offset < replica.log.log_end_offset(),
            ReadLimit::HighWatermark => request.fetch_offset < replica.log.high_watermark(),
        };
        if !has_data && request.max_wait_ms > 0 && leader.parked.len() < PARKED_FETCHES_PER_PARTITION_MAX {
            leader.parked.push(ParkedFetch {
                from: request.from,
                request_id: request.request_id,
                replica_id: request.replica_id,
                fetch_offset: request.fetch_offset,
                max_bytes: request.max_bytes,
                deadline_ms: now_ms.saturating_add(request.max_wait_ms),
                high_watermark_seen: replica.log.high_watermark(),
            });
            return;
        }
        let message = read_for_fetch(
            replica,
            tp,
            request.request_id,
            request.replica_id,
            request.fetch_offset,
            request.max_bytes,
        );
        self.send(request.from, message);
    }

    /// Answers parked fetches that now have data (or a new HW for followers), or whose wait
    /// expired (`expired_only` limits it to those).
    fn answer_parked_fetches(&mut self, now_ms: u64, tp: &TopicPartition, expired_only: bool) {
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        if leader.parked.is_empty() {
            return;
        }
        let log_end_offset = replica.log.log_end_offset();
        let high_watermark = replica.log.high_watermark();
        let parked = std::mem::take(&mut leader.parked);
        let (ready, waiting): (Vec<ParkedFetch>, Vec<ParkedFetch>) = parked.into_iter().partition(|fetch| {
            let expired = now_ms >= fetch.deadline_ms;
            let has_data = match fetch.replica_id {
                Some(_) => fetch.fetch_offset < log_end_offset || high_watermark > fetch.high_watermark_seen,
                None => fetch.fetch_offset < high_watermark,
            };
            expired || (!expired_only && has_data)
        });
        if let Role::Leader(leader) = &mut replica.role {
            leader.parked = waiting;
        }
        for fetch in ready {
            let replica = self.replicas.get(tp).expect("still here");
            let message =
                read_for_fetch(replica, tp, fetch.request_id, fetch.replica_id, fetch.fetch_offset, fetch.max_bytes);
            self.send(fetch.from, message);
        }
    }

    // ----- fetch (follower side) -----

    fn send_follower_fetch(&mut self, now_ms: u64, tp: &TopicPartition) {
        let request_id = self.request_id();
        let me = self.id;
        let max_bytes = usize::try_from(self.config.replica_fetch_max_bytes).unwrap_or(1 << 20);
        let max_wait_ms = u64::try_from(self.config.replica_fetch_wait_max_ms).unwrap_or(500);
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Some(leader) = replica.state.leader.filter(|leader| *leader != me) else {
            return;
        };
        let Role::Follower(follower) = &mut replica.role else {
            return;
        };
        follower.fetch_in_flight = Some((request_id, now_ms));
        let message = Message::Fetch {
            request_id,
            replica_id: Some(me),
            tp: tp.clone(),
            fetch_offset: replica.log.log_end_offset(),
            last_fetched_epoch: replica.epochs.latest_epoch().unwrap_or(-1),
            current_leader_epoch: replica.state.leader_epoch,
            max_bytes,
            max_wait_ms,
        };
        self.send(NodeId::Broker(leader), message);
    }

    fn handle_fetch_response(&mut self, now_ms: u64, tp: &TopicPartition, response: FetchReply) {
        let me = self.id;
        let backoff_ms = u64::try_from(self.config.replica_fetch_backoff_ms).unwrap_or(1_000);
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Follower(follower) = &mut replica.role else {
            return;
        };
        if follower.fetch_in_flight.map(|(id, _)| id) != Some(response.request_id) {
            return;
        }
        follower.fetch_in_flight = None;
        follower.next_fetch_ms = now_ms;
        let before = replica.log.log_end_offset();
        match response.error {
            ErrorCode::None => {
                if let Some(diverging) = response.diverging_epoch {
                    let target = truncation_offset(&replica.epochs, diverging, before, replica.log.log_start_offset());
                    replica.truncate(target);
                } else {
                    for batch in response.batches {
                        let log_end_offset = replica.log.log_end_offset();
                        let epoch = batch.partition_leader_epoch();
                        if batch.base_offset() < log_end_offset {
                            break;
                        }
                        let stored = batch.clone();
                        if replica.log.append_as_follower(now_ms, batch).is_err() {
                            break;
                        }
                        // The epoch starts where our log ended, not at this batch's base offset:
                        // a gap before it was compacted away on the leader (see `epoch.rs`).
                        replica.epochs.assign(epoch, log_end_offset);
                        assert_eq!(
                            replica.epochs.epoch_for(stored.base_offset()),
                            Some(epoch),
                            "{tp}: a fetched batch of epoch {epoch} at {} lies outside its epoch's range",
                            stored.base_offset()
                        );
                        replica.producers.record(&stored);
                    }
                    if replica.log.should_flush(now_ms) {
                        replica.log.flush().expect("storage flush");
                    }
                    let high_watermark =
                        response.high_watermark.min(replica.log.log_end_offset()).max(replica.log.log_start_offset());
                    replica.log.set_high_watermark(high_watermark);
                }
            }
            ErrorCode::OffsetOutOfRange => {
                if before > response.log_end_offset {
                    // The leader has less than we do (an unclean election): follow it.
                    replica.truncate(response.log_end_offset.max(replica.log.log_start_offset()));
                } else if before < response.log_start_offset {
                    replica.log.truncate_fully_and_start_at(response.log_start_offset).expect("storage reset");
                    replica.epochs.clear();
                    replica.producers.clear();
                } else {
                    follower.next_fetch_ms = now_ms + backoff_ms;
                }
            }
            _ => {
                if let Role::Follower(follower) = &mut replica.role {
                    follower.next_fetch_ms = now_ms + backoff_ms;
                }
            }
        }
        let after = replica.log.log_end_offset();
        if after < before {
            self.events.push_back(Event::Truncated {
                broker: me,
                tp: tp.clone(),
                from_offset: before,
                to_offset: after,
            });
        }
        self.partition_timeout(now_ms, tp);
    }
}

/// KIP-101/279 follower truncation for a leader's diverging epoch answer.
fn truncation_offset(
    epochs: &LeaderEpochCache,
    diverging: EpochEndOffset,
    log_end_offset: i64,
    log_start_offset: i64,
) -> i64 {
    match epochs.end_offset_for(diverging.epoch, log_end_offset) {
        Some(mine) if mine.epoch == diverging.epoch => mine.end_offset.min(diverging.end_offset),
        // We lack the leader's epoch: cut back to where our largest older epoch ends and ask again.
        Some(mine) => mine.end_offset.min(diverging.end_offset),
        None => log_start_offset,
    }
    .min(log_end_offset)
}

/// The leader-epoch cache and producer state a log implies (after a restart).
fn rebuild_state<S: Storage>(log: &PartitionLog<S>) -> (LeaderEpochCache, ProducerStateTable) {
    let mut producers = ProducerStateTable::new();
    let mut bounds = Vec::new();
    for batch in log.batches_from(log.log_start_offset(), ReadLimit::LogEnd) {
        bounds.push((batch.base_offset(), batch.next_offset(), batch.partition_leader_epoch()));
        producers.record(&batch);
    }
    (LeaderEpochCache::from_log(log.log_start_offset(), bounds), producers)
}

/// The producer state a log implies (after a truncation).
fn rebuild_producers<S: Storage>(log: &PartitionLog<S>) -> ProducerStateTable {
    let mut producers = ProducerStateTable::new();
    for batch in log.batches_from(log.log_start_offset(), ReadLimit::LogEnd) {
        producers.record(&batch);
    }
    producers
}

fn fetch_error(request_id: u64, tp: TopicPartition, error: ErrorCode) -> Message {
    Message::FetchResponse {
        request_id,
        tp,
        error,
        high_watermark: -1,
        log_start_offset: -1,
        log_end_offset: -1,
        diverging_epoch: None,
        batches: Vec::new(),
    }
}

fn read_for_fetch<S: Storage>(
    replica: &Replica<S>,
    tp: &TopicPartition,
    request_id: u64,
    replica_id: Option<BrokerId>,
    fetch_offset: i64,
    max_bytes: usize,
) -> Message {
    let limit = if replica_id.is_some() { ReadLimit::LogEnd } else { ReadLimit::HighWatermark };
    match replica.log.read(fetch_offset, max_bytes, limit) {
        Ok(read) => Message::FetchResponse {
            request_id,
            tp: tp.clone(),
            error: ErrorCode::None,
            high_watermark: read.high_watermark,
            log_start_offset: read.log_start_offset,
            log_end_offset: read.log_end_offset,
            diverging_epoch: None,
            batches: read.batches,
        },
        Err(error) => Message::FetchResponse {
            request_id,
            tp: tp.clone(),
            error: error.code,
            high_watermark: replica.log.high_watermark(),
            log_start_offset: replica.log.log_start_offset(),
            log_end_offset: replica.log.log_end_offset(),
            diverging_epoch: None,
            batches: Vec::new(),
        },
    }
}

impl<S: Storage> Replica<S> {
    fn view(&self) -> ReplicaView {
        ReplicaView {
            tp: self.tp.clone(),
            is_leader: matches!(self.role, Role::Leader(_)),
            leader_epoch: self.state.leader_epoch,
            isr: self.state.isr.clone(),
            log_start_offset: self.log.log_start_offset(),
            log_end_offset: self.log.log_end_offset(),
            high_watermark: self.log.high_watermark(),
            flushed_offset: self.log.storage().flushed_offset(),
            epochs: self.epochs.entries().to_vec(),
        }
    }

    fn truncate(&mut self, offset: i64) {
        if offset >= self.log.log_end_offset() {
            // Kafka's UnifiedLog.truncateTo: even when nothing is removed, drop epoch entries
            // starting at the LEO. A replica that became leader and appended nothing keeps an
            // entry for its epoch there (KIP-279), which would otherwise make it report that
            // epoch as its last fetched one forever and never converge (seed 2877).
            self.epochs.truncate_from_end(self.log.log_end_offset());
            return;
        }
        self.log.truncate_to(offset).expect("truncation target is within the log");
        // Kafka's UnifiedLog.truncateTo: the epoch cache loses the entries past the new end
        // (it is not derived from the log again: a compacted gap would move an epoch's start
        // later, see `epoch.rs`). Truncation can remove producer batches: derive those again.
        self.epochs.truncate_from_end(self.log.log_end_offset());
        self.producers = rebuild_producers(&self.log);
        self.assert_epochs_match_log();
    }

    /// The epoch cache agrees with the log: every batch lies in its own epoch's range. Walks
    /// the whole log, so it runs in debug builds (tests, the simulation) only.
    fn assert_epochs_match_log(&self) {
        if cfg!(debug_assertions) {
            let batches = self.log.batches_from(self.log.log_start_offset(), ReadLimit::LogEnd);
            self.epochs.assert_matches_log(
                batches.iter().map(|batch| (batch.base_offset(), batch.last_offset(), batch.partition_leader_epoch())),
                self.log.log_end_offset(),
            );
        }
    }
}

struct FetchRequest {
    from: NodeId,
    request_id: u64,
    replica_id: Option<BrokerId>,
    fetch_offset: i64,
    last_fetched_epoch: i32,
    current_leader_epoch: i32,
    max_bytes: usize,
    max_wait_ms: u64,
}

struct FetchReply {
    request_id: u64,
    error: ErrorCode,
    high_watermark: i64,
    log_start_offset: i64,
    log_end_offset: i64,
    diverging_epoch: Option<EpochEndOffset>,
    batches: Vec<RecordBatch>,
}
