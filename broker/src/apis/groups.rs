//! The classic consumer group APIs (FindCoordinator, JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, OffsetCommit, OffsetFetch, ListGroups, DescribeGroups, DeleteGroups): each request becomes
//! the core's group requests, each answer Kafka's response.

use std::collections::BTreeMap;

use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    leave_group_response, offset_commit_response, BrokerId, DeleteGroupsRequest, DeleteGroupsResponse,
    DescribeGroupsResponse, FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest,
    HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, ListGroupsRequest,
    ListGroupsResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;
use rill_core::error::ErrorCode;
use rill_core::group::coordinator::GroupDescription;
use rill_core::protocol::{self, GroupRequest, GroupResponse, Message, TopicPartition};

use super::{err, name, str_bytes};

/// The group answer a part got, or `COORDINATOR_NOT_AVAILABLE` when it got something else.
fn group_answer(answer: Option<Message>) -> GroupResponse {
    match answer {
        Some(Message::GroupResponse(response)) => response,
        _ => GroupResponse::Ack(protocol::GroupAck { error: ErrorCode::CoordinatorNotAvailable }),
    }
}

fn ack_error(answer: Option<Message>) -> i16 {
    err(group_answer(answer).error())
}

/// FindCoordinator's keys (v4+ batches them), and whether they are consumer groups (key type
/// 0, the only kind Rill serves).
#[must_use]
pub fn find_coordinator_keys(request: &FindCoordinatorRequest, version: i16) -> (Vec<String>, bool) {
    let keys = if version >= 4 {
        request.coordinator_keys.iter().map(ToString::to_string).collect()
    } else {
        vec![request.key.to_string()]
    };
    (keys, request.key_type == 0)
}

/// FindCoordinator's response: `endpoint` gives a node's advertised host and port.
#[must_use]
pub fn find_coordinator_response(
    keys: &[String],
    answers: Vec<Option<Message>>,
    version: i16,
    endpoint: impl Fn(i32) -> (StrBytes, i32),
) -> FindCoordinatorResponse {
    let mut coordinators = Vec::new();
    for (key, answer) in keys.iter().zip(answers) {
        let mut coordinator = Coordinator::default();
        coordinator.key = str_bytes(key);
        match answer {
            Some(Message::FindCoordinatorResponse(protocol::FindCoordinatorResponse {
                error: ErrorCode::None,
                coordinator: Some(id),
            })) => {
                let (host, port) = endpoint(id);
                coordinator.node_id = BrokerId(id);
                coordinator.host = host;
                coordinator.port = port;
            }
            Some(Message::FindCoordinatorResponse(answer)) if !answer.error.is_ok() => {
                coordinator.node_id = BrokerId(-1);
                coordinator.error_code = err(answer.error);
            }
            _ => {
                coordinator.node_id = BrokerId(-1);
                coordinator.error_code = err(ErrorCode::CoordinatorNotAvailable);
            }
        }
        coordinators.push(coordinator);
    }
    let mut response = FindCoordinatorResponse::default();
    if version >= 4 {
        response.coordinators = coordinators;
    } else if let Some(first) = coordinators.into_iter().next() {
        response.error_code = first.error_code;
        response.node_id = first.node_id;
        response.host = first.host;
        response.port = first.port;
    }
    response
}

/// FindCoordinator for a key type Rill does not serve (1: transactions, 2: share groups): a
/// non-retriable error with a message, so a transactional producer fails at once with it
/// (the Java client's `initTransactions` reports "Could not find a coordinator with type
/// TRANSACTION ... due to unexpected error: <message>") instead of retrying until
/// `max.block.ms`.
#[must_use]
pub fn find_coordinator_unsupported(keys: &[String], key_type: i8, version: i16) -> FindCoordinatorResponse {
    let kind = match key_type {
        1 => "transactions (transactional.id)",
        2 => "share groups (KIP-932)",
        _ => "this coordinator key type",
    };
    let message =
        str_bytes(&format!("Rill does not support {kind} yet; FindCoordinator key type {key_type} is refused"));
    let mut response = FindCoordinatorResponse::default();
    let error_code = err(ErrorCode::InvalidRequest);
    if version >= 4 {
        response.coordinators = keys
            .iter()
            .map(|key| {
                let mut coordinator = Coordinator::default();
                coordinator.key = str_bytes(key);
                coordinator.node_id = BrokerId(-1);
                coordinator.error_code = error_code;
                coordinator.error_message = Some(message.clone());
                coordinator
            })
            .collect();
    } else {
        response.error_code = error_code;
        response.error_message = Some(message);
        response.node_id = BrokerId(-1);
    }
    response
}

