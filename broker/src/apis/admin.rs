//! The APIs the broker answers from what it knows at once (its metadata image, its logs, its
//! config): Metadata, CreateTopics, DeleteTopics, ListOffsets, DescribeConfigs, and the
//! translation of InitProducerId.

use std::collections::BTreeMap;

use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, CreateTopicsResponse, DescribeConfigsRequest, DescribeConfigsResponse,
    InitProducerIdResponse, ListOffsetsRequest, ListOffsetsResponse, MetadataRequest, MetadataResponse, ProducerId,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use rill_core::config::{BrokerConfig, ConfigEntry};
use rill_core::error::{Error, ErrorCode};
use rill_core::protocol::{self, Message, MetadataImage, TopicPartition};
use rill_core::topic::NewTopic;
use uuid::Uuid;

use super::{err, name, str_bytes, synonyms};

/// The topics a Metadata request names (`None`: all).
#[must_use]
pub fn metadata_topics(request: &MetadataRequest) -> Option<Vec<String>> {
    request
        .topics
        .as_ref()
        .map(|topics| topics.iter().filter_map(|t| t.name.as_ref().map(|n| n.0.to_string())).collect())
}

/// Whether a Metadata request may create the topics it names (`allow_auto_topic_creation`).
#[must_use]
pub fn metadata_may_create(request: &MetadataRequest, version: i16) -> bool {
    request.allow_auto_topic_creation || version < 4
}

/// What a Metadata response says of the cluster besides the image.
pub struct ClusterView<'a> {
    /// The live brokers: (id, advertised host, port).
    pub brokers: Vec<(i32, StrBytes, i32)>,
    /// The controller's node.
    pub controller_id: i32,
    /// The cluster id.
    pub cluster_id: &'a str,
}

/// The Metadata response for `wanted` topics (or all) from `image`.
#[must_use]
pub fn metadata_response(
    image: &MetadataImage,
    wanted: Option<Vec<String>>,
    cluster: &ClusterView<'_>,
    version: i16,
) -> MetadataResponse {
    let mut response = MetadataResponse::default();
    for (id, host, port) in &cluster.brokers {
        let mut broker = MetadataResponseBroker::default();
        broker.node_id = BrokerId(*id);
        broker.host = host.clone();
        broker.port = *port;
        if version >= 1 {
            broker.rack = image.brokers.get(id).and_then(|b| b.rack.as_deref()).map(str_bytes);
        }
        response.brokers.push(broker);
    }
    if version >= 1 {
        response.controller_id = BrokerId(cluster.controller_id);
    }
    if version >= 2 {
        // Null until the node has learnt it (Kafka's field is nullable).
        response.cluster_id = (!cluster.cluster_id.is_empty()).then(|| str_bytes(cluster.cluster_id));
    }
    let names: Vec<String> = wanted.unwrap_or_else(|| image.topics.keys().map(ToString::to_string).collect());
    for topic_name in names {
        let mut topic = MetadataResponseTopic::default();
        topic.name = Some(name(&topic_name));
        topic.is_internal = version >= 1 && topic_name.starts_with("__");
        match image.topics.get(topic_name.as_str()) {
            None => topic.error_code = err(ErrorCode::UnknownTopicOrPartition),
            Some(metadata) => {
                if version >= 10 {
                    topic.topic_id = Uuid::from_u128(metadata.topic_id);
                }
                for (index, state) in metadata.partitions.iter().enumerate() {
                    let mut partition = MetadataResponsePartition::default();
                    partition.partition_index = i32::try_from(index).unwrap_or(i32::MAX);
                    partition.leader_id = BrokerId(state.leader.unwrap_or(-1));
                    if version >= 7 {
                        partition.leader_epoch = state.leader_epoch;
                    }
                    partition.replica_nodes = state.replicas.iter().map(|b| BrokerId(*b)).collect();
                    partition.isr_nodes = state.isr.iter().map(|b| BrokerId(*b)).collect();
                    if state.leader.is_none() {
                        partition.error_code = err(ErrorCode::LeaderNotAvailable);
                    }
                    topic.partitions.push(partition);
                }
            }
        }
        response.topics.push(topic);
    }
    response
}

