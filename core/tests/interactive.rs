//! The interactive simulation API the wasm build and the dashboard use: specs, validated
//! actions, produce, consumers and snapshots.

use rill_core::error::ErrorCode;
use rill_core::sim::spec::{AcksSpec, ClusterSpec, ProduceSpec};
use rill_core::sim::trace::TraceKind;
use rill_core::sim::{BrokerStatus, Fault, Sim};

fn spec() -> ClusterSpec {
    serde_json::from_str(
        r#"{"seed": 7, "brokers": 3, "topics": [{"name": "orders", "partitions": 2, "minInsyncReplicas": 2}],
            "brokerConfigs": {"replica.lag.time.max.ms": "10000"}}"#,
    )
    .unwrap()
}

fn produce(topic: &str, value: &str, acks: AcksSpec) -> ProduceSpec {
    ProduceSpec {
        topic: topic.into(),
        key: Some("k".into()),
        value: Some(value.into()),
        acks: Some(acks),
        partition: None,
    }
}

#[test]
fn spec_builds_the_cluster_it_describes() {
    let sim = Sim::from_spec(&spec()).unwrap();
    let snapshot = sim.snapshot();
    assert_eq!(snapshot.brokers.len(), 3);
    assert_eq!(snapshot.partitions.len(), 2);
    assert!(snapshot.partitions.iter().all(|p| p.replicas.len() == 3 && p.leader.is_some()));
    assert_eq!(sim.config().broker_config.replica_lag_time_max_ms, 10_000);
    assert_eq!(snapshot.brokers.iter().filter(|b| b.controller).count(), 1);
}

#[test]
fn produce_then_snapshot_shows_the_records() {
    let mut sim = Sim::from_spec(&spec()).unwrap();
    sim.run_for(100);
    for (index, acks) in
        [AcksSpec::Text("all".into()), AcksSpec::Number(1), AcksSpec::Number(0)].into_iter().enumerate()
    {
        sim.produce(&produce("orders", &format!("v{index}"), acks)).unwrap();
    }
    sim.run_for(1_000);
    let acked: Vec<_> =
        sim.trace().iter().filter(|e| matches!(e.kind, TraceKind::Produced { result: Ok(_), .. })).collect();
    assert_eq!(acked.len(), 3);
    let snapshot = sim.snapshot();
    let records: usize = snapshot
        .brokers
        .iter()
        .flat_map(|b| b.replicas.iter())
        .filter(|r| r.view.is_leader)
        .map(|r| r.records.len())
        .sum();
    assert_eq!(records, 3, "each record sits once in its leader's log");
    let json = serde_json::to_value(&snapshot).unwrap();
    assert!(json["brokers"][0]["replicas"][0]["highWatermark"].is_i64(), "{json}");
    assert!(json["traceHash"].as_str().unwrap().len() == 16);
}

#[test]
fn bad_actions_are_errors_and_change_nothing() {
    let mut sim = Sim::from_spec(&spec()).unwrap();
    sim.run_for(500);
    let before = (sim.trace_hash(), sim.snapshot());
    let error = sim.act(Fault::Crash(9)).unwrap_err();
    assert_eq!(error.code, ErrorCode::BrokerIdNotRegistered);
    assert!(error.to_string().contains("there is no broker 9"), "{error}");
    assert_eq!(sim.act(Fault::Restart(1)).unwrap_err().code, ErrorCode::InvalidRequest);
    assert_eq!(sim.act(Fault::Resume(1)).unwrap_err().code, ErrorCode::InvalidRequest);
    assert_eq!(sim.act(Fault::CutLink { from: 2, to: 2 }).unwrap_err().code, ErrorCode::InvalidRequest);
    assert_eq!(
        sim.produce(&produce("nope", "v", AcksSpec::Number(1))).unwrap_err().code,
        ErrorCode::UnknownTopicOrPartition
    );
    assert_eq!(
        sim.produce(&produce("orders", "v", AcksSpec::Number(2))).unwrap_err().code,
        ErrorCode::InvalidRequiredAcks
    );
    assert_eq!(
        sim.produce(&produce("orders", "v", AcksSpec::Text("most".into()))).unwrap_err().code,
        ErrorCode::InvalidRequiredAcks
    );
    let mut bad_partition = produce("orders", "v", AcksSpec::Number(1));
    bad_partition.partition = Some(5);
    assert!(sim.produce(&bad_partition).unwrap_err().message.contains("not 5"));
    assert!(sim.add_consumer(&["missing".into()]).is_err());
    assert_eq!((sim.trace_hash(), sim.snapshot()), before, "rejected actions leave the cluster unchanged");
    sim.act(Fault::Crash(2)).unwrap();
    assert_eq!(sim.broker_status(2), Some(BrokerStatus::Down));
    assert_eq!(sim.act(Fault::Crash(2)).unwrap_err().message, "broker 2 is already down");
}

