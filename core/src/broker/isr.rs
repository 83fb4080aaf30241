//! High watermark and ISR on a leader: HW = min LEO over the (maximal) ISR, ISR shrink and
//! expand proposals to the controller (KIP-497 AlterPartition) and their answers.

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    /// HW = min LEO over the ISR (plus pending additions, KIP-497's maximal ISR); it does not
    /// advance while the ISR is smaller than `min.insync.replicas` (KIP-966).
    pub(super) fn maybe_advance_high_watermark(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        if !matches!(replica.role, Role::Leader(_)) {
            return;
        }
        replica.assert_leader_invariants(me);
        let Role::Leader(leader) = &mut replica.role else { unreachable!("checked above") };
        let mut members: Vec<BrokerId> = replica.state.isr.clone();
        if let Some((pending, _)) = &leader.pending_isr {
            for member in pending {
                if !members.contains(member) {
                    members.push(*member);
                }
            }
        }
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        if members.len() < min_isr {
            return;
        }
        let mut candidate = replica.log.log_end_offset();
        for member in members.iter().filter(|member| **member != me) {
            let leo = leader.followers.get(member).map_or(-1, |progress| progress.log_end_offset);
            candidate = candidate.min(leo);
        }
        let before = replica.log.high_watermark();
        let advanced = candidate > before;
        if advanced {
            replica.log.set_high_watermark(candidate);
            self.events.push_back(Event::HighWatermarkAdvanced {
                broker: me,
                tp: tp.clone(),
                high_watermark: candidate,
            });
        }
        // Everything at or below the HW is committed, including retried duplicates whose
        // original offsets were committed already.
        let high_watermark = replica.log.high_watermark();
        debug_assert!(
            high_watermark >= before,
            "{tp}: the leader's high watermark moved back from {before} to {high_watermark}"
        );
        let done: Vec<PendingProduce> =
            leader.purgatory.extract_if(.., |pending| pending.required_offset <= high_watermark).collect();
        // An acknowledged acks=all write is on every ISR member this leader has heard from.
        if let Some(required) = done.iter().map(|pending| pending.required_offset).max() {
            for member in replica.state.isr.iter().filter(|member| **member != me) {
                let known = leader.followers.get(member).map_or(-1, |progress| progress.log_end_offset);
                debug_assert!(
                    known < 0 || known >= required,
                    "{tp}: acknowledging offsets below {required} while ISR member {member} has only {known}"
                );
            }
        }
        for pending in done {
            self.answer_pending(pending, tp, ErrorCode::None);
        }
        if advanced {
            self.answer_parked_fetches(now_ms, tp, false);
        }
    }

    /// Proposes an ISR shrink (followers not caught up for `replica.lag.time.max.ms`) or an
    /// expansion (a follower at or past the HW and the current epoch's start), one change in
    /// flight at a time.
    pub(super) fn maybe_change_isr(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let lag_max_ms = u64::try_from(self.config.replica_lag_time_max_ms).unwrap_or(u64::MAX);
        let Some(broker_epoch) = self.broker_epoch else {
            return;
        };
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        if let Some((_, sent_ms)) = leader.pending_isr {
            if now_ms < sent_ms + ALTER_PARTITION_RETRY_MS {
                return;
            }
            leader.pending_isr = None;
        }
        if now_ms < leader.isr_retry_after_ms {
            return;
        }
        let image = &self.image;
        let isr = &replica.state.isr;
        let leaving: Vec<(BrokerId, u64)> = isr
            .iter()
            .filter(|member| **member != me)
            .filter_map(|member| {
                let progress = leader.followers.get(member)?;
                let lag_ms = now_ms.saturating_sub(progress.last_caught_up_ms);
                (lag_ms > lag_max_ms).then_some((*member, lag_ms))
            })
            .collect();
        let epoch_start = replica.epochs.start_offset(replica.state.leader_epoch).unwrap_or(0);
        let high_watermark = replica.log.high_watermark();
        let joining: Vec<BrokerId> = leader
            .followers
            .iter()
            .filter(|(id, progress)| {
                // Kafka's isReplicaIsrEligible: only unfenced brokers may join.
                let unfenced = image.brokers.get(*id).is_some_and(|broker| !broker.fenced);
                // Kafka expands the ISR while handling the follower's fetch, so a joining
                // follower has just caught up. Here the check also runs on timers: a follower
                // that stopped fetching (crashed, cut off) must not rejoin on its last known
                // offset just because the leader's log stopped growing — it would flap in and
                // out of the ISR every replica.lag.time.max.ms.
                let fetching = now_ms.saturating_sub(progress.last_caught_up_ms) <= lag_max_ms;
                unfenced
                    && fetching
                    && !isr.contains(id)
                    && progress.log_end_offset >= high_watermark
                    && progress.log_end_offset >= epoch_start
            })
            .map(|(id, _)| *id)
            .collect();
        if leaving.is_empty() && joining.is_empty() {
            return;
        }
        let mut new_isr: Vec<BrokerId> = isr.iter().copied().filter(|m| !leaving.iter().any(|(l, _)| l == m)).collect();
        if !leaving.is_empty() {
            // One kind of change at a time: shrink first, expand on a later check.
        } else {
            new_isr.extend(joining);
        }
        collections::sort(&mut new_isr);
        leader.pending_isr = Some((new_isr.clone(), now_ms));
        self.events.push_back(Event::IsrChangeProposed {
            broker: me,
            tp: tp.clone(),
            new_isr: new_isr.clone(),
            leaving,
        });
        let message = Message::AlterPartition(AlterPartition {
            broker_id: me,
            broker_epoch,
            tp: tp.clone(),
            leader_epoch: replica.state.leader_epoch,
            partition_epoch: replica.state.partition_epoch,
            new_isr,
        });
        self.send(self.controller(), message);
    }

    pub(super) fn handle_alter_partition_response(&mut self, now_ms: u64, response: AlterPartitionResponse) {
        let AlterPartitionResponse { tp, error, state } = response;
        let tp = &tp;
        let me = self.id;
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        leader.pending_isr = None;
        if !error.is_ok() {
            let backoff_ms = u64::try_from(self.config.replica_fetch_backoff_ms).unwrap_or(1_000);
            leader.isr_retry_after_ms = now_ms + backoff_ms;
        }
        if let Some(state) = state {
            let same_leadership = state.leader == Some(me) && state.leader_epoch == replica.state.leader_epoch;
            if same_leadership && state.partition_epoch > replica.state.partition_epoch {
                replica.set_state(state);
            }
        }
        self.maybe_advance_high_watermark(now_ms, tp);
        self.check_min_isr_after_shrink(tp);
    }
}
