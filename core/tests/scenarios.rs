//! Named replication scenarios. Each is deterministic from its seed and asserts its outcome.

use rill_core::error::ErrorCode;
use rill_core::event::Event;
use rill_core::log::ReadLimit;
use rill_core::protocol::{Acks, NodeId, TopicPartition};
use rill_core::sim::trace::{fingerprint, TraceKind};
use rill_core::sim::{Fault, ProducerSpec, ScheduledFault, Sim, SimConfig};
use rill_core::topic::NewTopic;

fn tp() -> TopicPartition {
    Sim::tp("orders", 0)
}

/// 4 brokers, one partition with replicas [1, 2, 3] (leader 1), the controller on broker 4
/// (a dedicated controller host, so faults on the replicas never hit the controller).
fn cluster(seed: u64, min_isr: i32, unclean: bool) -> SimConfig {
    let mut topic = NewTopic::new("orders", -1, -1)
        .config("min.insync.replicas", &min_isr.to_string())
        .config("unclean.leader.election.enable", &unclean.to_string());
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(seed, 4, topic);
    config.controller_host = 4;
    config
}

fn at(at_ms: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault { at_ms, fault }
}

fn node_events(sim: &Sim) -> Vec<Event> {
    sim.trace()
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::Node { event, .. } => Some(event.clone()),
            _ => None,
        })
        .collect()
}

fn produce_errors(sim: &Sim) -> Vec<ErrorCode> {
    sim.trace()
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::Produced { result: Err(error), .. } => Some(*error),
            _ => None,
        })
        .collect()
}

fn assert_no_violations(sim: &Sim) {
    let violations = &sim.report().violations;
    assert!(violations.is_empty(), "seed {}: {violations:#?}", sim.config().seed);
}

/// Fingerprints of a replica's whole log of orders-0.
fn log_prints(sim: &Sim, broker: i32) -> Vec<(i64, u64)> {
    log_prints_of(sim, broker, &tp())
}

fn log_prints_of(sim: &Sim, broker: i32, tp: &TopicPartition) -> Vec<(i64, u64)> {
    let log = sim.broker(broker).and_then(|b| b.log(tp)).expect("replica exists");
    let mut prints = Vec::new();
    let mut offset = log.log_start_offset();
    while offset < log.log_end_offset() {
        let read = log.read(offset, usize::MAX, ReadLimit::LogEnd).unwrap();
        for batch in &read.batches {
            for record in batch.records() {
                let record = record.unwrap();
                prints.push((record.offset, fingerprint(record.record.key.as_deref(), record.record.value.as_deref())));
            }
            offset = batch.next_offset();
        }
    }
    prints
}

