//! The group coordinator (Kafka's classic `GroupCoordinator`): membership, generations,
//! rebalances and committed offsets for the groups it owns.
//!
//! States: `Empty → PreparingRebalance → CompletingRebalance → Stable` (and `Dead` when the
//! group is deleted). JoinGroup answers wait until every known member has rejoined (or its
//! `rebalance.timeout.ms` passed); the first join of an empty group waits
//! `group.initial.rebalance.delay.ms` for others. SyncGroup answers wait for the leader's
//! assignment. Heartbeats during a rebalance answer `REBALANCE_IN_PROGRESS`; a stale generation
//! gets `ILLEGAL_GENERATION`; an unknown member `UNKNOWN_MEMBER_ID`. A member silent for its
//! `session.timeout.ms` is removed, which starts a rebalance. New members get an id first
//! (KIP-394 `MEMBER_ID_REQUIRED`).
//!
//! Committed offsets are records in `__consumer_offsets` (written by the broker hosting the
//! coordinator, applied here once durable, and loaded back when a broker starts leading the
//! partition); a deleted group leaves tombstones there. Membership is not persisted.

use crate::collections::{VecMap, VecSet};
use std::collections::VecDeque;

use super::consumer::ConsumerGroup;

mod modern;

use bytes::Bytes;
use serde::Serialize;

use crate::error::ErrorCode;
use crate::protocol::{
    DeleteGroup, GroupAck, GroupRequest, GroupResponse, Heartbeat, JoinGroup, JoinGroupResponse, LeaveGroup, NodeId,
    OffsetCommit, OffsetDelete, OffsetDeleteResponse, OffsetFetch, OffsetFetchResponse, ReplyTo, SyncGroup,
    SyncGroupResponse, TopicPartition,
};

/// Most members one group may have by default (`group.max.size` caps it further).
pub const GROUP_MEMBERS_MAX: usize = 10_000;

/// Coordinator settings (Kafka broker config names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.min.session.timeout.ms`.
    pub min_session_timeout_ms: u64,
    /// `group.max.session.timeout.ms`.
    pub max_session_timeout_ms: u64,
    /// `group.initial.rebalance.delay.ms`.
    pub initial_rebalance_delay_ms: u64,
    /// `group.max.size`.
    pub max_size: usize,
}

impl Default for GroupConfig {
    fn default() -> GroupConfig {
        GroupConfig {
            min_session_timeout_ms: 6_000,
            max_session_timeout_ms: 1_800_000,
            initial_rebalance_delay_ms: 3_000,
            max_size: GROUP_MEMBERS_MAX,
        }
    }
}

/// A group's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum GroupState {
    /// No members.
    Empty,
    /// Waiting for members to (re)join.
    PreparingRebalance,
    /// Waiting for the leader's assignment.
    CompletingRebalance,
    /// Everyone has an assignment.
    Stable,
    /// Deleted.
    Dead,
}

/// Kafka's coordinator partition for a group: `Utils.abs(groupId.hashCode()) % partitions`,
/// with Java's `String.hashCode` over UTF-16 code units.
#[must_use]
pub fn coordinator_partition(group_id: &str, partitions: i32) -> i32 {
    assert!(partitions > 0, "__consumer_offsets has partitions");
    let hash = group_id.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)));
    // Kafka's Utils.abs maps Integer.MIN_VALUE to 0.
    let positive = if hash == i32::MIN { 0 } else { hash.abs() };
    positive % partitions
}

/// The internal topic holding committed offsets.
pub const OFFSETS_TOPIC: &str = "__consumer_offsets";

/// A committed offset as a `__consumer_offsets` record: key `group NUL topic NUL partition`,
/// value the offset in decimal (Rill's own encoding; Kafka's is a versioned binary schema).
#[must_use]
pub fn offset_record(group_id: &str, tp: &TopicPartition, offset: i64) -> (String, String) {
    (format!("{group_id}\0{}\0{}", tp.topic, tp.partition), offset.to_string())
}

