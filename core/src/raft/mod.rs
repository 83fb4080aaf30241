//! The metadata quorum: a Raft-replicated log with KRaft's rules (KIP-595, KIP-996), sans-IO.
//!
//! Kafka keeps its metadata in a log replicated by a quorum of controllers. KRaft differs from
//! textbook Raft in the direction of replication: followers **pull** with `Fetch(fetch_offset,
//! last_fetched_epoch)`, like partition followers do, and the leader answers with entries, its
//! high watermark, or the epoch where their logs diverge; the follower truncates there and
//! fetches again. No crate fits that shape (raft-rs and openraft push `AppendEntries`), so the
//! protocol is written here, small and checked.
//!
//! **Roles** ([`Role`]): a voter with no leader is *unattached*; when its election timer (or,
//! as a follower, its fetch timeout) fires it becomes *prospective* and asks for pre-votes at
//! its current epoch (KIP-996: nobody changes state, and a follower that is still fetching from
//! a live leader refuses), then, with a majority, a *candidate* in the next epoch. A candidate
//! with a majority of votes becomes *leader*, writes a `LeaderChange` entry and sends
//! `BeginQuorumEpoch`. A leader that has not been fetched from by a majority for 1.5 fetch
//! timeouts resigns (KRaft's check-quorum), sending `EndQuorumEpoch`. Observers (brokers)
//! fetch and never vote.
//!
//! **Commit.** The quorum high watermark is the largest offset a majority of voters has
//! fetched past, once that includes the leader's own `LeaderChange` entry. It never moves back,
//! and no replica truncates below it: both are asserted here, beside the checker in
//! [`checker`].
//!
//! **Voters** ([`QuorumNode::voters`], [`QuorumNode::add_voter`]): the set that votes and counts toward the high watermark is the
//! newest `VotersRecord` in the log (KIP-853), else the snapshot's, else the configured one; the
//! leader changes it one voter at a time.
//!
//! **Durability.** [`Durable`] is KRaft's `quorum-state` file plus the log: the epoch, the vote
//! and the entries. The host must make it durable before it sends what the same call produced
//! (KRaft fsyncs before answering); the simulation treats every change as durable at once.

pub mod checker;
mod durable;
mod election;
mod membership;
pub mod messages;
mod replication;
pub mod sim;
mod snapshot;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use crate::collections::{VecMap, VecSet};
use crate::error::{Error, ErrorCode, Result};
use crate::rng::Rng;

pub use durable::Durable;
pub use messages::{Entry, Payload, QuorumMessage, QuorumOutgoing, ReplicaId, Snapshot, SnapshotId};

/// A quorum member's settings, with KRaft's names and defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumConfig {
    /// This replica's `node.id`.
    pub node_id: ReplicaId,
    /// The voters (`controller.quorum.voters`), sorted.
    pub voters: Vec<ReplicaId>,
    /// `controller.quorum.election.timeout.ms` (1000): an unattached voter stands after a
    /// random time between this and twice this.
    pub election_timeout_ms: u64,
    /// `controller.quorum.fetch.timeout.ms` (2000): a follower that has not heard from its
    /// leader for this long stands.
    pub fetch_timeout_ms: u64,
    /// `controller.quorum.election.backoff.max.ms` (1000): the most a failed candidate waits.
    pub election_backoff_max_ms: u64,
    /// `controller.quorum.request.timeout.ms` (2000): a request not answered by then is sent
    /// again.
    pub request_timeout_ms: u64,
    /// `controller.quorum.retry.backoff.ms` (20): the wait after a failed request.
    pub retry_backoff_ms: u64,
    /// How long the leader holds a fetch that has nothing new (500).
    pub fetch_max_wait_ms: u64,
    /// The most entries one fetch response carries.
    pub fetch_max_entries: usize,
    /// Whether the voter set may change (KIP-853, `kraft.version` 1): the leader adds and
    /// removes voters one at a time with `VotersRecord`s, and `voters` is only where the quorum
    /// starts. With `false` (`kraft.version` 0, a static `controller.quorum.voters`) a change is
    /// refused and a node whose voters differ from another's is told so.
    #[serde(default)]
    pub dynamic_voters: bool,
}

