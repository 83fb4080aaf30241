//! The quorum's requests and responses, named and shaped like KRaft's RPCs (KIP-595, KIP-996):
//! `Vote` (with `pre_vote`), `BeginQuorumEpoch`, `EndQuorumEpoch`, `Fetch` and `FetchSnapshot`
//! (KIP-630). Each is defined once here; the simulation and the broker carry them as they are.

use serde::{Deserialize, Serialize};

use crate::error::ErrorCode;
use crate::protocol::EpochEndOffset;

/// A controller's (or an observing broker's) `node.id`.
pub type ReplicaId = i32;

/// What a metadata-log entry holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Payload<R> {
    /// The control record a new leader writes first (KRaft's `LeaderChangeMessage`): the
    /// quorum high watermark only moves once a majority has it, so nothing a previous leader
    /// left uncommitted is counted as committed by this one's count.
    LeaderChange {
        /// The new leader.
        leader: ReplicaId,
        /// The voters that elected it.
        voters: Vec<ReplicaId>,
    },
    /// The voter set from here on (KRaft's `VotersRecord`, KIP-853): written by a leader adding
    /// or removing one voter. Every replica uses the newest one in its log, committed or not,
    /// and goes back to the one before if it truncates this entry away.
    Voters {
        /// The voters, sorted.
        voters: Vec<ReplicaId>,
    },
    /// A record of the state machine (the controller's metadata records).
    Data(R),
}

/// One entry of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Entry<R> {
    /// Its offset (dense, from 0).
    pub offset: i64,
    /// The leader epoch it was written in.
    pub epoch: i32,
    /// What it holds.
    pub payload: Payload<R>,
}

/// Where a snapshot ends: KRaft's snapshot id (`OffsetAndEpoch`), the offset after the last
/// entry it covers and that entry's epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotId {
    /// The first offset it does not cover (the log start offset once the log is compacted).
    pub end_offset: i64,
    /// The epoch of the last entry it covers.
    pub epoch: i32,
}

/// A snapshot of the state machine (KIP-630): the state after applying every committed entry
/// below `id.end_offset`. The entries it covers can then be removed from the log; a replica
/// whose fetch falls below the leader's log start fetches the snapshot instead.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Snapshot<R> {
    /// Where it ends.
    pub id: SnapshotId,
    /// The state machine's state there.
    pub state: R,
    /// The voter set there (KIP-853: a snapshot carries the newest `VotersRecord` it covers);
    /// `None` in snapshots written before voters could change: the configured voters.
    #[serde(default)]
    pub voters: Option<Vec<ReplicaId>>,
}

/// `Vote`: a candidate (or, with `pre_vote`, a prospective candidate) asks for a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    /// The epoch it stands in: its new epoch, or for a pre-vote its current one (KIP-996).
    pub epoch: i32,
    /// Who asks.
    pub candidate: ReplicaId,
    /// The epoch of its last entry.
    pub last_epoch: i32,
    /// Its log end offset.
    pub end_offset: i64,
    /// KIP-996: only asking whether a vote would be granted; nobody changes state.
    pub pre_vote: bool,
}

/// The answer to a [`Vote`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteResponse {
    /// `NONE`, or why the vote could not be considered (`INCONSISTENT_VOTER_SET`).
    pub error: ErrorCode,
    /// The voter's epoch after the request.
    pub epoch: i32,
    /// The leader it knows in that epoch.
    pub leader: Option<ReplicaId>,
    /// Whether the vote is granted.
    pub granted: bool,
    /// Echoes the request's `pre_vote`.
    pub pre_vote: bool,
}

/// `BeginQuorumEpoch`: a new leader tells the voters it won.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeginQuorumEpoch {
    /// The epoch it won.
    pub epoch: i32,
    /// The leader.
    pub leader: ReplicaId,
}

/// `EndQuorumEpoch`: a leader steps down (shutting down, or it lost its quorum) and names the
/// voters it prefers as successors, most up to date first; they stand sooner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndQuorumEpoch {
    /// The epoch that ends.
    pub epoch: i32,
    /// The leader resigning.
    pub leader: ReplicaId,
    /// Who should stand first.
    pub preferred_successors: Vec<ReplicaId>,
}

/// The answer to `BeginQuorumEpoch` and `EndQuorumEpoch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochResponse {
    /// `NONE` or `FENCED_LEADER_EPOCH` (the request's epoch is older than the receiver's).
    pub error: ErrorCode,
    /// The receiver's epoch.
    pub epoch: i32,
    /// The leader it knows.
    pub leader: Option<ReplicaId>,
}

