//! Partition assignors, computed by the group's leader member as in Kafka's classic protocol.
//!
//! - [`Assignor::Range`]: Kafka's `RangeAssignor` — per topic, consecutive ranges in member-id
//!   order, the first `partitions % members` members getting one extra.
//! - [`Assignor::RoundRobin`]: Kafka's `RoundRobinAssignor` — all partitions in (topic,
//!   partition) order dealt round-robin over member ids, skipping members not subscribed.
//! - [`Assignor::CooperativeSticky`]: balanced like round-robin, but every member keeps as much
//!   of what it owned as balance allows, and (KIP-429) a partition moving between two live
//!   members is first only *revoked*: nobody gets it in this generation, the follow-up rebalance
//!   hands it to its new owner. Rill's version is a greedy rendition of Kafka's
//!   `AbstractStickyAssignor` with the same guarantees (balance within one partition when
//!   subscriptions are equal, no partition owned twice, maximal stickiness for equal
//!   subscriptions); it is not bit-for-bit Kafka's choice of *which* partitions move.

use crate::collections::{self, VecMap, VecSet};

use crate::protocol::TopicPartition;

/// A member's input to the assignor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSubscription {
    /// Member id.
    pub member_id: String,
    /// Subscribed topics.
    pub topics: VecSet<String>,
    /// Partitions it owned in the previous generation (cooperative-sticky).
    pub owned: Vec<TopicPartition>,
}

/// Which strategy the group uses (`partition.assignment.strategy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Assignor {
    /// `range`.
    Range,
    /// `roundrobin`.
    RoundRobin,
    /// `cooperative-sticky`.
    CooperativeSticky,
}

impl Assignor {
    /// Kafka's protocol name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Assignor::Range => "range",
            Assignor::RoundRobin => "roundrobin",
            Assignor::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// From Kafka's protocol name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Assignor> {
        match name {
            "range" => Some(Assignor::Range),
            "roundrobin" => Some(Assignor::RoundRobin),
            "cooperative-sticky" => Some(Assignor::CooperativeSticky),
            _ => None,
        }
    }

    /// Assigns `partitions` (topic → partition count) to `members`. Every member appears in the
    /// result (possibly with nothing); partition lists are sorted.
    #[must_use]
    pub fn assign(
        self,
        partitions: &VecMap<String, i32>,
        members: &[MemberSubscription],
    ) -> VecMap<String, Vec<TopicPartition>> {
        let mut result: VecMap<String, Vec<TopicPartition>> =
            members.iter().map(|member| (member.member_id.clone(), Vec::new())).collect();
        match self {
            Assignor::Range => range(partitions, members, &mut result),
            Assignor::RoundRobin => round_robin(partitions, members, &mut result),
            Assignor::CooperativeSticky => cooperative_sticky(partitions, members, &mut result),
        }
        for assigned in result.values_mut() {
            collections::sort(assigned);
        }
        debug_assert!(no_partition_twice(&result));
        result
    }
}

fn no_partition_twice(result: &VecMap<String, Vec<TopicPartition>>) -> bool {
    let mut seen = VecSet::new();
    result.values().flatten().all(|tp| seen.insert(tp.clone()))
}

fn sorted_members(members: &[MemberSubscription]) -> Vec<&MemberSubscription> {
    let mut sorted: Vec<&MemberSubscription> = members.iter().collect();
    collections::sort_by(&mut sorted, |a, b| a.member_id.cmp(&b.member_id));
    sorted
}

fn all_partitions(partitions: &VecMap<String, i32>, members: &[MemberSubscription]) -> Vec<TopicPartition> {
    partitions
        .iter()
        .filter(|(topic, _)| members.iter().any(|member| member.topics.contains(*topic)))
        .flat_map(|(topic, count)| (0..*count).map(move |partition| TopicPartition::new(topic, partition)))
        .collect()
}

fn range(
    partitions: &VecMap<String, i32>,
    members: &[MemberSubscription],
    result: &mut VecMap<String, Vec<TopicPartition>>,
) {
    for (topic, count) in partitions {
        let subscribed: Vec<&MemberSubscription> =
            sorted_members(members).into_iter().filter(|member| member.topics.contains(topic)).collect();
        if subscribed.is_empty() {
            continue;
        }
        let consumers = i32::try_from(subscribed.len()).unwrap_or(i32::MAX);
        let per_consumer = count / consumers;
        let extra = count % consumers;
        for (index, member) in subscribed.iter().enumerate() {
            let index = i32::try_from(index).unwrap_or(i32::MAX);
            let start = per_consumer * index + index.min(extra);
            let length = per_consumer + i32::from(index < extra);
            let assigned = result.get_mut(&member.member_id).expect("every member has an entry");
            assigned.extend((start..start + length).map(|partition| TopicPartition::new(topic, partition)));
        }
    }
}

