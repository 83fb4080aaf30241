//! KIP-848's ConsumerGroupHeartbeat (`group.protocol=consumer`): the wire names topics by id,
//! the core by name; this file turns one into the other with the broker's metadata.

use std::sync::Arc;

use kafka_protocol::messages::consumer_group_describe_response::{self as describe, DescribedGroup, Member};
use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, ConsumerGroupHeartbeatRequest,
    ConsumerGroupHeartbeatResponse, TopicName,
};
use rill_core::collections::VecMap;
use rill_core::collections::VecSet;
use rill_core::error::ErrorCode;
use rill_core::group::consumer::ConsumerGroup;
use rill_core::protocol::{self, GroupRequest, GroupResponse, Message, MetadataImage, TopicPartition};
use uuid::Uuid;

use super::{err, str_bytes};

fn refused(error: ErrorCode, message: &str) -> ConsumerGroupHeartbeatResponse {
    let mut response = ConsumerGroupHeartbeatResponse::default();
    response.error_code = err(error);
    response.error_message = Some(str_bytes(message));
    response.member_epoch = -1;
    response
}

/// The core's request, or the answer to give at once. `new_member_id` names a member that
/// joins without an id (version 0; from version 1 the client chooses it, KIP-1082).
pub fn heartbeat(
    request: &ConsumerGroupHeartbeatRequest,
    image: &MetadataImage,
    client: (String, String),
    new_member_id: impl FnOnce() -> String,
) -> Result<GroupRequest, Box<ConsumerGroupHeartbeatResponse>> {
    if request.subscribed_topic_regex.as_ref().is_some_and(|regex| !regex.is_empty()) {
        return Err(Box::new(refused(
            ErrorCode::InvalidRequest,
            "Rill does not serve regular-expression subscriptions (SubscribedTopicRegex) yet: subscribe to topic names",
        )));
    }
    let mut member_id = request.member_id.to_string();
    if member_id.is_empty() && request.member_epoch == 0 {
        member_id = new_member_id();
    }
    let name_of = |id: &Uuid| {
        let id = id.as_u128();
        image.topics.iter().find(|(_, topic)| topic.topic_id == id).map(|(name, _)| name.clone())
    };
    // Partitions of topics it knows (a deleted topic's are dropped, as Kafka does).
    let owned = request.topic_partitions.as_ref().map(|topics| {
        topics
            .iter()
            .filter_map(|t| name_of(&t.topic_id).map(|name| (name, &t.partitions)))
            .flat_map(|(name, partitions)| {
                partitions.iter().map(move |p| TopicPartition { topic: name.clone(), partition: *p })
            })
            .collect()
    });
    Ok(GroupRequest::ConsumerHeartbeat(Box::new(protocol::ConsumerGroupHeartbeat {
        group_id: request.group_id.0.to_string(),
        member_id,
        member_epoch: request.member_epoch,
        rebalance_timeout_ms: request.rebalance_timeout_ms,
        subscribed: request
            .subscribed_topic_names
            .as_ref()
            .map(|names| names.iter().map(|n| n.0.to_string()).collect()),
        server_assignor: request.server_assignor.as_ref().map(ToString::to_string),
        owned,
        partitions: VecMap::new(),
        client,
    })))
}

/// Every topic's id, to turn the core's names back into the wire's ids.
#[must_use]
pub fn topic_ids(image: &MetadataImage) -> VecMap<Arc<str>, u128> {
    image.topics.iter().map(|(name, topic)| (name.clone(), topic.topic_id)).collect()
}

/// Partitions grouped by topic, as both responses carry them.
fn by_topic<'a>(partitions: impl IntoIterator<Item = &'a TopicPartition>) -> VecMap<Arc<str>, Vec<i32>> {
    let mut grouped: VecMap<Arc<str>, Vec<i32>> = VecMap::new();
    for tp in partitions {
        grouped.entry(tp.topic.clone()).or_default().push(tp.partition);
    }
    grouped
}

