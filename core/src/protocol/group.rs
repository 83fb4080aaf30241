//! The classic consumer group protocol's messages (JoinGroup, SyncGroup, Heartbeat,
//! LeaveGroup, OffsetCommit, OffsetFetch, DeleteGroups) as a client and the group coordinator exchange them.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::collections::VecMap;

use super::TopicPartition;
use crate::error::ErrorCode;

/// JoinGroup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroup {
    /// Group.
    pub group_id: String,
    /// Empty for a new member.
    pub member_id: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: u64,
    /// `rebalance.timeout.ms` (`max.poll.interval.ms` for consumers).
    pub rebalance_timeout_ms: u64,
    /// "consumer".
    pub protocol_type: String,
    /// (assignor name, subscription metadata), in preference order.
    pub protocols: Vec<(String, Bytes)>,
}

/// SyncGroup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroup {
    /// Group.
    pub group_id: String,
    /// Generation.
    pub generation_id: i32,
    /// Member.
    pub member_id: String,
    /// The leader's assignment per member; empty from followers.
    pub assignments: Vec<(String, Bytes)>,
}

/// Heartbeat.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heartbeat {
    /// Group.
    pub group_id: String,
    /// Generation.
    pub generation_id: i32,
    /// Member.
    pub member_id: String,
}

/// LeaveGroup.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveGroup {
    /// Group.
    pub group_id: String,
    /// Member.
    pub member_id: String,
}

/// OffsetCommit (`generation_id` -1 and an empty member for a standalone consumer).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetCommit {
    /// Group.
    pub group_id: String,
    /// Generation.
    pub generation_id: i32,
    /// Member.
    pub member_id: String,
    /// Offsets to commit.
    pub offsets: Vec<(TopicPartition, i64)>,
}

/// OffsetFetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetFetch {
    /// Group.
    pub group_id: String,
    /// Partitions, or all the group has when empty.
    pub partitions: Vec<TopicPartition>,
}

/// DeleteGroups for one group: only an empty group can be deleted; its committed offsets go
/// (tombstones in `__consumer_offsets`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeleteGroup {
    /// Group.
    pub group_id: String,
}

/// OffsetDelete (KIP-496): forget a group's committed offsets for some partitions — refused
/// for the topics an active group still subscribes to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetDelete {
    /// Group.
    pub group_id: String,
    /// The partitions.
    pub partitions: Vec<TopicPartition>,
}

/// OffsetDelete's answer: the group's outcome, then each partition's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetDeleteResponse {
    /// `NONE`, `GROUP_ID_NOT_FOUND`, `NON_EMPTY_GROUP`, `INVALID_GROUP_ID`, coordinator errors.
    pub error: ErrorCode,
    /// Each partition: `NONE` or `GROUP_SUBSCRIBED_TO_TOPIC`.
    pub partitions: Vec<(TopicPartition, ErrorCode)>,
}

/// ConsumerGroupHeartbeat (KIP-848), with topic names where the wire has topic ids.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupHeartbeat {
    /// The group.
    pub group_id: String,
    /// The member's id (the client's, KIP-1082).
    pub member_id: String,
    /// 0 to join, −1 to leave (−2: a static member leaving), else its epoch.
    pub member_epoch: i32,
    /// `max.poll.interval.ms`; −1: unchanged.
    pub rebalance_timeout_ms: i32,
    /// Subscribed topics; `None`: unchanged.
    pub subscribed: Option<Vec<String>>,
    /// The assignor asked for; `None`: unchanged (or the group's default).
    pub server_assignor: Option<String>,
    /// The partitions it owns; `None`: unchanged.
    pub owned: Option<Vec<TopicPartition>>,
    /// Partition counts of the topics the coordinator's broker knows (filled in by it).
    pub partitions: VecMap<String, i32>,
    /// The client's `client.id` and host, for ConsumerGroupDescribe.
    pub client: (String, String),
}

/// ConsumerGroupHeartbeat's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerGroupHeartbeatResponse {
    /// Outcome.
    pub error: ErrorCode,
    /// The member's id.
    pub member_id: String,
    /// Its epoch now.
    pub member_epoch: i32,
    /// `group.consumer.heartbeat.interval.ms`.
    pub heartbeat_interval_ms: i32,
    /// Its assignment, when it changed.
    pub assignment: Option<Vec<TopicPartition>>,
}

impl ConsumerGroupHeartbeatResponse {
    /// A refusal: `error`, no epoch, no assignment.
    #[must_use]
    pub fn refused(member_id: &str, error: ErrorCode) -> ConsumerGroupHeartbeatResponse {
        ConsumerGroupHeartbeatResponse {
            error,
            member_id: member_id.to_owned(),
            member_epoch: -1,
            heartbeat_interval_ms: 0,
            assignment: None,
        }
    }
}

/// A request to the group coordinator.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupRequest {
    /// JoinGroup.
    Join(JoinGroup),
    /// SyncGroup.
    Sync(SyncGroup),
    /// Heartbeat.
    Heartbeat(Heartbeat),
    /// LeaveGroup.
    Leave(LeaveGroup),
    /// OffsetCommit.
    OffsetCommit(OffsetCommit),
    /// OffsetFetch.
    OffsetFetch(OffsetFetch),
    /// DeleteGroups (one group).
    Delete(DeleteGroup),
    /// OffsetDelete.
    OffsetDelete(OffsetDelete),
    /// ConsumerGroupHeartbeat (KIP-848).
    ConsumerHeartbeat(Box<ConsumerGroupHeartbeat>),
}

