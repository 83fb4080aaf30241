//! The deterministic cluster simulation.
//!
//! Brokers, the controller and clients run in one thread on a virtual clock. A single seeded
//! [`Rng`] makes every decision (latencies, drops, random faults, partitioners), so the same
//! [`SimConfig`] gives the same trace — and the same [`Sim::trace_hash`] — on every platform.
//!
//! The network has per-direction links between hosts (brokers and clients) that can be cut
//! and healed, a latency range, a drop rate, and FIFO order per connection (like TCP). Brokers
//! can crash (losing their unflushed tail, see [`crate::storage::MemStorage::crash`]), restart,
//! pause and resume. Controllers run beside the brokers named by [`SimConfig::controllers`]
//! (default: one, on [`SimConfig::controller_host`]) and replicate the metadata in a KRaft
//! quorum; a fault on a node hits its controller too. Without a majority of them nothing is
//! elected.
//!
//! Every step is checked by the [`checker::Checker`]; [`Sim::finish`] heals everything, lets the
//! cluster settle and runs the end-of-run (Jepsen-style) checks.

pub mod checker;
mod controllers;
pub mod history;
pub mod session;
pub mod spec;
pub mod sweep;
pub mod trace;

mod config;
mod network;
mod queue;
mod unacked;
mod views;
mod workloads;

pub use config::{Fault, NetworkConfig, ProducerSpec, ScheduledFault, SimConfig, SIM_EVENTS_MAX, SLOW_DISK_MS_MAX};
use queue::{EventQueue, Host, Item};

use crate::collections::{self, VecMap, VecSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::broker::{BrokerNode, MemStorageFactory};
use crate::client::{Consumer, ConsumerEvent, Producer, ProducerConfig};
use crate::config::BrokerConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::group::coordinator::OFFSETS_TOPIC;
use crate::group::member::{GroupConsumer, GroupConsumerConfig};
use crate::log::ReadLimit;
use crate::machine::{Machine, Observation};
use crate::placement::BrokerId;
use crate::protocol::{Acks, Message, NodeId, Outgoing, TopicPartition};
use crate::record::Record;
use crate::rng::Rng;
use crate::storage::{MemStorage, Storage};
use crate::topic::NewTopic;

use checker::{CheckReport, Checker};
use spec::{
    BrokerSnapshot, ClusterSpec, GroupSnapshot, MemberSnapshot, OffsetSnapshot, PartitionSnapshot, ProduceSpec,
    ProducerSnapshot, RecordSnapshot, ReplicaSnapshot, Snapshot, WorkloadSpec, SNAPSHOT_RECORDS_MAX,
};
use trace::{fingerprint, DropReason, StableHasher, TraceEvent, TraceKind};

/// Most producer workloads one run may start (a limit on everything).
pub const WORKLOADS_MAX: u32 = 999;

/// A message between two brokers, for drawing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InFlight {
    /// Sending broker.
    pub from: BrokerId,
    /// Receiving broker.
    pub to: BrokerId,
    /// Its API name (`Fetch`, `Produce`, ...).
    pub api: &'static str,
    /// When it was sent.
    pub sent_ms: u64,
    /// When it arrives.
    pub deliver_ms: u64,
}

/// Which message on the wire (for dropping one by hand, recorded in a run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageRef {
    /// Sending broker.
    pub from: BrokerId,
    /// Receiving broker.
    pub to: BrokerId,
    /// Its API name.
    pub api: String,
    /// When it was sent.
    pub sent_ms: u64,
    /// When it would arrive.
    pub deliver_ms: u64,
}

impl InFlight {
    /// A reference to this message.
    #[must_use]
    pub fn reference(&self) -> MessageRef {
        MessageRef {
            from: self.from,
            to: self.to,
            api: self.api.to_owned(),
            sent_ms: self.sent_ms,
            deliver_ms: self.deliver_ms,
        }
    }
}

/// A broker's life-cycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BrokerStatus {
    /// Running.
    Up,
    /// Frozen: receives nothing until resumed.
    Paused,
    /// Crashed.
    Down,
}