/// `Fetch` of the metadata log: voters and observers pull from the leader (KIP-595), with the
/// epoch of their last entry so the leader can say where their logs diverge (KIP-320).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumFetch {
    /// Who fetches.
    pub replica: ReplicaId,
    /// The epoch it is in.
    pub epoch: i32,
    /// Its log end offset.
    pub fetch_offset: i64,
    /// The epoch of the entry before `fetch_offset` (0 for an empty log).
    pub last_fetched_epoch: i32,
    /// The high watermark it knows (KIP-1166): the leader answers at once when it is stale.
    pub high_watermark: i64,
}

/// The answer to a [`QuorumFetch`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumFetchResponse<R> {
    /// `NONE`, `FENCED_LEADER_EPOCH` (the fetcher is behind: here is the epoch and leader),
    /// `NOT_LEADER_OR_FOLLOWER` (the receiver does not lead; here is whom it knows).
    pub error: ErrorCode,
    /// The receiver's epoch.
    pub epoch: i32,
    /// The leader the receiver knows.
    pub leader: Option<ReplicaId>,
    /// The quorum high watermark (the leader's), −1 with an error.
    pub high_watermark: i64,
    /// Where the fetcher's log diverges from the leader's: truncate, then fetch again.
    pub diverging: Option<EpochEndOffset>,
    /// Entries from `fetch_offset`.
    pub entries: Vec<Entry<R>>,
    /// KIP-630: the fetch fell below the leader's log start (or diverged there): fetch this
    /// snapshot, then fetch from its end.
    pub snapshot_id: Option<SnapshotId>,
}

/// `FetchSnapshot` (KIP-630): a replica asks the leader for the snapshot a fetch named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchSnapshot {
    /// Who fetches.
    pub replica: ReplicaId,
    /// The epoch it is in.
    pub epoch: i32,
    /// The snapshot it was told to fetch.
    pub snapshot_id: SnapshotId,
}

/// The answer to a [`FetchSnapshot`] (whole: Kafka sends it in chunks of
/// `controller.quorum.fetch.snapshot.max.bytes`; here a snapshot is one image).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchSnapshotResponse<R> {
    /// `NONE`, `FENCED_LEADER_EPOCH`, `NOT_LEADER_OR_FOLLOWER`, or `SNAPSHOT_NOT_FOUND` (the
    /// leader has a newer snapshot now: fetch again to learn its id).
    pub error: ErrorCode,
    /// The receiver's epoch.
    pub epoch: i32,
    /// The leader the receiver knows.
    pub leader: Option<ReplicaId>,
    /// The snapshot, with no error.
    pub snapshot: Option<Snapshot<R>>,
}

/// Every quorum message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QuorumMessage<R> {
    /// [`Vote`].
    Vote(Vote),
    /// [`VoteResponse`].
    VoteResponse(VoteResponse),
    /// [`BeginQuorumEpoch`].
    BeginQuorumEpoch(BeginQuorumEpoch),
    /// Its answer.
    BeginQuorumEpochResponse(EpochResponse),
    /// [`EndQuorumEpoch`].
    EndQuorumEpoch(EndQuorumEpoch),
    /// Its answer.
    EndQuorumEpochResponse(EpochResponse),
    /// [`QuorumFetch`].
    Fetch(QuorumFetch),
    /// [`QuorumFetchResponse`].
    FetchResponse(QuorumFetchResponse<R>),
    /// [`FetchSnapshot`].
    FetchSnapshot(FetchSnapshot),
    /// [`FetchSnapshotResponse`].
    FetchSnapshotResponse(FetchSnapshotResponse<R>),
}

impl<R> QuorumMessage<R> {
    /// Kafka's API name, for traces.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            QuorumMessage::Vote(v) if v.pre_vote => "Vote(pre-vote)",
            QuorumMessage::Vote(_) => "Vote",
            QuorumMessage::VoteResponse(_) => "VoteResponse",
            QuorumMessage::BeginQuorumEpoch(_) => "BeginQuorumEpoch",
            QuorumMessage::BeginQuorumEpochResponse(_) => "BeginQuorumEpochResponse",
            QuorumMessage::EndQuorumEpoch(_) => "EndQuorumEpoch",
            QuorumMessage::EndQuorumEpochResponse(_) => "EndQuorumEpochResponse",
            QuorumMessage::Fetch(_) => "Fetch",
            QuorumMessage::FetchResponse(_) => "FetchResponse",
            QuorumMessage::FetchSnapshot(_) => "FetchSnapshot",
            QuorumMessage::FetchSnapshotResponse(_) => "FetchSnapshotResponse",
        }
    }
}

/// A message to send: to whom, with which correlation id (a response echoes its request's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumOutgoing<R> {
    /// The destination.
    pub to: ReplicaId,
    /// The correlation id.
    pub correlation_id: u64,
    /// The message.
    pub message: QuorumMessage<R>,
}
