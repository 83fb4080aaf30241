//! The member side of KIP-848 (`group.protocol=consumer`), as the Java client's
//! `ConsumerMembershipManager` does it: heartbeat with the member epoch (0 to join), take the
//! assignment the coordinator sends, and reconcile it — revoked partitions are committed and
//! dropped first (the next heartbeat reports they are gone), added ones start from their
//! committed offsets — while every partition it keeps goes on being consumed. No stop-the-world
//! pause: that is the lesson beside the classic protocol's rebalance.

use crate::error::ErrorCode;
use crate::protocol::{ConsumerGroupHeartbeat, ConsumerGroupHeartbeatResponse, GroupRequest, TopicPartition};

use super::{GroupConsumer, GroupProtocol, Pending, Phase};
use crate::client::ConsumerEvent;

impl GroupConsumer {
    pub(super) fn is_consumer_protocol(&self) -> bool {
        matches!(self.config.group_protocol, GroupProtocol::Consumer { .. })
    }

    /// Its member id: chosen by the client (KIP-1082), from its client number; also its
    /// `client.id`.
    fn consumer_member_id(&self) -> String {
        format!("consumer-{}", self.id)
    }

    /// A heartbeat of this member at `member_epoch`, everything else unchanged (`None`).
    fn heartbeat_at(&self, member_epoch: i32) -> ConsumerGroupHeartbeat {
        ConsumerGroupHeartbeat {
            group_id: self.config.group_id.clone(),
            member_id: self.member_id.clone(),
            member_epoch,
            rebalance_timeout_ms: -1,
            subscribed: None,
            server_assignor: None,
            owned: None,
            partitions: crate::collections::VecMap::new(),
            client: (self.consumer_member_id(), String::new()),
        }
    }

    /// A heartbeat: the full subscription when joining (epoch 0), the owned partitions always.
    pub(super) fn send_consumer_heartbeat(&mut self, now_ms: u64) {
        if self.member_id.is_empty() {
            self.member_id = self.consumer_member_id();
            self.generation_id = 0;
        }
        let GroupProtocol::Consumer { remote_assignor } = &self.config.group_protocol else { return };
        let mut heartbeat = self.heartbeat_at(self.generation_id.max(0));
        if self.generation_id <= 0 {
            // Joining: the full subscription.
            heartbeat.rebalance_timeout_ms = i32::try_from(self.config.rebalance_timeout_ms).unwrap_or(i32::MAX);
            heartbeat.subscribed = Some(self.config.topics.clone());
            heartbeat.server_assignor.clone_from(remote_assignor);
        }
        heartbeat.owned = Some(self.assignment.clone());
        self.send_coordinator(Pending::ConsumerHeartbeat, now_ms, GroupRequest::ConsumerHeartbeat(Box::new(heartbeat)));
    }

    /// Leaves: a heartbeat with epoch −1.
    pub(super) fn leave_consumer_group(&mut self, now_ms: u64) {
        let heartbeat = self.heartbeat_at(-1);
        self.send_coordinator(Pending::Leave, now_ms, GroupRequest::ConsumerHeartbeat(Box::new(heartbeat)));
    }

    pub(super) fn handle_consumer_heartbeat(&mut self, now_ms: u64, response: ConsumerGroupHeartbeatResponse) {
        match response.error {
            ErrorCode::None => {}
            ErrorCode::FencedMemberEpoch | ErrorCode::UnknownMemberId => {
                // Fenced: its partitions may already be someone else's. Drop them and rejoin.
                self.assignment.clear();
                self.positions.clear();
                self.generation_id = 0;
                self.rejoin(now_ms);
                return;
            }
            error => {
                self.handle_group_error(now_ms, error);
                return;
            }
        }
        self.generation_id = response.member_epoch;
        if response.heartbeat_interval_ms > 0 {
            self.config.heartbeat_interval_ms = u64::try_from(response.heartbeat_interval_ms).unwrap_or(5_000);
        }
        let Some(new) = response.assignment else {
            if self.phase == Phase::Join {
                self.phase = Phase::Stable;
            }
            return;
        };
        let revoked: Vec<TopicPartition> = self.assignment.iter().filter(|tp| !new.contains(tp)).cloned().collect();
        let added = new.iter().any(|tp| !self.assignment.contains(tp));
        if !revoked.is_empty() {
            // Commit what it consumed of everything (the revoked partitions' positions go with
            // it), then let them go; the next heartbeat, at once, says so.
            self.commit(now_ms);
            for tp in &revoked {
                self.positions.remove(tp);
            }
        }
        self.assignment = new.clone();
        self.events.push_back(ConsumerEvent::Assigned {
            group_id: self.config.group_id.clone(),
            generation_id: self.generation_id,
            partitions: new,
        });
        if added {
            // New partitions start from their committed offsets; the others keep their positions.
            self.phase = Phase::FetchOffsets;
            self.retry_at_ms = now_ms;
        } else {
            self.phase = Phase::Stable;
        }
        if !revoked.is_empty() {
            self.next_heartbeat_ms = now_ms;
        }
    }
}
