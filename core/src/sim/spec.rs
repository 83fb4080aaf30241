//! [`ClusterSpec`]: a simulated cluster described as plain data (JSON, a JS object), and
//! [`Snapshot`]: what it looks like now, as plain data. The wasm API and the dashboard speak
//! these; native tests use the same types, so a scenario means the same thing everywhere.

use crate::collections::VecMap;

use serde::{Deserialize, Serialize};

use crate::broker::ReplicaView;
use crate::error::{Error, ErrorCode, Result};
use crate::placement::BrokerId;
use crate::protocol::Acks;
use crate::topic::NewTopic;

use super::checker::CheckReport;
use super::{BrokerStatus, NetworkConfig, ProducerSpec, SimConfig};

/// Most brokers a spec may ask for.
pub const SPEC_BROKERS_MAX: i32 = 16;
/// Most partitions per topic a spec may ask for.
pub const SPEC_PARTITIONS_MAX: i32 = 64;
/// Most records of a replica's log a snapshot includes (the newest).
pub const SNAPSHOT_RECORDS_MAX: usize = 200;

/// One topic of a [`ClusterSpec`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TopicSpec {
    /// Topic name.
    pub name: String,
    /// Partitions (default 1).
    #[serde(default = "one")]
    pub partitions: i32,
    /// Replication factor (default: min(3, brokers)).
    #[serde(default)]
    pub replication_factor: Option<i16>,
    /// `min.insync.replicas` (default 1).
    #[serde(default = "one")]
    pub min_insync_replicas: i32,
    /// `unclean.leader.election.enable` (default false).
    #[serde(default)]
    pub unclean_leader_election: bool,
    /// Other topic configs by Kafka key (`retention.ms`, `flush.messages`, ...).
    #[serde(default)]
    pub configs: VecMap<String, String>,
    /// Manual replica assignment, one broker list per partition (like CreateTopics'
    /// `assignments`); none for Kafka's placement.
    #[serde(default)]
    pub assignment: Option<Vec<Vec<BrokerId>>>,
}

impl TopicSpec {
    /// The JS/JSON field names (hosts that cannot use serde's `deny_unknown_fields` check
    /// against this list).
    pub const FIELDS: &'static [&'static str] = &[
        "name",
        "partitions",
        "replicationFactor",
        "minInsyncReplicas",
        "uncleanLeaderElection",
        "configs",
        "assignment",
    ];
}

/// A steady producer workload inside the simulation (no per-record calls from the host).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Topic to write.
    pub topic: String,
    /// Acks (default "all").
    #[serde(default)]
    pub acks: Option<AcksSpec>,
    /// Time between records (default 100 ms).
    #[serde(default = "hundred")]
    pub interval_ms: u64,
    /// How many records (default 1000).
    #[serde(default = "thousand")]
    pub records: u64,
    /// When to start, in virtual ms (default 0: at once).
    #[serde(default)]
    pub start_ms: u64,
    /// Keyed records (default true).
    #[serde(default = "yes")]
    pub keyed: bool,
    /// `enable.idempotence` (default true, as in Kafka; effective with acks=all).
    #[serde(default = "yes")]
    pub enable_idempotence: bool,
}

impl WorkloadSpec {
    /// The JS/JSON field names.
    pub const FIELDS: &'static [&'static str] =
        &["topic", "acks", "intervalMs", "records", "startMs", "keyed", "enableIdempotence"];
}

impl WorkloadSpec {
    /// The simulation's producer spec for this workload.
    pub fn to_producer_spec(&self) -> Result<ProducerSpec> {
        let acks = self.acks.clone().map_or(Ok(Acks::All), |acks| acks.to_acks())?;
        let mut producer = ProducerSpec::new(&self.topic, acks, self.interval_ms.max(1), self.records);
        producer.start_ms = self.start_ms;
        producer.keyed = self.keyed;
        producer.config.enable_idempotence = self.enable_idempotence;
        Ok(producer)
    }
}

fn hundred() -> u64 {
    100
}

fn thousand() -> u64 {
    1_000
}

fn one() -> i32 {
    1
}

fn three() -> i32 {
    3
}

