//! Invariant checkers that watch every simulated run.
//!
//! Safety invariants (a violation fails a test and names the seed and event index):
//! - at most one leader per partition per leader epoch;
//! - the controller's leader epochs only grow; a leader's high watermark never goes back
//!   within its epoch;
//! - committed data (below a leader's high watermark) is the same on every replica and every
//!   later leader;
//! - consumers only see committed records, without gaps or reordering;
//! - **Jepsen-style**: every write acknowledged with `acks=all` and `min.insync.replicas` ≥ 2
//!   on a partition with no unclean election is readable at its offset at the end.
//!
//! What Kafka itself may lose is *counted*, not failed: writes acknowledged with acks=0/1,
//! data lost to an unclean election, and data destroyed when a crash wiped a broker's
//! unflushed tail (Kafka, without KIP-966's eligible leader replicas, can elect a last ISR
//! member that lost its tail, even if another replica still has the data). Those losses are
//! reported by acks setting so they can be shown.

use std::collections::BTreeMap;

use crate::collections::{self, VecMap, VecSet};

use serde::Serialize;

use crate::client::{ConsumerEvent, ProduceOutcome};
use crate::event::Event;
use crate::log::{PartitionLog, ReadLimit};
use crate::placement::BrokerId;
use crate::protocol::{Acks, TopicPartition};
use crate::storage::Storage;

use super::trace::fingerprint;

mod jepsen;

/// A broken invariant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Which invariant.
    pub invariant: &'static str,
    /// What was seen.
    pub detail: String,
    /// Trace index of the event that revealed it.
    pub event_index: u64,
    /// Virtual time.
    pub time_ms: u64,
}

/// Counts per acks setting.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AcksCounts {
    /// acks=0.
    pub acks_0: u64,
    /// acks=1.
    pub acks_1: u64,
    /// acks=all.
    pub acks_all: u64,
}

impl AcksCounts {
    fn add(&mut self, acks: Acks) {
        match acks {
            Acks::None => self.acks_0 += 1,
            Acks::Leader => self.acks_1 += 1,
            Acks::All => self.acks_all += 1,
        }
    }

    /// Sum over all settings.
    #[must_use]
    pub fn total(&self) -> u64 {
        self.acks_0 + self.acks_1 + self.acks_all
    }
}

/// What the checkers found in one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    /// Broken invariants, in order.
    pub violations: Vec<Violation>,
    /// Writes the producers saw acknowledged (acks=0: sent without error).
    pub acknowledged: AcksCounts,
    /// Acknowledged writes not readable at the end.
    pub lost: AcksCounts,
    /// Records that appeared more than once in a final log (producer retries without
    /// idempotence).
    pub duplicates: u64,
    /// Unclean leader elections.
    pub unclean_elections: u64,
    /// Committed offsets whose record changed after an unclean election or a crash that
    /// wiped unflushed data (allowed, counted).
    pub committed_rewritten: u64,
    /// Records consumers read.
    pub consumed: u64,
    /// Acknowledged writes seen missing from a partition's new leader while the run goes on
    /// (at most [`LOST_WRITES_LISTED_MAX`] listed; `lost_live` counts them all).
    pub lost_writes: Vec<LostWrite>,
    /// Live-detected losses by acks setting (the end-of-run `lost` is the final word).
    pub lost_live: AcksCounts,
    /// Records committed more often than producers sent them, as they got committed (at most
    /// [`LOST_WRITES_LISTED_MAX`] listed; `duplicates_live` counts them all).
    pub duplicate_writes: Vec<DuplicateWrite>,
    /// Live-detected duplicates (the end-of-run `duplicates` is the final word).
    pub duplicates_live: u64,
    /// Produce requests leaders refused (`NOT_ENOUGH_REPLICAS`, `NOT_LEADER_OR_FOLLOWER`, ...;
    /// Kafka's FailedProduceRequests): the producer retried or gave up.
    pub produce_refusals: u64,
}

/// A committed record that is a second copy of one sent once (a producer retry without
/// idempotence), found when it got committed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DuplicateWrite {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset of the extra copy.
    pub offset: i64,
    /// Trace index when it was found.
    pub event_index: u64,
    /// Virtual time when it was found.
    pub time_ms: u64,
}

