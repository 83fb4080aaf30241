//! Broker and topic configuration with Kafka's names and defaults.
//!
//! Each config struct is generated from one table (name, Kafka key, default, check), so the
//! parser, the validator, `DescribeConfigs`-style listings and the docs cannot drift apart.
//! Values come in as strings (`key=value` properties, CLI flags) or as [`ConfigValue`]s (a
//! parsed TOML or JSON table); unknown keys are an error, and every error names the key and
//! the value.
//!
//! Rill-only keys start with `rill.`; every other key means what it means in Apache Kafka.

use crate::collections::VecMap;
use std::fmt;

use crate::error::{Error, ErrorCode};

mod fields;
use fields::{at_least, between, optional_at_least};
pub use fields::{CleanupPolicy, CompressionType, ConfigField, Ratio, TimestampType};

/// A bad configuration key or value. Its text is Kafka's `ConfigException` text: `Invalid
/// value 0 for configuration num.partitions: Value must be at least 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The key as given.
    pub key: String,
    /// The value as given (or as rendered, for cross-field checks).
    pub value: String,
    /// What is wrong with it (Kafka's wording where Kafka has one).
    pub reason: String,
    /// What kind of mistake it is.
    pub kind: ConfigErrorKind,
}

/// What a [`ConfigError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigErrorKind {
    /// A known key with a bad value.
    InvalidValue,
    /// A key this config does not have (`reason` is the whole message).
    UnknownKey,
    /// Text that is not a config at all, such as a line without `=` (`reason` is the whole message).
    Syntax,
}

impl ConfigError {
    /// A bad value for `key`.
    #[must_use]
    pub fn new(key: &str, value: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            key: key.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
            kind: ConfigErrorKind::InvalidValue,
        }
    }

    fn unknown(key: &str, value: &str, message: String) -> ConfigError {
        ConfigError { key: key.to_owned(), value: value.to_owned(), reason: message, kind: ConfigErrorKind::UnknownKey }
    }

    fn syntax(key: &str, message: String) -> ConfigError {
        ConfigError { key: key.to_owned(), value: String::new(), reason: message, kind: ConfigErrorKind::Syntax }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ConfigErrorKind::InvalidValue => {
                write!(f, "Invalid value {} for configuration {}: {}", self.value, self.key, self.reason)
            }
            ConfigErrorKind::UnknownKey | ConfigErrorKind::Syntax => f.write_str(&self.reason),
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<ConfigError> for Error {
    fn from(error: ConfigError) -> Error {
        Error::new(ErrorCode::InvalidConfig, error.to_string())
    }
}

/// A typed value from a structured source (a TOML or JSON table).
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// `true` / `false`.
    Bool(bool),
    /// An integer. (A floating point number arrives as [`ConfigValue::Str`] in its written
    /// form: the only decimal configs are [`Ratio`]s, parsed from text.)
    Int(i64),
    /// A string.
    Str(String),
    /// A list, rendered comma-separated as Kafka's `LIST` type is.
    List(Vec<String>),
    /// A nested table: TOML's dotted keys (`log.retention.hours = 24`) arrive nested, and
    /// [`flatten_values`] joins them back into Kafka's dotted names.
    Table(VecMap<String, ConfigValue>),
}

impl ConfigValue {
    /// The value as Kafka's string form (a table renders empty; flatten it first).
    #[must_use]
    pub fn to_config_string(&self) -> String {
        match self {
            ConfigValue::Bool(value) => value.to_string(),
            ConfigValue::Int(value) => value.to_string(),
            ConfigValue::Str(value) => value.clone(),
            ConfigValue::List(values) => values.join(","),
            ConfigValue::Table(_) => String::new(),
        }
    }
}

/// Most levels of nesting [`flatten_values`] follows (a limit on everything).
const CONFIG_NESTING_MAX: usize = 16;