fn latency_min() -> u64 {
    1
}

fn latency_max() -> u64 {
    5
}

/// A whole simulated cluster as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterSpec {
    /// The seed of every random decision (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Brokers, ids `1..=brokers` (default 3).
    #[serde(default = "three")]
    pub brokers: i32,
    /// The broker hosting the controller (default 1), when `controllers` is not given.
    #[serde(default)]
    pub controller_host: Option<BrokerId>,
    /// The controller quorum's voters (`controller.quorum.voters`), each beside the broker of
    /// the same id: e.g. `[1, 2, 3]`. Default: one controller on `controllerHost`.
    #[serde(default)]
    pub controllers: Vec<BrokerId>,
    /// Topics created at start.
    #[serde(default)]
    pub topics: Vec<TopicSpec>,
    /// Broker configs by Kafka key (`replica.lag.time.max.ms`, ...).
    #[serde(default)]
    pub broker_configs: VecMap<String, String>,
    /// Fastest one-way network delivery (default 1 ms).
    #[serde(default = "latency_min")]
    pub latency_min_ms: u64,
    /// Slowest one-way network delivery (default 5 ms).
    #[serde(default = "latency_max")]
    pub latency_max_ms: u64,
    /// Messages dropped per million (default 0).
    #[serde(default)]
    pub drop_per_million: u32,
    /// Keep the full trace (default true).
    #[serde(default = "yes")]
    pub record_trace: bool,
    /// Steady producer workloads.
    #[serde(default)]
    pub producers: Vec<WorkloadSpec>,
    /// Consumers, each reading every partition of the listed topics.
    #[serde(default)]
    pub consumers: Vec<Vec<String>>,
    /// Keep only about this many of the newest trace events in memory (the hash still
    /// covers all); none keeps every event.
    #[serde(default)]
    pub trace_limit: Option<usize>,
    /// Each broker's rack (`broker.rack`), in id order: e.g. `["a", "a", "b", "b"]`; none
    /// by default. With racks, replicas are placed one per rack where they can be (Kafka's
    /// rack-aware assignment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub racks: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Default for ClusterSpec {
    fn default() -> ClusterSpec {
        ClusterSpec {
            seed: 0,
            brokers: 3,
            controller_host: None,
            controllers: Vec::new(),
            topics: Vec::new(),
            broker_configs: VecMap::new(),
            latency_min_ms: 1,
            latency_max_ms: 5,
            drop_per_million: 0,
            record_trace: true,
            producers: Vec::new(),
            consumers: Vec::new(),
            trace_limit: None,
            racks: Vec::new(),
        }
    }
}

impl ClusterSpec {
    /// The JS/JSON field names.
    pub const FIELDS: &'static [&'static str] = &[
        "seed",
        "brokers",
        "controllerHost",
        "controllers",
        "topics",
        "brokerConfigs",
        "latencyMinMs",
        "latencyMaxMs",
        "dropPerMillion",
        "recordTrace",
        "producers",
        "consumers",
        "traceLimit",
        "racks",
    ];

    /// The [`SimConfig`] this spec stands for; errors name the bad field.
    pub fn to_config(&self) -> Result<SimConfig> {
        if !(1..=SPEC_BROKERS_MAX).contains(&self.brokers) {
            return Err(Error::new(
                ErrorCode::InvalidConfig,
                format!("brokers must be between 1 and {SPEC_BROKERS_MAX}, got {}", self.brokers),
            ));
        }
        let mut topics = Vec::new();
        for topic in &self.topics {
            if !(1..=SPEC_PARTITIONS_MAX).contains(&topic.partitions) {
                return Err(Error::new(
                    ErrorCode::InvalidPartitions,
                    format!(
                        "topic {}: partitions must be between 1 and {SPEC_PARTITIONS_MAX}, got {}",
                        topic.name, topic.partitions
                    ),
                ));
            }
            let replication_factor = topic
                .replication_factor
                .unwrap_or_else(|| i16::try_from(self.brokers.min(3)).expect("at most SPEC_BROKERS_MAX"));
            let mut request = NewTopic::new(&topic.name, topic.partitions, replication_factor)
                .config("min.insync.replicas", &topic.min_insync_replicas.to_string())
                .config("unclean.leader.election.enable", &topic.unclean_leader_election.to_string());
            for (key, value) in &topic.configs {
                request = request.config(key, value);
            }
            if let Some(assignment) = &topic.assignment {
                // Kafka: with manual assignments, partitions and RF come from them (-1 on the wire).
                request.partitions = -1;
                request.replication_factor = -1;
                request.assignment = Some(assignment.clone());
            }
            topics.push(request);
        }
        let mut config = SimConfig::new(self.seed, self.brokers, NewTopic::new("unused", 1, 1));
        config.topics = topics;
        config.controller_host = self.controller_host.unwrap_or(1);
        config.controllers = self.controllers.clone();
        config.broker_config.apply_pairs(&self.broker_configs).map_err(Error::from)?;
        config.network = NetworkConfig {
            latency_min_ms: self.latency_min_ms,
            latency_max_ms: self.latency_max_ms,
            drop_per_million: self.drop_per_million,
        };
        config.record_trace = self.record_trace;
        config.trace_limit = self.trace_limit;
        config.racks.clone_from(&self.racks);
        for workload in &self.producers {
            config.producers.push(workload.to_producer_spec()?);
        }
        config.consumers.clone_from(&self.consumers);
        config.group_consumers.clear();
        config.validate()?;
        Ok(config)
    }
}

