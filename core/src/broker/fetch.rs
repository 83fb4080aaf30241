//! Fetch on a leader: followers' and consumers' fetches, KIP-320 divergence answers, and the
//! long poll (Kafka's `DelayedFetch`): a fetch whose partitions have less than `min_bytes` for
//! the fetcher waits until they have, or until `max_wait_ms` passed.

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    pub(super) fn handle_fetch(&mut self, now_ms: u64, asker: ReplyTo, fetch: Fetch) {
        // Per partition: `Some(answer)` when the leader answers it as it is (an error, a
        // divergence), `None` when it is readable.
        let answers: Vec<Option<FetchPartitionResponse>> =
            fetch.partitions.iter().map(|partition| self.check_fetch_partition(now_ms, &fetch, partition)).collect();
        let answered = answers.iter().any(Option::is_some);
        if answered
            || fetch.max_wait_ms == 0
            || self.parked.len() >= PARKED_FETCHES_MAX
            || fetch_ready(&self.replicas, &fetch, None)
        {
            self.complete_fetch(asker, &fetch, answers);
            return;
        }
        let high_watermarks_seen = fetch
            .partitions
            .iter()
            .map(|partition| self.replicas.get(&partition.tp).map_or(-1, |replica| replica.log.high_watermark()))
            .collect();
        let deadline_ms = now_ms.saturating_add(fetch.max_wait_ms);
        self.parked.push(ParkedFetch { asker, fetch, deadline_ms, high_watermarks_seen });
    }

    /// The leader's checks for one partition; a follower's fetch also updates its progress
    /// (Kafka's `Replica.updateFetchState`), which may move the high watermark and the ISR.
    fn check_fetch_partition(
        &mut self,
        now_ms: u64,
        fetch: &Fetch,
        partition: &FetchPartition,
    ) -> Option<FetchPartitionResponse> {
        let me = self.id;
        let tp = &partition.tp;
        let refuse = |error: ErrorCode| Some(FetchPartitionResponse::error(tp.clone(), error));
        let Some(replica) = self.replicas.get_mut(tp) else {
            return refuse(ErrorCode::NotLeaderOrFollower);
        };
        let Role::Leader(leader) = &mut replica.role else {
            return refuse(ErrorCode::NotLeaderOrFollower);
        };
        let leader_epoch = replica.state.leader_epoch;
        if partition.current_leader_epoch >= 0 && partition.current_leader_epoch != leader_epoch {
            return refuse(if partition.current_leader_epoch < leader_epoch {
                ErrorCode::FencedLeaderEpoch
            } else {
                ErrorCode::UnknownLeaderEpoch
            });
        }
        let answer_with = |replica: &Replica<F::Storage>, error: ErrorCode, diverging_epoch: Option<EpochEndOffset>| {
            Some(FetchPartitionResponse {
                tp: tp.clone(),
                error,
                high_watermark: replica.log.high_watermark(),
                log_start_offset: replica.log.log_start_offset(),
                log_end_offset: replica.log.log_end_offset(),
                diverging_epoch,
                batches: Vec::new(),
            })
        };
        if let Some(replica_id) = fetch.replica_id {
            if replica_id == me || !replica.state.replicas.contains(&replica_id) {
                return refuse(ErrorCode::NotLeaderOrFollower);
            }
            // KIP-320: a follower whose last epoch ends earlier here must truncate first.
            if partition.last_fetched_epoch >= 0 {
                let end = replica.epochs.end_offset_for(partition.last_fetched_epoch, replica.log.log_end_offset());
                if let Some(end) = end {
                    if end.epoch < partition.last_fetched_epoch || end.end_offset < partition.fetch_offset {
                        return answer_with(replica, ErrorCode::None, Some(end));
                    }
                }
            }
        }
        let log_end_offset = replica.log.log_end_offset();
        if partition.fetch_offset < replica.log.log_start_offset() || partition.fetch_offset > log_end_offset {
            return answer_with(replica, ErrorCode::OffsetOutOfRange, None);
        }
        if let Some(replica_id) = fetch.replica_id {
            if let Some(progress) = leader.followers.get_mut(&replica_id) {
                if partition.fetch_offset >= log_end_offset {
                    progress.last_caught_up_ms = progress.last_caught_up_ms.max(now_ms);
                } else if partition.fetch_offset >= progress.last_fetch_leader_log_end_offset {
                    progress.last_caught_up_ms = progress.last_caught_up_ms.max(progress.last_fetch_ms);
                }
                progress.log_end_offset = partition.fetch_offset;
                progress.last_fetch_ms = now_ms;
                progress.last_fetch_leader_log_end_offset = log_end_offset;
            }
            self.maybe_advance_high_watermark(now_ms, tp);
            self.maybe_change_isr(now_ms, tp);
        }
        None
    }

    /// Answers a fetch: the partitions already answered (errors, divergences) as they are,
    /// the others read now.
    fn complete_fetch(&mut self, asker: ReplyTo, fetch: &Fetch, answers: Vec<Option<FetchPartitionResponse>>) {
        let follower = fetch.replica_id.is_some();
        let partitions = answers
            .into_iter()
            .zip(&fetch.partitions)
            .map(|(answer, partition)| match answer {
                Some(answer) => answer,
                None => match self.replicas.get(&partition.tp) {
                    Some(replica) if matches!(replica.role, Role::Leader(_)) => {
                        read_partition(replica, follower, partition)
                    }
                    _ => FetchPartitionResponse::error(partition.tp.clone(), ErrorCode::NotLeaderOrFollower),
                },
            })
            .collect();
        self.answer(asker, Message::FetchResponse(FetchResponse { partitions }));
    }

    /// Answers parked fetches of `tp` that now have enough (or lost their leader), or whose
    /// wait expired (`expired_only` limits it to those), oldest first.
    pub(super) fn answer_parked_fetches(&mut self, now_ms: u64, tp: &TopicPartition, expired_only: bool) {
        let waits_on_tp = |fetch: &ParkedFetch| fetch.fetch.partitions.iter().any(|partition| partition.tp == *tp);
        let replicas = &self.replicas;
        let due = |fetch: &mut ParkedFetch| {
            waits_on_tp(fetch)
                && (now_ms >= fetch.deadline_ms
                    || (!expired_only && fetch_ready(replicas, &fetch.fetch, Some(&fetch.high_watermarks_seen))))
        };
        // Taken out in place, oldest first; nothing is allocated when none is due.
        let ready: Vec<ParkedFetch> = self.parked.extract_if(.., due).collect();
        for parked in ready {
            let answers = vec![None; parked.fetch.partitions.len()];
            self.complete_fetch(parked.asker, &parked.fetch, answers);
        }
    }
}