#[derive(Debug)]
struct BrokerSlot {
    /// `process.roles` includes `broker`; `false` for a controller-only node (its `node` is
    /// always `None`: the host runs only its controller).
    runs_broker: bool,
    node: Option<BrokerNode<MemStorageFactory>>,
    incarnation: u64,
    kept: VecMap<TopicPartition, MemStorage>,
    status: BrokerStatus,
    /// Messages that reached a paused broker: (from, to, correlation id, message).
    held: Vec<(NodeId, NodeId, u64, Message)>,
}

/// A group consumer that stopped without leaving, as it was then.
#[derive(Debug)]
struct StoppedMember {
    client: u32,
    generation_id: i32,
    partitions: Vec<String>,
}

#[derive(Debug)]
struct ProducerSlot {
    producer: Producer,
    spec: ProducerSpec,
    sent: u64,
    /// Outcomes so far: acknowledged, failed, acknowledged after a retry.
    outcomes: (u64, u64, u64),
    /// From `send()` to the acknowledgement, for the last record acknowledged.
    ack_latency_ms: Option<u64>,
}

impl ProducerSlot {
    /// A producer that has sent nothing yet.
    fn new(producer: Producer, spec: ProducerSpec) -> ProducerSlot {
        ProducerSlot { producer, spec, sent: 0, outcomes: (0, 0, 0), ack_latency_ms: None }
    }
}

/// Summary of a finished run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The seed.
    pub seed: u64,
    /// Events processed.
    pub events: u64,
    /// Virtual time at the end.
    pub time_ms: u64,
    /// Trace hash.
    pub trace_hash: u64,
    /// What the checkers found.
    pub report: CheckReport,
}

/// The simulation. See the module doc.
#[derive(Debug)]
pub struct Sim {
    config: SimConfig,
    now_ms: u64,
    rng: Rng,
    queue: EventQueue,
    brokers: VecMap<BrokerId, BrokerSlot>,
    controllers: VecMap<BrokerId, controllers::ControllerSlot>,
    quorum_checker: crate::raft::checker::QuorumChecker,
    empty_image: crate::protocol::MetadataImage,
    producers: VecMap<u32, ProducerSlot>,
    consumers: VecMap<u32, Consumer>,
    group_consumers: VecMap<u32, GroupConsumer>,
    cut: VecSet<(Host, Host)>,
    isolated: VecSet<BrokerId>,
    drop_per_million: u32,
    /// Brokers with a slow disk ([`Fault::SlowDisk`]): how long each log write waits.
    slow_disks: VecMap<BrokerId, u64>,
    last_delivery_ms: VecMap<(NodeId, NodeId), u64>,
    timers: VecMap<NodeId, u64>,
    trace: Vec<TraceEvent>,
    trace_hasher: StableHasher,
    trace_len: u64,
    events: u64,
    checker: Checker,
    reported_violations: usize,
    leader_fingerprints: VecMap<BrokerId, u64>,
    producing: bool,
    last_fault: Option<(u64, String)>,
    /// Group consumers stopped without leaving, by member id (the coordinator still has them
    /// until their sessions expire).
    stopped_members: VecMap<String, StoppedMember>,
    /// The error of the last produce a broker refused (read back after an acks=0 delivery).
    last_refusal: Option<ErrorCode>,
    next_workload_client: u32,
    next_group_client: u32,
    /// The client history for Jepsen's checkers, when asked for ([`Sim::record_history`]).
    history: Option<Box<history::History>>,
}