/// Producer `acks` as plain data: `0`, `1`, `-1` or `"all"`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AcksSpec {
    /// 0, 1 or -1.
    Number(i16),
    /// "all" (or "0", "1", "-1").
    Text(String),
}

impl AcksSpec {
    /// The acks this stands for; anything else is `INVALID_REQUIRED_ACKS`.
    pub fn to_acks(&self) -> Result<Acks> {
        let wire = match self {
            AcksSpec::Number(number) => *number,
            AcksSpec::Text(text) => match text.as_str() {
                "all" | "-1" => -1,
                "0" => 0,
                "1" => 1,
                _ => i16::MIN,
            },
        };
        Acks::from_wire(wire)
            .map_err(|code| Error::new(code, format!("acks must be 0, 1, -1 or \"all\", got {self:?}")))
    }
}

/// A record to produce, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProduceSpec {
    /// Topic.
    pub topic: String,
    /// Key (UTF-8), or none.
    #[serde(default)]
    pub key: Option<String>,
    /// Value (UTF-8), or none (a tombstone).
    #[serde(default)]
    pub value: Option<String>,
    /// Acks (default "all").
    #[serde(default)]
    pub acks: Option<AcksSpec>,
    /// Explicit partition, or none for the partitioner.
    #[serde(default)]
    pub partition: Option<i32>,
}

impl ProduceSpec {
    /// The JS/JSON field names.
    pub const FIELDS: &'static [&'static str] = &["topic", "key", "value", "acks", "partition"];
}

/// A consumer-group member to add, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupMemberSpec {
    /// `group.id`.
    pub group_id: String,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// `range`, `roundrobin` or `cooperative-sticky` (default `range`).
    #[serde(default)]
    pub assignor: Option<String>,
    /// `earliest`, `latest` or `none` (default `latest`).
    #[serde(default)]
    pub auto_offset_reset: Option<String>,
    /// `session.timeout.ms` (default 45000).
    #[serde(default)]
    pub session_timeout_ms: Option<u64>,
    /// `group.protocol`: `classic` (default) or `consumer` (KIP-848; then `assignor` names the
    /// coordinator's assignor, `uniform` or `range`).
    #[serde(default)]
    pub group_protocol: Option<String>,
}