/// JoinGroup.
#[must_use]
pub fn join(request: &JoinGroupRequest) -> GroupRequest {
    GroupRequest::Join(protocol::JoinGroup {
        group_id: request.group_id.0.to_string(),
        member_id: request.member_id.to_string(),
        session_timeout_ms: u64::try_from(request.session_timeout_ms).unwrap_or(10_000),
        rebalance_timeout_ms: u64::try_from(request.rebalance_timeout_ms).unwrap_or(300_000),
        protocol_type: request.protocol_type.to_string(),
        protocols: request.protocols.iter().map(|p| (p.name.to_string(), p.metadata.clone())).collect(),
    })
}

/// JoinGroup's response.
#[must_use]
pub fn join_response(answer: Option<Message>, version: i16) -> JoinGroupResponse {
    let mut response = JoinGroupResponse::default();
    match group_answer(answer) {
        GroupResponse::Join(join) => {
            response.error_code = err(join.error);
            response.generation_id = join.generation_id;
            if version >= 7 {
                response.protocol_type = Some(str_bytes("consumer"));
            }
            response.protocol_name = Some(str_bytes(&join.protocol_name));
            response.leader = str_bytes(&join.leader);
            response.member_id = str_bytes(&join.member_id);
            response.members = join
                .members
                .into_iter()
                .map(|(member_id, metadata)| {
                    let mut member = JoinGroupResponseMember::default();
                    member.member_id = str_bytes(&member_id);
                    member.metadata = metadata;
                    member
                })
                .collect();
        }
        other => {
            response.error_code = err(other.error());
            response.generation_id = -1;
        }
    }
    response
}

/// SyncGroup.
#[must_use]
pub fn sync(request: &SyncGroupRequest) -> GroupRequest {
    GroupRequest::Sync(protocol::SyncGroup {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
        assignments: request.assignments.iter().map(|a| (a.member_id.to_string(), a.assignment.clone())).collect(),
    })
}

/// SyncGroup's response.
#[must_use]
pub fn sync_response(answer: Option<Message>, version: i16) -> SyncGroupResponse {
    let mut response = SyncGroupResponse::default();
    match group_answer(answer) {
        GroupResponse::Sync(sync) => {
            response.error_code = err(sync.error);
            response.assignment = sync.assignment;
            if version >= 5 {
                response.protocol_type = Some(str_bytes("consumer"));
            }
        }
        other => response.error_code = err(other.error()),
    }
    response
}

/// Heartbeat.
#[must_use]
pub fn heartbeat(request: &HeartbeatRequest) -> GroupRequest {
    GroupRequest::Heartbeat(protocol::Heartbeat {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id,
        member_id: request.member_id.to_string(),
    })
}

/// Heartbeat's response.
#[must_use]
pub fn heartbeat_response(answer: Option<Message>) -> HeartbeatResponse {
    let mut response = HeartbeatResponse::default();
    response.error_code = ack_error(answer);
    response
}

/// LeaveGroup: one core request per member (v3+ leaves several at once).
#[must_use]
pub fn leave(request: &LeaveGroupRequest, version: i16) -> Vec<GroupRequest> {
    let members: Vec<String> = if version >= 3 {
        request.members.iter().map(|m| m.member_id.to_string()).collect()
    } else {
        vec![request.member_id.to_string()]
    };
    members
        .into_iter()
        .map(|member_id| {
            GroupRequest::Leave(protocol::LeaveGroup { group_id: request.group_id.0.to_string(), member_id })
        })
        .collect()
}

/// LeaveGroup's response, for the members of [`leave`] in order.
#[must_use]
pub fn leave_response(requests: &[GroupRequest], answers: Vec<Option<Message>>, version: i16) -> LeaveGroupResponse {
    let errors: Vec<i16> = answers.into_iter().map(ack_error).collect();
    let mut response = LeaveGroupResponse::default();
    if version >= 3 {
        response.members = requests
            .iter()
            .zip(&errors)
            .filter_map(|(request, error)| match request {
                GroupRequest::Leave(leave) => {
                    let mut member = leave_group_response::MemberResponse::default();
                    member.member_id = str_bytes(&leave.member_id);
                    member.error_code = *error;
                    Some(member)
                }
                _ => None,
            })
            .collect();
    } else {
        response.error_code = errors.first().copied().unwrap_or(0);
    }
    response
}