impl Sim {
    /// Builds the cluster, registers the brokers, creates the topics and schedules clients and
    /// faults. Bad configs are errors; nothing runs.
    pub fn new(config: SimConfig) -> Result<Sim> {
        config.validate()?;
        let rng = Rng::from_seed(config.seed);
        let mut sim = Sim {
            now_ms: 0,
            queue: EventQueue::default(),
            brokers: VecMap::new(),
            controllers: VecMap::new(),
            quorum_checker: crate::raft::checker::QuorumChecker::new(),
            empty_image: crate::protocol::MetadataImage::default(),
            producers: VecMap::new(),
            consumers: VecMap::new(),
            group_consumers: VecMap::new(),
            cut: VecSet::new(),
            isolated: VecSet::new(),
            drop_per_million: config.network.drop_per_million,
            slow_disks: VecMap::new(),
            last_delivery_ms: VecMap::new(),
            timers: VecMap::new(),
            trace: Vec::new(),
            trace_hasher: StableHasher::default(),
            trace_len: 0,
            events: 0,
            checker: Checker::new(),
            reported_violations: 0,
            leader_fingerprints: VecMap::new(),
            producing: true,
            last_fault: None,
            last_refusal: None,
            stopped_members: VecMap::new(),
            next_workload_client: 0,
            next_group_client: 0,
            history: None,
            rng,
            config,
        };
        for id in sim.config.voters() {
            sim.controllers.insert(id, controllers::ControllerSlot { node: None, disk: Default::default() });
            sim.start_controller(id);
        }
        // Controller-only nodes (process.roles=controller): a host with its controller and no
        // broker; it never registers, so nothing is placed on it.
        for id in sim.config.controller_only() {
            let slot = BrokerSlot {
                runs_broker: false,
                node: None,
                incarnation: 0,
                kept: VecMap::new(),
                status: BrokerStatus::Up,
                held: Vec::new(),
            };
            sim.brokers.insert(id, slot);
        }
        for id in 1..=sim.config.brokers {
            let mut node = BrokerNode::new(sim.broker_config(id), MemStorageFactory::default(), 0);
            node.set_controllers(sim.config.voters());
            sim.brokers.insert(
                id,
                BrokerSlot {
                    runs_broker: true,
                    node: Some(node),
                    incarnation: 0,
                    kept: VecMap::new(),
                    status: BrokerStatus::Up,
                    held: Vec::new(),
                },
            );
            sim.wake(NodeId::Broker(id), 0);
        }
        // Let the quorum elect a leader and every broker register, unfenced, before topics are
        // created (bounded: a minute of virtual time). A broker whose registration answer was
        // lost registers again and stays fenced until its next heartbeat.
        let brokers = usize::try_from(sim.config.brokers).unwrap_or(0);
        let ready = |sim: &Sim| {
            sim.controller().is_some_and(|controller| {
                controller.image().brokers.values().filter(|broker| !broker.fenced).count() >= brokers
            })
        };
        while !ready(&sim) && sim.now_ms < 60_000 {
            if !sim.step() {
                break;
            }
        }
        for topic in sim.config.topics.clone() {
            sim.with_controller(|controller, now_ms| controller.create_topic(now_ms, &topic))?;
            let compacted =
                sim.metadata().topics.get(topic.name.as_str()).is_some_and(|t| t.config.cleanup_policy.compact);
            if compacted {
                sim.checker.set_compacted(&topic.name);
            }
        }
        let bootstrap: Vec<BrokerId> = (1..=sim.config.brokers).collect();
        for spec in sim.config.producers.clone() {
            sim.add_workload(spec);
        }
        for (index, topics) in sim.config.consumers.clone().into_iter().enumerate() {
            let client = 2_000 + u32::try_from(index).expect("few consumers");
            let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
            sim.consumers.insert(client, Consumer::new(client, &topics, bootstrap.clone()));
            sim.wake(NodeId::Client(client), sim.now_ms);
        }
        for member in sim.config.group_consumers.clone() {
            sim.add_group_consumer(member)?;
        }
        for fault in sim.config.faults.clone() {
            sim.schedule(fault.at_ms.max(sim.now_ms), Item::Fault(fault.fault));
        }
        Ok(sim)
    }

    /// A simulation from a plain-data [`ClusterSpec`].
    pub fn from_spec(spec: &ClusterSpec) -> Result<Sim> {
        Sim::new(spec.to_config()?)
    }

    fn broker_config(&self, id: BrokerId) -> BrokerConfig {
        BrokerConfig { node_id: id, broker_rack: self.config.rack_of(id), ..self.config.broker_config.clone() }
    }

    // ----- reading the simulation -----

    /// Virtual time.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Events waiting in the queue.
    #[must_use]
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// Events processed so far.
    #[must_use]
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The trace so far (empty unless `record_trace`).
    #[must_use]
    pub fn trace(&self) -> &[TraceEvent] {
        &self.trace
    }

