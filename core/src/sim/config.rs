//! What a run is made of: the cluster, topics, clients, network and a schedule of faults
//! ([`SimConfig`]); same config, same run.

use super::*;

/// Most events one simulation processes (a limit on everything).
pub const SIM_EVENTS_MAX: u64 = 200_000_000;

/// The slowest disk [`Fault::SlowDisk`] sets: a minute per write.
pub const SLOW_DISK_MS_MAX: u64 = 60_000;

/// A fault or operator action.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// Power loss on a broker: it stops, and loses what it had not flushed to disk.
    Crash(BrokerId),
    /// Process crash (`kill -9`): it stops, but the OS page cache keeps everything it wrote.
    Kill(BrokerId),
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
    /// A slow disk on a broker (a failing drive, a noisy neighbour): every write to its log
    /// — a produce it leads, a fetch response it follows — waits `ms` for the disk before it
    /// is handled. `ms` 0 makes the disk fast again. The broker stays up and keeps fetching.
    SlowDisk {
        /// The broker.
        broker: BrokerId,
        /// How long each write waits (at most [`SLOW_DISK_MS_MAX`]).
        ms: u64,
    },
    /// An operator moves a partition to other replicas (`kafka-reassign-partitions --execute`),
    /// or with no replicas cancels the move under way (`--cancel`).
    Reassign {
        /// The topic.
        topic: String,
        /// The partition.
        partition: i32,
        /// The target replicas (first = preferred leader); `None` cancels.
        replicas: Option<Vec<BrokerId>>,
    },
}

impl Fault {
    /// Brokers this fault names.
    #[must_use]
    pub fn brokers(&self) -> Vec<BrokerId> {
        match self {
            Fault::Crash(b)
            | Fault::Kill(b)
            | Fault::Restart(b)
            | Fault::Pause(b)
            | Fault::Resume(b)
            | Fault::Isolate(b)
            | Fault::Reconnect(b)
            | Fault::SlowDisk { broker: b, .. } => {
                vec![*b]
            }
            Fault::CutLink { from, to } | Fault::HealLink { from, to } => vec![*from, *to],
            Fault::HealNetwork | Fault::SetDropRate(_) => Vec::new(),
            Fault::Reassign { replicas, .. } => replicas.clone().unwrap_or_default(),
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Crash(b) => write!(f, "crash broker {b} (power loss: it loses what it had not flushed)"),
            Fault::Kill(b) => write!(f, "kill -9 broker {b} (process crash: the OS page cache keeps its writes)"),
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
            Fault::SlowDisk { broker, ms: 0 } => write!(f, "broker {broker}'s disk is fast again"),
            Fault::SlowDisk { broker, ms } => write!(f, "slow disk on broker {broker}: each log write waits {ms} ms"),
            Fault::Reassign { topic, partition, replicas: Some(replicas) } => {
                let list: Vec<String> = replicas.iter().map(ToString::to_string).collect();
                write!(f, "reassign {topic}-{partition} to brokers {}", list.join(", "))
            }
            Fault::Reassign { topic, partition, replicas: None } => {
                write!(f, "cancel the reassignment of {topic}-{partition}")
            }
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
    /// The broker hosting the controller when `controllers` is empty (a one-node quorum).
    pub controller_host: BrokerId,
    /// The controller quorum's voters (`controller.quorum.voters`), each beside the broker of
    /// the same id (KRaft's combined mode); empty: just `controller_host`.
    pub controllers: Vec<BrokerId>,
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
    /// Each broker's `broker.rack` (index = id - 1); empty: no racks.
    pub racks: Vec<String>,
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
            controllers: Vec::new(),
            broker_config,
            topics: vec![topic],
            producers: Vec::new(),
            consumers: Vec::new(),
            group_consumers: Vec::new(),
            network: NetworkConfig::default(),
            faults: Vec::new(),
            record_trace: true,
            trace_limit: None,
            racks: Vec::new(),
        }
    }

    /// Broker `id`'s `broker.rack`, if the run has racks.
    #[must_use]
    pub fn rack_of(&self, id: BrokerId) -> Option<String> {
        usize::try_from(id - 1).ok().and_then(|index| self.racks.get(index)).cloned()
    }

    /// Controller-only nodes (`process.roles=controller`): voters past the brokers' ids, sorted.
    #[must_use]
    pub fn controller_only(&self) -> Vec<BrokerId> {
        self.voters().into_iter().filter(|id| *id > self.brokers).collect()
    }

    /// Whether `id` names a node of this cluster (a broker, or a controller-only node).
    #[must_use]
    pub fn is_node(&self, id: BrokerId) -> bool {
        (1..=self.brokers).contains(&id) || self.controllers.contains(&id)
    }

    /// The controller quorum's voters, sorted.
    #[must_use]
    pub fn voters(&self) -> Vec<BrokerId> {
        let mut voters =
            if self.controllers.is_empty() { vec![self.controller_host] } else { self.controllers.clone() };
        crate::collections::sort(&mut voters);
        voters
    }

    /// Checks the config names real brokers and sane values.
    pub fn validate(&self) -> Result<()> {
        let invalid = |why: String| Err(Error::new(ErrorCode::InvalidConfig, why));
        if !(1..=64).contains(&self.brokers) {
            return invalid(format!("brokers must be 1..=64, got {}", self.brokers));
        }
        if !self.racks.is_empty() && self.racks.len() != usize::try_from(self.brokers).unwrap_or(0) {
            return invalid(format!(
                "racks names {} racks for {} brokers: give every broker a rack (broker.rack) or none",
                self.racks.len(),
                self.brokers
            ));
        }
        if let Some(bad) = self.racks.iter().find(|rack| rack.is_empty() || rack.len() > 64) {
            return invalid(format!("a rack name has 1 to 64 characters, got {bad:?}"));
        }
        if !(1..=self.brokers).contains(&self.controller_host) {
            return invalid(format!("controller_host {} is not a broker", self.controller_host));
        }
        let mut voters = self.controllers.clone();
        crate::collections::sort(&mut voters);
        if let Some(pair) = voters.windows(2).find(|pair| pair[0] == pair[1]) {
            return invalid(format!("controllers names node {} twice", pair[0]));
        }
        // A controller past the brokers' ids is a controller-only node; together the nodes
        // are numbered 1..=N with no gaps (like `rill.cluster.nodes`).
        let nodes = self.brokers + i32::try_from(self.controller_only().len()).unwrap_or(i32::MAX);
        if let Some(stray) = voters.iter().find(|id| !(1..=nodes).contains(*id)) {
            return invalid(format!(
                "controller {stray} is not a node: brokers are 1..={} and controller-only nodes follow them \
                 ({}..={nodes} here)",
                self.brokers,
                self.brokers + 1
            ));
        }
        if nodes > 64 {
            return invalid(format!("at most 64 nodes, got {nodes}"));
        }
        if self.network.latency_min_ms > self.network.latency_max_ms {
            return invalid("latency_min_ms exceeds latency_max_ms".into());
        }
        if self.network.drop_per_million > 1_000_000 {
            return invalid("drop_per_million exceeds 1000000".into());
        }
        for fault in &self.faults {
            for broker in fault.fault.brokers() {
                if !self.is_node(broker) {
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
