//! KIP-848 consumer groups (`group.protocol=consumer`): the coordinator assigns, members
//! reconcile incrementally. Beside the classic protocol of [`super::coordinator`], which stops
//! every member for each rebalance, here nobody stops:
//!
//! - Every change the group must react to (a member joins, leaves or changes its subscription,
//!   a subscribed topic gains partitions) bumps the **group epoch**; the coordinator then
//!   computes a **target assignment** at that epoch with a server-side assignor (`uniform`,
//!   Kafka's default, or `range`).
//! - Each member moves towards its target on its own heartbeats (Kafka's
//!   `CurrentAssignmentBuilder`): first it is asked to **revoke** what the target takes away,
//!   keeping its epoch (`UNREVOKED_PARTITIONS`); once its heartbeat no longer reports those
//!   partitions it gets the **member epoch** of the target and the new partitions that nobody
//!   else still holds; partitions still held by another member follow later
//!   (`UNRELEASED_PARTITIONS`). A partition is never owned by two members at once.
//! - A member whose heartbeat carries a stale epoch is fenced (`FENCED_MEMBER_EPOCH`) and
//!   rejoins with epoch 0; one silent for the session timeout, or that does not revoke within
//!   its rebalance timeout, is removed.

use crate::collections::{VecMap, VecSet};
use crate::error::ErrorCode;
use crate::protocol::{ConsumerGroupHeartbeat as Heartbeat, TopicPartition};

/// `group.consumer.heartbeat.interval.ms` (Kafka's default).
pub const HEARTBEAT_INTERVAL_MS: u64 = 5_000;
/// `group.consumer.session.timeout.ms` (Kafka's default).
pub const SESSION_TIMEOUT_MS: u64 = 45_000;
/// The server-side assignors (`group.consumer.assignors`), the default first.
pub const ASSIGNORS: [&str; 2] = ["uniform", "range"];

/// Where a member stands towards its target (Kafka's `MemberState`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum MemberState {
    /// At its target.
    Stable,
    /// Asked to revoke partitions; waits for its heartbeat to stop reporting them.
    UnrevokedPartitions,
    /// At its target epoch, waiting for partitions other members still hold.
    UnreleasedPartitions,
}

/// One member.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ConsumerMember {
    /// Its id (the client's, KIP-1082).
    pub member_id: String,
    /// Its epoch.
    pub member_epoch: i32,
    /// The epoch before the last bump (a heartbeat whose answer was lost may carry it).
    pub previous_member_epoch: i32,
    /// Where it stands.
    pub state: MemberState,
    /// Subscribed topics.
    pub subscribed: Vec<String>,
    /// Its preferred assignor.
    pub server_assignor: Option<String>,
    /// Partitions it owns at its epoch.
    pub assigned: VecSet<TopicPartition>,
    /// Partitions it must give up.
    pub pending_revocation: VecSet<TopicPartition>,
    /// `max.poll.interval.ms`: how long it has to revoke.
    pub rebalance_timeout_ms: u64,
    /// Last heartbeat.
    pub last_heartbeat_ms: u64,
    /// When it was asked to revoke.
    pub revoking_since_ms: Option<u64>,
    /// Its client's `client.id` and host.
    pub client: (String, String),
    /// The (epoch, assignment) last sent, so an unchanged assignment is not sent again.
    last_sent: Option<(i32, VecSet<TopicPartition>)>,
}

/// The group's state as `kafka-consumer-groups --describe` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ConsumerGroupState {
    /// No members.
    Empty,
    /// Some member is not at the target yet.
    Reconciling,
    /// Every member is at the target.
    Stable,
}

impl ConsumerGroupState {
    /// Kafka's name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ConsumerGroupState::Empty => "Empty",
            ConsumerGroupState::Reconciling => "Reconciling",
            ConsumerGroupState::Stable => "Stable",
        }
    }
}

/// The answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeartbeatAnswer {
    /// The member's epoch now.
    pub member_epoch: i32,
    /// Its assignment, when it changed.
    pub assignment: Option<Vec<TopicPartition>>,
}

