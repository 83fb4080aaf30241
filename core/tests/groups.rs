//! Consumer groups: assignors as Kafka computes them, and the coordinator's protocol.

use std::collections::{BTreeMap, BTreeSet};

use rill_core::collections::VecMap;

use bytes::Bytes;
use proptest::prelude::*;
use rill_core::error::ErrorCode;
use rill_core::group::assignor::{Assignor, MemberSubscription};
use rill_core::group::coordinator::{GroupConfig, GroupCoordinator, GroupState};
use rill_core::group::subscription;
use rill_core::protocol::{
    DeleteGroup, GroupAck, GroupRequest, GroupResponse, Heartbeat, JoinGroup, JoinGroupResponse, LeaveGroup, NodeId,
    OffsetCommit, OffsetDelete, OffsetDeleteResponse, OffsetFetch, OffsetFetchResponse, ReplyTo, SyncGroup,
    SyncGroupResponse, TopicPartition,
};

fn member(id: &str, topics: &[&str], owned: &[(&str, i32)]) -> MemberSubscription {
    MemberSubscription {
        member_id: id.into(),
        topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        owned: owned.iter().map(|(t, p)| TopicPartition::new(t, *p)).collect(),
    }
}

fn names(assigned: &[TopicPartition]) -> Vec<String> {
    assigned.iter().map(ToString::to_string).collect()
}

fn topic(name: &str, partitions: i32) -> VecMap<String, i32> {
    [(name.to_owned(), partitions)].into()
}

#[test]
fn three_members_six_partitions_get_two_each() {
    let members = [member("m1", &["t"], &[]), member("m2", &["t"], &[]), member("m3", &["t"], &[])];
    let range = Assignor::Range.assign(&topic("t", 6), &members);
    assert_eq!(names(&range["m1"]), ["t-0", "t-1"]);
    assert_eq!(names(&range["m2"]), ["t-2", "t-3"]);
    assert_eq!(names(&range["m3"]), ["t-4", "t-5"]);
    let round_robin = Assignor::RoundRobin.assign(&topic("t", 6), &members);
    assert_eq!(names(&round_robin["m1"]), ["t-0", "t-3"]);
    assert_eq!(names(&round_robin["m2"]), ["t-1", "t-4"]);
    assert_eq!(names(&round_robin["m3"]), ["t-2", "t-5"]);
    let sticky = Assignor::CooperativeSticky.assign(&topic("t", 6), &members);
    assert!(sticky.values().all(|assigned| assigned.len() == 2), "{sticky:?}");
}

#[test]
fn four_members_three_partitions_leave_one_idle() {
    let members: Vec<MemberSubscription> = ["a", "b", "c", "d"].iter().map(|id| member(id, &["t"], &[])).collect();
    for assignor in [Assignor::Range, Assignor::RoundRobin, Assignor::CooperativeSticky] {
        let result = assignor.assign(&topic("t", 3), &members);
        assert_eq!(result.len(), 4);
        assert_eq!(result.values().filter(|assigned| assigned.is_empty()).count(), 1, "{assignor:?}: {result:?}");
        assert_eq!(result.values().map(Vec::len).sum::<usize>(), 3);
    }
}

