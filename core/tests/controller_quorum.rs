//! The controller on a replicated quorum (issue 16): what a controller failover does to the
//! cluster, what losing a majority of controllers stops and what keeps working, and a whole
//! cluster restart keeping the metadata.

use rill_core::error::ErrorCode;
use rill_core::event::Event;
use rill_core::protocol::{Acks, TopicPartition};
use rill_core::raft::QuorumEvent;
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{Fault, ProducerSpec, Sim, SimConfig};
use rill_core::topic::NewTopic;

/// `brokers` nodes, an acks=all producer (RF 3, min.insync.replicas 2), controllers on
/// `controllers` (empty: one controller on node 1).
fn cluster(seed: u64, brokers: i32, controllers: &[i32]) -> SimConfig {
    let topic = NewTopic::new("orders", 3, 3).config("min.insync.replicas", "2");
    let mut config = SimConfig::new(seed, brokers, topic);
    config.controllers = controllers.to_vec();
    let mut producer = ProducerSpec::new("orders", Acks::All, 20, 3_000);
    producer.config.enable_idempotence = true;
    config.producers.push(producer);
    config
}

/// Acknowledgement times of acks=all writes per partition.
fn acks_by_partition(sim: &Sim) -> Vec<(TopicPartition, Vec<u64>)> {
    let mut by: Vec<(TopicPartition, Vec<u64>)> = Vec::new();
    for event in sim.trace() {
        if let TraceKind::Produced { tp: Some(tp), result: Ok(_), .. } = &event.kind {
            match by.iter_mut().find(|(t, _)| t == tp) {
                Some((_, times)) => times.push(event.time_ms),
                None => by.push((tp.clone(), vec![event.time_ms])),
            }
        }
    }
    by
}

/// The longest time, within `[from, to]`, during which partition `tp` acknowledged nothing.
fn longest_stall(times: &[u64], from: u64, to: u64) -> u64 {
    let mut points: Vec<u64> = vec![from];
    points.extend(times.iter().copied().filter(|t| (from..=to).contains(t)));
    points.push(to);
    points.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0)
}

/// Kills the active controller's node at 10 s for 30 s; returns the longest stall of the
/// partitions whose leader was elsewhere, and the simulation.
fn kill_the_active_controller(controllers: &[i32]) -> (u64, Sim) {
    let mut sim = Sim::new(cluster(16, 3, controllers)).unwrap();
    sim.run_until(10_000);
    let victim = sim.active_controller_id().expect("a controller is active");
    let elsewhere: Vec<TopicPartition> = (0..3)
        .map(|p| TopicPartition::new("orders", p))
        .filter(|tp| sim.leader(tp).is_some_and(|leader| leader != victim))
        .collect();
    assert!(!elsewhere.is_empty(), "some partition is led by another node");
    sim.act(Fault::Kill(victim)).unwrap();
    sim.run_until(40_000);
    sim.act(Fault::Restart(victim)).unwrap();
    sim.run_until(55_000);
    let stall = acks_by_partition(&sim)
        .iter()
        .filter(|(tp, _)| elsewhere.contains(tp))
        .map(|(_, times)| longest_stall(times, 10_000, 40_000))
        .max()
        .unwrap();
    (stall, sim)
}

#[test]
fn a_controller_failover_stalls_writes_only_until_the_dead_node_is_fenced() {
    // Three combined nodes: the killed node's broker is in every ISR, so acks=all writes wait
    // until the new active controller fences it (broker.session.timeout.ms, 9 s, counted from
    // the failover: a new controller gives every broker a fresh session) and shrinks the ISRs.
    let (stall, mut sim) = kill_the_active_controller(&[1, 2, 3]);
    assert!(stall < 16_000, "writes resumed before the node came back (longest stall {stall} ms)");
    assert!(stall > 8_000, "the dead broker is fenced after the session timeout, not at once ({stall} ms)");
    eprintln!("longest stall with three controllers: {stall} ms");
    let activations: Vec<(u64, String)> = sim
        .trace()
        .iter()
        .filter_map(|e| match &e.kind {
            TraceKind::Node { event: Event::ControllerActivated { controller, epoch }, .. } => {
                Some((e.time_ms, format!("{controller}@{epoch}")))
            }
            _ => None,
        })
        .collect();
    assert_eq!(activations.len(), 2, "one failover: {activations:?}");
    let (at, _) = &activations[1];
    assert!((10_000..14_000).contains(at), "a new controller within the quorum's timeouts: {activations:?}");
    let summary = sim.finish(20_000);
    assert_eq!(summary.report.violations, vec![]);
    assert_eq!(summary.report.lost.acks_all, 0, "no acknowledged write is lost");
}