/// The leader's fetch responses to followers are lost from t=2 s, so nothing written after
/// that replicates; the leader crashes at t=4 s and comes back at t=20 s.
fn leader_crashes_before_replicating(acks: Acks) -> Sim {
    let mut config = cluster(11, if acks == Acks::All { 2 } else { 1 }, false);
    config.producers.push(ProducerSpec::new("orders", acks, 100, 150));
    config.faults = vec![
        at(2_000, Fault::CutLink { from: 1, to: 2 }),
        at(2_000, Fault::CutLink { from: 1, to: 3 }),
        at(4_000, Fault::Crash(1)),
        at(20_000, Fault::Restart(1)),
        at(20_000, Fault::HealNetwork),
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(30_000);
    let live = sim.report().clone();
    sim.finish(40_000);
    // Losses are seen as they happen (when the new leader takes over), not only at the end.
    assert_eq!(live.lost_live, sim.report().lost, "live detection found what the end-of-run check found");
    for lost in live.lost_writes.iter().filter(|lost| lost.landed) {
        assert_eq!((lost.topic.as_str(), lost.partition, lost.leader), ("orders", 0, 2), "{lost:?}");
        let cause = lost.cause.as_deref().unwrap_or_default();
        assert!(cause.starts_with("crash broker 1") || cause.contains("broker 1"), "{cause}");
        assert!(lost.time_ms >= 4_000 && lost.time_ms < 20_000, "found after the crash, before the restart");
    }
    sim
}

#[test]
fn acks_1_loses_acknowledged_records_when_the_leader_crashes_before_replicating() {
    let sim = leader_crashes_before_replicating(Acks::Leader);
    let report = sim.report();
    assert!(report.acknowledged.acks_1 > 100, "{report:?}");
    assert!(report.lost.acks_1 >= 15, "the ~20 records acked between 2 s and 4 s are gone: {report:?}");
    assert_no_violations(&sim);
    let events = node_events(&sim);
    assert!(
        events.iter().any(|e| matches!(e, Event::LeaderChanged { leader: Some(2), leader_epoch: 1, .. })),
        "broker 2 takes over at epoch 1"
    );
}

#[test]
fn acks_0_losses_are_counted_live_both_truncated_and_never_landed() {
    // Issue 17: an acks=0 producer is told nothing, so its losses were invisible until the end.
    let sim = leader_crashes_before_replicating(Acks::None);
    let report = sim.report();
    assert!(report.acknowledged.acks_0 > 100, "{report:?}");
    assert!(report.lost.acks_0 >= 15, "the records written during the cut are gone: {report:?}");
    assert_eq!(report.lost_live.acks_0, report.lost.acks_0, "every loss was seen live: {report:?}");
    // Both kinds: records broker 1 appended alone (truncated when broker 2 took over) and records
    // sent to broker 1 after it crashed, before the producer learned of the new leader.
    let (landed, never): (Vec<_>, Vec<_>) = report.lost_writes.iter().partition(|lost| lost.landed);
    assert!(!landed.is_empty() && landed.iter().all(|lost| lost.offset >= 0 && lost.leader == 2), "{landed:?}");
    assert!(!never.is_empty(), "{:?}", report.lost_writes);
    for lost in &never {
        let cause = lost.cause.as_deref().unwrap_or_default();
        assert_eq!((lost.offset, lost.leader_epoch, lost.acks), (-1, -1, 0), "{lost:?}");
        assert!(cause.contains("broker 1 was down") || cause.contains("refused"), "{cause}");
        assert!(lost.time_ms >= 4_000, "{lost:?}");
    }
    assert_no_violations(&sim);
}

#[test]
fn acks_all_with_min_isr_2_loses_nothing_under_the_same_faults() {
    let sim = leader_crashes_before_replicating(Acks::All);
    let report = sim.report();
    assert!(report.acknowledged.acks_all > 100, "writes before the cut and after failover succeed: {report:?}");
    assert_eq!(report.lost.acks_all, 0, "{report:?}");
    assert_no_violations(&sim);
    // Writes during the cut were acknowledged only after a retry to the new leader.
    let retried = sim
        .trace()
        .iter()
        .filter(|e| matches!(e.kind, TraceKind::Produced { result: Ok(_), attempts: 2.., .. }))
        .count();
    assert!(retried >= 1, "a record written during the cut was retried: {retried}");
    assert_eq!(report.acknowledged.acks_all, 150, "every record got through in the end: {report:?}");
}

#[test]
fn isr_below_min_isr_rejects_acks_all_with_not_enough_replicas() {
    let mut config = cluster(12, 2, false);
    let mut spec = ProducerSpec::new("orders", Acks::All, 200, 100);
    spec.config.retries = 0;
    config.producers.push(spec);
    // Both followers die; after broker.session.timeout.ms the controller fences them and the
    // ISR shrinks to the leader alone.
    config.faults = vec![at(3_000, Fault::Crash(2)), at(3_000, Fault::Crash(3))];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(15_000);
    let leo_before = sim.broker(1).unwrap().replica(&tp()).unwrap().log_end_offset;
    sim.run_until(20_000);
    let view = sim.broker(1).unwrap().replica(&tp()).unwrap();
    assert_eq!(view.isr, vec![1], "ISR shrank to the leader");
    assert_eq!(view.log_end_offset, leo_before, "rejected writes are not appended");
    let errors = produce_errors(&sim);
    assert!(
        errors.iter().filter(|e| **e == ErrorCode::NotEnoughReplicas).count() >= 20,
        "acks=all writes fail with NOT_ENOUGH_REPLICAS: {errors:?}"
    );
    assert_no_violations(&sim);
}

/// Followers stop replicating at 3 s; the leader shrinks the ISR to itself after
/// replica.lag.time.max.ms (5 s here) and keeps committing with min.insync.replicas=1; then
/// it crashes for good at 15 s.
fn only_the_leader_has_the_latest_commits(unclean: bool) -> Sim {
    let mut config = cluster(13, 1, unclean);
    config.broker_config.replica_lag_time_max_ms = 5_000;
    config.broker_config.log_flush_interval_messages = 1;
    config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 300));
    config.faults = vec![
        at(3_000, Fault::CutLink { from: 1, to: 2 }),
        at(3_000, Fault::CutLink { from: 1, to: 3 }),
        at(15_000, Fault::Crash(1)),
    ];
    Sim::new(config).unwrap()
}