#[test]
fn cooperative_sticky_moves_only_what_must_move() {
    // m3 left: m1 and m2 keep their partitions and share m3's.
    let members = [member("m1", &["t"], &[("t", 0), ("t", 1)]), member("m2", &["t"], &[("t", 2), ("t", 3)])];
    let result = Assignor::CooperativeSticky.assign(&topic("t", 6), &members);
    assert!(result["m1"].starts_with(&[TopicPartition::new("t", 0), TopicPartition::new("t", 1)]));
    assert!(names(&result["m1"]).contains(&"t-0".to_owned()) && names(&result["m1"]).contains(&"t-1".to_owned()));
    assert!(names(&result["m2"]).contains(&"t-2".to_owned()) && names(&result["m2"]).contains(&"t-3".to_owned()));
    assert_eq!(result["m1"].len() + result["m2"].len(), 6);

    // m3 joins a stable pair: the partitions it will get are first only revoked from their
    // owners (KIP-429); in the next generation m3 receives them.
    let owned_m1 = [("t", 0), ("t", 1), ("t", 2)];
    let owned_m2 = [("t", 3), ("t", 4), ("t", 5)];
    let first = Assignor::CooperativeSticky.assign(
        &topic("t", 6),
        &[member("m1", &["t"], &owned_m1), member("m2", &["t"], &owned_m2), member("m3", &["t"], &[])],
    );
    assert!(first["m3"].is_empty(), "moving partitions are revoked first: {first:?}");
    assert_eq!(first["m1"].len(), 2);
    assert_eq!(first["m2"].len(), 2);
    let owned = |id: &str| first[id].iter().map(|tp| (tp.topic.to_string(), tp.partition)).collect::<Vec<_>>();
    fn as_refs(v: &[(String, i32)]) -> Vec<(&str, i32)> {
        v.iter().map(|(t, p)| (t.as_str(), *p)).collect()
    }
    let (o1, o2) = (owned("m1"), owned("m2"));
    let second = Assignor::CooperativeSticky.assign(
        &topic("t", 6),
        &[member("m1", &["t"], &as_refs(&o1)), member("m2", &["t"], &as_refs(&o2)), member("m3", &["t"], &[])],
    );
    assert_eq!(second["m3"].len(), 2, "{second:?}");
    assert_eq!(second["m1"], first["m1"], "nobody else's partitions move");
    assert_eq!(second["m2"], first["m2"]);
}

proptest! {
    #[test]
    fn assignors_never_assign_twice_and_balance(
        members in 1usize..8,
        partitions in 1i32..40,
        owned_seed in any::<u64>(),
    ) {
        // Each partition had at most one previous owner (or none).
        let mut owned: Vec<Vec<(&str, i32)>> = vec![Vec::new(); members];
        let mut seed = owned_seed;
        for partition in 0..partitions {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let owner = usize::try_from(seed >> 40).unwrap() % (members + 1);
            if owner < members {
                owned[owner].push(("t", partition));
            }
        }
        let list: Vec<MemberSubscription> =
            (0..members).map(|index| member(&format!("m{index}"), &["t"], &owned[index])).collect();
        for assignor in [Assignor::Range, Assignor::RoundRobin, Assignor::CooperativeSticky] {
            let result = assignor.assign(&topic("t", partitions), &list);
            let mut seen = BTreeSet::new();
            for tp in result.values().flatten() {
                prop_assert!(seen.insert(tp.clone()), "{:?} assigned twice by {:?}", tp, assignor);
            }
            if assignor != Assignor::CooperativeSticky {
                prop_assert_eq!(seen.len(), usize::try_from(partitions).unwrap());
                let (min, max) = (result.values().map(Vec::len).min().unwrap(), result.values().map(Vec::len).max().unwrap());
                prop_assert!(max - min <= 1, "{:?} unbalanced: {:?}", assignor, result);
            } else {
                // Everything a member keeps it owned before, or nobody owned before.
                for (id, assigned) in &result {
                    for tp in assigned {
                        let owner = list.iter().find(|m| m.owned.contains(tp));
                        prop_assert!(owner.is_none_or(|m| &m.member_id == id), "{} took {} from its live owner", id, tp);
                    }
                }
                let max = result.values().map(Vec::len).max().unwrap();
                let quota = usize::try_from(partitions).unwrap().div_ceil(members);
                prop_assert!(max <= quota, "nobody holds more than its share: {:?}", result);
            }
        }
    }
}

// ----- coordinator -----

struct Driver {
    coordinator: GroupCoordinator,
    now_ms: u64,
    next_request: u64,
}

impl Driver {
    fn new() -> Driver {
        let config = GroupConfig { initial_rebalance_delay_ms: 3_000, ..GroupConfig::default() };
        Driver { coordinator: GroupCoordinator::new(config, "consumer"), now_ms: 0, next_request: 1 }
    }

    fn send(&mut self, client: u32, request: GroupRequest) {
        let correlation_id = self.request_id();
        self.coordinator.handle_request(self.now_ms, NodeId::Client(client), correlation_id, request);
    }

