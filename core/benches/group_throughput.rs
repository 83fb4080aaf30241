//! Consumer-group costs, printed as a table: `cargo bench -p rill-core --bench group_throughput`.
//!
//! - assignor runs for 100 members × 1000 partitions (what a leader member computes);
//! - a full rebalance of 100 members through the coordinator (join round trip with member ids,
//!   the leader's assignment, sync), per rebalance;
//! - offset commits per second through the coordinator (validation + store);
//! - end-to-end offset commits in the simulated cluster (written to `__consumer_offsets`
//!   with acks=all), per wall second.
//!
//! Reference in the same run: sorting 100,000 (topic, partition) pairs.
// A benchmark measures wall time; it is a host of core, not core itself.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use std::collections::BTreeMap;

use rill_core::collections::{VecMap, VecSet};
use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use rill_core::group::assignor::{Assignor, MemberSubscription};
use rill_core::group::coordinator::{GroupConfig, GroupCoordinator};
use rill_core::group::member::GroupConsumerConfig;
use rill_core::protocol::{GroupRequest, GroupResponse, JoinGroup, JoinGroupResponse, OffsetCommit, SyncGroup};
use rill_core::protocol::{NodeId, TopicPartition};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{Sim, SimConfig};
use rill_core::topic::NewTopic;

const MEMBERS: usize = 100;
const PARTITIONS: i32 = 1_000;

fn members(owned: bool) -> Vec<MemberSubscription> {
    (0..MEMBERS)
        .map(|index| MemberSubscription {
            member_id: format!("member-{index:03}"),
            topics: VecSet::from(["t".to_owned()]),
            owned: if owned {
                (0..PARTITIONS)
                    .filter(|p| usize::try_from(*p).unwrap() % MEMBERS == index)
                    .map(|p| TopicPartition::new("t", p))
                    .collect()
            } else {
                Vec::new()
            },
        })
        .collect()
}

fn time<T>(rounds: u32, mut f: impl FnMut() -> T) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        black_box(f());
        best = best.min(started.elapsed().as_secs_f64());
    }
    best
}

fn coordinator_rebalance() -> f64 {
    let mut coordinator =
        GroupCoordinator::new(GroupConfig { initial_rebalance_delay_ms: 0, ..GroupConfig::default() }, "c");
    let join = |coordinator: &mut GroupCoordinator, client: u32, member_id: String, request_id: u64| {
        coordinator.handle_request(
            0,
            NodeId::Client(client),
            request_id,
            GroupRequest::Join(JoinGroup {
                group_id: "g".into(),
                member_id,
                session_timeout_ms: 45_000,
                rebalance_timeout_ms: 60_000,
                protocol_type: "consumer".into(),
                protocols: vec![("range".into(), Bytes::from_static(b"t;"))],
            }),
        );
    };
    let started = Instant::now();
    let mut ids = BTreeMap::new();
    for client in 0..u32::try_from(MEMBERS).unwrap() {
        join(&mut coordinator, client, String::new(), 1);
        while let Some((_, response)) = coordinator.poll_output() {
            if let GroupResponse::Join(JoinGroupResponse { member_id, .. }) = response {
                ids.insert(client, member_id);
            }
        }
    }
    for (client, id) in &ids {
        join(&mut coordinator, *client, id.clone(), 2);
    }
    coordinator.handle_timeout(1);
    let mut generation = 0;
    let mut leader = String::new();
    let mut subscriptions = Vec::new();
    while let Some((_, response)) = coordinator.poll_output() {
        if let GroupResponse::Join(JoinGroupResponse { generation_id, leader: l, members, .. }) = response {
            generation = generation_id;
            leader = l;
            if !members.is_empty() {
                subscriptions = members;
            }
        }
    }
    let subs: Vec<MemberSubscription> = subscriptions
        .iter()
        .map(|(id, _)| MemberSubscription {
            member_id: id.clone(),
            topics: VecSet::from(["t".to_owned()]),
            owned: Vec::new(),
        })
        .collect();
    let assignment = Assignor::Range.assign(&VecMap::from([("t".to_owned(), PARTITIONS)]), &subs);
    for (client, id) in &ids {
        let assignments = if *id == leader {
            assignment.iter().map(|(m, p)| (m.clone(), Bytes::from(format!("{}", p.len())))).collect()
        } else {
            Vec::new()
        };
        coordinator.handle_request(
            2,
            NodeId::Client(*client),
            3,
            GroupRequest::Sync(SyncGroup {
                group_id: "g".into(),
                generation_id: generation,
                member_id: id.clone(),
                assignments,
            }),
        );
    }
    let mut synced = 0;
    while let Some((_, response)) = coordinator.poll_output() {
        if matches!(response, GroupResponse::Sync(_)) {
            synced += 1;
        }
    }
    assert_eq!(synced, MEMBERS);
    started.elapsed().as_secs_f64()
}

