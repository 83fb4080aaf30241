//! Why leader epochs exist (KIP-101): the same faults with Kafka's replication before 0.11
//! (`rill.truncate.to.high.watermark`: a new follower cuts its log back to its own high
//! watermark, which lags the leader's) lose acknowledged acks=all writes; with leader epochs
//! they lose none.

use rill_core::event::Event;
use rill_core::protocol::Acks;
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{Fault, NetworkConfig, ProducerSpec, ScheduledFault, Sim, SimConfig};
use rill_core::topic::NewTopic;

fn at(at_ms: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault { at_ms, fault }
}

/// orders-0 on [1, 2, 3], min.insync.replicas=2, the controller on broker 4, an acks=all
/// producer, a slow network (so a follower learns the high watermark one round trip late).
/// Broker 1 (the leader) dies; 2 leads but cannot reach 3; 2 dies; 3, still in the ISR, leads.
pub fn two_leaders_die(truncate_to_high_watermark: bool) -> Sim {
    two_leaders_die_at(truncate_to_high_watermark, 9_600)
}

pub fn two_leaders_die_at(truncate_to_high_watermark: bool, kill_ms: u64) -> Sim {
    let mut topic = NewTopic::new("orders", -1, -1).config("min.insync.replicas", "2");
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(7, 4, topic);
    config.controller_host = 4;
    config.broker_config.truncate_to_high_watermark = truncate_to_high_watermark;
    config.network = NetworkConfig { latency_min_ms: 40, latency_max_ms: 120, drop_per_million: 0 };
    config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 400));
    config.faults = vec![
        at(kill_ms, Fault::CutLink { from: 2, to: 3 }),
        at(kill_ms, Fault::Kill(1)),
        at(22_000, Fault::Kill(2)),
        at(35_000, Fault::Restart(1)),
        at(35_000, Fault::Restart(2)),
        at(35_000, Fault::HealNetwork),
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(45_000);
    sim.finish(30_000);
    sim
}

fn truncations_of(sim: &Sim, broker: i32) -> Vec<(i64, i64)> {
    sim.trace()
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::Node {
                event: Event::TruncatedToHighWatermark { broker: b, from_offset, to_offset, .. },
                ..
            } if *b == broker => Some((*from_offset, *to_offset)),
            _ => None,
        })
        .collect()
}

#[test]
fn truncating_to_the_high_watermark_loses_acknowledged_writes() {
    let sim = two_leaders_die(true);
    let report = sim.report();
    assert!(report.lost.acks_all > 0, "the acknowledged tail is gone: {report:?}");
    assert!(
        report.violations.iter().any(|v| v.invariant.contains("acks=all")),
        "the checker says acks=all's promise was broken: {:#?}",
        report.violations
    );
    // Broker 3 had offset 22 (acknowledged: every ISR member had it) but its high watermark,
    // learnt one round trip late, was 22: following 2, it cut 22 off, then led without it.
    assert_eq!(truncations_of(&sim, 3), vec![(23, 22)], "broker 3 cut its log back when it followed 2");
    let lost: Vec<i64> = report.lost_writes.iter().map(|write| write.offset).collect();
    assert_eq!(lost, vec![22]);
}

#[test]
fn leader_epochs_lose_nothing_under_the_same_faults() {
    let sim = two_leaders_die(false);
    let report = sim.report();
    assert!(report.acknowledged.acks_all > 50, "{report:?}");
    assert_eq!(report.lost.acks_all, 0, "{report:?}");
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert!(truncations_of(&sim, 3).is_empty(), "3's log was a prefix of the leader's: nothing to cut");
}