#[test]
fn with_one_controller_its_death_stalls_writes_until_it_returns() {
    // The same kill with a one-node quorum: no controller, no ISR change, no acks=all write
    // for the whole outage — what issue 16 measured on the native broker.
    let (stall, sim) = kill_the_active_controller(&[]);
    eprintln!("longest stall with one controller: {stall} ms");
    assert!(stall >= 29_000, "nothing could shrink the ISR while the only controller was down ({stall} ms)");
    assert_eq!(sim.active_controller_id(), Some(1));
}

#[test]
fn losing_a_majority_of_controllers_freezes_the_metadata_but_not_the_leaders() {
    // Controllers on nodes 1-3 of 5; the topic lives on 4 and 5 only.
    let mut topic = NewTopic::new("orders", -1, -1).config("min.insync.replicas", "2");
    topic.assignment = Some(vec![vec![4, 5], vec![5, 4]]);
    let mut config = SimConfig::new(21, 5, topic);
    config.controllers = vec![1, 2, 3];
    config.producers.push(ProducerSpec::new("orders", Acks::All, 20, 2_000));
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(8_000);
    let active = sim.active_controller_id().unwrap();
    let others: Vec<i32> = [1, 2, 3].into_iter().filter(|id| *id != active).collect();
    sim.act(Fault::Kill(others[0])).unwrap();
    sim.act(Fault::Kill(others[1])).unwrap();
    sim.run_until(20_000);
    // Check-quorum: the leader that no majority fetches from resigns; nothing is elected.
    assert_eq!(sim.active_controller_id(), None, "a lone controller cannot stay active");
    let error = sim.delete_topic("orders").unwrap_err();
    assert_eq!(error.code, ErrorCode::NotController, "{error}");
    // The partition leaders did not need the controller: acks=all writes went on.
    let late: usize =
        acks_by_partition(&sim).iter().map(|(_, times)| times.iter().filter(|t| **t > 12_000).count()).sum();
    assert!(late > 300, "writes continued without a controller ({late} acknowledged after 12 s)");
    // A majority back: a controller becomes active again.
    sim.act(Fault::Restart(others[0])).unwrap();
    sim.run_until(30_000);
    assert!(sim.active_controller_id().is_some());
    let summary = sim.finish(10_000);
    assert_eq!(summary.report.violations, vec![]);
}

#[test]
fn a_whole_cluster_restart_keeps_the_metadata_and_every_record() {
    let mut sim = Sim::new(cluster(5, 3, &[1, 2, 3])).unwrap();
    sim.run_until(10_000);
    let before = sim.metadata().topics.get("orders").unwrap().topic_id;
    for id in 1..=3 {
        sim.act(Fault::Kill(id)).unwrap();
    }
    sim.run_until(12_000);
    assert_eq!(sim.active_controller_id(), None);
    for id in 1..=3 {
        sim.act(Fault::Restart(id)).unwrap();
    }
    sim.run_until(25_000);
    assert!(sim.active_controller_id().is_some(), "the quorum elected a leader from its logs");
    assert_eq!(sim.metadata().topics.get("orders").map(|t| t.topic_id), Some(before), "same topic, same id");
    let summary = sim.finish(20_000);
    assert_eq!(summary.report.violations, vec![]);
    assert_eq!(summary.report.lost.acks_all, 0);
}

/// KIP-630: the controllers snapshot their metadata log every 3 records and drop what the
/// snapshot covers; a controller that was down meanwhile cannot fetch those records, loads the
/// active controller's snapshot instead, and then holds the same metadata.
#[test]
fn a_controller_back_after_the_log_was_compacted_loads_the_snapshot() {
    let mut config = cluster(21, 4, &[1, 2, 3]);
    config.broker_config.metadata_log_max_records_between_snapshots = 3;
    let mut sim = Sim::new(config).unwrap();
    sim.run_until(5_000);
    sim.act(Fault::Kill(3)).unwrap();
    // Broker 4 going and coming back changes the metadata: fenced, ISRs shrink, unfenced, grow.
    sim.run_until(6_000);
    sim.act(Fault::Kill(4)).unwrap();
    sim.run_until(25_000);
    sim.act(Fault::Restart(4)).unwrap();
    sim.run_until(45_000);
    let starts: Vec<(i32, i64, i64)> =
        sim.quorum_snapshot().iter().map(|m| (m.id, m.log_start_offset, m.log_end_offset)).collect();
    let down = starts.iter().find(|(id, _, _)| *id == 3).unwrap();
    assert!(
        starts.iter().any(|(id, start, _)| *id != 3 && *start > down.2),
        "the live controllers compacted past what node 3 holds: {starts:?}"
    );
    sim.act(Fault::Restart(3)).unwrap();
    sim.run_until(55_000);
    let loaded = sim.trace().iter().any(|event| {
        matches!(
            &event.kind,
            TraceKind::Node { event: Event::Quorum { controller: 3, event: QuorumEvent::SnapshotLoaded { .. } }, .. }
        )
    });
    assert!(loaded, "controller 3 loaded the leader's snapshot");
    let image = |id: i32| sim.controllers().find(|(c, _)| *c == id).and_then(|(_, n)| n?.committed_image().cloned());
    let active = sim.active_controller_id().unwrap();
    assert_eq!(image(3).map(|i| i.topics), image(active).map(|i| i.topics), "the same metadata as the active");
    let summary = sim.finish(20_000);
    assert_eq!(summary.report.violations, vec![]);
    assert_eq!(summary.report.lost.acks_all, 0);
}

