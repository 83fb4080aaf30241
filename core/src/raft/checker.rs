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
//!   order, and each replica's high watermark never moves back within an incarnation.

use std::collections::BTreeMap;
use std::hash::Hash;

use crate::collections::VecMap;
use crate::sim::trace::stable_hash;

use super::{Entry, QuorumEvent, QuorumNode, ReplicaId, RoleKind};

#[derive(Debug, Default)]
struct Mirror {
    /// A hash chained along the log: entry i's covers entries 0..=i.
    chain: Vec<u64>,
    /// Offsets below this were checked against the committed prefix.
    checked_hw: i64,
    /// The high watermark last seen in this incarnation.
    last_hw: i64,
    /// The next offset the state machine should be handed, in this incarnation.
    next_applied: i64,
}

/// The checker. Feed it each replica's events, then the replica, then what it applied.
#[derive(Debug, Default)]
pub struct QuorumChecker {
    leaders: BTreeMap<i32, ReplicaId>,
    mirrors: VecMap<ReplicaId, Mirror>,
    /// (offset, epoch) → chained hash: log matching across replicas.
    positions: BTreeMap<(i64, i32), u64>,
    /// The committed prefix: each entry's chained hash, and the epoch of the first replica
    /// seen to know it committed (at least the epoch it was committed in).
    committed: Vec<(u64, i32)>,
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

    /// Checks one replica as it is now.
    pub fn check_node<R: Clone + Hash>(&mut self, now_ms: u64, node: &QuorumNode<R>) {
        let id = node.config().node_id;
        let log = node.log();
        let mirror = self.mirrors.entry(id).or_default();
        if log.len() < mirror.chain.len() {
            let (had, has) = (mirror.chain.len(), log.len());
            mirror.chain.truncate(has);
            self.violation(now_ms, format!("node {id}'s log shrank from {had} to {has} without a truncation"));
        }
        let mirror = self.mirrors.entry(id).or_default();
        let mut mismatches = Vec::new();
        for entry in &log[mirror.chain.len()..] {
            let previous = mirror.chain.last().copied().unwrap_or(0);
            let chain = stable_hash(&(previous, entry.epoch, &entry.payload));
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
            mirror.chain.push(chain);
        }
        let hw = node.high_watermark();
        if hw < mirror.last_hw {
            mismatches.push(format!("node {id}'s high watermark went back from {} to {hw}", mirror.last_hw));
        }
        mirror.last_hw = hw;
        if hw > node.end_offset() {
            mismatches.push(format!("node {id}'s high watermark {hw} is past its log end {}", node.end_offset()));
        }
        let from = mirror.checked_hw.min(hw);
        for offset in from..hw.min(node.end_offset()) {
            let chain = mirror.chain[index(offset)];
            match self.committed.get(index(offset)).map(|c| c.0) {
                Some(committed) if committed != chain => {
                    mismatches.push(format!("node {id} committed a different entry at offset {offset}"));
                    break;
                }
                Some(_) => {}
                None => self.committed.push((chain, node.epoch())),
            }
        }
        mirror.checked_hw = mirror.checked_hw.max(hw);
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
                        .all(|(i, (hash, _))| chain.get(i) == Some(hash));
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

    /// A replica handed `entry` to its state machine.
    pub fn check_applied<R: Clone + Hash>(&mut self, now_ms: u64, node: ReplicaId, entry: &Entry<R>) {
        let mirror = self.mirrors.entry(node).or_default();
        let expected = mirror.next_applied;
        mirror.next_applied += 1;
        let chain = mirror.chain.get(index(entry.offset)).copied();
        if entry.offset != expected {
            self.violation(now_ms, format!("node {node} applied offset {} where {expected} was next", entry.offset));
        } else if chain.is_none() || chain != self.committed.get(index(entry.offset)).map(|c| c.0) {
            self.violation(
                now_ms,
                format!("node {node} applied offset {} that is not the committed entry", entry.offset),
            );
        }
    }
}
