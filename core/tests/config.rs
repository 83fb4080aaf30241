//! Config parsing and validation: Kafka's names and defaults, errors that name key and value.

use rill_core::config::{BrokerConfig, CleanupPolicy, ConfigValue, Ratio, TimestampType, TopicConfig};
use rill_core::{Error, ErrorCode};

#[test]
fn defaults_are_kafkas() {
    let topic = TopicConfig::default();
    assert_eq!(topic.retention_ms, 604_800_000, "retention.ms is 168 h");
    assert_eq!(topic.retention_bytes, -1);
    assert_eq!(topic.segment_bytes, 1_073_741_824);
    assert_eq!(topic.segment_ms, 604_800_000);
    assert_eq!(topic.min_insync_replicas, 1);
    assert!(!topic.unclean_leader_election_enable);
    assert_eq!(topic.cleanup_policy, CleanupPolicy::DELETE);
    assert_eq!(topic.max_message_bytes, 1_048_588);
    assert_eq!(topic.delete_retention_ms, 86_400_000);
    topic.validate().unwrap();

    let broker = BrokerConfig::for_node(1);
    assert_eq!(broker.replica_lag_time_max_ms, 30_000);
    assert_eq!(broker.broker_session_timeout_ms, 9_000);
    assert_eq!(broker.offsets_topic_num_partitions, 50);
    assert_eq!(broker.group_initial_rebalance_delay_ms, 3_000);
    assert_eq!(broker.socket_request_max_bytes, 104_857_600);
    assert_eq!(broker.max_replication_factor, 10);
    assert_eq!(broker.log_retention_ms_effective(), 604_800_000);
    assert_eq!(broker.topic_defaults(), TopicConfig::default(), "broker log.* defaults = topic defaults");
    broker.validate().unwrap();
}

#[test]
fn properties_parse_and_override() {
    let broker = BrokerConfig::from_properties(
        "# a comment\n\
         node.id=3\n\
         broker.rack = rack-a\n\
         min.insync.replicas: 2\n\
         unclean.leader.election.enable=TRUE\n\
         log.retention.hours=1\n\
         log.cleanup.policy=compact,delete\n",
    )
    .unwrap();
    assert_eq!(broker.node_id, 3);
    assert_eq!(broker.broker_rack.as_deref(), Some("rack-a"));
    assert_eq!(broker.min_insync_replicas, 2);
    assert!(broker.unclean_leader_election_enable);
    assert_eq!(broker.log_retention_ms_effective(), 3_600_000);
    let topic = broker.topic_defaults();
    assert_eq!(topic.min_insync_replicas, 2);
    assert_eq!(topic.retention_ms, 3_600_000);
    assert!(topic.cleanup_policy.compact && topic.cleanup_policy.delete);
    assert_eq!(broker.get("log.cleanup.policy").as_deref(), Some("delete,compact"));
}

#[test]
fn retention_precedence_is_ms_then_minutes_then_hours() {
    let mut broker = BrokerConfig::for_node(0);
    broker.set("log.retention.hours", "2").unwrap();
    assert_eq!(broker.log_retention_ms_effective(), 7_200_000);
    broker.set("log.retention.minutes", "3").unwrap();
    assert_eq!(broker.log_retention_ms_effective(), 180_000);
    broker.set("log.retention.ms", "42").unwrap();
    assert_eq!(broker.log_retention_ms_effective(), 42);
}