/// The topics a CreateTopics request asks for, with the broker's defaults for -1.
#[must_use]
pub fn new_topics(request: &CreateTopicsRequest, config: &BrokerConfig) -> Vec<NewTopic> {
    request
        .topics
        .iter()
        .map(|creatable| {
            let mut new = NewTopic::new(&creatable.name.0, creatable.num_partitions, creatable.replication_factor);
            if creatable.assignments.is_empty() {
                if new.partitions == -1 {
                    new.partitions = config.num_partitions;
                }
                if new.replication_factor == -1 {
                    new.replication_factor = config.default_replication_factor;
                }
            } else {
                let mut assignments: Vec<_> = creatable.assignments.iter().collect();
                assignments.sort_by_key(|a| a.partition_index);
                new.assignment = Some(assignments.iter().map(|a| a.broker_ids.iter().map(|b| b.0).collect()).collect());
            }
            for config in &creatable.configs {
                if let Some(value) = &config.value {
                    new = new.config(&config.name, value);
                }
            }
            new
        })
        .collect()
}

/// One topic's CreateTopics result; `created` is the topic as the image now has it.
#[must_use]
pub fn create_topic_result(
    topic: &TopicName,
    outcome: Result<Option<&protocol::TopicMetadata>, Error>,
    version: i16,
) -> CreatableTopicResult {
    let mut result = CreatableTopicResult::default();
    result.name = topic.clone();
    match outcome {
        Ok(Some(created)) if version >= 5 => {
            result.num_partitions = i32::try_from(created.partitions.len()).unwrap_or(i32::MAX);
            result.replication_factor =
                created.partitions.first().map_or(-1, |p| i16::try_from(p.replicas.len()).unwrap_or(-1));
            if version >= 7 {
                result.topic_id = Uuid::from_u128(created.topic_id);
            }
        }
        Ok(_) => {}
        Err(error) => {
            result.error_code = err(error.code);
            if version >= 1 {
                result.error_message = Some(str_bytes(&error.message));
            }
        }
    }
    result
}

/// CreateTopics' response from its results.
#[must_use]
pub fn create_topics_response(results: Vec<CreatableTopicResult>) -> CreateTopicsResponse {
    let mut response = CreateTopicsResponse::default();
    response.topics = results;
    response
}

/// One topic's DeleteTopics result.
#[must_use]
pub fn delete_topic_result(topic: &TopicName, outcome: Result<(), Error>, version: i16) -> DeletableTopicResult {
    let mut result = DeletableTopicResult::default();
    result.name = Some(topic.clone());
    if let Err(error) = outcome {
        result.error_code = err(error.code);
        if version >= 5 {
            result.error_message = Some(str_bytes(&error.message));
        }
    }
    result
}

/// Where a ListOffsets partition stands on this broker.
pub enum OffsetsAt {
    /// This broker leads it: (log start, high watermark, leader epoch, the first offset whose
    /// batch reaches the timestamp, if asked for one).
    Leader {
        /// Log start offset.
        log_start_offset: i64,
        /// High watermark.
        high_watermark: i64,
        /// Leader epoch.
        leader_epoch: i32,
    },
    /// A replica that does not lead.
    Follower,
    /// No replica here.
    Unknown,
}

/// ListOffsets: `at` tells where each partition stands, `by_time` finds the first offset
/// whose batch has a timestamp at or after the one asked for (-1: none).
#[must_use]
pub fn list_offsets_response(
    request: &ListOffsetsRequest,
    version: i16,
    at: impl Fn(&TopicPartition) -> OffsetsAt,
    by_time: impl Fn(&TopicPartition, i64) -> i64,
) -> ListOffsetsResponse {
    let mut response = ListOffsetsResponse::default();
    for topic in &request.topics {
        let mut topic_response = ListOffsetsTopicResponse::default();
        topic_response.name = topic.name.clone();
        for partition in &topic.partitions {
            let tp = TopicPartition::new(&topic.name.0, partition.partition_index);
            let mut result = ListOffsetsPartitionResponse::default();
            result.partition_index = partition.partition_index;
            result.timestamp = -1;
            match at(&tp) {
                OffsetsAt::Leader { log_start_offset, high_watermark, leader_epoch } => {
                    if version >= 4 {
                        result.leader_epoch = leader_epoch;
                    }
                    result.offset = match partition.timestamp {
                        -2 => log_start_offset,
                        -1 | -3 => high_watermark,
                        timestamp => by_time(&tp, timestamp),
                    };
                }
                OffsetsAt::Follower => result.error_code = err(ErrorCode::NotLeaderOrFollower),
                OffsetsAt::Unknown => result.error_code = err(ErrorCode::UnknownTopicOrPartition),
            }
            topic_response.partitions.push(result);
        }
        response.topics.push(topic_response);
    }
    response
}

