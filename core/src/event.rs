//! Observable state changes of core state machines, drained with `poll_event`.
//!
//! Events are what the simulation's trace, the checkers, the dashboard's event log and the
//! broker's logs are made of. Each has a plain-words explanation ([`std::fmt::Display`]).

use std::fmt;

use crate::error::ErrorCode;
use crate::placement::BrokerId;
use crate::protocol::TopicPartition;

/// Why the controller fenced a broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum FenceReason {
    /// No heartbeat for `broker.session.timeout.ms`.
    SessionTimeout,
    /// It registered again (restarted), so its old incarnation is gone.
    Reregistered,
}

/// A state change worth recording.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Event {
    /// A controller became the active one: its epoch's `LeaderChange` is committed and it took
    /// up the newest metadata in its log.
    ControllerActivated {
        /// The controller's node.
        controller: BrokerId,
        /// Its quorum epoch.
        epoch: i32,
    },
    /// The active controller lost its leadership; what it had not committed is dropped.
    ControllerResigned {
        /// The controller's node.
        controller: BrokerId,
        /// The quorum epoch it is in now.
        epoch: i32,
    },
    /// A metadata quorum member changed role or truncated its log.
    Quorum {
        /// The controller's node.
        controller: BrokerId,
        /// What happened.
        event: crate::raft::QuorumEvent,
    },
    /// The controller registered a broker incarnation.
    BrokerRegistered {
        /// The broker.
        broker: BrokerId,
        /// Its new epoch.
        broker_epoch: i64,
    },
    /// The controller fenced a broker: out of every ISR, cannot lead.
    BrokerFenced {
        /// The broker.
        broker: BrokerId,
        /// Why.
        reason: FenceReason,
    },
    /// The controller unfenced a broker (it caught up with the metadata).
    BrokerUnfenced {
        /// The broker.
        broker: BrokerId,
    },
    /// The controller changed a partition's leader (or found none).
    LeaderChanged {
        /// The partition.
        tp: TopicPartition,
        /// New leader; `None` = offline.
        leader: Option<BrokerId>,
        /// New leader epoch.
        leader_epoch: i32,
        /// ISR after the change.
        isr: Vec<BrokerId>,
        /// Chosen from outside the ISR (`unclean.leader.election.enable`).
        unclean: bool,
    },
    /// The controller committed an ISR change.
    IsrChanged {
        /// The partition.
        tp: TopicPartition,
        /// The ISR before.
        old_isr: Vec<BrokerId>,
        /// The ISR after.
        new_isr: Vec<BrokerId>,
        /// Partition epoch after.
        partition_epoch: i32,
    },
    /// The controller changed a partition's replicas (a reassignment, KIP-455): it started,
    /// completed (every target replica in sync; the removed ones drop their copies) or was
    /// cancelled.
    ReplicasChanged {
        /// The partition.
        tp: TopicPartition,
        /// The replicas before.
        old_replicas: Vec<BrokerId>,
        /// The replicas after.
        new_replicas: Vec<BrokerId>,
        /// Replicas still catching up (empty when the reassignment is over).
        adding: Vec<BrokerId>,
        /// Replicas to remove once those caught up.
        removing: Vec<BrokerId>,
    },
    /// A broker started leading a partition.
    BecameLeader {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Its leader epoch.
        leader_epoch: i32,
        /// Its LEO at that moment (where the epoch starts, KIP-279).
        log_end_offset: i64,
        /// Its high watermark at that moment.
        high_watermark: i64,
    },
    /// A broker started following a partition's leader.
    BecameFollower {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// The leader it follows, if any.
        leader: Option<BrokerId>,
        /// The leader epoch.
        leader_epoch: i32,
    },
    /// A leader asked the controller to shrink or expand the ISR.
    IsrChangeProposed {
        /// The leader.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Proposed ISR.
        new_isr: Vec<BrokerId>,
        /// Replicas leaving, with how long since each last caught up (ms).
        leaving: Vec<(BrokerId, u64)>,
    },
    /// A replica truncated its log (leader-epoch divergence or out-of-range).
    Truncated {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// LEO before.
        from_offset: i64,
        /// LEO after.
        to_offset: i64,
    },
    /// Before KIP-101 (`rill.truncate.to.high.watermark`): a replica becoming a follower cut
    /// its log back to its own high watermark, whatever the leader has.
    TruncatedToHighWatermark {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// LEO before.
        from_offset: i64,
        /// LEO after (its high watermark).
        to_offset: i64,
    },
    /// A leader's high watermark advanced.
    HighWatermarkAdvanced {
        /// The leader.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// The new high watermark.
        high_watermark: i64,
    },
    /// A leader appended a produce request.
    Appended {
        /// The leader.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// First offset.
        base_offset: i64,
        /// Last offset.
        last_offset: i64,
        /// Leader epoch stamped.
        leader_epoch: i32,
    },
    /// A leader recognised a retried batch of an idempotent producer and answered with its
    /// original offsets instead of appending it again.
    DuplicateIgnored {
        /// The leader.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Where the batch already is.
        base_offset: i64,
    },
    /// DeleteRecords (KIP-107) moved a replica's log start: on the leader as asked, on a
    /// follower from its leader's log start.
    RecordsDeleted {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Log start offset afterwards.
        log_start_offset: i64,
    },
    /// Retention deleted segments and/or compaction removed records on a replica.
    LogCleaned {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Whole segments deleted by retention.
        segments_deleted: u64,
        /// Records removed by compaction.
        records_compacted: u64,
        /// Log start offset afterwards.
        log_start_offset: i64,
    },
    /// A leader answered a produce request with an error.
    ProduceFailed {
        /// The leader.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// Why.
        error: ErrorCode,
    },
    /// A broker's crash lost its unflushed tail of a partition.
    LostUnflushed {
        /// The broker.
        broker: BrokerId,
        /// The partition.
        tp: TopicPartition,
        /// LEO before the crash.
        from_offset: i64,
        /// LEO after recovery.
        to_offset: i64,
    },
}