#[test]
fn clean_election_refuses_to_elect_an_out_of_sync_replica() {
    let mut sim = only_the_leader_has_the_latest_commits(false);
    sim.run_until(40_000);
    assert_eq!(sim.leader(&tp()), None, "no in-sync replica is alive: the partition is offline");
    let state = sim.metadata().partition(&tp()).unwrap().clone();
    assert_eq!(state.isr, vec![1], "the ISR keeps its last member");
    assert!(node_events(&sim).iter().any(|e| matches!(e, Event::LeaderChanged { leader: None, .. })));
    // When broker 1 returns it leads again and nothing acknowledged was lost.
    sim.finish(40_000);
    assert_eq!(sim.leader(&tp()), Some(1));
    assert_eq!(sim.report().lost.acks_all, 0, "{:?}", sim.report());
    assert_eq!(sim.report().unclean_elections, 0);
    assert_no_violations(&sim);
}

#[test]
fn unclean_election_loses_committed_records() {
    let mut sim = only_the_leader_has_the_latest_commits(true);
    sim.run_until(40_000);
    let leader = sim.leader(&tp()).expect("an out-of-sync replica was elected");
    assert_ne!(leader, 1);
    let events = node_events(&sim);
    assert!(events.iter().any(|e| matches!(e, Event::LeaderChanged { unclean: true, .. })));
    sim.finish(40_000);
    let report = sim.report();
    assert_eq!(report.unclean_elections, 1);
    assert!(report.lost.acks_all >= 50, "records committed on broker 1 alone are gone: {report:?}");
    assert!(report.committed_rewritten > 0, "{report:?}");
    assert_no_violations(&sim);
    // Broker 1 came back as a follower and truncated to the new leader's log.
    assert!(events.iter().chain(node_events(&sim).iter()).any(|e| matches!(e, Event::Truncated { broker: 1, .. })));
}

#[test]
fn slow_follower_leaves_and_rejoins_the_isr() {
    let mut config = cluster(14, 2, false);
    config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 600));
    // Broker 3 stops getting fetch responses from the leader for 45 s, but stays alive.
    config.faults = vec![at(2_000, Fault::CutLink { from: 1, to: 3 }), at(47_000, Fault::HealLink { from: 1, to: 3 })];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(40_000);
    assert_eq!(sim.metadata().partition(&tp()).unwrap().isr, vec![1, 2]);
    let events = node_events(&sim);
    let proposal = events.iter().find_map(|e| match e {
        Event::IsrChangeProposed { broker: 1, leaving, .. } if !leaving.is_empty() => Some(leaving.clone()),
        _ => None,
    });
    let leaving = proposal.expect("the leader proposed a shrink");
    assert_eq!(leaving[0].0, 3);
    assert!(leaving[0].1 > 30_000, "removed only after replica.lag.time.max.ms: {leaving:?}");
    // After the heal, broker 3's lost fetch times out (replica.socket.timeout.ms 30 s), it
    // fetches again, catches up and the leader adds it back.
    sim.run_until(90_000);
    assert_eq!(sim.metadata().partition(&tp()).unwrap().isr, vec![1, 2, 3], "broker 3 caught up and rejoined");
    sim.finish(10_000);
    assert_eq!(sim.report().lost.acks_all, 0);
    assert_no_violations(&sim);
}

