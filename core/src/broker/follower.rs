//! A follower: it pulls from its leader with its LEO and last epoch, appends what comes
//! back, learns the high watermark, and truncates on divergence (KIP-101/279/320).

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    pub(super) fn send_follower_fetch(&mut self, now_ms: u64, tp: &TopicPartition) {
        let correlation_id = self.next_correlation_id();
        let me = self.id;
        let max_bytes = usize::try_from(self.config.replica_fetch_max_bytes).unwrap_or(1 << 20);
        let max_wait_ms = u64::try_from(self.config.replica_fetch_wait_max_ms).unwrap_or(500);
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Some(leader) = replica.state.leader.filter(|leader| *leader != me) else {
            return;
        };
        let Role::Follower(follower) = &mut replica.role else {
            return;
        };
        follower.fetch_in_flight = Some((correlation_id, now_ms));
        // One partition per fetch (Kafka's replica fetcher batches every partition it follows
        // from one leader; Rill keeps one fetch in flight per partition).
        let fetch = Fetch {
            replica_id: Some(me),
            max_wait_ms,
            min_bytes: REPLICA_FETCH_MIN_BYTES,
            partitions: vec![FetchPartition {
                tp: tp.clone(),
                fetch_offset: replica.log.log_end_offset(),
                // Before KIP-101 a fetch carried no epoch, so the leader could not say where
                // the logs diverge.
                last_fetched_epoch: if self.config.truncate_to_high_watermark {
                    -1
                } else {
                    replica.epochs.latest_epoch().unwrap_or(-1)
                },
                current_leader_epoch: replica.state.leader_epoch,
                max_bytes,
            }],
        };
        self.outbox.push_back(Outgoing { to: NodeId::Broker(leader), correlation_id, message: Message::Fetch(fetch) });
    }

    pub(super) fn handle_fetch_response(&mut self, now_ms: u64, correlation_id: u64, response: FetchResponse) {
        for partition in response.partitions {
            self.handle_fetched_partition(now_ms, correlation_id, partition);
        }
    }

    fn handle_fetched_partition(&mut self, now_ms: u64, correlation_id: u64, response: FetchPartitionResponse) {
        let me = self.id;
        let tp = &response.tp.clone();
        let backoff_ms = u64::try_from(self.config.replica_fetch_backoff_ms).unwrap_or(1_000);
        let Some(replica) = self.replicas.get_mut(tp) else {
            return;
        };
        let Role::Follower(follower) = &mut replica.role else {
            return;
        };
        if follower.fetch_in_flight.map(|(id, _)| id) != Some(correlation_id) {
            return;
        }
        follower.fetch_in_flight = None;
        follower.next_fetch_ms = now_ms;
        let before = replica.log.log_end_offset();
        match response.error {
            ErrorCode::None => {
                if let Some(diverging) = response.diverging_epoch {
                    let target = truncation_offset(&replica.epochs, diverging, before, replica.log.log_start_offset());
                    replica.truncate(target);
                } else {
                    for batch in response.batches {
                        let log_end_offset = replica.log.log_end_offset();
                        let epoch = batch.partition_leader_epoch();
                        if batch.base_offset() < log_end_offset {
                            break;
                        }
                        let stored = batch.clone();
                        if replica.log.append_as_follower(now_ms, batch).is_err() {
                            break;
                        }
                        // The epoch starts where our log ended, not at this batch's base offset:
                        // a gap before it was compacted away on the leader (see `epoch.rs`).
                        replica.epochs.assign(epoch, log_end_offset);
                        assert_eq!(
                            replica.epochs.epoch_for(stored.base_offset()),
                            Some(epoch),
                            "{tp}: a fetched batch of epoch {epoch} at {} lies outside its epoch's range",
                            stored.base_offset()
                        );
                        replica.producers.record(&stored);
                    }
                    if replica.log.should_flush(now_ms) {
                        replica.log.flush().expect("storage flush");
                    }
                    let high_watermark =
                        response.high_watermark.min(replica.log.log_end_offset()).max(replica.log.log_start_offset());
                    replica.log.set_high_watermark(high_watermark);
                    // The leader's log start (DeleteRecords, retention) is the follower's too,
                    // up to what is committed here (Kafka's `maybeIncrementLogStartOffset`).
                    let start = response.log_start_offset.min(replica.log.high_watermark());
                    if start > replica.log.log_start_offset() && replica.log.delete_records(start).is_ok() {
                        replica.epochs.truncate_from_start(replica.log.log_start_offset());
                        self.events.push_back(Event::RecordsDeleted {
                            broker: me,
                            tp: tp.clone(),
                            log_start_offset: replica.log.log_start_offset(),
                        });
                    }
                }
            }
            ErrorCode::OffsetOutOfRange => {
                if before > response.log_end_offset {
                    // The leader has less than we do (an unclean election): follow it.
                    replica.truncate(response.log_end_offset.max(replica.log.log_start_offset()));
                } else if before < response.log_start_offset {
                    replica.log.truncate_fully_and_start_at(response.log_start_offset).expect("storage reset");
                    replica.epochs.clear();
                    replica.producers.clear();
                } else {
                    follower.next_fetch_ms = now_ms + backoff_ms;
                }
            }
            _ => {
                if let Role::Follower(follower) = &mut replica.role {
                    follower.next_fetch_ms = now_ms + backoff_ms;
                }
            }
        }
        let after = replica.log.log_end_offset();
        if after < before {
            self.events.push_back(Event::Truncated {
                broker: me,
                tp: tp.clone(),
                from_offset: before,
                to_offset: after,
            });
        }
        self.partition_timeout(now_ms, tp);
    }
}

/// KIP-101/279 follower truncation for a leader's diverging epoch answer.
pub(super) fn truncation_offset(
    epochs: &LeaderEpochCache,
    diverging: EpochEndOffset,
    log_end_offset: i64,
    log_start_offset: i64,
) -> i64 {
    match epochs.end_offset_for(diverging.epoch, log_end_offset) {
        Some(mine) if mine.epoch == diverging.epoch => mine.end_offset.min(diverging.end_offset),
        // We lack the leader's epoch: cut back to where our largest older epoch ends and ask again.
        Some(mine) => mine.end_offset.min(diverging.end_offset),
        None => log_start_offset,
    }
    .min(log_end_offset)
}
