//! A controller process in a KRaft quorum: a [`QuorumNode`] replicating the metadata log, and —
//! on whichever node leads, once its `LeaderChange` is committed — the active [`Controller`]
//! taken up from the newest record in that log.
//!
//! The active controller runs ahead of the quorum: each change is proposed as a
//! [`ControllerRecord`], and whatever it says as a result (answers to brokers, metadata
//! pushes, events) is **held until that record is committed** (Kafka's controller completes a
//! request only when its records are committed). A controller that loses its leadership drops
//! what it held; the brokers ask again, and the new active controller starts from the committed
//! log, where none of that happened. Voters that do not lead ignore brokers: a broker whose
//! heartbeat goes unanswered tries the next voter.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::config::BrokerConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::placement::BrokerId;
use crate::protocol::{
    ChangeVoters, ChangeVotersResponse, DescribeQuorumResponse, Message, MetadataImage, NodeId, NotController,
    Outgoing, QuorumReplicaState,
};
use crate::raft::{Committed, Durable, Entry, Payload, QuorumConfig, QuorumNode, RoleKind};
use crate::rng::Rng;

use super::{Controller, ControllerRecord};

/// What the metadata log holds.
pub type MetadataRecord = Arc<ControllerRecord>;

#[derive(Debug)]
struct Active {
    epoch: i32,
    controller: Controller,
    /// The version of the last record proposed.
    version: (i64, i64),
    /// The offset of the last record proposed (−1: none yet; what it says is committed state).
    last_offset: i64,
    /// Outputs and events waiting for the record at their offset to commit.
    held: VecDeque<(i64, Held)>,
}

#[derive(Debug)]
enum Held {
    Out(Outgoing),
    Event(Event),
}

impl Held {
    /// Committed: out it goes.
    fn release(self, outbox: &mut VecDeque<Outgoing>, events: &mut VecDeque<Event>) {
        match self {
            Held::Out(out) => outbox.push_back(out),
            Held::Event(event) => events.push_back(event),
        }
    }
}

/// One controller process. See the module doc.
#[derive(Debug)]
pub struct QuorumController {
    id: BrokerId,
    config: BrokerConfig,
    quorum: QuorumNode<MetadataRecord>,
    /// The newest committed record (the state at the quorum's applied offset: each record is
    /// a whole image).
    committed: Option<MetadataRecord>,
    /// When it last took a snapshot (or started).
    last_snapshot_ms: u64,
    active: Option<Active>,
    outbox: VecDeque<Outgoing>,
    events: VecDeque<Event>,
    rng: Rng,
    /// The id to name the cluster with if it leads a cluster without one: the host's (its
    /// `meta.properties`, or fresh entropy); `None` draws one from `rng` (the simulation).
    cluster_id: Option<Arc<str>>,
}