/// Most live losses a report lists (a limit on everything; the counts go on).
pub const LOST_WRITES_LISTED_MAX: usize = 100;

/// An acknowledged write that a new leader does not have: it is gone for good (followers
/// truncate to the leader). Found when the leader takes over, so the loss can be shown as it
/// happens and linked to the fault before it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LostWrite {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// The offset the producer was told.
    pub offset: i64,
    /// The producer's acks (wire value: -1 = all).
    pub acks: i16,
    /// The leader that does not have it.
    pub leader: BrokerId,
    /// That leader's epoch.
    pub leader_epoch: i32,
    /// Trace index when it was found.
    pub event_index: u64,
    /// Virtual time when it was found.
    pub time_ms: u64,
    /// The last fault before it, in plain words (filled in by the simulation); for a write
    /// that never landed, why it did not.
    pub cause: Option<String>,
    /// Whether it was ever in a log. An acks=0 producer is never told: its record may never
    /// reach a leader (a crashed broker, a cut link, a refusal), and is lost all the same.
    pub landed: bool,
    /// The record's fingerprint (to find it again in a replay).
    #[serde(skip)]
    pub fingerprint: u64,
    /// Simulation events processed when the producer was told (acks=0: when it was sent).
    pub acked_event: u64,
    /// Simulation events processed when the loss was found.
    pub found_event: u64,
}

/// What became of an acks=0 write, which its producer never hears about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendFate {
    /// The leader appended it at this offset.
    Landed(i64),
    /// It never reached a log: the broker it was sent to, and why.
    NeverLanded(BrokerId, String),
}

#[derive(Clone, Debug)]
struct AckedWrite {
    tp: Option<TopicPartition>,
    offset: i64,
    fingerprint: u64,
    acks: Acks,
    guaranteed_by_config: bool,
    idempotent: bool,
    key_print: Option<u64>,
    lost_live: bool,
    acked_event: u64,
    lost_at_end: bool,
    /// A record with a key and no value: on a compacted topic it deletes its key, and is
    /// itself removed after `delete.retention.ms`.
    tombstone: bool,
}

/// The fingerprints of a partition's committed records from `base` on (retention and
/// compaction move `base` up, so a long run keeps a bounded window).
#[derive(Clone, Debug, Default)]
struct CommittedLog {
    base: i64,
    prints: std::collections::VecDeque<Option<u64>>,
}

impl CommittedLog {
    /// One past the last offset known committed.
    fn end(&self) -> i64 {
        self.base + i64::try_from(self.prints.len()).expect("small")
    }

    /// The slot of `offset` (grown as needed); `None` below the window.
    fn slot(&mut self, offset: i64) -> Option<&mut Option<u64>> {
        let index = usize::try_from(offset.checked_sub(self.base)?).ok()?;
        if self.prints.len() <= index {
            self.prints.resize(index + 1, None);
        }
        self.prints.get_mut(index)
    }

    /// The fingerprint committed at `offset` (`Some(None)`: not committed); `None` below the
    /// window, where it was forgotten.
    fn print_at(&self, offset: i64) -> Option<Option<u64>> {
        let index = usize::try_from(offset.checked_sub(self.base)?).ok()?;
        Some(self.prints.get(index).copied().flatten())
    }

    /// Forgets offsets below `offset`; returns the fingerprints forgotten.
    fn forget_below(&mut self, offset: i64) -> Vec<u64> {
        let mut forgotten = Vec::new();
        while self.base < offset {
            match self.prints.pop_front() {
                Some(print) => forgotten.extend(print),
                None => {
                    self.base = offset;
                    break;
                }
            }
            self.base += 1;
        }
        forgotten
    }
}