impl GroupRequest {
    /// The group the request is for.
    #[must_use]
    pub fn group_id(&self) -> &str {
        match self {
            GroupRequest::Join(JoinGroup { group_id, .. })
            | GroupRequest::Sync(SyncGroup { group_id, .. })
            | GroupRequest::Heartbeat(Heartbeat { group_id, .. })
            | GroupRequest::Leave(LeaveGroup { group_id, .. })
            | GroupRequest::OffsetCommit(OffsetCommit { group_id, .. })
            | GroupRequest::OffsetFetch(OffsetFetch { group_id, .. })
            | GroupRequest::Delete(DeleteGroup { group_id })
            | GroupRequest::OffsetDelete(OffsetDelete { group_id, .. }) => group_id,
            GroupRequest::ConsumerHeartbeat(heartbeat) => &heartbeat.group_id,
        }
    }

    /// The Kafka API name.
    #[must_use]
    pub fn api(&self) -> &'static str {
        match self {
            GroupRequest::Join(_) => "JoinGroup",
            GroupRequest::Sync(_) => "SyncGroup",
            GroupRequest::Heartbeat(_) => "Heartbeat",
            GroupRequest::Leave(_) => "LeaveGroup",
            GroupRequest::OffsetCommit(_) => "OffsetCommit",
            GroupRequest::OffsetFetch(_) => "OffsetFetch",
            GroupRequest::Delete(_) => "DeleteGroups",
            GroupRequest::OffsetDelete(_) => "OffsetDelete",
            GroupRequest::ConsumerHeartbeat(_) => "ConsumerGroupHeartbeat",
        }
    }

    /// The answer this request gets when it cannot be served (`NOT_COORDINATOR`, ...).
    #[must_use]
    pub fn error_response(&self, error: ErrorCode) -> GroupResponse {
        match self {
            GroupRequest::Join(join) => GroupResponse::Join(JoinGroupResponse::refused(&join.member_id, error)),
            GroupRequest::Sync(_) => GroupResponse::Sync(SyncGroupResponse { error, assignment: Bytes::new() }),
            GroupRequest::Heartbeat(_)
            | GroupRequest::Leave(_)
            | GroupRequest::OffsetCommit(_)
            | GroupRequest::Delete(_) => GroupResponse::Ack(GroupAck { error }),
            GroupRequest::OffsetFetch(_) => GroupResponse::Offsets(OffsetFetchResponse { error, offsets: Vec::new() }),
            GroupRequest::OffsetDelete(_) => {
                GroupResponse::OffsetDelete(OffsetDeleteResponse { error, partitions: Vec::new() })
            }
            GroupRequest::ConsumerHeartbeat(heartbeat) => {
                GroupResponse::ConsumerHeartbeat(ConsumerGroupHeartbeatResponse::refused(&heartbeat.member_id, error))
            }
        }
    }
}

/// JoinGroup's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinGroupResponse {
    /// Outcome.
    pub error: ErrorCode,
    /// The new generation.
    pub generation_id: i32,
    /// Chosen assignor.
    pub protocol_name: String,
    /// Leader member id.
    pub leader: String,
    /// This member's id.
    pub member_id: String,
    /// For the leader only: every member's subscription for the chosen protocol.
    pub members: Vec<(String, Bytes)>,
}

impl JoinGroupResponse {
    /// A refusal (or KIP-394's `MEMBER_ID_REQUIRED` handing out `member_id`): no generation.
    #[must_use]
    pub fn refused(member_id: &str, error: ErrorCode) -> JoinGroupResponse {
        JoinGroupResponse {
            error,
            generation_id: -1,
            protocol_name: String::new(),
            leader: String::new(),
            member_id: member_id.to_owned(),
            members: Vec::new(),
        }
    }
}

/// SyncGroup's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroupResponse {
    /// Outcome.
    pub error: ErrorCode,
    /// This member's assignment.
    pub assignment: Bytes,
}

/// The answer to Heartbeat, LeaveGroup and OffsetCommit: an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAck {
    /// Outcome.
    pub error: ErrorCode,
}

/// OffsetFetch's answer (-1 for partitions without a committed offset).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetFetchResponse {
    /// Outcome.
    pub error: ErrorCode,
    /// Committed offsets.
    pub offsets: Vec<(TopicPartition, i64)>,
}

/// A coordinator's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupResponse {
    /// JoinGroup's answer.
    Join(JoinGroupResponse),
    /// SyncGroup's answer.
    Sync(SyncGroupResponse),
    /// Heartbeat's, LeaveGroup's and OffsetCommit's answer.
    Ack(GroupAck),
    /// OffsetFetch's answer.
    Offsets(OffsetFetchResponse),
    /// OffsetDelete's answer.
    OffsetDelete(OffsetDeleteResponse),
    /// ConsumerGroupHeartbeat's answer.
    ConsumerHeartbeat(ConsumerGroupHeartbeatResponse),
}

impl GroupResponse {
    /// The outcome.
    #[must_use]
    pub fn error(&self) -> ErrorCode {
        match self {
            GroupResponse::Join(JoinGroupResponse { error, .. })
            | GroupResponse::Sync(SyncGroupResponse { error, .. })
            | GroupResponse::Ack(GroupAck { error })
            | GroupResponse::Offsets(OffsetFetchResponse { error, .. })
            | GroupResponse::OffsetDelete(OffsetDeleteResponse { error, .. })
            | GroupResponse::ConsumerHeartbeat(ConsumerGroupHeartbeatResponse { error, .. }) => *error,
        }
    }
}