/// DeleteGroups: one core request per group, in order.
#[must_use]
pub fn delete_groups(request: &DeleteGroupsRequest) -> Vec<GroupRequest> {
    request
        .groups_names
        .iter()
        .map(|group_id| GroupRequest::Delete(protocol::DeleteGroup { group_id: group_id.0.to_string() }))
        .collect()
}

/// DeleteGroups' response, for the groups of [`delete_groups`] in order.
#[must_use]
pub fn delete_groups_response(requests: &[GroupRequest], answers: Vec<Option<Message>>) -> DeleteGroupsResponse {
    let mut response = DeleteGroupsResponse::default();
    response.results = requests
        .iter()
        .zip(answers)
        .map(|(request, answer)| {
            let mut result = DeletableGroupResult::default();
            result.group_id = GroupId(str_bytes(request.group_id()));
            result.error_code = ack_error(answer);
            result
        })
        .collect();
    response
}

/// OffsetCommit.
#[must_use]
pub fn offset_commit(request: &OffsetCommitRequest) -> GroupRequest {
    let offsets = request
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| (TopicPartition::new(&t.name.0, p.partition_index), p.committed_offset))
        })
        .collect();
    GroupRequest::OffsetCommit(protocol::OffsetCommit {
        group_id: request.group_id.0.to_string(),
        generation_id: request.generation_id_or_member_epoch,
        member_id: request.member_id.to_string(),
        offsets,
    })
}

/// OffsetCommit's response: the coordinator's one answer for every partition.
#[must_use]
pub fn offset_commit_response(request: &OffsetCommitRequest, answer: Option<Message>) -> OffsetCommitResponse {
    let error = ack_error(answer);
    let mut response = OffsetCommitResponse::default();
    response.topics = request
        .topics
        .iter()
        .map(|topic| {
            let mut t = offset_commit_response::OffsetCommitResponseTopic::default();
            t.name = topic.name.clone();
            t.partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let mut r = offset_commit_response::OffsetCommitResponsePartition::default();
                    r.partition_index = p.partition_index;
                    r.error_code = error;
                    r
                })
                .collect();
            t
        })
        .collect();
    response
}

/// OffsetFetch (v8+ names groups; Rill answers the first).
#[must_use]
pub fn offset_fetch(request: &OffsetFetchRequest, version: i16) -> Option<GroupRequest> {
    let partitions = |topics: Option<Vec<TopicPartition>>| topics.unwrap_or_default();
    let (group_id, topics) = if version >= 8 {
        let group = request.groups.first()?;
        let topics = group.topics.as_ref().map(|topics| {
            topics.iter().flat_map(|t| t.partition_indexes.iter().map(|p| TopicPartition::new(&t.name.0, *p))).collect()
        });
        (group.group_id.0.to_string(), topics)
    } else {
        let topics = request.topics.as_ref().map(|topics| {
            topics.iter().flat_map(|t| t.partition_indexes.iter().map(|p| TopicPartition::new(&t.name.0, *p))).collect()
        });
        (request.group_id.0.to_string(), topics)
    };
    Some(GroupRequest::OffsetFetch(protocol::OffsetFetch { group_id, partitions: partitions(topics) }))
}

/// OffsetFetch's response.
#[must_use]
pub fn offset_fetch_response(group_id: &str, answer: Option<Message>, version: i16) -> OffsetFetchResponse {
    let (error, offsets) = match group_answer(answer) {
        GroupResponse::Offsets(offsets) => (err(offsets.error), offsets.offsets),
        other => (err(other.error()), Vec::new()),
    };
    let mut by_topic: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
    for (tp, offset) in offsets {
        by_topic.entry(tp.topic.to_string()).or_default().push((tp.partition, offset));
    }
    let mut response = OffsetFetchResponse::default();
    if version >= 8 {
        let mut group = OffsetFetchResponseGroup::default();
        group.group_id = GroupId(str_bytes(group_id));
        group.error_code = error;
        for (topic, partitions) in by_topic {
            let mut t = OffsetFetchResponseTopics::default();
            t.name = name(&topic);
            for (partition, offset) in partitions {
                let mut p = OffsetFetchResponsePartitions::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p.committed_leader_epoch = -1;
                t.partitions.push(p);
            }
            group.topics.push(t);
        }
        response.groups.push(group);
    } else {
        response.error_code = error;
        for (topic, partitions) in by_topic {
            let mut t = OffsetFetchResponseTopic::default();
            t.name = name(&topic);
            for (partition, offset) in partitions {
                let mut p = OffsetFetchResponsePartition::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p.committed_leader_epoch = -1;
                t.partitions.push(p);
            }
            response.topics.push(t);
        }
    }
    response
}