#[test]
fn back_to_back_failovers_leave_replicas_identical() {
    // KIP-279: leaders change twice in quick succession while acks=1 writes keep coming, so
    // replicas hold divergent tails at several epochs; epoch-based truncation must converge.
    let mut config = cluster(15, 1, false);
    config.broker_config.log_flush_interval_messages = 1;
    config.network.latency_max_ms = 30;
    config.producers.push(ProducerSpec::new("orders", Acks::Leader, 5, 4_000));
    config.faults = vec![
        at(3_000, Fault::Crash(1)),
        at(13_000, Fault::Restart(1)),
        at(13_500, Fault::Crash(2)),
        at(24_000, Fault::Restart(2)),
        at(24_200, Fault::Crash(3)),
        at(26_000, Fault::Restart(3)),
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(30_000);
    sim.finish(60_000);
    assert_no_violations(&sim);
    let epochs: Vec<i32> = node_events(&sim)
        .iter()
        .filter_map(|e| match e {
            Event::LeaderChanged { leader: Some(_), leader_epoch, .. } => Some(*leader_epoch),
            _ => None,
        })
        .collect();
    assert!(epochs.len() >= 3, "several failovers happened: {epochs:?}");
    let leader_log = log_prints(&sim, sim.leader(&tp()).unwrap());
    assert!(leader_log.len() > 1_000);
    for broker in 1..=3 {
        assert_eq!(log_prints(&sim, broker), leader_log, "replica {broker} matches the leader");
    }
    assert!(node_events(&sim).iter().any(|e| matches!(e, Event::Truncated { .. })), "divergent tails were truncated");
}

#[test]
fn network_partition_isolating_the_leader() {
    let mut config = cluster(16, 2, false);
    let mut producer = ProducerSpec::new("orders", Acks::All, 50, 600);
    // Non-idempotent: up to one request per record in flight, so writes keep flowing to the
    // new leader while requests to the isolated one time out.
    producer.config.enable_idempotence = false;
    config.producers.push(producer);
    config.consumers.push(vec!["orders".into()]);
    config.faults = vec![at(5_000, Fault::Isolate(1)), at(25_000, Fault::Reconnect(1))];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(20_000);
    let new_leader = sim.leader(&tp()).expect("a new leader was elected");
    assert_ne!(new_leader, 1);
    let state = sim.metadata().partition(&tp()).unwrap().clone();
    assert!(state.leader_epoch >= 1);
    assert!(!state.isr.contains(&1), "the isolated broker was fenced out of the ISR");
    // The old leader still believes it leads (it cannot hear the controller).
    assert!(sim.broker(1).unwrap().replica(&tp()).unwrap().is_leader);
    // Before the preferred-leader check (every 30 s here) moves leadership back.
    sim.run_until(29_000);
    let view = sim.broker(1).unwrap().replica(&tp()).unwrap();
    assert!(!view.is_leader, "after reconnecting, broker 1 follows");
    assert_eq!(view.leader_epoch, state.leader_epoch);
    sim.finish(30_000);
    let report = sim.report();
    assert!(report.acknowledged.acks_all > 400, "{report:?}");
    assert_eq!(report.lost.acks_all, 0);
    assert!(report.consumed > 400, "{report:?}");
    assert_no_violations(&sim);
    let leader = sim.leader(&tp()).unwrap();
    for broker in 1..=3 {
        let replica = log_prints(&sim, broker);
        let reference = log_prints(&sim, leader);
        assert_eq!(replica, reference, "replica {broker} converged");
    }
}

#[test]
fn same_seed_same_trace_and_different_seed_different_trace() {
    let run = |seed| {
        let mut config = cluster(seed, 2, false);
        config.producers.push(ProducerSpec::new("orders", Acks::All, 20, 200));
        config.faults = vec![at(2_000, Fault::Crash(2)), at(4_000, Fault::Restart(2))];
        config.network.latency_max_ms = 20;
        let mut sim = Sim::new(config).unwrap();
        sim.run_until(8_000);
        (sim.trace_hash(), sim.trace().len())
    };
    assert_eq!(run(21), run(21));
    assert_ne!(run(21).0, run(22).0);
}

#[test]
fn the_trace_serializes_to_json_and_explains_itself() {
    let mut config = cluster(17, 2, false);
    config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 20));
    config.faults = vec![at(2_000, Fault::Crash(1))];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(15_000);
    let json = serde_json::to_string(sim.trace()).unwrap();
    assert!(json.contains("\"LeaderChanged\""), "structured events are in the JSON");
    assert!(json.contains("\"Crash\":1"), "{}", &json[..200]);
    let story: Vec<String> = sim.trace().iter().map(ToString::to_string).collect();
    assert!(story
        .iter()
        .any(|line| line.contains("controller fenced broker 1: no heartbeat within broker.session.timeout.ms")));
    assert!(story.iter().any(|line| line.contains("orders-0: broker 2 elected leader at epoch 1")), "{story:#?}");
}

