//! Raft's safety properties, checked over every replica after every step of a run:
//!
//! - **election safety**: at most one leader per epoch;
//! - **leader append-only**: a leader never removes entries from its log;
//! - **log matching**: two logs with an entry of the same epoch at the same offset agree on
//!   everything up to it (checked with a hash chained along each log);
//! - **committed entries never lost or changed**: no replica truncates below an offset it knew
//!   committed, every replica's committed prefix is the same, and a leader holds every entry
//!   committed in an earlier epoch (leader completeness; a leader of an old epoch may turn up
//!   late — a paused candidate counting its votes — without entries committed since);
//! - **state machine safety**: entries handed to the state machine are the committed ones, in
//!   order, and each replica's high watermark never moves back within an incarnation;
//! - **one voter change at a time** (KIP-853): a `VotersRecord` is written only once the one
//!   before it is committed (with [`QuorumChecker::check_node`] run after every step, the
//!   committed prefix it knows is the writer's);
//! - **snapshots** (KIP-630) cover committed entries only, the log starts where its snapshot
//!   ends, and a snapshot holds the state of the committed log at its end: the newest data
//!   record there (the checker assumes what both of Rill's state machines do — every record
//!   is a whole state: the controller writes whole metadata images); two snapshots ending at
//!   the same offset agree.

use std::collections::BTreeMap;
use std::hash::Hash;

use crate::collections::VecMap;
use crate::sim::trace::stable_hash;

use super::{Committed, Entry, Payload, QuorumEvent, QuorumNode, ReplicaId, RoleKind, Snapshot, SnapshotId};

/// What the checker knows of one offset of a log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    /// A hash chained along the log: covers every entry up to this one.
    chain: u64,
    /// The hash of the newest data record up to this one (the state there).
    state: Option<u64>,
    /// The entry's epoch.
    epoch: i32,
    /// The offset of the newest `VotersRecord` up to this one.
    voters_at: Option<i64>,
}

#[derive(Debug, Default)]
struct Mirror {
    /// Each offset of the replica's log from 0 (below its log start: the committed prefix).
    chain: Vec<Position>,
    /// Offsets below this were checked against the committed prefix.
    checked_hw: i64,
    /// The high watermark last seen in this incarnation.
    last_hw: i64,
    /// The next offset the state machine should be handed, in this incarnation.
    next_applied: i64,
    /// The snapshot of this replica last checked (a snapshot is never replaced by another with
    /// the same id, so each is hashed and checked once, not at every step).
    checked_snapshot: Option<SnapshotId>,
}

/// The checker. Feed it each replica's events, then the replica, then what it applied.
#[derive(Debug, Default)]
pub struct QuorumChecker {
    leaders: BTreeMap<i32, ReplicaId>,
    mirrors: VecMap<ReplicaId, Mirror>,
    /// (offset, epoch) → chained hash: log matching across replicas.
    positions: BTreeMap<(i64, i32), u64>,
    /// The committed prefix, and the epoch of the first replica seen to know each entry
    /// committed (at least the epoch it was committed in).
    committed: Vec<(Position, i32)>,
    /// Snapshots seen: end offset → the hash of their state.
    snapshots: BTreeMap<i64, u64>,
    violations: Vec<String>,
}

fn index(offset: i64) -> usize {
    usize::try_from(offset).expect("offsets are non-negative")
}

impl QuorumChecker {
    /// A checker with nothing seen.
    #[must_use]
    pub fn new() -> QuorumChecker {
        QuorumChecker::default()
    }

    /// What broke, in words (empty when nothing did).
    #[must_use]
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// Committed entries seen so far.
    #[must_use]
    pub fn committed_len(&self) -> usize {
        self.committed.len()
    }

    /// Distinct snapshots seen so far.
    #[must_use]
    pub fn snapshots_seen(&self) -> usize {
        self.snapshots.len()
    }

    /// Leaders by epoch.
    #[must_use]
    pub fn leaders(&self) -> &BTreeMap<i32, ReplicaId> {
        &self.leaders
    }

    fn violation(&mut self, now_ms: u64, text: String) {
        if self.violations.len() < 100 {
            self.violations.push(format!("at {now_ms} ms: {text}"));
        }
    }

    /// A replica restarted: its high watermark and what it applied start again.
    pub fn restarted(&mut self, node: ReplicaId) {
        let mirror = self.mirrors.entry(node).or_default();
        mirror.last_hw = 0;
        mirror.next_applied = 0;
    }

