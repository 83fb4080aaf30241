//! The broker's configuration as a Kafka broker reads it (issue 18): a `server.properties` or
//! TOML file and `--set` overrides, with Kafka's names.
//!
//! Every key is sorted into one of four kinds:
//! - a key Rill implements (the core's [`BrokerConfig`] table, or the listener keys this module
//!   resolves): checked with Kafka's rules first, then applied;
//! - a Kafka key Rill accepts but does not act on (thread counts, socket buffers, the
//!   transaction and share-group topics, …): checked with Kafka's rules, then listed in one
//!   startup line that says they have no effect;
//! - a `rill.*` key Rill does not have: refused (a typo in Rill's own names);
//! - any other key: a warning in the words of Kafka's `AbstractConfig.logUnused`, and the broker
//!   starts (Kafka 4.4's broker starts with such a key too).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use rill_core::config::{flatten_values, BrokerConfig, ConfigValue};

use crate::kafka_config::kafka_key;

/// Where a value came from, as `kafka-configs --describe --all` names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// Kafka's (or Rill's) default.
    Default,
    /// Rill's default for a broker started without a config file (one local node).
    LocalDefault,
    /// The config file.
    File(PathBuf),
    /// A `--set KEY=VALUE` argument.
    CommandLine,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("DEFAULT_CONFIG"),
            Source::LocalDefault => f.write_str("DEFAULT_CONFIG (Rill's one-node default)"),
            Source::File(path) => write!(f, "STATIC_BROKER_CONFIG ({})", path.display()),
            Source::CommandLine => f.write_str("STATIC_BROKER_CONFIG (--set)"),
        }
    }
}

/// Listener keys this module resolves (the core's table holds `listeners` and
/// `advertised.listeners`).
const LISTENER_KEYS: &[&str] =
    &["process.roles", "controller.listener.names", "inter.broker.listener.name", "listener.security.protocol.map"];

/// Kafka's default `listener.security.protocol.map`.
const DEFAULT_PROTOCOL_MAP: &str = "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT";

/// One `NAME://host:port` entry of `listeners` or `advertised.listeners`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// The listener name (`PLAINTEXT`, `CONTROLLER`, `INTERNAL`, …).
    pub name: String,
    /// The host; empty means every interface (for `listeners`).
    pub host: String,
    /// The port.
    pub port: u16,
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}:{}", self.name, self.host, self.port)
    }
}

fn parse_endpoints(key: &str, text: &str) -> Result<Vec<Endpoint>, String> {
    let mut endpoints: Vec<Endpoint> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let bad = |why: &str| format!("Invalid value {text} for configuration {key}: {entry} {why}");
        let (name, address) = entry.split_once("://").ok_or_else(|| bad("is not NAME://host:port"))?;
        let (host, port) = address.rsplit_once(':').ok_or_else(|| bad("has no port"))?;
        let port: u16 = port.parse().map_err(|_| bad("has an invalid port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let name = name.to_ascii_uppercase();
        if endpoints.iter().any(|known| known.name == name) {
            return Err(format!("Each listener must have a different name, listeners: {text}"));
        }
        endpoints.push(Endpoint { name, host: host.to_owned(), port });
    }
    Ok(endpoints)
}

/// The listeners resolved as Kafka resolves them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listeners {
    /// The listener Kafka clients (and other brokers) use: `inter.broker.listener.name`, or the
    /// only listener that is not a controller listener.
    pub client: Endpoint,
    /// Where Rill binds it.
    pub bind: SocketAddr,
    /// The host and port the broker advertises for it.
    pub advertised: (String, u16),
    /// Controller listeners (`controller.listener.names`): Rill does not open them; its
    /// controller traffic goes over `rill.cluster.nodes`.
    pub controller: Vec<Endpoint>,
}

/// `process.roles`: what this node runs (Kafka's `KafkaConfig.processRoles`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roles {
    /// It runs a broker (`broker`).
    pub broker: bool,
    /// It runs a controller (`controller`).
    pub controller: bool,
    /// `process.roles` was set; unset, Rill runs every node as a broker and makes the voters
    /// of `controller.quorum.voters` controllers too (KRaft's combined mode).
    pub explicit: bool,
}