#[test]
fn bad_sim_configs_are_errors() {
    let mut config = cluster(1, 2, false);
    config.controller_host = 9;
    assert_eq!(Sim::new(config).unwrap_err().code, ErrorCode::InvalidConfig);
    let mut config = cluster(1, 2, false);
    config.faults = vec![at(1, Fault::Crash(7))];
    assert!(Sim::new(config).unwrap_err().message.contains("unknown broker 7"));
    let config = SimConfig::new(1, 2, NewTopic::new("t", 1, 3));
    assert_eq!(Sim::new(config).unwrap_err().code, ErrorCode::InvalidReplicationFactor);
    let _ = NodeId::Controller(1);
}

/// 20 % of messages are dropped for a while, so produce responses get lost and producers retry
/// records the leader already appended.
fn lossy_run(enable_idempotence: bool) -> Sim {
    let mut config = cluster(18, 2, false);
    // Followers whose fetch was lost ask again after 3 s instead of Kafka's 30 s.
    config.broker_config.replica_socket_timeout_ms = 3_000;
    let mut producer = ProducerSpec::new("orders", Acks::All, 20, 1_000);
    producer.config.enable_idempotence = enable_idempotence;
    producer.config.request_timeout_ms = 2_000;
    config.producers.push(producer);
    config.faults = vec![at(2_000, Fault::SetDropRate(200_000)), at(15_000, Fault::SetDropRate(0))];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(25_000);
    sim.finish(30_000);
    sim
}

#[test]
fn idempotent_producer_retries_create_no_duplicates() {
    let sim = lossy_run(true);
    let report = sim.report();
    assert_no_violations(&sim);
    assert_eq!(report.duplicates, 0, "{report:?}");
    assert_eq!(report.duplicates_live, 0, "{report:?}");
    assert!(report.acknowledged.acks_all >= 900, "{report:?}");
    assert_eq!(report.lost.acks_all, 0);
    let ignored = node_events(&sim).iter().filter(|e| matches!(e, Event::DuplicateIgnored { .. })).count();
    assert!(ignored >= 1, "a retry of an appended record reached the leader and was recognised");
}

#[test]
fn without_idempotence_the_checker_counts_duplicates() {
    let sim = lossy_run(false);
    let report = sim.report();
    assert_no_violations(&sim);
    assert!(report.duplicates >= 5, "retries of appended records duplicate them: {report:?}");
    // Found as they got committed, not only at the end.
    assert_eq!(report.duplicates_live, report.duplicates, "{report:?}");
    let first = report.duplicate_writes.first().expect("listed");
    assert!(first.time_ms < 25_000, "seen during the run: {first:?}");
}