    /// An event a replica reported (`role` is its role when the step ended).
    pub fn observe_event(&mut self, now_ms: u64, node: ReplicaId, event: &QuorumEvent) {
        match event {
            QuorumEvent::Truncated { to, from } => {
                let mirror = self.mirrors.entry(node).or_default();
                let checked = mirror.checked_hw;
                mirror.chain.truncate(index(*to));
                if *to < checked {
                    self.violation(now_ms, format!("node {node} truncated to {to}, below committed offset {checked}"));
                }
                if *from < *to {
                    self.violation(now_ms, format!("node {node} truncated upwards from {from} to {to}"));
                }
            }
            QuorumEvent::SnapshotLoaded { id, .. } => {
                // What it kept past the snapshot is mirrored again from its log; below, the
                // snapshot stands for the committed prefix (checked with the node).
                let mirror = self.mirrors.entry(node).or_default();
                let keep = mirror.checked_hw.min(id.end_offset);
                mirror.chain.truncate(index(keep));
            }
            QuorumEvent::SnapshotTaken { .. } => {}
            QuorumEvent::Role { role: RoleKind::Leader, epoch, leader } => {
                if *leader != Some(node) {
                    self.violation(now_ms, format!("node {node} leads epoch {epoch} but names {leader:?} leader"));
                }
            }
            QuorumEvent::Role { .. } => {}
            QuorumEvent::VoterSetMismatch { other, theirs, .. } => {
                self.violation(now_ms, format!("node {node} and node {other} disagree on the voters ({theirs:?})"));
            }
        }
    }

    /// A snapshot is the state of the committed log at its end; snapshots there agree.
    fn check_snapshot<R: Hash>(&mut self, id: ReplicaId, snapshot: &Snapshot<R>) -> Option<String> {
        let end = snapshot.id.end_offset;
        let state = stable_hash(&snapshot.state);
        if let Some(seen) = self.snapshots.insert(end, state) {
            if seen != state {
                return Some(format!("node {id}'s snapshot ending at {end} differs from another replica's"));
            }
        }
        let Some((position, _)) = end.checked_sub(1).and_then(|last| self.committed.get(index(last))) else {
            return Some(format!(
                "node {id}'s snapshot ends at {end}, past the committed prefix ({})",
                self.committed.len()
            ));
        };
        if position.epoch != snapshot.id.epoch {
            return Some(format!(
                "node {id}'s snapshot ending at {end} names epoch {} but the committed entry there is of epoch {}",
                snapshot.id.epoch, position.epoch
            ));
        }
        (position.state != Some(state))
            .then(|| format!("node {id}'s snapshot ending at {end} is not the state of the committed log there"))
    }