impl Roles {
    /// From `process.roles` (`None`: not set).
    pub fn parse(value: Option<&str>) -> Result<Roles, String> {
        let Some(value) = value else {
            return Ok(Roles { broker: true, controller: true, explicit: false });
        };
        let roles: Vec<&str> = value.split(',').map(str::trim).filter(|role| !role.is_empty()).collect();
        if roles.is_empty() {
            return Err("process.roles is empty: use broker, controller or broker,controller".to_owned());
        }
        Ok(Roles { broker: roles.contains(&"broker"), controller: roles.contains(&"controller"), explicit: true })
    }

    /// Kafka's rule: a node runs a controller exactly when `controller.quorum.voters` names
    /// it (checked when `process.roles` is set).
    pub fn check(self, node_id: i32, voters: &[i32]) -> Result<(), String> {
        let voter = voters.contains(&node_id);
        // Kafka's words, its Scala `Set` included.
        let set = || format!("Set({})", voters.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "));
        if !self.explicit {
            return Ok(());
        }
        if self.controller && !voter {
            return Err(format!(
                "If process.roles contains the 'controller' role, the node id {node_id} must be included in the set \
                 of voters controller.quorum.voters={}",
                set()
            ));
        }
        if !self.controller && voter {
            return Err(format!(
                "If process.roles contains just the 'broker' role, the node id {node_id} must not be included in the \
                 set of voters controller.quorum.voters={}",
                set()
            ));
        }
        Ok(())
    }

    /// As `process.roles` writes them.
    #[must_use]
    pub fn text(self) -> &'static str {
        match (self.broker, self.controller) {
            (true, true) => "broker,controller",
            (true, false) => "broker",
            (false, _) => "controller",
        }
    }
}

/// The loaded configuration.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The core's broker config.
    pub config: BrokerConfig,
    /// The listeners.
    pub listeners: Listeners,
    /// `process.roles` (Kafka's default here: `broker,controller`).
    pub roles: Roles,
    /// Every key given, with its value and source, in name order.
    pub given: BTreeMap<String, (String, Source)>,
    /// Kafka keys that were given and have no effect in Rill.
    pub no_effect: Vec<String>,
    /// Keys Kafka does not know either.
    pub unknown: Vec<String>,
}

/// Reads `KEY=VALUE` arguments.
pub fn parse_overrides(overrides: &[String]) -> Result<Vec<(String, String)>, String> {
    overrides
        .iter()
        .map(|pair| {
            pair.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| format!("--set {pair:?}: expected KEY=VALUE"))
        })
        .collect()
}

/// Reads a config file: `server.properties` (key=value lines) or TOML (`.toml`).
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let at = |e: &dyn fmt::Display| format!("{}: {e}", path.display());
    if path.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table = text.parse().map_err(|e| at(&e))?;
        let values = flatten_values(table.into_iter().map(|(k, v)| (k, from_toml(v)))).map_err(|e| at(&e))?;
        Ok(values.into_iter().map(|(key, value)| (key, value.to_config_string())).collect())
    } else {
        rill_core::config::parse_properties(&text).map_err(|e| at(&e))
    }
}

/// A TOML value as a config value (nested tables are dotted Kafka names).
fn from_toml(value: toml::Value) -> ConfigValue {
    match value {
        toml::Value::Boolean(value) => ConfigValue::Bool(value),
        toml::Value::Integer(value) => ConfigValue::Int(value),
        toml::Value::Float(value) => ConfigValue::Str(value.to_string()),
        toml::Value::String(value) => ConfigValue::Str(value),
        toml::Value::Array(values) => {
            ConfigValue::List(values.into_iter().map(|v| from_toml(v).to_config_string()).collect())
        }
        toml::Value::Table(table) => ConfigValue::Table(table.into_iter().map(|(k, v)| (k, from_toml(v))).collect()),
        toml::Value::Datetime(value) => ConfigValue::Str(value.to_string()),
    }
}

