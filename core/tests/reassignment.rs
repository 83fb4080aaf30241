//! Partition reassignment (KIP-455) in the simulated cluster: a partition moves to other
//! brokers while producers write to it, and nothing acknowledged is lost.

use rill_core::event::Event;
use rill_core::protocol::{Acks, TopicPartition};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{Fault, ProducerSpec, ScheduledFault, Sim, SimConfig};
use rill_core::topic::NewTopic;

fn tp() -> TopicPartition {
    Sim::tp("orders", 0)
}

/// 5 brokers, orders-0 on [1, 2, 3] with min.insync.replicas=2, the controller on broker 5,
/// an acks=all producer writing 300 records over 30 s.
fn cluster(seed: u64) -> SimConfig {
    let mut topic = NewTopic::new("orders", -1, -1).config("min.insync.replicas", "2");
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(seed, 5, topic);
    config.controller_host = 5;
    config.producers.push(ProducerSpec::new("orders", Acks::All, 100, 300));
    config
}

fn reassign(at_ms: u64, replicas: Option<Vec<i32>>) -> ScheduledFault {
    ScheduledFault { at_ms, fault: Fault::Reassign { topic: "orders".into(), partition: 0, replicas } }
}

fn replica_changes(sim: &Sim) -> Vec<(Vec<i32>, Vec<i32>, Vec<i32>)> {
    sim.trace()
        .iter()
        .filter_map(|event| match &event.kind {
            TraceKind::Node { event: Event::ReplicasChanged { new_replicas, adding, removing, .. }, .. } => {
                Some((new_replicas.clone(), adding.clone(), removing.clone()))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn moving_a_partition_off_its_leader_under_load_loses_nothing_and_drops_the_old_copies() {
    let mut config = cluster(31);
    config.faults = vec![reassign(5_000, Some(vec![4, 5, 2]))];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(45_000);
    sim.finish(20_000);
    let report = sim.report();
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_eq!(report.acknowledged.acks_all, 300, "every record got through: {report:?}");
    assert_eq!(report.lost.acks_all, 0);
    let state = sim.metadata().partition(&tp()).unwrap().clone();
    assert_eq!(state.replicas, vec![4, 5, 2]);
    assert!(!state.reassigning());
    assert_eq!(state.leader, Some(4), "the first target replica leads once 1 leaves");
    assert_eq!(
        replica_changes(&sim),
        vec![(vec![4, 5, 2, 1, 3], vec![4, 5], vec![1, 3]), (vec![4, 5, 2], vec![], vec![])],
        "widened to target + leaving, then narrowed"
    );
    for gone in [1, 3] {
        assert!(sim.broker(gone).unwrap().log(&tp()).is_none(), "broker {gone} dropped its copy");
    }
    for kept in [4, 5, 2] {
        let log = sim.broker(kept).unwrap().log(&tp()).expect("a replica");
        assert_eq!(log.log_end_offset(), 300, "broker {kept} has every record");
    }
}

#[test]
fn a_move_to_a_broker_that_is_down_waits_and_a_cancel_puts_the_partition_back() {
    let mut config = cluster(32);
    config.faults = vec![
        ScheduledFault { at_ms: 1_000, fault: Fault::Crash(4) },
        reassign(5_000, Some(vec![1, 2, 4])),
        reassign(15_000, None),
        ScheduledFault { at_ms: 20_000, fault: Fault::Restart(4) },
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(14_000);
    let waiting = sim.metadata().partition(&tp()).unwrap().clone();
    assert_eq!((waiting.adding_replicas.clone(), waiting.removing_replicas.clone()), (vec![4], vec![3]));
    assert_eq!(waiting.isr, vec![1, 2, 3], "4 cannot catch up while down; 3 stays in sync meanwhile");
    sim.run_until(45_000);
    sim.finish(20_000);
    let report = sim.report();
    assert!(report.violations.is_empty(), "{:#?}", report.violations);
    assert_eq!(report.acknowledged.acks_all, 300, "{report:?}");
    let state = sim.metadata().partition(&tp()).unwrap().clone();
    assert_eq!(state.replicas, vec![1, 2, 3], "back where it was");
    assert!(!state.reassigning());
    assert!(sim.broker(4).unwrap().log(&tp()).is_none(), "4 never kept a copy after the cancel");
}