/// Watches events and states; see the module doc.
#[derive(Debug, Default)]
pub struct Checker {
    committed: VecMap<TopicPartition, CommittedLog>,
    verified: VecMap<(TopicPartition, BrokerId), i64>,
    leaders_by_epoch: VecMap<(TopicPartition, i32), BrokerId>,
    controller_epochs: VecMap<TopicPartition, i32>,
    leader_epoch_of: VecMap<(TopicPartition, BrokerId), i32>,
    high_watermarks: VecMap<(TopicPartition, BrokerId, i32), i64>,
    unclean: VecSet<TopicPartition>,
    /// The highest log start offset a cleaning pass (retention, or compaction emptying whole
    /// segments) moved each partition to: records below it were deleted on purpose.
    cleaned_below: VecMap<TopicPartition, i64>,
    /// Leaders elected uncleanly: (partition, epoch) → leader.
    unclean_epochs: VecMap<(TopicPartition, i32), BrokerId>,
    crash_losses: VecMap<TopicPartition, Vec<(i64, i64)>>,
    consumer_next: VecMap<(u32, TopicPartition), i64>,
    compacted: VecSet<String>,
    owners: VecMap<(String, i32, TopicPartition), u32>,
    group_consumed: VecMap<(String, TopicPartition), i64>,
    member_group: VecMap<u32, String>,
    acked: Vec<AckedWrite>,
    // Keyed by record fingerprints (hashes): inserts land anywhere and grow with the run, so
    // these two are B-trees, not sorted Vecs (see crate::collections).
    sends: BTreeMap<u64, u64>,
    // Per partition (few), then per fingerprint: one B-tree type for both tables.
    committed_copies: VecMap<TopicPartition, BTreeMap<u64, u64>>,
    report: CheckReport,
}

impl Checker {
    /// A checker with nothing seen.
    #[must_use]
    pub fn new() -> Checker {
        Checker::default()
    }

    /// Marks a topic as compacted: its logs and consumers legitimately skip offsets, and an
    /// acknowledged write may be superseded by a later write of the same key.
    pub fn set_compacted(&mut self, topic: &str) {
        self.compacted.insert(topic.to_owned());
    }

    /// The report so far.
    #[must_use]
    pub fn report(&self) -> &CheckReport {
        &self.report
    }

    pub(crate) fn violate(&mut self, invariant: &'static str, detail: String, event_index: u64, time_ms: u64) {
        self.report.violations.push(Violation { invariant, detail, event_index, time_ms });
    }

    fn exempt(&self, tp: &TopicPartition, offset: i64) -> bool {
        self.unclean.contains(tp)
            || self
                .crash_losses
                .get(tp)
                .is_some_and(|ranges| ranges.iter().any(|(from, to)| offset >= *from && offset < *to))
    }

    /// Observes a node event.
    pub fn on_event(&mut self, event: &Event, event_index: u64, time_ms: u64) {
        match event {
            Event::BecameLeader { broker, tp, leader_epoch, .. } => {
                let key = (tp.clone(), *leader_epoch);
                if let Some(other) = self.leaders_by_epoch.get(&key).copied() {
                    if other != *broker {
                        self.violate(
                            "single leader per epoch",
                            format!("brokers {other} and {broker} both led {tp} in epoch {leader_epoch}"),
                            event_index,
                            time_ms,
                        );
                    }
                }
                self.leaders_by_epoch.insert(key, *broker);
                self.leader_epoch_of.insert((tp.clone(), *broker), *leader_epoch);
                // A new leader's log is verified again from its start on its first HW advance.
                self.verified.remove(&(tp.clone(), *broker));
            }
            Event::LeaderChanged { tp, leader, leader_epoch, unclean, .. } => {
                if let Some(previous) = self.controller_epochs.get(tp) {
                    if leader_epoch <= previous {
                        self.violate(
                            "monotonic leader epoch",
                            format!("{tp}: controller moved from epoch {previous} to {leader_epoch}"),
                            event_index,
                            time_ms,
                        );
                    }
                }
                self.controller_epochs.insert(tp.clone(), *leader_epoch);
                if *unclean {
                    self.unclean.insert(tp.clone());
                    self.report.unclean_elections += 1;
                    if let Some(leader) = leader {
                        self.unclean_epochs.insert((tp.clone(), *leader_epoch), *leader);
                    }
                }
            }
            Event::Truncated { broker, tp, to_offset, .. }
            | Event::TruncatedToHighWatermark { broker, tp, to_offset, .. } => {
                if let Some(verified) = self.verified.get_mut(&(tp.clone(), *broker)) {
                    *verified = (*verified).min(*to_offset);
                }
            }
            Event::LogCleaned { tp, log_start_offset, .. } | Event::RecordsDeleted { tp, log_start_offset, .. } => {
                let below = self.cleaned_below.entry(tp.clone()).or_insert(0);
                if *log_start_offset > *below {
                    *below = *log_start_offset;
                    self.forget_below(tp, *log_start_offset);
                }
            }
            Event::ProduceFailed { .. } => self.report.produce_refusals += 1,
            Event::LostUnflushed { broker, tp, from_offset, to_offset } => {
                self.crash_losses.entry(tp.clone()).or_default().push((*to_offset, *from_offset));
                self.verified.remove(&(tp.clone(), *broker));
            }
            _ => {}
        }
    }

