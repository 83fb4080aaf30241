//! DescribeTopicPartitions (KIP-966, API key 75): what Kafka 4.x's `kafka-topics --describe`
//! and `Admin.describeTopics` ask for. Topics sorted by name (all of them when the request
//! names none), at most `response_partition_limit` partitions per response (Kafka's
//! `max.request.partition.size.limit`, 2000, caps it), continued from `cursor` with
//! `next_cursor`. Rill has no eligible leader replicas, so those lists are empty, as Kafka's are
//! when no ELR member exists.

use kafka_protocol::messages::describe_topic_partitions_request::Cursor as RequestCursor;
use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{BrokerId, DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};
use rill_core::error::ErrorCode;
use rill_core::protocol::MetadataImage;
use uuid::Uuid;

use super::{err, name};

/// Kafka's `max.request.partition.size.limit` default.
pub const PARTITIONS_PER_RESPONSE_MAX: i32 = 2000;

/// Kafka's "operations not requested" value for `topic_authorized_operations`.
const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

/// The response for `request` from `image`.
#[must_use]
pub fn describe_topic_partitions_response(
    request: &DescribeTopicPartitionsRequest,
    image: &MetadataImage,
) -> DescribeTopicPartitionsResponse {
    let mut names: Vec<String> = if request.topics.is_empty() {
        image.topics.keys().map(ToString::to_string).collect()
    } else {
        request.topics.iter().map(|topic| topic.name.0.to_string()).collect()
    };
    names.sort();
    names.dedup();
    let (start_topic, start_partition) =
        request.cursor.as_ref().map_or((None, 0), |RequestCursor { topic_name, partition_index, .. }| {
            (Some(topic_name.0.to_string()), *partition_index)
        });
    if let Some(start) = &start_topic {
        names.retain(|topic| topic >= start);
    }
    let mut budget = request.response_partition_limit.clamp(1, PARTITIONS_PER_RESPONSE_MAX);
    let mut response = DescribeTopicPartitionsResponse::default();
    for topic_name in names {
        let first = if start_topic.as_deref() == Some(topic_name.as_str()) { start_partition.max(0) } else { 0 };
        if budget == 0 {
            let mut cursor = Cursor::default();
            cursor.topic_name = name(&topic_name);
            cursor.partition_index = first;
            response.next_cursor = Some(cursor);
            break;
        }
        let mut topic = DescribeTopicPartitionsResponseTopic::default();
        topic.name = Some(name(&topic_name));
        topic.is_internal = topic_name.starts_with("__");
        topic.topic_authorized_operations = AUTHORIZED_OPERATIONS_OMITTED;
        let Some(metadata) = image.topics.get(topic_name.as_str()) else {
            topic.error_code = err(ErrorCode::UnknownTopicOrPartition);
            response.topics.push(topic);
            continue;
        };
        topic.topic_id = Uuid::from_u128(metadata.topic_id);
        let first = usize::try_from(first).unwrap_or(0);
        for (index, state) in metadata.partitions.iter().enumerate().skip(first) {
            let partition_index = i32::try_from(index).unwrap_or(i32::MAX);
            if budget == 0 {
                let mut cursor = Cursor::default();
                cursor.topic_name = name(&topic_name);
                cursor.partition_index = partition_index;
                response.next_cursor = Some(cursor);
                break;
            }
            budget -= 1;
            let mut partition = DescribeTopicPartitionsResponsePartition::default();
            partition.partition_index = partition_index;
            partition.leader_id = BrokerId(state.leader.unwrap_or(-1));
            partition.leader_epoch = state.leader_epoch;
            partition.replica_nodes = state.replicas.iter().map(|b| BrokerId(*b)).collect();
            partition.isr_nodes = state.isr.iter().map(|b| BrokerId(*b)).collect();
            partition.eligible_leader_replicas = Some(Vec::new());
            partition.last_known_elr = Some(Vec::new());
            partition.offline_replicas = state
                .replicas
                .iter()
                .filter(|b| image.brokers.get(b).is_none_or(|broker| broker.fenced))
                .map(|b| BrokerId(*b))
                .collect();
            if state.leader.is_none() {
                partition.error_code = err(ErrorCode::LeaderNotAvailable);
            }
            topic.partitions.push(partition);
        }
        response.topics.push(topic);
        if response.next_cursor.is_some() {
            break;
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_topic_partitions_request::TopicRequest;
    use kafka_protocol::messages::TopicName;
    use rill_core::config::TopicConfig;
    use rill_core::protocol::{PartitionState, TopicMetadata};

    fn image() -> MetadataImage {
        let mut image = MetadataImage::default();
        for (topic, partitions, id) in [("b", 3, 2u128), ("a", 2, 1u128)] {
            let state = |p: i32| PartitionState {
                leader: Some(1 + p % 2),
                leader_epoch: 4,
                partition_epoch: 7,
                isr: vec![1 + p % 2],
                ..PartitionState::new(vec![1, 2])
            };
            image.topics.insert(
                topic.into(),
                TopicMetadata {
                    topic_id: id,
                    config: TopicConfig::default(),
                    partitions: (0..partitions).map(state).collect(),
                },
            );
        }
        image
    }

    fn request(topics: &[&str], limit: i32, cursor: Option<(&str, i32)>) -> DescribeTopicPartitionsRequest {
        let mut request = DescribeTopicPartitionsRequest::default();
        request.topics = topics
            .iter()
            .map(|t| {
                let mut topic = TopicRequest::default();
                topic.name = TopicName(name(t).0);
                topic
            })
            .collect();
        request.response_partition_limit = limit;
        request.cursor = cursor.map(|(topic, partition)| {
            let mut c = RequestCursor::default();
            c.topic_name = TopicName(name(topic).0);
            c.partition_index = partition;
            c
        });
        request
    }

    fn listed(response: &DescribeTopicPartitionsResponse) -> Vec<(String, i32)> {
        response
            .topics
            .iter()
            .flat_map(|t| {
                let topic = t.name.as_ref().map(|n| n.0.to_string()).unwrap_or_default();
                t.partitions.iter().map(move |p| (topic.clone(), p.partition_index))
            })
            .collect()
    }

    #[test]
    fn all_topics_sorted_paged_by_the_partition_limit_with_a_cursor() {
        let image = image();
        let first = describe_topic_partitions_response(&request(&[], 3, None), &image);
        assert_eq!(listed(&first), [("a".into(), 0), ("a".into(), 1), ("b".into(), 0)]);
        let cursor = first.next_cursor.as_ref().expect("more to come");
        assert_eq!((cursor.topic_name.0.as_str(), cursor.partition_index), ("b", 1));
        let rest = describe_topic_partitions_response(&request(&[], 3, Some(("b", 1))), &image);
        assert_eq!(listed(&rest), [("b".into(), 1), ("b".into(), 2)]);
        assert!(rest.next_cursor.is_none());
        let b = &rest.topics[0];
        assert_eq!(b.topic_id, Uuid::from_u128(2));
        assert_eq!(b.partitions[0].leader_epoch, 4);
        assert_eq!(b.partitions[0].eligible_leader_replicas, Some(Vec::new()));
    }

    #[test]
    fn an_unknown_topic_is_an_error_and_a_fenced_replica_is_offline() {
        let mut image = image();
        image.brokers.insert(1, rill_core::protocol::BrokerMetadata { rack: None, fenced: false });
        image.brokers.insert(2, rill_core::protocol::BrokerMetadata { rack: None, fenced: true });
        let response = describe_topic_partitions_response(&request(&["nope", "a"], 2000, None), &image);
        assert_eq!(response.topics[0].name.as_ref().map(|n| n.0.to_string()), Some("a".into()));
        assert_eq!(response.topics[1].error_code, err(ErrorCode::UnknownTopicOrPartition));
        assert_eq!(response.topics[0].partitions[0].offline_replicas, vec![BrokerId(2)]);
    }
}
