//! Consumer groups in the simulated cluster: assignment, rebalances, session timeouts,
//! coordinator failover and committed offsets.

use std::collections::BTreeMap;

use rill_core::group::assignor::Assignor;
use rill_core::group::coordinator::{coordinator_partition, OFFSETS_TOPIC};
use rill_core::group::member::GroupConsumerConfig;
use rill_core::protocol::{Acks, TopicPartition};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{Fault, ProducerSpec, Sim, SimConfig};
use rill_core::topic::NewTopic;

fn cluster(seed: u64, partitions: i32) -> SimConfig {
    let mut config = SimConfig::new(seed, 4, NewTopic::new("orders", partitions, 3).config("min.insync.replicas", "2"));
    config.controller_host = 4;
    config.producers.push(ProducerSpec::new("orders", Acks::All, 50, 2_000));
    config
}

fn member(assignor: Assignor) -> GroupConsumerConfig {
    let mut config = GroupConsumerConfig::new("billing", &["orders"], assignor);
    config.session_timeout_ms = 10_000;
    config
}

/// The latest assignment each client received.
fn assignments(sim: &Sim) -> BTreeMap<u32, (i32, Vec<TopicPartition>)> {
    let mut latest = BTreeMap::new();
    for event in sim.trace() {
        if let TraceKind::Assigned { client, generation_id, partitions, .. } = &event.kind {
            latest.insert(*client, (*generation_id, partitions.clone()));
        }
    }
    latest
}

fn assert_no_violations(sim: &Sim) {
    let violations = &sim.report().violations;
    assert!(violations.is_empty(), "seed {}: {violations:#?}", sim.config().seed);
}

#[test]
fn three_members_six_partitions_range_gives_two_each() {
    let mut sim = Sim::new(cluster(31, 6)).unwrap();
    let members: Vec<u32> = (0..3).map(|_| sim.add_group_consumer(member(Assignor::Range)).unwrap()).collect();
    sim.run_until(15_000);
    let latest = assignments(&sim);
    for client in &members {
        let (generation, partitions) = &latest[client];
        assert_eq!(*generation, 1, "all joined within the initial rebalance delay");
        assert_eq!(partitions.len(), 2, "client {client}: {partitions:?}");
    }
    let mut all: Vec<TopicPartition> = latest.values().flat_map(|(_, p)| p.clone()).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6);
    assert!(sim.report().consumed > 100);
    sim.finish(20_000);
    assert_no_violations(&sim);
}

#[test]
fn four_members_three_partitions_leave_one_idle() {
    let mut sim = Sim::new(cluster(32, 3)).unwrap();
    for _ in 0..4 {
        sim.add_group_consumer(member(Assignor::RoundRobin)).unwrap();
    }
    sim.run_until(15_000);
    let latest = assignments(&sim);
    assert_eq!(latest.len(), 4);
    assert_eq!(latest.values().filter(|(_, p)| p.is_empty()).count(), 1, "{latest:?}");
    assert_no_violations(&sim);
}

#[test]
fn a_member_leaving_moves_only_its_partitions_with_cooperative_sticky() {
    let mut sim = Sim::new(cluster(33, 6)).unwrap();
    let members: Vec<u32> =
        (0..3).map(|_| sim.add_group_consumer(member(Assignor::CooperativeSticky)).unwrap()).collect();
    sim.run_until(15_000);
    let before = assignments(&sim);
    let generation_before = before[&members[0]].0;
    sim.remove_group_consumer(members[2], true).unwrap();
    sim.run_until(30_000);
    let after = assignments(&sim);
    for client in &members[..2] {
        let (generation, partitions) = &after[client];
        assert!(*generation > generation_before, "a rebalance bumped the generation");
        for tp in &before[client].1 {
            assert!(partitions.contains(tp), "client {client} kept {tp}: {partitions:?}");
        }
        assert_eq!(partitions.len(), 3, "the leaver's partitions were shared out");
    }
    sim.finish(20_000);
    assert_no_violations(&sim);
}

