//! The controller: broker liveness, fencing, leader election and ISR changes.
//!
//! It is the state machine of Kafka's KRaft controller: [`quorum::QuorumController`] runs it
//! on whichever controller leads the metadata quorum, replicating each change as a
//! [`ControllerRecord`] and holding what it says until that record is committed. Its state is
//! the [`MetadataImage`]; every change bumps `metadata_epoch` and is pushed to all brokers, and
//! heartbeat responses repair brokers that missed a push.
//!
//! Election rules (Kafka's `PartitionChangeBuilder`): keep a valid leader; otherwise the first
//! replica in assignment order that is in the ISR and unfenced; if none and the topic has
//! `unclean.leader.election.enable`, the first unfenced replica (ISR becomes just it);
//! otherwise the partition is offline and its ISR keeps its last member.

mod configs;
mod elections;
pub mod quorum;
mod reassignment;

use crate::collections::{self, VecMap};
use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::config::BrokerConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::event::{Event, FenceReason};
use crate::placement::{BrokerId, BrokerInfo};
use crate::protocol::{
    AlterPartition, AlterPartitionResponse, BrokerHeartbeat, BrokerHeartbeatResponse, BrokerMetadata, ChangeTopic,
    ChangeTopicResponse, Message, MetadataImage, MetadataUpdate, NodeId, Outgoing, PartitionState, RegisterBroker,
    RegisterBrokerResponse, ReplyTo, TopicMetadata, TopicPartition,
};
use crate::rng::Rng;
use crate::topic::{NewTopic, Topics};

/// The controller's replicated state, one record per change in the metadata log: the image,
/// the brokers' epochs (so a new active controller knows every registration and fences no one
/// for the failover) and the next broker epoch. (Kafka writes deltas — `PartitionChangeRecord`,
/// `RegisterBrokerRecord` — and snapshots; Rill writes the state after each change, which makes
/// every record its own snapshot.)
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ControllerRecord {
    /// The metadata image.
    pub image: Arc<MetadataImage>,
    /// Each registered broker's epoch.
    pub broker_epochs: VecMap<BrokerId, i64>,
    /// The epoch the next registration gets.
    pub next_broker_epoch: i64,
}