impl QuorumConfig {
    /// KRaft's defaults for `node_id` among `voters`; duplicate or negative ids are refused.
    pub fn new(node_id: ReplicaId, voters: &[ReplicaId]) -> Result<QuorumConfig> {
        let mut sorted = voters.to_vec();
        crate::collections::sort(&mut sorted);
        if sorted.is_empty() {
            return Err(Error::new(ErrorCode::InvalidConfig, "controller.quorum.voters names no voter"));
        }
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!("controller.quorum.voters names node {} twice", pair[0]),
            ));
        }
        if let Some(bad) = sorted.iter().find(|id| **id < 0).copied().or((node_id < 0).then_some(node_id)) {
            return Err(Error::new(ErrorCode::InvalidConfig, format!("node id {bad} is negative")));
        }
        Ok(QuorumConfig {
            node_id,
            voters: sorted,
            election_timeout_ms: 1_000,
            fetch_timeout_ms: 2_000,
            election_backoff_max_ms: 1_000,
            request_timeout_ms: 2_000,
            retry_backoff_ms: 20,
            fetch_max_wait_ms: 500,
            fetch_max_entries: 64,
            dynamic_voters: false,
        })
    }

    /// Whether `id` is among the configured voters (where the quorum starts; see
    /// [`QuorumNode::voters`] for the voters now).
    #[must_use]
    pub fn is_voter(&self, id: ReplicaId) -> bool {
        self.voters.binary_search(&id).is_ok()
    }
}

/// A replica's role.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    /// No leader known; a voter stands at `election_at`, an observer looks for a leader.
    Unattached {
        /// When to stand (voters).
        election_at: u64,
    },
    /// Fetching from `leader`.
    Follower {
        /// The leader.
        leader: ReplicaId,
        /// Whether a fetch has succeeded since it started following (KIP-996: only then does
        /// it refuse pre-votes, so two voters cannot keep sending each other to a dead leader).
        fetched: bool,
        /// When it stands unless a fetch succeeds first.
        fetch_deadline: u64,
    },
    /// Asking for pre-votes at the current epoch (KIP-996).
    Prospective {
        /// Who would vote for it (itself included).
        granted: VecSet<ReplicaId>,
        /// When to give up and ask again.
        election_at: u64,
    },
    /// Standing in its own new epoch.
    Candidate {
        /// Who voted for it (itself included).
        granted: VecSet<ReplicaId>,
        /// When to give up (back to prospective).
        election_at: u64,
    },
    /// Leading `epoch`.
    Leader(Box<Leadership>),
    /// A leader that stepped down; it stands again after `election_at`.
    Resigned {
        /// When to stand.
        election_at: u64,
    },
}

/// What a role is called (for views and events).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RoleKind {
    /// [`Role::Unattached`].
    Unattached,
    /// [`Role::Follower`].
    Follower,
    /// [`Role::Prospective`].
    Prospective,
    /// [`Role::Candidate`].
    Candidate,
    /// [`Role::Leader`].
    Leader,
    /// [`Role::Resigned`].
    Resigned,
}

impl RoleKind {
    /// In words.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            RoleKind::Unattached => "unattached (no leader known)",
            RoleKind::Follower => "a follower",
            RoleKind::Prospective => "prospective (asking for pre-votes)",
            RoleKind::Candidate => "a candidate",
            RoleKind::Leader => "the quorum leader",
            RoleKind::Resigned => "resigned",
        }
    }
}

/// A leader's view of one replica (what `DescribeQuorum` reports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaProgress {
    /// Its log end offset as of its last fetch (−1 before one).
    pub end_offset: i64,
    /// When it last fetched.
    pub last_fetch_ms: u64,
    /// When it last fetched up to the leader's log end.
    pub last_caught_up_ms: u64,
}

/// A leader's state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leadership {
    /// Where its epoch starts (its `LeaderChange` entry).
    epoch_start: i64,
    /// Voters and observers that fetched, by id (itself excluded).
    progress: VecMap<ReplicaId, ReplicaProgress>,
    /// Voters that acknowledged `BeginQuorumEpoch` or fetched in this epoch.
    begun: VecSet<ReplicaId>,
    /// When `BeginQuorumEpoch` goes again to voters not in `begun`.
    begin_resend_at: u64,
    /// When it became leader (check-quorum counts from here for voters not heard from).
    since_ms: u64,
    /// Fetches held until there is something new: (fetcher, correlation id, request, until).
    parked: Vec<(ReplicaId, u64, messages::QuorumFetch, u64)>,
}

