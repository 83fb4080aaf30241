//! Snapshots of the metadata log (KIP-630): a replica whose fetch falls below the leader's log
//! start fetches the leader's snapshot, replaces what it holds with it, and fetches on from its
//! end. (Taking a snapshot is [`QuorumNode::take_snapshot`].)

use crate::error::ErrorCode;

use super::messages::{FetchSnapshot, FetchSnapshotResponse};
use super::{QuorumEvent, QuorumMessage, QuorumNode, ReplicaId, Role, Snapshot};

impl<R: Clone> QuorumNode<R> {
    /// The leader answers a `FetchSnapshot` with its snapshot, if it is still the one named.
    pub(super) fn on_fetch_snapshot(&mut self, now_ms: u64, correlation_id: u64, fetch: FetchSnapshot) {
        let from = fetch.replica;
        if fetch.epoch > self.durable.epoch {
            self.observe_epoch(now_ms, fetch.epoch, None);
        }
        let leading = matches!(self.role, Role::Leader(_));
        let current = self.durable.snapshot.as_ref().map(|s| s.id);
        let error = if fetch.epoch < self.durable.epoch {
            ErrorCode::FencedLeaderEpoch
        } else if !leading {
            ErrorCode::NotLeaderOrFollower
        } else if current != Some(fetch.snapshot_id) {
            // A newer snapshot replaced it: the next fetch names that one.
            ErrorCode::SnapshotNotFound
        } else {
            ErrorCode::None
        };
        // A replica fetching a snapshot is alive (KRaft counts it for check-quorum).
        self.record_fetch(now_ms, from);
        let snapshot = if error == ErrorCode::None { self.durable.snapshot.clone() } else { None };
        let response =
            FetchSnapshotResponse { error, epoch: self.durable.epoch, leader: self.durable.leader, snapshot };
        self.reply(from, correlation_id, QuorumMessage::FetchSnapshotResponse(response));
    }

    pub(super) fn on_fetch_snapshot_response(
        &mut self,
        now_ms: u64,
        from: ReplicaId,
        correlation_id: u64,
        response: FetchSnapshotResponse<R>,
    ) {
        let ours = self.take_fetch_answer(now_ms, from, correlation_id, response.epoch, response.leader);
        if !ours || response.epoch != self.durable.epoch {
            if ours {
                self.fetch_backoff_until = Some(now_ms + self.config.retry_backoff_ms);
            }
            return;
        }
        let Some(snapshot) = response.snapshot.filter(|_| response.error == ErrorCode::None) else {
            // Fetch again: the answer names the snapshot to fetch now, or the leader.
            self.snapshot_fetch = None;
            self.fetch_backoff_until = Some(now_ms + self.config.retry_backoff_ms);
            return;
        };
        if !self.heard_from_leader(now_ms, from) {
            return;
        }
        self.snapshot_fetch = None;
        self.install_snapshot(snapshot);
    }

    /// Replaces the log up to the snapshot's end with it. Entries past it are kept when the log
    /// holds the snapshot's last entry (same offset and epoch); otherwise they are dropped —
    /// they were not committed here, or the log would match the snapshot there.
    fn install_snapshot(&mut self, snapshot: Snapshot<R>) {
        let id = snapshot.id;
        let start = self.durable.start_offset();
        if id.end_offset <= start {
            return; // it has this one, or a newer one
        }
        let from = self.durable.end_offset();
        let matches = self.durable.entry(id.end_offset - 1).is_some_and(|entry| entry.epoch == id.epoch);
        if matches {
            let covered = usize::try_from(id.end_offset - start).expect("past the log start");
            self.durable.log.drain(..covered);
        } else {
            assert!(
                self.high_watermark <= id.end_offset,
                "node {} committed up to {} but its log does not match the leader's snapshot ending at {}",
                self.config.node_id,
                self.high_watermark,
                id.end_offset
            );
            self.durable.log.clear();
        }
        self.durable.snapshot = Some(snapshot);
        self.refresh_voters();
        if self.high_watermark < id.end_offset {
            self.high_watermark = id.end_offset;
        }
        if self.applied < id.end_offset {
            self.snapshot_pending = true;
        }
        self.events.push_back(QuorumEvent::SnapshotLoaded { id, from });
    }
}