#[test]
fn structured_values_like_a_toml_table() {
    let topic = TopicConfig::from_values([
        ("retention.ms", ConfigValue::Int(1_000)),
        ("cleanup.policy", ConfigValue::List(vec!["compact".into()])),
        ("unclean.leader.election.enable", ConfigValue::Bool(true)),
        ("min.cleanable.dirty.ratio", ConfigValue::Str("0.25".into())),
        ("message.timestamp.type", ConfigValue::Str("LogAppendTime".into())),
    ])
    .unwrap();
    assert_eq!(topic.retention_ms, 1_000);
    assert_eq!(topic.cleanup_policy, CleanupPolicy::COMPACT);
    assert!(topic.unclean_leader_election_enable);
    assert_eq!(topic.min_cleanable_dirty_ratio, Ratio::from_millionths(250_000));
    assert_eq!(topic.message_timestamp_type, TimestampType::LogAppendTime);
    let overrides = topic.overrides();
    assert_eq!(overrides.len(), 5, "{overrides:?}");
    assert_eq!(overrides["retention.ms"], "1000");
}

fn topic_error(pairs: &[(&str, &str)]) -> rill_core::config::ConfigError {
    TopicConfig::from_pairs(pairs.iter().copied()).expect_err("must be rejected")
}

#[test]
fn errors_name_the_key_and_the_value() {
    let error = topic_error(&[("retention.ms", "soon")]);
    assert_eq!((error.key.as_str(), error.value.as_str()), ("retention.ms", "soon"));
    assert_eq!(error.to_string(), "Invalid value soon for configuration retention.ms: Not a number of type LONG");

    let error = topic_error(&[("retention.ms", "-2")]);
    assert_eq!((error.key.as_str(), error.value.as_str()), ("retention.ms", "-2"));
    assert_eq!(error.to_string(), "Invalid value -2 for configuration retention.ms: Value must be at least -1");

    let error = topic_error(&[("min.insync.replicas", "0")]);
    assert_eq!(error.key, "min.insync.replicas");
    assert!(error.to_string().starts_with("Invalid value 0 for configuration min.insync.replicas"), "{error}");

    let error = topic_error(&[("cleanup.policy", "shred")]);
    assert!(error.reason.contains("shred"), "{error}");

    let error = topic_error(&[("min.cleanable.dirty.ratio", "1.5")]);
    assert!(error.reason.contains("Value must be no more than 1.0"), "{error}");

    let error = topic_error(&[("unclean.leader.election.enable", "yes")]);
    assert!(error.reason.contains("true or false"), "{error}");

    let error = topic_error(&[("segment.bytes", "10")]);
    assert_eq!(error.key, "segment.bytes");
}

#[test]
fn unknown_keys_are_errors() {
    let error = topic_error(&[("retention.msx", "1")]);
    assert_eq!(error.key, "retention.msx");
    assert_eq!(error.to_string(), "Unknown topic config name: retention.msx");
    let error = BrokerConfig::from_properties("node.id=1\nlog.retention.hourz=1").unwrap_err();
    assert_eq!(error.key, "log.retention.hourz");
    // A broker key is not a topic key.
    assert_eq!(topic_error(&[("log.retention.ms", "1")]).key, "log.retention.ms");
}

#[test]
fn cross_field_rules() {
    let error = BrokerConfig::from_properties("min.insync.replicas=1").unwrap_err();
    assert_eq!(error.key, "node.id", "node.id is required");
    let error = BrokerConfig::from_properties("node.id=1\ndefault.replication.factor=11").unwrap_err();
    assert_eq!(error.key, "default.replication.factor");
    assert!(error.reason.contains("rill.max.replication.factor"), "{error}");
    let error = BrokerConfig::from_properties("node.id=1\nbroker.heartbeat.interval.ms=9000").unwrap_err();
    assert_eq!(error.key, "broker.heartbeat.interval.ms");
    let error = BrokerConfig::from_properties("node.id=1\nthis line has no equals").unwrap_err();
    assert!(error.reason.contains("line 2"), "{error}");
}

#[test]
fn config_errors_become_invalid_config() {
    let error: Error = topic_error(&[("retention.bytes", "-5")]).into();
    assert_eq!(error.code, ErrorCode::InvalidConfig);
    assert!(error.message.contains("retention.bytes"), "{error}");
}

