//! Sessions: recorded interactive runs replay exactly, seek back and forth, fork, and survive
//! a JSON round trip (what the dashboard's timeline and shared URLs rely on).

use rill_core::sim::session::{Action, Recording, Session};
use rill_core::sim::spec::{AcksSpec, ClusterSpec, GroupMemberSpec, ProduceSpec, TopicSpec, WorkloadSpec};
use rill_core::sim::Fault;

fn spec(seed: u64) -> ClusterSpec {
    ClusterSpec {
        seed,
        brokers: 4,
        topics: vec![TopicSpec {
            name: "orders".into(),
            partitions: 3,
            replication_factor: Some(3),
            min_insync_replicas: 2,
            unclean_leader_election: false,
            configs: Default::default(),
            assignment: None,
        }],
        ..ClusterSpec::default()
    }
}

fn produce(key: &str) -> Action {
    Action::Produce(ProduceSpec {
        topic: "orders".into(),
        key: Some(key.into()),
        value: Some(format!("v-{key}")),
        acks: Some(AcksSpec::Text("all".into())),
        partition: None,
    })
}

/// An interactive run: a workload, a group member, single steps, a crash and a restart.
fn interactive(seed: u64) -> Session {
    let mut session = Session::new(spec(seed)).unwrap();
    session.run_for(500).unwrap();
    let workload = WorkloadSpec {
        topic: "orders".into(),
        acks: Some(AcksSpec::Number(1)),
        interval_ms: 20,
        records: 400,
        start_ms: 0,
        keyed: true,
        enable_idempotence: false,
    };
    session.act(Action::StartProducer(workload)).unwrap();
    session.act(produce("a")).unwrap();
    for _ in 0..37 {
        session.step().unwrap();
    }
    session.act(produce("b")).unwrap();
    session
        .act(Action::AddMember(GroupMemberSpec {
            group_id: "billing".into(),
            topics: vec!["orders".into()],
            assignor: None,
            auto_offset_reset: Some("earliest".into()),
            session_timeout_ms: None,
            group_protocol: None,
        }))
        .unwrap();
    session.run_for(1_733).unwrap();
    session.act(Action::Fault(Fault::Crash(2))).unwrap();
    session.run_for(3_000).unwrap();
    for _ in 0..5 {
        session.step().unwrap();
    }
    session.act(Action::Fault(Fault::Restart(2))).unwrap();
    session.run_for(4_000).unwrap();
    session
}

#[test]
fn a_recorded_run_replays_to_the_same_trace() {
    let session = interactive(7);
    let recording = session.recording_now();
    assert_eq!(recording.steps.len(), 6);
    let replayed = Session::replay(recording).unwrap();
    assert_eq!(replayed.sim().events(), session.sim().events());
    assert_eq!(replayed.sim().now_ms(), session.sim().now_ms());
    assert_eq!(replayed.sim().trace_hash(), session.sim().trace_hash());
    assert_eq!(replayed.sim().snapshot(), session.sim().snapshot());
}

#[test]
fn the_recording_survives_json_and_reproduces_the_run() {
    let session = interactive(8);
    let json = serde_json::to_string(&session.recording_now()).unwrap();
    let recording: Recording = serde_json::from_str(&json).unwrap();
    let replayed = Session::replay(recording).unwrap();
    assert_eq!(replayed.sim().trace_hash(), session.sim().trace_hash());
    // Unknown fields are refused with a message naming them.
    let error = serde_json::from_str::<Recording>(&json.replacen("\"spec\"", "\"spek\"", 1)).unwrap_err();
    assert!(error.to_string().contains("spek"), "{error}");
}

#[test]
fn seeking_back_and_forward_returns_to_the_same_state() {
    let mut session = interactive(9);
    let head = session.sim().events();
    let hash = session.sim().trace_hash();
    // Back to before the crash, then forward again: the recorded crash and restart replay.
    session.seek(head / 3).unwrap();
    assert_eq!(session.sim().events(), head / 3);
    assert_eq!(session.head_event(), head, "the future is kept");
    session.seek(head).unwrap();
    assert_eq!(session.sim().trace_hash(), hash);
    // Seeking to each point gives the state a straight run had there.
    let mut straight = Session::replay(session.recording_now()).unwrap();
    straight.seek(head / 2).unwrap();
    let mut other = Session::replay(session.recording_now()).unwrap();
    other.seek(1).unwrap();
    other.seek(head / 2).unwrap();
    assert_eq!(other.sim().trace_hash(), straight.sim().trace_hash());
}

