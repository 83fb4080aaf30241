//! A deterministic simulation of the quorum alone: voters and observers on a virtual clock,
//! a network that delays, drops and cuts, replicas killed (they keep what they persisted),
//! paused and resumed, a leader fed proposals — every step checked by the
//! [`QuorumChecker`], and after the faults are healed, liveness: one leader that every voter
//! follows, committing what it is given.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hash::Hasher;

use crate::collections::{VecMap, VecSet};
use crate::rng::Rng;
use crate::sim::trace::StableHasher;

use super::checker::QuorumChecker;
use super::{
    Committed, Durable, Entry, Payload, QuorumConfig, QuorumEvent, QuorumMessage, QuorumNode, ReplicaId, RoleKind,
};

/// A fault, applied at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuorumFault {
    /// `kill -9`: the process dies; what it persisted stays (KRaft fsyncs before answering).
    Kill(ReplicaId),
    /// It starts again from what it persisted.
    Restart(ReplicaId),
    /// It stops taking steps (a long GC pause, SIGSTOP); messages wait for it.
    Pause(ReplicaId),
    /// It goes on.
    Resume(ReplicaId),
    /// Cuts every link between these replicas and the rest.
    Partition(Vec<ReplicaId>),
    /// Heals every cut.
    HealNetwork,
    /// Kills whoever leads the newest epoch then, restarting it after this many ms.
    KillLeader(u64),
    /// Pauses whoever leads then, for this many ms.
    PauseLeader(u64),
    /// Cuts whoever leads then from everyone, for this many ms.
    IsolateLeader(u64),
    /// Whoever leads then adds a replica that does not vote (`AddRaftVoter`, KIP-853), chosen
    /// at random; refusals (a change pending, the replica behind) are part of the run.
    AddVoter,
    /// Whoever leads then removes one of the other voters (`RemoveRaftVoter`), chosen at random.
    RemoveVoter,
    /// Whoever leads then removes itself: it leads until that commits, then resigns.
    RemoveLeader,
}

/// What a run is made of.
#[derive(Clone, Debug)]
pub struct QuorumSimConfig {
    /// The seed of every random choice.
    pub seed: u64,
    /// Voters 1..=voters.
    pub voters: i32,
    /// Observers after them.
    pub observers: i32,
    /// Faults by time.
    pub faults: Vec<(u64, QuorumFault)>,
    /// Until when faults happen; then everything heals.
    pub fault_phase_ms: u64,
    /// How long the healed quorum runs before the liveness check.
    pub settle_ms: u64,
    /// One-way latency range.
    pub latency_ms: (u64, u64),
    /// Messages dropped per million (during the fault phase).
    pub drop_per_million: u64,
    /// A proposal to whoever leads this often.
    pub propose_every_ms: u64,
    /// The most entries per fetch response (small values split what a new leader sends).
    pub fetch_max_entries: usize,
    /// Each replica snapshots (KIP-630) after this many applied entries since its last
    /// snapshot; 0: never. Replicas that fall behind the leader's log start then fetch its
    /// snapshot.
    pub snapshot_every: i64,
    /// Whether voters may change (KIP-853); the runs' `AddVoter` / `RemoveVoter` /
    /// `RemoveLeader` faults need it.
    pub dynamic_voters: bool,
}