#[test]
fn every_key_round_trips_through_get_and_set() {
    let mut topic = TopicConfig::default();
    for entry in TopicConfig::default().entries() {
        topic.set(entry.name, &entry.value).unwrap();
        assert_eq!(topic.get(entry.name), Some(entry.value.clone()), "{}", entry.name);
        assert!(entry.is_default);
        assert!(!entry.doc.is_empty());
    }
    assert_eq!(TopicConfig::KEYS.len(), topic.entries().len());
    let mut broker = BrokerConfig::for_node(0);
    for entry in BrokerConfig::for_node(0).entries() {
        broker.set(entry.name, &entry.value).unwrap();
        assert_eq!(broker.get(entry.name), Some(entry.value), "{}", entry.name);
    }
    assert_eq!(broker, BrokerConfig::for_node(0));
}

/// What a host does with a TOML file: parse it (here with the `toml` crate) and hand the table
/// over as `ConfigValue`s; nested tables from dotted keys flatten back into Kafka names.
fn from_toml(value: toml::Value) -> ConfigValue {
    match value {
        toml::Value::Boolean(value) => ConfigValue::Bool(value),
        toml::Value::Integer(value) => ConfigValue::Int(value),
        toml::Value::Float(value) => ConfigValue::Str(value.to_string()),
        toml::Value::String(value) => ConfigValue::Str(value),
        toml::Value::Array(values) => {
            ConfigValue::List(values.into_iter().map(|v| from_toml(v).to_config_string()).collect())
        }
        toml::Value::Table(table) => ConfigValue::Table(table.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
        toml::Value::Datetime(value) => ConfigValue::Str(value.to_string()),
    }
}

fn broker_from_toml(text: &str) -> Result<BrokerConfig, rill_core::config::ConfigError> {
    let table: toml::Table = text.parse().expect("valid TOML");
    BrokerConfig::from_values(table.into_iter().map(|(k, v)| (k, from_toml(v))))
}

#[test]
fn toml_files_with_dotted_keys_and_tables() {
    let broker = broker_from_toml(
        r#"
        "node.id" = 2
        min.insync.replicas = 2
        unclean.leader.election.enable = true

        [log]
        retention.hours = 24
        cleanup.policy = ["compact", "delete"]
        "#,
    )
    .unwrap();
    assert_eq!(broker.node_id, 2);
    assert_eq!(broker.min_insync_replicas, 2);
    assert!(broker.unclean_leader_election_enable);
    assert_eq!(broker.log_retention_ms_effective(), 86_400_000);
    assert!(broker.log_cleanup_policy.compact && broker.log_cleanup_policy.delete);
    let error = broker_from_toml("node.id = 1\n[log]\nretention.hourz = 1").unwrap_err();
    assert_eq!(error.key, "log.retention.hourz", "unknown keys keep their full dotted name");
    let error = broker_from_toml("node.id = 1\nmin.insync.replicas = 0").unwrap_err();
    assert_eq!((error.key.as_str(), error.value.as_str()), ("min.insync.replicas", "0"));
}

#[test]
fn ratios_parse_and_print_like_kafka_doubles() {
    for (text, millionths, printed) in [
        ("0.5", 500_000, "0.5"),
        (" .25 ", 250_000, "0.25"),
        ("1", 1_000_000, "1.0"),
        ("0", 0, "0.0"),
        ("0.125000", 125_000, "0.125"),
        ("0.000001", 1, "0.000001"),
    ] {
        let mut config = TopicConfig::default();
        config.set("min.cleanable.dirty.ratio", text).unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(config.min_cleanable_dirty_ratio, Ratio::from_millionths(millionths), "{text}");
        assert_eq!(config.min_cleanable_dirty_ratio.to_string(), printed);
    }
    for bad in ["", ".", "-0.5", "1.5", "0.5.1", "5e-1", "0.0000001", "abc", "99999999"] {
        let error = topic_error(&[("min.cleanable.dirty.ratio", bad)]);
        assert_eq!(error.key, "min.cleanable.dirty.ratio", "{bad:?}: {error}");
    }
}