#[test]
fn acting_in_the_past_forks_the_future() {
    let mut session = interactive(10);
    let crash = session.recording().steps.iter().find(|step| step.action == Action::Fault(Fault::Crash(2))).unwrap();
    let fork_at = crash.at_event - 10;
    session.seek(fork_at).unwrap();
    let kept = session.recording().steps.iter().filter(|step| step.at_event <= fork_at).count();
    session.act(Action::Fault(Fault::Isolate(1))).unwrap();
    assert_eq!(session.recording().steps.len(), kept + 1, "the recorded future after the fork is gone");
    assert_eq!(session.head_event(), fork_at);
    session.run_for(5_000).unwrap();
    let forked = session.recording_now();
    assert!(forked.steps.iter().all(|step| step.action != Action::Fault(Fault::Crash(2))));
    assert_eq!(Session::replay(forked).unwrap().sim().trace_hash(), session.sim().trace_hash());
}

#[test]
fn the_same_actions_under_another_config() {
    let session = interactive(11);
    let mut other_spec = spec(11);
    other_spec.topics[0].min_insync_replicas = 1;
    let (other, skipped) = Session::replay_with_spec(&session.recording_now(), other_spec).unwrap();
    assert_eq!(skipped, 0);
    assert_eq!(other.sim().now_ms(), session.sim().now_ms());
    assert_eq!(other.recording().steps.len(), session.recording().steps.len());
    // A config where a recorded action no longer applies: broker 4 does not exist.
    let mut recording = session.recording_now();
    recording.steps.push(rill_core::sim::session::Step {
        at_event: recording.until_event,
        at_ms: recording.until_ms,
        action: Action::Fault(Fault::Crash(4)),
    });
    let mut three = spec(11);
    three.brokers = 3;
    let (_, skipped) = Session::replay_with_spec(&recording, three).unwrap();
    assert_eq!(skipped, 1);
}

#[test]
fn bad_actions_and_recordings_are_errors_and_change_nothing() {
    let mut session = interactive(12);
    let before = session.recording_now();
    let error = session.act(Action::Fault(Fault::Crash(9))).unwrap_err();
    assert!(error.to_string().contains("BROKER_ID_NOT_REGISTERED"), "{error}");
    let error = session.act(Action::StopProducer(77)).unwrap_err();
    assert!(error.to_string().contains("INVALID_REQUEST"), "{error}");
    assert_eq!(session.recording_now(), before);
    let mut shuffled = before.clone();
    shuffled.steps.reverse();
    assert!(Session::replay(shuffled).is_err());
}

#[test]
fn final_report_checks_a_copy() {
    let session = interactive(13);
    let events = session.sim().events();
    let report = session.final_report(20_000).unwrap();
    assert!(report.acknowledged.total() > 100, "{report:?}");
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(session.sim().events(), events, "the session itself did not move");
}

#[test]
fn an_edited_spec_whose_run_passes_a_recorded_action_is_refused_not_run_without_it() {
    // An exported run whose spec was edited by hand (here: another seed, so another schedule):
    // the recorded actions, keyed by event number, no longer line up. Replaying it must say so
    // rather than run on with the crash silently dropped; by time, the actions still apply.
    let mut recording = interactive(7).recording_now();
    recording.spec.seed = 8;
    recording.spec.consumers = vec![vec!["orders".into()]];
    let error = Session::replay(recording.clone()).expect_err("the actions no longer fit");
    assert!(error.message.starts_with(rill_core::sim::session::MISALIGNED), "{}", error.message);
    let (by_time, skipped) = Session::replay_with_spec(&recording, recording.spec.clone()).unwrap();
    assert_eq!(skipped, 0);
    assert_eq!(by_time.recording().steps.len(), recording.steps.len());
    assert_eq!(by_time.sim().now_ms(), recording.until_ms);
}