impl QuorumController {
    /// Controller `config.node_id` among `voters`, from what it persisted (`Durable::default()`
    /// the first time). Bad voter lists are refused. `cluster_id`: the id it names a cluster
    /// that has none with (see [`Controller::name_cluster`]); `None` draws one from `rng`.
    pub fn new(
        config: BrokerConfig,
        voters: &[BrokerId],
        durable: Durable<MetadataRecord>,
        now_ms: u64,
        rng: Rng,
        cluster_id: Option<Arc<str>>,
    ) -> Result<QuorumController> {
        let quorum_config = QuorumConfig::new(config.node_id, voters)?;
        if !quorum_config.is_voter(config.node_id) {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!("node {} runs a controller but is not in controller.quorum.voters {voters:?}", config.node_id),
            ));
        }
        Ok(QuorumController::start(config, quorum_config, durable, now_ms, rng, cluster_id))
    }

    /// A controller of a dynamic quorum (KIP-853, `kraft.version` 1), whose voters change with
    /// `VotersRecord`s. `bootstrap`: the voters it was formatted with (`--standalone`,
    /// `--initial-controllers`), where the quorum starts until its log says otherwise; empty
    /// when it was formatted to join (`--no-initial-controllers`): it then observes, asking
    /// the controllers of `discovery` who leads, until a `VotersRecord` makes it a voter.
    pub fn new_dynamic(
        config: BrokerConfig,
        bootstrap: &[BrokerId],
        discovery: &[BrokerId],
        durable: Durable<MetadataRecord>,
        now_ms: u64,
        rng: Rng,
        cluster_id: Option<Arc<str>>,
    ) -> Result<QuorumController> {
        let me = config.node_id;
        let start: Vec<BrokerId> = if bootstrap.is_empty() {
            // Never itself: an observer that counted itself a voter would stand.
            discovery.iter().copied().filter(|id| *id != me).collect()
        } else {
            bootstrap.to_vec()
        };
        if start.is_empty() {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!("node {me} was formatted to join a quorum but knows no other controller to ask who leads"),
            ));
        }
        let mut quorum_config = QuorumConfig::new(me, &start)?;
        quorum_config.dynamic_voters = true;
        Ok(QuorumController::start(config, quorum_config, durable, now_ms, rng, cluster_id))
    }

    fn start(
        config: BrokerConfig,
        quorum_config: QuorumConfig,
        durable: Durable<MetadataRecord>,
        now_ms: u64,
        mut rng: Rng,
        cluster_id: Option<Arc<str>>,
    ) -> QuorumController {
        let quorum = QuorumNode::new(quorum_config, durable, now_ms, rng.fork());
        let mut controller = QuorumController {
            id: config.node_id,
            config,
            quorum,
            committed: None,
            last_snapshot_ms: now_ms,
            active: None,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            rng,
            cluster_id,
        };
        controller.sync(now_ms);
        controller
    }

    /// `AddRaftVoter` (KIP-853) on the quorum's leader: the offset of the `VotersRecord`,
    /// done once the high watermark passes it (see [`QuorumNode::add_voter`]).
    pub fn add_voter(&mut self, now_ms: u64, id: BrokerId) -> Result<i64> {
        let result = self.quorum.add_voter(now_ms, id);
        self.sync(now_ms);
        result
    }

    /// `RemoveRaftVoter` (KIP-853) on the quorum's leader, as [`QuorumController::add_voter`].
    pub fn remove_voter(&mut self, now_ms: u64, id: BrokerId) -> Result<i64> {
        let result = self.quorum.remove_voter(now_ms, id);
        self.sync(now_ms);
        result
    }

    /// The quorum member.
    #[must_use]
    pub fn quorum(&self) -> &QuorumNode<MetadataRecord> {
        &self.quorum
    }

    /// What it persisted (the host keeps it across crashes).
    #[must_use]
    pub fn durable(&self) -> &Durable<MetadataRecord> {
        self.quorum.durable()
    }

    /// The active controller, if this node is it.
    #[must_use]
    pub fn active(&self) -> Option<&Controller> {
        self.active.as_ref().map(|active| &active.controller)
    }

    /// The offset of the newest record the active controller proposed, while it is not
    /// committed yet (an admin change is answered once it is, as Kafka's controller does).
    #[must_use]
    pub fn uncommitted_offset(&self) -> Option<i64> {
        let active = self.active.as_ref()?;
        (active.last_offset >= self.quorum.high_watermark()).then_some(active.last_offset)
    }

    /// The newest committed metadata this node knows.
    #[must_use]
    pub fn committed_image(&self) -> Option<&MetadataImage> {
        self.committed.as_deref().map(|record| &*record.image)
    }

    /// Runs `change` on the active controller (an admin request), then proposes what changed;
    /// `NOT_CONTROLLER` when this node is not active.
    pub fn with_active<T>(&mut self, now_ms: u64, change: impl FnOnce(&mut Controller) -> Result<T>) -> Result<T> {
        let Some(active) = self.active.as_mut() else {
            return Err(Error::new(ErrorCode::NotController, format!("controller {} is not active", self.id)));
        };
        let result = change(&mut active.controller);
        self.sync(now_ms);
        result
    }

    /// A message from a broker or another controller.
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, message: Message) {
        self.maybe_snapshot(now_ms);
        match (from, message) {
            (NodeId::Controller(peer), Message::Quorum(message)) => {
                self.quorum.handle_message(now_ms, peer, correlation_id, message);
            }
            (NodeId::Broker(_), Message::DescribeQuorum(_)) => {
                let message = match self.describe(now_ms) {
                    Some(description) => Message::DescribeQuorumResponse(description),
                    None => Message::NotController(NotController {
                        leader: self.quorum.leader().filter(|leader| *leader != self.id),
                    }),
                };
                self.outbox.push_back(Outgoing { to: from, correlation_id, message });
            }
            (NodeId::Broker(_) | NodeId::Client(_), Message::ChangeVoters(change))
                if self.active.is_some() || matches!(from, NodeId::Client(_)) =>
            {
                self.change_voters(now_ms, from, correlation_id, &change);
            }
            (NodeId::Broker(_), message) => match self.active.as_mut() {
                Some(active) => active.controller.handle_message(now_ms, from, correlation_id, message),
                None => {
                    // Not active: name the leader it knows (not itself: a leader not yet
                    // active stays silent, and the broker asks again soon).
                    let leader = self.quorum.leader().filter(|leader| *leader != self.id);
                    if leader.is_some() || self.quorum.role() != RoleKind::Leader {
                        let message = Message::NotController(NotController { leader });
                        self.outbox.push_back(Outgoing { to: from, correlation_id, message });
                    }
                }
            },
            _ => {}
        }
        self.sync(now_ms);
    }

    /// A forwarded `AddRaftVoter` / `RemoveRaftVoter` (KIP-853), or one asked of this node
    /// directly (`from` a client, on a controller-only node): answered once its `VotersRecord`
    /// is committed, or at once with the quorum's refusal (`NOT_LEADER_OR_FOLLOWER` unless it
    /// is the active controller).
    fn change_voters(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, change: &ChangeVoters) {
        let answer = |error: ErrorCode, message: Option<String>| Outgoing {
            to: from,
            correlation_id,
            message: Message::ChangeVotersResponse(ChangeVotersResponse { error, message }),
        };
        let Some(active) = self.active.as_mut() else {
            let leader = self.quorum.leader().map_or_else(|| "none known".to_owned(), |id| id.to_string());
            let why = format!("controller {} is not the active controller (the quorum leader: {leader})", self.id);
            self.outbox.push_back(answer(ErrorCode::NotLeaderOrFollower, Some(why)));
            return;
        };
        let changed = if change.add {
            self.quorum.add_voter(now_ms, change.id)
        } else {
            self.quorum.remove_voter(now_ms, change.id)
        };
        match changed {
            // After every record already held: the VotersRecord comes after them in the log.
            Ok(offset) => active.held.push_back((offset, Held::Out(answer(ErrorCode::None, None)))),
            Err(error) => self.outbox.push_back(answer(error.code, Some(error.message))),
        }
    }

    /// Time passed.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        self.maybe_snapshot(now_ms);
        self.quorum.handle_timeout(now_ms);
        if let Some(active) = self.active.as_mut() {
            active.controller.handle_timeout(now_ms);
        }
        self.sync(now_ms);
    }

    /// The next message to send.
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When to call [`QuorumController::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let active = self.active.as_ref().and_then(|active| active.controller.poll_timeout());
        [self.quorum.poll_timeout(), active].into_iter().flatten().min()
    }

    /// The quorum as its leader sees it (`DescribeQuorum`); `None` unless this node leads.
    #[must_use]
    pub fn describe(&self, now_ms: u64) -> Option<DescribeQuorumResponse> {
        let progress = self.quorum.progress()?;
        let ms = |value: u64| i64::try_from(value).unwrap_or(i64::MAX);
        let state = |id: BrokerId| match progress.get(&id) {
            _ if id == self.id => QuorumReplicaState {
                replica_id: id,
                log_end_offset: self.quorum.end_offset(),
                last_fetch_ms: ms(now_ms),
                last_caught_up_ms: ms(now_ms),
            },
            Some(p) => QuorumReplicaState {
                replica_id: id,
                log_end_offset: p.end_offset,
                last_fetch_ms: ms(p.last_fetch_ms),
                last_caught_up_ms: if p.last_caught_up_ms == 0 { -1 } else { ms(p.last_caught_up_ms) },
            },
            None => QuorumReplicaState { replica_id: id, log_end_offset: -1, last_fetch_ms: -1, last_caught_up_ms: -1 },
        };
        Some(DescribeQuorumResponse {
            error: ErrorCode::None,
            leader_id: self.id,
            leader_epoch: self.quorum.epoch(),
            high_watermark: self.quorum.high_watermark(),
            voters: self.quorum.voters().iter().map(|id| state(*id)).collect(),
            observers: progress.keys().filter(|id| !self.quorum.is_voter(**id)).map(|id| state(*id)).collect(),
        })
    }

    /// When the active controller fences `broker` unless a heartbeat comes.
    #[must_use]
    pub fn session_deadline_ms(&self, broker: BrokerId) -> Option<u64> {
        self.active()?.session_deadline_ms(broker)
    }

    /// After any input: apply what committed, take up or drop the active role, propose what
    /// changed, release what committed, and send the quorum's messages.
    fn sync(&mut self, now_ms: u64) {
        while let Some(event) = self.quorum.poll_event() {
            self.events.push_back(Event::Quorum { controller: self.id, event });
        }
        while let Some(committed) = self.quorum.poll_committed() {
            match committed {
                Committed::Snapshot(snapshot) => self.committed = Some(snapshot.state),
                Committed::Entry(Entry { payload: Payload::Data(record), .. }) => self.committed = Some(record),
                Committed::Entry(_) => {}
            }
        }
        let leading = self.quorum.role() == RoleKind::Leader;
        if self.active.as_ref().is_some_and(|active| !leading || active.epoch != self.quorum.epoch()) {
            let active = self.active.take().expect("checked");
            if active.epoch == self.quorum.epoch() {
                // Resigned in its own epoch (a leader that removed itself does once that is
                // committed): what is committed already is still answered.
                let hw = self.quorum.high_watermark();
                for (_, held) in active.held.into_iter().take_while(|(offset, _)| *offset < hw) {
                    held.release(&mut self.outbox, &mut self.events);
                }
            }
            self.events.push_back(Event::ControllerResigned { controller: self.id, epoch: self.quorum.epoch() });
        }
        let ready = self.quorum.epoch_start_offset().is_some_and(|start| self.quorum.high_watermark() > start);
        if self.active.is_none() && leading && ready {
            self.activate(now_ms);
        }
        if let Some(active) = self.active.as_mut() {
            let version = active.controller.version();
            if version != active.version {
                let record = Arc::new(active.controller.record());
                let offset = self.quorum.propose(now_ms, record).expect("the leader accepts proposals");
                active.version = version;
                active.last_offset = offset;
            }
            let last_offset = active.last_offset;
            while let Some(out) = active.controller.poll_output() {
                active.held.push_back((last_offset, Held::Out(out)));
            }
            while let Some(event) = active.controller.poll_event() {
                active.held.push_back((last_offset, Held::Event(event)));
            }
            let hw = self.quorum.high_watermark();
            while active.held.front().is_some_and(|(offset, _)| *offset < hw) {
                active.held.pop_front().expect("checked").1.release(&mut self.outbox, &mut self.events);
            }
        }
        while let Some(out) = self.quorum.poll_output() {
            let message = Message::Quorum(out.message);
            self.outbox.push_back(Outgoing {
                to: NodeId::Controller(out.to),
                correlation_id: out.correlation_id,
                message,
            });
        }
        while let Some(event) = self.quorum.poll_event() {
            self.events.push_back(Event::Quorum { controller: self.id, event });
        }
    }

    /// KIP-630: snapshots the metadata log where the state machine stands once enough records
    /// came since the last snapshot (`rill.metadata.log.max.records.between.snapshots`), or
    /// the last one is `metadata.log.max.snapshot.interval.ms` old; the records it covers
    /// leave the log. Called as an input arrives — never in the step that committed what it
    /// covers, so a host (and the checker) has seen those records before they go.
    fn maybe_snapshot(&mut self, now_ms: u64) {
        let Some(state) = &self.committed else { return };
        let new_records = self.quorum.applied_offset() - self.quorum.start_offset();
        if new_records <= 0 {
            return;
        }
        let interval = u64::try_from(self.config.metadata_log_max_snapshot_interval_ms).unwrap_or(0);
        let by_count = new_records >= self.config.metadata_log_max_records_between_snapshots;
        let by_time = interval > 0 && now_ms >= self.last_snapshot_ms + interval;
        if (by_count || by_time) && self.quorum.take_snapshot(state.clone()).is_some() {
            self.last_snapshot_ms = now_ms;
        }
    }

    /// Becomes the active controller from the newest record in its log — or its snapshot —
    /// (all of it is committed now that its `LeaderChange` is) and introduces itself to the
    /// brokers.
    fn activate(&mut self, now_ms: u64) {
        let newest = self.quorum.durable().newest_state().cloned();
        let rng = self.rng.fork();
        let mut controller = match &newest {
            Some(record) => Controller::from_record(self.config.clone(), rng, record, now_ms),
            None => Controller::new(self.config.clone(), rng),
        };
        controller.announce();
        let version = controller.version();
        // From a copy of the generator: naming the cluster draws nothing from the controller's
        // own sequence, so its timers are the same with or without it.
        let cluster_id = self.cluster_id.clone().unwrap_or_else(|| Arc::from(self.rng.clone().uuid_base64()));
        // Proposed in this same step (its version differs from `version`).
        controller.name_cluster(now_ms, &cluster_id);
        self.active =
            Some(Active { epoch: self.quorum.epoch(), controller, version, last_offset: -1, held: VecDeque::new() });
        self.events.push_back(Event::ControllerActivated { controller: self.id, epoch: self.quorum.epoch() });
    }
}