impl Hash for ControllerRecord {
    /// What identifies a record: its versions, the brokers and every partition's state.
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.image.metadata_epoch.hash(state);
        self.next_broker_epoch.hash(state);
        for (id, epoch) in &self.broker_epochs {
            (id, epoch).hash(state);
        }
        for (id, broker) in &self.image.brokers {
            (id, broker.fenced).hash(state);
        }
        for (name, topic) in &self.image.topics {
            name.hash(state);
            topic.topic_id.hash(state);
            for p in &topic.partitions {
                (&p.replicas, &p.isr, p.leader, p.leader_epoch, p.partition_epoch).hash(state);
                if p.reassigning() {
                    (&p.adding_replicas, &p.removing_replicas).hash(state);
                }
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Registration {
    broker_epoch: i64,
    last_heartbeat_ms: u64,
}

/// The cluster controller state machine.
#[derive(Debug)]
pub struct Controller {
    config: BrokerConfig,
    registrations: VecMap<BrokerId, Registration>,
    topics: Topics,
    image: MetadataImage,
    next_broker_epoch: i64,
    outbox: VecDeque<Outgoing>,
    events: VecDeque<Event>,
    rng: Rng,
    next_balance_ms: Option<u64>,
}

impl Controller {
    /// A controller with cluster-wide defaults from `config`.
    #[must_use]
    pub fn new(config: BrokerConfig, rng: Rng) -> Controller {
        Controller {
            config,
            registrations: VecMap::new(),
            topics: Topics::new(),
            image: MetadataImage::default(),
            next_broker_epoch: 1,
            outbox: VecDeque::new(),
            events: VecDeque::new(),
            rng,
            next_balance_ms: None,
        }
    }

    /// The current metadata.
    #[must_use]
    pub fn image(&self) -> &MetadataImage {
        &self.image
    }

    /// The state to replicate.
    #[must_use]
    pub fn record(&self) -> ControllerRecord {
        ControllerRecord {
            image: Arc::new(self.image.clone()),
            broker_epochs: self.registrations.iter().map(|(id, r)| (*id, r.broker_epoch)).collect(),
            next_broker_epoch: self.next_broker_epoch,
        }
    }

    /// Changes whenever the replicated state does: every change bumps the metadata epoch, and
    /// every registration the next broker epoch.
    #[must_use]
    pub fn version(&self) -> (i64, i64) {
        (self.image.metadata_epoch, self.next_broker_epoch)
    }

    /// A controller taking over `record` at `now_ms` (a newly active KRaft controller): every
    /// registered broker keeps its epoch and gets a fresh session, so a failover fences nobody.
    #[must_use]
    pub fn from_record(config: BrokerConfig, rng: Rng, record: &ControllerRecord, now_ms: u64) -> Controller {
        let mut controller = Controller::new(config, rng);
        for (name, topic) in &record.image.topics {
            controller.topics.restore(crate::topic::Topic {
                name: name.to_string(),
                topic_id: topic.topic_id,
                assignment: topic.partitions.iter().map(PartitionState::target_replicas).collect(),
                config: topic.config.clone(),
            });
        }
        for (id, broker_epoch) in &record.broker_epochs {
            controller
                .registrations
                .insert(*id, Registration { broker_epoch: *broker_epoch, last_heartbeat_ms: now_ms });
        }
        controller.next_broker_epoch = record.next_broker_epoch;
        controller.image = (*record.image).clone();
        controller
    }

    /// Names the cluster when its image has no id yet (a new cluster, or one from before Rill
    /// named clusters): a new image, so the name is replicated like any other change. Kafka
    /// names a cluster when `kafka-storage format` runs; Rill's first active controller does.
    pub fn name_cluster(&mut self, now_ms: u64, cluster_id: &str) {
        if self.image.cluster_id.is_none() {
            self.image.cluster_id = Some(Arc::from(cluster_id));
            self.publish(now_ms);
        }
    }

    /// Sends the current image to every registered broker (no change: a new active controller
    /// introducing itself).
    pub fn announce(&mut self) {
        let image = Arc::new(self.image.clone());
        let brokers: Vec<BrokerId> = self.registrations.keys().copied().collect();
        for broker in brokers {
            self.send(NodeId::Broker(broker), Message::MetadataUpdate(MetadataUpdate { image: image.clone() }));
        }
    }

    /// Next message to send.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<Outgoing> {
        self.outbox.pop_front()
    }

    /// Next observable event.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the controller fences an unfenced broker that sends no heartbeat before then
    /// (`broker.session.timeout.ms` after its last one); `None` when fenced or unknown.
    #[must_use]
    pub fn session_deadline_ms(&self, broker: BrokerId) -> Option<u64> {
        let session_ms = u64::try_from(self.config.broker_session_timeout_ms).unwrap_or(u64::MAX);
        let unfenced = self.image.brokers.get(&broker).is_some_and(|b| !b.fenced);
        let registration = self.registrations.get(&broker).filter(|_| unfenced)?;
        Some(registration.last_heartbeat_ms.saturating_add(session_ms))
    }

    /// When to call [`Controller::handle_timeout`] next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        let session_ms = u64::try_from(self.config.broker_session_timeout_ms).unwrap_or(u64::MAX);
        let fence_at = self
            .image
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .filter_map(|(id, _)| self.registrations.get(id))
            .map(|registration| registration.last_heartbeat_ms.saturating_add(session_ms) + 1)
            .min();
        match (fence_at, self.next_balance_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The brokers new replicas may go to: the unfenced ones.
    fn placeable_brokers(&self) -> Vec<BrokerInfo> {
        self.image
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .map(|(id, broker)| BrokerInfo { id: *id, rack: broker.rack.clone() })
            .collect()
    }

    /// Creates a topic (an admin request) on the unfenced brokers.
    pub fn create_topic(&mut self, now_ms: u64, request: &NewTopic) -> Result<()> {
        let brokers = self.placeable_brokers();
        let topic = self.topics.create(request, &self.config, &brokers, &mut self.rng)?.clone();
        let partitions =
            topic.assignment.iter().map(|replicas| PartitionState::new(replicas.clone())).collect::<Vec<_>>();
        let name: Arc<str> = Arc::from(topic.name.as_str());
        for (index, state) in partitions.iter().enumerate() {
            let partition = i32::try_from(index).expect("bounded partition count");
            self.events.push_back(Event::LeaderChanged {
                tp: TopicPartition { topic: name.clone(), partition },
                leader: state.leader,
                leader_epoch: 0,
                isr: state.isr.clone(),
                unclean: false,
            });
        }
        self.image.topics.insert(name, TopicMetadata { topic_id: topic.topic_id, config: topic.config, partitions });
        self.publish(now_ms);
        Ok(())
    }

    /// Raises a topic's partition count (Kafka `CreatePartitions`); the new partitions are placed
    /// on the unfenced brokers and led by their first replica.
    pub fn create_partitions(&mut self, now_ms: u64, name: &str, count: i32) -> Result<()> {
        let brokers = self.placeable_brokers();
        let added = self.topics.add_partitions(name, count, &self.config, &brokers, &mut self.rng)?;
        let topic = self.image.topics.get_mut(name).expect("the image has every topic of Topics");
        for replicas in added {
            let partition = i32::try_from(topic.partitions.len()).expect("bounded partition count");
            let state = PartitionState::new(replicas);
            self.events.push_back(Event::LeaderChanged {
                tp: TopicPartition { topic: Arc::from(name), partition },
                leader: state.leader,
                leader_epoch: 0,
                isr: state.isr.clone(),
                unclean: false,
            });
            topic.partitions.push(state);
        }
        self.publish(now_ms);
        Ok(())
    }

    /// Creates, grows or deletes a topic ([`ChangeTopic`]).
    pub fn change_topic(&mut self, now_ms: u64, change: &ChangeTopic) -> Result<()> {
        match change {
            ChangeTopic::Create(topic) => self.create_topic(now_ms, topic),
            ChangeTopic::AddPartitions { topic, count } => self.create_partitions(now_ms, topic, *count),
            ChangeTopic::Delete { topic } => self.delete_topic(now_ms, topic),
        }
    }

    /// The answer to a topic change a broker forwarded.
    fn forwarded_topic_change(&mut self, now_ms: u64, change: &ChangeTopic) -> ChangeTopicResponse {
        match self.change_topic(now_ms, change) {
            Ok(()) => ChangeTopicResponse {
                error: ErrorCode::None,
                message: None,
                created: match change {
                    ChangeTopic::Create(topic) => self.image.topics.get(topic.name.as_str()).map(|created| {
                        let mut image = MetadataImage::default();
                        image.topics.insert(Arc::from(topic.name.as_str()), created.clone());
                        image
                    }),
                    _ => None,
                },
            },
            Err(error) => ChangeTopicResponse { error: error.code, message: Some(error.message), created: None },
        }
    }

    /// Deletes a topic (Kafka `DeleteTopics`, honouring `delete.topic.enable`): it leaves the
    /// metadata, and brokers drop its partitions and delete their data when they learn it.
    /// Internal topics (`__consumer_offsets`) cannot be deleted: their loss would lose every
    /// group's committed offsets.
    pub fn delete_topic(&mut self, now_ms: u64, name: &str) -> Result<()> {
        if name.starts_with("__") {
            return Err(Error::new(
                ErrorCode::InvalidTopicException,
                format!("topic '{name}' is internal and cannot be deleted"),
            ));
        }
        self.topics.delete(name, &self.config)?;
        self.image.topics.remove(name);
        self.publish(now_ms);
        Ok(())
    }

    /// Handles a message from a broker; answers carry its `correlation_id`.
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, message: Message) {
        let NodeId::Broker(sender) = from else {
            return;
        };
        let asker = ReplyTo { node: from, correlation_id };
        let answer = match message {
            Message::RegisterBroker(RegisterBroker { broker_id, rack }) if broker_id == sender => {
                let broker_epoch = self.register(now_ms, broker_id, rack);
                Message::RegisterBrokerResponse(RegisterBrokerResponse { broker_epoch })
            }
            Message::BrokerHeartbeat(heartbeat) if heartbeat.broker_id == sender => {
                Message::BrokerHeartbeatResponse(self.heartbeat(now_ms, heartbeat))
            }
            Message::AlterPartition(request) if request.broker_id == sender => {
                let tp = request.tp.clone();
                let (error, state) = self.alter_partition(now_ms, request);
                Message::AlterPartitionResponse(AlterPartitionResponse { tp, error, state })
            }
            Message::AlterTopicConfig(request) => {
                let (error, message) = match self.alter_topic_config(now_ms, &request) {
                    Ok(()) => (ErrorCode::None, None),
                    Err(error) => (error.code, Some(error.message)),
                };
                Message::AlterTopicConfigResponse(crate::protocol::AlterTopicConfigResponse { error, message })
            }
            Message::ElectLeaders(request) => Message::ElectLeadersResponse(self.elect_leaders(now_ms, &request)),
            Message::AlterReassignments(request) => {
                Message::AlterReassignmentsResponse(self.alter_reassignments(now_ms, &request))
            }
            Message::ChangeTopic(change) => Message::ChangeTopicResponse(self.forwarded_topic_change(now_ms, &change)),
            _ => return,
        };
        self.outbox.push_back(asker.answer(answer));
    }

    /// Fences brokers whose session expired; runs the preferred-leader check when due.
    pub fn handle_timeout(&mut self, now_ms: u64) {
        let session_ms = u64::try_from(self.config.broker_session_timeout_ms).unwrap_or(u64::MAX);
        let expired: Vec<BrokerId> = self
            .image
            .brokers
            .iter()
            .filter(|(_, broker)| !broker.fenced)
            .filter(|(id, _)| {
                self.registrations
                    .get(id)
                    .is_some_and(|registration| now_ms > registration.last_heartbeat_ms.saturating_add(session_ms))
            })
            .map(|(id, _)| *id)
            .collect();
        for broker in expired {
            self.fence(now_ms, broker, FenceReason::SessionTimeout);
        }
        if self.next_balance_ms.is_some_and(|due| now_ms >= due) {
            self.balance_leaders(now_ms);
        }
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outbox.push_back(Outgoing { to, correlation_id: 0, message });
    }

    /// Bumps the metadata epoch and pushes the image to every registered broker.
    fn publish(&mut self, now_ms: u64) {
        self.image.metadata_epoch += 1;
        if self.config.auto_leader_rebalance_enable && self.next_balance_ms.is_none() && !self.image.topics.is_empty() {
            let interval_ms = u64::try_from(self.config.leader_imbalance_check_interval_seconds).unwrap_or(300) * 1_000;
            self.next_balance_ms = Some(now_ms + interval_ms);
        }
        let image = Arc::new(self.image.clone());
        let brokers: Vec<BrokerId> = self.registrations.keys().copied().collect();
        for broker in brokers {
            self.send(NodeId::Broker(broker), Message::MetadataUpdate(MetadataUpdate { image: image.clone() }));
        }
    }

    /// Registers (or re-registers) a broker; returns its new broker epoch.
    fn register(&mut self, now_ms: u64, broker: BrokerId, rack: Option<String>) -> i64 {
        let broker_epoch = self.next_broker_epoch;
        self.next_broker_epoch += 1;
        let known = self.registrations.contains_key(&broker);
        self.registrations.insert(broker, Registration { broker_epoch, last_heartbeat_ms: now_ms });
        self.events.push_back(Event::BrokerRegistered { broker, broker_epoch });
        if known {
            // A new incarnation lost whatever it had not flushed: it must leave every ISR and
            // catch up again before it may lead.
            self.fence(now_ms, broker, FenceReason::Reregistered);
        } else if self.image.topics.is_empty() {
            // Bootstrap: brokers start unfenced before any topic exists.
            self.image.brokers.insert(broker, BrokerMetadata { rack, fenced: false });
            self.publish(now_ms);
        } else {
            self.image.brokers.insert(broker, BrokerMetadata { rack, fenced: true });
            self.publish(now_ms);
        }
        broker_epoch
    }

    fn heartbeat(&mut self, now_ms: u64, heartbeat: BrokerHeartbeat) -> BrokerHeartbeatResponse {
        let BrokerHeartbeat { broker_id: broker, broker_epoch, metadata_epoch } = heartbeat;
        let Some(registration) = self.registrations.get_mut(&broker) else {
            return BrokerHeartbeatResponse { error: ErrorCode::BrokerIdNotRegistered, metadata: None };
        };
        if registration.broker_epoch != broker_epoch {
            return BrokerHeartbeatResponse { error: ErrorCode::StaleBrokerEpoch, metadata: None };
        }
        registration.last_heartbeat_ms = now_ms;
        let fenced = self.image.brokers.get(&broker).is_some_and(|b| b.fenced);
        if fenced && metadata_epoch >= self.image.metadata_epoch {
            self.unfence(now_ms, broker);
        }
        let metadata = (metadata_epoch < self.image.metadata_epoch).then(|| Arc::new(self.image.clone()));
        BrokerHeartbeatResponse { error: ErrorCode::None, metadata }
    }

    fn is_unfenced(&self, broker: BrokerId) -> bool {
        self.image.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }

    fn fence(&mut self, now_ms: u64, broker: BrokerId, reason: FenceReason) {
        if let Some(metadata) = self.image.brokers.get_mut(&broker) {
            metadata.fenced = true;
        }
        self.events.push_back(Event::BrokerFenced { broker, reason });
        let partitions: Vec<TopicPartition> = self.image.partitions().map(|(tp, _)| tp).collect();
        for tp in partitions {
            self.change_partition(&tp, |state| {
                if state.isr.len() > 1 {
                    state.isr.retain(|member| *member != broker);
                }
                if state.leader == Some(broker) {
                    state.leader = None;
                }
            });
        }
        self.publish(now_ms);
    }

    fn unfence(&mut self, now_ms: u64, broker: BrokerId) {
        if let Some(metadata) = self.image.brokers.get_mut(&broker) {
            metadata.fenced = false;
        }
        self.events.push_back(Event::BrokerUnfenced { broker });
        let partitions: Vec<TopicPartition> = self.image.partitions().map(|(tp, _)| tp).collect();
        for tp in partitions {
            self.change_partition(&tp, |_| {});
        }
        self.publish(now_ms);
    }

    /// Applies `change` to a partition, then elects a leader if it has none (or an ineligible
    /// one), bumping epochs and recording events for whatever changed.
    fn change_partition(&mut self, tp: &TopicPartition, change: impl FnOnce(&mut PartitionState)) {
        let unclean_allowed =
            self.image.topics.get(&tp.topic).is_some_and(|topic| topic.config.unclean_leader_election_enable);
        let unfenced: Vec<BrokerId> = self.image.brokers.iter().filter(|(_, b)| !b.fenced).map(|(id, _)| *id).collect();
        let Some(state) = self
            .image
            .topics
            .get_mut(&tp.topic)
            .and_then(|topic| topic.partitions.get_mut(usize::try_from(tp.partition).ok()?))
        else {
            return;
        };
        let before = state.clone();
        change(state);
        reassignment::maybe_complete(state);
        let leader_valid = state.leader.is_some_and(|leader| {
            unfenced.contains(&leader) && state.isr.contains(&leader) && state.replicas.contains(&leader)
        });
        let mut unclean = false;
        if !leader_valid {
            let clean = state.replicas.iter().copied().find(|r| state.isr.contains(r) && unfenced.contains(r));
            state.leader = clean.or_else(|| {
                let candidate = state.replicas.iter().copied().find(|r| unfenced.contains(r));
                if unclean_allowed && candidate.is_some() {
                    unclean = true;
                }
                candidate.filter(|_| unclean_allowed)
            });
            if unclean {
                state.isr = state.leader.into_iter().collect();
            }
        }
        if *state == before {
            return;
        }
        // A leader from outside the last ISR (an unclean `ElectLeaders`) is an unclean election.
        unclean |= state.leader != before.leader && state.leader.is_some_and(|leader| !before.isr.contains(&leader));
        // A replica removed (a reassignment completing or cancelled) must stop fetching: a new
        // leader epoch fences it (Kafka's `PartitionChangeBuilder`), even with the same leader.
        let replica_removed = before.replicas.iter().any(|r| !state.replicas.contains(r));
        if state.leader != before.leader || replica_removed {
            state.leader_epoch += 1;
        }
        state.partition_epoch += 1;
        debug_assert!(
            state.isr.iter().all(|r| state.replicas.contains(r)),
            "{tp}: ISR {:?} outside the replicas {:?}",
            state.isr,
            state.replicas
        );
        debug_assert!(
            state.adding_replicas.iter().chain(&state.removing_replicas).all(|r| state.replicas.contains(r)),
            "{tp}: a reassignment's replicas are among the partition's"
        );
        let state = state.clone();
        if state.replicas != before.replicas
            || state.adding_replicas != before.adding_replicas
            || state.removing_replicas != before.removing_replicas
        {
            self.events.push_back(Event::ReplicasChanged {
                tp: tp.clone(),
                old_replicas: before.replicas.clone(),
                new_replicas: state.replicas.clone(),
                adding: state.adding_replicas.clone(),
                removing: state.removing_replicas.clone(),
            });
        }
        if state.leader != before.leader {
            self.events.push_back(Event::LeaderChanged {
                tp: tp.clone(),
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                isr: state.isr.clone(),
                unclean,
            });
        } else if state.isr != before.isr {
            self.events.push_back(Event::IsrChanged {
                tp: tp.clone(),
                old_isr: before.isr,
                new_isr: state.isr,
                partition_epoch: state.partition_epoch,
            });
        }
    }

    fn alter_partition(&mut self, now_ms: u64, request: AlterPartition) -> (ErrorCode, Option<PartitionState>) {
        let AlterPartition { broker_id: broker, broker_epoch, tp, leader_epoch, partition_epoch, new_isr } = request;
        let tp = &tp;
        if self.registrations.get(&broker).is_none_or(|r| r.broker_epoch != broker_epoch) {
            return (ErrorCode::StaleBrokerEpoch, None);
        }
        let Some(state) = self.image.partition(tp).cloned() else {
            return (ErrorCode::UnknownTopicOrPartition, None);
        };
        if state.leader != Some(broker) || leader_epoch != state.leader_epoch {
            return (ErrorCode::FencedLeaderEpoch, Some(state));
        }
        if partition_epoch != state.partition_epoch {
            return (ErrorCode::InvalidUpdateVersion, Some(state));
        }
        let eligible = new_isr.contains(&broker)
            && new_isr.iter().all(|member| state.replicas.contains(member))
            && new_isr.iter().all(|member| state.isr.contains(member) || self.is_unfenced(*member));
        if !eligible {
            return (ErrorCode::IneligibleReplica, Some(state));
        }
        let mut isr = new_isr;
        collections::sort(&mut isr);
        isr.dedup();
        self.change_partition(tp, |state| state.isr = isr);
        self.publish(now_ms);
        (ErrorCode::None, self.image.partition(tp).cloned())
    }

    /// Kafka's `auto.leader.rebalance.enable`: move leadership back to preferred replicas on
    /// brokers whose share of non-preferred leaders exceeds
    /// `leader.imbalance.per.broker.percentage`.
    fn balance_leaders(&mut self, now_ms: u64) {
        let interval_ms = u64::try_from(self.config.leader_imbalance_check_interval_seconds).unwrap_or(300) * 1_000;
        self.next_balance_ms = Some(now_ms + interval_ms);
        let threshold = i64::from(self.config.leader_imbalance_per_broker_percentage);
        let mut preferred: VecMap<BrokerId, (i64, i64)> = VecMap::new();
        for (_, state) in self.image.partitions() {
            if let Some(&first) = state.replicas.first() {
                let entry = preferred.entry(first).or_default();
                entry.0 += 1;
                if state.leader != Some(first) {
                    entry.1 += 1;
                }
            }
        }
        let imbalanced: Vec<BrokerId> = preferred
            .iter()
            .filter(|(_, (total, off))| *total > 0 && off * 100 / total > threshold)
            .map(|(broker, _)| *broker)
            .collect();
        if imbalanced.is_empty() {
            return;
        }
        let moved = self.elect_preferred_leaders(&imbalanced);
        if moved > 0 {
            self.publish(now_ms);
        }
    }

    fn elect_preferred_leaders(&mut self, brokers: &[BrokerId]) -> usize {
        let candidates: Vec<TopicPartition> = self
            .image
            .partitions()
            .filter(|(_, state)| {
                state.replicas.first().is_some_and(|first| {
                    brokers.contains(first)
                        && state.leader != Some(*first)
                        && state.isr.contains(first)
                        && self.is_unfenced(*first)
                })
            })
            .map(|(tp, _)| tp)
            .collect();
        for tp in &candidates {
            self.change_partition(tp, |state| state.leader = state.replicas.first().copied());
        }
        candidates.len()
    }

    /// Preferred-leader election for every partition (Kafka's `kafka-leader-election
    /// --election-type PREFERRED`). Returns how many leaders moved.
    pub fn elect_preferred_leaders_now(&mut self, now_ms: u64) -> usize {
        let all: Vec<BrokerId> = self.image.brokers.keys().copied().collect();
        let moved = self.elect_preferred_leaders(&all);
        if moved > 0 {
            self.publish(now_ms);
        }
        moved
    }
}

/// A controller with brokers `1..=brokers` registered and leader balancing off (unit tests).
#[cfg(test)]
pub(crate) fn test_controller(brokers: i32) -> Controller {
    let mut config = BrokerConfig::for_node(1);
    config.auto_leader_rebalance_enable = false;
    let mut controller = Controller::new(config, Rng::from_seed(1));
    for broker in 1..=brokers {
        let register = Message::RegisterBroker(RegisterBroker { broker_id: broker, rack: None });
        controller.handle_message(0, NodeId::Broker(broker), 1, register);
    }
    controller
}
