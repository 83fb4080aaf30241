//! [`GroupConsumer`]: a consumer in a group, like the Java client's classic consumer.
//!
//! It finds its coordinator, joins (KIP-394 member id first), and if it is the leader runs the
//! assignor over everyone's subscription; it syncs, fetches its committed offsets
//! (`auto.offset.reset=earliest` without one), consumes its partitions from their leaders,
//! heartbeats every `heartbeat.interval.ms`, commits every `auto.commit.interval.ms`, and
//! commits before it rejoins a rebalance. Cooperative-sticky members keep consuming what they
//! keep and rejoin once more after revoking (KIP-429). One coordinator request is in flight at
//! a time; fetches go to partition leaders in parallel.
//!
//! Subscription and assignment bytes use Rill's own text format (the coordinator treats them
//! as opaque, as on the wire).

use crate::collections::{VecMap, VecSet};
use std::collections::VecDeque;

use bytes::Bytes;

use crate::client::{send_due_fetches, ConsumerEvent, FetchTiming, MetadataClient, PartitionPosition};
use crate::error::ErrorCode;
use crate::placement::BrokerId;
use crate::protocol::{
    FetchPartitionResponse, FindCoordinator, FindCoordinatorResponse, GroupAck, GroupRequest, GroupResponse, Heartbeat,
    JoinGroup, JoinGroupResponse, LeaveGroup, Message, MetadataResponse, NodeId, OffsetCommit, OffsetFetch,
    OffsetFetchResponse, Outgoing, SyncGroup, SyncGroupResponse, TopicPartition,
};

use super::assignor::{Assignor, MemberSubscription};

mod modern;

/// Group consumer settings (the Java consumer's names and defaults).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupConsumerConfig {
    /// `group.id`.
    pub group_id: String,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// `partition.assignment.strategy`.
    pub assignor: Assignor,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval_ms: u64,
    /// `max.poll.interval.ms` (sent as the rebalance timeout).
    pub rebalance_timeout_ms: u64,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval_ms: u64,
    /// `request.timeout.ms`.
    pub request_timeout_ms: u64,
    /// `auto.offset.reset`: where to start without a committed offset.
    pub auto_offset_reset: OffsetReset,
    /// `group.protocol`: `classic` (the default) or KIP-848's `consumer`.
    pub group_protocol: GroupProtocol,
}

/// `group.protocol`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupProtocol {
    /// Join/Sync with a client-side assignor.
    Classic,
    /// KIP-848: heartbeats, the coordinator assigns with `group.remote.assignor` (`None`:
    /// the group's default, `uniform`).
    Consumer {
        /// `group.remote.assignor`.
        remote_assignor: Option<String>,
    },
}

/// `auto.offset.reset`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark (only new records). Kafka's default.
    Latest,
    /// No reset: the partition reports `OFFSET_OUT_OF_RANGE` and is not consumed.
    None,
}

