//! Topic creation and deletion errors, like Kafka's CreateTopics / DeleteTopics.

use rill_core::config::BrokerConfig;
use rill_core::placement::BrokerInfo;
use rill_core::rng::Rng;
use rill_core::topic::{validate_topic_name, NewTopic, Topics};
use rill_core::ErrorCode;

fn brokers(count: i32) -> Vec<BrokerInfo> {
    (1..=count).map(BrokerInfo::new).collect()
}

fn create(topics: &mut Topics, request: &NewTopic) -> Result<(), rill_core::Error> {
    let config = BrokerConfig::for_node(1);
    topics.create(request, &config, &brokers(3), &mut Rng::from_seed(5)).map(|_| ())
}

#[test]
fn create_and_describe() {
    let mut topics = Topics::new();
    create(&mut topics, &NewTopic::new("orders", 6, 3).config("min.insync.replicas", "2")).unwrap();
    let topic = topics.get("orders").unwrap();
    assert_eq!(topic.partition_count(), 6);
    assert_eq!(topic.replication_factor(), 3);
    assert_eq!(topic.config.min_insync_replicas, 2);
    assert_ne!(topic.topic_id, 0);
    for replicas in &topic.assignment {
        let mut sorted = replicas.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3], "RF 3 on 3 brokers uses each broker once");
    }
}

#[test]
fn defaults_apply_for_minus_one() {
    let mut topics = Topics::new();
    let mut config = BrokerConfig::for_node(1);
    config.num_partitions = 4;
    config.default_replication_factor = 2;
    topics.create(&NewTopic::new("t", -1, -1), &config, &brokers(3), &mut Rng::from_seed(1)).unwrap();
    let topic = topics.get("t").unwrap();
    assert_eq!((topic.partition_count(), topic.replication_factor()), (4, 2));
}

#[test]
fn replication_factor_errors() {
    let mut topics = Topics::new();
    let error = create(&mut topics, &NewTopic::new("t", 1, 4)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicationFactor);
    assert!(error.message.contains("larger than available brokers: 3"), "{error}");
    let error = create(&mut topics, &NewTopic::new("t", 1, 0)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicationFactor);
    let error = create(&mut topics, &NewTopic::new("t", 1, -2)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicationFactor);

    let mut config = BrokerConfig::for_node(1);
    config.max_replication_factor = 2;
    let error = topics.create(&NewTopic::new("t", 1, 3), &config, &brokers(5), &mut Rng::from_seed(1)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicationFactor);
    assert!(error.message.contains("rill.max.replication.factor 2"), "{error}");
    assert!(topics.is_empty(), "nothing is created on error");
}

#[test]
fn partition_errors() {
    let mut topics = Topics::new();
    assert_eq!(create(&mut topics, &NewTopic::new("t", 0, 1)).unwrap_err().code, ErrorCode::InvalidPartitions);
    let error = create(&mut topics, &NewTopic::new("t", 10_001, 1)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidPartitions);
    assert!(error.message.contains("rill.max.partitions.per.topic"), "{error}");
}

#[test]
fn already_exists_and_collisions() {
    let mut topics = Topics::new();
    create(&mut topics, &NewTopic::new("my.topic", 1, 1)).unwrap();
    let error = create(&mut topics, &NewTopic::new("my.topic", 1, 1)).unwrap_err();
    assert_eq!(error.code, ErrorCode::TopicAlreadyExists);
    assert!(error.message.contains("my.topic"));
    let error = create(&mut topics, &NewTopic::new("my_topic", 1, 1)).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidTopicException);
    assert!(error.message.contains("collides"), "{error}");
    assert_eq!(topics.len(), 1);
}

#[test]
fn name_validation() {
    for good in ["a", "orders-2024", "A.b_c-D", "__consumer_offsets", &"x".repeat(249)] {
        validate_topic_name(good).unwrap();
    }
    for bad in ["", ".", "..", "has space", "slash/name", "ünïcode", &"x".repeat(250)] {
        let error = validate_topic_name(bad).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidTopicException, "{bad:?}");
    }
    let mut topics = Topics::new();
    let error = create(&mut topics, &NewTopic::new("bad name", 1, 1)).unwrap_err();
    assert!(error.message.contains("' '"), "{error}");
}

#[test]
fn invalid_configs_are_invalid_config() {
    let mut topics = Topics::new();
    let error = create(&mut topics, &NewTopic::new("t", 1, 1).config("retention.ms", "forever")).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidConfig);
    assert!(error.message.contains("retention.ms") && error.message.contains("forever"), "{error}");
    let error = create(&mut topics, &NewTopic::new("t", 1, 1).config("no.such.key", "1")).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidConfig);
    assert!(topics.is_empty());
}