/// Whether a fetch's partitions have `min_bytes` for it, or one of them cannot be read here
/// any more; with `high_watermarks_seen` (a waiting follower fetch), also when a high
/// watermark moved, so the follower learns the new one.
fn fetch_ready<S: Storage>(
    replicas: &VecMap<TopicPartition, Box<Replica<S>>>,
    fetch: &Fetch,
    high_watermarks_seen: Option<&[i64]>,
) -> bool {
    let follower = fetch.replica_id.is_some();
    let mut bytes = 0usize;
    for (index, partition) in fetch.partitions.iter().enumerate() {
        let Some(replica) = replicas.get(&partition.tp) else { return true };
        if !matches!(replica.role, Role::Leader(_)) {
            return true;
        }
        let moved = high_watermarks_seen.is_some_and(|seen| replica.log.high_watermark() > seen[index]);
        if follower && moved {
            return true;
        }
        let limit = if follower { replica.log.log_end_offset() } else { replica.log.high_watermark() };
        if partition.fetch_offset < limit {
            if fetch.min_bytes <= 1 {
                return true;
            }
            bytes += read_partition(replica, follower, partition).size_bytes();
            if bytes >= fetch.min_bytes {
                return true;
            }
        }
    }
    false
}

/// What a leader answers for one readable partition: records from `fetch_offset`, bounded by
/// the LEO for followers and by the high watermark for consumers.
fn read_partition<S: Storage>(
    replica: &Replica<S>,
    follower: bool,
    partition: &FetchPartition,
) -> FetchPartitionResponse {
    let limit = if follower { ReadLimit::LogEnd } else { ReadLimit::HighWatermark };
    match replica.log.read(partition.fetch_offset, partition.max_bytes.max(1), limit) {
        Ok(read) => FetchPartitionResponse {
            tp: partition.tp.clone(),
            error: ErrorCode::None,
            high_watermark: read.high_watermark,
            log_start_offset: read.log_start_offset,
            log_end_offset: read.log_end_offset,
            diverging_epoch: None,
            batches: read.batches,
        },
        Err(error) => FetchPartitionResponse {
            tp: partition.tp.clone(),
            error: error.code,
            high_watermark: replica.log.high_watermark(),
            log_start_offset: replica.log.log_start_offset(),
            log_end_offset: replica.log.log_end_offset(),
            diverging_epoch: None,
            batches: Vec::new(),
        },
    }
}