/// ListGroups: every group of the coordinators this broker runs — `(id, state, type)`, the type
/// `classic` or `consumer` (KIP-848) — filtered by the request's states (v4+) and types (v5+).
#[must_use]
pub fn list_groups_response(
    request: &ListGroupsRequest,
    groups: Vec<(String, String, &'static str)>,
    version: i16,
) -> ListGroupsResponse {
    let wanted =
        |filter: &[StrBytes], value: &str| filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value));
    let mut response = ListGroupsResponse::default();
    for (group_id, state, group_type) in groups {
        if !wanted(&request.states_filter, &state) || !wanted(&request.types_filter, group_type) {
            continue;
        }
        let mut group = ListedGroup::default();
        group.group_id = GroupId(str_bytes(&group_id));
        group.protocol_type = str_bytes("consumer");
        if version >= 4 {
            group.group_state = str_bytes(&state);
        }
        if version >= 5 {
            group.group_type = str_bytes(group_type);
        }
        response.groups.push(group);
    }
    response
}

/// DescribeGroups: `describe` finds a group among this broker's coordinators.
#[must_use]
pub fn describe_groups_response(
    group_ids: &[GroupId],
    describe: impl Fn(&str) -> Option<GroupDescription>,
    is_consumer_group: impl Fn(&str) -> bool,
) -> DescribeGroupsResponse {
    let mut response = DescribeGroupsResponse::default();
    for group_id in group_ids {
        let mut described = DescribedGroup::default();
        described.group_id = group_id.clone();
        if is_consumer_group(&group_id.0) {
            // Kafka's answer for a KIP-848 group: ConsumerGroupDescribe describes it.
            described.error_code = err(ErrorCode::GroupIdNotFound);
            described.error_message = Some(str_bytes(&format!("Group {} is not a classic group.", group_id.0)));
            response.groups.push(described);
            continue;
        }
        match describe(&group_id.0) {
            Some(description) => {
                described.group_state = str_bytes(&format!("{:?}", description.state));
                described.protocol_type = str_bytes("consumer");
                described.protocol_data = str_bytes(&description.protocol_name);
                for member in description.members {
                    let mut m = DescribedGroupMember::default();
                    m.member_id = str_bytes(&member.member_id);
                    m.client_id = str_bytes(&member.member_id);
                    m.client_host = str_bytes("/127.0.0.1");
                    described.members.push(m);
                }
            }
            None => described.group_state = str_bytes("Dead"),
        }
        response.groups.push(described);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::messages::leave_group_request::MemberIdentity;

    #[test]
    fn join_round_trips_through_the_core_types() {
        let mut request = JoinGroupRequest::default();
        request.group_id = GroupId(str_bytes("g"));
        request.session_timeout_ms = 10_000;
        request.rebalance_timeout_ms = 20_000;
        let GroupRequest::Join(join) = join(&request) else { panic!("a join") };
        assert_eq!((join.group_id.as_str(), join.session_timeout_ms, join.rebalance_timeout_ms), ("g", 10_000, 20_000));
        let answer = Message::GroupResponse(GroupResponse::Join(protocol::JoinGroupResponse {
            error: ErrorCode::None,
            generation_id: 3,
            protocol_name: "range".into(),
            leader: "m-1".into(),
            member_id: "m-1".into(),
            members: vec![("m-1".into(), Bytes::from_static(b"sub"))],
        }));
        let response = join_response(Some(answer), 7);
        assert_eq!((response.generation_id, response.members.len()), (3, 1));
        assert_eq!(response.protocol_type.as_deref(), Some("consumer"));
        let missing = join_response(None, 7);
        assert_eq!(missing.error_code, err(ErrorCode::CoordinatorNotAvailable));
    }

    #[test]
    fn leave_v3_answers_each_member() {
        let mut request = LeaveGroupRequest::default();
        request.group_id = GroupId(str_bytes("g"));
        for id in ["a", "b"] {
            let mut member = MemberIdentity::default();
            member.member_id = str_bytes(id);
            request.members.push(member);
        }
        let requests = leave(&request, 3);
        assert_eq!(requests.len(), 2);
        let answers = vec![
            Some(Message::GroupResponse(GroupResponse::Ack(protocol::GroupAck { error: ErrorCode::None }))),
            Some(Message::GroupResponse(GroupResponse::Ack(protocol::GroupAck { error: ErrorCode::UnknownMemberId }))),
        ];
        let response = leave_response(&requests, answers, 3);
        assert_eq!(response.members[1].member_id.as_str(), "b");
        assert_eq!(response.members[1].error_code, err(ErrorCode::UnknownMemberId));
    }
}