    /// Checks a leader's high watermark against what it was in the same epoch, and records
    /// (or verifies) the records it committed.
    pub fn on_leader_state<S: Storage>(
        &mut self,
        broker: BrokerId,
        tp: &TopicPartition,
        leader_epoch: i32,
        log: &PartitionLog<S>,
        event_index: u64,
        time_ms: u64,
    ) {
        let high_watermark = log.high_watermark();
        let key = (tp.clone(), broker, leader_epoch);
        if !self.high_watermarks.contains_key(&key) {
            self.find_lost_writes(broker, tp, leader_epoch, log, event_index, time_ms);
        }
        if let Some(previous) = self.high_watermarks.get(&key).copied() {
            if high_watermark < previous {
                self.violate(
                    "monotonic leader high watermark",
                    format!("broker {broker} leading {tp} in epoch {leader_epoch}: HW went from {previous} to {high_watermark}"),
                    event_index,
                    time_ms,
                );
            }
        }
        self.high_watermarks.insert(key, high_watermark);
        let verified_key = (tp.clone(), broker);
        let from = self.verified.get(&verified_key).copied().unwrap_or_else(|| log.log_start_offset());
        if high_watermark <= from {
            return;
        }
        self.verify_committed(tp, log, from, high_watermark, event_index, time_ms, &format!("leader {broker}"));
        self.verified.insert(verified_key, high_watermark);
    }

    /// Stamps the live losses listed from index `from` on with the simulation's event count
    /// and, where they have none yet (an unclean election names itself), `cause`.
    pub fn stamp_losses(&mut self, from: usize, cause: Option<&str>, events: u64) {
        for lost in self.report.lost_writes.iter_mut().skip(from) {
            lost.found_event = events;
            if lost.cause.is_none() {
                lost.cause = cause.map(str::to_owned);
            }
        }
    }

    /// After the end-of-run check: whether the acknowledged write of `print` at `tp` `offset`
    /// survived (`None`: no such write was acknowledged).
    #[must_use]
    pub fn survived(&self, tp: &TopicPartition, offset: i64, print: u64) -> Option<bool> {
        self.acked
            .iter()
            .find(|w| w.offset == offset && w.fingerprint == print && w.tp.as_ref() == Some(tp))
            .map(|w| !w.lost_at_end)
    }