#[test]
fn brokers_compact_and_apply_retention_on_their_schedule() {
    let mut topic = NewTopic::new("profiles", -1, -1)
        .config("min.insync.replicas", "2")
        .config("cleanup.policy", "compact")
        .config("segment.bytes", "400");
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(19, 4, topic);
    config.controller_host = 4;
    config.broker_config.log_retention_check_interval_ms = 5_000;
    let mut producer = ProducerSpec::new("profiles", Acks::All, 20, 400);
    producer.keyed = true; // 16 distinct keys, 25 writes each
    config.producers.push(producer);
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(30_000);
    let cleaned = node_events(&sim)
        .iter()
        .filter(|e| matches!(e, Event::LogCleaned { records_compacted, .. } if *records_compacted > 0))
        .count();
    assert!(cleaned >= 3, "every replica compacts its own log: {cleaned}");
    for broker in 1..=3 {
        let prints = log_prints_of(&sim, broker, &Sim::tp("profiles", 0));
        assert!(prints.len() < 200, "broker {broker} kept {} of 400 records", prints.len());
        assert!(prints.windows(2).all(|pair| pair[0].0 < pair[1].0), "offsets only grow");
    }
    sim.finish(10_000);
    assert_no_violations(&sim);
}

/// Issue 13 (seed 8282 of the sweep): a stale leader's tail must not survive on a compacted
/// topic. Broker 1 leads at epoch 0 and is paused with produce requests queued; broker 2 is
/// elected at epoch 1; compaction on broker 3 removes the first batches of epoch 1; broker 3
/// restarts (its epoch cache is derived from its log again) and later leads; then broker 1
/// resumes, appends its queued requests at epoch 0 after the point where epoch 1 began, and
/// must truncate all of them away before it rejoins the ISR.
fn stale_leader_on_a_compacted_topic() -> Sim {
    let mut topic = NewTopic::new("orders", -1, -1)
        .config("min.insync.replicas", "2")
        .config("flush.messages", "1")
        .config("cleanup.policy", "compact")
        .config("segment.bytes", "1000")
        .config("delete.retention.ms", "5000");
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(8282, 4, topic);
    config.controller_host = 4;
    config.broker_config.auto_leader_rebalance_enable = false;
    config.broker_config.log_retention_check_interval_ms = 2_000;
    config.record_trace = true;
    // Idempotent acks=all writes are what must survive; acks=1 writes without idempotence keep
    // many requests in flight, so broker 1 finds a queue of them when it resumes.
    let mut committed = ProducerSpec::new("orders", Acks::All, 20, 2_000);
    committed.config.request_timeout_ms = 3_000;
    let mut queued = ProducerSpec::new("orders", Acks::Leader, 20, 2_000);
    queued.config.enable_idempotence = false;
    queued.config.request_timeout_ms = 30_000;
    config.producers.extend([committed, queued]);
    config.faults = vec![
        at(5_000, Fault::Pause(1)),
        at(24_000, Fault::Crash(3)),
        at(25_000, Fault::Restart(3)),
        at(32_000, Fault::Crash(2)),
        at(36_000, Fault::Resume(1)),
        at(45_000, Fault::Restart(2)),
    ];
    Sim::new(config).unwrap()
}

/// Epoch-0 batches on broker 1 that end at or past `epoch_1_start`: a stale tail.
fn stale_batches(sim: &Sim, epoch_1_start: i64) -> Vec<i64> {
    let log = sim.broker(1).and_then(|b| b.log(&tp())).expect("replica exists");
    log.batches_from(log.log_start_offset(), ReadLimit::LogEnd)
        .iter()
        .filter(|batch| batch.partition_leader_epoch() == 0 && batch.last_offset() >= epoch_1_start)
        .map(|batch| batch.base_offset())
        .collect()
}