#[test]
fn a_silent_member_is_removed_after_the_session_timeout() {
    let mut sim = Sim::new(cluster(34, 4)).unwrap();
    let members: Vec<u32> = (0..2).map(|_| sim.add_group_consumer(member(Assignor::Range)).unwrap()).collect();
    sim.run_until(15_000);
    sim.remove_group_consumer(members[1], false).unwrap();
    sim.run_until(22_000);
    assert_eq!(assignments(&sim)[&members[0]].1.len(), 2, "not yet: session.timeout.ms is 10 s");
    sim.run_until(40_000);
    let (_, partitions) = &assignments(&sim)[&members[0]];
    assert_eq!(partitions.len(), 4, "after the session timeout the survivor owns everything");
    sim.finish(20_000);
    assert_no_violations(&sim);
}

#[test]
fn a_new_coordinator_serves_the_committed_offsets_and_nothing_is_skipped() {
    let mut sim = Sim::new(cluster(35, 3)).unwrap();
    let client = sim.add_group_consumer(member(Assignor::Range)).unwrap();
    sim.run_until(20_000);
    let committed: Vec<i64> = sim
        .trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Committed { offset, .. } => Some(*offset),
            _ => None,
        })
        .collect();
    assert!(!committed.is_empty() && committed.iter().any(|o| *o > 0), "auto-commit ran");
    // Crash the coordinator's broker: the leader of the group's __consumer_offsets partition.
    let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, coordinator_partition("billing", 3));
    let coordinator = sim.leader(&offsets_tp).unwrap();
    sim.act(Fault::Crash(coordinator)).unwrap();
    sim.run_until(45_000);
    let new_coordinator = sim.leader(&offsets_tp).unwrap();
    assert_ne!(new_coordinator, coordinator);
    // The member found the new coordinator and kept committing from where it was.
    let later: Vec<i64> = sim
        .trace()
        .iter()
        .filter(|e| e.time_ms > 35_000)
        .filter_map(|e| match &e.kind {
            TraceKind::Committed { client: c, offset, .. } if *c == client => Some(*offset),
            _ => None,
        })
        .collect();
    assert!(!later.is_empty(), "commits resumed with the new coordinator");
    // A second member joining now starts from the committed offsets: no record is skipped
    // (checked by the "groups skip no record" invariant).
    sim.add_group_consumer(member(Assignor::Range)).unwrap();
    sim.act(Fault::Restart(coordinator)).unwrap();
    sim.run_until(70_000);
    sim.finish(20_000);
    assert_no_violations(&sim);
    assert!(sim.report().consumed > 500);
}

#[test]
fn coordinator_partition_matches_kafka() {
    // Java: Math.abs("billing".hashCode()) % 50 with String.hashCode over UTF-16 units.
    let java_hash = "billing".encode_utf16().fold(0i32, |h, u| h.wrapping_mul(31).wrapping_add(i32::from(u)));
    assert_eq!(coordinator_partition("billing", 50), java_hash.abs() % 50);
    // "polygenelubricants".hashCode() is Integer.MIN_VALUE: Kafka's Utils.abs maps it to 0.
    assert_eq!(coordinator_partition("polygenelubricants", 50), 0);
}

#[test]
fn auto_offset_reset_earliest_latest_and_none() {
    use rill_core::group::member::OffsetReset;
    let first_offsets = |reset: OffsetReset| {
        let mut sim = Sim::new(cluster(36, 1)).unwrap();
        sim.run_until(10_000); // ~180 records already written
        let mut config = member(Assignor::Range);
        config.auto_offset_reset = reset;
        let client = sim.add_group_consumer(config).unwrap();
        sim.run_until(20_000);
        let consumed: Vec<i64> = sim
            .trace()
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::Consumed { client: c, offset, .. } if *c == client => Some(*offset),
                _ => None,
            })
            .collect();
        let resets: Vec<i64> = sim
            .trace()
            .iter()
            .filter_map(|e| match &e.kind {
                TraceKind::ConsumerReset { client: c, to_offset, .. } if *c == client => Some(*to_offset),
                _ => None,
            })
            .collect();
        (consumed, resets)
    };
    let (earliest, _) = first_offsets(OffsetReset::Earliest);
    assert_eq!(earliest.first(), Some(&0), "earliest starts at the log start");
    let (latest, resets) = first_offsets(OffsetReset::Latest);
    assert!(latest.first().is_some_and(|o| *o >= 150), "latest skips what was there: {:?}", latest.first());
    assert!(resets[0] >= 150);
    let (none, resets) = first_offsets(OffsetReset::None);
    assert!(none.is_empty(), "none consumes nothing without a committed offset");
    assert_eq!(resets, vec![-1], "OFFSET_OUT_OF_RANGE is surfaced");
}
