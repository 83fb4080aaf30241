//! One replica's state beside its log: the leader-epoch cache and producer state, derived
//! from the log after a restart, trimmed on truncation, checked against the log.

use super::*;

/// The leader-epoch cache and producer state a log implies (after a restart).
pub(super) fn rebuild_state<S: Storage>(log: &PartitionLog<S>) -> (LeaderEpochCache, ProducerStateTable) {
    let mut producers = ProducerStateTable::new();
    let mut bounds = Vec::new();
    for batch in log.batches_from(log.log_start_offset(), ReadLimit::LogEnd) {
        bounds.push((batch.base_offset(), batch.next_offset(), batch.partition_leader_epoch()));
        producers.record(&batch);
    }
    (LeaderEpochCache::from_log(log.log_start_offset(), bounds), producers)
}

/// The producer state a log implies (after a truncation).
pub(super) fn rebuild_producers<S: Storage>(log: &PartitionLog<S>) -> ProducerStateTable {
    let mut producers = ProducerStateTable::new();
    for batch in log.batches_from(log.log_start_offset(), ReadLimit::LogEnd) {
        producers.record(&batch);
    }
    producers
}

impl<S: Storage> Replica<S> {
    pub(super) fn view(&self) -> ReplicaView {
        ReplicaView {
            tp: self.tp.clone(),
            is_leader: matches!(self.role, Role::Leader(_)),
            leader_epoch: self.state.leader_epoch,
            isr: self.state.isr.clone(),
            log_start_offset: self.log.log_start_offset(),
            log_end_offset: self.log.log_end_offset(),
            high_watermark: self.log.high_watermark(),
            flushed_offset: self.log.storage().flushed_offset(),
            epochs: self.epochs.entries().to_vec(),
            followers: match &self.role {
                Role::Leader(leader) => leader
                    .followers
                    .iter()
                    .map(|(broker, progress)| FollowerView {
                        broker: *broker,
                        log_end_offset: progress.log_end_offset,
                        last_caught_up_ms: progress.last_caught_up_ms,
                    })
                    .collect(),
                Role::Follower(_) => Vec::new(),
            },
        }
    }

    pub(super) fn truncate(&mut self, offset: i64) {
        if offset >= self.log.log_end_offset() {
            // Kafka's UnifiedLog.truncateTo: even when nothing is removed, drop epoch entries
            // starting at the LEO. A replica that became leader and appended nothing keeps an
            // entry for its epoch there (KIP-279), which would otherwise make it report that
            // epoch as its last fetched one forever and never converge (seed 2877).
            self.epochs.truncate_from_end(self.log.log_end_offset());
            return;
        }
        self.log.truncate_to(offset).expect("truncation target is within the log");
        // Kafka's UnifiedLog.truncateTo: the epoch cache loses the entries past the new end
        // (it is not derived from the log again: a compacted gap would move an epoch's start
        // later, see `epoch.rs`). Truncation can remove producer batches: derive those again.
        self.epochs.truncate_from_end(self.log.log_end_offset());
        self.producers = rebuild_producers(&self.log);
        self.assert_epochs_match_log();
    }

    /// The epoch cache agrees with the log: every batch lies in its own epoch's range. Walks
    /// the whole log, so it runs in debug builds (tests, the simulation) only.
    pub(super) fn assert_epochs_match_log(&self) {
        if cfg!(debug_assertions) {
            let batches = self.log.batches_from(self.log.log_start_offset(), ReadLimit::LogEnd);
            self.epochs.assert_matches_log(
                batches.iter().map(|batch| (batch.base_offset(), batch.last_offset(), batch.partition_leader_epoch())),
                self.log.log_end_offset(),
            );
        }
    }

    /// The state the controller decided for this partition, taken over: leader epochs and
    /// partition epochs never go back (a stale image is ignored before this).
    pub(super) fn set_state(&mut self, state: PartitionState) {
        assert!(
            state.leader_epoch >= self.state.leader_epoch && state.partition_epoch >= self.state.partition_epoch,
            "{}: partition state went back from epochs {}/{} to {}/{}",
            self.tp,
            self.state.leader_epoch,
            self.state.partition_epoch,
            state.leader_epoch,
            state.partition_epoch
        );
        self.state = state;
    }