#[test]
fn a_stale_leaders_tail_never_survives_compaction_and_failover() {
    let mut sim = stale_leader_on_a_compacted_topic();
    sim.run_until(36_000);
    // Where epoch 1 began on the partition's lineage: broker 2's log end when it took over.
    let epoch_1_start = node_events(&sim)
        .iter()
        .find_map(|e| match e {
            Event::BecameLeader { broker: 2, leader_epoch: 1, log_end_offset, .. } => Some(*log_end_offset),
            _ => None,
        })
        .expect("broker 2 took over at epoch 1");
    // From the moment broker 1 is back in the ISR it must hold no epoch-0 batch past that
    // point (checked every 50 ms, before compaction on broker 1 could remove the evidence).
    let mut rejoined_ms = None;
    while sim.now_ms() < 50_000 {
        sim.run_until(sim.now_ms() + 50);
        let in_isr = sim.metadata().partition(&tp()).is_some_and(|state| state.isr.contains(&1));
        if in_isr && sim.broker(1).is_some() {
            rejoined_ms.get_or_insert(sim.now_ms());
            let stale = stale_batches(&sim, epoch_1_start);
            assert!(
                stale.is_empty(),
                "in-sync broker 1 keeps epoch-0 batches at {stale:?}, past epoch 1's start {epoch_1_start}"
            );
        }
    }
    assert!(rejoined_ms.is_some(), "broker 1 rejoined the ISR");
    let stale_appends = sim
        .trace()
        .iter()
        .filter(|e| {
            e.time_ms >= 36_000
                && matches!(&e.kind, TraceKind::Node { event: Event::Appended { broker: 1, leader_epoch: 0, .. }, .. })
        })
        .count();
    assert!(stale_appends > 0, "broker 1 appended queued requests at epoch 0 after it resumed");
    let elected = |broker: i32| {
        node_events(&sim).iter().any(|e| matches!(e, Event::BecameLeader { broker: b, .. } if *b == broker))
    };
    assert!(elected(2) && elected(3), "brokers 2 and 3 led after broker 1");
    sim.finish(30_000);
    assert_no_violations(&sim);
}

#[test]
fn a_process_crash_keeps_the_page_cache_and_a_power_loss_does_not() {
    // Issue 17 (6): "crash" used to be a power loss only; `kill -9` keeps what the OS cached.
    for (fault, power_loss) in [(Fault::Crash(2), true), (Fault::Kill(2), false)] {
        let mut config = cluster(11, 1, false);
        config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 30));
        config.faults = vec![at(2_500, fault.clone()), at(6_000, Fault::Restart(2))];
        let mut sim = Sim::new(config).unwrap();
        sim.run_until(12_000);
        let lost = node_events(&sim).into_iter().find(|e| matches!(e, Event::LostUnflushed { broker: 2, .. }));
        assert_eq!(lost.is_some(), power_loss, "{fault}: {lost:?}");
        if let Some(Event::LostUnflushed { from_offset, to_offset, .. }) = lost {
            assert!(to_offset < from_offset, "{from_offset} -> {to_offset}");
        }
        assert_eq!(sim.report().lost.total(), 0, "acks=all with the leader up loses nothing: {fault}");
        assert_no_violations(&sim);
    }
}

#[test]
fn a_follower_that_stopped_fetching_never_rejoins_the_isr() {
    // Found by the dashboard's IsrShrinks/IsrExpands plot (issue 17): with acks=all writes
    // refused (ISR below min.insync.replicas), the leader's log stopped growing, so two dead
    // followers' last offsets looked "caught up" and they rejoined the ISR every few ms.
    let mut config = cluster(12, 2, false);
    config.broker_config.replica_lag_time_max_ms = 5_000;
    config.producers.push(ProducerSpec::new("orders", Acks::All, 200, 150));
    config.faults = vec![
        at(3_000, Fault::Crash(2)),
        at(3_000, Fault::Crash(3)),
        at(25_000, Fault::Restart(2)),
        at(25_000, Fault::Restart(3)),
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(40_000);
    let changes: Vec<(u64, Vec<i32>, Vec<i32>)> = sim
        .trace()
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::Node { event: Event::IsrChanged { old_isr, new_isr, .. }, .. } => {
                Some((event.time_ms, old_isr.clone(), new_isr.clone()))
            }
            _ => None,
        })
        .collect();
    let rejoined_while_down: Vec<_> =
        changes.iter().filter(|(at_ms, old, new)| *at_ms < 25_000 && new.len() > old.len()).collect();
    assert!(rejoined_while_down.is_empty(), "{rejoined_while_down:?}");
    let shrinks = changes.iter().filter(|(_, old, new)| new.len() < old.len()).count();
    assert!(shrinks <= 2, "one shrink per lost follower at most, no flapping: {changes:?}");
    assert!(
        changes.iter().any(|(at_ms, old, new)| *at_ms > 25_000 && new.len() > old.len()),
        "they rejoin after the restart"
    );
    assert_no_violations(&sim);
}