/// One KIP-848 group. See the module doc.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct ConsumerGroup {
    /// Bumped by every change the assignment must follow.
    pub group_epoch: i32,
    /// The epoch of `target`.
    pub assignment_epoch: i32,
    /// Members by id.
    pub members: VecMap<String, ConsumerMember>,
    /// Each member's target partitions.
    pub target: VecMap<String, VecSet<TopicPartition>>,
    /// Partition counts of the subscribed topics the target was computed from.
    subscribed_partitions: VecMap<String, i32>,
}

impl ConsumerGroup {
    /// An empty group whose epochs start at `floor` (a coordinator taking over: membership is
    /// not persisted, so epochs keep growing across coordinators).
    #[must_use]
    pub fn starting_at(floor: i32) -> ConsumerGroup {
        ConsumerGroup { group_epoch: floor, assignment_epoch: floor, ..ConsumerGroup::default() }
    }

    /// The state.
    #[must_use]
    pub fn state(&self) -> ConsumerGroupState {
        if self.members.is_empty() {
            ConsumerGroupState::Empty
        } else if self
            .members
            .values()
            .all(|m| m.member_epoch == self.assignment_epoch && m.state == MemberState::Stable)
        {
            ConsumerGroupState::Stable
        } else {
            ConsumerGroupState::Reconciling
        }
    }

    /// The assignor the group uses: the first member's (by id) that names one, else `uniform`.
    #[must_use]
    pub fn assignor(&self) -> &str {
        self.members.values().find_map(|m| m.server_assignor.as_deref()).unwrap_or(ASSIGNORS[0])
    }

    /// Handles a heartbeat at `now_ms`; an error leaves the group unchanged.
    pub fn heartbeat(&mut self, now_ms: u64, heartbeat: &Heartbeat) -> Result<HeartbeatAnswer, ErrorCode> {
        if heartbeat.member_id.is_empty() {
            return Err(ErrorCode::InvalidRequest);
        }
        if let Some(assignor) = &heartbeat.server_assignor {
            if !ASSIGNORS.contains(&assignor.as_str()) {
                return Err(ErrorCode::UnsupportedAssignor);
            }
        }
        if heartbeat.member_epoch < 0 {
            self.remove(&heartbeat.member_id);
            return Ok(HeartbeatAnswer { member_epoch: heartbeat.member_epoch, assignment: None });
        }
        // Every change below moves the group epoch once.
        let mut changed = false;
        if heartbeat.member_epoch == 0 {
            if heartbeat.subscribed.is_none() {
                return Err(ErrorCode::InvalidRequest);
            }
            // A new member, or one rejoining after it was fenced: it holds nothing now.
            let old = self.members.remove(&heartbeat.member_id);
            changed |= old.is_none();
            self.members.insert(
                heartbeat.member_id.clone(),
                ConsumerMember {
                    member_id: heartbeat.member_id.clone(),
                    member_epoch: 0,
                    previous_member_epoch: -1,
                    state: MemberState::Stable,
                    subscribed: old.as_ref().map(|m| m.subscribed.clone()).unwrap_or_default(),
                    server_assignor: old.and_then(|m| m.server_assignor),
                    assigned: VecSet::new(),
                    pending_revocation: VecSet::new(),
                    rebalance_timeout_ms: 300_000,
                    last_heartbeat_ms: now_ms,
                    revoking_since_ms: None,
                    client: heartbeat.client.clone(),
                    last_sent: None,
                },
            );
        } else {
            let member = self.members.get(&heartbeat.member_id).ok_or(ErrorCode::UnknownMemberId)?;
            let lost_answer = heartbeat.member_epoch == member.previous_member_epoch
                && heartbeat.owned.as_ref().is_some_and(|owned| owned.iter().all(|tp| member.assigned.contains(tp)));
            if heartbeat.member_epoch != member.member_epoch && !lost_answer {
                return Err(ErrorCode::FencedMemberEpoch);
            }
        }
        let member = self.members.get_mut(&heartbeat.member_id).expect("present");
        member.last_heartbeat_ms = now_ms;
        member.client.clone_from(&heartbeat.client);
        if heartbeat.rebalance_timeout_ms >= 0 {
            member.rebalance_timeout_ms = u64::try_from(heartbeat.rebalance_timeout_ms).unwrap_or(0);
        }
        if heartbeat.server_assignor.is_some() && member.server_assignor != heartbeat.server_assignor {
            member.server_assignor = heartbeat.server_assignor.clone();
            changed = true;
        }
        if let Some(mut subscribed) = heartbeat.subscribed.clone() {
            subscribed.sort();
            subscribed.dedup();
            if subscribed != member.subscribed {
                member.subscribed = subscribed;
                changed = true;
            }
        }
        // A subscribed topic created, deleted or grown since the target was computed.
        let partitions = self.subscribed_partitions_in(&heartbeat.partitions);
        if partitions != self.subscribed_partitions {
            self.subscribed_partitions = partitions;
            changed = true;
        }
        if changed {
            self.group_epoch += 1;
        }
        if self.group_epoch > self.assignment_epoch {
            self.compute_target();
        }
        let full = heartbeat.member_epoch == 0 || heartbeat.owned.is_some() && heartbeat.subscribed.is_some();
        self.reconcile(&heartbeat.member_id, heartbeat.owned.as_deref(), now_ms);
        self.assert_invariants();
        let member = self.members.get_mut(&heartbeat.member_id).expect("present");
        let now = (member.member_epoch, member.assigned.clone());
        let assignment = if full || member.last_sent.as_ref() != Some(&now) {
            member.last_sent = Some(now);
            Some(member.assigned.iter().cloned().collect())
        } else {
            None
        };
        Ok(HeartbeatAnswer { member_epoch: member.member_epoch, assignment })
    }

