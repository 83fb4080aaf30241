//! Topics: creation (with Kafka's validation), deletion and lookup.
//!
//! [`Topics`] is the cluster's topic table as the controller keeps it: names, partition
//! counts, replica assignments and configs. Validation follows Kafka's `Topic.validate` and
//! `CreateTopics`: legal names, no collisions between `.` and `_`, partitions ≥ 1, replication
//! factor ≥ 1, ≤ brokers and ≤ `rill.max.replication.factor`, at most one replica of a partition
//! per broker.

use crate::collections::VecMap;

use crate::config::{BrokerConfig, TopicConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::placement::{assign_replicas, BrokerId, BrokerInfo};
use crate::rng::Rng;

/// Longest legal topic name (Kafka's `Topic.MAX_NAME_LENGTH`).
pub const TOPIC_NAME_LENGTH_MAX: usize = 249;

/// Checks a topic name as Kafka's `Topic.validate` does.
pub fn validate_topic_name(name: &str) -> Result<()> {
    let invalid = |why: String| Err(Error::new(ErrorCode::InvalidTopicException, why));
    if name.is_empty() {
        return invalid("topic name is illegal, it can't be empty".into());
    }
    if name == "." || name == ".." {
        return invalid("topic name cannot be \".\" or \"..\"".into());
    }
    if name.len() > TOPIC_NAME_LENGTH_MAX {
        return invalid(format!(
            "topic name is illegal, it can't be longer than {TOPIC_NAME_LENGTH_MAX} characters, topic name: {}...",
            &name[..TOPIC_NAME_LENGTH_MAX.min(name.len())]
        ));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return invalid(format!(
            "topic name {name:?} is illegal: {bad:?} is not allowed; use ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

/// `.` and `_` collide in metric names, so Kafka refuses topics differing only by them.
fn unify_collision_chars(name: &str) -> String {
    name.replace('.', "_")
}

/// A request to create a topic (the fields of Kafka's `CreatableTopic`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Partition count, or -1 for the broker's `num.partitions`.
    pub partitions: i32,
    /// Replication factor, or -1 for the broker's `default.replication.factor`.
    pub replication_factor: i16,
    /// Explicit replica lists per partition (then `partitions` and `replication_factor` must be -1).
    pub assignment: Option<Vec<Vec<BrokerId>>>,
    /// Topic config overrides (`key`, `value`).
    pub configs: Vec<(String, String)>,
}

impl NewTopic {
    /// A topic with `partitions` and `replication_factor` and no config overrides.
    #[must_use]
    pub fn new(name: &str, partitions: i32, replication_factor: i16) -> NewTopic {
        NewTopic { name: name.to_owned(), partitions, replication_factor, assignment: None, configs: Vec::new() }
    }

    /// Adds a config override.
    #[must_use]
    pub fn config(mut self, key: &str, value: &str) -> NewTopic {
        self.configs.push((key.to_owned(), value.to_owned()));
        self
    }
}

/// A topic as the cluster knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    /// Topic name.
    pub name: String,
    /// A 128-bit topic id (Kafka's `Uuid`), from the seeded RNG.
    pub topic_id: u128,
    /// Replica lists; index = partition; the first replica is the preferred leader.
    pub assignment: Vec<Vec<BrokerId>>,
    /// The topic's config (broker defaults plus overrides).
    pub config: TopicConfig,
}

impl Topic {
    /// Number of partitions.
    #[must_use]
    pub fn partition_count(&self) -> i32 {
        i32::try_from(self.assignment.len()).expect("partition count is bounded by the broker limit")
    }

    /// Replication factor.
    #[must_use]
    pub fn replication_factor(&self) -> i16 {
        i16::try_from(self.assignment.first().map_or(0, Vec::len)).expect("RF is bounded by the broker limit")
    }
}

/// The topic table.
#[derive(Clone, Debug, Default)]
pub struct Topics {
    topics: VecMap<String, Topic>,
}

impl Topics {
    /// An empty table.
    #[must_use]
    pub fn new() -> Topics {
        Topics::default()
    }

    /// Creates a topic after validating the request against `config` and `brokers`.
    /// Nothing changes on error.
    pub fn create(
        &mut self,
        request: &NewTopic,
        config: &BrokerConfig,
        brokers: &[BrokerInfo],
        rng: &mut Rng,
    ) -> Result<&Topic> {
        validate_topic_name(&request.name)?;
        if self.topics.contains_key(&request.name) {
            return Err(Error::new(ErrorCode::TopicAlreadyExists, format!("topic '{}' already exists", request.name)));
        }
        let unified = unify_collision_chars(&request.name);
        if let Some(existing) = self.topics.keys().find(|name| unify_collision_chars(name) == unified) {
            return Err(Error::new(
                ErrorCode::InvalidTopicException,
                format!("topic '{}' collides with existing topic '{existing}' ('.' and '_' collide)", request.name),
            ));
        }
        let topic_config = config.topic_config(request.configs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        let assignment = match &request.assignment {
            Some(assignment) => {
                if request.partitions != -1 || request.replication_factor != -1 {
                    return Err(Error::new(
                        ErrorCode::InvalidRequest,
                        "both a replica assignment and a partition count or replication factor were given",
                    ));
                }
                validate_assignment(assignment, config, brokers)?;
                assignment.clone()
            }
            None => {
                let partitions = if request.partitions == -1 { config.num_partitions } else { request.partitions };
                let replication_factor = if request.replication_factor == -1 {
                    config.default_replication_factor
                } else {
                    request.replication_factor
                };
                check_counts(partitions, replication_factor, config, brokers.len())?;
                assign_replicas(brokers, partitions, replication_factor, rng)?
            }
        };
        let topic_id = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
        let topic = Topic { name: request.name.clone(), topic_id, assignment, config: topic_config };
        Ok(self.topics.entry(request.name.clone()).or_insert(topic))
    }

    /// Deletes a topic; an unknown name is `UNKNOWN_TOPIC_OR_PARTITION`.
    pub fn delete(&mut self, name: &str, config: &BrokerConfig) -> Result<Topic> {
        if !config.delete_topic_enable {
            return Err(Error::new(ErrorCode::TopicDeletionDisabled, "delete.topic.enable is false"));
        }
        self.topics
            .remove(name)
            .ok_or_else(|| Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic '{name}' does not exist")))
    }

    /// Raises `name`'s partition count to `count` (Kafka's `CreatePartitions`): the new
    /// partitions are placed like a new topic's, with the topic's replication factor; existing
    /// ones do not move. Returns the new partitions' replica lists. Kafka's errors and words.
    pub fn add_partitions(
        &mut self,
        name: &str,
        count: i32,
        config: &BrokerConfig,
        brokers: &[BrokerInfo],
        rng: &mut Rng,
    ) -> Result<Vec<Vec<BrokerId>>> {
        let topic = self
            .topics
            .get_mut(name)
            .ok_or_else(|| Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic '{name}' does not exist")))?;
        let current = i32::try_from(topic.assignment.len()).expect("bounded partition count");
        if count <= current {
            // Kafka 4.4's words (its controller's, which kafka-topics --alter prints).
            return Err(Error::new(
                ErrorCode::InvalidPartitions,
                format!("The topic {name} currently has {current} partition(s); {count} would not be an increase."),
            ));
        }
        let replication_factor = i16::try_from(topic.assignment.first().map_or(1, Vec::len)).unwrap_or(i16::MAX);
        check_counts(count, replication_factor, config, brokers.len())?;
        let added = assign_replicas(brokers, count - current, replication_factor, rng)?;
        topic.assignment.extend(added.iter().cloned());
        Ok(added)
    }

    /// Puts back a topic that existed before (a controller taking up persisted metadata).
    pub fn restore(&mut self, topic: Topic) {
        self.topics.insert(topic.name.clone(), topic);
    }

    /// Sets a partition's replicas (a reassignment); nothing for an unknown partition.
    pub fn set_replicas(&mut self, tp: &crate::protocol::TopicPartition, replicas: Vec<BrokerId>) {
        let slot = self
            .topics
            .get_mut(tp.topic.as_ref())
            .and_then(|topic| topic.assignment.get_mut(usize::try_from(tp.partition).ok()?));
        if let Some(slot) = slot {
            *slot = replicas;
        }
    }

    /// A topic by name.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    /// All topics in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Topic> {
        self.topics.values()
    }

    /// Number of topics.
    #[must_use]
    pub fn len(&self) -> usize {
        self.topics.len()
    }

    /// `true` when there is no topic.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.topics.is_empty()
    }
}

fn check_counts(partitions: i32, replication_factor: i16, config: &BrokerConfig, brokers: usize) -> Result<()> {
    if partitions < 1 {
        return Err(Error::new(
            ErrorCode::InvalidPartitions,
            format!("number of partitions must be larger than 0, got {partitions}"),
        ));
    }
    if partitions > config.max_partitions_per_topic {
        return Err(Error::new(
            ErrorCode::InvalidPartitions,
            format!("{partitions} partitions exceed rill.max.partitions.per.topic {}", config.max_partitions_per_topic),
        ));
    }
    if replication_factor < 1 {
        return Err(Error::new(
            ErrorCode::InvalidReplicationFactor,
            format!("replication factor must be larger than 0, got {replication_factor}"),
        ));
    }
    if replication_factor > config.max_replication_factor {
        return Err(Error::new(
            ErrorCode::InvalidReplicationFactor,
            format!(
                "replication factor {replication_factor} exceeds rill.max.replication.factor {}",
                config.max_replication_factor
            ),
        ));
    }
    if usize::try_from(replication_factor).is_ok_and(|rf| rf > brokers) {
        return Err(Error::new(
            ErrorCode::InvalidReplicationFactor,
            format!("replication factor: {replication_factor} larger than available brokers: {brokers}"),
        ));
    }
    Ok(())
}

fn validate_assignment(assignment: &[Vec<BrokerId>], config: &BrokerConfig, brokers: &[BrokerInfo]) -> Result<()> {
    let invalid = |why: String| Err(Error::new(ErrorCode::InvalidReplicaAssignment, why));
    let Some(first) = assignment.first() else {
        return invalid("the replica assignment has no partitions".into());
    };
    let partitions = i32::try_from(assignment.len()).unwrap_or(i32::MAX);
    let replication_factor = i16::try_from(first.len()).unwrap_or(i16::MAX);
    check_counts(partitions, replication_factor, config, brokers.len())?;
    for (partition, replicas) in assignment.iter().enumerate() {
        if replicas.len() != first.len() {
            return invalid(format!(
                "partition {partition} has {} replicas but partition 0 has {}",
                replicas.len(),
                first.len()
            ));
        }
        for (index, broker) in replicas.iter().enumerate() {
            if replicas[..index].contains(broker) {
                return invalid(format!("partition {partition} lists broker {broker} twice"));
            }
            if !brokers.iter().any(|known| known.id == *broker) {
                return invalid(format!("partition {partition} names unknown broker {broker}"));
            }
        }
    }
    Ok(())
}
