//! The coordinator's side of KIP-848 groups: heartbeats to [`ConsumerGroup`], their timers,
//! and what ListGroups shows of them. A group id is either classic or a consumer group: a
//! heartbeat for a classic group with members is refused (`INCONSISTENT_GROUP_PROTOCOL`), as
//! a classic join is for a live consumer group.

use crate::error::ErrorCode;
use crate::protocol::{ConsumerGroupHeartbeat, ConsumerGroupHeartbeatResponse, GroupResponse};

use super::super::consumer::{ConsumerGroup, ConsumerGroupState, HEARTBEAT_INTERVAL_MS};
use super::{Group, GroupCoordinator, ReplyTo};

impl GroupCoordinator {
    pub(super) fn consumer_heartbeat(&mut self, now_ms: u64, asker: ReplyTo, heartbeat: ConsumerGroupHeartbeat) {
        let refuse = |error: ErrorCode| {
            GroupResponse::ConsumerHeartbeat(ConsumerGroupHeartbeatResponse::refused(&heartbeat.member_id, error))
        };
        if heartbeat.group_id.is_empty() {
            self.reply(asker, refuse(ErrorCode::InvalidGroupId));
            return;
        }
        if self.groups.get(&heartbeat.group_id).is_some_and(|g| !g.members.is_empty()) {
            self.reply(asker, refuse(ErrorCode::InconsistentGroupProtocol));
            return;
        }
        let floor = self.generation_floor;
        // Its offsets live with the classic groups' (OffsetFetch, DeleteGroups, the log).
        self.groups.entry(heartbeat.group_id.clone()).or_insert_with(|| Group::new(floor));
        let group =
            self.consumer_groups.entry(heartbeat.group_id.clone()).or_insert_with(|| ConsumerGroup::starting_at(floor));
        let response = match group.heartbeat(now_ms, &heartbeat) {
            Ok(answer) => GroupResponse::ConsumerHeartbeat(ConsumerGroupHeartbeatResponse {
                error: ErrorCode::None,
                member_id: heartbeat.member_id.clone(),
                member_epoch: answer.member_epoch,
                heartbeat_interval_ms: i32::try_from(HEARTBEAT_INTERVAL_MS).unwrap_or(i32::MAX),
                assignment: answer.assignment,
            }),
            Err(error) => refuse(error),
        };
        self.reply(asker, response);
    }

    pub(super) fn expire_consumer_groups(&mut self, now_ms: u64) {
        for group in self.consumer_groups.values_mut() {
            group.expire(now_ms);
        }
    }

    /// KIP-848 groups and their states (ListGroups' `consumer` type).
    #[must_use]
    pub fn list_consumer_groups(&self) -> Vec<(String, ConsumerGroupState)> {
        self.consumer_groups.iter().map(|(id, group)| (id.clone(), group.state())).collect()
    }

    /// One KIP-848 group (ConsumerGroupDescribe).
    #[must_use]
    pub fn consumer_group(&self, group_id: &str) -> Option<&ConsumerGroup> {
        self.consumer_groups.get(group_id)
    }
}