    /// A new leader's log is what the partition keeps: acknowledged writes it lacks (or holds a
    /// different record for) are lost now. Compacted topics are left to the end-of-run check.
    fn find_lost_writes<S: Storage>(
        &mut self,
        broker: BrokerId,
        tp: &TopicPartition,
        leader_epoch: i32,
        log: &PartitionLog<S>,
        event_index: u64,
        time_ms: u64,
    ) {
        if self.compacted.contains(tp.topic.as_ref()) {
            return;
        }
        let (start, end) = (log.log_start_offset(), log.log_end_offset());
        let mut found = Vec::new();
        for write in self.acked.iter_mut().filter(|w| !w.lost_live && w.offset >= start && w.tp.as_ref() == Some(tp)) {
            let present = write.offset < end
                && log.read(write.offset, 1, ReadLimit::LogEnd).is_ok_and(|read| {
                    read.batches.iter().flat_map(|batch| batch.records()).flatten().any(|record| {
                        record.offset == write.offset
                            && fingerprint(record.record.key.as_deref(), record.record.value.as_deref())
                                == write.fingerprint
                    })
                });
            if !present {
                write.lost_live = true;
                found.push((write.offset, write.acks, write.fingerprint, write.acked_event));
            }
        }
        let unclean = self.unclean_epochs.get(&(tp.clone(), leader_epoch)).map(|leader| {
            format!(
                "the unclean election of broker {leader} (epoch {leader_epoch}): it was not in the ISR and lacked them"
            )
        });
        for (offset, acks, fingerprint, acked_event) in found {
            self.record_live_loss(acks, || LostWrite {
                topic: tp.topic.to_string(),
                partition: tp.partition,
                offset,
                acks: acks.wire(),
                leader: broker,
                leader_epoch,
                event_index,
                time_ms,
                cause: unclean.clone(),
                landed: true,
                fingerprint,
                acked_event,
                found_event: 0,
            });
        }
    }

    /// Counts a live loss and lists it while fewer than [`LOST_WRITES_LISTED_MAX`] are.
    fn record_live_loss(&mut self, acks: Acks, lost: impl FnOnce() -> LostWrite) {
        self.report.lost_live.add(acks);
        if self.report.lost_writes.len() < LOST_WRITES_LISTED_MAX {
            self.report.lost_writes.push(lost());
        }
    }

    /// Learns what became of an acks=0 write of `print` to `tp` (the oldest one not yet
    /// placed): where it landed, so later failovers check it like any other write, or that it
    /// never landed, which is a loss now.
    pub fn on_send_fate(&mut self, tp: &TopicPartition, print: u64, fate: SendFate, event_index: u64, time_ms: u64) {
        let Some(write) = self.acked.iter_mut().find(|w| {
            w.acks == Acks::None && w.offset < 0 && !w.lost_live && w.fingerprint == print && w.tp.as_ref() == Some(tp)
        }) else {
            return;
        };
        match fate {
            SendFate::Landed(offset) => {
                assert!(offset >= 0, "a landed write has an offset");
                write.offset = offset;
            }
            SendFate::NeverLanded(broker, cause) => {
                write.lost_live = true;
                let (fingerprint, acked_event) = (write.fingerprint, write.acked_event);
                self.record_live_loss(Acks::None, || LostWrite {
                    topic: tp.topic.to_string(),
                    partition: tp.partition,
                    offset: -1,
                    acks: Acks::None.wire(),
                    leader: broker,
                    leader_epoch: -1,
                    event_index,
                    time_ms,
                    cause: Some(cause),
                    landed: false,
                    fingerprint,
                    acked_event,
                    found_event: 0,
                });
            }
        }
    }

    /// Records and checks the records of `log` in `[from, to)` as committed.
    #[allow(clippy::too_many_arguments)]
    fn verify_committed<S: Storage>(
        &mut self,
        tp: &TopicPartition,
        log: &PartitionLog<S>,
        from: i64,
        to: i64,
        event_index: u64,
        time_ms: u64,
        whose: &str,
    ) {
        let mut offset = from.max(log.log_start_offset());
        let mut mismatches = Vec::new();
        let mut copies = Vec::new();
        while offset < to {
            let Ok(read) = log.read(offset, 1 << 20, ReadLimit::LogEnd) else {
                break;
            };
            if read.batches.is_empty() {
                break;
            }
            for batch in &read.batches {
                for record in batch.records() {
                    let Ok(record) = record else { break };
                    if record.offset < offset || record.offset >= to {
                        continue;
                    }
                    let print = fingerprint(record.record.key.as_deref(), record.record.value.as_deref());
                    let committed = self.committed.entry(tp.clone()).or_default();
                    // Below the window: deleted on purpose since (retention), nothing to check.
                    let Some(slot) = committed.slot(record.offset) else { continue };
                    match *slot {
                        Some(existing) if existing != print => {
                            *slot = Some(print);
                            mismatches.push(record.offset);
                        }
                        Some(_) => {}
                        None => {
                            *slot = Some(print);
                            copies.push((record.offset, print));
                        }
                    }
                }
                offset = batch.next_offset();
            }
        }
        let watched = !tp.topic.starts_with("__") && !self.compacted.contains(tp.topic.as_ref());
        for (offset, print) in copies.into_iter().filter(|_| watched) {
            let count = self.committed_copies.entry(tp.clone()).or_default().entry(print).or_default();
            *count += 1;
            if *count > self.sends.get(&print).copied().unwrap_or(u64::MAX) {
                self.report.duplicates_live += 1;
                if self.report.duplicate_writes.len() < LOST_WRITES_LISTED_MAX {
                    self.report.duplicate_writes.push(DuplicateWrite {
                        topic: tp.topic.to_string(),
                        partition: tp.partition,
                        offset,
                        event_index,
                        time_ms,
                    });
                }
            }
        }
        for mismatch in mismatches {
            if self.exempt(tp, mismatch) {
                self.report.committed_rewritten += 1;
            } else {
                self.violate(
                    "committed data identical on every replica",
                    format!("{tp} offset {mismatch} on {whose} differs from the record committed there before"),
                    event_index,
                    time_ms,
                );
            }
        }
    }

