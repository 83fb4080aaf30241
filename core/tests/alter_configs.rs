//! Changing a topic's config while it runs (`IncrementalAlterConfigs`, as `kafka-configs
//! --alter` sends it): the client asks a broker, the broker forwards to the controller, the
//! controller changes the topic's config in the metadata, and the broker's log takes it up.
//! Bad requests are refused with Kafka's error codes and words.

mod one_node;

use one_node::Cluster;
use rill_core::error::ErrorCode;
use rill_core::protocol::{AlterTopicConfig, AlterTopicConfigResponse, ConfigOperation, Message, TopicPartition};

/// One change: key, operation, value.
type Change<'a> = (&'a str, ConfigOperation, Option<&'a str>);

fn alter(cluster: &mut Cluster, id: u64, topic: &str, changes: &[Change<'_>]) -> AlterTopicConfigResponse {
    let changes = changes.iter().map(|(k, op, v)| ((*k).to_owned(), *op, v.map(str::to_owned))).collect();
    cluster.send(
        id,
        Message::AlterTopicConfig(AlterTopicConfig {
            topic: topic.to_owned(),
            changes,
            validate_only: false,
            replace: false,
        }),
    );
    cluster
        .answers
        .iter()
        .find_map(|(answered, message)| match message {
            Message::AlterTopicConfigResponse(response) if *answered == id => Some(response.clone()),
            _ => None,
        })
        .expect("the broker answered")
}

fn log_config(cluster: &Cluster, key: &str) -> String {
    cluster.broker.log(&TopicPartition::new("t", 0)).expect("replica").config().get(key).expect("known key")
}

#[test]
fn a_config_change_reaches_the_log_and_delete_restores_the_default() {
    let mut cluster = Cluster::new();
    assert_eq!(log_config(&cluster, "retention.ms"), "604800000");
    let answer = alter(&mut cluster, 10, "t", &[("retention.ms", ConfigOperation::Set, Some("3600000"))]);
    assert_eq!(answer.error, ErrorCode::None, "{answer:?}");
    cluster.tick(200);
    assert_eq!(log_config(&cluster, "retention.ms"), "3600000", "the broker's log took the new value");
    let answer = alter(&mut cluster, 11, "t", &[("cleanup.policy", ConfigOperation::Append, Some("compact"))]);
    assert_eq!(answer.error, ErrorCode::None);
    cluster.tick(300);
    assert_eq!(log_config(&cluster, "cleanup.policy"), "delete,compact");
    let answer = alter(
        &mut cluster,
        12,
        "t",
        &[
            ("retention.ms", ConfigOperation::Delete, None),
            ("cleanup.policy", ConfigOperation::Subtract, Some("delete")),
        ],
    );
    assert_eq!(answer.error, ErrorCode::None);
    cluster.tick(400);
    assert_eq!(log_config(&cluster, "retention.ms"), "604800000", "back to the broker's default");
    assert_eq!(log_config(&cluster, "cleanup.policy"), "compact");
}

/// The legacy AlterConfigs: what it names replaces every override; the rest is the default.
#[test]
fn the_legacy_alter_configs_resets_what_it_does_not_name() {
    let mut cluster = Cluster::new();
    alter(&mut cluster, 30, "t", &[("cleanup.policy", ConfigOperation::Set, Some("compact"))]);
    cluster.send(
        31,
        Message::AlterTopicConfig(AlterTopicConfig {
            topic: "t".to_owned(),
            changes: vec![("retention.ms".to_owned(), ConfigOperation::Set, Some("1000".to_owned()))],
            validate_only: false,
            replace: true,
        }),
    );
    cluster.tick(600);
    assert_eq!(log_config(&cluster, "retention.ms"), "1000");
    assert_eq!(log_config(&cluster, "cleanup.policy"), "delete", "not named: back to the default");
}

#[test]
fn bad_changes_are_refused_and_change_nothing() {
    let mut cluster = Cluster::new();
    let cases: [(&str, Change<'_>, ErrorCode, &str); 5] = [
        (
            "nope",
            ("retention.ms", ConfigOperation::Set, Some("1")),
            ErrorCode::UnknownTopicOrPartition,
            "The topic 'nope' does not exist.",
        ),
        (
            "t",
            ("retention.mss", ConfigOperation::Set, Some("1")),
            ErrorCode::InvalidConfig,
            "Unknown topic config name: retention.mss",
        ),
        ("t", ("retention.ms", ConfigOperation::Set, Some("abc")), ErrorCode::InvalidConfig, "retention.ms"),
        (
            "t",
            ("min.insync.replicas", ConfigOperation::Set, Some("0")),
            ErrorCode::InvalidConfig,
            "min.insync.replicas",
        ),
        (
            "t",
            ("retention.ms", ConfigOperation::Append, Some("5")),
            ErrorCode::InvalidConfig,
            "Config value append is not allowed for config key: retention.ms",
        ),
    ];
    for (id, (topic, change, code, words)) in (20..).zip(cases) {
        let answer = alter(&mut cluster, id, topic, &[change]);
        assert_eq!(answer.error, code, "{topic} {change:?}: {answer:?}");
        assert!(answer.message.as_deref().unwrap_or_default().contains(words), "{answer:?} should say {words:?}");
    }
    cluster.tick(500);
    assert_eq!(log_config(&cluster, "retention.ms"), "604800000", "nothing changed");
    assert_eq!(log_config(&cluster, "min.insync.replicas"), "1");
}
