//! Voter changes (KIP-853): the leader adds or removes one voter at a time by appending a
//! `VotersRecord` ([`Payload::Voters`]). Every replica uses the newest one in its log from the
//! moment it appends it — committed or not, as in Raft's single-server changes — and goes
//! back to the one before when it truncates it away. Two rules keep any two majorities of
//! consecutive sets overlapping: a change waits until the previous one is committed, and until
//! the leader has committed an entry of its own epoch (its `LeaderChange`: otherwise a change
//! of an earlier leader, uncommitted, could still be replaced). A leader that removes itself
//! leads until the change commits — counting only the other voters — then resigns and goes
//! on as an observer.

use crate::error::{Error, ErrorCode, Result};

use super::{Payload, QuorumNode, ReplicaId, Role};

impl<R: Clone> QuorumNode<R> {
    /// The newest `VotersRecord` in the log below `offset`: its offset and voters.
    fn voters_entry_before(&self, offset: i64) -> Option<(i64, &Vec<ReplicaId>)> {
        self.durable.log.iter().rev().filter(|entry| entry.offset < offset).find_map(|entry| match &entry.payload {
            Payload::Voters { voters } => Some((entry.offset, voters)),
            _ => None,
        })
    }

    /// The voters in force before `offset`: the newest `VotersRecord` below it in the log,
    /// else the snapshot's, else the configured ones.
    pub(super) fn voters_before(&self, offset: i64) -> Vec<ReplicaId> {
        self.voters_entry_before(offset).map_or_else(|| self.voters_below_log(), |(_, voters)| voters.clone())
    }

    /// The voters where the log starts: the snapshot's, else the configured ones.
    fn voters_below_log(&self) -> Vec<ReplicaId> {
        let snapshot = self.durable.snapshot.as_ref().and_then(|snapshot| snapshot.voters.clone());
        snapshot.unwrap_or_else(|| self.config.voters.clone())
    }

    /// Recomputes the voters from the whole log (after a restart, a truncation or a snapshot
    /// loaded).
    pub(super) fn refresh_voters(&mut self) {
        let newest =
            self.voters_entry_before(self.durable.end_offset()).map(|(offset, voters)| (offset, voters.clone()));
        (self.voters_offset, self.voters) = match newest {
            Some((offset, voters)) => (Some(offset), voters),
            None => (None, self.voters_below_log()),
        };
        assert!(!self.voters.is_empty(), "node {} knows no voter", self.config.node_id);
    }

    /// The log grew by one entry: a `VotersRecord` takes effect at once.
    pub(super) fn voters_appended(&mut self) {
        let Some(entry) = self.durable.log.last() else { return };
        if let Payload::Voters { voters } = &entry.payload {
            assert!(
                voters.windows(2).all(|pair| pair[0] < pair[1]) && !voters.is_empty(),
                "a VotersRecord names distinct voters, sorted: {voters:?}"
            );
            self.voters = voters.clone();
            self.voters_offset = Some(entry.offset);
        }
    }

    /// Whether it stands for election: it votes now, or it did before a change of the voters
    /// it has not seen committed. (A leader that removed itself and crashed before that
    /// committed must be able to lead again to finish it: the other voters may lack the
    /// change, still count it, and refuse to vote for a shorter log.)
    pub(super) fn may_stand(&self) -> bool {
        let me = self.config.node_id;
        self.is_voter(me)
            || self
                .voters_offset
                .is_some_and(|offset| offset >= self.high_watermark && self.voters_before(offset).contains(&me))
    }

    /// Why the leader cannot change the voters now (`verb`: adding or removing), if it cannot.
    fn change_refused(&self, verb: &str) -> Option<Error> {
        let me = self.config.node_id;
        if !self.config.dynamic_voters {
            // Kafka's words for a static controller.quorum.voters.
            return Some(Error::new(
                ErrorCode::UnsupportedVersion,
                format!("Cluster doesn't support {verb} voter because the kraft.version feature is 0"),
            ));
        }
        let Role::Leader(leadership) = &self.role else {
            return Some(Error::new(ErrorCode::NotLeaderOrFollower, format!("node {me} is not the quorum leader")));
        };
        if self.high_watermark <= leadership.epoch_start {
            return Some(Error::new(
                ErrorCode::RequestTimedOut,
                format!("the leader has not yet committed an entry of its epoch {}", self.durable.epoch),
            ));
        }
        if self.voters_offset.is_some_and(|offset| offset >= self.high_watermark) {
            return Some(Error::new(
                ErrorCode::RequestTimedOut,
                "Request timed out waiting for leader to handle previous voter change request",
            ));
        }
        None
    }

    /// KIP-853's `AddRaftVoter`, on the leader: `id`, an observer caught up with the leader,
    /// becomes a voter. The offset of the `VotersRecord`: the change is done once the high
    /// watermark passes it.
    pub fn add_voter(&mut self, now_ms: u64, id: ReplicaId) -> Result<i64> {
        if let Some(error) = self.change_refused("adding") {
            return Err(error);
        }
        if self.is_voter(id) {
            return Err(Error::new(ErrorCode::DuplicateVoter, format!("node {id} is already a voter")));
        }
        let Role::Leader(leadership) = &self.role else { unreachable!("checked: it leads") };
        let caught_up = leadership.progress.get(&id).is_some_and(|progress| {
            progress.end_offset >= self.high_watermark
                && now_ms.saturating_sub(progress.last_fetch_ms) <= self.config.fetch_timeout_ms
        });
        if !caught_up {
            return Err(Error::new(
                ErrorCode::RequestTimedOut,
                format!(
                    "node {id} is not fetching from the leader up to its high watermark: start it as an observer first"
                ),
            ));
        }
        let mut voters = self.voters.clone();
        voters.push(id);
        crate::collections::sort(&mut voters);
        Ok(self.append_voters(now_ms, voters))
    }

    /// KIP-853's `RemoveRaftVoter`, on the leader: `id` stops voting (it may go on as an
    /// observer). The offset of the `VotersRecord`, as for [`QuorumNode::add_voter`].
    pub fn remove_voter(&mut self, now_ms: u64, id: ReplicaId) -> Result<i64> {
        if let Some(error) = self.change_refused("removing") {
            return Err(error);
        }
        if !self.is_voter(id) {
            return Err(Error::new(ErrorCode::VoterNotFound, format!("node {id} is not a voter")));
        }
        if self.voters.len() == 1 {
            return Err(Error::new(ErrorCode::InvalidRequest, format!("node {id} is the only voter")));
        }
        let voters: Vec<ReplicaId> = self.voters.iter().filter(|voter| **voter != id).copied().collect();
        Ok(self.append_voters(now_ms, voters))
    }

    fn append_voters(&mut self, now_ms: u64, voters: Vec<ReplicaId>) -> i64 {
        let offset = self.append_as_leader(Payload::Voters { voters });
        self.after_leader_append(now_ms);
        offset
    }

    /// A leader that removed itself resigns once the change is committed.
    pub(super) fn resign_if_removed(&mut self, now_ms: u64) {
        let committed = self.voters_offset.is_some_and(|offset| offset < self.high_watermark);
        if matches!(self.role, Role::Leader(_)) && committed && !self.is_voter(self.config.node_id) {
            self.resign(now_ms);
        }
    }
}
