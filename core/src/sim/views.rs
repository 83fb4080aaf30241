//! What a host may read of a running simulation: plain-data snapshots, messages in flight.

use super::*;

impl Sim {
    /// Messages on the wire between brokers (and the controller) now, oldest first.
    #[must_use]
    pub fn in_flight(&self) -> Vec<InFlight> {
        let mut messages: Vec<InFlight> = self
            .queue
            .items()
            .filter_map(|(deliver_ms, item)| match item {
                Item::Deliver { from, to, message, sent_ms, .. } => {
                    let broker = |node: &NodeId| match self.host(*node) {
                        Host::Broker(id) => Some(id),
                        Host::Client(_) => None,
                    };
                    let (from_broker, to_broker) = (broker(from)?, broker(to)?);
                    (from_broker != to_broker).then(|| InFlight {
                        from: from_broker,
                        to: to_broker,
                        api: message.kind(),
                        sent_ms: *sent_ms,
                        deliver_ms,
                    })
                }
                _ => None,
            })
            .collect();
        collections::sort_by_key(&mut messages, |message| {
            (message.sent_ms, message.deliver_ms, message.from, message.to)
        });
        messages
    }

    /// Drops one message on the wire between two brokers — the oldest matching `message`, as
    /// [`Sim::in_flight`] listed it — as a network could. An error when it is no longer there.
    pub fn drop_in_flight(&mut self, message: &MessageRef) -> Result<()> {
        let matches = Sim::message_matcher(message);
        let found = self.queue.items().filter(|(at_ms, item)| matches(*at_ms, item)).count();
        if found == 0 {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!(
                    "no {} from broker {} to broker {} is on the wire any more",
                    message.api, message.from, message.to
                ),
            ));
        }
        let Some(Item::Deliver { from, to, message: dropped, .. }) =
            self.queue.take_first(|at_ms, item| matches(at_ms, item))
        else {
            unreachable!("a matching delivery was found")
        };
        self.dropped(from, to, &dropped, DropReason::ByHand);
        Ok(())
    }

    /// Most a message can be held back by hand.
    pub const DELAY_MAX_MS: u64 = 60_000;

    /// Holds one message on the wire between two brokers back by `by_ms` (1 ms to a minute) —
    /// the oldest matching `message`, as [`Sim::in_flight`] listed it. Later messages on its
    /// connection wait behind it (FIFO, like TCP). An error when it is no longer there.
    pub fn delay_in_flight(&mut self, message: &MessageRef, by_ms: u64) -> Result<()> {
        if !(1..=Sim::DELAY_MAX_MS).contains(&by_ms) {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!("a message can be held back 1 to {} ms, got {by_ms}", Sim::DELAY_MAX_MS),
            ));
        }
        let matches = Sim::message_matcher(message);
        let Some(Item::Deliver { from, to, correlation_id, message: held, incarnation, sent_ms }) =
            self.queue.take_first(|at_ms, item| matches(at_ms, item))
        else {
            return Err(Error::new(
                ErrorCode::InvalidRequest,
                format!(
                    "no {} from broker {} to broker {} is on the wire any more",
                    message.api, message.from, message.to
                ),
            ));
        };
        let (was_ms, until_ms) = (message.deliver_ms, message.deliver_ms + by_ms);
        let behind = self.queue.take_all(|at_ms, item| {
            matches!(item, Item::Deliver { from: f, to: t, sent_ms: s, .. }
                if (*f, *t) == (from, to) && (at_ms, *s) >= (was_ms, sent_ms))
        });
        self.record(TraceKind::Delayed { from, to, api: held.kind(), deliver_at_ms: until_ms });
        self.queue.push(until_ms, Item::Deliver { from, to, correlation_id, message: held, incarnation, sent_ms });
        for (at_ms, item) in behind {
            self.queue.push(at_ms.max(until_ms), item);
        }
        let last = self.last_delivery_ms.entry((from, to)).or_insert(0);
        *last = (*last).max(until_ms);
        Ok(())
    }

    /// Whether a queued item is `message` (as [`Sim::in_flight`] listed it).
    fn message_matcher(message: &MessageRef) -> impl Fn(u64, &Item) -> bool {
        let host_of = move |node: NodeId| match node {
            NodeId::Broker(id) | NodeId::Controller(id) => Some(id),
            NodeId::Client(_) => None,
        };
        let message = message.clone();
        move |at_ms: u64, item: &Item| match item {
            Item::Deliver { from, to, message: queued, sent_ms, .. } => {
                at_ms == message.deliver_ms
                    && *sent_ms == message.sent_ms
                    && queued.kind() == message.api
                    && host_of(*from) == Some(message.from)
                    && host_of(*to) == Some(message.to)
            }
            _ => false,
        }
    }

    /// The whole cluster as plain data.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with(SNAPSHOT_RECORDS_MAX)
    }

    /// [`Sim::snapshot`] with at most `records_per_replica` of each replica's newest records
    /// (a view drawing a few offsets per replica need not copy more).
    #[must_use]
    pub fn snapshot_with(&self, records_per_replica: usize) -> Snapshot {
        let image = self.metadata();
        let active = self.active_controller();
        let brokers = self
            .brokers
            .iter()
            .map(|(id, slot)| BrokerSnapshot {
                id: *id,
                status: slot.status,
                controller_only: !slot.runs_broker,
                fenced: slot.runs_broker && image.brokers.get(id).is_none_or(|broker| broker.fenced),
                controller: active.is_some_and(|c| c.quorum().config().node_id == *id),
                rack: self.config.rack_of(*id),
                session_deadline_ms: active.and_then(|c| c.session_deadline_ms(*id)),
                disk_delay_ms: self.slow_disks.get(id).copied().unwrap_or(0),
                replicas: slot
                    .node
                    .as_ref()
                    .map(|node| {
                        node.replicas()
                            .into_iter()
                            .map(|view| {
                                let records = node
                                    .log(&view.tp)
                                    .map(|log| recent_records(log, records_per_replica))
                                    .unwrap_or_default();
                                ReplicaSnapshot { view, records }
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect();
        let partitions = image
            .partitions()
            .map(|(tp, state)| PartitionSnapshot {
                topic: tp.topic.to_string(),
                partition: tp.partition,
                replicas: state.replicas.clone(),
                isr: state.isr.clone(),
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                under_replicated: state.isr.len() < state.replicas.len(),
                offline: state.leader.is_none(),
            })
            .collect();
        let mut cut_links: Vec<(BrokerId, BrokerId)> = self
            .cut
            .iter()
            .filter_map(|link| match link {
                (Host::Broker(from), Host::Broker(to)) => Some((*from, *to)),
                _ => None,
            })
            .collect();
        for id in &self.isolated {
            for other in self.brokers.keys().filter(|other| *other != id) {
                cut_links.push((*id, *other));
                cut_links.push((*other, *id));
            }
        }
        collections::sort(&mut cut_links);
        cut_links.dedup();
        let groups = self.group_snapshots();
        let producers = self
            .producers
            .iter()
            .map(|(client, slot)| {
                let (queued, in_flight, oldest_ms) = slot.producer.backlog();
                let (acknowledged, failed, retried) = slot.outcomes;
                let (queued, in_flight) = (queued as u64, in_flight as u64);
                let config = slot.producer.config();
                ProducerSnapshot {
                    client: *client,
                    topic: slot.spec.topic.clone(),
                    acks: config.acks.wire(),
                    sent: slot.sent.max(acknowledged + failed + queued + in_flight),
                    acknowledged,
                    failed,
                    retried,
                    queued,
                    in_flight,
                    request_deadline_ms: oldest_ms.map(|sent_ms| sent_ms.saturating_add(config.request_timeout_ms)),
                    ack_latency_ms: slot.ack_latency_ms,
                }
            })
            .collect();
        Snapshot {
            producers,
            groups,
            quorum: self.quorum_snapshot(),
            now_ms: self.now_ms,
            events: self.events,
            trace_hash: format!("{:016x}", self.trace_hash()),
            metadata_epoch: image.metadata_epoch,
            brokers,
            partitions,
            cut_links,
            report: self.checker.report().clone(),
        }
    }

    pub(super) fn group_snapshots(&self) -> Vec<GroupSnapshot> {
        let mut groups = Vec::new();
        for (id, slot) in &self.brokers {
            let Some(node) = slot.node.as_ref() else { continue };
            for (_, coordinator) in node.coordinators() {
                let mut described: Vec<Described> = Vec::new();
                for (group_id, _) in coordinator.list_groups() {
                    let Some(description) = coordinator.describe(&group_id) else { continue };
                    let sessions =
                        description.members.iter().map(|m| (m.member_id.clone(), m.session_expires_ms)).collect();
                    described.push((
                        group_id,
                        format!("{:?}", description.state),
                        description.generation_id,
                        description.protocol_name,
                        description.leader,
                        sessions,
                    ));
                }
                // KIP-848 groups: the group epoch stands for the generation, the coordinator's
                // assignor for the protocol.
                for (group_id, state) in coordinator.list_consumer_groups() {
                    let Some(group) = coordinator.consumer_group(&group_id) else { continue };
                    let expiry = |last: u64| last.saturating_add(crate::group::consumer::SESSION_TIMEOUT_MS);
                    let sessions =
                        group.members.values().map(|m| (m.member_id.clone(), expiry(m.last_heartbeat_ms))).collect();
                    let protocol = format!("{} (KIP-848)", group.assignor());
                    described.push((
                        group_id,
                        state.name().to_owned(),
                        group.group_epoch,
                        protocol,
                        String::new(),
                        sessions,
                    ));
                }
                for (group_id, state, generation_id, protocol, leader, sessions) in described {
                    let expires =
                        |member_id: &str| sessions.iter().find(|(m, _)| m == member_id).map(|(_, expires)| *expires);
                    let live = self
                        .group_consumers
                        .values()
                        .filter(|member| member.group_id() == group_id && !member.member_id().is_empty())
                        .map(|member| MemberSnapshot {
                            client: member.id(),
                            member_id: member.member_id().to_owned(),
                            generation_id: member.generation_id(),
                            stable: member.is_stable(),
                            partitions: member.assignment().iter().map(ToString::to_string).collect(),
                            stopped: false,
                            session_expires_ms: expires(member.member_id()),
                        });
                    // A consumer that stopped without leaving stays a member, owning its
                    // partitions, until the coordinator expires its session.
                    let stopped = sessions.iter().filter_map(|(member_id, expires_ms)| {
                        let gone = self.stopped_members.get(member_id)?;
                        Some(MemberSnapshot {
                            client: gone.client,
                            member_id: member_id.clone(),
                            generation_id: gone.generation_id,
                            stable: false,
                            partitions: gone.partitions.clone(),
                            stopped: true,
                            session_expires_ms: Some(*expires_ms),
                        })
                    });
                    let mut members: Vec<MemberSnapshot> = live.chain(stopped).collect();
                    collections::sort_by_key(&mut members, |member| member.client);
                    let offsets = coordinator
                        .committed(&group_id)
                        .into_iter()
                        .map(|(tp, committed)| {
                            let high_watermark = self
                                .leader(&tp)
                                .and_then(|leader| self.broker(leader))
                                .and_then(|broker| broker.log(&tp))
                                .map(crate::log::PartitionLog::high_watermark);
                            OffsetSnapshot {
                                topic: tp.topic.to_string(),
                                partition: tp.partition,
                                committed,
                                high_watermark,
                                lag: high_watermark.map(|hw| (hw - committed).max(0)),
                            }
                        })
                        .collect();
                    groups.push(GroupSnapshot {
                        group_id,
                        coordinator: *id,
                        state,
                        generation_id,
                        protocol,
                        leader,
                        members,
                        offsets,
                    });
                }
            }
        }
        groups
    }
}

/// A group as its coordinator describes it: (group, state, generation, protocol, leader, each
/// member's session expiry).
type Described = (String, String, i32, String, String, Vec<(String, u64)>);

/// The newest records of a log, for snapshots.
pub(super) fn recent_records<S: Storage>(log: &crate::log::PartitionLog<S>, limit: usize) -> Vec<RecordSnapshot> {
    let limit = i64::try_from(limit.min(SNAPSHOT_RECORDS_MAX)).expect("small");
    if limit == 0 {
        return Vec::new();
    }
    let start = log.log_start_offset().max(log.log_end_offset() - limit);
    let text = |bytes: Option<bytes::Bytes>| bytes.map(|b| String::from_utf8_lossy(&b).into_owned());
    let mut records = Vec::new();
    for batch in log.batches_from(start, ReadLimit::LogEnd) {
        for record in batch.records().flatten().filter(|record| record.offset >= start) {
            records.push(RecordSnapshot {
                offset: record.offset,
                leader_epoch: batch.partition_leader_epoch(),
                key: text(record.record.key),
                value: text(record.record.value),
            });
        }
    }
    records
}