    /// Checks an OffsetCommit's member and epoch (Kafka's `ConsumerGroup.validateOffsetCommit`).
    #[must_use]
    pub fn validate_commit(&self, member_id: &str, member_epoch: i32) -> ErrorCode {
        if member_id.is_empty() && member_epoch < 0 {
            // A commit from outside the group (an admin tool): only into an empty group.
            return if self.members.is_empty() { ErrorCode::None } else { ErrorCode::UnknownMemberId };
        }
        match self.members.get(member_id) {
            None => ErrorCode::UnknownMemberId,
            Some(member) if member_epoch > member.member_epoch => ErrorCode::FencedMemberEpoch,
            Some(member) if member_epoch < member.member_epoch => ErrorCode::StaleMemberEpoch,
            Some(_) => ErrorCode::None,
        }
    }

    /// Removes members silent for the session timeout, or that did not revoke within their
    /// rebalance timeout; the ids removed.
    pub fn expire(&mut self, now_ms: u64) -> Vec<String> {
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| {
                now_ms > m.last_heartbeat_ms.saturating_add(SESSION_TIMEOUT_MS)
                    || m.revoking_since_ms.is_some_and(|since| now_ms > since.saturating_add(m.rebalance_timeout_ms))
            })
            .map(|m| m.member_id.clone())
            .collect();
        for id in &expired {
            self.remove(id);
        }
        expired
    }

    /// When [`ConsumerGroup::expire`] next has something to do.
    #[must_use]
    pub fn next_deadline_ms(&self) -> Option<u64> {
        self.members
            .values()
            .flat_map(|m| {
                let session = m.last_heartbeat_ms.saturating_add(SESSION_TIMEOUT_MS) + 1;
                let revocation = m.revoking_since_ms.map(|since| since.saturating_add(m.rebalance_timeout_ms) + 1);
                std::iter::once(session).chain(revocation)
            })
            .min()
    }

    fn remove(&mut self, member_id: &str) {
        if self.members.remove(member_id).is_some() {
            self.target.remove(member_id);
            self.group_epoch += 1;
        }
    }

    fn subscribed_partitions_in(&self, partitions: &VecMap<String, i32>) -> VecMap<String, i32> {
        let mut subscribed = VecMap::new();
        for member in self.members.values() {
            for topic in &member.subscribed {
                if let Some(count) = partitions.get(topic) {
                    subscribed.insert(topic.clone(), *count);
                }
            }
        }
        subscribed
    }

    /// The target assignment at the group epoch, from the assignor.
    fn compute_target(&mut self) {
        let subscriptions: VecMap<String, Vec<String>> =
            self.members.values().map(|m| (m.member_id.clone(), m.subscribed.clone())).collect();
        self.target = match self.assignor() {
            "range" => range(&subscriptions, &self.subscribed_partitions),
            _ => uniform(&subscriptions, &self.subscribed_partitions, &self.target),
        };
        self.assignment_epoch = self.group_epoch;
    }

    /// Who holds `tp` (assigned or still revoking), other than `except`.
    fn holder(&self, tp: &TopicPartition, except: &str) -> Option<&str> {
        self.members
            .values()
            .find(|m| m.member_id != except && (m.assigned.contains(tp) || m.pending_revocation.contains(tp)))
            .map(|m| m.member_id.as_str())
    }

    /// Moves `member_id` towards its target (Kafka's `CurrentAssignmentBuilder`).
    fn reconcile(&mut self, member_id: &str, owned: Option<&[TopicPartition]>, now_ms: u64) {
        let member = &self.members[member_id];
        let still_owns =
            |revoking: &VecSet<TopicPartition>| owned.is_none_or(|owned| owned.iter().any(|tp| revoking.contains(tp)));
        if member.state == MemberState::UnrevokedPartitions && still_owns(&member.pending_revocation) {
            return;
        }
        if member.state == MemberState::Stable && member.member_epoch == self.assignment_epoch {
            return;
        }
        let target = self.target.get(member_id).cloned().unwrap_or_default();
        let mut keep = VecSet::new();
        let mut revoke = VecSet::new();
        for tp in &member.assigned {
            if target.contains(tp) {
                keep.insert(tp.clone());
            } else {
                revoke.insert(tp.clone());
            }
        }
        if !revoke.is_empty() && still_owns(&revoke) {
            let member = self.members.get_mut(member_id).expect("present");
            member.assigned = keep;
            member.pending_revocation = revoke;
            member.state = MemberState::UnrevokedPartitions;
            member.revoking_since_ms.get_or_insert(now_ms);
            return;
        }
        let mut unreleased = false;
        let mut assigned = keep;
        for tp in &target {
            if assigned.contains(tp) {
                continue;
            }
            if self.holder(tp, member_id).is_some() {
                unreleased = true;
            } else {
                assigned.insert(tp.clone());
            }
        }
        let epoch = self.assignment_epoch;
        let member = self.members.get_mut(member_id).expect("present");
        if member.member_epoch != epoch {
            member.previous_member_epoch = member.member_epoch;
            member.member_epoch = epoch;
        }
        member.assigned = assigned;
        member.pending_revocation = VecSet::new();
        member.revoking_since_ms = None;
        member.state = if unreleased { MemberState::UnreleasedPartitions } else { MemberState::Stable };
    }

    /// A partition is held by at most one member; the target gives each partition once.
    fn assert_invariants(&self) {
        let mut held: VecSet<&TopicPartition> = VecSet::new();
        for member in self.members.values() {
            for tp in member.assigned.iter().chain(&member.pending_revocation) {
                assert!(held.insert(tp), "{tp} is held by two members of a consumer group");
            }
        }
        let mut targeted: VecSet<&TopicPartition> = VecSet::new();
        for partitions in self.target.values() {
            for tp in partitions {
                assert!(targeted.insert(tp), "{tp} is in two members' targets");
            }
        }
    }
}