fn list(brokers: &[BrokerId]) -> String {
    let items: Vec<String> = brokers.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(", "))
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::ControllerActivated { controller, epoch } => {
                write!(f, "controller {controller} is the active controller (quorum epoch {epoch})")
            }
            Event::ControllerResigned { controller, epoch } => {
                write!(f, "controller {controller} is no longer active (quorum epoch {epoch}); what it had not committed is dropped")
            }
            Event::Quorum { controller, event } => match event {
                crate::raft::QuorumEvent::Role { role, epoch, leader } => match (role, leader) {
                    (crate::raft::RoleKind::Follower, Some(leader)) => {
                        write!(f, "controller {controller} follows controller {leader} in quorum epoch {epoch}")
                    }
                    _ => write!(f, "controller {controller} is {} in quorum epoch {epoch}", role.name()),
                },
                crate::raft::QuorumEvent::VoterSetMismatch { other, theirs, .. } => write!(
                    f,
                    "controller {controller} and controller {other} disagree on controller.quorum.voters{}: every node must list the same voters",
                    theirs.as_ref().map_or_else(String::new, |voters| format!(" (controller {other} has {voters:?})"))
                ),
                crate::raft::QuorumEvent::SnapshotTaken { id } => write!(
                    f,
                    "controller {controller} snapshotted its metadata log at offset {} and removed the records before it",
                    id.end_offset
                ),
                crate::raft::QuorumEvent::SnapshotLoaded { id, .. } => write!(
                    f,
                    "controller {controller} was behind the leader's log start: it fetched the leader's snapshot (to offset {}) and starts from it",
                    id.end_offset
                ),
                crate::raft::QuorumEvent::Truncated { to, from } => write!(
                    f,
                    "controller {controller} truncated its metadata log from {from} to {to} (uncommitted entries of a deposed leader)"
                ),
            },
            Event::BrokerRegistered { broker, broker_epoch } => {
                write!(f, "broker {broker} registered with the controller (broker epoch {broker_epoch})")
            }
            Event::BrokerFenced { broker, reason: FenceReason::SessionTimeout } => write!(
                f,
                "controller fenced broker {broker}: no heartbeat within broker.session.timeout.ms"
            ),
            Event::BrokerFenced { broker, reason: FenceReason::Reregistered } => write!(
                f,
                "controller fenced broker {broker}: it restarted, so it must catch up before rejoining"
            ),
            Event::BrokerUnfenced { broker } => write!(f, "controller unfenced broker {broker}: it caught up with the metadata"),
            Event::LeaderChanged { tp, leader: Some(leader), leader_epoch, isr, unclean } => write!(
                f,
                "{tp}: broker {leader} elected leader at epoch {leader_epoch}{} (ISR {})",
                if *unclean { " UNCLEANLY, from outside the ISR: committed records may be lost" } else { "" },
                list(isr)
            ),
            Event::LeaderChanged { tp, leader: None, leader_epoch, isr, .. } => write!(
                f,
                "{tp} is offline at epoch {leader_epoch}: no live in-sync replica can lead (ISR {}) and unclean election is off",
                list(isr)
            ),
            Event::IsrChanged { tp, old_isr, new_isr, partition_epoch } => {
                let left: Vec<BrokerId> = old_isr.iter().filter(|b| !new_isr.contains(b)).copied().collect();
                let joined: Vec<BrokerId> = new_isr.iter().filter(|b| !old_isr.contains(b)).copied().collect();
                write!(f, "{tp}: ")?;
                if !left.is_empty() {
                    write!(f, "broker(s) {} left the ISR; ", list(&left))?;
                }
                if !joined.is_empty() {
                    write!(f, "broker(s) {} caught up and rejoined the ISR; ", list(&joined))?;
                }
                write!(f, "ISR {} -> {} (partition epoch {partition_epoch})", list(old_isr), list(new_isr))
            }
            Event::ReplicasChanged { tp, old_replicas, new_replicas, adding, removing } => {
                write!(f, "{tp}: replicas {} -> {}", list(old_replicas), list(new_replicas))?;
                if adding.is_empty() && removing.is_empty() {
                    write!(f, " (no reassignment under way)")
                } else {
                    write!(
                        f,
                        " (reassigning: adding {} as they catch up, then removing {})",
                        list(adding),
                        list(removing)
                    )
                }
            }
            Event::BecameLeader { broker, tp, leader_epoch, log_end_offset, high_watermark } => write!(
                f,
                "broker {broker} now leads {tp} at epoch {leader_epoch} (LEO {log_end_offset}, HW {high_watermark})"
            ),
            Event::BecameFollower { broker, tp, leader: Some(leader), leader_epoch } => {
                write!(f, "broker {broker} follows broker {leader} for {tp} at epoch {leader_epoch}")
            }
            Event::BecameFollower { broker, tp, leader: None, leader_epoch } => {
                write!(f, "broker {broker} has no leader to follow for {tp} at epoch {leader_epoch}")
            }
            Event::IsrChangeProposed { broker, tp, new_isr, leaving } => {
                write!(f, "broker {broker} asks the controller to set the ISR of {tp} to {}", list(new_isr))?;
                for (replica, lag_ms) in leaving {
                    write!(f, "; broker {replica} has not caught up for {lag_ms} ms (replica.lag.time.max.ms)")?;
                }
                Ok(())
            }
            Event::Truncated { broker, tp, from_offset, to_offset } => write!(
                f,
                "broker {broker} truncated {tp} from {from_offset} to {to_offset} to match the leader's epochs"
            ),
            Event::TruncatedToHighWatermark { broker, tp, from_offset, to_offset } => write!(
                f,
                "broker {broker} cut {tp} back from {from_offset} to its high watermark {to_offset} on becoming a \
                 follower (replication before KIP-101: offsets above a follower's high watermark were not trusted, \
                 though the leader may have committed them)"
            ),
            Event::HighWatermarkAdvanced { broker, tp, high_watermark } => {
                write!(f, "broker {broker}: high watermark of {tp} is now {high_watermark}")
            }
            Event::Appended { broker, tp, base_offset, last_offset, leader_epoch } => write!(
                f,
                "broker {broker} appended offsets {base_offset}..={last_offset} to {tp} at epoch {leader_epoch}"
            ),
            Event::DuplicateIgnored { broker, tp, base_offset } => write!(
                f,
                "broker {broker} recognised a retried batch for {tp} already at offset {base_offset} (idempotent producer): not appended again"
            ),
            Event::RecordsDeleted { broker, tp, log_start_offset } => {
                write!(f, "broker {broker} deleted the records of {tp} below offset {log_start_offset} (DeleteRecords)")
            }
            Event::LogCleaned { broker, tp, segments_deleted, records_compacted, log_start_offset } => write!(
                f,
                "broker {broker} cleaned {tp}: {segments_deleted} old segment(s) deleted, {records_compacted} record(s) compacted away; log starts at {log_start_offset}"
            ),
            Event::ProduceFailed { broker, tp, error } => write!(f, "broker {broker} rejected a produce to {tp}: {error}"),
            Event::LostUnflushed { broker, tp, from_offset, to_offset } => write!(
                f,
                "broker {broker} lost the unflushed tail of {tp} in its crash: LEO {from_offset} -> {to_offset}"
            ),
        }
    }
}