#[test]
fn manual_assignment_is_checked() {
    let mut topics = Topics::new();
    let mut request = NewTopic::new("t", -1, -1);
    request.assignment = Some(vec![vec![1, 2], vec![2, 2]]);
    let error = create(&mut topics, &request).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicaAssignment);
    assert!(error.message.contains("broker 2 twice"), "{error}");
    request.assignment = Some(vec![vec![1, 9]]);
    assert!(create(&mut topics, &request).unwrap_err().message.contains("unknown broker 9"));
    request.assignment = Some(vec![vec![1, 2], vec![3]]);
    assert_eq!(create(&mut topics, &request).unwrap_err().code, ErrorCode::InvalidReplicaAssignment);
    request.assignment = Some(vec![vec![3, 1], vec![1, 2]]);
    create(&mut topics, &request).unwrap();
    assert_eq!(topics.get("t").unwrap().assignment, vec![vec![3, 1], vec![1, 2]]);
}

#[test]
fn delete_unknown_and_disabled() {
    let mut topics = Topics::new();
    let config = BrokerConfig::for_node(1);
    assert_eq!(topics.delete("nope", &config).unwrap_err().code, ErrorCode::UnknownTopicOrPartition);
    create(&mut topics, &NewTopic::new("t", 2, 1)).unwrap();
    let mut disabled = config.clone();
    disabled.delete_topic_enable = false;
    assert_eq!(topics.delete("t", &disabled).unwrap_err().code, ErrorCode::TopicDeletionDisabled);
    assert_eq!(topics.delete("t", &config).unwrap().partition_count(), 2);
    assert!(topics.get("t").is_none());
}

#[test]
fn deleting_a_topic_removes_it_everywhere_and_keeps_the_others() {
    use rill_core::error::ErrorCode;
    use rill_core::sim::spec::{AcksSpec, ClusterSpec, ProduceSpec, TopicSpec};
    use rill_core::sim::Sim;
    let topic = |name: &str| TopicSpec {
        name: name.into(),
        partitions: 2,
        replication_factor: Some(3),
        min_insync_replicas: 2,
        unclean_leader_election: false,
        configs: Default::default(),
        assignment: None,
    };
    let spec = ClusterSpec { seed: 3, brokers: 3, topics: vec![topic("old"), topic("kept")], ..ClusterSpec::default() };
    let mut sim = Sim::from_spec(&spec).unwrap();
    sim.run_for(500);
    for name in ["old", "kept"] {
        for i in 0..5 {
            let produce = ProduceSpec {
                topic: name.into(),
                key: Some(format!("k{i}")),
                value: Some("v".into()),
                acks: Some(AcksSpec::Number(-1)),
                partition: None,
            };
            sim.produce(&produce).unwrap();
        }
    }
    sim.run_for(2_000);
    sim.delete_topic("old").unwrap();
    sim.run_for(2_000);
    assert!(!sim.metadata().topics.contains_key("old"));
    for broker in 1..=3 {
        let node = sim.broker(broker).unwrap();
        assert!(node.log(&Sim::tp("old", 0)).is_none(), "broker {broker} dropped old-0");
        assert!(node.log(&Sim::tp("kept", 0)).is_some(), "broker {broker} kept kept-0");
    }
    let produce = ProduceSpec { topic: "old".into(), key: None, value: None, acks: None, partition: None };
    assert_eq!(sim.produce(&produce).unwrap_err().code, ErrorCode::UnknownTopicOrPartition);
    assert_eq!(sim.delete_topic("old").unwrap_err().code, ErrorCode::UnknownTopicOrPartition);
    assert_eq!(sim.delete_topic("__consumer_offsets").unwrap_err().code, ErrorCode::InvalidTopicException);
    let summary = sim.finish(10_000);
    assert!(summary.report.violations.is_empty(), "{:?}", summary.report.violations);
    assert_eq!(summary.report.lost.total(), 0, "deleted on purpose is not lost: {:?}", summary.report);
}

#[test]
fn partitions_are_added_placed_like_a_new_topics_and_never_removed() {
    use rill_core::config::BrokerConfig;
    use rill_core::placement::BrokerInfo;
    use rill_core::rng::Rng;
    use rill_core::topic::{NewTopic, Topics};
    let config = BrokerConfig::default();
    let brokers: Vec<BrokerInfo> = (1..=3).map(BrokerInfo::new).collect();
    let mut rng = Rng::from_seed(3);
    let mut topics = Topics::new();
    topics.create(&NewTopic::new("t", 2, 2), &config, &brokers, &mut rng).unwrap();
    let added = topics.add_partitions("t", 5, &config, &brokers, &mut rng).unwrap();
    assert_eq!(added.len(), 3);
    assert!(added.iter().all(|replicas| replicas.len() == 2), "the topic's replication factor: {added:?}");
    assert_eq!(topics.get("t").unwrap().assignment.len(), 5);
    let error = topics.add_partitions("t", 4, &config, &brokers, &mut rng).unwrap_err();
    assert_eq!(error.message, "The topic t currently has 5 partition(s); 4 would not be an increase.");
    assert!(topics.add_partitions("t", 5, &config, &brokers, &mut rng).is_err());
    assert_eq!(
        topics.add_partitions("nope", 5, &config, &brokers, &mut rng).unwrap_err().code.name(),
        "UNKNOWN_TOPIC_OR_PARTITION"
    );
}