fn all_partitions(topics: &[String], partitions: &VecMap<String, i32>) -> Vec<TopicPartition> {
    let mut all = Vec::new();
    for topic in topics {
        for partition in 0..partitions.get(topic).copied().unwrap_or(0) {
            all.push(TopicPartition::new(topic, partition));
        }
    }
    all.sort();
    all
}

/// Kafka's `uniform` assignor: balanced (counts differ by at most one between members with the
/// same subscription) and sticky (a member keeps what it had while that stays balanced).
fn uniform(
    subscriptions: &VecMap<String, Vec<String>>,
    partitions: &VecMap<String, i32>,
    previous: &VecMap<String, VecSet<TopicPartition>>,
) -> VecMap<String, VecSet<TopicPartition>> {
    let mut target: VecMap<String, VecSet<TopicPartition>> =
        subscriptions.keys().map(|id| (id.clone(), VecSet::new())).collect();
    let topics: VecSet<&String> = subscriptions.values().flatten().collect();
    let topics: Vec<String> = topics.iter().map(|t| (*t).clone()).collect();
    let all = all_partitions(&topics, partitions);
    let eligible =
        |id: &str, tp: &TopicPartition| subscriptions.get(id).is_some_and(|s| s.iter().any(|t| *t == *tp.topic));
    // Each member's fair share of the partitions it may take.
    let share = |id: &str| -> usize {
        let mine = all.iter().filter(|tp| eligible(id, tp)).count();
        let sharing =
            subscriptions.keys().filter(|other| *other == id || subscriptions[*other] == subscriptions[id]).count();
        mine.div_ceil(sharing.max(1))
    };
    let mut taken: VecSet<TopicPartition> = VecSet::new();
    for (id, had) in previous {
        if !target.contains_key(id) {
            continue;
        }
        let cap = share(id);
        for tp in had {
            if target[id].len() < cap && eligible(id, tp) && all.contains(tp) && taken.insert(tp.clone()) {
                target.get_mut(id).expect("present").insert(tp.clone());
            }
        }
    }
    for tp in all.iter().filter(|tp| !taken.contains(*tp)) {
        let least = target
            .iter()
            .filter(|(id, _)| eligible(id, tp))
            .min_by_key(|(id, assigned)| (assigned.len(), (*id).clone()))
            .map(|(id, _)| id.clone());
        if let Some(id) = least {
            target.get_mut(&id).expect("present").insert(tp.clone());
        }
    }
    // Stickiness may leave one member two above another: move the excess.
    loop {
        let (most, least) = (
            target.iter().max_by_key(|(id, a)| (a.len(), std::cmp::Reverse((*id).clone()))),
            target.iter().min_by_key(|(id, a)| (a.len(), (*id).clone())),
        );
        let (Some((most, from)), Some((least, to))) = (most, least) else { break };
        if from.len() <= to.len() + 1 || subscriptions[most] != subscriptions[least] {
            break;
        }
        let (most, least) = (most.clone(), least.clone());
        let moved = target[&most].iter().next_back().cloned().expect("non-empty");
        target.get_mut(&most).expect("present").remove(&moved);
        target.get_mut(&least).expect("present").insert(moved);
    }
    target
}

