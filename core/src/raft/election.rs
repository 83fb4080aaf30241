//! Elections: pre-vote (KIP-996), vote, `BeginQuorumEpoch`, `EndQuorumEpoch`.

use crate::collections::{VecMap, VecSet};
use crate::error::ErrorCode;

use super::messages::{BeginQuorumEpoch, EndQuorumEpoch, EpochResponse, Vote, VoteResponse};
use super::{Leadership, Payload, QuorumMessage, QuorumNode, ReplicaId, Role};

impl<R: Clone> QuorumNode<R> {
    /// Whether a candidate whose log ends at (`last_epoch`, `end_offset`) is at least as up to
    /// date as this replica (Raft's vote restriction: a leader must hold every committed entry).
    fn log_up_to_date(&self, last_epoch: i32, end_offset: i64) -> bool {
        (last_epoch, end_offset) >= (self.durable.last_epoch(), self.durable.end_offset())
    }

    pub(super) fn on_vote(&mut self, now_ms: u64, from: ReplicaId, correlation_id: u64, vote: Vote) {
        let strangers = !self.is_voter(vote.candidate) || !self.is_voter(self.config.node_id);
        if strangers && !self.config.dynamic_voters {
            // A node that stands believes it votes: the two (static) voter sets differ. When
            // voters change (KIP-853) this replica's set may just be older than the
            // candidate's, so it answers as Raft does, without consulting its set: a candidate
            // counts only the votes of its own voters.
            self.events.push_back(super::QuorumEvent::VoterSetMismatch {
                other: vote.candidate,
                theirs: None,
                odd_one_out: false,
            });
            self.reject_unknown_voter(from, correlation_id, vote.pre_vote);
            return;
        }
        if vote.epoch > self.durable.epoch {
            // A newer epoch, even from a pre-vote: this replica is behind (KAFKA-17641).
            self.observe_epoch(now_ms, vote.epoch, None);
        }
        let current = vote.epoch == self.durable.epoch;
        let log_ok = self.log_up_to_date(vote.last_epoch, vote.end_offset);
        let granted = if vote.pre_vote {
            // Refused while it follows a leader it has fetched from (KIP-996), or leads.
            let following = matches!(self.role, Role::Follower { fetched: true, .. } | Role::Leader(_));
            current && log_ok && !following
        } else {
            let free = self.durable.voted_for.is_none_or(|voted| voted == vote.candidate);
            let granted = current && log_ok && free && self.durable.leader.is_none();
            if granted && self.durable.voted_for.is_none() {
                self.durable.voted_for = Some(vote.candidate);
                // A vote given restarts the election timer, as in Raft.
                let election_at = self.random_election_at(now_ms);
                if let Role::Unattached { election_at: at } | Role::Prospective { election_at: at, .. } = &mut self.role
                {
                    *at = election_at;
                }
                if matches!(self.role, Role::Prospective { .. }) {
                    self.role = Role::Unattached { election_at };
                    self.role_event();
                }
            }
            granted
        };
        let response = VoteResponse {
            error: ErrorCode::None,
            epoch: self.durable.epoch,
            leader: self.durable.leader,
            granted,
            pre_vote: vote.pre_vote,
        };
        self.reply(from, correlation_id, QuorumMessage::VoteResponse(response));
    }

    pub(super) fn on_vote_response(&mut self, now_ms: u64, from: ReplicaId, response: VoteResponse) {
        if response.error == ErrorCode::InconsistentVoterSet && !self.config.dynamic_voters {
            self.events.push_back(super::QuorumEvent::VoterSetMismatch {
                other: from,
                theirs: None,
                odd_one_out: true,
            });
        }
        self.observe_epoch(now_ms, response.epoch, response.leader);
        let refused_for_leader = response.pre_vote && !response.granted && response.epoch == self.durable.epoch;
        if let (true, Role::Prospective { .. }, Some(leader)) = (refused_for_leader, &self.role, response.leader) {
            // A voter still fetching from the leader refused (KIP-996): follow it again.
            if leader != self.config.node_id {
                self.become_follower(now_ms, leader);
            }
            return;
        }
        if response.epoch != self.durable.epoch || !response.granted || response.error != ErrorCode::None {
            return;
        }
        let majority = self.majority();
        let voter = self.is_voter(from);
        let won = match (&mut self.role, response.pre_vote) {
            (Role::Prospective { granted, .. }, true) | (Role::Candidate { granted, .. }, false) if voter => {
                granted.insert(from);
                granted.len() >= majority
            }
            _ => false,
        };
        if won {
            match self.role {
                Role::Prospective { .. } => self.become_candidate(now_ms),
                _ => self.become_leader(now_ms),
            }
        }
    }

    pub(super) fn on_begin(&mut self, now_ms: u64, from: ReplicaId, correlation_id: u64, begin: BeginQuorumEpoch) {
        self.observe_epoch(now_ms, begin.epoch, Some(begin.leader));
        let error = if begin.epoch < self.durable.epoch { ErrorCode::FencedLeaderEpoch } else { ErrorCode::None };
        let response = EpochResponse { error, epoch: self.durable.epoch, leader: self.durable.leader };
        self.reply(from, correlation_id, QuorumMessage::BeginQuorumEpochResponse(response));
    }