/// Flattens nested tables into `(dotted.key, value)` pairs, in key order: a TOML file with
/// `[log] retention.hours = 24` or `log.retention.hours = 24` gives `log.retention.hours`.
pub fn flatten_values<K: AsRef<str>>(
    values: impl IntoIterator<Item = (K, ConfigValue)>,
) -> Result<Vec<(String, ConfigValue)>, ConfigError> {
    fn walk(
        prefix: &str,
        value: ConfigValue,
        depth: usize,
        out: &mut Vec<(String, ConfigValue)>,
    ) -> Result<(), ConfigError> {
        match value {
            ConfigValue::Table(table) => {
                if depth >= CONFIG_NESTING_MAX {
                    return Err(ConfigError::syntax(prefix, format!("{prefix}: tables are nested too deeply")));
                }
                for (key, value) in table {
                    walk(&format!("{prefix}.{key}"), value, depth + 1, out)?;
                }
                Ok(())
            }
            value => {
                out.push((prefix.to_owned(), value));
                Ok(())
            }
        }
    }
    let mut out = Vec::new();
    for (key, value) in values {
        match value {
            ConfigValue::Table(table) => {
                for (inner, value) in table {
                    walk(&format!("{}.{inner}", key.as_ref()), value, 1, &mut out)?;
                }
            }
            value => out.push((key.as_ref().to_owned(), value)),
        }
    }
    Ok(out)
}

/// One line of a config listing (what `DescribeConfigs` returns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigEntry {
    /// Kafka key.
    pub name: &'static str,
    /// Current value as a string (empty for null).
    pub value: String,
    /// `true` when the value is the default.
    pub is_default: bool,
    /// One-line description.
    pub doc: &'static str,
}

/// Splits `key=value` properties text (Java `.properties` style: `#`/`!` comments, `=` or `:`).
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let mut pairs = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(split) = line.find(['=', ':']) else {
            return Err(ConfigError::syntax(line, format!("line {} is not key=value: {line}", index + 1)));
        };
        pairs.push((line[..split].trim().to_owned(), line[split + 1..].trim().to_owned()));
    }
    Ok(pairs)
}

/// Parses `value` into `slot`. Every table's `set` calls it, so its code exists once per field
/// type rather than once per key (the broker table has ~60 keys; ~8 KB of WebAssembly).
#[inline(never)]
fn set_field<T: ConfigField>(slot: &mut T, key: &str, value: &str) -> Result<(), ConfigError> {
    *slot = T::parse(value).map_err(|reason| ConfigError::new(key, value, reason))?;
    Ok(())
}

macro_rules! config_struct {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident : $ty:ty = $key:literal, $default:expr $(, check $check:expr)? ;
            )*
        }
    ) => {
        $(#[$struct_meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $name {
            /// Every key this config accepts.
            pub const KEYS: &'static [&'static str] = &[ $( $key, )* ];

            /// Sets one key from its string form. Unknown keys and unparsable values are errors.
            pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
                match key {
                    $( $key => set_field(&mut self.$field, key, value), )*
                    _ => Err(ConfigError::unknown(key, value, $name::unknown_key_message(key))),
                }
            }

            /// The current value of a key as a string, or `None` for an unknown key.
            #[must_use]
            pub fn get(&self, key: &str) -> Option<String> {
                match key {
                    $( $key => Some(ConfigField::render(&self.$field)), )*
                    _ => None,
                }
            }

            /// Every key with its value, whether it is the default, and its doc.
            #[must_use]
            pub fn entries(&self) -> Vec<ConfigEntry> {
                let defaults = $name::default();
                vec![ $( ConfigEntry {
                    name: $key,
                    value: ConfigField::render(&self.$field),
                    is_default: self.$field == defaults.$field,
                    doc: $doc.trim(),
                }, )* ]
            }

            /// Sets each pair in order, then validates.
            pub fn from_pairs<K: AsRef<str>, V: AsRef<str>>(
                pairs: impl IntoIterator<Item = (K, V)>,
            ) -> Result<Self, ConfigError> {
                let mut config = $name::default();
                config.apply_pairs(pairs)?;
                config.validate()?;
                Ok(config)
            }

            /// Sets each pair in order on this config, without validating.
            pub fn apply_pairs<K: AsRef<str>, V: AsRef<str>>(
                &mut self,
                pairs: impl IntoIterator<Item = (K, V)>,
            ) -> Result<(), ConfigError> {
                for (key, value) in pairs {
                    self.set(key.as_ref(), value.as_ref())?;
                }
                Ok(())
            }

            /// Parses `key=value` lines, then validates.
            pub fn from_properties(text: &str) -> Result<Self, ConfigError> {
                $name::from_pairs(parse_properties(text)?)
            }

            /// Builds from a structured table (e.g. a parsed TOML file; nested tables are
            /// flattened into dotted keys), then validates.
            pub fn from_values<K: AsRef<str>>(
                values: impl IntoIterator<Item = (K, ConfigValue)>,
            ) -> Result<Self, ConfigError> {
                let pairs = flatten_values(values)?;
                $name::from_pairs(pairs.into_iter().map(|(key, value)| (key, value.to_config_string())))
            }

            /// Keys whose value differs from the default, as strings.
            #[must_use]
            pub fn overrides(&self) -> VecMap<&'static str, String> {
                self.entries()
                    .into_iter()
                    .filter(|entry| !entry.is_default)
                    .map(|entry| (entry.name, entry.value))
                    .collect()
            }

            fn check_fields(&self) -> Result<(), ConfigError> {
                $( $(
                    ($check)(&self.$field).map_err(|reason| {
                        ConfigError::new($key, &ConfigField::render(&self.$field), reason)
                    })?;
                )? )*
                Ok(())
            }
        }
    };
}