    /// Checks a follower's committed prefix (used at the end of a run).
    pub fn check_replica<S: Storage>(
        &mut self,
        broker: BrokerId,
        tp: &TopicPartition,
        log: &PartitionLog<S>,
        event_index: u64,
        time_ms: u64,
    ) {
        let high_watermark = log.high_watermark();
        let known = self.committed.get(tp).map_or(0, CommittedLog::end);
        let to = high_watermark.min(known);
        self.verify_committed(tp, log, log.log_start_offset(), to, event_index, time_ms, &format!("replica {broker}"));
    }

    /// Forgets what a partition deleted on purpose below `offset` (retention, or compaction
    /// emptying whole segments): its acknowledged writes there are accounted for, and the
    /// committed fingerprints and send counts of those records are dropped — so a long run's
    /// checker stays as small as its logs.
    fn forget_below(&mut self, tp: &TopicPartition, offset: i64) {
        self.acked.retain(|w| w.offset < 0 || w.offset >= offset || w.tp.as_ref() != Some(tp));
        let forgotten = self.committed.get_mut(tp).map(|log| log.forget_below(offset)).unwrap_or_default();
        for print in forgotten {
            if let Some(copies) = self.committed_copies.get_mut(tp) {
                if let Some(count) = copies.get_mut(&print) {
                    *count -= 1;
                    if *count == 0 {
                        copies.remove(&print);
                    }
                }
            }
            if let Some(count) = self.sends.get_mut(&print) {
                *count -= 1;
                if *count == 0 {
                    self.sends.remove(&print);
                }
            }
        }
    }

    /// Forgets a deleted topic: its writes were removed on purpose.
    pub fn forget_topic(&mut self, topic: &str) {
        self.acked.retain(|write| write.tp.as_ref().is_none_or(|tp| tp.topic.as_ref() != topic));
        self.committed.retain(|tp, _| tp.topic.as_ref() != topic);
    }

    /// Observes a record handed to a producer (to tell retried copies from records sent twice).
    pub fn on_send(&mut self, key: Option<&[u8]>, value: Option<&[u8]>) {
        *self.sends.entry(fingerprint(key, value)).or_default() += 1;
    }

    /// Observes a producer outcome, told after `events` simulation events.
    pub fn on_produce(&mut self, outcome: &ProduceOutcome, min_insync_replicas: i32, events: u64) {
        let Ok(offset) = outcome.result else { return };
        self.report.acknowledged.add(outcome.acks);
        self.acked.push(AckedWrite {
            tp: outcome.tp.clone(),
            offset,
            fingerprint: fingerprint(outcome.key.as_deref(), outcome.value.as_deref()),
            acks: outcome.acks,
            guaranteed_by_config: outcome.acks == Acks::All && min_insync_replicas >= 2,
            idempotent: outcome.idempotent,
            key_print: outcome.key.as_deref().map(|key| fingerprint(Some(key), None)),
            lost_live: false,
            acked_event: events,
            lost_at_end: false,
            tombstone: outcome.key.is_some() && outcome.value.is_none(),
        });
    }

