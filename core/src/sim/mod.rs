//! The deterministic cluster simulation.
//!
//! Brokers, the controller and clients run in one thread on a virtual clock. A single seeded
//! [`Rng`] makes every decision (latencies, drops, random faults, partitioners), so the same
//! [`SimConfig`] gives the same trace — and the same [`Sim::trace_hash`] — on every platform.
//!
//! The network has per-direction links between hosts (brokers and clients) that can be cut
//! and healed, a latency range, a drop rate, and FIFO order per connection (like TCP). Brokers
//! can crash (losing their unflushed tail, see [`crate::storage::MemStorage::crash`]), restart,
//! pause and resume. The controller lives on [`SimConfig::controller_host`]: while that broker
//! is down or paused, nothing is elected.
//!
//! Every step is checked by the [`checker::Checker`]; [`Sim::finish`] heals everything, lets the
//! cluster settle and runs the end-of-run (Jepsen-style) checks.

pub mod checker;
pub mod session;
pub mod spec;
pub mod sweep;
pub mod trace;

use crate::collections::{self, VecMap, VecSet};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::broker::{BrokerNode, MemStorageFactory};
use crate::client::{Consumer, ConsumerEvent, Producer, ProducerConfig};
use crate::config::BrokerConfig;
use crate::controller::Controller;
use crate::error::{Error, ErrorCode, Result};
use crate::event::Event;
use crate::group::coordinator::OFFSETS_TOPIC;
use crate::group::member::{GroupConsumer, GroupConsumerConfig};
use crate::log::ReadLimit;
use crate::placement::BrokerId;
use crate::protocol::{Acks, Message, NodeId, Outgoing, TopicPartition};
use crate::record::Record;
use crate::rng::Rng;
use crate::storage::{MemStorage, Storage};
use crate::topic::NewTopic;

use checker::{CheckReport, Checker};
use spec::{
    BrokerSnapshot, ClusterSpec, GroupSnapshot, MemberSnapshot, OffsetSnapshot, PartitionSnapshot, ProduceSpec,
    RecordSnapshot, ReplicaSnapshot, Snapshot, WorkloadSpec, SNAPSHOT_RECORDS_MAX,
};
use trace::{fingerprint, DropReason, StableHasher, TraceEvent, TraceKind};

/// Most events one simulation processes (a limit on everything).
pub const SIM_EVENTS_MAX: u64 = 200_000_000;

/// A fault or operator action.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// Crash a broker: it stops, and loses what it had not flushed.
    Crash(BrokerId),
    /// Restart a crashed broker from what its storage kept.
    Restart(BrokerId),
    /// Freeze a broker (a long GC pause): it processes nothing until resumed.
    Pause(BrokerId),
    /// Unfreeze a paused broker; what reached it meanwhile is delivered.
    Resume(BrokerId),
    /// Cut the link from one broker to another (one direction).
    CutLink {
        /// Sender side.
        from: BrokerId,
        /// Receiver side.
        to: BrokerId,
    },
    /// Heal a link cut with [`Fault::CutLink`].
    HealLink {
        /// Sender side.
        from: BrokerId,
        /// Receiver side.
        to: BrokerId,
    },
    /// Cut a broker off from every other host, both directions.
    Isolate(BrokerId),
    /// Undo [`Fault::Isolate`].
    Reconnect(BrokerId),
    /// Heal every link and set the drop rate to zero.
    HealNetwork,
    /// Drop this many messages per million.
    SetDropRate(u32),
}

