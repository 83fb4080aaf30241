//! What a quorum member persists: KRaft's `quorum-state` and the metadata log after its newest
//! snapshot.

use serde::{Deserialize, Serialize};

use crate::protocol::EpochEndOffset;

use super::{Entry, Payload, ReplicaId, Snapshot};

/// What survives a crash: KRaft's `quorum-state` (epoch, vote, known leader), the newest
/// snapshot and the log after it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durable<R> {
    /// The current epoch.
    pub epoch: i32,
    /// Whom this voter voted for in `epoch`.
    pub voted_for: Option<ReplicaId>,
    /// The leader of `epoch`, once known.
    pub leader: Option<ReplicaId>,
    /// The newest snapshot (KIP-630): the log starts where it ends.
    #[serde(default)]
    pub snapshot: Option<Snapshot<R>>,
    /// The entries, dense from the log start offset.
    pub log: Vec<Entry<R>>,
}

impl<R> Default for Durable<R> {
    fn default() -> Self {
        Durable { epoch: 0, voted_for: None, leader: None, snapshot: None, log: Vec::new() }
    }
}

impl<R> Durable<R> {
    /// The log start offset: where the snapshot ends (0 without one).
    #[must_use]
    pub fn start_offset(&self) -> i64 {
        self.snapshot.as_ref().map_or(0, |s| s.id.end_offset)
    }

    /// The log end offset.
    #[must_use]
    pub fn end_offset(&self) -> i64 {
        self.start_offset() + i64::try_from(self.log.len()).expect("log fits i64")
    }

    /// The epoch of the last entry (the snapshot's with an empty log; 0 for neither).
    #[must_use]
    pub fn last_epoch(&self) -> i32 {
        self.log.last().map(|e| e.epoch).or(self.snapshot.as_ref().map(|s| s.id.epoch)).unwrap_or(0)
    }

    /// KIP-101's question asked of this log: the largest epoch ≤ `epoch` it has, and the offset
    /// where that epoch ends (the next epoch's first offset, or the log end). `(0, 0)` when it
    /// has none — also when the answer lies inside the snapshot, where only its last epoch is
    /// known.
    #[must_use]
    pub fn end_offset_for(&self, epoch: i32) -> EpochEndOffset {
        // Entries with epoch ≤ `epoch` form a prefix (epochs never decrease along the log).
        let prefix = self.log.partition_point(|e| e.epoch <= epoch);
        let start = self.start_offset();
        match prefix.checked_sub(1).map(|last| self.log[last].epoch) {
            Some(found) => EpochEndOffset { epoch: found, end_offset: start + i64::try_from(prefix).expect("fits") },
            None => match &self.snapshot {
                Some(snapshot) if snapshot.id.epoch <= epoch => {
                    EpochEndOffset { epoch: snapshot.id.epoch, end_offset: snapshot.id.end_offset }
                }
                _ => EpochEndOffset { epoch: 0, end_offset: 0 },
            },
        }
    }

    /// The newest data record in the log, or else the snapshot's state (for state machines
    /// whose records are whole states, as the controller's are: where they stand once all of
    /// it is committed).
    #[must_use]
    pub fn newest_state(&self) -> Option<&R> {
        let in_log = self.log.iter().rev().find_map(|entry| match &entry.payload {
            Payload::Data(record) => Some(record),
            Payload::LeaderChange { .. } | Payload::Voters { .. } => None,
        });
        in_log.or(self.snapshot.as_ref().map(|snapshot| &snapshot.state))
    }

    /// The entry at `offset`, if the log (not the snapshot) holds it.
    #[must_use]
    pub fn entry(&self, offset: i64) -> Option<&Entry<R>> {
        let index = offset.checked_sub(self.start_offset())?;
        usize::try_from(index).ok().and_then(|i| self.log.get(i))
    }
}