    /// Observes a consumer event.
    pub fn on_consume(&mut self, client: u32, event: &ConsumerEvent, event_index: u64, time_ms: u64) {
        match event {
            ConsumerEvent::PositionReset { tp, .. } | ConsumerEvent::OutOfRange { tp, .. } => {
                self.consumer_next.remove(&(client, tp.clone()));
                if let Some(group) = self.member_group.get(&client) {
                    self.group_consumed.remove(&(group.clone(), tp.clone()));
                }
            }
            ConsumerEvent::Assigned { group_id, generation_id, partitions } => {
                self.member_group.insert(client, group_id.clone());
                for tp in partitions {
                    // A new owner starts over from the committed offset.
                    self.consumer_next.remove(&(client, tp.clone()));
                    let key = (group_id.clone(), *generation_id, tp.clone());
                    if let Some(other) = self.owners.get(&key) {
                        if *other != client {
                            self.violate(
                                "one owner per partition in a generation",
                                format!("consumers {other} and {client} both own {tp} in generation {generation_id} of {group_id}"),
                                event_index,
                                time_ms,
                            );
                        }
                    }
                    self.owners.insert(key, client);
                }
            }
            ConsumerEvent::Committed { group_id, tp, offset } => {
                let known = self.committed.get(tp).map_or(0, CommittedLog::end);
                if *offset > known && !self.exempt(tp, *offset - 1) {
                    self.violate(
                        "committed offsets never exceed the high watermark",
                        format!(
                            "group {group_id} committed {offset} for {tp}, beyond the committed records (< {known})"
                        ),
                        event_index,
                        time_ms,
                    );
                }
            }
            ConsumerEvent::Record(record) => {
                self.report.consumed += 1;
                let key = (client, record.tp.clone());
                let compacted = self.compacted.contains(record.tp.topic.as_ref());
                if let Some(expected) = self.consumer_next.get(&key).copied() {
                    if record.offset != expected && !(compacted && record.offset > expected) {
                        self.violate(
                            "no gaps or reordering for consumers",
                            format!(
                                "consumer {client} read {} offset {} after {}",
                                record.tp,
                                record.offset,
                                expected - 1
                            ),
                            event_index,
                            time_ms,
                        );
                    }
                }
                self.consumer_next.insert(key, record.offset + 1);
                if let Some(group) = self.member_group.get(&client).cloned() {
                    let group_key = (group.clone(), record.tp.clone());
                    let furthest = self.group_consumed.get(&group_key).copied();
                    if let Some(furthest) = furthest {
                        if record.offset > furthest + 1 && !compacted && !self.exempt(&record.tp, furthest + 1) {
                            self.violate(
                                "groups skip no record",
                                format!(
                                    "group {group} read {} offset {} but had read only up to {furthest}",
                                    record.tp, record.offset
                                ),
                                event_index,
                                time_ms,
                            );
                        }
                    }
                    self.group_consumed.insert(group_key, furthest.map_or(record.offset, |f| f.max(record.offset)));
                }
                let print = fingerprint(record.key.as_deref(), record.value.as_deref());
                let committed = match self.committed.get(&record.tp).map(|c| c.print_at(record.offset)) {
                    // Deleted on purpose since (retention): nothing left to compare with.
                    Some(None) => return,
                    Some(Some(print)) => print,
                    None => None,
                };
                match committed {
                    None => self.violate(
                        "consumers never see offsets above the high watermark",
                        format!(
                            "consumer {client} read {} offset {}, which was never committed",
                            record.tp, record.offset
                        ),
                        event_index,
                        time_ms,
                    ),
                    Some(existing) if existing != print => {
                        if !self.exempt(&record.tp, record.offset) {
                            self.violate(
                                "consumers read committed data",
                                format!(
                                    "consumer {client} read {} offset {} but another record was committed there",
                                    record.tp, record.offset
                                ),
                                event_index,
                                time_ms,
                            );
                        }
                    }
                    Some(_) => {}
                }
            }
        }
    }
}