impl Fault {
    /// Brokers this fault names.
    #[must_use]
    pub fn brokers(&self) -> Vec<BrokerId> {
        match self {
            Fault::Crash(b)
            | Fault::Restart(b)
            | Fault::Pause(b)
            | Fault::Resume(b)
            | Fault::Isolate(b)
            | Fault::Reconnect(b) => {
                vec![*b]
            }
            Fault::CutLink { from, to } | Fault::HealLink { from, to } => vec![*from, *to],
            Fault::HealNetwork | Fault::SetDropRate(_) => Vec::new(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash(b) => write!(f, "crash broker {b} (it loses what it had not flushed)"),
            Fault::Restart(b) => write!(f, "restart broker {b}"),
            Fault::Pause(b) => write!(f, "pause broker {b}"),
            Fault::Resume(b) => write!(f, "resume broker {b}"),
            Fault::CutLink { from, to } => {
                write!(f, "cut the link from broker {from} to broker {to}")
            }
            Fault::HealLink { from, to } => {
                write!(f, "heal the link from broker {from} to broker {to}")
            }
            Fault::Isolate(b) => write!(f, "isolate broker {b} from every other host"),
            Fault::Reconnect(b) => write!(f, "reconnect broker {b}"),
            Fault::HealNetwork => f.write_str("heal the whole network"),
            Fault::SetDropRate(ppm) => write!(f, "drop {ppm} messages per million"),
        }
    }
}

/// A fault at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScheduledFault {
    /// When.
    pub at_ms: u64,
    /// What.
    pub fault: Fault,
}

/// Latency and loss of the simulated network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetworkConfig {
    /// Fastest one-way delivery.
    pub latency_min_ms: u64,
    /// Slowest one-way delivery.
    pub latency_max_ms: u64,
    /// Messages dropped per million sent.
    pub drop_per_million: u32,
}

impl Default for NetworkConfig {
    fn default() -> NetworkConfig {
        NetworkConfig { latency_min_ms: 1, latency_max_ms: 5, drop_per_million: 0 }
    }
}

/// A simulated producer's workload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerSpec {
    /// Topic to write.
    pub topic: String,
    /// Producer settings (acks, retries, timeouts, partitioner).
    pub config: ProducerConfig,
    /// Time between records.
    pub interval_ms: u64,
    /// How many records in all.
    pub records: u64,
    /// When to send the first record.
    pub start_ms: u64,
    /// Give records keys (16 distinct) instead of null keys.
    pub keyed: bool,
}

impl ProducerSpec {
    /// `records` records to `topic` every `interval_ms` with `acks`, keyed, from t = 1 s.
    #[must_use]
    pub fn new(topic: &str, acks: Acks, interval_ms: u64, records: u64) -> ProducerSpec {
        ProducerSpec {
            topic: topic.to_owned(),
            config: ProducerConfig { acks, ..ProducerConfig::default() },
            interval_ms,
            records,
            start_ms: 1_000,
            keyed: true,
        }
    }
}

/// Everything a simulation run is made of. Same config ⇒ same run.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed of every random decision.
    pub seed: u64,
    /// Broker count; ids are `1..=brokers`.
    pub brokers: i32,
    /// The broker hosting the controller.
    pub controller_host: BrokerId,
    /// Settings for every broker (`node.id` is set per broker).
    pub broker_config: BrokerConfig,
    /// Topics created at start.
    pub topics: Vec<NewTopic>,
    /// Producer workloads.
    pub producers: Vec<ProducerSpec>,
    /// Consumers, each reading every partition of the listed topics.
    pub consumers: Vec<Vec<String>>,
    /// Consumer-group members (they create `__consumer_offsets`).
    pub group_consumers: Vec<GroupConsumerConfig>,
    /// The network.
    pub network: NetworkConfig,
    /// Faults at fixed times.
    pub faults: Vec<ScheduledFault>,
    /// Keep every trace event in memory (the hash is always computed).
    pub record_trace: bool,
    /// Keep only about this many of the newest trace events (between this and twice this).
    pub trace_limit: Option<usize>,
}

impl SimConfig {
    /// `brokers` brokers (controller on broker 1), one topic, no clients, no faults.
    #[must_use]
    pub fn new(seed: u64, brokers: i32, topic: NewTopic) -> SimConfig {
        let mut broker_config = BrokerConfig::for_node(1);
        // A simulated cluster is small and fast-moving: check leader balance every 30 s.
        broker_config.leader_imbalance_check_interval_seconds = 30;
        // A simulated cluster needs few coordinator partitions (Kafka's default is 50).
        broker_config.offsets_topic_num_partitions = 3;
        SimConfig {
            seed,
            brokers,
            controller_host: 1,
            broker_config,
            topics: vec![topic],
            producers: Vec::new(),
            consumers: Vec::new(),
            group_consumers: Vec::new(),
            network: NetworkConfig::default(),
            faults: Vec::new(),
            record_trace: true,
            trace_limit: None,
        }
    }