/// What [`QuorumNode::poll_committed`] hands the state machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Committed<R> {
    /// Start again from this state.
    Snapshot(Snapshot<R>),
    /// Apply this entry.
    Entry(Entry<R>),
}

/// Something that happened to a replica, for traces and the checker.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuorumEvent {
    /// It took on a role in an epoch (`leader` for followers).
    Role {
        /// The new role.
        role: RoleKind,
        /// The epoch.
        epoch: i32,
        /// The leader it follows, or itself.
        leader: Option<ReplicaId>,
    },
    /// It removed its entries from `to` on (they diverged from the leader's).
    Truncated {
        /// The new log end.
        to: i64,
        /// The old log end.
        from: i64,
    },
    /// It took a snapshot and removed the entries it covers (KIP-630).
    SnapshotTaken {
        /// Where the snapshot ends: the new log start offset.
        id: SnapshotId,
    },
    /// It replaced its log with the leader's snapshot (its fetch fell below the leader's log
    /// start): the state machine starts again from it.
    SnapshotLoaded {
        /// The snapshot.
        id: SnapshotId,
        /// Its log end before.
        from: i64,
    },
    /// Another replica's voter set differs from this one's (`controller.quorum.voters` must be
    /// the same on every node): a misconfigured cluster, which the host should refuse to run.
    VoterSetMismatch {
        /// The replica that disagrees.
        other: ReplicaId,
        /// Its voters, when known (a leader's `LeaderChange` names them).
        theirs: Option<Vec<ReplicaId>>,
        /// Whether this replica is the odd one out: the quorum refused its vote, or the leader
        /// a majority elected names other voters. (A voter asked by a non-voter only warns.)
        odd_one_out: bool,
    },
}

/// One member of the quorum (a voter) or an observer. See the module doc.
#[derive(Debug)]
pub struct QuorumNode<R> {
    config: QuorumConfig,
    durable: Durable<R>,
    /// The voters now: the newest `VotersRecord` in the log, else the snapshot's, else the
    /// configured ones (KIP-853). Sorted.
    voters: Vec<ReplicaId>,
    /// The offset of the `VotersRecord` that set `voters` (`None`: the snapshot or the config).
    voters_offset: Option<i64>,
    role: Role,
    high_watermark: i64,
    /// Committed entries below this were handed to the state machine.
    applied: i64,
    /// The snapshot is to be handed to the state machine first (after a restart, or once one
    /// was fetched from the leader).
    snapshot_pending: bool,
    /// A follower told to fetch this snapshot fetches it before any entry (KIP-630).
    snapshot_fetch: Option<SnapshotId>,
    /// The fetch in flight: correlation id, to whom, resend at.
    pub(crate) fetch_in_flight: Option<(u64, ReplicaId, u64)>,
    /// Observers ask the voters in turn who leads.
    discovery: usize,
    /// After a failed fetch, the next waits until then (`controller.quorum.retry.backoff.ms`).
    fetch_backoff_until: Option<u64>,
    next_correlation: u64,
    outbox: VecDeque<QuorumOutgoing<R>>,
    events: VecDeque<QuorumEvent>,
    rng: Rng,
}

impl<R: Clone> QuorumNode<R> {
    /// A replica starting at `now_ms` from what it persisted (`Durable::default()` the first
    /// time). A former leader comes back resigned: it may not lead its old epoch again.
    #[must_use]
    pub fn new(config: QuorumConfig, durable: Durable<R>, now_ms: u64, rng: Rng) -> QuorumNode<R> {
        let mut node = QuorumNode {
            voters: config.voters.clone(),
            voters_offset: None,
            config,
            durable,
            role: Role::Unattached { election_at: 0 },
            high_watermark: 0,
            applied: 0,
            snapshot_pending: false,
            snapshot_fetch: None,
            fetch_in_flight: None,
            discovery: 0,
            fetch_backoff_until: None,
            next_correlation: 1,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            rng,
        };
        // A snapshot covers committed entries only: it is committed, and applied first.
        let start = node.durable.start_offset();
        node.high_watermark = start;
        node.applied = start;
        node.snapshot_pending = node.durable.snapshot.is_some();
        node.refresh_voters();
        let me = node.config.node_id;
        if node.voters == [me] {
            // The only voter elects itself at once (as KRaft does), in a new epoch.
            node.become_prospective(now_ms);
            return node;
        }
        match node.durable.leader {
            Some(leader) if leader == me => node.resign(now_ms),
            Some(leader) => node.become_follower(now_ms, leader),
            None => node.become_unattached(now_ms),
        }
        node
    }