/// DescribeConfigs for topics (resource type 2) and brokers (4): each entry with its source
/// and, when asked, its synonyms (see [`super::synonyms`]). `given` holds the broker keys set
/// in its file or with `--set`.
#[must_use]
pub fn describe_configs_response(
    request: &DescribeConfigsRequest,
    image: &MetadataImage,
    config: &BrokerConfig,
    given: &BTreeMap<String, String>,
) -> DescribeConfigsResponse {
    let mut response = DescribeConfigsResponse::default();
    let topic_defaults = config.topic_defaults().entries();
    let rill_defaults = BrokerConfig::default().entries();
    let rill_default = |name: &str| rill_defaults.iter().find(|e| e.name == name).map(|e| e.value.clone());
    for resource in &request.resources {
        let mut result = DescribeConfigsResult::default();
        result.resource_type = resource.resource_type;
        result.resource_name = resource.resource_name.clone();
        // (entry, its synonyms) of the resource.
        let entries: Option<Vec<(ConfigEntry, Vec<DescribeConfigsSynonym>)>> = match resource.resource_type {
            2 => image.topics.get(resource.resource_name.as_str()).map(|topic| {
                let entries = topic.config.entries().into_iter();
                entries
                    .map(|entry| {
                        // A value other than this broker's default for new topics is the topic's own.
                        let overridden = topic_defaults.iter().any(|d| d.name == entry.name && d.value != entry.value);
                        let synonyms = synonyms::topic_synonyms(entry.name, &entry.value, overridden, given);
                        (entry, synonyms)
                    })
                    .collect()
            }),
            4 => Some(
                config
                    .entries()
                    .into_iter()
                    .map(|entry| {
                        let synonyms = synonyms::broker_synonyms(entry.name, given, rill_default);
                        (entry, synonyms)
                    })
                    .collect(),
            ),
            _ => None,
        };
        let Some(entries) = entries else {
            result.error_code = err(ErrorCode::UnknownTopicOrPartition);
            result.error_message = Some(str_bytes("no such resource"));
            response.results.push(result);
            continue;
        };
        for (entry, synonyms) in entries {
            let wanted =
                resource.configuration_keys.as_ref().is_none_or(|keys| keys.iter().any(|k| k.as_str() == entry.name));
            if !wanted {
                continue;
            }
            let mut described = DescribeConfigsResourceResult::default();
            described.name = str_bytes(entry.name);
            described.value = Some(str_bytes(&entry.value));
            described.config_source = synonyms.first().map_or(synonyms::DEFAULT_CONFIG, |s| s.source);
            if request.include_synonyms {
                described.synonyms = synonyms;
            }
            if request.include_documentation {
                described.documentation = Some(str_bytes(entry.doc));
            }
            result.configs.push(described);
        }
        response.results.push(result);
    }
    response
}

/// InitProducerId's response from the core's answer.
#[must_use]
pub fn init_producer_id_response(answer: Option<Message>) -> InitProducerIdResponse {
    let mut response = InitProducerIdResponse::default();
    match answer {
        Some(Message::InitProducerIdResponse(answer)) => {
            response.error_code = err(answer.error);
            response.producer_id = ProducerId(answer.producer_id);
            response.producer_epoch = answer.producer_epoch;
        }
        _ => {
            response.error_code = err(ErrorCode::CoordinatorNotAvailable);
            response.producer_id = ProducerId(-1);
        }
    }
    response
}