    /// Checks the config names real brokers and sane values.
    pub fn validate(&self) -> Result<()> {
        let invalid = |why: String| Err(Error::new(ErrorCode::InvalidConfig, why));
        if !(1..=64).contains(&self.brokers) {
            return invalid(format!("brokers must be 1..=64, got {}", self.brokers));
        }
        if !(1..=self.brokers).contains(&self.controller_host) {
            return invalid(format!("controller_host {} is not a broker", self.controller_host));
        }
        if self.network.latency_min_ms > self.network.latency_max_ms {
            return invalid("latency_min_ms exceeds latency_max_ms".into());
        }
        if self.network.drop_per_million > 1_000_000 {
            return invalid("drop_per_million exceeds 1000000".into());
        }
        for fault in &self.faults {
            for broker in fault.fault.brokers() {
                if !(1..=self.brokers).contains(&broker) {
                    return invalid(format!("fault {} names unknown broker {broker}", fault.fault));
                }
            }
        }
        let known = |topic: &str| self.topics.iter().any(|t| t.name == topic);
        for producer in &self.producers {
            if !known(&producer.topic) {
                return Err(Error::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("producer topic {:?} is not created", producer.topic),
                ));
            }
            if producer.records > 10_000_000 {
                return invalid(format!("a producer may send at most 10000000 records, got {}", producer.records));
            }
        }
        for topic in self.consumers.iter().flatten() {
            if !known(topic) {
                return Err(Error::new(
                    ErrorCode::UnknownTopicOrPartition,
                    format!("consumer topic {topic:?} is not created"),
                ));
            }
        }
        self.broker_config.validate().map_err(Error::from)?;
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Host {
    Broker(BrokerId),
    Client(u32),
}

#[derive(Debug)]
enum Item {
    /// `incarnation` is the destination host's incarnation when the message was sent: a
    /// message to a broker that has since crashed and restarted is lost with the old TCP
    /// connection.
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Message,
        incarnation: u64,
        sent_ms: u64,
    },
    Timer(NodeId),
    Fault(Fault),
    ProducerTick(u32),
}

/// Pending events in (time, sequence) order. Items sit in a slab so the heap moves only
/// 24-byte keys, not messages.
#[derive(Debug, Default)]
struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    slots: Vec<Option<Item>>,
    free: Vec<usize>,
    next_seq: u64,
}

impl EventQueue {
    fn push(&mut self, at_ms: u64, item: Item) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((at_ms, self.next_seq, slot)));
        self.next_seq += 1;
    }

    fn pop(&mut self) -> Option<(u64, Item)> {
        let Reverse((at_ms, _, slot)) = self.heap.pop()?;
        let item = self.slots[slot].take().expect("a queued slot holds its item");
        self.free.push(slot);
        Some((at_ms, item))
    }

    fn items(&self) -> impl Iterator<Item = (u64, &Item)> {
        self.heap.iter().filter_map(|Reverse((at_ms, _, slot))| Some((*at_ms, self.slots[*slot].as_ref()?)))
    }

    fn peek_ms(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at_ms, _, _))| *at_ms)
    }

    /// Keeps only the items `keep` accepts, in their order.
    fn retain(&mut self, keep: impl Fn(&Item) -> bool) {
        let mut entries = Vec::with_capacity(self.heap.len());
        while let Some(Reverse((at_ms, seq, slot))) = self.heap.pop() {
            let item = self.slots[slot].take().expect("a queued slot holds its item");
            entries.push((at_ms, seq, item));
        }
        self.slots.clear();
        self.free.clear();
        for (at_ms, seq, item) in entries {
            if keep(&item) {
                self.slots.push(Some(item));
                self.heap.push(Reverse((at_ms, seq, self.slots.len() - 1)));
            }
        }
    }
}

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
    node: Option<BrokerNode<MemStorageFactory>>,
    incarnation: u64,
    kept: VecMap<TopicPartition, MemStorage>,
    status: BrokerStatus,
    held: Vec<(NodeId, Message)>,
}