fn round_robin(
    partitions: &VecMap<String, i32>,
    members: &[MemberSubscription],
    result: &mut VecMap<String, Vec<TopicPartition>>,
) {
    let sorted = sorted_members(members);
    if sorted.is_empty() {
        return;
    }
    let mut next = 0usize;
    for tp in all_partitions(partitions, members) {
        // The next member in circular order that subscribes to the topic.
        for _ in 0..sorted.len() {
            let member = sorted[next % sorted.len()];
            next += 1;
            if member.topics.contains(tp.topic.as_ref()) {
                result.get_mut(&member.member_id).expect("every member has an entry").push(tp);
                break;
            }
        }
    }
}

fn cooperative_sticky(
    partitions: &VecMap<String, i32>,
    members: &[MemberSubscription],
    result: &mut VecMap<String, Vec<TopicPartition>>,
) {
    let sorted = sorted_members(members);
    if sorted.is_empty() {
        return;
    }
    let all = all_partitions(partitions, members);
    let total = all.len();
    let count = sorted.len();
    // Quotas: everybody gets `minimum`, the first `extra` members to reach it one more.
    let minimum = total / count;
    let mut extra = total % count;
    let existing: VecSet<&TopicPartition> = all.iter().collect();
    let mut taken: VecSet<TopicPartition> = VecSet::new();
    let mut previous_owner: VecMap<TopicPartition, String> = VecMap::new();
    // 1. Keep owned partitions (still existing, subscribed, not claimed twice) up to quota.
    let mut by_owned: Vec<&MemberSubscription> = sorted.clone();
    collections::sort_by(&mut by_owned, |a, b| b.owned.len().cmp(&a.owned.len()).then(a.member_id.cmp(&b.member_id)));
    for member in &by_owned {
        let mut owned: Vec<&TopicPartition> = member
            .owned
            .iter()
            .filter(|tp| existing.contains(tp) && member.topics.contains(tp.topic.as_ref()))
            .collect();
        collections::sort(&mut owned);
        owned.dedup();
        for tp in &owned {
            previous_owner.entry((*tp).clone()).or_insert_with(|| member.member_id.clone());
        }
        let quota = if owned.len() > minimum && extra > 0 {
            extra -= 1;
            minimum + 1
        } else {
            minimum
        };
        let assigned = result.get_mut(&member.member_id).expect("every member has an entry");
        for tp in owned.into_iter().take(quota) {
            if taken.insert(tp.clone()) {
                assigned.push(tp.clone());
            }
        }
    }
    // 2. Deal the rest to whoever has least (and is subscribed), in member-id order.
    for tp in all.iter().filter(|tp| !taken.contains(*tp)) {
        let target = sorted
            .iter()
            .filter(|member| member.topics.contains(tp.topic.as_ref()))
            .min_by_key(|member| (result[&member.member_id].len(), member.member_id.clone()));
        if let Some(member) = target {
            result.get_mut(&member.member_id).expect("every member has an entry").push(tp.clone());
        }
    }
    // 3. KIP-429: a partition changing hands between live members is revoked first.
    let live: VecSet<&str> = sorted.iter().map(|member| member.member_id.as_str()).collect();
    for (member_id, assigned) in result.iter_mut() {
        assigned.retain(
            |tp| !matches!(previous_owner.get(tp), Some(owner) if owner != member_id && live.contains(owner.as_str())),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
            owned: Vec::new(),
        }
    }

    fn names(assigned: &[TopicPartition]) -> Vec<String> {
        assigned.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn range_matches_kafka() {
        // Kafka's RangeAssignor javadoc: C0, C1 on t0, t1 with 3 partitions each.
        let partitions: VecMap<String, i32> = [("t0".into(), 3), ("t1".into(), 3)].into();
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let result = Assignor::Range.assign(&partitions, &members);
        assert_eq!(names(&result["C0"]), ["t0-0", "t0-1", "t1-0", "t1-1"]);
        assert_eq!(names(&result["C1"]), ["t0-2", "t1-2"]);
    }

    #[test]
    fn round_robin_matches_kafka() {
        // Kafka's RoundRobinAssignor javadoc: the same input gives
        // C0: [t0p0, t0p2, t1p1], C1: [t0p1, t1p0, t1p2].
        let partitions: VecMap<String, i32> = [("t0".into(), 3), ("t1".into(), 3)].into();
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let result = Assignor::RoundRobin.assign(&partitions, &members);
        assert_eq!(names(&result["C0"]), ["t0-0", "t0-2", "t1-1"]);
        assert_eq!(names(&result["C1"]), ["t0-1", "t1-0", "t1-2"]);
    }
}