config_struct! {
    /// Per-topic configuration (Kafka's `LogConfig`), settable at topic creation.
    pub struct TopicConfig {
        /// Whether old segments are deleted (`delete`), compacted (`compact`) or both.
        cleanup_policy: CleanupPolicy = "cleanup.policy", CleanupPolicy::DELETE;
        /// Delete segments whose newest record is older than this (-1: keep forever). 168 h.
        retention_ms: i64 = "retention.ms", 604_800_000, check at_least(-1);
        /// Delete oldest segments while the partition is larger than this (-1: no limit).
        retention_bytes: i64 = "retention.bytes", -1, check at_least(-1);
        /// Roll a new segment when the active one would exceed this size. 1 GiB.
        segment_bytes: i32 = "segment.bytes", 1_073_741_824, check at_least(14);
        /// Roll a new segment when the active one's first record is older than this. 7 d.
        segment_ms: i64 = "segment.ms", 604_800_000, check at_least(1);
        /// With acks=all, the fewest in-sync replicas that must hold a write.
        min_insync_replicas: i32 = "min.insync.replicas", 1, check at_least(1);
        /// Allow electing an out-of-sync replica as leader (may lose committed data).
        unclean_leader_election_enable: bool = "unclean.leader.election.enable", false;
        /// The largest record batch the log accepts, in bytes.
        max_message_bytes: i32 = "max.message.bytes", 1_048_588, check at_least(0);
        /// Flush after this many records are appended (Kafka default: never, leave it to the OS).
        flush_messages: i64 = "flush.messages", i64::MAX, check at_least(1);
        /// Flush when the oldest unflushed record is this old (Kafka default: never).
        flush_ms: i64 = "flush.ms", i64::MAX, check at_least(0);
        /// How long compaction keeps tombstones (null values). 1 d.
        delete_retention_ms: i64 = "delete.retention.ms", 86_400_000, check at_least(0);
        /// Compact when this share of the log is uncompacted.
        min_cleanable_dirty_ratio: Ratio = "min.cleanable.dirty.ratio", Ratio::from_millionths(500_000), check between(Ratio::ZERO, Ratio::ONE);
        /// Keep the producer's timestamp (`CreateTime`) or use the broker's (`LogAppendTime`).
        message_timestamp_type: TimestampType = "message.timestamp.type", TimestampType::CreateTime;
        /// The codec the log stores batches with; `producer` keeps the producer's.
        compression_type: CompressionType = "compression.type", CompressionType::Producer;
    }
}

impl TopicConfig {
    /// Kafka's message for a topic config it does not know.
    fn unknown_key_message(key: &str) -> String {
        format!("Unknown topic config name: {key}")
    }

    /// Checks every value's range and the rules between values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields()
    }
}