/// The Kafka answer; `topic_ids` maps the core's topic names back to ids.
#[must_use]
pub fn heartbeat_response(
    answer: Option<Message>,
    topic_ids: &VecMap<Arc<str>, u128>,
) -> ConsumerGroupHeartbeatResponse {
    let Some(Message::GroupResponse(GroupResponse::ConsumerHeartbeat(answer))) = answer else {
        return refused(ErrorCode::CoordinatorNotAvailable, "the coordinator did not answer");
    };
    if !answer.error.is_ok() {
        let message = match answer.error {
            ErrorCode::FencedMemberEpoch => {
                "The consumer group member has a greater or smaller epoch than expected: rejoin with epoch 0"
            }
            ErrorCode::UnknownMemberId => "The member is not in the group: rejoin with epoch 0",
            ErrorCode::InconsistentGroupProtocol => {
                "The group is a classic group with members: it cannot take consumer-protocol members"
            }
            ErrorCode::UnsupportedAssignor => "The server assignor is not one of uniform, range",
            _ => answer.error.name(),
        };
        let mut response = refused(answer.error, message);
        response.member_id = Some(str_bytes(&answer.member_id));
        return response;
    }
    let mut response = ConsumerGroupHeartbeatResponse::default();
    response.member_id = Some(str_bytes(&answer.member_id));
    response.member_epoch = answer.member_epoch;
    response.heartbeat_interval_ms = answer.heartbeat_interval_ms;
    response.assignment = answer.assignment.map(|partitions| {
        let mut assignment = Assignment::default();
        for (topic, partitions) in by_topic(&partitions) {
            let mut entry = TopicPartitions::default();
            entry.topic_id = Uuid::from_u128(topic_ids.get(&topic).copied().unwrap_or(0));
            entry.partitions = partitions;
            assignment.topic_partitions.push(entry);
        }
        assignment
    });
    response
}

/// What this broker knows of a group ConsumerGroupDescribe asks about.
pub enum Found<'a> {
    /// A KIP-848 group it coordinates.
    Consumer(&'a ConsumerGroup),
    /// A classic group it coordinates.
    Classic,
    /// It coordinates the group's partition, and there is no such group.
    Missing,
    /// Another broker coordinates the group.
    NotCoordinator,
}

fn described_assignment(
    partitions: &VecSet<TopicPartition>,
    topic_ids: &VecMap<Arc<str>, u128>,
) -> describe::Assignment {
    let mut assignment = describe::Assignment::default();
    for (topic, partitions) in by_topic(partitions) {
        let mut entry = describe::TopicPartitions::default();
        entry.topic_id = Uuid::from_u128(topic_ids.get(&topic).copied().unwrap_or(0));
        entry.topic_name = TopicName(str_bytes(&topic));
        entry.partitions = partitions;
        assignment.topic_partitions.push(entry);
    }
    assignment
}

