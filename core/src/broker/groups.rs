//! Group hosting: the coordinators of the `__consumer_offsets` partitions this broker leads,
//! FindCoordinator, and offset commits and group deletions written to `__consumer_offsets`
//! with acks=all.

use super::*;

impl<F: StorageFactory> BrokerNode<F> {
    pub(super) fn offsets_partitions(&self) -> Option<i32> {
        self.image.topics.get(OFFSETS_TOPIC).map(|topic| i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX))
    }

    /// The `__consumer_offsets` partition of `group_id`; `None` before that topic exists.
    fn group_partition(&self, group_id: &str) -> Option<i32> {
        self.offsets_partitions().map(|partitions| coordinator_partition(group_id, partitions))
    }

    /// The coordinator of `group_id`, when this broker leads its `__consumer_offsets` partition.
    #[must_use]
    pub fn group_coordinator(&self, group_id: &str) -> Option<&GroupCoordinator> {
        self.coordinators.get(&self.group_partition(group_id)?)
    }

    pub(super) fn handle_find_coordinator(&mut self, asker: ReplyTo, group_id: &str) {
        let coordinator = self.offsets_partitions().and_then(|partitions| {
            let tp = TopicPartition::new(OFFSETS_TOPIC, coordinator_partition(group_id, partitions));
            self.image.partition(&tp)?.leader
        });
        let error = if coordinator.is_some() { ErrorCode::None } else { ErrorCode::CoordinatorNotAvailable };
        self.answer(asker, Message::FindCoordinatorResponse(FindCoordinatorResponse { error, coordinator }));
    }

    pub(super) fn handle_group_request(&mut self, now_ms: u64, asker: ReplyTo, mut request: GroupRequest) {
        if let GroupRequest::ConsumerHeartbeat(heartbeat) = &mut request {
            // KIP-848: the coordinator assigns from this broker's metadata.
            heartbeat.partitions = self
                .image
                .topics
                .iter()
                .filter(|(name, _)| !name.starts_with("__"))
                .map(|(name, topic)| (name.to_string(), i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX)))
                .collect();
        }
        let Some(partition) = self.group_partition(request.group_id()) else {
            self.answer(asker, Message::GroupResponse(request.error_response(ErrorCode::CoordinatorNotAvailable)));
            return;
        };
        let Some(coordinator) = self.coordinators.get_mut(&partition) else {
            self.answer(asker, Message::GroupResponse(request.error_response(ErrorCode::NotCoordinator)));
            return;
        };
        if let GroupRequest::OffsetCommit(OffsetCommit { group_id, generation_id, member_id, offsets }) = &request {
            let error = coordinator.validate_commit(group_id, *generation_id, member_id, offsets);
            if !error.is_ok() || offsets.is_empty() {
                self.answer(asker, Message::GroupResponse(GroupResponse::Ack(GroupAck { error })));
                return;
            }
            // Durable first: append to __consumer_offsets with acks=all, answer once committed.
            let records = offsets
                .iter()
                .map(|(tp, offset)| {
                    let (key, value) = offset_record(group_id, tp, *offset);
                    (key, Some(value))
                })
                .collect();
            let write = GroupWrite::Commit(group_id.clone(), offsets.clone());
            self.write_offsets_topic(now_ms, asker, partition, records, write);
            return;
        }
        if let GroupRequest::Delete(DeleteGroup { group_id }) = &request {
            let error = coordinator.validate_delete(group_id);
            let committed = coordinator.committed(group_id);
            if !error.is_ok() || committed.is_empty() {
                if error.is_ok() {
                    coordinator.apply_delete(group_id);
                }
                self.answer(asker, Message::GroupResponse(GroupResponse::Ack(GroupAck { error })));
                return;
            }
            // Kafka's deletion: the group is Dead at once, its offsets get tombstones.
            coordinator.begin_delete(group_id);
            let records = committed.keys().map(|tp| (offset_record(group_id, tp, 0).0, None)).collect();
            self.write_offsets_topic(now_ms, asker, partition, records, GroupWrite::Delete(group_id.clone()));
            return;
        }
        if let GroupRequest::OffsetDelete(OffsetDelete { group_id, partitions }) = &request {
            let (error, outcomes) = coordinator.validate_offset_delete(group_id, partitions);
            let committed = coordinator.committed(group_id);
            let doomed: Vec<&TopicPartition> = outcomes
                .iter()
                .filter(|(tp, outcome)| outcome.is_ok() && committed.contains_key(tp))
                .map(|(tp, _)| tp)
                .collect();
            if !error.is_ok() || doomed.is_empty() {
                let response = OffsetDeleteResponse { error, partitions: outcomes };
                self.answer(asker, Message::GroupResponse(GroupResponse::OffsetDelete(response)));
                return;
            }
            // Like a group deletion: tombstones for those offsets, answered once committed.
            let records = doomed.iter().map(|tp| (offset_record(group_id, tp, 0).0, None)).collect();
            let write = GroupWrite::DeleteOffsets(group_id.clone(), outcomes);
            self.write_offsets_topic(now_ms, asker, partition, records, write);
            return;
        }
        coordinator.handle_request(now_ms, asker.node, asker.correlation_id, request);
        self.drain_coordinator(partition);
    }

    /// Appends a coordinator's records to its `__consumer_offsets` partition with acks=all;
    /// `asker` is answered (and `write` applied) once they are committed, or on failure.
    fn write_offsets_topic(
        &mut self,
        now_ms: u64,
        asker: ReplyTo,
        partition: i32,
        records: Vec<(String, Option<String>)>,
        write: GroupWrite,
    ) {
        let mut builder = BatchBuilder::new();
        let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        for (key, value) in &records {
            builder.push(&Record::new(Some(key.as_bytes()), value.as_deref().map(str::as_bytes), timestamp_ms));
        }
        let offsets_tp = TopicPartition::new(OFFSETS_TOPIC, partition);
        match self.append_produce(now_ms, &offsets_tp, Acks::All, builder.build()) {
            Ok((base_offset, last_offset)) => {
                let timeout_ms = u64::try_from(self.config.offsets_commit_timeout_ms).unwrap_or(5_000);
                let pending = PendingProduce {
                    asker,
                    base_offset,
                    required_offset: last_offset + 1,
                    deadline_ms: now_ms.saturating_add(timeout_ms),
                    group_write: Some(write),
                };
                if let Some(Replica { role: Role::Leader(leader), .. }) =
                    self.replicas.get_mut(&offsets_tp).map(|replica| &mut **replica)
                {
                    leader.purgatory.push(pending);
                }
                self.maybe_advance_high_watermark(now_ms, &offsets_tp);
                self.answer_parked_fetches(now_ms, &offsets_tp, false);
            }
            Err(error) => {
                let pending = PendingProduce {
                    asker,
                    base_offset: -1,
                    required_offset: 0,
                    deadline_ms: 0,
                    group_write: Some(write),
                };
                self.answer_pending(pending, &offsets_tp, error);
            }
        }
    }

    pub(super) fn drain_coordinator(&mut self, partition: i32) {
        let Some(coordinator) = self.coordinators.get_mut(&partition) else { return };
        let mut responses = Vec::new();
        while let Some(response) = coordinator.poll_output() {
            responses.push(response);
        }
        for (asker, response) in responses {
            self.answer(asker, Message::GroupResponse(response));
        }
    }

    /// A broker that starts leading a `__consumer_offsets` partition becomes the coordinator of
    /// its groups, loading their committed offsets from the log (Kafka's
    /// `GroupMetadataManager.loadGroupsForPartition`). Group membership is not persisted in
    /// Rill: members of a moved group rejoin, their offsets survive.
    pub(super) fn start_coordinator(&mut self, tp: &TopicPartition) {
        let config = GroupConfig {
            min_session_timeout_ms: u64::try_from(self.config.group_min_session_timeout_ms).unwrap_or(6_000),
            max_session_timeout_ms: u64::try_from(self.config.group_max_session_timeout_ms).unwrap_or(1_800_000),
            initial_rebalance_delay_ms: u64::try_from(self.config.group_initial_rebalance_delay_ms).unwrap_or(3_000),
            max_size: usize::try_from(self.config.group_max_size).unwrap_or(usize::MAX),
        };
        let leader_epoch = self.replicas.get(tp).map_or(0, |replica| replica.state.leader_epoch);
        let mut coordinator = GroupCoordinator::new(config, &format!("member-b{}-e{leader_epoch}", self.id))
            .with_generation_floor(leader_epoch.saturating_mul(1_000_000));
        if let Some(replica) = self.replicas.get(tp) {
            for batch in replica.log.batches_from(replica.log.log_start_offset(), ReadLimit::LogEnd) {
                for record in batch.records().flatten() {
                    let Some(key) = &record.record.key else { continue };
                    match &record.record.value {
                        Some(value) => {
                            if let Some((group, partition, committed)) = parse_offset_record(key, value) {
                                coordinator.apply_commit(&group, vec![(partition, committed)]);
                            }
                        }
                        // A deleted group's tombstone.
                        None => {
                            if let Some((group, partition)) = parse_offset_key(key) {
                                coordinator.forget_offset(&group, &partition);
                            }
                        }
                    }
                }
            }
        }
        self.coordinators.insert(tp.partition, coordinator);
    }
}