/// A random run for `seed`: 1, 3 or 5 voters, up to 2 observers, kills, pauses and partitions.
#[must_use]
pub fn random_quorum_config(seed: u64) -> QuorumSimConfig {
    let mut rng = Rng::from_seed(seed ^ 0x5155_4f52_554d);
    let voters = [1, 3, 3, 5, 5][rng.index(5)];
    let observers = i32::try_from(rng.below(3)).expect("small");
    let fault_phase_ms = 20_000;
    let all = voters + observers;
    let mut faults = Vec::new();
    for _ in 0..rng.range_inclusive(2, 10) {
        let at = rng.below(fault_phase_ms - 2_000);
        let length = rng.range_inclusive(100, 6_000);
        let node = i32::try_from(rng.range_inclusive(1, u64::try_from(all).expect("small"))).expect("small");
        match rng.below(6) {
            3 => faults.push((at, QuorumFault::KillLeader(length))),
            4 => faults.push((at, QuorumFault::PauseLeader(length))),
            5 => faults.push((at, QuorumFault::IsolateLeader(length))),
            0 => {
                faults.push((at, QuorumFault::Kill(node)));
                faults.push((at + length, QuorumFault::Restart(node)));
            }
            1 => {
                faults.push((at, QuorumFault::Pause(node)));
                faults.push((at + length, QuorumFault::Resume(node)));
            }
            _ => {
                let mut side: Vec<ReplicaId> = (1..=all).filter(|_| rng.chance(1, 2)).collect();
                if side.is_empty() {
                    side.push(node);
                }
                faults.push((at, QuorumFault::Partition(side)));
                faults.push((at + length, QuorumFault::HealNetwork));
            }
        }
    }
    let slow = rng.range_inclusive(1, 60);
    // Half the runs change their voters too (drawn apart, so the other half are as before).
    let mut changes = Rng::from_seed(seed ^ 0x4b49_5038_3533);
    let dynamic_voters = changes.chance(1, 2);
    let mut observers = observers;
    if dynamic_voters {
        observers = observers.max(1);
        for _ in 0..changes.range_inclusive(1, 8) {
            let at = changes.below(fault_phase_ms - 2_000);
            let change = match changes.below(5) {
                0 | 1 => QuorumFault::AddVoter,
                2 | 3 => QuorumFault::RemoveVoter,
                _ => QuorumFault::RemoveLeader,
            };
            faults.push((at, change));
        }
    }
    QuorumSimConfig {
        seed,
        voters,
        observers,
        faults,
        fault_phase_ms,
        settle_ms: 15_000,
        latency_ms: (1, slow),
        drop_per_million: [0, 0, 10_000, 50_000, 200_000][rng.index(5)],
        propose_every_ms: rng.range_inclusive(10, 200),
        fetch_max_entries: [1, 2, 64][rng.index(3)],
        snapshot_every: [0, 2, 5, 20, 100][rng.index(5)],
        dynamic_voters,
    }
}

#[derive(Debug)]
enum Item {
    Deliver {
        from: ReplicaId,
        to: ReplicaId,
        incarnations: (u32, u32),
        correlation_id: u64,
        message: QuorumMessage<u64>,
    },
    Wake(ReplicaId),
    Fault(QuorumFault),
    Propose,
    Heal,
}

#[derive(Debug)]
struct Slot {
    node: Option<QuorumNode<u64>>,
    /// What it persisted when it was killed.
    disk: Durable<u64>,
    incarnation: u32,
    paused: bool,
    held: Vec<Item>,
    /// The state machine: the newest value applied in this incarnation (every value is a
    /// whole state, as the controller's records are).
    state: Option<u64>,
}

/// The outcome of a run.
#[derive(Clone, Debug, Default)]
pub struct QuorumRunReport {
    /// The seed.
    pub seed: u64,
    /// Voters and observers.
    pub voters: i32,
    /// Observers.
    pub observers: i32,
    /// Steps taken.
    pub events: u64,
    /// Leader elections (distinct epochs with a leader).
    pub elections: usize,
    /// Entries committed.
    pub committed: usize,
    /// Proposals the leaders accepted.
    pub proposed: u64,
    /// Distinct snapshots taken.
    pub snapshots: usize,
    /// Times a replica behind the leader's log start loaded the leader's snapshot.
    pub snapshot_loads: u64,
    /// Voter changes (KIP-853) the leaders accepted.
    pub voter_changes: u64,
    /// Safety and liveness violations.
    pub violations: Vec<String>,
    /// Hash of every step: the same seed gives the same hash on every platform.
    pub trace_hash: u64,
    /// Every step in words, if the run was [`QuorumSim::traced`].
    pub trace: Vec<String>,
}

/// The simulation.
#[derive(Debug)]
pub struct QuorumSim {
    config: QuorumSimConfig,
    now_ms: u64,
    rng: Rng,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    items: VecMap<u64, Item>,
    next_seq: u64,
    slots: VecMap<ReplicaId, Slot>,
    cut: VecSet<(ReplicaId, ReplicaId)>,
    last_delivery: VecMap<(ReplicaId, ReplicaId), u64>,
    wake_at: VecMap<ReplicaId, u64>,
    drop_per_million: u64,
    checker: QuorumChecker,
    next_value: u64,
    /// Accepted proposals: (time, leader, offset).
    accepted: Vec<(u64, ReplicaId, i64)>,
    events: u64,
    snapshot_loads: u64,
    voter_changes: u64,
    hasher: StableHasher,
    /// Every step in words, when asked for ([`QuorumSim::traced`]).
    trace: Option<Vec<String>>,
}

