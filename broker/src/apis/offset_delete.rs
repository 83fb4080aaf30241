//! OffsetDelete (KIP-496; `kafka-consumer-groups --delete-offsets`): the request becomes the
//! coordinator's `OffsetDelete`; its answer becomes the response, per topic and partition.

use kafka_protocol::messages::offset_delete_response::{OffsetDeleteResponsePartition, OffsetDeleteResponseTopic};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};
use rill_core::error::ErrorCode;
use rill_core::protocol::{self, GroupRequest, GroupResponse, Message, TopicPartition};

use super::{err, name};

/// The coordinator's request.
#[must_use]
pub fn offset_delete(request: &OffsetDeleteRequest) -> GroupRequest {
    let partitions = request
        .topics
        .iter()
        .flat_map(|topic| topic.partitions.iter().map(|p| TopicPartition::new(topic.name.as_str(), p.partition_index)))
        .collect();
    GroupRequest::OffsetDelete(protocol::OffsetDelete { group_id: request.group_id.0.to_string(), partitions })
}

/// The response from the coordinator's answer (`COORDINATOR_NOT_AVAILABLE` without one).
#[must_use]
pub fn offset_delete_response(answer: Option<Message>) -> OffsetDeleteResponse {
    let answer = match answer {
        Some(Message::GroupResponse(GroupResponse::OffsetDelete(answer))) => answer,
        Some(Message::GroupResponse(other)) => {
            protocol::OffsetDeleteResponse { error: other.error(), partitions: Vec::new() }
        }
        _ => protocol::OffsetDeleteResponse { error: ErrorCode::CoordinatorNotAvailable, partitions: Vec::new() },
    };
    let mut response = OffsetDeleteResponse::default();
    response.error_code = err(answer.error);
    for (tp, error) in &answer.partitions {
        let mut partition = OffsetDeleteResponsePartition::default();
        partition.partition_index = tp.partition;
        partition.error_code = err(*error);
        match response.topics.iter_mut().find(|t| t.name.as_str() == &*tp.topic) {
            Some(topic) => topic.partitions.push(partition),
            None => {
                let mut topic = OffsetDeleteResponseTopic::default();
                topic.name = name(&tp.topic);
                topic.partitions.push(partition);
                response.topics.push(topic);
            }
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::offset_delete_request::{OffsetDeleteRequestPartition, OffsetDeleteRequestTopic};
    use kafka_protocol::messages::GroupId;

    #[test]
    fn translates_the_request_and_the_answer() {
        let mut request = OffsetDeleteRequest::default();
        request.group_id = GroupId(super::super::str_bytes("g"));
        let mut topic = OffsetDeleteRequestTopic::default();
        topic.name = name("t");
        for index in [0, 1] {
            let mut partition = OffsetDeleteRequestPartition::default();
            partition.partition_index = index;
            topic.partitions.push(partition);
        }
        request.topics.push(topic);
        let GroupRequest::OffsetDelete(core) = offset_delete(&request) else { panic!("an OffsetDelete") };
        assert_eq!(core.partitions, vec![TopicPartition::new("t", 0), TopicPartition::new("t", 1)]);
        let answer = protocol::OffsetDeleteResponse {
            error: ErrorCode::None,
            partitions: vec![
                (TopicPartition::new("t", 0), ErrorCode::None),
                (TopicPartition::new("t", 1), ErrorCode::GroupSubscribedToTopic),
            ],
        };
        let response = offset_delete_response(Some(Message::GroupResponse(GroupResponse::OffsetDelete(answer))));
        let codes: Vec<i16> = response.topics[0].partitions.iter().map(|p| p.error_code).collect();
        assert_eq!(codes, vec![0, ErrorCode::GroupSubscribedToTopic.code()]);
        assert_eq!(offset_delete_response(None).error_code, ErrorCode::CoordinatorNotAvailable.code());
    }
}