fn coordinator_commits(count: u32) -> f64 {
    let mut coordinator = GroupCoordinator::new(GroupConfig::default(), "c");
    let started = Instant::now();
    for index in 0..count {
        let tp = TopicPartition::new("t", i32::try_from(index % 1_000).unwrap());
        coordinator.handle_request(
            0,
            NodeId::Client(1),
            u64::from(index),
            GroupRequest::OffsetCommit(OffsetCommit {
                group_id: "standalone".into(),
                generation_id: -1,
                member_id: String::new(),
                offsets: vec![(tp, i64::from(index))],
            }),
        );
        black_box(coordinator.poll_output());
    }
    f64::from(count) / started.elapsed().as_secs_f64()
}

fn simulated_commits(virtual_ms: u64) -> (usize, f64) {
    let mut config = SimConfig::new(3, 3, NewTopic::new("t", 12, 3).config("min.insync.replicas", "2"));
    config.record_trace = true;
    for _ in 0..4 {
        let mut member = GroupConsumerConfig::new("g", &["t"], Assignor::Range);
        member.auto_commit_interval_ms = 10;
        config.group_consumers.push(member);
    }
    let mut sim = Sim::new(config).unwrap();
    sim.run_for(5_000);
    let before = sim.trace().iter().filter(|e| matches!(e.kind, TraceKind::Committed { .. })).count();
    let started = Instant::now();
    sim.run_for(virtual_ms);
    let seconds = started.elapsed().as_secs_f64();
    let commits = sim.trace().iter().filter(|e| matches!(e.kind, TraceKind::Committed { .. })).count() - before;
    (commits, seconds)
}

fn main() {
    let quick = std::env::args().any(|arg| arg == "--quick");
    let rounds = if quick { 1 } else { 5 };
    let reference = time(rounds, || {
        let mut pairs: Vec<TopicPartition> = (0..100_000).rev().map(|p| TopicPartition::new("t", p)).collect();
        pairs.sort();
        pairs.len()
    });
    println!("Consumer groups: {MEMBERS} members x {PARTITIONS} partitions");
    println!("{:<52} {:>14} {:>14}", "case", "ms", "vs sort ref");
    let partitions = VecMap::from([("t".to_owned(), PARTITIONS)]);
    for (name, assignor, owned) in [
        ("assign: range", Assignor::Range, false),
        ("assign: roundrobin", Assignor::RoundRobin, false),
        ("assign: cooperative-sticky (fresh)", Assignor::CooperativeSticky, false),
        ("assign: cooperative-sticky (all owned, sticky)", Assignor::CooperativeSticky, true),
    ] {
        let input = members(owned);
        let seconds = time(rounds, || assignor.assign(&partitions, &input));
        println!("{:<52} {:>14.3} {:>14.3}", name, seconds * 1e3, seconds / reference);
    }
    let rebalance = time(rounds, coordinator_rebalance);
    println!(
        "{:<52} {:>14.3} {:>14.3}",
        "rebalance via coordinator (join+assign+sync)",
        rebalance * 1e3,
        rebalance / reference
    );
    println!("{:<52} {:>14.3}", "reference: sort 100k partitions", reference * 1e3);
    let count = if quick { 20_000 } else { 500_000 };
    println!("offset commits/s through the coordinator: {:.0}", coordinator_commits(count));
    let (commits, seconds) = simulated_commits(if quick { 2_000 } else { 20_000 });
    println!("offset commits/s end to end in the simulated cluster (acks=all to __consumer_offsets): {:.0} ({commits} commits)", commits as f64 / seconds);
}
