//! Guided scenarios: a cluster, a script of faults and clients at fixed virtual times, and the
//! lesson it teaches. Each is turned into a [`Recording`] up front so the timeline covers the
//! whole story from the start (scrub to any moment, fork from it).

use rill_core::error::Result;
use rill_core::sim::session::{Action, Recording, Session};
use rill_core::sim::spec::{AcksSpec, ClusterSpec, GroupMemberSpec, ProduceSpec, TopicSpec, WorkloadSpec};
use rill_core::sim::Fault;

/// Trace events a dashboard session keeps in memory (the event log keeps its own digest).
pub const TRACE_LIMIT: usize = 20_000;

/// A guided scenario.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// URL-safe id.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// What happens.
    pub story: &'static str,
    /// What to notice.
    pub lesson: &'static str,
    /// The spec.
    pub spec: fn() -> ClusterSpec,
    /// The script: (virtual time, action).
    pub script: fn() -> Vec<(u64, Action)>,
    /// How long the script runs.
    pub duration_ms: u64,
    /// Where playing pauses to point at something: (virtual time, what to look at).
    pub chapters: &'static [(u64, &'static str)],
}

impl Scenario {
    /// The scenario's run as a recording (the script applied at its times).
    pub fn recording(&self) -> Result<Recording> {
        script((self.spec)(), &(self.script)(), self.duration_ms)
    }
}

/// Runs `actions` (sorted by time) on a fresh session of `spec` for `duration_ms`.
pub fn script(spec: ClusterSpec, actions: &[(u64, Action)], duration_ms: u64) -> Result<Recording> {
    let mut session = Session::new(spec)?;
    for (at_ms, action) in actions {
        let now_ms = session.sim().now_ms();
        session.run_for(at_ms.saturating_sub(now_ms))?;
        session.act(action.clone())?;
    }
    let now_ms = session.sim().now_ms();
    session.run_for(duration_ms.saturating_sub(now_ms))?;
    Ok(session.recording_now())
}

/// A topic spec with Kafka's defaults.
#[must_use]
pub fn topic(name: &str, partitions: i32, replication_factor: i16, min_insync_replicas: i32) -> TopicSpec {
    TopicSpec {
        name: name.to_owned(),
        partitions,
        replication_factor: Some(replication_factor),
        min_insync_replicas,
        unclean_leader_election: false,
        configs: Default::default(),
        assignment: None,
    }
}

/// Four brokers; `orders` has one partition on brokers 1, 2, 3 (leader 1) and the controller
/// lives on broker 4, so faults on the replicas never take the controller down.
fn four_brokers(min_insync_replicas: i32, unclean: bool) -> ClusterSpec {
    let mut orders = topic("orders", 1, 3, min_insync_replicas);
    orders.unclean_leader_election = unclean;
    orders.assignment = Some(vec![vec![1, 2, 3]]);
    ClusterSpec {
        seed: 11,
        brokers: 4,
        controller_host: Some(4),
        topics: vec![orders],
        trace_limit: Some(TRACE_LIMIT),
        ..ClusterSpec::default()
    }
}

/// A steady workload to `orders`.
#[must_use]
pub fn workload(acks: i16, interval_ms: u64, records: u64) -> WorkloadSpec {
    WorkloadSpec {
        topic: "orders".to_owned(),
        acks: Some(AcksSpec::Number(acks)),
        interval_ms,
        records,
        start_ms: 0,
        keyed: true,
        enable_idempotence: acks == -1,
    }
}

fn fault(at_ms: u64, fault: Fault) -> (u64, Action) {
    (at_ms, Action::Fault(fault))
}

fn crash_before_replicating(acks: i16) -> Vec<(u64, Action)> {
    vec![
        (1_000, Action::StartProducer(workload(acks, 100, 150))),
        fault(2_000, Fault::CutLink { from: 1, to: 2 }),
        fault(2_000, Fault::CutLink { from: 1, to: 3 }),
        fault(4_000, Fault::Kill(1)),
        fault(20_000, Fault::Restart(1)),
        fault(20_000, Fault::HealNetwork),
    ]
}

fn member(group_id: &str, session_timeout_ms: u64) -> Action {
    Action::AddMember(GroupMemberSpec {
        group_id: group_id.to_owned(),
        topics: vec!["orders".to_owned()],
        assignor: Some("range".to_owned()),
        auto_offset_reset: Some("earliest".to_owned()),
        session_timeout_ms: Some(session_timeout_ms),
        group_protocol: None,
    })
}

/// Four brokers and `orders` with six partitions (the consumer-group scenarios).
fn six_partitions(seed: u64) -> ClusterSpec {
    ClusterSpec {
        seed,
        brokers: 4,
        topics: vec![topic("orders", 6, 3, 2)],
        trace_limit: Some(TRACE_LIMIT),
        ..ClusterSpec::default()
    }
}

/// A KIP-848 member (`group.protocol=consumer`, the coordinator's `uniform` assignor).
fn consumer_protocol_member(group_id: &str) -> Action {
    Action::AddMember(GroupMemberSpec {
        group_id: group_id.to_owned(),
        topics: vec!["orders".to_owned()],
        assignor: None,
        auto_offset_reset: Some("earliest".to_owned()),
        session_timeout_ms: None,
        group_protocol: Some("consumer".to_owned()),
    })
}

mod catalog;
pub use catalog::SCENARIOS;

