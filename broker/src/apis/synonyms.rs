//! DescribeConfigs' sources and synonyms, Kafka's way (KIP-226): a topic config's value comes
//! from the topic's own override (`DYNAMIC_TOPIC_CONFIG`), else from its broker synonym
//! (`log.retention.ms` for `retention.ms`: Kafka's `ServerTopicConfigSynonyms`) set in the
//! broker's file (`STATIC_BROKER_CONFIG`), else from that synonym's default (`DEFAULT_CONFIG`).
//! The synonyms list every level that holds a value, highest first; the config's source is the
//! first one's. Kafka lists a broker synonym only from the primary one on (`log.retention.hours`
//! alone is not listed for `retention.ms`), and so does Rill. Rill has no dynamic broker
//! configs, so the `DYNAMIC_*_BROKER_CONFIG` levels never appear.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_configs_response::DescribeConfigsSynonym;

use super::str_bytes;
use crate::kafka_config::kafka_key;

/// `DYNAMIC_TOPIC_CONFIG`.
pub const DYNAMIC_TOPIC_CONFIG: i8 = 1;
/// `STATIC_BROKER_CONFIG`.
pub const STATIC_BROKER_CONFIG: i8 = 4;
/// `DEFAULT_CONFIG`.
pub const DEFAULT_CONFIG: i8 = 5;

/// Each topic config Rill serves and its broker synonyms, the primary first (Kafka's
/// `ServerTopicConfigSynonyms.ALL_TOPIC_CONFIG_SYNONYMS`).
const TOPIC_SYNONYMS: &[(&str, &[&str])] = &[
    ("cleanup.policy", &["log.cleanup.policy"]),
    ("compression.type", &["compression.type"]),
    ("delete.retention.ms", &["log.cleaner.delete.retention.ms"]),
    ("flush.messages", &["log.flush.interval.messages"]),
    ("flush.ms", &["log.flush.interval.ms", "log.flush.scheduler.interval.ms"]),
    ("max.message.bytes", &["message.max.bytes"]),
    ("message.timestamp.type", &["log.message.timestamp.type"]),
    ("min.cleanable.dirty.ratio", &["log.cleaner.min.cleanable.ratio"]),
    ("min.insync.replicas", &["min.insync.replicas"]),
    ("retention.bytes", &["log.retention.bytes"]),
    ("retention.ms", &["log.retention.ms", "log.retention.minutes", "log.retention.hours"]),
    ("segment.bytes", &["log.segment.bytes"]),
    ("segment.ms", &["log.roll.ms", "log.roll.hours"]),
    ("unclean.leader.election.enable", &["unclean.leader.election.enable"]),
];

/// The broker keys that stand for the same setting as `key` (Kafka's
/// `DynamicBrokerConfig.brokerConfigSynonyms`): the time units of one duration, else itself.
fn broker_synonym_names(key: &str) -> Vec<&str> {
    let group = TOPIC_SYNONYMS.iter().map(|(_, names)| *names).find(|names| names.len() > 1 && names.contains(&key));
    group.map_or_else(|| vec![key], <[&str]>::to_vec)
}

fn synonym(name: &str, value: &str, source: i8) -> DescribeConfigsSynonym {
    let mut synonym = DescribeConfigsSynonym::default();
    synonym.name = str_bytes(name);
    synonym.value = Some(str_bytes(value));
    synonym.source = source;
    synonym
}

/// The broker-level synonyms of broker key `key`: those set in the broker's file, then those
/// with a default, from `key` on. `given` holds the keys set in the file or with `--set`;
/// `rill_default` gives the default of a key Kafka does not know.
pub fn broker_synonyms(
    key: &str,
    given: &BTreeMap<String, String>,
    rill_default: impl Fn(&str) -> Option<String>,
) -> Vec<DescribeConfigsSynonym> {
    let names = broker_synonym_names(key);
    let mut list: Vec<DescribeConfigsSynonym> = names
        .iter()
        .filter_map(|name| given.get(*name).map(|value| synonym(name, value, STATIC_BROKER_CONFIG)))
        .collect();
    for name in &names {
        let default = match kafka_key(name) {
            Some(known) => known.default.map(str::to_owned),
            None => rill_default(name),
        };
        if let Some(default) = default.filter(|value| !value.is_empty()) {
            list.push(synonym(name, &default, DEFAULT_CONFIG));
        }
    }
    let from = list.iter().position(|s| s.name.as_str() == key).unwrap_or(list.len());
    list.split_off(from)
}

/// The synonyms of topic config `key` whose value is `value`: the topic's own when
/// `overridden`, then its primary broker synonym's.
pub fn topic_synonyms(
    key: &str,
    value: &str,
    overridden: bool,
    given: &BTreeMap<String, String>,
) -> Vec<DescribeConfigsSynonym> {
    let mut list = Vec::new();
    if overridden {
        list.push(synonym(key, value, DYNAMIC_TOPIC_CONFIG));
    }
    if let Some((_, names)) = TOPIC_SYNONYMS.iter().find(|(topic_key, _)| *topic_key == key) {
        list.extend(broker_synonyms(names[0], given, |_| None));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(list: &[DescribeConfigsSynonym]) -> Vec<String> {
        list.iter().map(|s| format!("{}:{}={}", s.source, s.name.as_str(), s.value.as_deref().unwrap_or(""))).collect()
    }

    #[test]
    fn a_topic_override_comes_first_then_the_brokers_file_then_kafkas_default() {
        let mut given = BTreeMap::new();
        assert_eq!(
            shown(&topic_synonyms("cleanup.policy", "compact", true, &given)),
            ["1:cleanup.policy=compact", "5:log.cleanup.policy=delete"]
        );
        given.insert("log.segment.bytes".to_owned(), "8192".to_owned());
        assert_eq!(
            shown(&topic_synonyms("segment.bytes", "8192", false, &given)),
            ["4:log.segment.bytes=8192", "5:log.segment.bytes=1073741824"]
        );
    }

    #[test]
    fn retention_lists_only_from_its_primary_synonym_as_kafka_does() {
        let mut given = BTreeMap::new();
        // Only log.retention.hours has a default, and it comes after log.retention.ms.
        assert!(topic_synonyms("retention.ms", "604800000", false, &given).is_empty());
        given.insert("log.retention.ms".to_owned(), "1000".to_owned());
        given.insert("log.retention.hours".to_owned(), "1".to_owned());
        assert_eq!(
            shown(&topic_synonyms("retention.ms", "1000", false, &given)),
            ["4:log.retention.ms=1000", "4:log.retention.hours=1", "5:log.retention.hours=168"]
        );
        // Described as a broker config, log.retention.hours starts its own list.
        assert_eq!(
            shown(&broker_synonyms("log.retention.hours", &given, |_| None)),
            ["4:log.retention.hours=1", "5:log.retention.hours=168"]
        );
    }
}