    // ----- reading -----

    /// The settings.
    #[must_use]
    pub fn config(&self) -> &QuorumConfig {
        &self.config
    }

    /// What it persisted.
    #[must_use]
    pub fn durable(&self) -> &Durable<R> {
        &self.durable
    }

    /// The voters now (KIP-853: the newest `VotersRecord` in its log, committed or not), sorted.
    #[must_use]
    pub fn voters(&self) -> &[ReplicaId] {
        &self.voters
    }

    /// Whether `id` votes now.
    #[must_use]
    pub fn is_voter(&self, id: ReplicaId) -> bool {
        self.voters.binary_search(&id).is_ok()
    }

    /// Votes needed to win, and fetches a high watermark needs: a majority of the voters now.
    #[must_use]
    pub fn majority(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    /// The current epoch.
    #[must_use]
    pub fn epoch(&self) -> i32 {
        self.durable.epoch
    }

    /// The leader it knows in its epoch.
    #[must_use]
    pub fn leader(&self) -> Option<ReplicaId> {
        self.durable.leader
    }

    /// Its role.
    #[must_use]
    pub fn role(&self) -> RoleKind {
        match self.role {
            Role::Unattached { .. } => RoleKind::Unattached,
            Role::Follower { .. } => RoleKind::Follower,
            Role::Prospective { .. } => RoleKind::Prospective,
            Role::Candidate { .. } => RoleKind::Candidate,
            Role::Leader(_) => RoleKind::Leader,
            Role::Resigned { .. } => RoleKind::Resigned,
        }
    }

    /// The log end offset.
    #[must_use]
    pub fn end_offset(&self) -> i64 {
        self.durable.end_offset()
    }

    /// The quorum high watermark as this replica knows it.
    #[must_use]
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// The entries after the snapshot.
    #[must_use]
    pub fn log(&self) -> &[Entry<R>] {
        &self.durable.log
    }

    /// The log start offset (where its snapshot ends; 0 without one).
    #[must_use]
    pub fn start_offset(&self) -> i64 {
        self.durable.start_offset()
    }

    /// The newest snapshot.
    #[must_use]
    pub fn snapshot(&self) -> Option<&Snapshot<R>> {
        self.durable.snapshot.as_ref()
    }

    /// Committed entries below this offset were handed to the state machine.
    #[must_use]
    pub fn applied_offset(&self) -> i64 {
        self.applied
    }

    /// Where the leader's epoch starts (its `LeaderChange` entry); `None` unless it leads.
    #[must_use]
    pub fn epoch_start_offset(&self) -> Option<i64> {
        match &self.role {
            Role::Leader(leadership) => Some(leadership.epoch_start),
            _ => None,
        }
    }

    /// A leader's view of the other replicas (voters and observers that fetched).
    #[must_use]
    pub fn progress(&self) -> Option<&VecMap<ReplicaId, ReplicaProgress>> {
        match &self.role {
            Role::Leader(leadership) => Some(&leadership.progress),
            _ => None,
        }
    }

    // ----- outputs -----

    /// Next message to send.
    pub fn poll_output(&mut self) -> Option<QuorumOutgoing<R>> {
        self.outbox.pop_front()
    }

    /// Next event.
    pub fn poll_event(&mut self) -> Option<QuorumEvent> {
        self.events.pop_front()
    }

    /// What the state machine takes next, in offset order, each once per incarnation: its
    /// snapshot first (after a restart, or once fetched from the leader: the state machine
    /// starts again from it), then each committed entry (a restarted replica hands its
    /// committed entries out again as it learns the high watermark).
    pub fn poll_committed(&mut self) -> Option<Committed<R>> {
        if self.snapshot_pending {
            self.snapshot_pending = false;
            let snapshot = self.durable.snapshot.clone().expect("a pending snapshot exists");
            self.applied = snapshot.id.end_offset;
            return Some(Committed::Snapshot(snapshot));
        }
        if self.applied >= self.high_watermark {
            return None;
        }
        let entry = self.durable.entry(self.applied).cloned().expect("committed entries are in the log");
        self.applied += 1;
        Some(Committed::Entry(entry))
    }

    /// Takes a snapshot (KIP-630) where the state machine stands — `state` is its state after
    /// every entry [`QuorumNode::poll_committed`] handed out — and removes the entries it
    /// covers from the log. `None` when there is nothing new to cover.
    pub fn take_snapshot(&mut self, state: R) -> Option<SnapshotId> {
        let end_offset = self.applied;
        if self.snapshot_pending || end_offset <= self.durable.start_offset() {
            return None;
        }
        assert!(end_offset <= self.high_watermark, "a snapshot covers committed entries only");
        let epoch = self.durable.entry(end_offset - 1).expect("applied entries are in the log").epoch;
        let id = SnapshotId { end_offset, epoch };
        let voters = Some(self.voters_before(end_offset));
        let covered = usize::try_from(end_offset - self.durable.start_offset()).expect("positive");
        self.durable.log.drain(..covered);
        self.durable.snapshot = Some(Snapshot { id, state, voters });
        self.events.push_back(QuorumEvent::SnapshotTaken { id });
        Some(id)
    }

    /// When to call [`QuorumNode::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let role_at = match &self.role {
            Role::Unattached { election_at } => Some(*election_at),
            Role::Prospective { election_at, .. }
            | Role::Candidate { election_at, .. }
            | Role::Resigned { election_at } => Some(*election_at),
            Role::Follower { fetch_deadline, .. } => Some(*fetch_deadline),
            Role::Leader(leadership) => {
                let parked = leadership.parked.iter().map(|p| p.3).min();
                let check = self.check_quorum_at(leadership);
                [Some(leadership.begin_resend_at), parked, check].into_iter().flatten().min()
            }
        };
        let fetch_at = self.fetch_in_flight.map(|(_, _, resend_at)| resend_at);
        [role_at, fetch_at, self.fetch_backoff_until].into_iter().flatten().min()
    }

    // ----- inputs -----

    /// Time passed.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        match &self.role {
            Role::Unattached { election_at } if now_ms >= *election_at => {
                if self.may_stand() {
                    self.become_prospective(now_ms);
                } else {
                    // An observer asks the next voter who leads.
                    let at = now_ms + self.config.retry_backoff_ms.max(1) * 10;
                    self.role = Role::Unattached { election_at: at };
                    self.fetch_in_flight = None;
                    self.discovery += 1;
                }
            }
            Role::Prospective { election_at, .. }
            | Role::Candidate { election_at, .. }
            | Role::Resigned { election_at }
                if now_ms >= *election_at =>
            {
                if self.may_stand() {
                    self.become_prospective(now_ms);
                } else {
                    // Removed from the voters (KIP-853): it goes on as an observer.
                    self.become_unattached(now_ms);
                }
            }
            Role::Follower { fetch_deadline, .. } if now_ms >= *fetch_deadline => {
                if self.may_stand() {
                    self.become_prospective(now_ms);
                } else {
                    // An observer never stands: it looks for the leader again. Not having fetched
                    // for a fetch timeout, it no longer refuses pre-votes for the leader's sake
                    // (a voter it has not learned of yet may need its vote, KIP-853).
                    let at = now_ms + self.config.fetch_timeout_ms;
                    if let Role::Follower { fetch_deadline, fetched, .. } = &mut self.role {
                        *fetch_deadline = at;
                        *fetched = false;
                    }
                    self.fetch_in_flight = None;
                    self.discovery += 1;
                }
            }
            Role::Leader(_) => self.leader_timeout(now_ms),
            _ => {}
        }
        self.resign_if_removed(now_ms);
        if let Some((_, _, resend_at)) = self.fetch_in_flight {
            if now_ms >= resend_at {
                self.fetch_in_flight = None;
                self.discovery += 1;
            }
        }
        self.maybe_fetch(now_ms);
    }

    /// A message from `from`.
    pub fn handle_message(&mut self, now_ms: u64, from: ReplicaId, correlation_id: u64, message: QuorumMessage<R>) {
        match message {
            QuorumMessage::Vote(vote) => self.on_vote(now_ms, from, correlation_id, vote),
            QuorumMessage::VoteResponse(response) => self.on_vote_response(now_ms, from, response),
            QuorumMessage::BeginQuorumEpoch(begin) => self.on_begin(now_ms, from, correlation_id, begin),
            QuorumMessage::BeginQuorumEpochResponse(response) => self.on_begin_response(now_ms, from, response),
            QuorumMessage::EndQuorumEpoch(end) => self.on_end(now_ms, from, correlation_id, &end),
            QuorumMessage::EndQuorumEpochResponse(response) => {
                self.observe_epoch(now_ms, response.epoch, response.leader);
            }
            QuorumMessage::Fetch(fetch) => self.on_fetch(now_ms, correlation_id, fetch),
            QuorumMessage::FetchResponse(response) => self.on_fetch_response(now_ms, from, correlation_id, response),
            QuorumMessage::FetchSnapshot(fetch) => self.on_fetch_snapshot(now_ms, correlation_id, fetch),
            QuorumMessage::FetchSnapshotResponse(response) => {
                self.on_fetch_snapshot_response(now_ms, from, correlation_id, response);
            }
        }
        self.resign_if_removed(now_ms);
        self.maybe_fetch(now_ms);
    }

    /// The leader appends `record`; its offset, or `NOT_CONTROLLER` when this replica does not
    /// lead (or has resigned).
    pub fn propose(&mut self, now_ms: u64, record: R) -> Result<i64> {
        if !matches!(self.role, Role::Leader(_)) {
            return Err(Error::new(
                ErrorCode::NotController,
                format!("node {} is not the active controller", self.config.node_id),
            ));
        }
        let offset = self.append_as_leader(Payload::Data(record));
        self.after_leader_append(now_ms);
        Ok(offset)
    }

    /// Steps down gracefully (a controller shutting down): `EndQuorumEpoch` names successors.
    pub fn shutdown(&mut self, now_ms: u64) {
        if matches!(self.role, Role::Leader(_)) {
            self.resign(now_ms);
        }
    }

    // ----- transitions -----

    fn send(&mut self, to: ReplicaId, message: QuorumMessage<R>) -> u64 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        self.outbox.push_back(QuorumOutgoing { to, correlation_id, message });
        correlation_id
    }

    fn reply(&mut self, to: ReplicaId, correlation_id: u64, message: QuorumMessage<R>) {
        self.outbox.push_back(QuorumOutgoing { to, correlation_id, message });
    }

    fn role_event(&mut self) {
        let event = QuorumEvent::Role { role: self.role(), epoch: self.durable.epoch, leader: self.durable.leader };
        self.events.push_back(event);
    }

    fn random_election_at(&mut self, now_ms: u64) -> u64 {
        let timeout = self.config.election_timeout_ms;
        now_ms + timeout + self.rng.below(timeout.max(1))
    }

    fn become_unattached(&mut self, now_ms: u64) {
        let election_at = self.random_election_at(now_ms);
        self.role = Role::Unattached { election_at };
        self.fetch_in_flight = None;
        self.snapshot_fetch = None;
        self.role_event();
    }

    fn become_follower(&mut self, now_ms: u64, leader: ReplicaId) {
        assert_ne!(leader, self.config.node_id, "a replica never follows itself");
        self.durable.leader = Some(leader);
        self.role = Role::Follower { leader, fetched: false, fetch_deadline: now_ms + self.config.fetch_timeout_ms };
        self.fetch_in_flight = None;
        self.snapshot_fetch = None;
        self.role_event();
    }

    /// Steps down from leading: `EndQuorumEpoch` to the other voters, most caught up first.
    fn resign(&mut self, now_ms: u64) {
        let mut successors: Vec<(i64, ReplicaId)> = Vec::new();
        if let Role::Leader(leadership) = &self.role {
            for voter in &self.voters {
                if *voter != self.config.node_id {
                    let end = leadership.progress.get(voter).map_or(-1, |p| p.end_offset);
                    successors.push((-end, *voter));
                }
            }
        } else {
            successors = self.voters.iter().filter(|v| **v != self.config.node_id).map(|v| (0, *v)).collect();
        }
        crate::collections::sort(&mut successors);
        let preferred_successors: Vec<ReplicaId> = successors.iter().map(|(_, v)| *v).collect();
        let end = messages::EndQuorumEpoch {
            epoch: self.durable.epoch,
            leader: self.config.node_id,
            preferred_successors: preferred_successors.clone(),
        };
        for voter in preferred_successors {
            self.send(voter, QuorumMessage::EndQuorumEpoch(end.clone()));
        }
        let election_at = self.random_election_at(now_ms);
        self.role = Role::Resigned { election_at };
        self.role_event();
    }

    /// Learns of `epoch` (and its `leader`, if named) from any message. A newer epoch resets the
    /// vote; a leader named in this epoch is followed. Two leaders in one epoch is impossible
    /// (election safety) and asserted.
    fn observe_epoch(&mut self, now_ms: u64, epoch: i32, leader: Option<ReplicaId>) {
        let me = self.config.node_id;
        if epoch > self.durable.epoch {
            self.durable.epoch = epoch;
            self.durable.voted_for = None;
            self.durable.leader = None;
            match leader {
                Some(leader) if leader != me => self.become_follower(now_ms, leader),
                _ => self.become_unattached(now_ms),
            }
            return;
        }
        let Some(leader) = leader else { return };
        if epoch < self.durable.epoch {
            return;
        }
        if let Some(known) = self.durable.leader {
            assert_eq!(known, leader, "two leaders in epoch {epoch}: {known} and {leader}");
            // An observer that lost its leader and is told it still leads follows it again.
            let observer = !self.may_stand();
            if observer && leader != me && matches!(self.role, Role::Unattached { .. }) {
                self.become_follower(now_ms, leader);
            }
            return;
        }
        assert_ne!(leader, me, "node {me} is named leader of epoch {epoch} it did not win");
        self.become_follower(now_ms, leader);
    }

    /// A leader's timers: `BeginQuorumEpoch` again to voters that have not fetched, held
    /// fetches answered at their deadline, and check-quorum.
    fn leader_timeout(&mut self, now_ms: u64) {
        let Role::Leader(leadership) = &mut self.role else { return };
        let mut expired = Vec::new();
        leadership.parked.retain(|parked| {
            if parked.3 <= now_ms {
                expired.push((parked.0, parked.1, parked.2));
                false
            } else {
                true
            }
        });
        let resend = now_ms >= leadership.begin_resend_at;
        let unbegun: Vec<ReplicaId> = if resend {
            leadership.begin_resend_at = now_ms + self.config.request_timeout_ms;
            self.voters
                .iter()
                .filter(|v| **v != self.config.node_id && !leadership.begun.contains(*v))
                .copied()
                .collect()
        } else {
            Vec::new()
        };
        for (from, correlation_id, fetch) in expired {
            self.answer_fetch(now_ms, from, correlation_id, fetch, false);
        }
        let begin = messages::BeginQuorumEpoch { epoch: self.durable.epoch, leader: self.config.node_id };
        for voter in unbegun {
            self.send(voter, QuorumMessage::BeginQuorumEpoch(begin));
        }
        let lost = match &self.role {
            Role::Leader(leadership) => self.check_quorum_at(leadership).is_some_and(|at| now_ms >= at),
            _ => false,
        };
        if lost {
            self.resign(now_ms);
        }
    }

    /// KRaft's check-quorum: when a leader must resign unless more voters fetch — 1.5 fetch
    /// timeouts after the last fetch of the voter that completes its majority. (A leader that
    /// removed itself and waits for that to commit needs a whole majority of the others.)
    fn check_quorum_at(&self, leadership: &Leadership) -> Option<u64> {
        let others = self.majority() - usize::from(self.is_voter(self.config.node_id));
        if others == 0 {
            return None;
        }
        let mut recent: Vec<u64> = self
            .voters
            .iter()
            .filter(|v| **v != self.config.node_id)
            .map(|v| {
                leadership.progress.get(v).map_or(leadership.since_ms, |p| p.last_fetch_ms.max(leadership.since_ms))
            })
            .collect();
        crate::collections::sort(&mut recent);
        recent.reverse();
        let window = self.config.fetch_timeout_ms * 3 / 2;
        recent.get(others - 1).map(|at| at + window)
    }

    fn reject_unknown_voter(&mut self, from: ReplicaId, correlation_id: u64, pre_vote: bool) {
        let response = messages::VoteResponse {
            error: ErrorCode::InconsistentVoterSet,
            epoch: self.durable.epoch,
            leader: self.durable.leader,
            granted: false,
            pre_vote,
        };
        self.reply(from, correlation_id, QuorumMessage::VoteResponse(response));
    }
}
