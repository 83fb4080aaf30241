//! A run's client history for Jepsen's checkers (issue 17): the sends, acknowledgements and
//! polls of a run that loses acks=1 writes, in `jepsen.tests.kafka`'s shape, and Jepsen's
//! lost-write analysis run on that history finds the same writes the simulation's checker does.

use std::collections::BTreeSet;

use rill_core::collections::VecMap;
use rill_core::protocol::Acks;
use rill_core::sim::history::{History, Mop, OpType};
use rill_core::sim::session::{Recording, Session};
use rill_core::sim::spec::ClusterSpec;
use rill_core::sim::{Fault, ProducerSpec, ScheduledFault, Sim, SimConfig};
use rill_core::topic::NewTopic;

fn at(at_ms: u64, fault: Fault) -> ScheduledFault {
    ScheduledFault { at_ms, fault }
}

/// orders-0 on [1, 2, 3] led by 1, acks=1 and a consumer; 1's followers stop hearing from it at
/// 2 s, it crashes at 4 s (its unreplicated tail is lost), 2 leads, 1 comes back at 20 s.
fn acks_1_leader_crash() -> Sim {
    let mut topic = NewTopic::new("orders", -1, -1);
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(11, 4, topic);
    config.controller_host = 4;
    config.producers.push(ProducerSpec::new("orders", Acks::Leader, 100, 150));
    config.consumers.push(vec!["orders".into()]);
    config.faults = vec![
        at(2_000, Fault::CutLink { from: 1, to: 2 }),
        at(2_000, Fault::CutLink { from: 1, to: 3 }),
        at(4_000, Fault::Crash(1)),
        at(20_000, Fault::Restart(1)),
        at(20_000, Fault::HealNetwork),
    ];
    let mut sim = Sim::new(config).unwrap();
    sim.record_history();
    // The producer and the consumer each wait out request.timeout.ms (30 s) for the request
    // broker 1 took down with it.
    sim.run_until(70_000);
    sim
}

#[test]
fn jepsens_lost_write_analysis_of_the_history_finds_the_writes_the_checker_lost() {
    let sim = acks_1_leader_crash();
    let history = sim.history().expect("recorded");
    let lost_by_checker: BTreeSet<(String, i64)> = sim
        .report()
        .lost_writes
        .iter()
        .map(|write| (format!("{}-{}", write.topic, write.partition), write.offset))
        .collect();
    assert!(lost_by_checker.len() >= 15, "the scenario loses acknowledged writes: {lost_by_checker:?}");
    let lost_by_jepsen: BTreeSet<(String, i64)> =
        history.lost_writes().into_iter().map(|(key, offset, _)| (key, offset)).collect();
    assert_eq!(lost_by_jepsen, lost_by_checker, "Jepsen's definition, applied to the exported history, agrees");
}

#[test]
fn the_history_is_well_formed_for_jepsen() {
    let sim = acks_1_leader_crash();
    let history = sim.history().expect("recorded");
    well_formed(history);
    let sends = history.ops().iter().filter(|op| matches!(op.mop, Mop::Send { .. })).count();
    let polls = history.ops().iter().filter(|op| op.op_type == OpType::Ok && matches!(op.mop, Mop::Poll(_))).count();
    assert!(sends >= 300 && polls > 10, "150 sends invoked and completed, polls: {sends} {polls}");
    // An acknowledged send names the offset; the invoke before it names the same key.
    let edn = history.to_edn();
    assert_eq!(edn.lines().count(), history.ops().len());
    let first = edn.lines().next().unwrap();
    assert!(
        first.starts_with("{:index 0, :time ") && first.contains(":type :invoke") && first.contains(":f :send"),
        "{first}"
    );
    assert!(
        edn.lines().any(|line| line.contains(":type :ok, ") && line.contains("[[:send \"orders-0\" [")),
        "an acknowledged send carries [offset value]"
    );
    assert!(edn.lines().any(|line| line.contains("[[:poll {\"orders-0\" [[0 ")), "a poll reads from offset 0");
}

/// Jepsen's history rules: indexes count up, time never goes back, and each process alternates
/// invoke → completion of the same function (one operation at a time).
fn well_formed(history: &History) {
    let mut open: VecMap<u64, &'static str> = VecMap::new();
    let mut last_ms = 0;
    for (i, op) in history.ops().iter().enumerate() {
        assert_eq!(op.index, u64::try_from(i).unwrap());
        assert!(op.time_ms >= last_ms, "time goes forward: {op:?}");
        last_ms = op.time_ms;
        let f = match op.mop {
            Mop::Send { .. } => "send",
            Mop::Poll(_) => "poll",
        };
        match op.op_type {
            OpType::Invoke => assert!(open.insert(op.process, f).is_none(), "process {} is busy: {op:?}", op.process),
            _ => assert_eq!(open.remove(&op.process), Some(f), "a completion follows its invoke: {op:?}"),
        }
        if let (OpType::Ok, Mop::Send { offset, .. }) = (op.op_type, &op.mop) {
            assert!(offset.is_some_and(|offset| offset >= 0), "{op:?}");
        }
    }
}

#[test]
fn a_session_exports_the_history_of_its_run_so_far() {
    let spec: ClusterSpec = serde_json::from_str(
        r#"{"seed": 3, "brokers": 3, "topics": [{"name": "orders", "partitions": 2}],
            "producers": [{"topic": "orders", "acks": 1, "intervalMs": 50, "records": 200}],
            "consumers": [["orders"]]}"#,
    )
    .unwrap();
    let mut session = Session::new(spec).unwrap();
    session.run_for(5_000).unwrap();
    let history = session.history().unwrap();
    well_formed(&history);
    assert!(history.ops().iter().any(|op| op.op_type == OpType::Ok), "{} ops", history.ops().len());
    let last = history.ops().last().unwrap();
    assert!(last.time_ms >= 4_000 && last.time_ms <= session.sim().now_ms(), "{last:?}");
    // The same run, replayed, gives the same history.
    let again = Session::replay(Recording::clone(session.recording())).unwrap().history().unwrap();
    assert_eq!(again.ops(), history.ops());
    let json = serde_json::to_value(history.json_ops()).unwrap();
    let op = &json[0];
    assert_eq!((op["type"].as_str(), op["f"].as_str()), (Some("invoke"), Some("send")), "{op}");
    assert_eq!(op["value"][0][0], "send");
}