impl GroupMemberSpec {
    /// The JS/JSON field names.
    pub const FIELDS: &'static [&'static str] =
        &["groupId", "topics", "assignor", "autoOffsetReset", "sessionTimeoutMs", "groupProtocol"];

    /// The member config this stands for; bad names are errors.
    pub fn to_config(&self) -> Result<crate::group::member::GroupConsumerConfig> {
        use crate::group::assignor::Assignor;
        use crate::group::member::{GroupConsumerConfig, GroupProtocol, OffsetReset};
        let group_protocol = match self.group_protocol.as_deref() {
            None | Some("classic") => GroupProtocol::Classic,
            Some("consumer") => {
                let remote_assignor = self.assignor.clone();
                if let Some(name) = &remote_assignor {
                    if !crate::group::consumer::ASSIGNORS.contains(&name.as_str()) {
                        return Err(Error::new(
                            ErrorCode::InvalidConfig,
                            format!("unknown group.remote.assignor {name:?}: uniform or range"),
                        ));
                    }
                }
                GroupProtocol::Consumer { remote_assignor }
            }
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("group.protocol must be classic or consumer, got {other:?}"),
                ))
            }
        };
        let classic_assignor = if group_protocol == GroupProtocol::Classic { self.assignor.as_deref() } else { None };
        let assignor = match classic_assignor {
            None => Assignor::Range,
            Some(name) => Assignor::from_name(name).ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidConfig,
                    format!("unknown assignor {name:?}: range, roundrobin or cooperative-sticky"),
                )
            })?,
        };
        let topics: Vec<&str> = self.topics.iter().map(String::as_str).collect();
        let mut config = GroupConsumerConfig::new(&self.group_id, &topics, assignor);
        config.auto_offset_reset = match self.auto_offset_reset.as_deref() {
            None | Some("latest") => OffsetReset::Latest,
            Some("earliest") => OffsetReset::Earliest,
            Some("none") => OffsetReset::None,
            Some(other) => {
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("auto.offset.reset must be earliest, latest or none, got {other:?}"),
                ))
            }
        };
        if let Some(session_timeout_ms) = self.session_timeout_ms {
            config.session_timeout_ms = session_timeout_ms;
        }
        config.group_protocol = group_protocol;
        Ok(config)
    }
}

/// One partition in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionSnapshot {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Assigned replicas (first = preferred leader).
    pub replicas: Vec<BrokerId>,
    /// ISR as the controller has it.
    pub isr: Vec<BrokerId>,
    /// Leader, if any.
    pub leader: Option<BrokerId>,
    /// Leader epoch.
    pub leader_epoch: i32,
    /// ISR smaller than the replica set.
    pub under_replicated: bool,
    /// No leader.
    pub offline: bool,
}

/// A record in a replica's log, in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordSnapshot {
    /// Offset.
    pub offset: i64,
    /// Leader epoch of its batch.
    pub leader_epoch: i32,
    /// Key (lossy UTF-8).
    pub key: Option<String>,
    /// Value (lossy UTF-8).
    pub value: Option<String>,
}

/// One replica in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSnapshot {
    /// Where it stands.
    #[serde(flatten)]
    pub view: ReplicaView,
    /// The newest records (at most [`SNAPSHOT_RECORDS_MAX`]).
    pub records: Vec<RecordSnapshot>,
}

/// A producer in a [`Snapshot`]: what it sent and what became of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProducerSnapshot {
    /// Client number.
    pub client: u32,
    /// Topic it writes to (the last one, for one-off records).
    pub topic: String,
    /// Its acks (wire value: -1 = all).
    pub acks: i16,
    /// Records handed to it.
    pub sent: u64,
    /// Records acknowledged (acks=0: sent).
    pub acknowledged: u64,
    /// Records that failed for good.
    pub failed: u64,
    /// Acknowledged after more than one attempt.
    pub retried: u64,
    /// Waiting to be sent (metadata, backoff, `max.in.flight`).
    pub queued: u64,
    /// Sent, not answered yet.
    pub in_flight: u64,
    /// When the oldest request in flight times out (`request.timeout.ms` after it was sent).
    pub request_deadline_ms: Option<u64>,
    /// From `send()` to the acknowledgement, for the last record acknowledged: with acks=all,
    /// how long the slowest in-sync replica took.
    pub ack_latency_ms: Option<u64>,
}