/// Six brokers in racks a, a, b, b, c, c; the controller on broker 6 (rack c); orders with 6
/// partitions, RF 3, min.insync.replicas=2; followers leave the ISR after 5 s behind.
#[must_use]
pub fn rack_spec() -> ClusterSpec {
    let mut spec = ClusterSpec {
        seed: 21,
        brokers: 6,
        controller_host: Some(6),
        topics: vec![topic("orders", 6, 3, 2)],
        trace_limit: Some(TRACE_LIMIT),
        racks: ["a", "a", "b", "b", "c", "c"].map(str::to_owned).to_vec(),
        ..ClusterSpec::default()
    };
    spec.broker_configs.insert("replica.lag.time.max.ms".into(), "5000".into());
    spec
}

/// When the leader dies in the KIP-101 scenario: just after it acknowledged a write, before
/// broker 3 learnt the high watermark that covers it (found by searching this seed's run:
/// such windows last ~150 ms of every ~600).
pub const KIP_101_KILL_MS: u64 = 6_000;

/// Four brokers, min.insync.replicas=2, a slow network (a follower learns the high watermark
/// a round trip after the leader), replicating as before KIP-101 when `truncate` is set.
#[must_use]
pub fn before_kip_101_spec(truncate: bool) -> ClusterSpec {
    let mut spec = four_brokers(2, false);
    spec.latency_min_ms = 40;
    spec.latency_max_ms = 120;
    spec.broker_configs.insert("rill.truncate.to.high.watermark".into(), truncate.to_string());
    spec
}

/// The leader dies while broker 2 cannot reach broker 3; 2 leads, then dies too; 3 leads.
#[must_use]
pub fn two_leaders_die(kill_ms: u64) -> Vec<(u64, Action)> {
    vec![
        (1_000, Action::StartProducer(workload(-1, 100, 400))),
        fault(kill_ms, Fault::CutLink { from: 2, to: 3 }),
        fault(kill_ms, Fault::Kill(1)),
        fault(kill_ms + 12_000, Fault::Kill(2)),
        fault(kill_ms + 25_000, Fault::Restart(1)),
        fault(kill_ms + 25_000, Fault::Restart(2)),
        fault(kill_ms + 25_000, Fault::HealNetwork),
    ]
}

/// Three brokers, orders-0 on all three led by broker 1, and the controller quorum on
/// `controllers`: the brokers themselves (combined nodes; with seed 12 the quorum elects node
/// 2's controller first) or controller-only nodes 4, 5, 6 (it elects node 5 first).
fn three_brokers_with_controllers(controllers: [i32; 3]) -> ClusterSpec {
    let mut orders = topic("orders", 1, 3, 2);
    orders.assignment = Some(vec![vec![1, 2, 3]]);
    ClusterSpec {
        seed: 12,
        brokers: 3,
        controllers: controllers.to_vec(),
        topics: vec![orders],
        trace_limit: Some(TRACE_LIMIT),
        ..ClusterSpec::default()
    }
}

/// Three combined nodes (broker and controller each).
fn quorum_of_three() -> ClusterSpec {
    three_brokers_with_controllers([1, 2, 3])
}

/// Three brokers and three controller-only nodes (4, 5, 6).
fn separate_controllers() -> ClusterSpec {
    three_brokers_with_controllers([4, 5, 6])
}

/// Four brokers whose replica fetches time out after 3 s (seed 18).
fn lossy_network() -> ClusterSpec {
    let mut spec = four_brokers(2, false);
    spec.seed = 18;
    spec.broker_configs.insert("replica.socket.timeout.ms".into(), "3000".into());
    spec
}

/// acks=all writes, with or without idempotence, while 20 % of messages are dropped (2–15 s).
fn lossy_writes(enable_idempotence: bool) -> Vec<(u64, Action)> {
    let mut producer = workload(-1, 20, 1_000);
    producer.enable_idempotence = enable_idempotence;
    vec![
        (1_000, Action::StartProducer(producer)),
        fault(2_000, Fault::SetDropRate(200_000)),
        fault(15_000, Fault::SetDropRate(0)),
    ]
}

/// A steady acks=all workload; at 5 s `stop` hits brokers 1, 2 and 3 together, back at 8 s.
fn every_replica_stops(stop: fn(i32) -> Fault) -> Vec<(u64, Action)> {
    let mut script = vec![(1_000, Action::StartProducer(workload(-1, 20, 1_000)))];
    script.extend((1..=3).map(|broker| fault(5_000, stop(broker))));
    script.extend((1..=3).map(|broker| fault(8_000, Fault::Restart(broker))));
    script
}

/// The load used to measure frame time: 5 brokers, 12 partitions (RF 3), 1000 records/s.
/// Size-based retention (256 KiB per partition in 64 KiB segments, checked every 5 s) keeps a
/// long run's logs — and so the page's memory — bounded, as a real cluster's retention does.
#[must_use]
pub fn load_spec() -> ClusterSpec {
    let mut orders = topic("orders", 12, 3, 2);
    for (key, value) in [("retention.bytes", "262144"), ("segment.bytes", "65536")] {
        orders.configs.insert(key.to_owned(), value.to_owned());
    }
    let mut spec = ClusterSpec {
        seed: 5,
        brokers: 5,
        topics: vec![orders],
        trace_limit: Some(TRACE_LIMIT),
        ..ClusterSpec::default()
    };
    spec.broker_configs.insert("log.retention.check.interval.ms".into(), "5000".into());
    spec
}

/// The load's producer: 1000 acks=1 records per second for a long time.
#[must_use]
pub fn load_workload() -> WorkloadSpec {
    let mut producer = workload(1, 1, 100_000_000);
    producer.enable_idempotence = false;
    producer
}

/// A scenario by id.
#[must_use]
pub fn find(id: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|scenario| scenario.id == id)
}
