//! AlterPartitionReassignments and ListPartitionReassignments (KIP-455; what
//! `kafka-reassign-partitions --execute / --verify / --cancel / --list` send). The alter request
//! becomes the core's `AlterReassignments`, forwarded to the active controller; the list is
//! answered from the broker's metadata image, which carries each partition's adding and
//! removing replicas.

use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, BrokerId,
    ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
};
use rill_core::protocol::{self, MetadataImage, TopicPartition};

use super::{err, name, str_bytes};

/// The core's request, partitions in the request's order.
#[must_use]
pub fn alter_request(request: &AlterPartitionReassignmentsRequest, version: i16) -> protocol::AlterReassignments {
    let partitions = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|partition| {
                let target = partition.replicas.as_ref().map(|replicas| replicas.iter().map(|id| id.0).collect());
                (TopicPartition::new(topic.name.as_str(), partition.partition_index), target)
            })
        })
        .collect();
    // v0 has no such field; Kafka then allows any replication factor.
    let allow_replication_factor_change = version < 1 || request.allow_replication_factor_change;
    protocol::AlterReassignments { partitions, allow_replication_factor_change }
}

/// The response from the controller's answer, grouped by topic in the answer's order.
#[must_use]
pub fn alter_response(
    answer: &protocol::AlterReassignmentsResponse,
    version: i16,
) -> AlterPartitionReassignmentsResponse {
    let mut response = AlterPartitionReassignmentsResponse::default();
    response.error_code = err(answer.error);
    response.error_message = answer.message.as_deref().map(str_bytes);
    if version >= 1 {
        response.allow_replication_factor_change = true;
    }
    for (tp, error, message) in &answer.results {
        if response.responses.last().is_none_or(|topic| topic.name.as_str() != tp.topic.as_ref()) {
            let mut topic = ReassignableTopicResponse::default();
            topic.name = name(&tp.topic);
            response.responses.push(topic);
        }
        let mut partition = ReassignablePartitionResponse::default();
        partition.partition_index = tp.partition;
        partition.error_code = err(*error);
        partition.error_message = message.as_deref().map(str_bytes);
        response.responses.last_mut().expect("pushed above").partitions.push(partition);
    }
    response
}

/// The reassignments under way among the partitions asked for (all when the request names
/// none); partitions that are not moving, or unknown, are left out as Kafka does.
#[must_use]
pub fn list_response(
    request: &ListPartitionReassignmentsRequest,
    image: &MetadataImage,
) -> ListPartitionReassignmentsResponse {
    let ids = |replicas: &[i32]| replicas.iter().map(|id| BrokerId(*id)).collect::<Vec<_>>();
    let wanted = |tp: &TopicPartition| match &request.topics {
        None => true,
        Some(topics) => topics
            .iter()
            .any(|topic| topic.name.as_str() == tp.topic.as_ref() && topic.partition_indexes.contains(&tp.partition)),
    };
    let mut response = ListPartitionReassignmentsResponse::default();
    for (tp, state) in image.partitions().filter(|(tp, state)| state.reassigning() && wanted(tp)) {
        if response.topics.last().is_none_or(|topic| topic.name.as_str() != tp.topic.as_ref()) {
            let mut topic = OngoingTopicReassignment::default();
            topic.name = name(&tp.topic);
            response.topics.push(topic);
        }
        let mut partition = OngoingPartitionReassignment::default();
        partition.partition_index = tp.partition;
        partition.replicas = ids(&state.replicas);
        partition.adding_replicas = ids(&state.adding_replicas);
        partition.removing_replicas = ids(&state.removing_replicas);
        response.topics.last_mut().expect("pushed above").partitions.push(partition);
    }
    response
}