/// One broker in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BrokerSnapshot {
    /// Broker id.
    pub id: BrokerId,
    /// Up, paused or down.
    pub status: BrokerStatus,
    /// A controller-only node (`process.roles=controller`): it hosts a controller of the
    /// quorum and no replicas.
    pub controller_only: bool,
    /// Fenced by the controller.
    pub fenced: bool,
    /// Hosts the controller.
    pub controller: bool,
    /// Its rack (`broker.rack`), if any.
    pub rack: Option<String>,
    /// When the controller fences it unless a heartbeat arrives (`broker.session.timeout.ms`
    /// after the last one); `None` while fenced.
    pub session_deadline_ms: Option<u64>,
    /// How long each write to its log waits for a slow disk ([`crate::sim::Fault::SlowDisk`]);
    /// 0 for a healthy disk.
    pub disk_delay_ms: u64,
    /// Its replicas (empty while down).
    pub replicas: Vec<ReplicaSnapshot>,
}

/// A group member in a [`Snapshot`]: the client's view, and the coordinator's session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberSnapshot {
    /// Client number.
    pub client: u32,
    /// Member id.
    pub member_id: String,
    /// Generation it last synced in.
    pub generation_id: i32,
    /// Consuming with an assignment.
    pub stable: bool,
    /// Its partitions (a stopped member's: what it owned when it stopped, still its own in
    /// the group until its session expires).
    pub partitions: Vec<String>,
    /// The client stopped without leaving; the coordinator still counts it a member.
    pub stopped: bool,
    /// When the coordinator expires its session unless it heartbeats (absent when the
    /// coordinator does not know the member yet).
    pub session_expires_ms: Option<u64>,
}

/// A committed offset and the lag behind the high watermark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OffsetSnapshot {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Committed offset.
    pub committed: i64,
    /// The leader's high watermark, if a leader is up.
    pub high_watermark: Option<i64>,
    /// HW − committed.
    pub lag: Option<i64>,
}

/// A consumer group in a [`Snapshot`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupSnapshot {
    /// Group id.
    pub group_id: String,
    /// The coordinating broker.
    pub coordinator: BrokerId,
    /// State at the coordinator.
    pub state: String,
    /// Generation at the coordinator.
    pub generation_id: i32,
    /// Assignor in use.
    pub protocol: String,
    /// Leader member id.
    pub leader: String,
    /// Members as the clients see themselves.
    pub members: Vec<MemberSnapshot>,
    /// Committed offsets with lag.
    pub offsets: Vec<OffsetSnapshot>,
}

/// The whole simulated cluster at one moment, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// Virtual time.
    pub now_ms: u64,
    /// Events processed.
    pub events: u64,
    /// Trace hash (hex).
    pub trace_hash: String,
    /// Metadata epoch at the controller.
    pub metadata_epoch: i64,
    /// Brokers.
    pub brokers: Vec<BrokerSnapshot>,
    /// Partitions as the controller has them.
    pub partitions: Vec<PartitionSnapshot>,
    /// Cut links as (from, to) broker pairs.
    pub cut_links: Vec<(BrokerId, BrokerId)>,
    /// Producers (workloads and the one that sends single records).
    pub producers: Vec<ProducerSnapshot>,
    /// Consumer groups, from their coordinators.
    pub groups: Vec<GroupSnapshot>,
    /// The controller quorum, one entry per voter.
    pub quorum: Vec<QuorumMemberSnapshot>,
    /// What the checkers found.
    pub report: CheckReport,
}

/// One controller of the quorum, as `kafka-metadata-quorum --describe --replication` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuorumMemberSnapshot {
    /// Its node id.
    pub id: BrokerId,
    /// Whether its process runs (its host's status).
    pub status: BrokerStatus,
    /// Leader, Follower, Prospective, Candidate, Unattached or Resigned (absent while down).
    pub role: Option<crate::raft::RoleKind>,
    /// Its quorum epoch.
    pub epoch: i32,
    /// The quorum leader it knows.
    pub leader: Option<BrokerId>,
    /// Whether it is the active controller.
    pub active: bool,
    /// Where its newest snapshot ends and its metadata log starts (KIP-630; 0 without one).
    pub log_start_offset: i64,
    /// Its metadata log end offset.
    pub log_end_offset: i64,
    /// The quorum high watermark it knows.
    pub high_watermark: i64,
    /// The leader's view of how far it fetched (on the leader's entry: none).
    pub fetched_offset: Option<i64>,
}