#[derive(Debug)]
struct ProducerSlot {
    producer: Producer,
    spec: ProducerSpec,
    sent: u64,
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
    controller: Controller,
    producers: VecMap<u32, ProducerSlot>,
    consumers: VecMap<u32, Consumer>,
    group_consumers: VecMap<u32, GroupConsumer>,
    cut: VecSet<(Host, Host)>,
    isolated: VecSet<BrokerId>,
    drop_per_million: u32,
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
    next_workload_client: u32,
    next_group_client: u32,
}

impl Sim {
    /// Builds the cluster, registers the brokers, creates the topics and schedules clients and
    /// faults. Bad configs are errors; nothing runs.
    pub fn new(config: SimConfig) -> Result<Sim> {
        config.validate()?;
        let mut rng = Rng::from_seed(config.seed);
        let mut controller_config = config.broker_config.clone();
        controller_config.node_id = config.controller_host;
        let controller = Controller::new(controller_config, rng.fork());
        let mut sim = Sim {
            now_ms: 0,
            queue: EventQueue::default(),
            brokers: VecMap::new(),
            controller,
            producers: VecMap::new(),
            consumers: VecMap::new(),
            group_consumers: VecMap::new(),
            cut: VecSet::new(),
            isolated: VecSet::new(),
            drop_per_million: config.network.drop_per_million,
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
            next_workload_client: 0,
            next_group_client: 0,
            rng,
            config,
        };
        for id in 1..=sim.config.brokers {
            let node = BrokerNode::new(sim.broker_config(id), MemStorageFactory::default(), 0);
            sim.brokers.insert(
                id,
                BrokerSlot {
                    node: Some(node),
                    incarnation: 0,
                    kept: VecMap::new(),
                    status: BrokerStatus::Up,
                    held: Vec::new(),
                },
            );
            sim.wake(NodeId::Broker(id), 0);
        }
        // Let every broker register before topics are created (bounded).
        let mut guard = 0;
        while sim.controller.image().brokers.len() < usize::try_from(sim.config.brokers).unwrap_or(0) && guard < 10_000
        {
            if !sim.step() {
                break;
            }
            guard += 1;
        }
        for topic in sim.config.topics.clone() {
            sim.controller.create_topic(sim.now_ms, &topic)?;
            sim.drain(NodeId::Controller);
            let compacted =
                sim.controller.image().topics.get(topic.name.as_str()).is_some_and(|t| t.config.cleanup_policy.compact);
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
            Fault::Crash(id) if status(self, *id)? == BrokerStatus::Down => {
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
            _ => {}
        }
        self.apply(fault);
        Ok(())
    }

    /// Sends a record through the interactive producer for its acks setting; returns the
    /// producer's client number and the send id. The outcome appears in the trace.
    pub fn produce(&mut self, spec: &ProduceSpec) -> Result<(u32, u64)> {
        let acks = spec.acks.clone().map_or(Ok(Acks::All), |acks| acks.to_acks())?;
        let Some(topic) = self.controller.image().topics.get(spec.topic.as_str()) else {
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
            self.producers.insert(client, ProducerSlot { producer, spec, sent: 0 });
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
        self.drain(NodeId::Client(client));
        Ok((client, send_id))
    }

    fn add_workload(&mut self, spec: ProducerSpec) -> u32 {
        let client = 1_000 + self.next_workload_client;
        self.next_workload_client += 1;
        let bootstrap: Vec<BrokerId> = (1..=self.config.brokers).collect();
        let producer = Producer::new(client, spec.config.clone(), bootstrap, self.rng.fork());
        let start_ms = spec.start_ms.max(self.now_ms);
        self.producers.insert(client, ProducerSlot { producer, spec, sent: 0 });
        self.schedule(start_ms, Item::ProducerTick(client));
        self.wake(NodeId::Client(client), self.now_ms);
        client
    }

    /// Starts a steady producer workload now (its `startMs` counts from now); returns its
    /// client number.
    pub fn start_workload(&mut self, workload: &WorkloadSpec) -> Result<u32> {
        if !self.controller.image().topics.contains_key(workload.topic.as_str()) {
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

    /// Deletes a topic (Kafka `DeleteTopics`): the controller drops it from the metadata and
    /// brokers delete its partitions. Its acknowledged writes leave the checks (deleted on
    /// purpose, not lost).
    pub fn delete_topic(&mut self, name: &str) -> Result<()> {
        let now_ms = self.now_ms;
        self.controller.delete_topic(now_ms, name)?;
        self.checker.forget_topic(name);
        self.drain(NodeId::Controller);
        Ok(())
    }

    /// Adds a consumer reading every partition of `topics` from the start; returns its client
    /// number.
    pub fn add_consumer(&mut self, topics: &[String]) -> Result<u32> {
        if topics.is_empty() {
            return Err(Error::new(ErrorCode::InvalidRequest, "a consumer needs at least one topic"));
        }
        for topic in topics {
            if !self.controller.image().topics.contains_key(topic.as_str()) {
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
            if !self.controller.image().topics.contains_key(topic.as_str()) {
                return Err(Error::new(ErrorCode::UnknownTopicOrPartition, format!("topic {topic:?} does not exist")));
            }
        }
        if !self.controller.image().topics.contains_key(OFFSETS_TOPIC) {
            let partitions = self.config.broker_config.offsets_topic_num_partitions;
            let replication_factor = self
                .config
                .broker_config
                .offsets_topic_replication_factor
                .min(i16::try_from(self.config.brokers).unwrap_or(i16::MAX));
            let topic =
                NewTopic::new(OFFSETS_TOPIC, partitions, replication_factor).config("cleanup.policy", "compact");
            self.controller.create_topic(self.now_ms, &topic)?;
            self.checker.set_compacted(OFFSETS_TOPIC);
            self.drain(NodeId::Controller);
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

    /// The whole cluster as plain data.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        self.snapshot_with(SNAPSHOT_RECORDS_MAX)
    }

    /// [`Sim::snapshot`] with at most `records_per_replica` of each replica's newest records
    /// (a view drawing a few offsets per replica need not copy more).
    #[must_use]
    pub fn snapshot_with(&self, records_per_replica: usize) -> Snapshot {
        let image = self.controller.image();
        let brokers = self
            .brokers
            .iter()
            .map(|(id, slot)| BrokerSnapshot {
                id: *id,
                status: slot.status,
                fenced: image.brokers.get(id).is_none_or(|broker| broker.fenced),
                controller: *id == self.config.controller_host,
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
        Snapshot {
            groups,
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

    fn group_snapshots(&self) -> Vec<GroupSnapshot> {
        let mut groups = Vec::new();
        for (id, slot) in &self.brokers {
            let Some(node) = slot.node.as_ref() else { continue };
            for (_, coordinator) in node.coordinators() {
                for (group_id, _) in coordinator.list_groups() {
                    let Some(description) = coordinator.describe(&group_id) else { continue };
                    let members = self
                        .group_consumers
                        .values()
                        .filter(|member| member.group_id() == group_id && !member.member_id().is_empty())
                        .map(|member| MemberSnapshot {
                            client: member.id(),
                            member_id: member.member_id().to_owned(),
                            generation_id: member.generation_id(),
                            stable: member.is_stable(),
                            partitions: member.assignment().iter().map(ToString::to_string).collect(),
                        })
                        .collect();
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
                        state: format!("{:?}", description.state),
                        generation_id: description.generation_id,
                        protocol: description.protocol_name,
                        leader: description.leader,
                        members,
                        offsets,
                    });
                }
            }
        }
        groups
    }

    fn broker_config(&self, id: BrokerId) -> BrokerConfig {
        BrokerConfig { node_id: id, ..self.config.broker_config.clone() }
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
        self.queue.heap.len()
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

    /// The controller.
    #[must_use]
    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    /// A running (or paused) broker.
    #[must_use]
    pub fn broker(&self, id: BrokerId) -> Option<&BrokerNode<MemStorageFactory>> {
        self.brokers.get(&id)?.node.as_ref()
    }

    /// A broker's status.
    #[must_use]
    pub fn broker_status(&self, id: BrokerId) -> Option<BrokerStatus> {
        self.brokers.get(&id).map(|slot| slot.status)
    }

    /// The leader the controller has for a partition.
    #[must_use]
    pub fn leader(&self, tp: &TopicPartition) -> Option<BrokerId> {
        self.controller.image().partition(tp)?.leader
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

    /// Applies a fault or action now (from a UI or a test).
    pub fn apply(&mut self, fault: Fault) {
        let index = self.record(TraceKind::Fault(fault.clone()));
        self.last_fault = Some((index, format!("{fault} at {} ms (event {index})", self.now_ms)));
        match fault {
            Fault::Crash(id) => self.crash(id),
            Fault::Restart(id) => self.restart(id),
            Fault::Pause(id) => {
                if let Some(slot) = self.brokers.get_mut(&id) {
                    if slot.status == BrokerStatus::Up {
                        slot.status = BrokerStatus::Paused;
                    }
                }
            }
            Fault::Resume(id) => self.resume(id),
            Fault::CutLink { from, to } => {
                self.cut.insert((Host::Broker(from), Host::Broker(to)));
            }
            Fault::HealLink { from, to } => {
                self.cut.remove(&(Host::Broker(from), Host::Broker(to)));
            }
            Fault::Isolate(id) => {
                self.isolated.insert(id);
            }
            Fault::Reconnect(id) => {
                self.isolated.remove(&id);
            }
            Fault::HealNetwork => {
                self.cut.clear();
                self.isolated.clear();
                self.drop_per_million = 0;
            }
            Fault::SetDropRate(ppm) => self.drop_per_million = ppm.min(1_000_000),
        }
    }

    fn crash(&mut self, id: BrokerId) {
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        let Some(node) = slot.node.take() else { return };
        slot.status = BrokerStatus::Down;
        slot.held.clear();
        let mut storages = node.into_storages();
        let mut lost = Vec::new();
        for (tp, storage) in &mut storages {
            let before = storage.log_end_offset();
            storage.crash();
            let after = storage.log_end_offset();
            if after < before {
                lost.push(Event::LostUnflushed { broker: id, tp: tp.clone(), from_offset: before, to_offset: after });
            }
        }
        slot.kept = storages;
        self.timers.remove(&NodeId::Broker(id));
        for event in lost {
            self.observe_event(NodeId::Broker(id), event);
        }
    }

    fn restart(&mut self, id: BrokerId) {
        let config = self.broker_config(id);
        let now_ms = self.now_ms;
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        if slot.status != BrokerStatus::Down {
            return;
        }
        let kept = std::mem::take(&mut slot.kept);
        slot.incarnation += 1;
        slot.node = Some(BrokerNode::new(config, MemStorageFactory::with(kept), now_ms));
        slot.status = BrokerStatus::Up;
        self.wake(NodeId::Broker(id), now_ms);
        if id == self.config.controller_host {
            self.controller.handle_restart(now_ms);
            self.wake(NodeId::Controller, now_ms);
        }
    }

    fn resume(&mut self, id: BrokerId) {
        let now_ms = self.now_ms;
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        if slot.status != BrokerStatus::Paused {
            return;
        }
        slot.status = BrokerStatus::Up;
        let held = std::mem::take(&mut slot.held);
        let incarnation = slot.incarnation;
        for (from, message) in held {
            let to = if matches!(
                message,
                Message::RegisterBroker { .. } | Message::BrokerHeartbeat { .. } | Message::AlterPartition { .. }
            ) {
                NodeId::Controller
            } else {
                NodeId::Broker(id)
            };
            self.schedule(now_ms, Item::Deliver { from, to, message, incarnation, sent_ms: now_ms });
        }
        self.wake(NodeId::Broker(id), now_ms);
        if id == self.config.controller_host {
            self.wake(NodeId::Controller, now_ms);
        }
    }

    fn host(&self, node: NodeId) -> Host {
        match node {
            NodeId::Broker(id) => Host::Broker(id),
            NodeId::Controller => Host::Broker(self.config.controller_host),
            NodeId::Client(id) => Host::Client(id),
        }
    }

    fn incarnation(&self, node: NodeId) -> u64 {
        match self.host(node) {
            Host::Broker(id) => self.brokers.get(&id).map_or(0, |slot| slot.incarnation),
            Host::Client(_) => 0,
        }
    }

    fn status(&self, node: NodeId) -> BrokerStatus {
        match self.host(node) {
            Host::Broker(id) => self.brokers.get(&id).map_or(BrokerStatus::Down, |slot| slot.status),
            Host::Client(_) => BrokerStatus::Up,
        }
    }

    fn transmit(&mut self, from: NodeId, outgoing: Outgoing) {
        let Outgoing { to, message } = outgoing;
        let api = message.kind();
        let (from_host, to_host) = (self.host(from), self.host(to));
        if from_host != to_host {
            let isolated = |host: Host| matches!(host, Host::Broker(id) if self.isolated.contains(&id));
            if self.cut.contains(&(from_host, to_host)) || isolated(from_host) || isolated(to_host) {
                self.record(TraceKind::Dropped { from, to, api, reason: DropReason::LinkCut });
                return;
            }
            if self.drop_per_million > 0 && self.rng.below(1_000_000) < u64::from(self.drop_per_million) {
                self.record(TraceKind::Dropped { from, to, api, reason: DropReason::Random });
                return;
            }
        }
        let latency_ms = if from_host == to_host {
            0
        } else {
            self.rng.range_inclusive(self.config.network.latency_min_ms, self.config.network.latency_max_ms)
        };
        // FIFO per connection, like TCP.
        let link = (from, to);
        let at_ms = (self.now_ms + latency_ms).max(self.last_delivery_ms.get(&link).copied().unwrap_or(0));
        self.last_delivery_ms.insert(link, at_ms);
        self.record(TraceKind::Sent { from, to, api, deliver_at_ms: at_ms });
        let incarnation = self.incarnation(to);
        let sent_ms = self.now_ms;
        self.schedule(at_ms, Item::Deliver { from, to, message, incarnation, sent_ms });
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
            Item::Deliver { from, to, message, incarnation, .. } => {
                if incarnation == self.incarnation(to) {
                    self.deliver(from, to, message);
                } else {
                    let api = message.kind();
                    self.record(TraceKind::Dropped { from, to, api, reason: DropReason::NodeDown });
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

    fn deliver(&mut self, from: NodeId, to: NodeId, message: Message) {
        let api = message.kind();
        match self.status(to) {
            BrokerStatus::Down => {
                self.record(TraceKind::Dropped { from, to, api, reason: DropReason::NodeDown });
                return;
            }
            BrokerStatus::Paused => {
                if let Host::Broker(id) = self.host(to) {
                    if let Some(slot) = self.brokers.get_mut(&id) {
                        slot.held.push((from, message));
                    }
                }
                return;
            }
            BrokerStatus::Up => {}
        }
        self.record(TraceKind::Delivered { from, to, api });
        let now_ms = self.now_ms;
        match to {
            NodeId::Broker(id) => {
                if let Some(node) = self.brokers.get_mut(&id).and_then(|slot| slot.node.as_mut()) {
                    node.handle_message(now_ms, from, message);
                }
            }
            NodeId::Controller => self.controller.handle_message(now_ms, from, message),
            NodeId::Client(id) => {
                if let Some(slot) = self.producers.get_mut(&id) {
                    slot.producer.handle_message(now_ms, from, message);
                } else if let Some(consumer) = self.consumers.get_mut(&id) {
                    consumer.handle_message(now_ms, from, message);
                } else if let Some(member) = self.group_consumers.get_mut(&id) {
                    member.handle_message(now_ms, from, message);
                }
            }
        }
        self.drain(to);
    }

    fn timeout(&mut self, node: NodeId) {
        let now_ms = self.now_ms;
        match node {
            NodeId::Broker(id) => {
                if let Some(node) = self.brokers.get_mut(&id).and_then(|slot| slot.node.as_mut()) {
                    node.handle_timeout(now_ms);
                }
            }
            NodeId::Controller => self.controller.handle_timeout(now_ms),
            NodeId::Client(id) => {
                if let Some(slot) = self.producers.get_mut(&id) {
                    slot.producer.handle_timeout(now_ms);
                } else if let Some(consumer) = self.consumers.get_mut(&id) {
                    consumer.handle_timeout(now_ms);
                } else if let Some(member) = self.group_consumers.get_mut(&id) {
                    member.handle_timeout(now_ms);
                }
            }
        }
        self.drain(node);
    }

    fn producer_tick(&mut self, client: u32) {
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
        let _ = slot.producer.send(now_ms, &topic, None, record);
        slot.producer.handle_timeout(now_ms);
        let next_ms = now_ms + slot.spec.interval_ms.max(1);
        let more = slot.sent < slot.spec.records;
        self.drain(NodeId::Client(client));
        if more {
            self.schedule(next_ms, Item::ProducerTick(client));
        }
    }

    /// Sends what a node emitted, records its events, feeds the checkers, re-arms its timer.
    fn drain(&mut self, node: NodeId) {
        let now_ms = self.now_ms;
        let mut outgoing = Vec::new();
        let mut events = Vec::new();
        let mut outcomes = Vec::new();
        let mut consumed = Vec::new();
        let timeout = match node {
            NodeId::Broker(id) => {
                let Some(broker) = self.brokers.get_mut(&id).and_then(|slot| slot.node.as_mut()) else {
                    return;
                };
                while let Some(out) = broker.poll_output() {
                    outgoing.push(out);
                }
                while let Some(event) = broker.poll_event() {
                    events.push(event);
                }
                broker.poll_timeout()
            }
            NodeId::Controller => {
                while let Some(out) = self.controller.poll_output() {
                    outgoing.push(out);
                }
                while let Some(event) = self.controller.poll_event() {
                    events.push(event);
                }
                self.controller.poll_timeout()
            }
            NodeId::Client(id) => {
                if let Some(slot) = self.producers.get_mut(&id) {
                    while let Some(out) = slot.producer.poll_output() {
                        outgoing.push(out);
                    }
                    while let Some(outcome) = slot.producer.poll_outcome() {
                        outcomes.push(outcome);
                    }
                    slot.producer.poll_timeout()
                } else if let Some(consumer) = self.consumers.get_mut(&id) {
                    while let Some(out) = consumer.poll_output() {
                        outgoing.push(out);
                    }
                    while let Some(event) = consumer.poll_event() {
                        consumed.push(event);
                    }
                    consumer.poll_timeout()
                } else if let Some(member) = self.group_consumers.get_mut(&id) {
                    while let Some(out) = member.poll_output() {
                        outgoing.push(out);
                    }
                    while let Some(event) = member.poll_event() {
                        consumed.push(event);
                    }
                    member.poll_timeout()
                } else {
                    None
                }
            }
        };
        for event in events {
            self.observe_event(node, event);
        }
        if let NodeId::Broker(id) = node {
            self.check_leaders(id);
        }
        for outcome in outcomes {
            let min_insync_replicas = outcome
                .tp
                .as_ref()
                .and_then(|tp| self.controller.image().topics.get(&tp.topic))
                .map_or(1, |topic| topic.config.min_insync_replicas);
            let NodeId::Client(client) = node else {
                continue;
            };
            self.checker.on_produce(&outcome, min_insync_replicas);
            self.record(TraceKind::Produced {
                client,
                send_id: outcome.send_id,
                tp: outcome.tp,
                acks: outcome.acks,
                result: outcome.result,
                attempts: outcome.attempts,
            });
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
        self.checker.on_event(&event, index, self.now_ms);
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
            self.checker.set_lost_cause(listed, cause.as_deref());
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
        let mut final_logs: VecMap<TopicPartition, VecMap<i64, (u64, Option<u64>)>> = VecMap::new();
        let partitions: Vec<(TopicPartition, Option<BrokerId>, Vec<BrokerId>)> = self
            .controller
            .image()
            .partitions()
            .map(|(tp, state)| (tp, state.leader, state.replicas.clone()))
            .collect();
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

    /// Acks setting of each producer, by client number.
    #[must_use]
    pub fn producer_acks(&self) -> VecMap<u32, Acks> {
        self.producers.iter().map(|(id, slot)| (*id, slot.spec.config.acks)).collect()
    }

    /// A topic partition handle.
    #[must_use]
    pub fn tp(topic: &str, partition: i32) -> TopicPartition {
        TopicPartition { topic: Arc::from(topic), partition }
    }
}

/// The newest records of a log, for snapshots.
fn recent_records<S: Storage>(log: &crate::log::PartitionLog<S>, limit: usize) -> Vec<RecordSnapshot> {
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