    /// Hash of every trace event so far (computed even when the trace is not kept).
    #[must_use]
    pub fn trace_hash(&self) -> u64 {
        use std::hash::Hasher;
        self.trace_hasher.finish() ^ self.trace_len
    }

    /// The checkers' findings so far.
    #[must_use]
    pub fn report(&self) -> &CheckReport {
        self.checker.report()
    }

    /// After [`Sim::finish`]: whether the acknowledged write of `print` at `tp` `offset`
    /// survived (`None`: no such write was acknowledged in this run).
    #[must_use]
    pub fn write_survived(&self, tp: &TopicPartition, offset: i64, print: u64) -> Option<bool> {
        self.checker.survived(tp, offset, print)
    }

    /// Records the clients' history for Jepsen's checkers from now on (see [`history`]); off by
    /// default, as it grows with the run.
    pub fn record_history(&mut self) {
        self.history.get_or_insert_with(Box::default);
    }

    /// The clients' history, if recorded.
    #[must_use]
    pub fn history(&self) -> Option<&history::History> {
        self.history.as_deref()
    }

    /// A running (or paused) broker.
    #[must_use]
    pub fn broker(&self, id: BrokerId) -> Option<&BrokerNode<MemStorageFactory>> {
        self.brokers.get(&id)?.node.as_ref()
    }

    /// A running broker, to corrupt its state in tests of the inline invariants.
    #[cfg(test)]
    pub(crate) fn broker_mut(&mut self, id: BrokerId) -> Option<&mut BrokerNode<MemStorageFactory>> {
        self.brokers.get_mut(&id)?.node.as_mut()
    }

    /// A broker's status.
    #[must_use]
    pub fn broker_status(&self, id: BrokerId) -> Option<BrokerStatus> {
        self.brokers.get(&id).map(|slot| slot.status)
    }