/// The response from the controller's answer, or an error when none came.
#[must_use]
pub fn answered_or_not(
    answer: Option<protocol::AlterReassignmentsResponse>,
    version: i16,
) -> AlterPartitionReassignmentsResponse {
    let answer = answer.unwrap_or(protocol::AlterReassignmentsResponse {
        error: rill_core::error::ErrorCode::UnknownServerError,
        message: Some("no answer from the controller".to_owned()),
        results: Vec::new(),
    });
    alter_response(&answer, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::alter_partition_reassignments_request::{ReassignablePartition, ReassignableTopic};
    use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
    use rill_core::config::TopicConfig;
    use rill_core::error::ErrorCode;
    use rill_core::protocol::{PartitionState, TopicMetadata};

    #[test]
    fn the_request_keeps_each_partitions_target_or_cancel_and_the_rf_flag() {
        let mut request = AlterPartitionReassignmentsRequest::default();
        let mut topic = ReassignableTopic::default();
        topic.name = name("t");
        let mut moved = ReassignablePartition::default();
        moved.partition_index = 0;
        moved.replicas = Some(vec![BrokerId(3), BrokerId(1)]);
        let mut cancelled = ReassignablePartition::default();
        cancelled.partition_index = 1;
        topic.partitions = vec![moved, cancelled];
        request.topics.push(topic);
        assert!(request.allow_replication_factor_change, "Kafka's default");
        request.allow_replication_factor_change = false;
        let core = alter_request(&request, 1);
        assert_eq!(
            core.partitions,
            vec![(TopicPartition::new("t", 0), Some(vec![3, 1])), (TopicPartition::new("t", 1), None)]
        );
        assert!(!core.allow_replication_factor_change, "v1 with the flag clear");
        assert!(alter_request(&request, 0).allow_replication_factor_change, "v0 has no flag");
    }

    #[test]
    fn the_response_groups_outcomes_by_topic() {
        let answer = protocol::AlterReassignmentsResponse {
            error: ErrorCode::None,
            message: None,
            results: vec![
                (TopicPartition::new("a", 0), ErrorCode::None, None),
                (TopicPartition::new("a", 1), ErrorCode::NoReassignmentInProgress, Some("none".into())),
                (TopicPartition::new("b", 0), ErrorCode::None, None),
            ],
        };
        let response = alter_response(&answer, 0);
        let shape: Vec<(String, Vec<(i32, i16)>)> = response
            .responses
            .iter()
            .map(|t| (t.name.to_string(), t.partitions.iter().map(|p| (p.partition_index, p.error_code)).collect()))
            .collect();
        assert_eq!(shape, vec![("a".into(), vec![(0, 0), (1, 85)]), ("b".into(), vec![(0, 0)])]);
    }

    #[test]
    fn the_list_names_only_moving_partitions_that_were_asked_for() {
        let mut image = MetadataImage::default();
        let moving = PartitionState {
            adding_replicas: vec![4],
            removing_replicas: vec![1],
            ..PartitionState::new(vec![4, 2, 3, 1])
        };
        let partitions = vec![PartitionState::new(vec![1, 2, 3]), moving];
        image.topics.insert("t".into(), TopicMetadata { topic_id: 1, config: TopicConfig::default(), partitions });
        let all = list_response(&ListPartitionReassignmentsRequest::default(), &image);
        assert_eq!(all.topics.len(), 1);
        let ongoing = &all.topics[0].partitions;
        assert_eq!(ongoing.len(), 1);
        assert_eq!(ongoing[0].partition_index, 1);
        assert_eq!(ongoing[0].adding_replicas, vec![BrokerId(4)]);
        assert_eq!(ongoing[0].removing_replicas, vec![BrokerId(1)]);
        let mut asked = ListPartitionReassignmentsRequest::default();
        let mut topic = ListPartitionReassignmentsTopics::default();
        topic.name = name("t");
        topic.partition_indexes = vec![0];
        asked.topics = Some(vec![topic]);
        assert!(list_response(&asked, &image).topics.is_empty(), "partition 0 is not moving");
    }
}