#[test]
fn bad_specs_name_the_problem() {
    let bad = |json: &str| Sim::from_spec(&serde_json::from_str::<ClusterSpec>(json).unwrap()).unwrap_err();
    assert_eq!(bad(r#"{"brokers": 0}"#).code, ErrorCode::InvalidConfig);
    assert_eq!(
        bad(r#"{"brokers": 2, "topics": [{"name": "t", "replicationFactor": 3}]}"#).code,
        ErrorCode::InvalidReplicationFactor
    );
    assert_eq!(bad(r#"{"topics": [{"name": "t", "partitions": -1}]}"#).code, ErrorCode::InvalidPartitions);
    assert_eq!(bad(r#"{"topics": [{"name": "bad name"}]}"#).code, ErrorCode::InvalidTopicException);
    let error = bad(r#"{"brokerConfigs": {"replica.lag.time.max.ms": "soon"}}"#);
    assert_eq!(error.code, ErrorCode::InvalidConfig);
    assert!(error.message.contains("replica.lag.time.max.ms"), "{error}");
    assert!(serde_json::from_str::<ClusterSpec>(r#"{"brokerz": 3}"#).is_err(), "unknown fields are rejected");
}

#[test]
fn consumers_added_later_read_from_the_start() {
    let mut sim = Sim::from_spec(&spec()).unwrap();
    sim.run_for(100);
    for index in 0..10 {
        sim.produce(&produce("orders", &format!("v{index}"), AcksSpec::Number(-1))).unwrap();
    }
    sim.run_for(1_000);
    sim.add_consumer(&["orders".into()]).unwrap();
    sim.run_for(2_000);
    assert_eq!(sim.report().consumed, 10);
}

#[test]
fn field_lists_match_the_serde_names() {
    let keys = |value: serde_json::Value| -> Vec<String> {
        let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    let sorted = |fields: &[&str]| -> Vec<String> {
        let mut fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        fields.sort();
        fields
    };
    // `racks` is left out when empty (older links stay byte for byte the same): set it here.
    let spec = ClusterSpec { racks: vec!["a".into(), "b".into(), "c".into()], ..ClusterSpec::default() };
    assert_eq!(keys(serde_json::to_value(spec).unwrap()), sorted(ClusterSpec::FIELDS));
    let topic: rill_core::sim::spec::TopicSpec = serde_json::from_str(r#"{"name": "t"}"#).unwrap();
    assert_eq!(keys(serde_json::to_value(topic).unwrap()), sorted(rill_core::sim::spec::TopicSpec::FIELDS));
    assert_eq!(
        keys(serde_json::to_value(produce("t", "v", AcksSpec::Number(1))).unwrap()),
        sorted(ProduceSpec::FIELDS)
    );
}

#[test]
fn snapshot_shows_groups_with_lag() {
    let mut sim = Sim::from_spec(&spec()).unwrap();
    sim.run_for(100);
    for index in 0..30 {
        sim.produce(&produce("orders", &format!("v{index}"), AcksSpec::Number(-1))).unwrap();
    }
    let member: rill_core::sim::spec::GroupMemberSpec =
        serde_json::from_str(r#"{"groupId": "billing", "topics": ["orders"], "autoOffsetReset": "earliest"}"#).unwrap();
    let client = sim.add_group_consumer(member.to_config().unwrap()).unwrap();
    sim.run_for(15_000);
    let snapshot = sim.snapshot();
    let group = snapshot.groups.iter().find(|g| g.group_id == "billing").expect("the group is listed");
    assert_eq!(group.state, "Stable");
    assert_eq!(group.members.len(), 1);
    assert_eq!(group.members[0].client, client);
    assert_eq!(group.members[0].partitions.len(), 2);
    assert_eq!(group.offsets.len(), 2);
    assert!(group.offsets.iter().all(|o| o.lag == Some(0)), "everything consumed and committed: {:?}", group.offsets);
    let bad: rill_core::sim::spec::GroupMemberSpec =
        serde_json::from_str(r#"{"groupId": "g", "topics": ["orders"], "assignor": "fastest"}"#).unwrap();
    assert!(bad.to_config().unwrap_err().message.contains("fastest"));
}