    /// A leader's invariants (TigerBeetle style, checked where they matter; debug builds —
    /// tests, the simulation's test runs, a debug broker — so the hot path stays as fast):
    /// it is in its own ISR, its high watermark is within its log, and its epoch cache knows
    /// its current epoch.
    pub(super) fn assert_leader_invariants(&self, me: BrokerId) {
        let tp = &self.tp;
        debug_assert!(self.state.isr.contains(&me), "{tp}: leader {me} is not in its ISR {:?}", self.state.isr);
        let (high_watermark, log_end_offset) = (self.log.high_watermark(), self.log.log_end_offset());
        debug_assert!(
            high_watermark <= log_end_offset && high_watermark >= self.log.log_start_offset(),
            "{tp}: the leader's high watermark {high_watermark} is outside its log [{}, {log_end_offset}]",
            self.log.log_start_offset()
        );
        debug_assert_eq!(
            self.epochs.latest_epoch(),
            Some(self.state.leader_epoch),
            "{tp}: leader {me}'s epoch cache does not end with its epoch"
        );
    }
}

/// A state corruption the inline invariants must catch (tests only).
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub(crate) enum Corruption {
    /// The leader drops itself from its ISR.
    LeaderLeavesIsr,
    /// The leader forgets its epochs.
    LeaderForgetsEpochs,
}

#[cfg(test)]
impl<F: StorageFactory> BrokerNode<F> {
    /// Corrupts the first partition this broker leads; false when it leads none.
    pub(crate) fn corrupt(&mut self, corruption: Corruption) -> bool {
        let me = self.id;
        let Some(replica) = self.replicas.values_mut().find(|replica| matches!(replica.role, Role::Leader(_))) else {
            return false;
        };
        match corruption {
            Corruption::LeaderLeavesIsr => replica.state.isr.retain(|member| *member != me),
            Corruption::LeaderForgetsEpochs => replica.epochs.clear(),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Corruption;
    use crate::sim::sweep::{random_config, FAULT_PHASE_MS};
    use crate::sim::Sim;
    use proptest::prelude::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, ..ProptestConfig::default() })]

        /// Random runs, a leader's state corrupted at a random moment after the faults: the
        /// broker's next tick stops it, naming the broken invariant (every tick checks each
        /// leader, busy or idle; a corruption that new metadata overwrote before a tick would
        /// be gone, so the test ticks the corrupted broker at once).
        #[test]
        fn inline_invariants_fire_on_a_corrupted_leader(seed in 0u64..100_000, after_ms in 1u64..5_000, which in 0usize..2) {
            let corruption = [Corruption::LeaderLeavesIsr, Corruption::LeaderForgetsEpochs][which];
            let mut config = random_config(seed);
            config.record_trace = false;
            let mut sim = Sim::new(config).expect("random configs are valid");
            sim.run_until(FAULT_PHASE_MS + after_ms);
            let brokers = sim.config().brokers;
            let corrupted =
                (1..=brokers).find(|id| sim.broker_mut(*id).is_some_and(|broker| broker.corrupt(corruption)));
            prop_assume!(corrupted.is_some());
            let now_ms = sim.now_ms();
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                if let Some(broker) = corrupted.and_then(|id| sim.broker_mut(id)) {
                    broker.handle_timeout(now_ms);
                }
                sim.run_for(10_000);
            }));
            let message = match outcome {
                Ok(()) => String::new(),
                Err(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                    .unwrap_or_default(),
            };
            let expected = match corruption {
                Corruption::LeaderLeavesIsr => "is not in its ISR",
                Corruption::LeaderForgetsEpochs => "epoch cache does not end with its epoch",
            };
            prop_assert!(message.contains(expected), "{corruption:?} was not caught: {message:?}");
        }
    }
}
