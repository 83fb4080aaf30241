//! What runs against the cluster: producer workloads, one-off produces, consumers and group
//! members, and actions (faults, topic deletion) from a host such as the dashboard.

use super::*;

impl Sim {
    /// Applies a fault or action now after checking it makes sense; on error nothing changes.
    pub fn act(&mut self, fault: Fault) -> Result<()> {
        let status = |sim: &Sim, id: BrokerId| {
            sim.brokers.get(&id).map(|slot| slot.status).ok_or_else(|| {
                Error::new(
                    ErrorCode::BrokerIdNotRegistered,
                    format!("there is no broker {id} (brokers are 1..={})", sim.config.brokers),
                )
            })
        };
        for id in fault.brokers() {
            status(self, id)?;
        }
        let wrong_state = |what: String| Err(Error::new(ErrorCode::InvalidRequest, what));
        match &fault {
            Fault::Crash(id) | Fault::Kill(id) if status(self, *id)? == BrokerStatus::Down => {
                return wrong_state(format!("broker {id} is already down"))
            }
            Fault::Restart(id) if status(self, *id)? != BrokerStatus::Down => {
                return wrong_state(format!("broker {id} is not down"))
            }
            Fault::Pause(id) if status(self, *id)? != BrokerStatus::Up => {
                return wrong_state(format!("broker {id} is not running"))
            }
            Fault::Resume(id) if status(self, *id)? != BrokerStatus::Paused => {
                return wrong_state(format!("broker {id} is not paused"))
            }
            Fault::CutLink { from, to } | Fault::HealLink { from, to } if from == to => {
                return wrong_state(format!("a link joins two different brokers, got {from} and {to}"))
            }
            Fault::SetDropRate(ppm) if *ppm > 1_000_000 => {
                return wrong_state(format!("the drop rate is per million, got {ppm}"))
            }
            Fault::SlowDisk { broker, ms } => {
                status(self, *broker)?;
                if *ms > SLOW_DISK_MS_MAX {
                    return wrong_state(format!("a slow disk waits at most {SLOW_DISK_MS_MAX} ms per write, got {ms}"));
                }
            }
            Fault::Reassign { topic, partition, replicas } => {
                self.check_reassignment(topic, *partition, replicas.as_deref())?
            }
            _ => {}
        }
        self.apply(fault);
        Ok(())
    }

    /// What the controller would refuse of a reassignment, said before it is scheduled.
    fn check_reassignment(&self, topic: &str, partition: i32, replicas: Option<&[BrokerId]>) -> Result<()> {
        let invalid = |code: ErrorCode, what: String| Err(Error::new(code, what));
        let Some(state) = self.metadata().partition(&TopicPartition::new(topic, partition)) else {
            return invalid(ErrorCode::UnknownTopicOrPartition, format!("no partition {topic}-{partition}"));
        };
        match replicas {
            None if !state.reassigning() => invalid(
                ErrorCode::NoReassignmentInProgress,
                format!("{topic}-{partition} has no reassignment to cancel"),
            ),
            None => Ok(()),
            Some([]) => invalid(ErrorCode::InvalidReplicaAssignment, "a reassignment needs replicas".to_owned()),
            Some(replicas) => {
                for (index, broker) in replicas.iter().enumerate() {
                    if replicas[..index].contains(broker) {
                        return invalid(ErrorCode::InvalidReplicaAssignment, format!("broker {broker} is named twice"));
                    }
                    if !self.brokers.get(broker).is_some_and(|slot| slot.runs_broker) {
                        return invalid(ErrorCode::InvalidReplicaAssignment, format!("there is no broker {broker}"));
                    }
                }
                Ok(())
            }
        }
    }