#[test]
fn separate_controllers_fail_over_without_touching_any_isr() {
    // Three brokers and three controller-only nodes (process.roles=controller, ids 4..=6): the
    // killed active controller hosts no replica, so no ISR has to shrink; writes wait only for
    // the quorum to elect another controller, and not even that when nothing needs the
    // controller meanwhile.
    let (stall, mut sim) = kill_the_active_controller(&[4, 5, 6]);
    eprintln!("longest stall with three separate controllers: {stall} ms");
    assert!(stall < 2_000, "no broker died: writes went on ({stall} ms)");
    let snapshot = sim.snapshot_with(0);
    let ids: Vec<(i32, bool)> = snapshot.brokers.iter().map(|b| (b.id, b.controller_only)).collect();
    assert_eq!(ids, vec![(1, false), (2, false), (3, false), (4, true), (5, true), (6, true)]);
    for partition in &snapshot.partitions {
        assert!(partition.replicas.iter().all(|r| *r <= 3), "nothing placed on a controller: {partition:?}");
        assert_eq!(partition.isr.len(), 3, "{partition:?}");
    }
    let active = sim.active_controller_id().expect("a controller is active");
    assert!((4..=6).contains(&active), "{active}");
    assert!(snapshot.brokers.iter().filter(|b| b.controller_only).all(|b| b.replicas.is_empty() && !b.fenced));
    // Faults on a controller-only node: pause, resume, power loss and restart all apply.
    let other = if active == 4 { 5 } else { 4 };
    for fault in [Fault::Pause(other), Fault::Resume(other), Fault::Crash(other), Fault::Restart(other)] {
        sim.act(fault.clone()).unwrap_or_else(|error| panic!("{fault}: {error}"));
        sim.run_for(3_000);
    }
    // A reassignment onto a controller-only node is refused: it hosts no replicas.
    let error = sim
        .act(Fault::Reassign { topic: "orders".into(), partition: 0, replicas: Some(vec![1, 2, 5]) })
        .expect_err("no broker 5");
    assert!(error.message.contains("there is no broker 5"), "{}", error.message);
    let summary = sim.finish(20_000);
    assert!(summary.report.violations.is_empty(), "{:?}", summary.report.violations);
    assert_eq!(summary.report.lost.total(), 0);
}

#[test]
fn bad_controller_lists_are_refused() {
    let mut config = cluster(1, 3, &[1, 1, 2]);
    assert!(Sim::new(config.clone()).unwrap_err().message.contains("names node 1 twice"));
    config.controllers = vec![1, 7];
    assert!(Sim::new(config.clone()).unwrap_err().message.contains("controller 7 is not a node"));
    // Controller-only nodes follow the brokers' ids with no gap: 4, 5, 6 here, not 5.
    config.controllers = vec![4, 5];
    assert!(Sim::new(config.clone()).is_ok());
    config.controllers = vec![4, 6];
    let error = Sim::new(config).unwrap_err().message;
    assert!(error.contains("controller 6 is not a node") && error.contains("4..=5"), "{error}");
}

#[test]
fn a_lossy_start_still_creates_the_topics_on_every_broker() {
    // A registration whose answer is lost is sent again and fences the broker until its next
    // heartbeat: topics are created only once every broker is registered and unfenced (a sweep
    // seed once found RF 3 refused on "2 available brokers").
    for seed in 0..40 {
        let mut config = cluster(seed, 3, &[1, 2, 3]);
        config.network.drop_per_million = 150_000;
        let sim = Sim::new(config).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert_eq!(sim.metadata().topics.get("orders").map(|t| t.partitions.len()), Some(3), "seed {seed}");
    }
}

