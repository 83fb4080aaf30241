//! The produce path on a leader: checks (leadership, acks, `min.insync.replicas`,
//! idempotent sequences), the append, and the purgatory where acks=all requests wait.

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    pub(super) fn handle_produce(&mut self, now_ms: u64, asker: ReplyTo, produce: Produce) {
        let me = self.id;
        let Produce { tp, acks, timeout_ms, batch } = produce;
        let tp = &tp;
        let result = self.append_produce(now_ms, tp, acks, batch);
        let respond = |error: ErrorCode, base_offset: i64| {
            Message::ProduceResponse(ProduceResponse { tp: tp.clone(), error, base_offset })
        };
        let (base_offset, last_offset) = match result {
            Ok(offsets) => offsets,
            Err(error) => {
                self.events.push_back(Event::ProduceFailed { broker: me, tp: tp.clone(), error });
                if acks != Acks::None {
                    self.answer(asker, respond(error, -1));
                }
                return;
            }
        };
        match acks {
            Acks::None => {}
            Acks::Leader => self.answer(asker, respond(ErrorCode::None, base_offset)),
            Acks::All => {
                let replica = self.replicas.get_mut(tp).expect("append succeeded");
                let Role::Leader(leader) = &mut replica.role else { unreachable!("append checks leadership") };
                if leader.purgatory.len() >= PURGATORY_PER_PARTITION_MAX {
                    self.answer(asker, respond(ErrorCode::RequestTimedOut, -1));
                } else {
                    leader.purgatory.push(PendingProduce {
                        asker,
                        base_offset,
                        required_offset: last_offset + 1,
                        deadline_ms: now_ms.saturating_add(timeout_ms),
                        group_write: None,
                    });
                }
            }
        }
        self.maybe_advance_high_watermark(now_ms, tp);
        self.answer_parked_fetches(now_ms, tp, false);
    }

    pub(super) fn append_produce(
        &mut self,
        now_ms: u64,
        tp: &TopicPartition,
        acks: Acks,
        batch: RecordBatch,
    ) -> Result<(i64, i64), ErrorCode> {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).ok_or(ErrorCode::NotLeaderOrFollower)?;
        if !matches!(replica.role, Role::Leader(_)) {
            return Err(ErrorCode::NotLeaderOrFollower);
        }
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        // Checked before the append: nothing is written when the ISR is too small.
        if acks == Acks::All && replica.state.isr.len() < min_isr {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let leader_epoch = replica.state.leader_epoch;
        match replica.producers.check(&batch)? {
            // A retry of a batch already in the log: its original offsets, nothing appended.
            SequenceCheck::Duplicate { base_offset, last_offset } => {
                self.events.push_back(Event::DuplicateIgnored { broker: me, tp: tp.clone(), base_offset });
                return Ok((base_offset, last_offset));
            }
            SequenceCheck::Append => {}
        }
        let mut stored = batch.clone();
        let log_end_offset = replica.log.log_end_offset();
        let info = replica.log.append_as_leader(now_ms, batch, leader_epoch).map_err(|error| error.code)?;
        // A leader's offsets are dense: each batch starts where the log ended.
        debug_assert_eq!(info.base_offset, log_end_offset, "{tp}: a leader append skipped offsets");
        debug_assert_eq!(
            replica.log.log_end_offset(),
            info.last_offset + 1,
            "{tp}: the log end is past the appended batch"
        );
        stored.assign(info.base_offset, leader_epoch);
        replica.producers.record(&stored);
        if replica.log.should_flush(now_ms) {
            replica.log.flush().map_err(|error| error.code)?;
        }
        self.events.push_back(Event::Appended {
            broker: me,
            tp: tp.clone(),
            base_offset: info.base_offset,
            last_offset: info.last_offset,
            leader_epoch,
        });
        Ok((info.base_offset, info.last_offset))
    }

    pub(super) fn expire_purgatory(&mut self, now_ms: u64, tp: &TopicPartition) {
        let Some(Replica { role: Role::Leader(leader), .. }) = self.replicas.get_mut(tp).map(|replica| &mut **replica)
        else {
            return;
        };
        let (expired, kept): (Vec<PendingProduce>, Vec<PendingProduce>) =
            leader.purgatory.drain(..).partition(|pending| now_ms >= pending.deadline_ms);
        leader.purgatory = kept;
        for pending in expired {
            self.answer_pending(pending, tp, ErrorCode::RequestTimedOut);
        }
    }

    /// Rill answers waiting acks=all requests with `NOT_ENOUGH_REPLICAS_AFTER_APPEND` as soon
    /// as a committed ISR shrink leaves fewer than `min.insync.replicas` members (Kafka's
    /// `DelayedProduce` reaches the same answer once it re-checks; the record stays in the log).
    pub(super) fn check_min_isr_after_shrink(&mut self, tp: &TopicPartition) {
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let min_isr = usize::try_from(replica.log.config().min_insync_replicas).unwrap_or(usize::MAX);
        if replica.state.isr.len() >= min_isr {
            return;
        }
        let Role::Leader(leader) = &mut replica.role else {
            return;
        };
        let failed: Vec<PendingProduce> = leader.purgatory.drain(..).collect();
        for pending in failed {
            self.answer_pending(pending, tp, ErrorCode::NotEnoughReplicasAfterAppend);
        }
    }
}