    fn request_id(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    fn responses(&mut self) -> Vec<(u32, GroupResponse)> {
        let mut out = Vec::new();
        while let Some((ReplyTo { node: NodeId::Client(client), .. }, response)) = self.coordinator.poll_output() {
            out.push((client, response));
        }
        out
    }

    fn join(&mut self, client: u32, member_id: &str) {
        self.send(
            client,
            GroupRequest::Join(JoinGroup {
                group_id: "g".into(),
                member_id: member_id.into(),
                session_timeout_ms: 10_000,
                rebalance_timeout_ms: 20_000,
                protocol_type: "consumer".into(),
                protocols: vec![("range".into(), subscription::encode(&["t".to_owned()], &[]))],
            }),
        );
    }

    fn advance(&mut self, ms: u64) {
        self.now_ms += ms;
        self.coordinator.handle_timeout(self.now_ms);
    }

    fn heartbeat(&mut self, client: u32, member_id: &str, generation_id: i32) -> ErrorCode {
        self.send(
            client,
            GroupRequest::Heartbeat(Heartbeat { group_id: "g".into(), generation_id, member_id: member_id.into() }),
        );
        match self.responses().pop() {
            Some((_, GroupResponse::Ack(GroupAck { error }))) => error,
            other => panic!("{other:?}"),
        }
    }
}

/// Joins members 1..=n (member id round trip, initial delay) and completes the sync; returns
/// the member ids and the generation.
fn stable_group(driver: &mut Driver, clients: &[u32]) -> (BTreeMap<u32, String>, i32) {
    let mut ids = BTreeMap::new();
    for &client in clients {
        driver.join(client, "");
        let responses = driver.responses();
        let Some((_, GroupResponse::Join(JoinGroupResponse { error: ErrorCode::MemberIdRequired, member_id, .. }))) =
            responses.first()
        else {
            panic!("{responses:?}")
        };
        ids.insert(client, member_id.clone());
        driver.join(client, member_id);
    }
    assert!(driver.responses().is_empty(), "joins wait for group.initial.rebalance.delay.ms");
    driver.advance(3_000);
    let joins = driver.responses();
    assert_eq!(joins.len(), clients.len());
    let mut generation = -1;
    let mut leader = String::new();
    for (_, response) in &joins {
        let GroupResponse::Join(JoinGroupResponse { error, generation_id, leader: l, members, member_id, .. }) =
            response
        else {
            panic!()
        };
        assert_eq!(*error, ErrorCode::None);
        generation = *generation_id;
        leader.clone_from(l);
        assert_eq!(members.len(), if member_id == l { clients.len() } else { 0 }, "only the leader sees members");
    }
    for (&client, member_id) in &ids {
        let assignments = if *member_id == leader {
            ids.values().map(|id| (id.clone(), Bytes::from(format!("for {id}")))).collect()
        } else {
            Vec::new()
        };
        driver.send(
            client,
            GroupRequest::Sync(SyncGroup {
                group_id: "g".into(),
                generation_id: generation,
                member_id: member_id.clone(),
                assignments,
            }),
        );
    }
    let syncs = driver.responses();
    assert_eq!(syncs.len(), clients.len());
    for (client, response) in syncs {
        let GroupResponse::Sync(SyncGroupResponse { error, assignment }) = response else { panic!() };
        assert_eq!(error, ErrorCode::None);
        assert_eq!(assignment, Bytes::from(format!("for {}", ids[&client])));
    }
    assert_eq!(driver.coordinator.describe("g").unwrap().state, GroupState::Stable);
    (ids, generation)
}

#[test]
fn members_join_sync_and_heartbeat() {
    let mut driver = Driver::new();
    let (ids, generation) = stable_group(&mut driver, &[1, 2, 3]);
    assert_eq!(generation, 1);
    for (client, id) in &ids {
        assert_eq!(driver.heartbeat(*client, id, generation), ErrorCode::None);
    }
    assert_eq!(driver.heartbeat(1, &ids[&1], generation - 1), ErrorCode::IllegalGeneration);
    assert_eq!(driver.heartbeat(1, "stranger", generation), ErrorCode::UnknownMemberId);
}

#[test]
fn a_member_leaving_starts_a_rebalance_with_a_new_generation() {
    let mut driver = Driver::new();
    let (ids, generation) = stable_group(&mut driver, &[1, 2, 3]);
    driver.send(3, GroupRequest::Leave(LeaveGroup { group_id: "g".into(), member_id: ids[&3].clone() }));
    assert!(matches!(driver.responses()[0].1, GroupResponse::Ack(GroupAck { error: ErrorCode::None })));
    assert_eq!(driver.heartbeat(1, &ids[&1], generation), ErrorCode::RebalanceInProgress);
    driver.join(1, &ids[&1]);
    driver.join(2, &ids[&2]);
    let joins = driver.responses();
    assert_eq!(joins.len(), 2, "the rebalance completes once every remaining member rejoined");
    for (_, response) in joins {
        let GroupResponse::Join(JoinGroupResponse { generation_id, .. }) = response else { panic!() };
        assert_eq!(generation_id, generation + 1);
    }
    assert_eq!(driver.coordinator.describe("g").unwrap().members.len(), 2);
}

#[test]
fn a_silent_member_is_removed_after_its_session_timeout() {
    let mut driver = Driver::new();
    let (ids, generation) = stable_group(&mut driver, &[1, 2]);
    for _ in 0..4 {
        driver.advance(3_000);
        let expected = driver_state_error(&driver);
        assert_eq!(driver.heartbeat(1, &ids[&1], generation), expected);
    }
    // Member 2 never heartbeated: 12 s > session.timeout.ms 10 s.
    let description = driver.coordinator.describe("g").unwrap();
    assert_eq!(description.members.len(), 1, "{description:?}");
    assert_eq!(description.members[0].member_id, ids[&1]);
    assert_eq!(description.state, GroupState::PreparingRebalance);
}

fn driver_state_error(driver: &Driver) -> ErrorCode {
    match driver.coordinator.describe("g").map(|d| d.state) {
        Some(GroupState::Stable) | None => ErrorCode::None,
        _ => ErrorCode::RebalanceInProgress,
    }
}

#[test]
fn offsets_commit_and_fetch_with_generation_checks() {
    let mut driver = Driver::new();
    let (ids, generation) = stable_group(&mut driver, &[1, 2]);
    let tp = TopicPartition::new("t", 0);
    let commit = |driver: &mut Driver, generation_id: i32, member: &str, offset: i64| {
        driver.send(
            1,
            GroupRequest::OffsetCommit(OffsetCommit {
                group_id: "g".into(),
                generation_id,
                member_id: member.into(),
                offsets: vec![(TopicPartition::new("t", 0), offset)],
            }),
        );
        match driver.responses().pop() {
            Some((_, GroupResponse::Ack(GroupAck { error }))) => error,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(commit(&mut driver, generation, &ids[&1], 42), ErrorCode::None);
    assert_eq!(commit(&mut driver, generation + 5, &ids[&1], 50), ErrorCode::IllegalGeneration);
    assert_eq!(commit(&mut driver, generation, "nobody", 50), ErrorCode::UnknownMemberId);
    assert_eq!(commit(&mut driver, generation, &ids[&1], -3), ErrorCode::InvalidCommitOffsetSize);
    driver.send(
        1,
        GroupRequest::OffsetFetch(OffsetFetch {
            group_id: "g".into(),
            partitions: vec![tp.clone(), TopicPartition::new("t", 1)],
        }),
    );
    let Some((_, GroupResponse::Offsets(OffsetFetchResponse { offsets, .. }))) = driver.responses().pop() else {
        panic!()
    };
    assert_eq!(offsets, vec![(tp, 42), (TopicPartition::new("t", 1), -1)]);
}

#[test]
fn only_an_empty_group_is_deleted_and_its_offsets_go_with_it() {
    let mut driver = Driver::new();
    let delete = |driver: &mut Driver, group_id: &str| {
        driver.send(9, GroupRequest::Delete(DeleteGroup { group_id: group_id.into() }));
        match driver.responses().pop() {
            Some((9, GroupResponse::Ack(GroupAck { error }))) => error,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(delete(&mut driver, "g"), ErrorCode::GroupIdNotFound);
    assert_eq!(delete(&mut driver, ""), ErrorCode::InvalidGroupId);
    let (ids, generation) = stable_group(&mut driver, &[1, 2]);
    let tp = TopicPartition::new("t", 0);
    driver.send(
        1,
        GroupRequest::OffsetCommit(OffsetCommit {
            group_id: "g".into(),
            generation_id: generation,
            member_id: ids[&1].clone(),
            offsets: vec![(tp.clone(), 7)],
        }),
    );
    assert!(matches!(driver.responses().pop(), Some((1, GroupResponse::Ack(GroupAck { error: ErrorCode::None })))));
    assert_eq!(delete(&mut driver, "g"), ErrorCode::NonEmptyGroup);
    assert_eq!(driver.coordinator.committed("g").get(&tp), Some(&7), "a refused delete keeps the offsets");
    for client in [1, 2] {
        driver.send(client, GroupRequest::Leave(LeaveGroup { group_id: "g".into(), member_id: ids[&client].clone() }));
    }
    driver.responses();
    assert_eq!(driver.coordinator.describe("g").unwrap().state, GroupState::Empty);
    assert_eq!(delete(&mut driver, "g"), ErrorCode::None);
    assert!(driver.coordinator.describe("g").is_none());
    assert!(driver.coordinator.committed("g").is_empty());
    assert_eq!(delete(&mut driver, "g"), ErrorCode::GroupIdNotFound, "deleted once");
}

/// KIP-496: offsets of a topic the group's members still subscribe to stay; others go.
#[test]
fn offsets_of_topics_an_active_group_subscribes_to_are_not_deleted() {
    let mut driver = Driver::new();
    let offset_delete = |driver: &mut Driver, partitions: &[TopicPartition]| {
        driver.send(
            9,
            GroupRequest::OffsetDelete(OffsetDelete { group_id: "g".into(), partitions: partitions.to_vec() }),
        );
        match driver.responses().pop() {
            Some((9, GroupResponse::OffsetDelete(response))) => response,
            other => panic!("{other:?}"),
        }
    };
    let (t0, u0) = (TopicPartition::new("t", 0), TopicPartition::new("u", 0));
    assert_eq!(offset_delete(&mut driver, std::slice::from_ref(&t0)).error, ErrorCode::GroupIdNotFound);
    let (ids, generation) = stable_group(&mut driver, &[1, 2]);
    driver.send(
        1,
        GroupRequest::OffsetCommit(OffsetCommit {
            group_id: "g".into(),
            generation_id: generation,
            member_id: ids[&1].clone(),
            offsets: vec![(t0.clone(), 7), (u0.clone(), 3)],
        }),
    );
    driver.responses();
    let answer = offset_delete(&mut driver, &[t0.clone(), u0.clone()]);
    assert_eq!(
        answer,
        OffsetDeleteResponse {
            error: ErrorCode::None,
            partitions: vec![(t0.clone(), ErrorCode::GroupSubscribedToTopic), (u0.clone(), ErrorCode::None)]
        }
    );
    let committed = driver.coordinator.committed("g");
    assert_eq!((committed.get(&t0), committed.get(&u0)), (Some(&7), None), "only u-0's offset went");
    for client in [1, 2] {
        driver.send(client, GroupRequest::Leave(LeaveGroup { group_id: "g".into(), member_id: ids[&client].clone() }));
    }
    driver.responses();
    assert_eq!(
        offset_delete(&mut driver, std::slice::from_ref(&t0)).partitions,
        vec![(t0, ErrorCode::None)],
        "the group is empty now"
    );
    assert!(driver.coordinator.committed("g").is_empty());
}

#[test]
fn bad_joins_are_rejected() {
    let mut driver = Driver::new();
    driver.send(
        1,
        GroupRequest::Join(JoinGroup {
            group_id: "g".into(),
            member_id: String::new(),
            session_timeout_ms: 10,
            rebalance_timeout_ms: 10,
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), Bytes::new())],
        }),
    );
    assert!(matches!(
        driver.responses()[0].1,
        GroupResponse::Join(JoinGroupResponse { error: ErrorCode::InvalidSessionTimeout, .. })
    ));
    driver.send(
        1,
        GroupRequest::Join(JoinGroup {
            group_id: String::new(),
            member_id: String::new(),
            session_timeout_ms: 10_000,
            rebalance_timeout_ms: 10_000,
            protocol_type: "consumer".into(),
            protocols: vec![("range".into(), Bytes::new())],
        }),
    );
    assert!(matches!(
        driver.responses()[0].1,
        GroupResponse::Join(JoinGroupResponse { error: ErrorCode::InvalidGroupId, .. })
    ));
}