impl QuorumSim {
    /// A quorum that has not started yet.
    #[must_use]
    pub fn new(config: QuorumSimConfig) -> QuorumSim {
        let mut rng = Rng::from_seed(config.seed);
        let mut sim = QuorumSim {
            now_ms: 0,
            queue: BinaryHeap::new(),
            items: VecMap::new(),
            next_seq: 0,
            slots: VecMap::new(),
            cut: VecSet::new(),
            last_delivery: VecMap::new(),
            wake_at: VecMap::new(),
            drop_per_million: config.drop_per_million,
            checker: QuorumChecker::new(),
            next_value: 1,
            accepted: Vec::new(),
            events: 0,
            snapshot_loads: 0,
            voter_changes: 0,
            hasher: StableHasher::default(),
            trace: None,
            rng: rng.fork(),
            config,
        };
        for id in 1..=sim.config.voters + sim.config.observers {
            let quorum = sim.quorum_config(id);
            let node = QuorumNode::new(quorum, Durable::default(), 0, rng.fork());
            sim.slots.insert(
                id,
                Slot {
                    node: Some(node),
                    disk: Durable::default(),
                    incarnation: 0,
                    paused: false,
                    held: Vec::new(),
                    state: None,
                },
            );
            sim.after_step(id);
        }
        for (at, fault) in sim.config.faults.clone() {
            sim.schedule(at, Item::Fault(fault));
        }
        sim.schedule(sim.config.fault_phase_ms, Item::Heal);
        sim.schedule(sim.config.propose_every_ms, Item::Propose);
        sim
    }

    /// Keeps every step in words (see [`QuorumRunReport::trace`]).
    #[must_use]
    pub fn traced(mut self) -> QuorumSim {
        self.trace = Some(Vec::new());
        self
    }

    fn note(&mut self, text: impl FnOnce() -> String) {
        if let Some(trace) = &mut self.trace {
            trace.push(format!("{:>6} ms  {}", self.now_ms, text()));
        }
    }

    fn quorum_config(&self, id: ReplicaId) -> QuorumConfig {
        let voters: Vec<ReplicaId> = (1..=self.config.voters).collect();
        let mut quorum = QuorumConfig::new(id, &voters).expect("valid voters");
        quorum.fetch_max_entries = self.config.fetch_max_entries;
        quorum.dynamic_voters = self.config.dynamic_voters;
        quorum
    }

