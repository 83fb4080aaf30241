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

/// The longest stretch, between `from_ms` and `to_ms`, in which `client` consumed nothing from
/// a partition it owned both before and after (one that did not move).
fn longest_gap_on_kept_partitions(sim: &Sim, client: u32, from_ms: u64, to_ms: u64) -> u64 {
    let mut before: Vec<TopicPartition> = Vec::new();
    let mut after: Vec<TopicPartition> = Vec::new();
    for event in sim.trace() {
        if let TraceKind::Assigned { client: c, partitions, .. } = &event.kind {
            if *c == client && event.time_ms < from_ms {
                before.clone_from(partitions);
            } else if *c == client {
                after.clone_from(partitions);
            }
        }
    }
    let kept: Vec<&TopicPartition> = before.iter().filter(|tp| after.contains(tp)).collect();
    let mut longest = 0;
    for tp in kept {
        let mut last = from_ms;
        for event in sim.trace() {
            if let TraceKind::Consumed { client: c, tp: t, .. } = &event.kind {
                if *c == client && t == tp && event.time_ms >= from_ms && event.time_ms <= to_ms {
                    longest = longest.max(event.time_ms - last);
                    last = event.time_ms;
                }
            }
        }
        longest = longest.max(to_ms - last);
    }
    longest
}

/// When `client` first consumed from each partition, and when it last did.
fn consumed_spans(sim: &Sim, client: u32) -> BTreeMap<TopicPartition, (u64, u64)> {
    let mut spans = BTreeMap::new();
    for event in sim.trace() {
        if let TraceKind::Consumed { client: c, tp, .. } = &event.kind {
            if *c == client {
                let span = spans.entry(tp.clone()).or_insert((event.time_ms, event.time_ms));
                span.1 = event.time_ms;
            }
        }
    }
    spans
}

/// Issue 15, KIP-848 beside the classic protocol: a third member joins a group of two. With
/// `group.protocol=consumer` the partitions that do not move are consumed throughout (no
/// stop-the-world), and a moving partition reaches the new member only after its old owner
/// stopped consuming it (revoke, then assign). The classic eager protocol instead stops
/// everyone for one join/sync round; it completes sooner, the KIP-848 one waits for
/// heartbeats. Both end balanced, nothing lost or skipped.
#[test]
fn a_joining_member_stops_only_the_moving_partitions_with_kip_848() {
    use rill_core::group::member::GroupProtocol;
    let mut outcomes = Vec::new();
    for protocol in [GroupProtocol::Classic, GroupProtocol::Consumer { remote_assignor: None }] {
        let mut sim = Sim::new(cluster(34, 6)).unwrap();
        let mut config = member(Assignor::Range);
        config.group_protocol = protocol.clone();
        // The two heartbeat out of step (joined 1.5 s apart), as real members do.
        let mut first = vec![sim.add_group_consumer(config.clone()).unwrap()];
        sim.run_until(1_500);
        first.push(sim.add_group_consumer(config.clone()).unwrap());
        sim.run_until(30_000);
        let before = assignments(&sim);
        assert!(first.iter().all(|c| before[c].1.len() == 3), "{protocol:?}: 3 partitions each: {before:?}");
        let joined_ms = sim.now_ms();
        let third = sim.add_group_consumer(config.clone()).unwrap();
        sim.run_until(joined_ms + 30_000);
        let after = assignments(&sim);
        for client in first.iter().chain([&third]) {
            assert_eq!(after[client].1.len(), 2, "{protocol:?}: client {client} ends with 2: {after:?}");
        }
        let mut all: Vec<TopicPartition> = after.values().flat_map(|(_, p)| p.clone()).collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 6, "{protocol:?}: every partition owned once");
        let pause = first.iter().map(|c| longest_gap_on_kept_partitions(&sim, *c, joined_ms, joined_ms + 30_000)).max();
        let newcomer = consumed_spans(&sim, third);
        let first_record_ms = newcomer.values().map(|(start, _)| *start).min().unwrap_or(u64::MAX);
        if let GroupProtocol::Consumer { .. } = protocol {
            // Revoke, then assign: the old owner's last record of a moved partition comes
            // before the new owner's first.
            for (tp, (start, _)) in &newcomer {
                for client in &first {
                    if let Some((_, last)) = consumed_spans(&sim, *client).get(tp) {
                        assert!(
                            last <= start,
                            "{tp}: client {client} consumed at {last} after {third} began at {start}"
                        );
                    }
                }
            }
        }
        outcomes.push((protocol, pause.unwrap_or(0), first_record_ms - joined_ms));
        sim.finish(joined_ms + 40_000);
        assert_no_violations(&sim);
    }
    eprintln!(
        "(protocol, longest pause on a partition that did not move, new member's first record after): {outcomes:?}"
    );
    let kip848_pause = outcomes[1].1;
    assert!(kip848_pause <= 1_000, "KIP-848 keeps consuming what does not move: {outcomes:?}");
}