/// ConsumerGroupDescribe (`kafka-consumer-groups --describe` of a KIP-848 group): each group
/// with its epochs, assignor and members — each member's assignment and target.
#[must_use]
pub fn describe_response<'a>(
    request: &ConsumerGroupDescribeRequest,
    find: impl Fn(&str) -> Found<'a>,
    topic_ids: &VecMap<Arc<str>, u128>,
) -> ConsumerGroupDescribeResponse {
    let mut response = ConsumerGroupDescribeResponse::default();
    for group_id in &request.group_ids {
        let mut described = DescribedGroup::default();
        described.group_id = group_id.clone();
        described.authorized_operations = i32::MIN;
        let refuse = |described: &mut DescribedGroup, error: ErrorCode, message: String| {
            described.error_code = err(error);
            described.error_message = Some(str_bytes(&message));
            described.group_state = str_bytes("Dead");
        };
        match find(&group_id.0) {
            Found::Consumer(group) => {
                described.group_state = str_bytes(group.state().name());
                described.group_epoch = group.group_epoch;
                described.assignment_epoch = group.assignment_epoch;
                described.assignor_name = str_bytes(group.assignor());
                for member in group.members.values() {
                    let mut m = Member::default();
                    m.member_id = str_bytes(&member.member_id);
                    m.member_epoch = member.member_epoch;
                    m.client_id = str_bytes(&member.client.0);
                    m.client_host = str_bytes(&member.client.1);
                    m.subscribed_topic_names = member.subscribed.iter().map(|t| TopicName(str_bytes(t))).collect();
                    m.assignment = described_assignment(&member.assigned, topic_ids);
                    let target = group.target.get(&member.member_id).cloned().unwrap_or_default();
                    m.target_assignment = described_assignment(&target, topic_ids);
                    // KIP-1099: a member of the consumer protocol.
                    m.member_type = 1;
                    described.members.push(m);
                }
            }
            Found::Classic => refuse(
                &mut described,
                ErrorCode::GroupIdNotFound,
                format!("Group {} is not a consumer group.", group_id.0),
            ),
            Found::Missing => {
                refuse(&mut described, ErrorCode::GroupIdNotFound, format!("Group {} not found.", group_id.0));
            }
            Found::NotCoordinator => refuse(
                &mut described,
                ErrorCode::NotCoordinator,
                format!("This broker does not coordinate group {}.", group_id.0),
            ),
        }
        response.groups.push(described);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::consumer_group_heartbeat_request::TopicPartitions as Owned;
    use kafka_protocol::messages::{GroupId, TopicName};
    use rill_core::protocol::{ConsumerGroupHeartbeatResponse as CoreResponse, TopicMetadata};

    fn image() -> MetadataImage {
        let mut image = MetadataImage::default();
        let config = rill_core::config::TopicConfig::default();
        image.topics.insert(Arc::from("orders"), TopicMetadata { topic_id: 7, config, partitions: Vec::new() });
        image
    }

    #[test]
    fn topic_ids_become_names_and_back() {
        let mut request = ConsumerGroupHeartbeatRequest::default();
        request.group_id = GroupId(str_bytes("g"));
        request.member_epoch = 0;
        request.subscribed_topic_names = Some(vec![TopicName(str_bytes("orders"))]);
        let mut owned = Owned::default();
        owned.topic_id = Uuid::from_u128(7);
        owned.partitions = vec![1];
        let mut unknown = Owned::default();
        unknown.topic_id = Uuid::from_u128(99);
        unknown.partitions = vec![0];
        request.topic_partitions = Some(vec![owned, unknown]);
        let Ok(GroupRequest::ConsumerHeartbeat(core)) =
            heartbeat(&request, &image(), Default::default(), || "m-1".to_owned())
        else {
            panic!("a request")
        };
        assert_eq!(core.member_id, "m-1", "version 0: the broker names a joining member");
        assert_eq!(core.owned, Some(vec![TopicPartition::new("orders", 1)]));
        let answer = CoreResponse {
            error: ErrorCode::None,
            member_id: "m-1".to_owned(),
            member_epoch: 3,
            heartbeat_interval_ms: 5_000,
            assignment: Some(vec![TopicPartition::new("orders", 0), TopicPartition::new("orders", 2)]),
        };
        let ids = VecMap::from_iter([(Arc::from("orders"), 7u128)]);
        let response = heartbeat_response(Some(Message::GroupResponse(GroupResponse::ConsumerHeartbeat(answer))), &ids);
        let assignment = response.assignment.expect("an assignment");
        assert_eq!(assignment.topic_partitions[0].topic_id, Uuid::from_u128(7));
        assert_eq!(assignment.topic_partitions[0].partitions, [0, 2]);
        assert_eq!(response.member_epoch, 3);
        request.subscribed_topic_regex = Some(str_bytes("orders.*"));
        let refused = heartbeat(&request, &image(), Default::default(), String::new).expect_err("regex refused");
        assert_eq!(refused.error_code, err(ErrorCode::InvalidRequest));
    }

    #[test]
    fn a_group_is_described_with_its_members_assignments_and_targets() {
        let mut group = ConsumerGroup::default();
        let heartbeat = protocol::ConsumerGroupHeartbeat {
            group_id: "g".to_owned(),
            member_id: "m-1".to_owned(),
            member_epoch: 0,
            rebalance_timeout_ms: 300_000,
            subscribed: Some(vec!["orders".to_owned()]),
            server_assignor: Some("range".to_owned()),
            owned: Some(Vec::new()),
            partitions: VecMap::from_iter([("orders".to_owned(), 2)]),
            client: ("consumer-g-1".to_owned(), "/127.0.0.1".to_owned()),
        };
        group.heartbeat(0, &heartbeat).expect("joins");
        let mut request = ConsumerGroupDescribeRequest::default();
        request.group_ids = vec![GroupId(str_bytes("g")), GroupId(str_bytes("other"))];
        let ids = VecMap::from_iter([(Arc::from("orders"), 7u128)]);
        let response = describe_response(
            &request,
            |id| if id == "g" { Found::Consumer(&group) } else { Found::NotCoordinator },
            &ids,
        );
        let described = &response.groups[0];
        assert_eq!((described.group_state.as_str(), described.assignor_name.as_str()), ("Stable", "range"));
        let member = &described.members[0];
        assert_eq!((member.member_epoch, member.client_id.as_str(), member.member_type), (1, "consumer-g-1", 1));
        let assigned = &member.assignment.topic_partitions[0];
        assert_eq!(
            (assigned.topic_name.0.as_str(), assigned.topic_id, &assigned.partitions[..]),
            ("orders", Uuid::from_u128(7), &[0, 1][..])
        );
        assert_eq!(member.target_assignment.topic_partitions[0].partitions, [0, 1]);
        assert_eq!(response.groups[1].error_code, err(ErrorCode::NotCoordinator));
    }
}