impl GroupConsumerConfig {
    /// Kafka defaults for `group_id` subscribed to `topics` with `assignor`.
    #[must_use]
    pub fn new(group_id: &str, topics: &[&str], assignor: Assignor) -> GroupConsumerConfig {
        GroupConsumerConfig {
            group_id: group_id.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            assignor,
            session_timeout_ms: 45_000,
            heartbeat_interval_ms: 3_000,
            rebalance_timeout_ms: 300_000,
            auto_commit_interval_ms: 5_000,
            request_timeout_ms: 30_000,
            auto_offset_reset: OffsetReset::Latest,
            group_protocol: GroupProtocol::Classic,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    FindCoordinator,
    Join,
    FetchOffsets,
    Stable,
    /// Commit, then join (a rebalance started).
    CommitThenJoin,
    Left,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Find,
    /// A KIP-848 heartbeat (joining, reconciling or keeping alive).
    ConsumerHeartbeat,
    Join,
    Sync,
    OffsetFetch,
    Heartbeat,
    Commit,
    Leave,
}

fn encode_partitions(partitions: &[TopicPartition]) -> String {
    partitions.iter().map(|tp| format!("{}:{}", tp.topic, tp.partition)).collect::<Vec<_>>().join(",")
}

fn decode_partitions(text: &str) -> Vec<TopicPartition> {
    text.split(',')
        .filter_map(|item| {
            let (topic, partition) = item.rsplit_once(':')?;
            Some(TopicPartition::new(topic, partition.parse().ok()?))
        })
        .collect()
}

/// Subscription bytes: Kafka's consumer protocol (as the Java client writes them).
fn encode_subscription(topics: &[String], owned: &[TopicPartition]) -> Bytes {
    super::subscription::encode(topics, owned)
}

fn decode_subscription(member_id: &str, bytes: &[u8]) -> MemberSubscription {
    let subscription = super::subscription::decode(bytes)
        .unwrap_or(super::subscription::Subscription { topics: Vec::new(), owned: Vec::new() });
    MemberSubscription {
        member_id: member_id.to_owned(),
        topics: subscription.topics.into_iter().collect::<VecSet<_>>(),
        owned: subscription.owned,
    }
}

/// A consumer that is a member of a group.
#[derive(Debug)]
pub struct GroupConsumer {
    id: u32,
    config: GroupConsumerConfig,
    metadata: MetadataClient,
    phase: Phase,
    coordinator: Option<BrokerId>,
    member_id: String,
    generation_id: i32,
    pending: Option<(Pending, u64, u64)>,
    retry_at_ms: u64,
    assignment: Vec<TopicPartition>,
    positions: VecMap<TopicPartition, PartitionPosition>,
    next_heartbeat_ms: u64,
    next_commit_ms: u64,
    rejoin_after_sync: bool,
    /// Last time the coordinator answered; silence for `session.timeout.ms` means it is gone
    /// (the Java client's "marking the coordinator dead").
    coordinator_seen_ms: u64,
    next_request_id: u64,
    next_broker: usize,
    outbox: VecDeque<Outgoing>,
    events: VecDeque<ConsumerEvent>,
}

impl GroupConsumer {
    /// A group member with client number `id`, bootstrapping from `bootstrap` brokers.
    #[must_use]
    pub fn new(id: u32, config: GroupConsumerConfig, bootstrap: Vec<BrokerId>) -> GroupConsumer {
        GroupConsumer {
            id,
            config,
            metadata: MetadataClient::new(bootstrap),
            phase: Phase::FindCoordinator,
            coordinator: None,
            member_id: String::new(),
            generation_id: -1,
            pending: None,
            retry_at_ms: 0,
            assignment: Vec::new(),
            positions: VecMap::new(),
            next_heartbeat_ms: 0,
            next_commit_ms: 0,
            rejoin_after_sync: false,
            coordinator_seen_ms: 0,
            next_request_id: 1,
            next_broker: 0,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The client number.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    /// The group.
    #[must_use]
    pub fn group_id(&self) -> &str {
        &self.config.group_id
    }

    /// Its member id ("" before the first join).
    #[must_use]
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The generation it last synced in.
    #[must_use]
    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    /// Its partitions (in the last generation it synced).
    #[must_use]
    pub fn assignment(&self) -> &[TopicPartition] {
        &self.assignment
    }

    /// Consuming with an assignment.
    #[must_use]
    pub fn is_stable(&self) -> bool {
        self.phase == Phase::Stable
    }

    /// Next positions.
    #[must_use]
    pub fn positions(&self) -> VecMap<TopicPartition, i64> {
        self.positions.iter().map(|(tp, p)| (tp.clone(), p.position)).collect()
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// Next consumed record, reset, assignment or commit.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConsumerEvent> {
        self.events.pop_front()
    }

    /// When to call [`GroupConsumer::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        if self.phase == Phase::Left {
            return None;
        }
        let mut next = self.metadata.next_deadline(self.config.request_timeout_ms).unwrap_or(u64::MAX);
        match self.pending {
            Some((_, _, sent_ms)) => {
                next = next.min(sent_ms + self.config.request_timeout_ms);
                if self.coordinator.is_some() {
                    next = next.min(self.coordinator_seen_ms.saturating_add(self.config.session_timeout_ms) + 1);
                }
            }
            None => {
                let due = match self.phase {
                    Phase::Stable => self.next_heartbeat_ms.min(self.next_commit_ms),
                    _ => self.retry_at_ms,
                };
                next = next.min(due);
            }
        }
        if self.phase == Phase::Stable {
            for position in self.positions.values() {
                next = next.min(position.deadline_ms(self.config.request_timeout_ms));
            }
        }
        Some(next)
    }

    /// Leaves the group (LeaveGroup), committing first.
    pub fn leave(&mut self, now_ms: u64) {
        if self.coordinator.is_some() && !self.member_id.is_empty() && self.is_consumer_protocol() {
            self.commit(now_ms);
            self.leave_consumer_group(now_ms);
        } else if self.coordinator.is_some() && !self.member_id.is_empty() {
            self.commit(now_ms);
            let request = GroupRequest::Leave(LeaveGroup {
                group_id: self.config.group_id.clone(),
                member_id: self.member_id.clone(),
            });
            self.send_coordinator(Pending::Leave, now_ms, request);
        }
        self.phase = Phase::Left;
        self.positions.clear();
        self.assignment.clear();
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    /// Sends `request` to the coordinator as the one request in flight.
    fn send_coordinator(&mut self, kind: Pending, now_ms: u64, request: GroupRequest) {
        let Some(coordinator) = self.coordinator else { return };
        let correlation_id = self.request_id();
        self.pending = Some((kind, correlation_id, now_ms));
        let message = Message::Group(request);
        self.outbox.push_back(Outgoing { to: NodeId::Broker(coordinator), correlation_id, message });
    }

    fn rediscover(&mut self, now_ms: u64) {
        self.coordinator = None;
        self.phase = Phase::FindCoordinator;
        self.retry_at_ms = now_ms + 100;
        self.metadata.stale = true;
    }

    fn rejoin(&mut self, now_ms: u64) {
        self.phase = Phase::Join;
        self.retry_at_ms = now_ms;
    }

    /// Handles a response to the request `correlation_id`.
    pub fn handle_message(&mut self, now_ms: u64, _from: NodeId, correlation_id: u64, message: Message) {
        let request_id = correlation_id;
        match message {
            Message::MetadataResponse(MetadataResponse { image }) => {
                self.metadata.handle_response(now_ms, request_id, image);
            }
            Message::FindCoordinatorResponse(FindCoordinatorResponse { error, coordinator })
                if self.take_pending(request_id).is_some() =>
            {
                match coordinator.filter(|_| error.is_ok()) {
                    Some(coordinator) => {
                        self.coordinator = Some(coordinator);
                        self.coordinator_seen_ms = now_ms;
                        self.rejoin(now_ms);
                    }
                    None => self.retry_at_ms = now_ms + 200,
                }
            }
            Message::GroupResponse(response) => self.handle_group_response(now_ms, request_id, response),
            Message::FetchResponse(response) => {
                let mut accepted = false;
                for partition in response.partitions {
                    accepted |= self.handle_fetched(now_ms, request_id, partition);
                }
                if !accepted {
                    return;
                }
            }
            _ => {}
        }
        self.handle_timeout(now_ms);
    }

    /// One partition of a fetch response (the answer to request `request_id`); false when it
    /// answers nothing this member waits for.
    fn handle_fetched(&mut self, now_ms: u64, request_id: u64, response: FetchPartitionResponse) -> bool {
        let FetchPartitionResponse { tp, error, high_watermark, log_start_offset, batches, .. } = response;
        let Some(position) = self.positions.get_mut(&tp) else { return false };
        if !position.accept(request_id, now_ms) {
            return false;
        }
        match error {
            ErrorCode::None => position.take_records(&tp, &batches, high_watermark, &mut self.events),
            ErrorCode::OffsetOutOfRange => {
                let from_offset = position.position;
                let to_offset = match self.config.auto_offset_reset {
                    OffsetReset::Earliest => log_start_offset.max(0),
                    OffsetReset::Latest => high_watermark.max(0),
                    OffsetReset::None => {
                        // Surfaced, and the partition is not consumed (Kafka throws
                        // NoOffsetForPartitionException / OffsetOutOfRangeException).
                        self.positions.remove(&tp);
                        self.events.push_back(ConsumerEvent::OutOfRange { tp, offset: from_offset });
                        return true;
                    }
                };
                position.position = to_offset;
                self.events.push_back(ConsumerEvent::PositionReset { tp, from_offset, to_offset });
            }
            _ => {
                position.next_fetch_ms = now_ms + 100;
                self.metadata.stale = true;
            }
        }
        true
    }

    fn take_pending(&mut self, request_id: u64) -> Option<Pending> {
        match self.pending {
            Some((kind, id, _)) if id == request_id => {
                self.pending = None;
                Some(kind)
            }
            _ => None,
        }
    }

    fn handle_group_error(&mut self, now_ms: u64, error: ErrorCode) {
        match error {
            ErrorCode::NotCoordinator
            | ErrorCode::CoordinatorNotAvailable
            | ErrorCode::CoordinatorLoadInProgress
            | ErrorCode::RequestTimedOut => {
                self.rediscover(now_ms);
            }
            ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration => {
                if error == ErrorCode::UnknownMemberId {
                    self.member_id.clear();
                }
                self.generation_id = -1;
                self.rejoin(now_ms);
            }
            ErrorCode::RebalanceInProgress => {
                if self.phase == Phase::Stable {
                    self.phase = Phase::CommitThenJoin;
                    self.retry_at_ms = now_ms;
                } else {
                    self.rejoin(now_ms);
                }
            }
            _ => {
                self.phase = Phase::Join;
                self.retry_at_ms = now_ms + 500;
            }
        }
    }

    fn handle_group_response(&mut self, now_ms: u64, request_id: u64, response: GroupResponse) {
        self.coordinator_seen_ms = now_ms;
        match response {
            GroupResponse::Join(JoinGroupResponse {
                error,
                generation_id,
                protocol_name,
                leader,
                member_id,
                members,
            }) => {
                if self.take_pending(request_id) != Some(Pending::Join) {
                    return;
                }
                match error {
                    ErrorCode::MemberIdRequired => {
                        self.member_id = member_id;
                        self.rejoin(now_ms);
                    }
                    ErrorCode::None => {
                        self.member_id = member_id;
                        self.generation_id = generation_id;
                        let assignments = if leader == self.member_id {
                            self.compute_assignment(&protocol_name, &members)
                        } else {
                            Vec::new()
                        };
                        let request = GroupRequest::Sync(SyncGroup {
                            group_id: self.config.group_id.clone(),
                            generation_id,
                            member_id: self.member_id.clone(),
                            assignments,
                        });
                        self.send_coordinator(Pending::Sync, now_ms, request);
                    }
                    error => self.handle_group_error(now_ms, error),
                }
            }
            GroupResponse::Sync(SyncGroupResponse { error, assignment }) => {
                if self.take_pending(request_id) != Some(Pending::Sync) {
                    return;
                }
                if !error.is_ok() {
                    self.handle_group_error(now_ms, error);
                    return;
                }
                let new: Vec<TopicPartition> = decode_partitions(&String::from_utf8_lossy(&assignment));
                let revoked: Vec<TopicPartition> =
                    self.assignment.iter().filter(|tp| !new.contains(tp)).cloned().collect();
                for tp in &revoked {
                    self.positions.remove(tp);
                }
                if self.config.assignor != Assignor::CooperativeSticky {
                    // Eager protocols start every generation from committed offsets.
                    self.positions.clear();
                }
                self.assignment = new.clone();
                self.events.push_back(ConsumerEvent::Assigned {
                    group_id: self.config.group_id.clone(),
                    generation_id: self.generation_id,
                    partitions: new,
                });
                // KIP-429: after revoking, join again so the revoked partitions can move.
                self.rejoin_after_sync = self.config.assignor == Assignor::CooperativeSticky && !revoked.is_empty();
                self.phase = Phase::FetchOffsets;
                self.retry_at_ms = now_ms;
            }
            GroupResponse::Offsets(OffsetFetchResponse { error, offsets }) => {
                if self.take_pending(request_id) != Some(Pending::OffsetFetch) {
                    return;
                }
                if !error.is_ok() {
                    self.handle_group_error(now_ms, error);
                    return;
                }
                for tp in self.assignment.clone() {
                    let committed = offsets.iter().find(|(t, _)| *t == tp).map_or(-1, |(_, o)| *o);
                    self.positions.entry(tp).or_insert(PartitionPosition {
                        // Without a committed offset, fetch at -1: the leader answers
                        // OFFSET_OUT_OF_RANGE with its log start and HW, and auto.offset.reset
                        // picks one.
                        position: committed,
                        in_flight: None,
                        next_fetch_ms: now_ms,
                    });
                }
                self.phase = Phase::Stable;
                self.next_heartbeat_ms = now_ms + self.config.heartbeat_interval_ms;
                self.next_commit_ms = now_ms + self.config.auto_commit_interval_ms;
                if self.rejoin_after_sync {
                    self.rejoin_after_sync = false;
                    self.rejoin(now_ms);
                }
            }
            GroupResponse::ConsumerHeartbeat(response) => {
                if self.take_pending(request_id) == Some(Pending::ConsumerHeartbeat) {
                    self.handle_consumer_heartbeat(now_ms, response);
                }
            }
            // A consumer never deletes offsets (an admin client does).
            GroupResponse::OffsetDelete(_) => {}
            GroupResponse::Ack(GroupAck { error }) => match self.take_pending(request_id) {
                Some(Pending::Heartbeat) => {
                    if !error.is_ok() {
                        self.handle_group_error(now_ms, error);
                    }
                }
                Some(Pending::Commit) => {
                    if error.is_ok() {
                        self.report_commit();
                    } else if self.phase == Phase::Stable {
                        self.handle_group_error(now_ms, error);
                    }
                    if self.phase == Phase::CommitThenJoin {
                        self.rejoin(now_ms);
                    }
                }
                Some(Pending::Leave) | Some(_) | None => {}
            },
        }
    }

    fn report_commit(&mut self) {
        for (tp, position) in &self.positions {
            self.events.push_back(ConsumerEvent::Committed {
                group_id: self.config.group_id.clone(),
                tp: tp.clone(),
                offset: position.position,
            });
        }
    }

    fn compute_assignment(&self, protocol_name: &str, members: &[(String, Bytes)]) -> Vec<(String, Bytes)> {
        let assignor = Assignor::from_name(protocol_name).unwrap_or(self.config.assignor);
        let subscriptions: Vec<MemberSubscription> =
            members.iter().map(|(member_id, bytes)| decode_subscription(member_id, bytes)).collect();
        let mut partitions = VecMap::new();
        for subscription in &subscriptions {
            for topic in &subscription.topics {
                if let Some(metadata) = self.metadata.image.topics.get(topic.as_str()) {
                    partitions.insert(topic.clone(), i32::try_from(metadata.partitions.len()).unwrap_or(0));
                }
            }
        }
        assignor
            .assign(&partitions, &subscriptions)
            .into_iter()
            .map(|(member_id, assigned)| (member_id, Bytes::from(encode_partitions(&assigned))))
            .collect()
    }

    fn commit(&mut self, now_ms: u64) {
        let offsets: Vec<(TopicPartition, i64)> =
            self.positions.iter().map(|(tp, p)| (tp.clone(), p.position)).collect();
        let request = GroupRequest::OffsetCommit(OffsetCommit {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation_id,
            member_id: self.member_id.clone(),
            offsets,
        });
        self.send_coordinator(Pending::Commit, now_ms, request);
    }

    /// Sends what is due: coordinator requests by phase, heartbeats, commits, fetches.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        if self.phase == Phase::Left {
            return;
        }
        let request_id = self.next_request_id;
        if self.metadata.poll(now_ms, request_id, self.config.request_timeout_ms, &mut self.outbox) {
            self.next_request_id += 1;
        }
        let silent = self.coordinator.is_some()
            && now_ms > self.coordinator_seen_ms.saturating_add(self.config.session_timeout_ms);
        if silent && self.pending.is_some() {
            self.pending = None;
            self.rediscover(now_ms);
        }
        if let Some((_, _, sent_ms)) = self.pending {
            if now_ms < sent_ms + self.config.request_timeout_ms {
                self.fetch(now_ms);
                return;
            }
            self.pending = None;
            self.rediscover(now_ms);
        }
        match self.phase {
            Phase::FindCoordinator if now_ms >= self.retry_at_ms => {
                // Like the Java client's least-loaded node, skip brokers known to be down: the
                // unfenced ones, when the metadata has any.
                let image = &self.metadata.image;
                let mut brokers: Vec<BrokerId> =
                    image.brokers.iter().filter(|(_, broker)| !broker.fenced).map(|(id, _)| *id).collect();
                if brokers.is_empty() {
                    brokers = image.brokers.keys().copied().collect();
                }
                if brokers.is_empty() {
                    self.metadata.stale = true;
                    return;
                }
                let broker = brokers[self.next_broker % brokers.len()];
                self.next_broker += 1;
                let request_id = self.request_id();
                self.pending = Some((Pending::Find, request_id, now_ms));
                let message = Message::FindCoordinator(FindCoordinator { group_id: self.config.group_id.clone() });
                self.outbox.push_back(Outgoing { to: NodeId::Broker(broker), correlation_id: request_id, message });
            }
            Phase::Join if now_ms >= self.retry_at_ms && self.is_consumer_protocol() => {
                self.send_consumer_heartbeat(now_ms);
            }
            Phase::Join if now_ms >= self.retry_at_ms => {
                // Join only with metadata for every subscribed topic, so a leader can assign them.
                let known =
                    self.config.topics.iter().all(|topic| self.metadata.image.topics.contains_key(topic.as_str()));
                if !known {
                    self.metadata.stale = true;
                    self.retry_at_ms = now_ms + 100;
                    return;
                }
                let subscription = encode_subscription(&self.config.topics, &self.assignment);
                let request = GroupRequest::Join(JoinGroup {
                    group_id: self.config.group_id.clone(),
                    member_id: self.member_id.clone(),
                    session_timeout_ms: self.config.session_timeout_ms,
                    rebalance_timeout_ms: self.config.rebalance_timeout_ms,
                    protocol_type: "consumer".into(),
                    protocols: vec![(self.config.assignor.name().to_owned(), subscription)],
                });
                self.send_coordinator(Pending::Join, now_ms, request);
            }
            Phase::FetchOffsets if now_ms >= self.retry_at_ms => {
                let request = GroupRequest::OffsetFetch(OffsetFetch {
                    group_id: self.config.group_id.clone(),
                    partitions: self.assignment.clone(),
                });
                self.send_coordinator(Pending::OffsetFetch, now_ms, request);
            }
            Phase::CommitThenJoin => {
                if self.positions.is_empty() {
                    self.rejoin(now_ms);
                    self.handle_timeout(now_ms);
                } else {
                    self.commit(now_ms);
                }
            }
            Phase::Stable => {
                if now_ms >= self.next_commit_ms {
                    self.next_commit_ms = now_ms + self.config.auto_commit_interval_ms;
                    if !self.positions.is_empty() {
                        self.commit(now_ms);
                    }
                } else if now_ms >= self.next_heartbeat_ms && self.is_consumer_protocol() {
                    self.next_heartbeat_ms = now_ms + self.config.heartbeat_interval_ms;
                    self.send_consumer_heartbeat(now_ms);
                } else if now_ms >= self.next_heartbeat_ms {
                    self.next_heartbeat_ms = now_ms + self.config.heartbeat_interval_ms;
                    let request = GroupRequest::Heartbeat(Heartbeat {
                        group_id: self.config.group_id.clone(),
                        generation_id: self.generation_id,
                        member_id: self.member_id.clone(),
                    });
                    self.send_coordinator(Pending::Heartbeat, now_ms, request);
                }
            }
            _ => {}
        }
        self.fetch(now_ms);
    }

    fn fetch(&mut self, now_ms: u64) {
        if self.phase != Phase::Stable {
            return;
        }
        // Kafka consumer defaults: fetch.max.wait.ms 500.
        let timing = FetchTiming { request_timeout_ms: self.config.request_timeout_ms, max_wait_ms: 500 };
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