#[test]
fn a_forwarded_describe_quorum_tries_the_next_controller_when_one_is_silent() {
    use rill_core::broker::{BrokerNode, MemStorageFactory};
    use rill_core::config::BrokerConfig;
    use rill_core::protocol::{DescribeQuorum, Message, NodeId};
    let mut broker = BrokerNode::new(BrokerConfig::for_node(1), MemStorageFactory::default(), 0);
    broker.set_controllers(vec![1, 2, 3]);
    broker.handle_message(0, NodeId::Client(7), 42, Message::DescribeQuorum(DescribeQuorum {}));
    let mut tried = Vec::new();
    let mut answered = None;
    for step in 0..10u64 {
        while let Some(out) = broker.poll_output() {
            match (out.to, &out.message) {
                (NodeId::Controller(id), Message::DescribeQuorum(_)) => tried.push(id),
                (NodeId::Client(7), Message::DescribeQuorumResponse(response)) => answered = Some(response.error),
                _ => {}
            }
        }
        broker.handle_timeout(step * 1_000 + 1_000);
    }
    // Nobody answers: it moves on every 2 s, covering every voter, then tells the client.
    assert!(tried.len() >= 3 && [1, 2, 3].iter().all(|id| tried.contains(id)), "{tried:?}");
    assert_eq!(answered, Some(ErrorCode::NotLeaderOrFollower));
}

/// KIP-853 on the controllers themselves, as the broker runs them when `rill format` formatted
/// a dynamic quorum: controller 1 starts alone (`--standalone`), controller 2 formatted to join
/// (`--no-initial-controllers`) observes until the leader adds it, then votes; a controller
/// formatted to join that knows no other node is refused.
#[test]
fn a_controller_formatted_to_join_observes_until_it_is_added() {
    use rill_core::config::BrokerConfig;
    use rill_core::controller::quorum::QuorumController;
    use rill_core::protocol::NodeId;
    use rill_core::raft::{Durable, RoleKind};
    use rill_core::rng::Rng;

    let start = |id: i32, bootstrap: &[i32]| {
        QuorumController::new_dynamic(
            BrokerConfig::for_node(id),
            bootstrap,
            &[1, 2],
            Durable::default(),
            0,
            Rng::from_seed(7),
            None,
        )
        .expect("a dynamic controller")
    };
    let mut nodes = [start(1, &[1]), start(2, &[])];
    // Messages between the two controllers, in order, for `ms` milliseconds of 10 ms steps.
    let mut now = 0;
    let mut run = |nodes: &mut [QuorumController; 2], ms: u64| {
        for _ in 0..ms / 10 {
            now += 10;
            for node in nodes.iter_mut() {
                node.handle_timeout(now);
            }
            for from in 0..2 {
                while let Some(out) = nodes[from].poll_output() {
                    if let NodeId::Controller(to) = out.to {
                        let from_id = i32::try_from(from + 1).expect("small");
                        let to = usize::try_from(to - 1).expect("a node");
                        nodes[to].handle_message(now, NodeId::Controller(from_id), out.correlation_id, out.message);
                    }
                }
            }
        }
        now
    };
    let at = run(&mut nodes, 5_000);
    assert_eq!(nodes[0].quorum().role(), RoleKind::Leader);
    assert_eq!((nodes[1].quorum().voters(), nodes[1].quorum().leader()), (&[1][..], Some(1)), "it observes");
    let described = nodes[0].describe(at).expect("the leader describes");
    assert_eq!(described.observers.iter().map(|o| o.replica_id).collect::<Vec<_>>(), [2]);
    // Only the leader changes the voters.
    assert_eq!(nodes[1].add_voter(at, 2).unwrap_err().code, ErrorCode::NotLeaderOrFollower);
    let offset = nodes[0].add_voter(at, 2).expect("a caught-up observer is added");
    assert_eq!(nodes[0].add_voter(at, 3).unwrap_err().code, ErrorCode::RequestTimedOut, "one change at a time");
    run(&mut nodes, 2_000);
    assert!(nodes[0].quorum().high_watermark() > offset, "the change committed");
    for node in &nodes {
        assert_eq!(node.quorum().voters(), [1, 2]);
    }
    assert_eq!(nodes[0].add_voter(at, 2).unwrap_err().code, ErrorCode::DuplicateVoter);
    // Alone, a controller formatted to join has nobody to ask.
    let alone = QuorumController::new_dynamic(
        BrokerConfig::for_node(2),
        &[],
        &[2],
        Durable::default(),
        0,
        Rng::from_seed(1),
        None,
    );
    assert!(alone.is_err_and(|error| error.message.contains("knows no other controller")));
}