    /// Checks one replica as it is now.
    pub fn check_node<R: Clone + Hash>(&mut self, now_ms: u64, node: &QuorumNode<R>) {
        let id = node.config().node_id;
        let (start, end) = (node.start_offset(), node.end_offset());
        let mut mismatches = Vec::new();
        let mirror = self.mirrors.entry(id).or_default();
        if index(end) < mirror.chain.len() {
            let had = mirror.chain.len();
            mirror.chain.truncate(index(end));
            mismatches.push(format!("node {id}'s log shrank from {had} to {end} without a truncation"));
        }
        // Below the log start, the replica holds the committed prefix (in its snapshot).
        if mirror.chain.len() < index(start) {
            match self.committed.get(mirror.chain.len()..index(start)) {
                Some(prefix) => mirror.chain.extend(prefix.iter().map(|(position, _)| *position)),
                None => {
                    mismatches.push(format!("node {id}'s log starts at {start}, past the committed prefix"));
                    for text in mismatches {
                        self.violation(now_ms, text);
                    }
                    return;
                }
            }
        }
        let log = node.log();
        let skip = mirror.chain.len() - index(start);
        for entry in &log[skip..] {
            let previous = mirror.chain.last().copied();
            let chain = stable_hash(&(previous.map_or(0, |p| p.chain), entry.epoch, &entry.payload));
            let state = match &entry.payload {
                Payload::Data(record) => Some(stable_hash(record)),
                Payload::LeaderChange { .. } | Payload::Voters { .. } => previous.and_then(|p| p.state),
            };
            let mut voters_at = previous.and_then(|p| p.voters_at);
            if let Payload::Voters { .. } = &entry.payload {
                // One change at a time (KIP-853): the change before was committed first.
                let first_seen = !self.positions.contains_key(&(entry.offset, entry.epoch));
                if let Some(before) = voters_at.filter(|before| first_seen && index(*before) >= self.committed.len()) {
                    mismatches.push(format!(
                        "node {id} has a voter change at offset {} while the one at {before} was not committed",
                        entry.offset
                    ));
                }
                voters_at = Some(entry.offset);
            }
            if index(entry.offset) != mirror.chain.len() {
                mismatches.push(format!("node {id} has offset {} at position {}", entry.offset, mirror.chain.len()));
            }
            match self.positions.get(&(entry.offset, entry.epoch)) {
                Some(seen) if *seen != chain => mismatches.push(format!(
                    "log matching: node {id}'s entry at offset {} epoch {} differs from another replica's",
                    entry.offset, entry.epoch
                )),
                Some(_) => {}
                None => {
                    self.positions.insert((entry.offset, entry.epoch), chain);
                }
            }
            mirror.chain.push(Position { chain, state, epoch: entry.epoch, voters_at });
        }
        let hw = node.high_watermark();
        if hw < mirror.last_hw {
            mismatches.push(format!("node {id}'s high watermark went back from {} to {hw}", mirror.last_hw));
        }
        mirror.last_hw = hw;
        if hw > end {
            mismatches.push(format!("node {id}'s high watermark {hw} is past its log end {end}"));
        }
        if hw < start {
            mismatches.push(format!("node {id}'s high watermark {hw} is below its log start {start}"));
        }
        let from = mirror.checked_hw.min(hw);
        for offset in from..hw.min(end) {
            let position = mirror.chain[index(offset)];
            match self.committed.get(index(offset)).map(|c| c.0.chain) {
                Some(committed) if committed != position.chain => {
                    mismatches.push(format!("node {id} committed a different entry at offset {offset}"));
                    break;
                }
                Some(_) => {}
                None => self.committed.push((position, node.epoch())),
            }
        }
        mirror.checked_hw = mirror.checked_hw.max(hw);
        if let Some(snapshot) = node.snapshot() {
            if snapshot.id.end_offset != start {
                mismatches.push(format!("node {id}'s log starts at {start}, not where its snapshot ends"));
            }
            let mirror = self.mirrors.entry(id).or_default();
            if mirror.checked_snapshot != Some(snapshot.id) {
                mirror.checked_snapshot = Some(snapshot.id);
                mismatches.extend(self.check_snapshot(id, snapshot));
            }
        }
        if node.role() == RoleKind::Leader {
            let epoch = node.epoch();
            match self.leaders.get(&epoch) {
                Some(leader) if *leader != id => {
                    mismatches.push(format!("election safety: nodes {leader} and {id} both lead epoch {epoch}"));
                }
                Some(_) => {}
                None => {
                    self.leaders.insert(epoch, id);
                    // Leader completeness: it holds every entry committed in an earlier epoch.
                    let chain = &self.mirrors.get(&id).expect("mirrored above").chain;
                    let holds = self
                        .committed
                        .iter()
                        .enumerate()
                        .filter(|(_, (_, at))| *at < epoch)
                        .all(|(i, (position, _))| chain.get(i).map(|p| p.chain) == Some(position.chain));
                    if !holds {
                        mismatches
                            .push(format!("node {id} leads epoch {epoch} without every entry committed before it"));
                    }
                }
            }
        }
        for text in mismatches {
            self.violation(now_ms, text);
        }
    }

    /// A replica handed `committed` to its state machine.
    pub fn check_applied<R: Clone + Hash>(&mut self, now_ms: u64, node: ReplicaId, committed: &Committed<R>) {
        let entry: &Entry<R> = match committed {
            Committed::Snapshot(snapshot) => {
                let mirror = self.mirrors.entry(node).or_default();
                let end = snapshot.id.end_offset;
                if end < mirror.next_applied {
                    let next = mirror.next_applied;
                    self.violation(
                        now_ms,
                        format!("node {node} went back to a snapshot at {end} after applying {next}"),
                    );
                }
                self.mirrors.entry(node).or_default().next_applied = end;
                if let Some(text) = self.check_snapshot(node, snapshot) {
                    self.violation(now_ms, text);
                }
                return;
            }
            Committed::Entry(entry) => entry,
        };
        let mirror = self.mirrors.entry(node).or_default();
        let expected = mirror.next_applied;
        mirror.next_applied += 1;
        let chain = mirror.chain.get(index(entry.offset)).map(|p| p.chain);
        if entry.offset != expected {
            self.violation(now_ms, format!("node {node} applied offset {} where {expected} was next", entry.offset));
        } else if chain.is_none() || chain != self.committed.get(index(entry.offset)).map(|c| c.0.chain) {
            self.violation(
                now_ms,
                format!("node {node} applied offset {} that is not the committed entry", entry.offset),
            );
        }
    }
}