/// Rill's defaults for a broker started without a config file: one node on 127.0.0.1:9092.
fn local_defaults() -> Vec<(String, String)> {
    let log_dirs = std::env::temp_dir().join("rill-logs").display().to_string();
    [
        ("node.id", "1".to_owned()),
        ("listeners", "PLAINTEXT://127.0.0.1:9092".to_owned()),
        ("log.dirs", log_dirs),
        // One broker: internal topics cannot have 3 replicas.
        ("offsets.topic.replication.factor", "1".to_owned()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

/// Loads the file (if any) and the overrides (which win), checks every key and resolves the
/// listeners. Errors are one line each, in Kafka's words where Kafka has them.
pub fn load(file: Option<&Path>, overrides: &[String]) -> Result<Loaded, String> {
    load_as(file, overrides, true)
}

/// The config as [`load`] reads it, for `rill format`: without the checks of the controller
/// quorum that formatting is there to satisfy.
pub fn load_to_format(file: Option<&Path>, overrides: &[String]) -> Result<Loaded, String> {
    load_as(file, overrides, false)
}

fn load_as(file: Option<&Path>, overrides: &[String], check_quorum: bool) -> Result<Loaded, String> {
    let mut given: BTreeMap<String, (String, Source)> = BTreeMap::new();
    match file {
        Some(path) => {
            for (key, value) in read_file(path)? {
                given.insert(key, (value, Source::File(path.to_path_buf())));
            }
        }
        None => {
            for (key, value) in local_defaults() {
                given.insert(key, (value, Source::LocalDefault));
            }
        }
    }
    for (key, value) in parse_overrides(overrides)? {
        given.insert(key, (value, Source::CommandLine));
    }
    let mut config = BrokerConfig::default();
    let mut listener_values: BTreeMap<&str, String> = BTreeMap::new();
    let mut no_effect = Vec::new();
    let mut unknown = Vec::new();
    for (key, (value, _)) in &given {
        let kafka = kafka_key(key);
        if let Some(kafka) = kafka {
            kafka.check(value)?;
        }
        if BrokerConfig::KEYS.contains(&key.as_str()) {
            config.set(key, value).map_err(|e| e.to_string())?;
        } else if let Some(listener_key) = LISTENER_KEYS.iter().find(|k| **k == key) {
            listener_values.insert(listener_key, value.clone());
        } else if kafka.is_some() {
            no_effect.push(key.clone());
        } else if key.starts_with("rill.") {
            return Err(format!("Unknown configuration '{key}': not one of Rill's rill.* keys"));
        } else {
            unknown.push(key.clone());
        }
    }
    config.validate().map_err(|e| e.to_string())?;
    if config.truncate_to_high_watermark {
        return Err("rill.truncate.to.high.watermark=true replicates as Kafka did before KIP-101 and loses \
                    acknowledged writes: only the simulation and the dashboard offer it, to show why leader \
                    epochs exist"
            .to_owned());
    }
    let roles = Roles::parse(listener_values.get("process.roles").map(String::as_str))?;
    let voters = voters_or_default(&config, &crate::cluster::parse_nodes(&config.cluster_nodes)?)?;
    let listeners = resolve_listeners(&config, &listener_values, roles.broker)?;
    let log_dir = std::path::PathBuf::from(config.log_dirs.split(',').next().unwrap_or_default());
    if !check_quorum {
        return Ok(Loaded { config, listeners, roles, given, no_effect, unknown });
    }
    if crate::quorum_store::formatted(&log_dir)?.is_some() {
        // A dynamic quorum (KIP-853): `rill format` named the voters it starts with; its log
        // names them from then on, and a controller may observe before it votes.
        if !config.controller_quorum_voters.is_empty() {
            return Err(format!(
                "log.dirs {} was formatted for a dynamic controller quorum (kraft.version=1), but \
                 controller.quorum.voters is set: remove it and name the controllers in \
                 controller.quorum.bootstrap.servers",
                log_dir.display()
            ));
        }
        no_effect.retain(|key| key != "controller.quorum.bootstrap.servers");
        return Ok(Loaded { config, listeners, roles, given, no_effect, unknown });
    }
    // Without `rill format`, the voters are static: more than one controller must be named as
    // voters, or the node would run a one-voter quorum the user did not ask for.
    let bootstrap = given.get("controller.quorum.bootstrap.servers").map_or("", |(value, _)| value.as_str());
    let servers = bootstrap.split(',').filter(|server| !server.trim().is_empty()).count();
    if servers > 1 && config.controller_quorum_voters.is_empty() && !roles.controller {
        return Err(format!(
            "controller.quorum.bootstrap.servers={bootstrap} names {servers} controllers, but a broker-only node \
             of Rill finds its controllers by id: name them in controller.quorum.voters as id@host:port (any of \
             them that runs; a dynamic quorum's voters may change, its brokers follow the active controller)"
        ));
    }
    if servers > 1 && config.controller_quorum_voters.is_empty() {
        return Err(format!(
            "controller.quorum.bootstrap.servers={bootstrap} names {servers} controllers, but log.dirs {} is not \
             formatted for a dynamic quorum (KIP-853): format each controller's directory first (`rill format \
             --config FILE --standalone`, `--initial-controllers ID@HOST:PORT,...` or `--no-initial-controllers`, \
             as kafka-storage format), or name the voters in controller.quorum.voters as id@host:port, the same \
             list on every node",
            log_dir.display()
        ));
    }
    roles.check(config.node_id, &voters)?;
    Ok(Loaded { config, listeners, roles, given, no_effect, unknown })
}

/// The ids of `controller.quorum.voters`, or Rill's default quorum when none is named: the
/// first node of `rill.cluster.nodes` (this node alone without a cluster).
pub fn voters_or_default(config: &BrokerConfig, nodes: &[crate::cluster::ClusterNode]) -> Result<Vec<i32>, String> {
    let voters = config.quorum_voter_ids()?;
    if voters.is_empty() {
        return Ok(vec![nodes.first().map_or(config.node_id, |first| first.id)]);
    }
    Ok(voters)
}

/// Kafka's listener rules: named listeners, `listener.security.protocol.map`,
/// `controller.listener.names`, `inter.broker.listener.name`, `advertised.listeners`.
fn resolve_listeners(
    config: &BrokerConfig,
    values: &BTreeMap<&str, String>,
    runs_broker: bool,
) -> Result<Listeners, String> {
    let endpoints = parse_endpoints("listeners", &config.listeners)?;
    if endpoints.is_empty() {
        return Err("listeners is empty: give at least one, e.g. PLAINTEXT://127.0.0.1:9092".to_owned());
    }
    let map_text = values.get("listener.security.protocol.map").map_or(DEFAULT_PROTOCOL_MAP, String::as_str);
    let mut protocols: BTreeMap<String, String> = BTreeMap::new();
    for entry in map_text.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        let (name, protocol) = entry.split_once(':').ok_or_else(|| {
            format!("Invalid value {map_text} for configuration listener.security.protocol.map: {entry} is not NAME:PROTOCOL")
        })?;
        let protocol = protocol.trim().to_ascii_uppercase();
        if !["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(&protocol.as_str()) {
            return Err(format!(
                "Invalid value {map_text} for configuration listener.security.protocol.map: No enum constant org.apache.kafka.common.security.auth.SecurityProtocol.{protocol}"
            ));
        }
        protocols.insert(name.trim().to_ascii_uppercase(), protocol);
    }
    let controller_names: Vec<String> = values
        .get("controller.listener.names")
        .map(|names| names.split(',').map(|n| n.trim().to_ascii_uppercase()).filter(|n| !n.is_empty()).collect())
        .unwrap_or_default();
    if !values.contains_key("listener.security.protocol.map") {
        // Kafka's effective map: with the default map, controller listeners are PLAINTEXT.
        for name in &controller_names {
            protocols.entry(name.clone()).or_insert_with(|| "PLAINTEXT".to_owned());
        }
    }
    for endpoint in &endpoints {
        let protocol = protocols
            .get(&endpoint.name)
            .ok_or_else(|| format!("No security protocol defined for listener {}", endpoint.name))?;
        if protocol != "PLAINTEXT" {
            return Err(format!(
                "listener {} ({endpoint}) uses security protocol {protocol}, which Rill does not serve yet: only PLAINTEXT listeners",
                endpoint.name
            ));
        }
    }
    let (controller, brokers): (Vec<Endpoint>, Vec<Endpoint>) =
        endpoints.into_iter().partition(|endpoint| controller_names.contains(&endpoint.name));
    let client = match values.get("inter.broker.listener.name") {
        Some(name) => {
            let name = name.trim().to_ascii_uppercase();
            if controller_names.contains(&name) {
                return Err(format!(
                    "inter.broker.listener.name must not be a controller listener ({name} is in controller.listener.names)"
                ));
            }
            brokers.iter().find(|endpoint| endpoint.name == name).cloned().ok_or_else(|| {
                format!("inter.broker.listener.name must be a listener name defined in listeners: {name} is not")
            })?
        }
        // A controller-only node serves its controller listener (ApiVersions, DescribeQuorum,
        // DescribeCluster: `--bootstrap-controller`, KIP-919), and has no other.
        None if !runs_broker => match (brokers.as_slice(), controller.first()) {
            ([], Some(first)) => first.clone(),
            _ => {
                return Err("The listeners config must only contain KRaft controller listeners from \
                            controller.listener.names when process.roles=controller"
                    .to_owned())
            }
        },
        None => match brokers.as_slice() {
            [only] => only.clone(),
            [] => return Err("listeners holds only controller listeners: a Rill node needs a broker listener".to_owned()),
            many => {
                return Err(format!(
                    "Rill serves Kafka clients on one listener, and listeners names {}: set inter.broker.listener.name to the one to serve",
                    many.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
                ))
            }
        },
    };
    let other_brokers: Vec<&Endpoint> = brokers.iter().filter(|endpoint| endpoint.name != client.name).collect();
    if !other_brokers.is_empty() {
        return Err(format!(
            "Rill serves Kafka clients on one listener ({}); remove {} from listeners",
            client.name,
            other_brokers.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    let host = if client.host.is_empty() { "0.0.0.0" } else { client.host.as_str() };
    let bind = (host, client.port)
        .to_socket_addrs()
        .map_err(|e| format!("listener {client}: {e}"))?
        .next()
        .ok_or_else(|| format!("listener {client} names no address"))?;
    let advertised_endpoints = match &config.advertised_listeners {
        Some(text) => parse_endpoints("advertised.listeners", text)?,
        None => Vec::new(),
    };
    let advertised = match advertised_endpoints.iter().find(|endpoint| endpoint.name == client.name) {
        Some(endpoint) => (endpoint.host.clone(), endpoint.port),
        None if bind.ip().is_unspecified() => ("127.0.0.1".to_owned(), client.port),
        None => (bind.ip().to_string(), client.port),
    };
    Ok(Listeners { client, bind, advertised, controller })
}

impl Loaded {
    /// The keys set for this broker — in the file, with `--set`, or by Rill's one-node
    /// defaults (what Kafka's sample `server.properties` sets) — as DescribeConfigs reports them
    /// (`STATIC_BROKER_CONFIG`).
    #[must_use]
    pub fn static_configs(&self) -> BTreeMap<String, String> {
        self.given
            .iter()
            .filter(|(_, (_, source))| *source != Source::Default)
            .map(|(key, (value, _))| (key.clone(), value.clone()))
            .collect()
    }

    /// The startup lines about the configuration: keys without effect, unknown keys (Kafka's
    /// warning), and the controller listeners Rill does not open.
    #[must_use]
    pub fn notices(&self) -> Vec<(bool, String)> {
        let mut lines = Vec::new();
        if !self.no_effect.is_empty() {
            lines.push((
                false,
                format!("these Kafka configs are accepted but have no effect in Rill: {}", self.no_effect.join(", ")),
            ));
        }
        if !self.unknown.is_empty() {
            lines.push((
                true,
                format!("These configurations '[{}]' were supplied but are not used yet.", self.unknown.join(", ")),
            ));
        }
        for endpoint in self.listeners.controller.iter().filter(|endpoint| **endpoint != self.listeners.client) {
            lines.push((
                false,
                format!(
                    "controller listener {endpoint} is not opened: Rill's controller traffic uses rill.cluster.nodes"
                ),
            ));
        }
        lines
    }

    /// The effective configuration with each value's source, like `kafka-configs --describe --all`.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut out = format!("All configs for broker {} are:\n", self.config.node_id);
        let mut rows: BTreeMap<String, (String, String)> = BTreeMap::new();
        for entry in self.config.entries() {
            let source = self.given.get(entry.name).map_or(Source::Default, |(_, source)| source.clone());
            rows.insert(entry.name.to_owned(), (entry.value, source.to_string()));
        }
        for key in LISTENER_KEYS {
            let (value, source) = match self.given.get(*key) {
                Some((value, source)) => (value.clone(), source.to_string()),
                None if *key == "process.roles" => ("broker,controller".to_owned(), "DEFAULT_CONFIG (Rill)".to_owned()),
                None if *key == "listener.security.protocol.map" => {
                    (DEFAULT_PROTOCOL_MAP.to_owned(), Source::Default.to_string())
                }
                None => (String::new(), Source::Default.to_string()),
            };
            rows.insert((*key).to_owned(), (value, source));
        }
        for key in &self.no_effect {
            let (value, source) = &self.given[key];
            rows.insert(key.clone(), (value.clone(), format!("{source}, no effect in Rill")));
        }
        for key in &self.unknown {
            let (value, source) = &self.given[key];
            rows.insert(key.clone(), (value.clone(), format!("{source}, unknown to Kafka")));
        }
        for (key, (value, source)) in rows {
            let sensitive = kafka_key(&key).is_some_and(|k| k.kind == crate::kafka_config::KafkaType::Password);
            let shown = if sensitive { "null" } else { value.as_str() };
            out.push_str(&format!("  {key}={shown} sensitive={sensitive} source={source}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_with(sets: &[&str]) -> Result<Loaded, String> {
        let sets: Vec<String> = sets.iter().map(|s| (*s).to_owned()).collect();
        load(None, &sets)
    }

    #[test]
    fn a_directory_formatted_for_a_dynamic_quorum_takes_no_static_voters() {
        let dir = std::env::temp_dir().join(format!("rill-config-dynamic-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        crate::quorum_store::format(&dir, 4, &[]).expect("format");
        let log_dirs = format!("log.dirs={}", dir.display());
        let controller = ["node.id=4", "process.roles=controller", "listeners=CONTROLLER://127.0.0.1:9093"];
        let sets = [&controller[..], &["controller.listener.names=CONTROLLER", &log_dirs]].concat();
        // An observer-to-be: a controller outside any voter list, which a static quorum refuses.
        let loaded = load_with(&[&sets[..], &["controller.quorum.bootstrap.servers=a:9093,b:9093"]].concat())
            .expect("a controller formatted to join");
        assert!(!loaded.no_effect.iter().any(|key| key == "controller.quorum.bootstrap.servers"));
        let refused = load_with(&[&sets[..], &["controller.quorum.voters=1@a:9093"]].concat()).unwrap_err();
        assert!(refused.contains("formatted for a dynamic controller quorum"), "{refused}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn named_listeners_resolve_like_kafka() {
        let loaded = load_with(&[
            "listeners=PLAINTEXT://127.0.0.1:19092,CONTROLLER://127.0.0.1:19093",
            "advertised.listeners=PLAINTEXT://localhost:19092,CONTROLLER://localhost:19093",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ])
        .expect("valid");
        assert_eq!(loaded.listeners.client.name, "PLAINTEXT");
        assert_eq!(loaded.listeners.bind, "127.0.0.1:19092".parse().unwrap());
        assert_eq!(loaded.listeners.advertised, ("localhost".to_owned(), 19092));
        assert_eq!(loaded.listeners.controller.len(), 1);
        assert!(loaded.notices().iter().any(|(_, line)| line.contains("CONTROLLER://127.0.0.1:19093 is not opened")));
    }

    #[test]
    fn listener_mistakes_are_refused_with_the_listener_named() {
        let error = load_with(&["listeners=SSL://127.0.0.1:19093"]).unwrap_err();
        assert!(error.contains("listener SSL") && error.contains("does not serve yet"), "{error}");
        let error = load_with(&["listeners=INTERNAL://127.0.0.1:19093"]).unwrap_err();
        assert_eq!(error, "No security protocol defined for listener INTERNAL");
        let error = load_with(&[
            "listeners=A://127.0.0.1:1,B://127.0.0.1:2",
            "listener.security.protocol.map=A:PLAINTEXT,B:SASL_SSL",
        ])
        .unwrap_err();
        assert!(error.contains("listener B") && error.contains("SASL_SSL"), "{error}");
        let error = load_with(&["inter.broker.listener.name=EXTERNAL"]).unwrap_err();
        assert!(error.contains("EXTERNAL is not"), "{error}");
    }

    #[test]
    fn keys_sort_into_applied_no_effect_unknown_and_refused() {
        let loaded = load_with(&["num.io.threads=8", "made.up.key=1", "num.partitions=3"]).expect("valid");
        assert_eq!(loaded.config.num_partitions, 3);
        assert_eq!(loaded.no_effect, vec!["num.io.threads"]);
        assert_eq!(loaded.unknown, vec!["made.up.key"]);
        let notices = loaded.notices();
        assert!(notices
            .contains(&(true, "These configurations '[made.up.key]' were supplied but are not used yet.".to_owned())));
        assert_eq!(
            load_with(&["num.partitions=0"]).unwrap_err(),
            "Invalid value 0 for configuration num.partitions: Value must be at least 1"
        );
        assert_eq!(
            load_with(&["num.io.threads=0"]).unwrap_err(),
            "Invalid value 0 for configuration num.io.threads: Value must be at least 1"
        );
        assert!(load_with(&["rill.clustr.nodes=x"]).unwrap_err().contains("rill.clustr.nodes"));
        assert!(load_with(&["rill.truncate.to.high.watermark=true"]).unwrap_err().contains("KIP-101"));
        let controller_only = load_with(&[
            "process.roles=controller",
            "listeners=CONTROLLER://127.0.0.1:9093",
            "controller.listener.names=CONTROLLER",
        ])
        .expect("a controller-only node serves its controller listener (PLAINTEXT, Kafka's default)");
        assert_eq!((controller_only.roles.text(), controller_only.listeners.bind.port()), ("controller", 9093));
        assert!(controller_only.notices().is_empty(), "{:?}", controller_only.notices());
        assert!(load_with(&["process.roles=,"]).unwrap_err().contains("process.roles is empty"));
        assert!(load_with(&["process.roles=controller"])
            .unwrap_err()
            .starts_with("The listeners config must only contain"));
        assert!(load_with(&["process.roles=broker,leader"]).unwrap_err().contains("leader"));
        let dynamic = load_with(&["controller.quorum.bootstrap.servers=a:9093,b:9093"]).unwrap_err();
        assert!(
            dynamic.contains("not formatted for a dynamic quorum (KIP-853)") && dynamic.contains("rill format"),
            "{dynamic}"
        );
        let broker_only =
            load_with(&["process.roles=broker", "node.id=5", "controller.quorum.bootstrap.servers=a:9093,b:9093"])
                .unwrap_err();
        assert!(broker_only.contains("a broker-only node of Rill finds its controllers by id"), "{broker_only}");
        assert!(
            load_with(&["controller.quorum.bootstrap.servers=localhost:9093"]).is_ok(),
            "one controller: the stock file"
        );
        assert!(load_with(&[
            "controller.quorum.bootstrap.servers=a:9093,b:9093",
            "controller.quorum.voters=1@a:9093,2@b:9093"
        ])
        .is_ok());
    }

    #[test]
    fn process_roles_must_agree_with_the_voters() {
        let roles = |value: &str| Roles::parse(Some(value)).expect("valid");
        assert!(roles("controller").check(4, &[4, 5, 6]).is_ok());
        assert!(roles("broker,controller").check(1, &[1]).is_ok());
        assert!(roles("broker").check(2, &[1]).is_ok());
        let not_a_voter = roles("controller").check(4, &[1, 2, 3]).unwrap_err();
        assert_eq!(
            not_a_voter,
            "If process.roles contains the 'controller' role, the node id 4 must be included in the set of voters \
             controller.quorum.voters=Set(1, 2, 3)"
        );
        let a_voter = roles("broker").check(1, &[1, 2, 3]).unwrap_err();
        assert!(a_voter.contains("must not be included"), "{a_voter}");
        // Unset: every node a broker, the voters controllers too.
        assert!(Roles::parse(None).expect("default").check(4, &[1, 2, 3]).is_ok());
    }

    #[test]
    fn print_config_names_each_source() {
        let loaded = load_with(&["num.partitions=3", "num.io.threads=8"]).expect("valid");
        let text = loaded.describe();
        assert!(text.starts_with("All configs for broker 1 are:"), "{text}");
        assert!(text.contains("  num.partitions=3 sensitive=false source=STATIC_BROKER_CONFIG (--set)"), "{text}");
        assert!(text.contains("  delete.topic.enable=true sensitive=false source=DEFAULT_CONFIG"), "{text}");
        assert!(
            text.contains("num.io.threads=8 sensitive=false source=STATIC_BROKER_CONFIG (--set), no effect in Rill")
        );
        assert!(text.contains("node.id=1 sensitive=false source=DEFAULT_CONFIG (Rill's one-node default)"), "{text}");
    }
}