    /// The leader the controller has for a partition.
    #[must_use]
    pub fn leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        self.metadata().partition(tp)?.leader
    }

    /// The simulation's config.
    #[must_use]
    pub fn config(&self) -> &SimConfig {
        &self.config
    }

    // ----- driving it -----

    fn schedule(&mut self, at_ms: u64, item: Item) {
        self.queue.push(at_ms, item);
    }

    fn wake(&mut self, node: NodeId, at_ms: u64) {
        let at_ms = at_ms.max(self.now_ms);
        let pending = self.timers.get(&node).copied();
        if pending.is_none_or(|pending| at_ms < pending || pending < self.now_ms) {
            self.timers.insert(node, at_ms);
            self.schedule(at_ms, Item::Timer(node));
        }
    }

    fn record(&mut self, kind: TraceKind) -> u64 {
        let index = self.trace_len;
        let event = TraceEvent { index, time_ms: self.now_ms, kind };
        event.hash_into(&mut self.trace_hasher);
        self.trace_len += 1;
        if self.config.record_trace {
            if let Some(limit) = self.config.trace_limit {
                if self.trace.len() >= limit.max(1) * 2 {
                    self.trace.drain(..self.trace.len() - limit.max(1));
                }
            }
            self.trace.push(event);
        }
        index
    }

    /// Processes the next event. Returns `false` when nothing is left (or the limit is hit).
    pub fn step(&mut self) -> bool {
        if self.events >= SIM_EVENTS_MAX {
            return false;
        }
        let Some((at_ms, item)) = self.queue.pop() else {
            return false;
        };
        debug_assert!(at_ms >= self.now_ms, "time never goes back");
        self.now_ms = at_ms;
        self.events += 1;
        match item {
            Item::Deliver { from, to, correlation_id, message, incarnation, .. } => {
                if incarnation == self.incarnation(to) {
                    self.deliver(from, to, correlation_id, message);
                } else {
                    self.dropped(from, to, &message, DropReason::NodeDown);
                }
            }
            Item::Timer(node) => {
                if self.timers.get(&node) == Some(&at_ms) {
                    self.timers.remove(&node);
                    if self.status(node) == BrokerStatus::Up {
                        self.timeout(node);
                    }
                }
            }
            Item::Fault(fault) => self.apply(fault),
            Item::ProducerTick(client) => self.producer_tick(client),
        }
        true
    }

    /// When the next queued event is due, if any.
    #[must_use]
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.peek_ms()
    }

    /// Runs until virtual time `until_ms` (or nothing is left to do).
    pub fn run_until(&mut self, until_ms: u64) {
        while self.queue.peek_ms().is_some_and(|at_ms| at_ms <= until_ms) {
            if !self.step() {
                break;
            }
        }
        self.now_ms = self.now_ms.max(until_ms);
    }

    /// Runs for `duration_ms` of virtual time.
    pub fn run_for(&mut self, duration_ms: u64) {
        self.run_until(self.now_ms + duration_ms);
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, correlation_id: u64, message: Message) {
        let api = message.kind();
        match self.status(to) {
            BrokerStatus::Down => {
                self.dropped(from, to, &message, DropReason::NodeDown);
                return;
            }
            BrokerStatus::Paused => {
                if let Host::Broker(id) = self.host(to) {
                    if let Some(slot) = self.brokers.get_mut(&id) {
                        slot.held.push((from, to, correlation_id, message));
                    }
                }
                return;
            }
            BrokerStatus::Up => {}
        }
        self.record(TraceKind::Delivered { from, to, api });
        let now_ms = self.now_ms;
        let unacknowledged = match to {
            NodeId::Broker(id) => unacked::unacknowledged_write(&message).map(|write| {
                let before = self.leader_log_end(id, &write.0);
                (id, write, before)
            }),
            _ => None,
        };
        self.last_refusal = None;
        if let Some(machine) = self.machine(to) {
            machine.handle_message(now_ms, from, correlation_id, message);
        }
        self.drain(to);
        if let Some((id, write, before)) = unacknowledged {
            let refusal = self.last_refusal.take();
            self.settle_unacknowledged(id, write, before, refusal);
        }
    }

    /// The state machine a node id stands for (none for a crashed broker or an unknown client).
    fn machine(&mut self, node: NodeId) -> Option<&mut dyn Machine> {
        match node {
            NodeId::Broker(id) => self.brokers.get_mut(&id)?.node.as_mut().map(|broker| broker as &mut dyn Machine),
            NodeId::Controller(id) => self.controller_machine(id),
            NodeId::Client(id) => {
                if let Some(slot) = self.producers.get_mut(&id) {
                    Some(&mut slot.producer)
                } else if let Some(consumer) = self.consumers.get_mut(&id) {
                    Some(consumer)
                } else {
                    self.group_consumers.get_mut(&id).map(|member| member as &mut dyn Machine)
                }
            }
        }
    }

    fn timeout(&mut self, node: NodeId) {
        let now_ms = self.now_ms;
        if let Some(machine) = self.machine(node) {
            machine.handle_timeout(now_ms);
        }
        self.drain(node);
    }

    /// Sends what a node emitted, records its events, feeds the checkers, re-arms its timer.
    fn drain(&mut self, node: NodeId) {
        let now_ms = self.now_ms;
        let mut outgoing = Vec::new();
        let mut events = Vec::new();
        let mut outcomes = Vec::new();
        let mut consumed = Vec::new();
        let Some(machine) = self.machine(node) else {
            return;
        };
        while let Some(out) = machine.poll_output() {
            outgoing.push(out);
        }
        while let Some(observation) = machine.poll_observation() {
            match observation {
                Observation::Event(event) => events.push(event),
                Observation::Produced(outcome) => outcomes.push(outcome),
                Observation::Consumed(event) => consumed.push(event),
            }
        }
        let timeout = machine.poll_timeout();
        for event in events {
            self.observe_event(node, event);
        }
        match node {
            NodeId::Broker(id) => self.check_leaders(id),
            NodeId::Controller(id) => self.check_quorum_member(id),
            NodeId::Client(_) => {}
        }
        for outcome in outcomes {
            let min_insync_replicas = outcome
                .tp
                .as_ref()
                .and_then(|tp| self.metadata().topics.get(&tp.topic))
                .map_or(1, |topic| topic.config.min_insync_replicas);
            let NodeId::Client(client) = node else {
                continue;
            };
            if let Some(slot) = self.producers.get_mut(&client) {
                let (acked, failed, retried) = &mut slot.outcomes;
                match outcome.result {
                    Ok(_) => {
                        *acked += 1;
                        *retried += u64::from(outcome.attempts > 1);
                        slot.ack_latency_ms = Some(outcome.completed_ms.saturating_sub(outcome.sent_ms));
                    }
                    Err(_) => *failed += 1,
                }
            }
            self.checker.on_produce(&outcome, min_insync_replicas, self.events);
            if let Some(history) = &mut self.history {
                history.on_outcome(now_ms, client, &outcome);
            }
            self.record(TraceKind::Produced {
                client,
                send_id: outcome.send_id,
                tp: outcome.tp,
                acks: outcome.acks,
                result: outcome.result,
                attempts: outcome.attempts,
            });
        }
        if let (Some(history), NodeId::Client(client)) = (&mut self.history, node) {
            let records: Vec<_> = consumed
                .iter()
                .filter_map(|event| match event {
                    ConsumerEvent::Record(record) => Some(record),
                    _ => None,
                })
                .collect();
            history.on_poll(now_ms, client, &records);
        }
        for event in consumed {
            let NodeId::Client(client) = node else {
                continue;
            };
            let kind = match &event {
                ConsumerEvent::Record(record) => {
                    TraceKind::Consumed { client, tp: record.tp.clone(), offset: record.offset }
                }
                ConsumerEvent::PositionReset { tp, from_offset, to_offset } => TraceKind::ConsumerReset {
                    client,
                    tp: tp.clone(),
                    from_offset: *from_offset,
                    to_offset: *to_offset,
                },
                ConsumerEvent::Assigned { group_id, generation_id, partitions } => TraceKind::Assigned {
                    client,
                    group_id: group_id.clone(),
                    generation_id: *generation_id,
                    partitions: partitions.clone(),
                },
                ConsumerEvent::Committed { group_id, tp, offset } => {
                    TraceKind::Committed { client, group_id: group_id.clone(), tp: tp.clone(), offset: *offset }
                }
                ConsumerEvent::OutOfRange { tp, offset } => {
                    TraceKind::ConsumerReset { client, tp: tp.clone(), from_offset: *offset, to_offset: -1 }
                }
            };
            let index = self.record(kind);
            self.checker.on_consume(client, &event, index, now_ms);
            self.record_new_violations();
        }
        for out in outgoing {
            self.transmit(node, out);
        }
        if let Some(at_ms) = timeout {
            self.wake(node, at_ms.max(now_ms + 1));
        }
    }

    fn observe_event(&mut self, node: NodeId, event: Event) {
        let index = self.record(TraceKind::Node { node, event: event.clone() });
        if let Event::Quorum { controller, event } = &event {
            self.observe_quorum_event(*controller, event);
        }
        self.checker.on_event(&event, index, self.now_ms);
        if let Event::ProduceFailed { error, .. } = &event {
            self.last_refusal = Some(*error);
        }
        // A replica that joins the ISR vouches for its committed prefix from now on: check it
        // at that moment, before compaction can hide a stale record (issue 13).
        if let Event::IsrChanged { tp, old_isr, new_isr, .. } = &event {
            for joined in new_isr.iter().filter(|broker| !old_isr.contains(broker)) {
                let node = self.brokers.get(joined).and_then(|slot| slot.node.as_ref());
                if let Some(log) = node.and_then(|broker| broker.log(tp)) {
                    self.checker.check_replica(*joined, tp, log, index, self.now_ms);
                }
            }
        }
        self.record_new_violations();
    }

    fn check_leaders(&mut self, id: BrokerId) {
        let Some(broker) = self.brokers.get(&id).and_then(|slot| slot.node.as_ref()) else {
            return;
        };
        // Most steps change no leader's epoch or high watermark: a cheap fingerprint of them
        // skips the full check (which clones keys and reads logs) when nothing moved.
        let fingerprint = broker.leader_logs().fold(0u64, |acc, (tp, leader_epoch, log)| {
            let hw = log.high_watermark().cast_unsigned();
            acc.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                ^ hw.wrapping_mul(31).wrapping_add(u64::from(leader_epoch.cast_unsigned()))
                ^ u64::from(tp.partition.cast_unsigned()).rotate_left(40)
        });
        if self.leader_fingerprints.insert(id, fingerprint) == Some(fingerprint) {
            return;
        }
        let index = self.trace_len;
        let listed = self.checker.report().lost_writes.len();
        for (tp, leader_epoch, log) in broker.leader_logs() {
            self.checker.on_leader_state(id, tp, leader_epoch, log, index, self.now_ms);
        }
        if self.checker.report().lost_writes.len() > listed {
            let cause = self.last_fault.as_ref().map(|(_, text)| text.clone());
            self.checker.stamp_losses(listed, cause.as_deref(), self.events);
        }
        self.record_new_violations();
    }

    fn record_new_violations(&mut self) {
        let reported = self.reported_violations;
        let violations = self.checker.report().violations[reported..].to_vec();
        self.reported_violations = self.checker.report().violations.len();
        for violation in violations {
            self.record(TraceKind::Violation { invariant: violation.invariant, detail: violation.detail });
        }
    }

    /// Ends the run: stops producing, heals the network, resumes and restarts every broker,
    /// lets the cluster settle for `settle_ms`, then runs the end-of-run checks.
    pub fn finish(&mut self, settle_ms: u64) -> RunSummary {
        self.producing = false;
        // Drop scheduled faults: the run is over.
        self.queue.retain(|item| !matches!(item, Item::Fault(_) | Item::ProducerTick(_)));
        self.apply(Fault::HealNetwork);
        let ids: Vec<BrokerId> = self.brokers.keys().copied().collect();
        for id in ids {
            match self.brokers[&id].status {
                BrokerStatus::Paused => self.apply(Fault::Resume(id)),
                BrokerStatus::Down => self.apply(Fault::Restart(id)),
                BrokerStatus::Up => {}
            }
        }
        self.run_for(settle_ms);
        let index = self.trace_len;
        if self.active_controller().is_none() {
            let states: Vec<String> = self
                .controllers()
                .map(|(id, node)| match node {
                    Some(node) => format!("{id}: {:?} in epoch {}", node.quorum().role(), node.quorum().epoch()),
                    None => format!("{id}: down"),
                })
                .collect();
            let detail = format!("no active controller {settle_ms} ms after healing ({})", states.join(", "));
            self.checker.violate("metadata quorum liveness", detail, index, self.now_ms);
        }
        let mut final_logs: VecMap<TopicPartition, VecMap<i64, (u64, Option<u64>)>> = VecMap::new();
        let partitions: Vec<(TopicPartition, Option<BrokerId>, Vec<BrokerId>)> =
            self.metadata().partitions().map(|(tp, state)| (tp, state.leader, state.replicas.clone())).collect();
        for (tp, leader, replicas) in partitions {
            for replica in replicas {
                let node = self.brokers.get(&replica).and_then(|slot| slot.node.as_ref());
                if let Some(log) = node.and_then(|broker| broker.log(&tp)) {
                    self.checker.check_replica(replica, &tp, log, index, self.now_ms);
                }
            }
            let Some(log) = leader.and_then(|leader| self.broker(leader)).and_then(|broker| broker.log(&tp)) else {
                final_logs.insert(tp, VecMap::new());
                continue;
            };
            let mut records = VecMap::new();
            for batch in log.batches_from(log.log_start_offset(), ReadLimit::HighWatermark) {
                for record in batch.records().flatten() {
                    let key = record.record.key.as_deref();
                    let prints =
                        (fingerprint(key, record.record.value.as_deref()), key.map(|key| fingerprint(Some(key), None)));
                    records.insert(record.offset, prints);
                }
            }
            final_logs.insert(tp, records);
        }
        self.checker.check_acknowledged(&final_logs, index, self.now_ms);
        self.record_new_violations();
        RunSummary {
            seed: self.config.seed,
            events: self.events,
            time_ms: self.now_ms,
            trace_hash: self.trace_hash(),
            report: self.checker.report().clone(),
        }
    }

    /// A topic partition handle.
    #[must_use]
    pub fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition { topic: Arc::from(topic), partition }
    }
}