/// The group and partition of an [`offset_record`] key (a tombstone has only the key).
#[must_use]
pub fn parse_offset_key(key: &[u8]) -> Option<(String, TopicPartition)> {
    let key = std::str::from_utf8(key).ok()?;
    let mut parts = key.split('\0');
    let group = parts.next()?.to_owned();
    let topic = parts.next()?;
    let partition = parts.next()?.parse().ok()?;
    Some((group, TopicPartition::new(topic, partition)))
}

/// Parses an [`offset_record`] back.
#[must_use]
pub fn parse_offset_record(key: &[u8], value: &[u8]) -> Option<(String, TopicPartition, i64)> {
    let (group, tp) = parse_offset_key(key)?;
    let offset = std::str::from_utf8(value).ok()?.parse().ok()?;
    Some((group, tp, offset))
}

#[derive(Clone, Debug)]
struct Member {
    session_timeout_ms: u64,
    rebalance_timeout_ms: u64,
    protocols: Vec<(String, Bytes)>,
    last_heartbeat_ms: u64,
    join_waiting: Option<ReplyTo>,
    sync_waiting: Option<ReplyTo>,
    assignment: Bytes,
}

#[derive(Clone, Debug)]
struct Group {
    state: GroupState,
    generation_id: i32,
    protocol_type: String,
    protocol_name: String,
    leader: String,
    members: VecMap<String, Member>,
    rebalance_deadline_ms: u64,
    /// The join phase started from Empty: wait the initial delay even if all have joined.
    initial_delay: bool,
    offsets: VecMap<TopicPartition, i64>,
}

impl Group {
    fn new(generation_floor: i32) -> Group {
        Group {
            state: GroupState::Empty,
            generation_id: generation_floor,
            protocol_type: String::new(),
            protocol_name: String::new(),
            leader: String::new(),
            members: VecMap::new(),
            rebalance_deadline_ms: 0,
            initial_delay: false,
            offsets: VecMap::new(),
        }
    }
}

/// What DescribeGroups shows of a member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MemberDescription {
    /// Member id.
    pub member_id: String,
    /// Its assignment bytes' length (the content is the client's format).
    pub assignment_bytes: usize,
    /// When its session expires unless it heartbeats (virtual ms; a member waiting in a join
    /// is governed by the rebalance deadline instead).
    pub session_expires_ms: u64,
}

/// What DescribeGroups shows of a group.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GroupDescription {
    /// Group id.
    pub group_id: String,
    /// State.
    pub state: GroupState,
    /// Generation.
    pub generation_id: i32,
    /// Chosen assignor.
    pub protocol_name: String,
    /// Leader member.
    pub leader: String,
    /// Members.
    pub members: Vec<MemberDescription>,
}

/// The coordinator for the groups of one `__consumer_offsets` partition leader.
#[derive(Debug)]
pub struct GroupCoordinator {
    config: GroupConfig,
    groups: VecMap<String, Group>,
    /// KIP-848 groups' membership (their offsets live in `groups`, like a classic group's).
    consumer_groups: VecMap<String, ConsumerGroup>,
    outbox: VecDeque<(ReplyTo, GroupResponse)>,
    next_member: u64,
    owner: String,
    generation_floor: i32,
}

impl GroupCoordinator {
    /// A coordinator; `owner` prefixes the member ids it hands out (like Kafka's client id).
    #[must_use]
    pub fn new(config: GroupConfig, owner: &str) -> GroupCoordinator {
        GroupCoordinator {
            config,
            groups: VecMap::new(),
            consumer_groups: VecMap::new(),
            outbox: VecDeque::new(),
            next_member: 1,
            owner: owner.to_owned(),
            generation_floor: 0,
        }
    }

    /// Groups this coordinator creates start their generations above `floor`. Rill does not
    /// persist group membership (only offsets), so a coordinator that takes over after a
    /// failover passes a floor derived from its leader epoch: generation ids keep growing
    /// across coordinators, as Kafka's persisted generations do.
    #[must_use]
    pub fn with_generation_floor(mut self, floor: i32) -> GroupCoordinator {
        self.generation_floor = floor.max(0);
        self
    }