/// Kafka's `range` assignor: per topic, its subscribers in id order each get a contiguous range,
/// the first ones one more when the count does not divide.
fn range(
    subscriptions: &VecMap<String, Vec<String>>,
    partitions: &VecMap<String, i32>,
) -> VecMap<String, VecSet<TopicPartition>> {
    let mut target: VecMap<String, VecSet<TopicPartition>> =
        subscriptions.keys().map(|id| (id.clone(), VecSet::new())).collect();
    for (topic, count) in partitions {
        let members: Vec<&String> = subscriptions.iter().filter(|(_, s)| s.contains(topic)).map(|(id, _)| id).collect();
        if members.is_empty() {
            continue;
        }
        let n = i32::try_from(members.len()).unwrap_or(i32::MAX);
        let (base, extra) = (count / n, count % n);
        let mut next = 0;
        for (index, id) in members.into_iter().enumerate() {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let take = base + i32::from(index < extra);
            for partition in next..next + take {
                target.get_mut(id).expect("present").insert(TopicPartition::new(topic, partition));
            }
            next += take;
        }
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partitions(topic: &str, count: i32) -> VecMap<String, i32> {
        VecMap::from_iter([(topic.to_owned(), count)])
    }

    fn join(member: &str, topic: &str, count: i32) -> Heartbeat {
        Heartbeat {
            group_id: "g".to_owned(),
            member_id: member.to_owned(),
            member_epoch: 0,
            rebalance_timeout_ms: 300_000,
            subscribed: Some(vec![topic.to_owned()]),
            server_assignor: None,
            owned: Some(Vec::new()),
            partitions: partitions(topic, count),
            client: Default::default(),
        }
    }

    fn beat(member: &str, epoch: i32, owned: &[TopicPartition], count: i32) -> Heartbeat {
        Heartbeat {
            group_id: "g".to_owned(),
            member_id: member.to_owned(),
            member_epoch: epoch,
            rebalance_timeout_ms: -1,
            subscribed: None,
            server_assignor: None,
            owned: Some(owned.to_vec()),
            partitions: partitions("orders", count),
            client: Default::default(),
        }
    }

    #[test]
    fn a_second_member_gets_partitions_only_after_the_first_revokes_them() {
        let mut group = ConsumerGroup::default();
        let a = group.heartbeat(0, &join("a", "orders", 4)).unwrap();
        assert_eq!(a.member_epoch, 1);
        let a_owned = a.assignment.unwrap();
        assert_eq!(a_owned.len(), 4);
        // b joins: the group epoch moves to 2; b gets nothing yet (a still holds it all).
        let b = group.heartbeat(10, &join("b", "orders", 4)).unwrap();
        assert_eq!((b.member_epoch, b.assignment.as_deref()), (2, Some(&[][..])));
        assert_eq!(group.state(), ConsumerGroupState::Reconciling);
        // a is asked to revoke two partitions and keeps its epoch.
        let a = group.heartbeat(20, &beat("a", 1, &a_owned, 4)).unwrap();
        let kept = a.assignment.unwrap();
        assert_eq!((a.member_epoch, kept.len()), (1, 2));
        assert_eq!(group.members["a"].state, MemberState::UnrevokedPartitions);
        // Still reporting them: nothing moves.
        assert_eq!(group.heartbeat(30, &beat("a", 1, &a_owned, 4)).unwrap().member_epoch, 1);
        assert!(group.heartbeat(30, &beat("b", 2, &[], 4)).unwrap().assignment.is_none());
        // a revoked: it reaches epoch 2, and b then gets the two freed partitions.
        assert_eq!(group.heartbeat(40, &beat("a", 1, &kept, 4)).unwrap().member_epoch, 2);
        let b = group.heartbeat(50, &beat("b", 2, &[], 4)).unwrap();
        let b_owned = b.assignment.unwrap();
        assert_eq!(b_owned.len(), 2);
        assert!(b_owned.iter().all(|tp| !kept.contains(tp)));
        assert_eq!(group.state(), ConsumerGroupState::Stable);
        // A stale epoch is fenced; commits check the epoch too.
        assert_eq!(group.heartbeat(60, &beat("b", 7, &b_owned, 4)), Err(ErrorCode::FencedMemberEpoch));
        assert_eq!(group.validate_commit("b", 2), ErrorCode::None);
        assert_eq!(group.validate_commit("b", 1), ErrorCode::StaleMemberEpoch);
        assert_eq!(group.validate_commit("x", 2), ErrorCode::UnknownMemberId);
    }

    #[test]
    fn a_silent_member_is_removed_and_its_partitions_go_to_the_others() {
        let mut group = ConsumerGroup::default();
        let a = group.heartbeat(0, &join("a", "orders", 2)).unwrap().assignment.unwrap();
        group.heartbeat(0, &join("b", "orders", 2)).unwrap();
        let kept = group.heartbeat(1, &beat("a", 1, &a, 2)).unwrap().assignment.unwrap();
        group.heartbeat(2, &beat("a", 1, &kept, 2)).unwrap();
        group.heartbeat(3, &beat("b", 2, &[], 2)).unwrap();
        assert_eq!(group.members["b"].assigned.len(), 1);
        // a keeps heartbeating, b goes silent.
        group.heartbeat(SESSION_TIMEOUT_MS, &beat("a", 2, &kept, 2)).unwrap();
        assert_eq!(group.expire(SESSION_TIMEOUT_MS + 10), ["b"]);
        let a = group.heartbeat(SESSION_TIMEOUT_MS + 20, &beat("a", 2, &kept, 2)).unwrap();
        assert_eq!((a.member_epoch, a.assignment.map(|p| p.len())), (group.group_epoch, Some(2)));
    }

    #[test]
    fn assignors_balance_and_range_is_contiguous() {
        let subscriptions: VecMap<String, Vec<String>> =
            ["a", "b", "c"].iter().map(|id| ((*id).to_owned(), vec!["t".to_owned()])).collect();
        let counts = partitions("t", 7);
        let target = uniform(&subscriptions, &counts, &VecMap::new());
        let sizes: Vec<usize> = target.values().map(VecSet::len).collect();
        assert_eq!(sizes, [3, 2, 2]);
        // Sticky: after c leaves, a and b keep what they had.
        let two: VecMap<String, Vec<String>> =
            subscriptions.iter().take(2).map(|(k, v)| (k.clone(), v.clone())).collect();
        let next = uniform(&two, &counts, &target);
        assert!(target["a"].iter().all(|tp| next["a"].contains(tp)));
        assert_eq!(next["a"].len() + next["b"].len(), 7);
        let ranged = range(&subscriptions, &counts);
        let firsts: Vec<Vec<i32>> = ranged.values().map(|s| s.iter().map(|tp| tp.partition).collect()).collect();
        assert_eq!(firsts, [vec![0, 1, 2], vec![3, 4], vec![5, 6]]);
    }
}