/// The answer to a transactional InitProducerId: transactions are not served yet, so a clear
/// error at once (never silence).
#[must_use]
pub fn transactions_refused() -> InitProducerIdResponse {
    let mut response = InitProducerIdResponse::default();
    response.error_code = err(ErrorCode::TransactionalIdAuthorizationFailed);
    response.producer_id = ProducerId(-1);
    response
}

/// CreatePartitions' response: each topic's outcome, Kafka's error and words.
#[must_use]
pub fn create_partitions_response(
    names: &[kafka_protocol::messages::TopicName],
    outcomes: Vec<Result<(), Error>>,
) -> kafka_protocol::messages::CreatePartitionsResponse {
    use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
    let results = names
        .iter()
        .zip(outcomes)
        .map(|(name, outcome)| {
            let (code, message) = match outcome {
                Ok(()) => (0, None),
                Err(error) => (error.code.code(), Some(str_bytes(&error.message))),
            };
            CreatePartitionsTopicResult::default()
                .with_name(name.clone())
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    kafka_protocol::messages::CreatePartitionsResponse::default().with_results(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
    use rill_core::config::TopicConfig;
    use rill_core::protocol::{PartitionState, TopicMetadata};
    use std::sync::Arc;

    fn image() -> MetadataImage {
        let mut image = MetadataImage { metadata_epoch: 3, ..MetadataImage::default() };
        let mut config = TopicConfig::default();
        config.set("retention.ms", "60000").unwrap();
        let state = PartitionState { leader_epoch: 2, ..PartitionState::new(vec![1]) };
        image.topics.insert(Arc::from("orders"), TopicMetadata { topic_id: 7, config, partitions: vec![state] });
        image
    }

    #[test]
    fn metadata_lists_brokers_topics_and_unknown_topics() {
        let cluster =
            ClusterView { brokers: vec![(1, str_bytes("127.0.0.1"), 9092)], controller_id: 1, cluster_id: "c" };
        let response = metadata_response(&image(), Some(vec!["orders".into(), "nope".into()]), &cluster, 12);
        assert_eq!(response.brokers.len(), 1);
        assert_eq!(response.topics[0].partitions[0].leader_epoch, 2);
        assert_eq!(response.topics[1].error_code, err(ErrorCode::UnknownTopicOrPartition));
        assert_eq!(response.topics[0].topic_id, Uuid::from_u128(7));
    }

    #[test]
    fn describe_configs_names_each_values_source_and_synonyms() {
        use synonyms::{DEFAULT_CONFIG, DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG};
        let mut request = DescribeConfigsRequest::default();
        request.include_synonyms = true;
        let mut resource = DescribeConfigsResource::default();
        resource.resource_type = 2;
        resource.resource_name = str_bytes("orders");
        resource.configuration_keys = None; // all of them
        request.resources.push(resource.clone());
        resource.resource_type = 4;
        resource.resource_name = str_bytes("1");
        request.resources.push(resource);
        let config = BrokerConfig::from_pairs([("node.id", "1"), ("log.segment.bytes", "8192")]).unwrap();
        let given = BTreeMap::from([("log.segment.bytes".to_owned(), "8192".to_owned())]);
        let response = describe_configs_response(&request, &image(), &config, &given);
        let configs = &response.results[0].configs;
        let find = |name: &str| configs.iter().find(|c| c.name.as_str() == name).unwrap();
        let retention = find("retention.ms");
        assert_eq!(retention.config_source, DYNAMIC_TOPIC_CONFIG);
        assert_eq!(retention.synonyms[0].name.as_str(), "retention.ms");
        let policy = find("cleanup.policy");
        assert_eq!(policy.config_source, DEFAULT_CONFIG);
        assert_eq!(policy.synonyms[0].name.as_str(), "log.cleanup.policy");
        assert!(configs.iter().all(|c| c.config_source > 0), "no config source -1 (Kafka's tools reject it)");
        let broker = &response.results[1].configs;
        let segment = broker.iter().find(|c| c.name.as_str() == "log.segment.bytes").unwrap();
        assert_eq!(segment.config_source, STATIC_BROKER_CONFIG);
        let sources: Vec<i8> = segment.synonyms.iter().map(|s| s.source).collect();
        assert_eq!(sources, [STATIC_BROKER_CONFIG, DEFAULT_CONFIG]);
    }
}