    /// Next response to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<(ReplyTo, GroupResponse)> {
        self.outbox.pop_front()
    }

    /// When a session, rebalance or initial-delay timer is next due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.groups
            .values()
            .flat_map(|group| {
                let sessions =
                    group.members.values().map(|m| m.last_heartbeat_ms.saturating_add(m.session_timeout_ms) + 1);
                let rebalance = (group.state == GroupState::PreparingRebalance).then_some(group.rebalance_deadline_ms);
                sessions.chain(rebalance)
            })
            .chain(self.consumer_groups.values().filter_map(ConsumerGroup::next_deadline_ms))
            .min()
    }

    /// Group ids, in order (ListGroups).
    #[must_use]
    pub fn list_groups(&self) -> Vec<(String, GroupState)> {
        self.groups
            .iter()
            .filter(|(id, _)| !self.consumer_groups.contains_key(*id))
            .map(|(id, group)| (id.clone(), group.state))
            .collect()
    }

    /// DescribeGroups for one group.
    #[must_use]
    pub fn describe(&self, group_id: &str) -> Option<GroupDescription> {
        if self.consumer_groups.contains_key(group_id) {
            return None;
        }
        let group = self.groups.get(group_id)?;
        Some(GroupDescription {
            group_id: group_id.to_owned(),
            state: group.state,
            generation_id: group.generation_id,
            protocol_name: group.protocol_name.clone(),
            leader: group.leader.clone(),
            members: group
                .members
                .iter()
                .map(|(id, member)| MemberDescription {
                    member_id: id.clone(),
                    assignment_bytes: member.assignment.len(),
                    session_expires_ms: member.last_heartbeat_ms.saturating_add(member.session_timeout_ms),
                })
                .collect(),
        })
    }

    /// A group's committed offsets.
    #[must_use]
    pub fn committed(&self, group_id: &str) -> VecMap<TopicPartition, i64> {
        self.groups.get(group_id).map(|group| group.offsets.clone()).unwrap_or_default()
    }

    /// Checks a DeleteGroups for one group (Kafka's `GroupCoordinator.deleteGroups`): an
    /// unknown or deleted group is `GROUP_ID_NOT_FOUND`, one with members `NON_EMPTY_GROUP`.
    #[must_use]
    pub fn validate_delete(&self, group_id: &str) -> ErrorCode {
        if group_id.is_empty() {
            return ErrorCode::InvalidGroupId;
        }
        if self.consumer_groups.get(group_id).is_some_and(|g| !g.members.is_empty()) {
            return ErrorCode::NonEmptyGroup;
        }
        match self.groups.get(group_id) {
            None => ErrorCode::GroupIdNotFound,
            Some(group) if group.state == GroupState::Dead => ErrorCode::GroupIdNotFound,
            Some(group) if !group.members.is_empty() => ErrorCode::NonEmptyGroup,
            Some(_) => ErrorCode::None,
        }
    }

    /// Marks a validated group `Dead` while its tombstones are written (Kafka transitions it
    /// before the write): joins are refused meanwhile.
    pub fn begin_delete(&mut self, group_id: &str) {
        debug_assert!(self.validate_delete(group_id).is_ok(), "deleting a group that cannot be deleted");
        if let Some(group) = self.groups.get_mut(group_id) {
            group.state = GroupState::Dead;
        }
    }

    /// The tombstones could not be written: the group is `Empty` again, offsets intact.
    pub fn abort_delete(&mut self, group_id: &str) {
        if let Some(group) = self.groups.get_mut(group_id) {
            debug_assert_eq!(group.state, GroupState::Dead);
            group.state = GroupState::Empty;
        }
    }

    /// Forgets a group and its committed offsets (after [`GroupCoordinator::validate_delete`],
    /// once the tombstones are durable).
    pub fn apply_delete(&mut self, group_id: &str) {
        self.consumer_groups.remove(group_id);
        let removed = self.groups.remove(group_id);
        debug_assert!(removed.is_none_or(|group| group.members.is_empty()), "only an empty group is deleted");
    }

    /// The topics the group's members subscribe to (from their consumer-protocol metadata for
    /// the group's protocol); empty for a group with no members.
    fn subscribed_topics(group: &Group) -> VecSet<String> {
        group
            .members
            .values()
            .filter_map(|member| member.protocols.iter().find(|(name, _)| *name == group.protocol_name))
            .filter_map(|(_, metadata)| super::subscription::decode(metadata))
            .flat_map(|subscription| subscription.topics)
            .collect()
    }

    /// Checks an OffsetDelete (Kafka's `validateOffsetDelete` and `deleteOffsets`): an unknown or
    /// deleted group is `GROUP_ID_NOT_FOUND`; a group with members that is not a consumer group
    /// is `NON_EMPTY_GROUP`; then each partition of a topic the members subscribe to is
    /// `GROUP_SUBSCRIBED_TO_TOPIC`, the others `NONE`. Returns the group's error and, when it is
    /// `NONE`, each partition's.
    #[must_use]
    pub fn validate_offset_delete(
        &self,
        group_id: &str,
        partitions: &[TopicPartition],
    ) -> (ErrorCode, Vec<(TopicPartition, ErrorCode)>) {
        if group_id.is_empty() {
            return (ErrorCode::InvalidGroupId, Vec::new());
        }
        let group = match self.groups.get(group_id) {
            None => return (ErrorCode::GroupIdNotFound, Vec::new()),
            Some(group) if group.state == GroupState::Dead => return (ErrorCode::GroupIdNotFound, Vec::new()),
            Some(group) => group,
        };
        if !group.members.is_empty() && group.protocol_type != "consumer" {
            return (ErrorCode::NonEmptyGroup, Vec::new());
        }
        let subscribed = Self::subscribed_topics(group);
        let outcomes = partitions
            .iter()
            .map(|tp| {
                let error =
                    if subscribed.contains(&*tp.topic) { ErrorCode::GroupSubscribedToTopic } else { ErrorCode::None };
                (tp.clone(), error)
            })
            .collect();
        (ErrorCode::None, outcomes)
    }

    /// Forgets one committed offset (a tombstone loaded from `__consumer_offsets`); a group
    /// left with neither members nor offsets is gone.
    pub fn forget_offset(&mut self, group_id: &str, tp: &TopicPartition) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        group.offsets.remove(tp);
        if group.offsets.is_empty() && group.members.is_empty() {
            self.groups.remove(group_id);
        }
    }

    /// Answers the request `correlation_id` from `to`.
    fn reply(&mut self, asker: ReplyTo, response: GroupResponse) {
        self.outbox.push_back((asker, response));
    }

    /// Handles one request; its answer goes to `from` with `correlation_id`.
    pub fn handle_request(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, request: GroupRequest) {
        let asker = ReplyTo { node: from, correlation_id };
        match request {
            GroupRequest::Join(join) => self.join(now_ms, asker, join),
            GroupRequest::Sync(sync) => self.sync(asker, sync),
            GroupRequest::Heartbeat(Heartbeat { group_id, generation_id, member_id }) => {
                let error = self.heartbeat(now_ms, &group_id, generation_id, &member_id);
                self.reply(asker, GroupResponse::Ack(GroupAck { error }));
            }
            GroupRequest::Leave(LeaveGroup { group_id, member_id }) => {
                let error = match self.groups.get(&group_id) {
                    Some(group) if group.members.contains_key(&member_id) => {
                        self.remove_member(now_ms, &group_id, &member_id);
                        ErrorCode::None
                    }
                    _ => ErrorCode::UnknownMemberId,
                };
                self.reply(asker, GroupResponse::Ack(GroupAck { error }));
            }
            GroupRequest::OffsetCommit(OffsetCommit { group_id, generation_id, member_id, offsets }) => {
                let error = self.commit(&group_id, generation_id, &member_id, offsets);
                self.reply(asker, GroupResponse::Ack(GroupAck { error }));
            }
            GroupRequest::Delete(DeleteGroup { group_id }) => {
                let error = self.validate_delete(&group_id);
                if error.is_ok() {
                    self.apply_delete(&group_id);
                }
                self.reply(asker, GroupResponse::Ack(GroupAck { error }));
            }
            GroupRequest::OffsetDelete(OffsetDelete { group_id, partitions }) => {
                // (A broker writes the tombstones first; this path only answers.)
                let (error, partitions) = self.validate_offset_delete(&group_id, &partitions);
                for (tp, outcome) in &partitions {
                    if error.is_ok() && outcome.is_ok() {
                        self.forget_offset(&group_id, tp);
                    }
                }
                self.reply(asker, GroupResponse::OffsetDelete(OffsetDeleteResponse { error, partitions }));
            }
            GroupRequest::ConsumerHeartbeat(heartbeat) => self.consumer_heartbeat(now_ms, asker, *heartbeat),
            GroupRequest::OffsetFetch(OffsetFetch { group_id, partitions }) => {
                let committed = self.committed(&group_id);
                let offsets = if partitions.is_empty() {
                    committed.into_iter().collect()
                } else {
                    partitions
                        .into_iter()
                        .map(|tp| {
                            let offset = committed.get(&tp).copied().unwrap_or(-1);
                            (tp, offset)
                        })
                        .collect()
                };
                self.reply(asker, GroupResponse::Offsets(OffsetFetchResponse { error: ErrorCode::None, offsets }));
            }
        }
    }

    fn join(&mut self, now_ms: u64, from: ReplyTo, join: JoinGroup) {
        let group_id = join.group_id.clone();
        let group_id = group_id.as_str();
        let reject = |error: ErrorCode| JoinGroupResponse::refused(&join.member_id, error);
        if group_id.is_empty() {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::InvalidGroupId)));
            return;
        }
        if join.session_timeout_ms < self.config.min_session_timeout_ms
            || join.session_timeout_ms > self.config.max_session_timeout_ms
        {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::InvalidSessionTimeout)));
            return;
        }
        if join.protocols.is_empty() || self.consumer_groups.get(group_id).is_some_and(|g| !g.members.is_empty()) {
            // (A classic member cannot join a live KIP-848 group.)
            self.reply(from, GroupResponse::Join(reject(ErrorCode::InconsistentGroupProtocol)));
            return;
        }
        let floor = self.generation_floor;
        let group = self.groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(floor));
        if group.state == GroupState::Dead {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::CoordinatorNotAvailable)));
            return;
        }
        if !group.protocol_type.is_empty() && group.protocol_type != join.protocol_type && !group.members.is_empty() {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::InconsistentGroupProtocol)));
            return;
        }
        // Every member must share at least one protocol with the group.
        let shares_protocol = group
            .members
            .values()
            .all(|member| member.protocols.iter().any(|(name, _)| join.protocols.iter().any(|(mine, _)| mine == name)));
        if !shares_protocol {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::InconsistentGroupProtocol)));
            return;
        }
        if join.member_id.is_empty() {
            // KIP-394: hand out an id; the member joins again with it.
            if group.members.len() >= self.config.max_size.min(GROUP_MEMBERS_MAX) {
                self.reply(from, GroupResponse::Join(reject(ErrorCode::GroupMaxSizeReached)));
                return;
            }
            let member_id = format!("{}-{}", self.owner, self.next_member);
            self.next_member += 1;
            let mut response = reject(ErrorCode::MemberIdRequired);
            response.member_id.clone_from(&member_id);
            self.reply(from, GroupResponse::Join(response));
            return;
        }
        let is_new = !group.members.contains_key(&join.member_id);
        if is_new && group.members.len() >= self.config.max_size.min(GROUP_MEMBERS_MAX) {
            self.reply(from, GroupResponse::Join(reject(ErrorCode::GroupMaxSizeReached)));
            return;
        }
        group.protocol_type.clone_from(&join.protocol_type);
        let member = group.members.entry(join.member_id.clone()).or_insert_with(|| Member {
            session_timeout_ms: join.session_timeout_ms,
            rebalance_timeout_ms: join.rebalance_timeout_ms,
            protocols: Vec::new(),
            last_heartbeat_ms: now_ms,
            join_waiting: None,
            sync_waiting: None,
            assignment: Bytes::new(),
        });
        member.session_timeout_ms = join.session_timeout_ms;
        member.rebalance_timeout_ms = join.rebalance_timeout_ms;
        member.last_heartbeat_ms = now_ms;
        let changed = member.protocols != join.protocols;
        member.protocols = join.protocols;
        member.join_waiting = Some(from);
        match group.state {
            GroupState::Empty => {
                group.state = GroupState::PreparingRebalance;
                // The first member waits for others to arrive (group.initial.rebalance.delay.ms).
                group.rebalance_deadline_ms = now_ms + self.config.initial_rebalance_delay_ms;
                group.initial_delay = true;
            }
            GroupState::PreparingRebalance => {}
            GroupState::CompletingRebalance | GroupState::Stable => {
                if is_new || changed || group.leader == join.member_id || group.state == GroupState::CompletingRebalance
                {
                    self.prepare_rebalance(now_ms, group_id);
                } else {
                    // A known member rejoining with nothing new in a stable group: answer at once.
                    let response = self.join_response(group_id, &join.member_id);
                    if let Some(group) = self.groups.get_mut(group_id) {
                        if let Some(member) = group.members.get_mut(&join.member_id) {
                            member.join_waiting = None;
                        }
                    }
                    self.reply(from, response);
                    return;
                }
            }
            GroupState::Dead => unreachable!("checked above"),
        }
        self.maybe_complete_join(now_ms, group_id);
    }

    fn prepare_rebalance(&mut self, now_ms: u64, group_id: &str) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.state == GroupState::CompletingRebalance {
            // Members waiting for SyncGroup learn the rebalance restarted.
            let waiting: Vec<ReplyTo> = group.members.values_mut().filter_map(|m| m.sync_waiting.take()).collect();
            for asker in waiting {
                let response = SyncGroupResponse { error: ErrorCode::RebalanceInProgress, assignment: Bytes::new() };
                self.reply(asker, GroupResponse::Sync(response));
            }
        }
        let Some(group) = self.groups.get_mut(group_id) else { return };
        let timeout_ms = group.members.values().map(|m| m.rebalance_timeout_ms).max().unwrap_or(0);
        group.state = GroupState::PreparingRebalance;
        group.rebalance_deadline_ms = now_ms + timeout_ms;
    }

    /// Completes the join phase once every member has rejoined (and any initial delay passed).
    fn maybe_complete_join(&mut self, now_ms: u64, group_id: &str) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.state != GroupState::PreparingRebalance {
            return;
        }
        let all_joined = group.members.values().all(|m| m.join_waiting.is_some());
        let deadline_passed = now_ms >= group.rebalance_deadline_ms;
        let ready = all_joined && !group.initial_delay;
        if !deadline_passed && !ready {
            return;
        }
        group.initial_delay = false;
        // Members that did not rejoin in time are out.
        group.members.retain(|_, m| m.join_waiting.is_some());
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.generation_id += 1;
            group.leader.clear();
            return;
        }
        group.generation_id += 1;
        group.state = GroupState::CompletingRebalance;
        group.protocol_name = choose_protocol(&group.members);
        if !group.members.contains_key(&group.leader) {
            group.leader = group.members.keys().next().cloned().unwrap_or_default();
        }
        for member in group.members.values_mut() {
            member.assignment = Bytes::new();
            member.last_heartbeat_ms = now_ms;
        }
        let member_ids: Vec<String> = group.members.keys().cloned().collect();
        for member_id in member_ids {
            let response = self.join_response(group_id, &member_id);
            let group = self.groups.get_mut(group_id).expect("present");
            let asker = group.members.get_mut(&member_id).and_then(|m| m.join_waiting.take()).expect("all joined");
            self.reply(asker, response);
        }
    }

    fn join_response(&self, group_id: &str, member_id: &str) -> GroupResponse {
        let group = &self.groups[group_id];
        let members = if group.leader == member_id {
            group
                .members
                .iter()
                .map(|(id, m)| {
                    let metadata =
                        m.protocols.iter().find(|(name, _)| *name == group.protocol_name).map(|(_, b)| b.clone());
                    (id.clone(), metadata.unwrap_or_default())
                })
                .collect()
        } else {
            Vec::new()
        };
        GroupResponse::Join(JoinGroupResponse {
            error: ErrorCode::None,
            generation_id: group.generation_id,
            protocol_name: group.protocol_name.clone(),
            leader: group.leader.clone(),
            member_id: member_id.to_owned(),
            members,
        })
    }

    fn sync(&mut self, from: ReplyTo, sync: SyncGroup) {
        let SyncGroup { group_id, generation_id, member_id, assignments } = sync;
        let (group_id, member_id) = (group_id.as_str(), member_id.as_str());
        let error = match self.groups.get(group_id) {
            None => Some(ErrorCode::UnknownMemberId),
            Some(group) if !group.members.contains_key(member_id) => Some(ErrorCode::UnknownMemberId),
            Some(group) if group.generation_id != generation_id => Some(ErrorCode::IllegalGeneration),
            Some(group) if group.state == GroupState::PreparingRebalance => Some(ErrorCode::RebalanceInProgress),
            Some(_) => None,
        };
        if let Some(error) = error {
            self.reply(from, GroupResponse::Sync(SyncGroupResponse { error, assignment: Bytes::new() }));
            return;
        }
        let group = self.groups.get_mut(group_id).expect("checked");
        if group.state == GroupState::Stable {
            let assignment = group.members[member_id].assignment.clone();
            self.reply(from, GroupResponse::Sync(SyncGroupResponse { error: ErrorCode::None, assignment }));
            return;
        }
        group.members.get_mut(member_id).expect("checked").sync_waiting = Some(from);
        if group.leader == member_id {
            for (target, assignment) in assignments {
                if let Some(member) = group.members.get_mut(&target) {
                    member.assignment = assignment;
                }
            }
            group.state = GroupState::Stable;
        }
        if group.state == GroupState::Stable {
            let waiting: Vec<(ReplyTo, Bytes)> = group
                .members
                .values_mut()
                .filter_map(|m| m.sync_waiting.take().map(|asker| (asker, m.assignment.clone())))
                .collect();
            for (asker, assignment) in waiting {
                self.reply(asker, GroupResponse::Sync(SyncGroupResponse { error: ErrorCode::None, assignment }));
            }
        }
    }

    fn heartbeat(&mut self, now_ms: u64, group_id: &str, generation_id: i32, member_id: &str) -> ErrorCode {
        let Some(group) = self.groups.get_mut(group_id) else { return ErrorCode::UnknownMemberId };
        let Some(member) = group.members.get_mut(member_id) else { return ErrorCode::UnknownMemberId };
        member.last_heartbeat_ms = now_ms;
        if group.generation_id != generation_id {
            return ErrorCode::IllegalGeneration;
        }
        match group.state {
            GroupState::PreparingRebalance | GroupState::CompletingRebalance => ErrorCode::RebalanceInProgress,
            _ => ErrorCode::None,
        }
    }

    fn commit(
        &mut self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        offsets: Vec<(TopicPartition, i64)>,
    ) -> ErrorCode {
        let error = self.validate_commit(group_id, generation_id, member_id, &offsets);
        if error.is_ok() {
            self.apply_commit(group_id, offsets);
        }
        error
    }

    /// Checks an OffsetCommit without storing it (a broker first makes the commit durable in
    /// `__consumer_offsets`, then calls [`GroupCoordinator::apply_commit`]).
    #[must_use]
    pub fn validate_commit(
        &self,
        group_id: &str,
        generation_id: i32,
        member_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> ErrorCode {
        if let Some(group) = self.consumer_groups.get(group_id) {
            // A KIP-848 group: the generation is the member's epoch.
            let error = group.validate_commit(member_id, generation_id);
            if !error.is_ok() || offsets.iter().all(|(_, offset)| *offset >= 0) {
                return error;
            }
            return ErrorCode::InvalidCommitOffsetSize;
        }
        let empty = Group::new(self.generation_floor);
        let group = self.groups.get(group_id).unwrap_or(&empty);
        if generation_id >= 0 || !member_id.is_empty() {
            if !group.members.contains_key(member_id) {
                return ErrorCode::UnknownMemberId;
            }
            if group.generation_id != generation_id {
                return ErrorCode::IllegalGeneration;
            }
            // Kafka accepts commits of the current generation while it prepares a rebalance (a
            // consumer commits before rejoining), not while the new assignment is computed.
            if group.state == GroupState::CompletingRebalance {
                return ErrorCode::RebalanceInProgress;
            }
        } else if !group.members.is_empty() {
            // A standalone commit into a live group would race its members.
            return ErrorCode::UnknownMemberId;
        }
        if offsets.iter().any(|(_, offset)| *offset < 0) {
            return ErrorCode::InvalidCommitOffsetSize;
        }
        ErrorCode::None
    }

    /// Stores committed offsets (after validation, or when loading `__consumer_offsets`).
    pub fn apply_commit(&mut self, group_id: &str, offsets: Vec<(TopicPartition, i64)>) {
        let floor = self.generation_floor;
        let group = self.groups.entry(group_id.to_owned()).or_insert_with(|| Group::new(floor));
        group.offsets.extend(offsets);
    }

    fn remove_member(&mut self, now_ms: u64, group_id: &str, member_id: &str) {
        let Some(group) = self.groups.get_mut(group_id) else { return };
        if group.members.remove(member_id).is_none() {
            return;
        }
        if group.members.is_empty() {
            group.state = GroupState::Empty;
            group.generation_id += 1;
            group.leader.clear();
            return;
        }
        match group.state {
            GroupState::Stable | GroupState::CompletingRebalance => self.prepare_rebalance(now_ms, group_id),
            _ => {}
        }
        self.maybe_complete_join(now_ms, group_id);
    }

    /// Expires sessions and rebalance deadlines.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.expire_consumer_groups(now_ms);
        let expired: Vec<(String, String)> = self
            .groups
            .iter()
            .flat_map(|(group_id, group)| {
                group
                    .members
                    .iter()
                    // A member waiting in a join is alive; the rebalance deadline governs it.
                    .filter(move |(_, m)| {
                        m.join_waiting.is_none() && now_ms > m.last_heartbeat_ms.saturating_add(m.session_timeout_ms)
                    })
                    .map(move |(member_id, _)| (group_id.clone(), member_id.clone()))
            })
            .collect();
        for (group_id, member_id) in expired {
            self.remove_member(now_ms, &group_id, &member_id);
        }
        let preparing: Vec<String> = self
            .groups
            .iter()
            .filter(|(_, g)| g.state == GroupState::PreparingRebalance && now_ms >= g.rebalance_deadline_ms)
            .map(|(id, _)| id.clone())
            .collect();
        for group_id in preparing {
            self.maybe_complete_join(now_ms, &group_id);
        }
    }
}

/// Kafka's protocol selection: the protocol every member supports with the most votes, each
/// member voting for its most preferred supported one.
fn choose_protocol(members: &VecMap<String, Member>) -> String {
    let mut candidates: Vec<&String> = Vec::new();
    if let Some(first) = members.values().next() {
        for (name, _) in &first.protocols {
            if members.values().all(|m| m.protocols.iter().any(|(n, _)| n == name)) {
                candidates.push(name);
            }
        }
    }
    let mut votes: VecMap<&String, usize> = VecMap::new();
    for member in members.values() {
        if let Some((name, _)) = member.protocols.iter().find(|(n, _)| candidates.contains(&n)) {
            *votes.entry(name).or_default() += 1;
        }
    }
    votes
        .into_iter()
        .max_by_key(|(name, count)| (*count, std::cmp::Reverse((*name).clone())))
        .map(|(n, _)| n.clone())
        .unwrap_or_default()
}