config_struct! {
    /// Broker configuration (Kafka's `KafkaConfig`). Topic defaults use the `log.` names.
    pub struct BrokerConfig {
        /// This broker's id; required.
        node_id: i32 = "node.id", -1;
        /// The broker's rack, for rack-aware replica placement.
        broker_rack: Option<String> = "broker.rack", None;
        /// Addresses to listen on, e.g. `PLAINTEXT://127.0.0.1:9092`.
        listeners: String = "listeners", "PLAINTEXT://:9092".to_owned();
        /// Addresses clients are told to use (defaults to `listeners`).
        advertised_listeners: Option<String> = "advertised.listeners", None;
        /// Directories holding partition logs (comma-separated).
        log_dirs: String = "log.dirs", "/tmp/kraft-combined-logs".to_owned();
        /// Partitions of an auto-created topic or a CreateTopics request with -1.
        num_partitions: i32 = "num.partitions", 1, check at_least(1);
        /// Replication factor of an auto-created topic or a CreateTopics request with -1.
        default_replication_factor: i16 = "default.replication.factor", 1, check at_least(1);
        /// Rill-only: the largest replication factor a topic may ask for.
        max_replication_factor: i16 = "rill.max.replication.factor", 10, check at_least(1);
        /// Rill: a multi-broker cluster's nodes, `id@host:kafka_port:internal_port,...` (the same list on every node, the first hosts the controller); empty for one node.
        cluster_nodes: String = "rill.cluster.nodes", String::new();
        /// The controller quorum's voters, `id@host:port,...` (Kafka's form; Rill reads the ids and reaches each voter over `rill.cluster.nodes`); empty: one controller, on the first node.
        controller_quorum_voters: String = "controller.quorum.voters", String::new();
        /// Rill-only: a controller snapshots its metadata log (KIP-630) after this many committed records since its last snapshot (each Rill record is a whole metadata image, so this stands in for Kafka's `metadata.log.max.record.bytes.between.snapshots`).
        metadata_log_max_records_between_snapshots: i64 = "rill.metadata.log.max.records.between.snapshots", 100, check at_least(1);
        /// A controller snapshots its metadata log when its last snapshot is this old and records came since (0: never by time). 1 h.
        metadata_log_max_snapshot_interval_ms: i64 = "metadata.log.max.snapshot.interval.ms", 3_600_000, check at_least(0);
        /// Rill-only: the most partitions one topic may have.
        max_partitions_per_topic: i32 = "rill.max.partitions.per.topic", 10_000, check at_least(1);
        /// Default `min.insync.replicas` for topics.
        min_insync_replicas: i32 = "min.insync.replicas", 1, check at_least(1);
        /// Default `unclean.leader.election.enable` for topics.
        unclean_leader_election_enable: bool = "unclean.leader.election.enable", false;
        /// A follower that has not caught up for this long leaves the ISR.
        replica_lag_time_max_ms: i64 = "replica.lag.time.max.ms", 30_000, check at_least(1);
        /// Longest a follower fetch waits for data.
        replica_fetch_wait_max_ms: i32 = "replica.fetch.wait.max.ms", 500, check at_least(0);
        /// Bytes a follower asks for per partition.
        replica_fetch_max_bytes: i32 = "replica.fetch.max.bytes", 1_048_576, check at_least(0);
        /// How long a follower waits for a fetch response before sending a new fetch.
        replica_socket_timeout_ms: i32 = "replica.socket.timeout.ms", 30_000, check at_least(1);
        /// How long a follower waits after a failed fetch before retrying.
        replica_fetch_backoff_ms: i32 = "replica.fetch.backoff.ms", 1_000, check at_least(0);
        /// How often a broker checkpoints its replicas' high watermarks to disk.
        replica_high_watermark_checkpoint_interval_ms: i64 = "replica.high.watermark.checkpoint.interval.ms", 5_000, check at_least(1);
        /// Rill-only, for the lesson (the simulation and dashboard; the broker refuses it): replicate as Kafka did before 0.11 (KIP-101) — a new follower truncates its log to its high watermark (after a restart, the last checkpointed one) instead of asking the leader where the logs diverge. Loses acknowledged writes.
        truncate_to_high_watermark: bool = "rill.truncate.to.high.watermark", false;
        /// A broker without a heartbeat for this long is fenced (KRaft).
        broker_session_timeout_ms: i32 = "broker.session.timeout.ms", 9_000, check at_least(1);
        /// How often a broker heartbeats to the controller.
        broker_heartbeat_interval_ms: i32 = "broker.heartbeat.interval.ms", 2_000, check at_least(1);
        /// Default `segment.bytes` for topics.
        log_segment_bytes: i32 = "log.segment.bytes", 1_073_741_824, check at_least(14);
        /// Default `segment.ms` for topics; overrides `log.roll.hours` when set.
        log_roll_ms: Option<i64> = "log.roll.ms", None, check optional_at_least(1);
        /// Default `segment.ms` in hours.
        log_roll_hours: i32 = "log.roll.hours", 168, check at_least(1);
        /// Default `retention.ms`; overrides minutes and hours when set.
        log_retention_ms: Option<i64> = "log.retention.ms", None, check optional_at_least(-1);
        /// Default retention in minutes; overrides hours when set.
        log_retention_minutes: Option<i32> = "log.retention.minutes", None, check optional_at_least(-1);
        /// Default retention in hours.
        log_retention_hours: i32 = "log.retention.hours", 168, check at_least(-1);
        /// Default `retention.bytes` for topics.
        log_retention_bytes: i64 = "log.retention.bytes", -1, check at_least(-1);
        /// How often retention runs.
        log_retention_check_interval_ms: i64 = "log.retention.check.interval.ms", 300_000, check at_least(1);
        /// Default `cleanup.policy` for topics.
        log_cleanup_policy: CleanupPolicy = "log.cleanup.policy", CleanupPolicy::DELETE;
        /// Default `flush.messages` for topics.
        log_flush_interval_messages: i64 = "log.flush.interval.messages", i64::MAX, check at_least(1);
        /// Default `flush.ms` for topics.
        log_flush_interval_ms: Option<i64> = "log.flush.interval.ms", None, check optional_at_least(0);
        /// Default `max.message.bytes` for topics.
        message_max_bytes: i32 = "message.max.bytes", 1_048_588, check at_least(0);
        /// Default `delete.retention.ms` for compacted topics.
        log_cleaner_delete_retention_ms: i64 = "log.cleaner.delete.retention.ms", 86_400_000, check at_least(0);
        /// Default `min.cleanable.dirty.ratio`.
        log_cleaner_min_cleanable_ratio: Ratio = "log.cleaner.min.cleanable.ratio", Ratio::from_millionths(500_000), check between(Ratio::ZERO, Ratio::ONE);
        /// Default `message.timestamp.type`.
        log_message_timestamp_type: TimestampType = "log.message.timestamp.type", TimestampType::CreateTime;
        /// Default `compression.type` for topics.
        compression_type: CompressionType = "compression.type", CompressionType::Producer;
        /// Partitions of `__consumer_offsets`.
        offsets_topic_num_partitions: i32 = "offsets.topic.num.partitions", 50, check at_least(1);
        /// Replication factor of `__consumer_offsets`.
        offsets_topic_replication_factor: i16 = "offsets.topic.replication.factor", 3, check at_least(1);
        /// How long an OffsetCommit waits for `__consumer_offsets` replication.
        offsets_commit_timeout_ms: i32 = "offsets.commit.timeout.ms", 5_000, check at_least(1);
        /// How long committed offsets of an empty group are kept. 7 d.
        offsets_retention_minutes: i32 = "offsets.retention.minutes", 10_080, check at_least(1);
        /// Delay before the first rebalance of a new group.
        group_initial_rebalance_delay_ms: i32 = "group.initial.rebalance.delay.ms", 3_000, check at_least(0);
        /// Smallest `session.timeout.ms` a consumer may ask for.
        group_min_session_timeout_ms: i32 = "group.min.session.timeout.ms", 6_000, check at_least(0);
        /// Largest `session.timeout.ms` a consumer may ask for.
        group_max_session_timeout_ms: i32 = "group.max.session.timeout.ms", 1_800_000, check at_least(0);
        /// Most members a group may have.
        group_max_size: i32 = "group.max.size", i32::MAX, check at_least(1);
        /// Create a topic when a client asks for metadata of an unknown one.
        auto_create_topics_enable: bool = "auto.create.topics.enable", true;
        /// Allow DeleteTopics.
        delete_topic_enable: bool = "delete.topic.enable", true;
        /// Move leadership back to preferred replicas periodically.
        auto_leader_rebalance_enable: bool = "auto.leader.rebalance.enable", true;
        /// How often the preferred-leader check runs.
        leader_imbalance_check_interval_seconds: i64 = "leader.imbalance.check.interval.seconds", 300, check at_least(1);
        /// Imbalance per broker that triggers a preferred-leader election.
        leader_imbalance_per_broker_percentage: i32 = "leader.imbalance.per.broker.percentage", 10, check between(0, 100);
        /// Largest request frame the broker reads. 100 MiB.
        socket_request_max_bytes: i32 = "socket.request.max.bytes", 104_857_600, check at_least(1);
    }
}

