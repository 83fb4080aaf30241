//! Metadata and roles: a broker applies the controller's metadata image and becomes each
//! partition's leader or follower (KIP-279: a new leader records its epoch at its LEO).

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    pub(super) fn apply_metadata(&mut self, now_ms: u64, image: Arc<MetadataImage>) {
        // Like a KRaft broker, act on metadata only once registered (this incarnation).
        if self.broker_epoch.is_none() || image.metadata_epoch <= self.image.metadata_epoch {
            return;
        }
        self.image = image.clone();
        for (tp, state) in image.partitions() {
            if !state.replicas.contains(&self.id) {
                continue;
            }
            if !self.replicas.contains_key(&tp) {
                let config = image.topics[&tp.topic].config.clone();
                let storage = self.factory.open(&tp);
                let mut log = PartitionLog::new(storage, config);
                if self.config.truncate_to_high_watermark {
                    // Before KIP-101 a restarted replica trusted its checkpointed high watermark.
                    let checkpoint = log.storage().high_watermark_checkpoint().min(log.log_end_offset());
                    log.set_high_watermark(checkpoint);
                }
                let (epochs, producers) = rebuild_state(&log);
                let role = Role::Follower(FollowerState { fetch_in_flight: None, next_fetch_ms: now_ms });
                let replica = Replica { tp: tp.clone(), log, epochs, producers, state: state.clone(), role };
                replica.assert_epochs_match_log();
                self.replicas.insert(tp.clone(), Box::new(replica));
                self.take_role(now_ms, &tp, state.clone(), true);
            } else {
                // A changed topic config (IncrementalAlterConfigs) applies to the log at once.
                let config = &image.topics[&tp.topic].config;
                let replica = self.replicas.get_mut(&tp).expect("checked above");
                if replica.log.config() != config {
                    replica.log.set_config(config.clone());
                }
                self.take_role(now_ms, &tp, state.clone(), false);
            }
        }
        // Topics deleted by the controller, and replicas a reassignment moved off this broker
        // (Kafka's StopReplica with deletion): answer what waits on them, then drop their data.
        let me = self.id;
        let deleted: Vec<TopicPartition> = self
            .replicas
            .keys()
            .filter(|tp| image.partition(tp).is_none_or(|state| !state.replicas.contains(&me)))
            .cloned()
            .collect();
        for tp in deleted {
            let replica = self.replicas.remove(&tp).expect("listed above");
            self.fail_leader_requests(now_ms, replica.role, &tp, ErrorCode::UnknownTopicOrPartition);
            self.factory.delete(&tp, replica.log.into_storage());
        }
    }

    /// Applies a partition state from the controller: becomes leader or follower when the
    /// leader or leader epoch changed, else just adopts the newer ISR.
    pub(super) fn take_role(&mut self, now_ms: u64, tp: &TopicPartition, state: PartitionState, new_replica: bool) {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        if !new_replica && state.leader_epoch < replica.state.leader_epoch {
            return;
        }
        let epoch_changed = new_replica || state.leader_epoch > replica.state.leader_epoch;
        let was_leader = matches!(replica.role, Role::Leader(_));
        if !epoch_changed {
            if state.partition_epoch > replica.state.partition_epoch {
                replica.set_state(state);
                if let Role::Leader(leader) = &mut replica.role {
                    // A reassignment added replicas: the leader tracks them from now on.
                    let replicas = &replica.state.replicas;
                    leader.followers.retain(|follower, _| replicas.contains(follower));
                    for &follower in replicas.iter().filter(|r| **r != me) {
                        leader.followers.entry(follower).or_insert(FollowerProgress::new(0));
                    }
                }
                if was_leader {
                    self.maybe_advance_high_watermark(now_ms, tp);
                    self.check_min_isr_after_shrink(tp);
                }
            }
            return;
        }
        replica.set_state(state.clone());
        if state.leader == Some(me) {
            self.become_leader(now_ms, tp);
        } else {
            self.become_follower(now_ms, tp, was_leader);
        }
    }

    pub(super) fn become_leader(&mut self, now_ms: u64, tp: &TopicPartition) {
        let me = self.id;
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        let old_role = std::mem::replace(
            &mut replica.role,
            Role::Leader(LeaderState {
                followers: VecMap::new(),
                pending_isr: None,
                isr_retry_after_ms: 0,
                purgatory: Vec::new(),
            }),
        );
        let leader_epoch = replica.state.leader_epoch;
        // KIP-279: the new leader records its epoch at its current LEO.
        replica.epochs.assign(leader_epoch, replica.log.log_end_offset());
        replica.assert_leader_invariants(me);
        let Role::Leader(leader) = &mut replica.role else { unreachable!("just set") };
        for &follower in replica.state.replicas.iter().filter(|r| **r != me) {
            let in_isr = replica.state.isr.contains(&follower);
            leader.followers.insert(follower, FollowerProgress::new(if in_isr { now_ms } else { 0 }));
        }
        self.events.push_back(Event::BecameLeader {
            broker: me,
            tp: tp.clone(),
            leader_epoch,
            log_end_offset: replica.log.log_end_offset(),
            high_watermark: replica.log.high_watermark(),
        });
        self.fail_leader_requests(now_ms, old_role, tp, ErrorCode::NotLeaderOrFollower);
        if tp.topic.as_ref() == OFFSETS_TOPIC {
            self.start_coordinator(tp);
        }
        self.maybe_advance_high_watermark(now_ms, tp);
    }

    pub(super) fn become_follower(&mut self, now_ms: u64, tp: &TopicPartition, was_leader: bool) {
        if tp.topic.as_ref() == OFFSETS_TOPIC {
            // Its groups move to the new leader; members learn NOT_COORDINATOR and rediscover.
            self.coordinators.remove(&tp.partition);
        }
        let replica = self.replicas.get_mut(tp).expect("replica exists");
        let old_role = std::mem::replace(
            &mut replica.role,
            Role::Follower(FollowerState { fetch_in_flight: None, next_fetch_ms: now_ms }),
        );
        if self.config.truncate_to_high_watermark {
            // Kafka before 0.11 (the bug KIP-101 fixed): a new follower cut its log back to its
            // own high watermark, which lags the leader's, dropping records that may be
            // committed; if it then leads, they are gone.
            let before = replica.log.log_end_offset();
            replica.truncate(replica.log.high_watermark());
            let after = replica.log.log_end_offset();
            if after < before {
                self.events.push_back(Event::TruncatedToHighWatermark {
                    broker: self.id,
                    tp: tp.clone(),
                    from_offset: before,
                    to_offset: after,
                });
            }
        }
        self.events.push_back(Event::BecameFollower {
            broker: self.id,
            tp: tp.clone(),
            leader: replica.state.leader,
            leader_epoch: replica.state.leader_epoch,
        });
        if was_leader {
            self.fail_leader_requests(now_ms, old_role, tp, ErrorCode::NotLeaderOrFollower);
        }
        self.partition_timeout(now_ms, tp);
    }

    pub(super) fn fail_leader_requests(&mut self, now_ms: u64, role: Role, tp: &TopicPartition, error: ErrorCode) {
        let Role::Leader(leader) = role else { return };
        for pending in leader.purgatory {
            self.answer_pending(pending, tp, error);
        }
        // Fetches waiting on the partition learn that this broker no longer leads it.
        self.answer_parked_fetches(now_ms, tp, false);
    }

    /// Answers a request that waited in the purgatory: a produce response, or for an offset
    /// commit or a group deletion a group response (applied to the coordinator once committed),
    /// with Kafka's error mapping for offset commits (`GroupMetadataManager.storeOffsets`).
    pub(super) fn answer_pending(&mut self, pending: PendingProduce, tp: &TopicPartition, error: ErrorCode) {
        let Some(write) = pending.group_write else {
            let base_offset = if error.is_ok() { pending.base_offset } else { -1 };
            let message = Message::ProduceResponse(ProduceResponse { tp: tp.clone(), error, base_offset });
            self.answer(pending.asker, message);
            return;
        };
        let mut deleted_offsets = None;
        if let Some(coordinator) = self.coordinators.get_mut(&tp.partition) {
            match (write, error.is_ok()) {
                (GroupWrite::Commit(group_id, offsets), true) => coordinator.apply_commit(&group_id, offsets),
                (GroupWrite::Commit(..), false) => {}
                (GroupWrite::Delete(group_id), true) => coordinator.apply_delete(&group_id),
                (GroupWrite::Delete(group_id), false) => coordinator.abort_delete(&group_id),
                (GroupWrite::DeleteOffsets(group_id, outcomes), written) => {
                    if written {
                        for (partition, _) in outcomes.iter().filter(|(_, outcome)| outcome.is_ok()) {
                            coordinator.forget_offset(&group_id, partition);
                        }
                    }
                    deleted_offsets = Some(if written { outcomes } else { Vec::new() });
                }
            }
        }
        let error = match error {
            ErrorCode::None => ErrorCode::None,
            ErrorCode::UnknownTopicOrPartition
            | ErrorCode::NotEnoughReplicas
            | ErrorCode::NotEnoughReplicasAfterAppend => ErrorCode::CoordinatorNotAvailable,
            ErrorCode::NotLeaderOrFollower | ErrorCode::KafkaStorageError => ErrorCode::NotCoordinator,
            ErrorCode::MessageTooLarge | ErrorCode::RecordListTooLarge => ErrorCode::InvalidCommitOffsetSize,
            other => other,
        };
        let response = match deleted_offsets {
            Some(partitions) => GroupResponse::OffsetDelete(OffsetDeleteResponse { error, partitions }),
            None => GroupResponse::Ack(GroupAck { error }),
        };
        self.answer(pending.asker, Message::GroupResponse(response));
    }
}