    /// Sends a record through the interactive producer for its acks setting; returns the
    /// producer's client number and the send id. The outcome appears in the trace.
    pub fn produce(&mut self, spec: &ProduceSpec) -> Result<(u32, u64)> {
        let acks = spec.acks.clone().map_or(Ok(Acks::All), |acks| acks.to_acks())?;
        let Some(topic) = self.metadata().topics.get(spec.topic.as_str()) else {
            return Err(Error::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("topic {:?} does not exist", spec.topic),
            ));
        };
        let partitions = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
        if let Some(partition) = spec.partition {
            if !(0..partitions).contains(&partition) {
                return Err(Error::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("topic {} has partitions 0..{partitions}, not {partition}", spec.topic),
                ));
            }
        }
        let client = 3_000 + u32::try_from(acks.wire() + 1).expect("acks is -1, 0 or 1");
        if !self.producers.contains_key(&client) {
            let config = ProducerConfig { acks, ..ProducerConfig::default() };
            let bootstrap: Vec<BrokerId> = (1..=self.config.brokers).collect();
            let producer = Producer::new(client, config.clone(), bootstrap, self.rng.fork());
            let spec = ProducerSpec {
                topic: spec.topic.clone(),
                config,
                interval_ms: 0,
                records: 0,
                start_ms: 0,
                keyed: false,
            };
            self.producers.insert(client, ProducerSlot::new(producer, spec));
        }
        let now_ms = self.now_ms;
        let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let record =
            Record::new(spec.key.as_deref().map(str::as_bytes), spec.value.as_deref().map(str::as_bytes), timestamp_ms);
        self.checker.on_send(record.key.as_deref(), record.value.as_deref());
        let slot = self.producers.get_mut(&client).expect("inserted above");
        let send_id = slot
            .producer
            .send(now_ms, &spec.topic, spec.partition, record)
            .ok_or_else(|| Error::new(ErrorCode::ThrottlingQuotaExceeded, "the producer's queue is full"))?;
        slot.producer.handle_timeout(now_ms);
        if let Some(history) = &mut self.history {
            history.on_send(now_ms, client, send_id, &spec.topic, spec.value.as_deref().map(str::as_bytes));
        }
        self.drain(NodeId::Client(client));
        Ok((client, send_id))
    }

    pub(super) fn add_workload(&mut self, spec: ProducerSpec) -> u32 {
        let client = 1_000 + self.next_workload_client;
        self.next_workload_client += 1;
        let bootstrap: Vec<BrokerId> = (1..=self.config.brokers).collect();
        let producer = Producer::new(client, spec.config.clone(), bootstrap, self.rng.fork());
        let start_ms = spec.start_ms.max(self.now_ms);
        self.producers.insert(client, ProducerSlot::new(producer, spec));
        self.schedule(start_ms, Item::ProducerTick(client));
        self.wake(NodeId::Client(client), self.now_ms);
        client
    }

    /// Starts a steady producer workload now (its `startMs` counts from now); returns its
    /// client number.
    pub fn start_workload(&mut self, workload: &WorkloadSpec) -> Result<u32> {
        if !self.metadata().topics.contains_key(workload.topic.as_str()) {
            return Err(Error::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("topic {:?} does not exist", workload.topic),
            ));
        }
        if self.next_workload_client >= WORKLOADS_MAX {
            return Err(Error::new(
                ErrorCode::ThrottlingQuotaExceeded,
                format!("at most {WORKLOADS_MAX} producer workloads per run"),
            ));
        }
        let mut spec = workload.to_producer_spec()?;
        spec.start_ms = self.now_ms + workload.start_ms;
        Ok(self.add_workload(spec))
    }

    /// Stops a producer workload: it sends nothing more (what is in flight completes).
    pub fn stop_workload(&mut self, client: u32) -> Result<()> {
        match self.producers.get_mut(&client) {
            Some(slot) if (1_000..2_000).contains(&client) => {
                slot.spec.records = slot.sent;
                Ok(())
            }
            _ => Err(Error::new(ErrorCode::InvalidRequest, format!("there is no producer workload {client}"))),
        }
    }

    /// Producer workloads: client number, topic, records sent and still to send.
    #[must_use]
    pub fn workloads(&self) -> Vec<(u32, String, u64, u64)> {
        self.producers
            .iter()
            .filter(|(client, _)| (1_000..2_000).contains(*client))
            .map(|(client, slot)| (*client, slot.spec.topic.clone(), slot.sent, slot.spec.records - slot.sent))
            .collect()
    }

    /// Deletes a topic (Kafka `DeleteTopics`): the controller drops it from the metadata and
    /// brokers delete its partitions. Its acknowledged writes leave the checks (deleted on
    /// purpose, not lost).
    pub fn delete_topic(&mut self, name: &str) -> Result<()> {
        self.with_controller(|controller, now_ms| controller.delete_topic(now_ms, name))?;
        self.checker.forget_topic(name);
        Ok(())
    }

    /// Adds a consumer reading every partition of `topics` from the start; returns its client
    /// number.
    pub fn add_consumer(&mut self, topics: &[String]) -> Result<u32> {
        if topics.is_empty() {
            return Err(Error::new(ErrorCode::InvalidRequest, "a consumer needs at least one topic"));
        }
        for topic in topics {
            if !self.metadata().topics.contains_key(topic.as_str()) {
                return Err(Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic {topic:?} does not exist")));
            }
        }
        let client = 2_000 + u32::try_from(self.consumers.len()).unwrap_or(u32::MAX - 2_000);
        let bootstrap: Vec<BrokerId> = (1..=self.config.brokers).collect();
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        self.consumers.insert(client, Consumer::new(client, &names, bootstrap));
        self.wake(NodeId::Client(client), self.now_ms);
        Ok(client)
    }

    /// Adds a consumer-group member; creates `__consumer_offsets` first if needed (like
    /// Kafka's first FindCoordinator). Returns its client number.
    pub fn add_group_consumer(&mut self, config: GroupConsumerConfig) -> Result<u32> {
        if config.group_id.is_empty() {
            return Err(Error::new(ErrorCode::InvalidGroupId, "group.id must not be empty"));
        }
        for topic in &config.topics {
            if !self.metadata().topics.contains_key(topic.as_str()) {
                return Err(Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic {topic:?} does not exist")));
            }
        }
        if !self.metadata().topics.contains_key(OFFSETS_TOPIC) {
            let partitions = self.config.broker_config.offsets_topic_num_partitions;
            let replication_factor = self
                .config
                .broker_config
                .offsets_topic_replication_factor
                .min(i16::try_from(self.config.brokers).unwrap_or(i16::MAX));
            let topic =
                NewTopic::new(OFFSETS_TOPIC, partitions, replication_factor).config("cleanup.policy", "compact");
            self.with_controller(|controller, now_ms| controller.create_topic(now_ms, &topic))?;
            self.checker.set_compacted(OFFSETS_TOPIC);
        }
        // Numbered by how many were ever added, so a removed member's number is never reused.
        let client = 4_000 + self.next_group_client;
        self.next_group_client += 1;
        let bootstrap: Vec<BrokerId> = (1..=self.config.brokers).collect();
        self.group_consumers.insert(client, GroupConsumer::new(client, config, bootstrap));
        self.wake(NodeId::Client(client), self.now_ms);
        Ok(client)
    }

    /// Removes a group member: `graceful` sends LeaveGroup (after a commit); otherwise it just
    /// stops, and the coordinator notices after `session.timeout.ms`.
    pub fn remove_group_consumer(&mut self, client: u32, graceful: bool) -> Result<()> {
        let Some(member) = self.group_consumers.get_mut(&client) else {
            return Err(Error::new(ErrorCode::UnknownMemberId, format!("there is no group consumer {client}")));
        };
        if graceful {
            member.leave(self.now_ms);
            self.drain(NodeId::Client(client));
        } else if !member.member_id().is_empty() {
            let stopped = StoppedMember {
                client,
                generation_id: member.generation_id(),
                partitions: member.assignment().iter().map(ToString::to_string).collect(),
            };
            self.stopped_members.insert(member.member_id().to_owned(), stopped);
        }
        self.group_consumers.remove(&client);
        self.timers.remove(&NodeId::Client(client));
        Ok(())
    }

    /// A group member.
    #[must_use]
    pub fn group_consumer(&self, client: u32) -> Option<&GroupConsumer> {
        self.group_consumers.get(&client)
    }

    pub(super) fn producer_tick(&mut self, client: u32) {
        if !self.producing {
            return;
        }
        let now_ms = self.now_ms;
        let Some(slot) = self.producers.get_mut(&client) else {
            return;
        };
        if slot.sent >= slot.spec.records {
            return;
        }
        let sequence = slot.sent;
        slot.sent += 1;
        let key = slot.spec.keyed.then(|| format!("k{}", sequence % 16));
        let value = format!("p{client}-{sequence}");
        let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
        let record = Record::new(key.as_deref().map(str::as_bytes), Some(value.as_bytes()), timestamp_ms);
        self.checker.on_send(record.key.as_deref(), record.value.as_deref());
        let topic = slot.spec.topic.clone();
        let send_id = slot.producer.send(now_ms, &topic, None, record);
        slot.producer.handle_timeout(now_ms);
        if let (Some(history), Some(send_id)) = (&mut self.history, send_id) {
            history.on_send(now_ms, client, send_id, &topic, Some(value.as_bytes()));
        }
        let next_ms = now_ms + slot.spec.interval_ms.max(1);
        let more = slot.sent < slot.spec.records;
        self.drain(NodeId::Client(client));
        if more {
            self.schedule(next_ms, Item::ProducerTick(client));
        }
    }

    /// Acks setting of each producer, by client number.
    #[must_use]
    pub fn producer_acks(&self) -> VecMap<u32, Acks> {
        self.producers.iter().map(|(id, slot)| (*id, slot.spec.config.acks)).collect()
    }
}