    pub(super) fn on_begin_response(&mut self, now_ms: u64, from: ReplicaId, response: EpochResponse) {
        self.observe_epoch(now_ms, response.epoch, response.leader);
        let epoch = self.durable.epoch;
        if let Role::Leader(leadership) = &mut self.role {
            if response.error == ErrorCode::None && response.epoch == epoch {
                leadership.begun.insert(from);
            }
        }
    }

    /// A leader of this epoch resigned: its followers stand soon, the preferred successors
    /// first (a short wait growing with the position in the list).
    pub(super) fn on_end(&mut self, now_ms: u64, from: ReplicaId, correlation_id: u64, end: &EndQuorumEpoch) {
        self.observe_epoch(now_ms, end.epoch, Some(end.leader));
        let ours = end.epoch == self.durable.epoch && self.durable.leader == Some(end.leader);
        if ours && matches!(self.role, Role::Follower { .. }) && self.may_stand() {
            let position = end.preferred_successors.iter().position(|v| *v == self.config.node_id).unwrap_or(0);
            let step = self.config.election_backoff_max_ms / 10;
            let at = now_ms + u64::try_from(position).unwrap_or(0) * step + self.rng.below(step.max(1));
            self.role = Role::Unattached { election_at: at };
            self.fetch_in_flight = None;
            self.role_event();
        }
        let error = if end.epoch < self.durable.epoch { ErrorCode::FencedLeaderEpoch } else { ErrorCode::None };
        let response = EpochResponse { error, epoch: self.durable.epoch, leader: self.durable.leader };
        self.reply(from, correlation_id, QuorumMessage::EndQuorumEpochResponse(response));
    }

    /// Asks for pre-votes at the current epoch; nobody changes state for them.
    pub(super) fn become_prospective(&mut self, now_ms: u64) {
        assert!(self.may_stand(), "observers never stand");
        let election_at = self.random_election_at(now_ms);
        let granted = self.own_vote();
        let won = granted.len() >= self.majority();
        self.role = Role::Prospective { granted, election_at };
        self.fetch_in_flight = None;
        self.role_event();
        if won {
            self.become_candidate(now_ms);
            return;
        }
        self.ask_for_votes(true);
    }

    /// Its own vote, counted when it is one of the voters now (a leader that removed itself,
    /// uncommitted, stands to finish the change but does not count itself).
    fn own_vote(&self) -> VecSet<ReplicaId> {
        let mut granted = VecSet::new();
        if self.is_voter(self.config.node_id) {
            granted.insert(self.config.node_id);
        }
        granted
    }

    /// Sends `Vote` (a pre-vote, or the real one) to every other voter.
    fn ask_for_votes(&mut self, pre_vote: bool) {
        let me = self.config.node_id;
        let vote = Vote {
            epoch: self.durable.epoch,
            candidate: me,
            last_epoch: self.durable.last_epoch(),
            end_offset: self.durable.end_offset(),
            pre_vote,
        };
        for voter in self.voters.clone() {
            if voter != me {
                self.send(voter, QuorumMessage::Vote(vote));
            }
        }
    }

    /// Stands in a new epoch, voting for itself (persisted before any request goes out).
    fn become_candidate(&mut self, now_ms: u64) {
        let me = self.config.node_id;
        self.durable.epoch += 1;
        self.durable.voted_for = Some(me);
        self.durable.leader = None;
        let backoff = self.rng.below(self.config.election_backoff_max_ms.max(1));
        let election_at = self.random_election_at(now_ms) + backoff;
        let granted = self.own_vote();
        let won = granted.len() >= self.majority();
        self.role = Role::Candidate { granted, election_at };
        self.role_event();
        if won {
            self.become_leader(now_ms);
            return;
        }
        self.ask_for_votes(false);
    }

    /// Won: writes `LeaderChange` first and tells the voters.
    fn become_leader(&mut self, now_ms: u64) {
        let me = self.config.node_id;
        assert_eq!(self.durable.voted_for, Some(me), "a leader voted for itself in its epoch");
        assert!(self.may_stand(), "node {me} won epoch {} without being a voter", self.durable.epoch);
        assert!(self.durable.leader.is_none(), "epoch {} already has a leader", self.durable.epoch);
        self.durable.leader = Some(me);
        self.fetch_in_flight = None;
        self.role = Role::Leader(Box::new(Leadership {
            epoch_start: self.durable.end_offset(),
            progress: VecMap::new(),
            begun: VecSet::new(),
            begin_resend_at: now_ms + self.config.request_timeout_ms,
            since_ms: now_ms,
            parked: Vec::new(),
        }));
        self.role_event();
        let voters = self.voters.clone();
        self.append_as_leader(Payload::LeaderChange { leader: me, voters: voters.clone() });
        let begin = BeginQuorumEpoch { epoch: self.durable.epoch, leader: me };
        for voter in voters {
            if voter != me {
                self.send(voter, QuorumMessage::BeginQuorumEpoch(begin));
            }
        }
        self.after_leader_append(now_ms);
    }
}