impl BrokerConfig {
    /// A key Rill's broker table does not hold (the broker's config loader knows Kafka's
    /// other keys; this is what the core says alone).
    fn unknown_key_message(key: &str) -> String {
        format!("Unknown configuration '{key}'")
    }

    /// The voter ids of `controller.quorum.voters` (`1@host:9093,2@host:9093`), sorted; empty
    /// when unset. Malformed entries and repeated ids are errors naming the entry.
    pub fn quorum_voter_ids(&self) -> Result<Vec<i32>, String> {
        let text = self.controller_quorum_voters.trim();
        let mut ids = Vec::new();
        for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let bad = || {
                format!("Invalid value {text} for configuration controller.quorum.voters: {entry} is not id@host:port")
            };
            let (id, address) = entry.split_once('@').ok_or_else(bad)?;
            let id: i32 = id.trim().parse().map_err(|_| bad())?;
            if id < 0 || !address.contains(':') {
                return Err(bad());
            }
            if ids.contains(&id) {
                return Err(format!("controller.quorum.voters names node {id} twice: {text}"));
            }
            ids.push(id);
        }
        crate::collections::sort(&mut ids);
        Ok(ids)
    }

    /// Defaults for broker `node_id`.
    #[must_use]
    pub fn for_node(node_id: i32) -> BrokerConfig {
        BrokerConfig { node_id, ..BrokerConfig::default() }
    }

    /// Checks every value's range and the rules between values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.check_fields()?;
        if self.node_id < 0 {
            return Err(ConfigError::new(
                "node.id",
                &self.node_id.to_string(),
                "Value must be at least 0 (node.id is required)",
            ));
        }
        if self.default_replication_factor > self.max_replication_factor {
            return Err(ConfigError::new(
                "default.replication.factor",
                &self.default_replication_factor.to_string(),
                format!("exceeds rill.max.replication.factor {}", self.max_replication_factor),
            ));
        }
        if self.group_min_session_timeout_ms > self.group_max_session_timeout_ms {
            return Err(ConfigError::new(
                "group.min.session.timeout.ms",
                &self.group_min_session_timeout_ms.to_string(),
                format!("exceeds group.max.session.timeout.ms {}", self.group_max_session_timeout_ms),
            ));
        }
        if self.broker_heartbeat_interval_ms >= self.broker_session_timeout_ms {
            return Err(ConfigError::new(
                "broker.heartbeat.interval.ms",
                &self.broker_heartbeat_interval_ms.to_string(),
                format!("must be less than broker.session.timeout.ms {}", self.broker_session_timeout_ms),
            ));
        }
        Ok(())
    }

    /// Effective `log.retention.ms`: ms, else minutes, else hours (Kafka's precedence).
    #[must_use]
    pub fn log_retention_ms_effective(&self) -> i64 {
        let from_minutes = self.log_retention_minutes.map(|minutes| i64::from(minutes) * 60_000);
        let from_hours = i64::from(self.log_retention_hours) * 3_600_000;
        let value = self.log_retention_ms.or(from_minutes).unwrap_or(from_hours);
        // Any negative value means "forever", which topics spell -1.
        value.max(-1)
    }

    /// Effective `log.roll.ms`: ms, else hours.
    #[must_use]
    pub fn log_roll_ms_effective(&self) -> i64 {
        self.log_roll_ms.unwrap_or(i64::from(self.log_roll_hours) * 3_600_000)
    }

    /// The topic config a new topic starts from: the broker's `log.*` defaults.
    #[must_use]
    pub fn topic_defaults(&self) -> TopicConfig {
        TopicConfig {
            cleanup_policy: self.log_cleanup_policy,
            retention_ms: self.log_retention_ms_effective(),
            retention_bytes: self.log_retention_bytes,
            segment_bytes: self.log_segment_bytes,
            segment_ms: self.log_roll_ms_effective(),
            min_insync_replicas: self.min_insync_replicas,
            unclean_leader_election_enable: self.unclean_leader_election_enable,
            max_message_bytes: self.message_max_bytes,
            flush_messages: self.log_flush_interval_messages,
            flush_ms: self.log_flush_interval_ms.unwrap_or(i64::MAX),
            delete_retention_ms: self.log_cleaner_delete_retention_ms,
            min_cleanable_dirty_ratio: self.log_cleaner_min_cleanable_ratio,
            message_timestamp_type: self.log_message_timestamp_type,
            compression_type: self.compression_type,
        }
    }

    /// A topic config: the broker defaults with `overrides` applied, validated.
    pub fn topic_config<K: AsRef<str>, V: AsRef<str>>(
        &self,
        overrides: impl IntoIterator<Item = (K, V)>,
    ) -> Result<TopicConfig, ConfigError> {
        let mut config = self.topic_defaults();
        config.apply_pairs(overrides)?;
        config.validate()?;
        Ok(config)
    }
}