    fn schedule(&mut self, at: u64, item: Item) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.items.insert(seq, item);
        self.queue.push(Reverse((at, seq)));
    }

    /// The replica `id`, if it runs.
    #[must_use]
    pub fn node(&self, id: ReplicaId) -> Option<&QuorumNode<u64>> {
        self.slots.get(&id).and_then(|slot| slot.node.as_ref())
    }

    /// The checker.
    #[must_use]
    pub fn checker(&self) -> &QuorumChecker {
        &self.checker
    }

    /// Drains replica `id`'s outputs, feeds the checker and sets its next wake-up.
    fn after_step(&mut self, id: ReplicaId) {
        let now_ms = self.now_ms;
        let Some(slot) = self.slots.get_mut(&id) else { return };
        let incarnation = slot.incarnation;
        let state = &mut slot.state;
        let Some(node) = slot.node.as_mut() else { return };
        let mut outgoing = Vec::new();
        while let Some(out) = node.poll_output() {
            outgoing.push(out);
        }
        while let Some(event) = node.poll_event() {
            self.hasher.write_u64(crate::sim::trace::stable_hash(&event));
            if let Some(trace) = &mut self.trace {
                trace.push(format!("{now_ms:>6} ms  node {id}: {event:?}"));
            }
            if matches!(event, QuorumEvent::SnapshotLoaded { .. }) {
                self.snapshot_loads += 1;
            }
            self.checker.observe_event(now_ms, id, &event);
        }
        self.checker.check_node(now_ms, node);
        while let Some(committed) = node.poll_committed() {
            self.checker.check_applied(now_ms, id, &committed);
            match committed {
                Committed::Snapshot(snapshot) => *state = Some(snapshot.state),
                Committed::Entry(Entry { payload: Payload::Data(value), .. }) => *state = Some(value),
                Committed::Entry(_) => {}
            }
        }
        let every = self.config.snapshot_every;
        if let Some(state) = *state {
            if every > 0 && node.applied_offset() - node.start_offset() >= every {
                node.take_snapshot(state);
                while let Some(event) = node.poll_event() {
                    self.hasher.write_u64(crate::sim::trace::stable_hash(&event));
                    self.checker.observe_event(now_ms, id, &event);
                }
                self.checker.check_node(now_ms, node);
            }
        }
        let wake = node.poll_timeout();
        for out in outgoing {
            self.send(id, incarnation, out.to, out.correlation_id, out.message);
        }
        if let Some(at) = wake {
            let at = at.max(now_ms);
            let due = self.wake_at.get(&id).is_none_or(|scheduled| *scheduled <= now_ms || at < *scheduled);
            if due {
                self.wake_at.insert(id, at);
                self.schedule(at, Item::Wake(id));
            }
        }
    }

    fn send(
        &mut self,
        from: ReplicaId,
        incarnation: u32,
        to: ReplicaId,
        correlation_id: u64,
        message: QuorumMessage<u64>,
    ) {
        let Some(target) = self.slots.get(&to) else { return };
        let incarnations = (incarnation, target.incarnation);
        if self.cut.contains(&(from, to)) || self.rng.chance(self.drop_per_million, 1_000_000) {
            return;
        }
        let (low, high) = self.config.latency_ms;
        let at = (self.now_ms + self.rng.range_inclusive(low, high))
            .max(self.last_delivery.get(&(from, to)).copied().unwrap_or(0));
        self.last_delivery.insert((from, to), at);
        self.schedule(at, Item::Deliver { from, to, incarnations, correlation_id, message });
    }

    fn apply(&mut self, item: Item) {
        match item {
            Item::Deliver { from, to, incarnations, correlation_id, message } => {
                // A connection does not outlive either end's process.
                let live = |sim: &QuorumSim, id: ReplicaId, incarnation: u32| {
                    sim.slots.get(&id).is_some_and(|s| s.incarnation == incarnation && s.node.is_some())
                };
                if !live(self, from, incarnations.0) || !live(self, to, incarnations.1) {
                    return;
                }
                let slot = self.slots.get_mut(&to).expect("live");
                if slot.paused {
                    slot.held.push(Item::Deliver { from, to, incarnations, correlation_id, message });
                    return;
                }
                let now_ms = self.now_ms;
                self.hasher.write_u64(now_ms);
                self.hasher.write(message.name().as_bytes());
                if let Some(trace) = &mut self.trace {
                    trace.push(format!("{now_ms:>6} ms  {from} -> {to} #{correlation_id} {message:?}"));
                }
                slot.node.as_mut().expect("live").handle_message(now_ms, from, correlation_id, message);
                self.after_step(to);
            }
            Item::Wake(id) => {
                if self.wake_at.get(&id) == Some(&self.now_ms) {
                    self.wake_at.remove(&id);
                }
                let now_ms = self.now_ms;
                let Some(slot) = self.slots.get_mut(&id) else { return };
                if slot.paused {
                    return;
                }
                if let Some(node) = slot.node.as_mut() {
                    node.handle_timeout(now_ms);
                    self.after_step(id);
                }
            }
            Item::Fault(fault) => self.fault(fault),
            Item::Propose => {
                let now_ms = self.now_ms;
                let ids: Vec<ReplicaId> = self.slots.keys().copied().collect();
                for id in ids {
                    let slot = self.slots.get_mut(&id).expect("listed");
                    let Some(node) = slot.node.as_mut().filter(|_| !slot.paused) else { continue };
                    // Back-pressure, as a controller's event queue has: at most 10 uncommitted.
                    if node.role() == RoleKind::Leader && node.end_offset() - node.high_watermark() < 10 {
                        let offset = node.propose(now_ms, self.next_value).expect("a leader accepts");
                        self.next_value += 1;
                        self.accepted.push((now_ms, id, offset));
                        self.after_step(id);
                    }
                }
                let next = self.now_ms + self.config.propose_every_ms;
                self.schedule(next, Item::Propose);
            }
            Item::Heal => {
                self.drop_per_million = 0;
                self.fault(QuorumFault::HealNetwork);
                let ids: Vec<ReplicaId> = self.slots.keys().copied().collect();
                for id in ids {
                    self.fault(QuorumFault::Restart(id));
                    self.fault(QuorumFault::Resume(id));
                }
            }
        }
    }

    fn fault(&mut self, fault: QuorumFault) {
        self.hasher.write_u64(crate::sim::trace::stable_hash(&format!("{fault:?}")));
        self.note(|| format!("fault {fault:?}"));
        let now_ms = self.now_ms;
        match fault {
            QuorumFault::Kill(id) => {
                let slot = self.slots.get_mut(&id).expect("known replica");
                if let Some(node) = slot.node.take() {
                    slot.disk = node.durable().clone();
                    slot.incarnation += 1;
                    slot.held.clear();
                    slot.paused = false;
                }
            }
            QuorumFault::Restart(id) => {
                let rng = self.rng.fork();
                let quorum = self.quorum_config(id);
                let slot = self.slots.get_mut(&id).expect("known replica");
                if slot.node.is_none() {
                    slot.node = Some(QuorumNode::new(quorum, std::mem::take(&mut slot.disk), now_ms, rng));
                    slot.state = None;
                    self.checker.restarted(id);
                    self.after_step(id);
                }
            }
            QuorumFault::Pause(id) => {
                if let Some(slot) = self.slots.get_mut(&id) {
                    slot.paused = slot.node.is_some();
                }
            }
            QuorumFault::Resume(id) => {
                let Some(slot) = self.slots.get_mut(&id) else { return };
                if !slot.paused {
                    return;
                }
                slot.paused = false;
                let held = std::mem::take(&mut slot.held);
                for item in held {
                    self.apply(item);
                }
                if let Some(node) = self.slots.get_mut(&id).and_then(|s| s.node.as_mut()) {
                    node.handle_timeout(now_ms);
                    self.after_step(id);
                }
            }
            QuorumFault::Partition(side) => {
                let ids: Vec<ReplicaId> = self.slots.keys().copied().collect();
                for a in &side {
                    for b in ids.iter().filter(|b| !side.contains(b)) {
                        self.cut.insert((*a, *b));
                        self.cut.insert((*b, *a));
                    }
                }
            }
            QuorumFault::HealNetwork => self.cut.clear(),
            QuorumFault::KillLeader(for_ms) | QuorumFault::PauseLeader(for_ms) | QuorumFault::IsolateLeader(for_ms) => {
                let Some(leader) = self.current_leader() else { return };
                let (now, undo) = match fault {
                    QuorumFault::KillLeader(_) => (QuorumFault::Kill(leader), QuorumFault::Restart(leader)),
                    QuorumFault::PauseLeader(_) => (QuorumFault::Pause(leader), QuorumFault::Resume(leader)),
                    _ => (QuorumFault::Partition(vec![leader]), QuorumFault::HealNetwork),
                };
                self.fault(now);
                self.schedule(now_ms + for_ms, Item::Fault(undo));
            }
            QuorumFault::AddVoter | QuorumFault::RemoveVoter | QuorumFault::RemoveLeader => self.change_voters(&fault),
        }
    }

    /// Asks whoever leads to change the voters (KIP-853); what it answers goes in the trace.
    fn change_voters(&mut self, fault: &QuorumFault) {
        let Some(leader) = self.current_leader() else { return };
        let now_ms = self.now_ms;
        let slot = self.slots.get_mut(&leader).expect("running");
        if slot.paused {
            return;
        }
        let node = slot.node.as_mut().expect("running");
        let all: Vec<ReplicaId> = (1..=self.config.voters + self.config.observers).collect();
        let candidates: Vec<ReplicaId> = match fault {
            QuorumFault::AddVoter => all.iter().filter(|id| !node.is_voter(**id)).copied().collect(),
            QuorumFault::RemoveVoter => node.voters().iter().filter(|id| **id != leader).copied().collect(),
            _ => vec![leader],
        };
        if candidates.is_empty() {
            return;
        }
        let id = candidates[self.rng.index(candidates.len())];
        let result = match fault {
            QuorumFault::AddVoter => node.add_voter(now_ms, id),
            _ => node.remove_voter(now_ms, id),
        };
        self.voter_changes += u64::from(result.is_ok());
        let text = match &result {
            Ok(offset) => format!("leader {leader}: {fault:?} {id} at offset {offset}"),
            Err(error) => format!("leader {leader}: {fault:?} {id} refused: {error}"),
        };
        self.hasher.write_u64(crate::sim::trace::stable_hash(&text));
        self.note(|| text);
        self.after_step(leader);
    }

    /// Every replica in one line each: role, epoch, leader, log end, high watermark, and the
    /// leader's view of the others.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut text = String::new();
        for (id, slot) in &self.slots {
            match &slot.node {
                None => text.push_str(&format!("node {id}: down\n")),
                Some(node) => {
                    text.push_str(&format!(
                        "node {id}: {:?} epoch {} leader {:?} voted {:?} end {} hw {}{}",
                        node.role(),
                        node.epoch(),
                        node.leader(),
                        node.durable().voted_for,
                        node.end_offset(),
                        node.high_watermark(),
                        if slot.paused { " (paused)" } else { "" }
                    ));
                    let tail: Vec<String> =
                        node.log().iter().rev().take(3).rev().map(|e| format!("{}@{}", e.offset, e.epoch)).collect();
                    text.push_str(&format!(" tail [{}] in flight {:?}", tail.join(" "), node.fetch_in_flight));
                    if let Some(progress) = node.progress() {
                        for (other, p) in progress {
                            text.push_str(&format!(" | {other}: end {} fetched {} ms", p.end_offset, p.last_fetch_ms));
                        }
                    }
                    text.push('\n');
                }
            }
        }
        text
    }

    /// The running replica that leads the newest epoch.
    fn current_leader(&self) -> Option<ReplicaId> {
        self.slots
            .values()
            .filter_map(|slot| slot.node.as_ref())
            .filter(|node| node.role() == RoleKind::Leader)
            .max_by_key(|node| node.epoch())
            .map(|node| node.config().node_id)
    }

    /// Runs the fault phase and the settle phase, then checks liveness.
    #[must_use]
    pub fn run(mut self) -> QuorumRunReport {
        let end = self.config.fault_phase_ms + self.config.settle_ms;
        while let Some(Reverse((at, seq))) = self.queue.pop() {
            if at > end {
                break;
            }
            self.now_ms = at;
            self.events += 1;
            let item = self.items.remove(&seq).expect("scheduled");
            self.apply(item);
        }
        self.now_ms = end;
        let mut violations = self.checker.violations().to_vec();
        if let Some(problem) = self.liveness_problem() {
            violations.push(format!("liveness after heal: {problem}\n{}", self.describe()));
        }
        QuorumRunReport {
            seed: self.config.seed,
            voters: self.config.voters,
            observers: self.config.observers,
            events: self.events,
            elections: self.checker.leaders().len(),
            committed: self.checker.committed_len(),
            proposed: self.next_value - 1,
            snapshots: self.checker.snapshots_seen(),
            snapshot_loads: self.snapshot_loads,
            voter_changes: self.voter_changes,
            violations,
            trace_hash: self.hasher.finish(),
            trace: self.trace.take().unwrap_or_default(),
        }
    }

    /// After healing: exactly one leader, every replica following it in its epoch, and the
    /// quorum high watermark past what the leader accepted 2 s before the end.
    fn liveness_problem(&self) -> Option<String> {
        let nodes: Vec<&QuorumNode<u64>> = self.slots.values().filter_map(|s| s.node.as_ref()).collect();
        let leaders: Vec<&&QuorumNode<u64>> = nodes.iter().filter(|n| n.role() == RoleKind::Leader).collect();
        let [leader] = leaders.as_slice() else {
            return Some(format!("{} leaders at the end", leaders.len()));
        };
        let leader_id = leader.config().node_id;
        for node in &nodes {
            let id = node.config().node_id;
            if id != leader_id && (node.leader() != Some(leader_id) || node.role() != RoleKind::Follower) {
                return Some(format!(
                    "node {id} is {:?} in epoch {} (leader {leader_id} in {})",
                    node.role(),
                    node.epoch(),
                    leader.epoch()
                ));
            }
        }
        let cutoff = self.now_ms.saturating_sub(2_000);
        let target = self
            .accepted
            .iter()
            .filter(|(at, id, _)| *at <= cutoff && *id == leader_id)
            .map(|(_, _, offset)| *offset)
            .max();
        if let Some(offset) = target {
            if leader.high_watermark() <= offset {
                return Some(format!(
                    "leader {leader_id}'s high watermark {} has not passed offset {offset}",
                    leader.high_watermark()
                ));
            }
        } else {
            return Some(format!("leader {leader_id} accepted nothing in the last {} ms", self.config.settle_ms));
        }
        None
    }
}

/// Runs seed `seed`'s random configuration.
#[must_use]
pub fn run_quorum_seed(seed: u64) -> QuorumRunReport {
    QuorumSim::new(random_quorum_config(seed)).run()
}
