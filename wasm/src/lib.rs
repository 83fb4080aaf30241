//! # rill-wasm
//!
//! Rill's deterministic simulated Kafka cluster for web pages: build a cluster from a plain
//! object, advance its virtual clock, produce, crash and partition brokers, and read plain
//! snapshots and the event trace. The simulation is `rill_core::sim` compiled to WebAssembly:
//! the same seed gives the same trace hash here as natively.
//!
//! Every method that can fail throws a JS `Error` whose message starts with the Kafka error
//! name (`INVALID_REPLICATION_FACTOR: ...`); a failed call leaves the cluster unchanged.
//! See `wasm/README.md` for the JS API and an example.

use rill_core::error::{Error, ErrorCode};
use rill_core::sim::spec::{ClusterSpec, GroupMemberSpec, ProduceSpec, TopicSpec, WorkloadSpec};
use rill_core::sim::{Fault, Sim};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** One topic of a cluster. Kafka's defaults apply to what is left out. */
export interface TopicSpec {
  name: string;
  partitions?: number;
  replicationFactor?: number;
  minInsyncReplicas?: number;
  uncleanLeaderElection?: boolean;
  /** Other topic configs by Kafka key, e.g. { "flush.messages": "1" }. */
  configs?: Record<string, string>;
  /** Manual replica assignment: one broker list per partition. */
  assignment?: number[][];
}

/** A simulated cluster. Same spec and same actions give the same trace, everywhere. */
export interface ClusterSpec {
  seed?: number;
  brokers?: number;
  controllerHost?: number;
  /** The controller quorum's voters, each beside the broker of the same id, e.g. [1, 2, 3]. */
  controllers?: number[];
  topics?: TopicSpec[];
  /** Broker configs by Kafka key, e.g. { "replica.lag.time.max.ms": "10000" }. */
  brokerConfigs?: Record<string, string>;
  latencyMinMs?: number;
  latencyMaxMs?: number;
  dropPerMillion?: number;
  recordTrace?: boolean;
  /** Steady producer workloads run inside the simulation. */
  producers?: WorkloadSpec[];
  /** Consumers, each reading every partition of the listed topics. */
  consumers?: string[][];
  /** Keep only about this many of the newest trace lines (the hash covers all). */
  traceLimit?: number;
  /** Each broker's rack (broker.rack) in id order, e.g. ["a", "a", "b", "b"]: rack-aware placement. */
  racks?: string[];
}

/** A producer sending `records` records every `intervalMs` of virtual time. */
export interface WorkloadSpec {
  topic: string;
  acks?: 0 | 1 | -1 | "all";
  intervalMs?: number;
  records?: number;
  startMs?: number;
  keyed?: boolean;
  enableIdempotence?: boolean;
}

/** A record to produce. */
export interface ProduceSpec {
  topic: string;
  key?: string | null;
  value?: string | null;
  acks?: 0 | 1 | -1 | "all";
  partition?: number;
}

export interface ReplicaSnapshot {
  tp: { topic: string; partition: number };
  isLeader: boolean;
  leaderEpoch: number;
  isr: number[];
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  flushedOffset: number;
  epochs: [number, number][];
  /** On a leader: each follower's log end at its last fetch and when it last caught up. */
  followers: { broker: number; logEndOffset: number; lastCaughtUpMs: number }[];
  records: { offset: number; leaderEpoch: number; key: string | null; value: string | null }[];
}

export interface BrokerSnapshot {
  id: number;
  status: "Up" | "Paused" | "Down";
  /** A controller-only node (process.roles=controller): a quorum member with no replicas. */
  controllerOnly: boolean;
  fenced: boolean;
  controller: boolean;
  /** Its rack (broker.rack), if any. */
  rack: string | null;
  /** When the controller fences it unless a heartbeat arrives; null while fenced. */
  sessionDeadlineMs: number | null;
  /** How long each write to its log waits for a slow disk (0: healthy). */
  diskDelayMs: number;
  replicas: ReplicaSnapshot[];
}

/** A producer: what it sent and what became of it. */
export interface ProducerSnapshot {
  client: number;
  topic: string;
  acks: number;
  sent: number;
  acknowledged: number;
  failed: number;
  retried: number;
  queued: number;
  inFlight: number;
  /** When the oldest request in flight times out (request.timeout.ms after it was sent). */
  requestDeadlineMs: number | null;
  /** send() to acknowledgement of the last record acknowledged. */
  ackLatencyMs: number | null;
}

export interface PartitionSnapshot {
  topic: string;
  partition: number;
  replicas: number[];
  isr: number[];
  leader: number | null;
  leaderEpoch: number;
  underReplicated: boolean;
  offline: boolean;
}

export interface CheckReport {
  violations: { invariant: string; detail: string; event_index: number; time_ms: number }[];
  acknowledged: { acks_0: number; acks_1: number; acks_all: number };
  lost: { acks_0: number; acks_1: number; acks_all: number };
  duplicates: number;
  unclean_elections: number;
  committed_rewritten: number;
  consumed: number;
  /** Losses seen as they happen (a new leader lacks an acknowledged write; an acks=0 send never landed). */
  lost_live: { acks_0: number; acks_1: number; acks_all: number };
  /** Produce requests leaders refused (NOT_ENOUGH_REPLICAS, NOT_LEADER_OR_FOLLOWER, ...; Kafka's FailedProduceRequests). */
  produce_refusals: number;
  lost_writes: {
    topic: string; partition: number; offset: number; acks: number; leader: number; leaderEpoch: number;
    eventIndex: number; timeMs: number; cause: string | null; landed: boolean;
    ackedEvent: number; foundEvent: number;
  }[];
}

/** A consumer-group member to add. */
export interface GroupMemberSpec {
  groupId: string;
  topics: string[];
  /** classic: range, roundrobin, cooperative-sticky; consumer (KIP-848): uniform, range. */
  assignor?: "range" | "roundrobin" | "cooperative-sticky" | "uniform";
  autoOffsetReset?: "earliest" | "latest" | "none";
  sessionTimeoutMs?: number;
  /** group.protocol: classic (default) or consumer (KIP-848). */
  groupProtocol?: "classic" | "consumer";
}

export interface GroupSnapshot {
  groupId: string;
  coordinator: number;
  state: string;
  generationId: number;
  protocol: string;
  leader: string;
  members: { client: number; memberId: string; generationId: number; stable: boolean; partitions: string[]; stopped: boolean; sessionExpiresMs: number | null }[];
  offsets: { topic: string; partition: number; committed: number; highWatermark: number | null; lag: number | null }[];
}

export interface Snapshot {
  nowMs: number;
  events: number;
  traceHash: string;
  metadataEpoch: number;
  brokers: BrokerSnapshot[];
  partitions: PartitionSnapshot[];
  cutLinks: [number, number][];
  producers: ProducerSnapshot[];
  groups: GroupSnapshot[];
  report: CheckReport;
}

/** One trace line: its index, virtual time, a plain-words explanation and the structured event. */
export interface TraceLine {
  index: number;
  timeMs: number;
  text: string;
  kind: unknown;
}
"#;

fn js_error(error: &Error) -> JsError {
    JsError::new(&error.to_string())
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|error| JsError::new(&format!("UNKNOWN_SERVER_ERROR: could not convert to JS: {error}")))
}

/// serde-wasm-bindgen reads only the fields a struct declares, so unknown keys (typos such as
/// `brokerz`) are checked here against the spec's field list.
fn reject_unknown_keys(value: &JsValue, allowed: &[&str], what: &str) -> Result<(), JsError> {
    if !value.is_object() || js_sys::Array::is_array(value) {
        return Ok(());
    }
    let object: &js_sys::Object = value.unchecked_ref();
    for key in js_sys::Object::keys(object).iter() {
        let key = key.as_string().unwrap_or_default();
        if !allowed.contains(&key.as_str()) {
            return Err(js_error(&Error::new(
                ErrorCode::InvalidConfig,
                format!("malformed {what}: unknown field `{key}`, expected one of {}", allowed.join(", ")),
            )));
        }
    }
    Ok(())
}

fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    serde_wasm_bindgen::from_value(value)
        .map_err(|error| js_error(&Error::new(ErrorCode::InvalidConfig, format!("malformed {what}: {error}"))))
}

fn broker_id(broker: f64) -> Result<i32, JsError> {
    if broker.fract() != 0.0 || !(1.0..=f64::from(i32::MAX)).contains(&broker) {
        return Err(js_error(&Error::new(ErrorCode::BrokerIdNotRegistered, format!("{broker} is not a broker id"))));
    }
    // Checked integral and in range above.
    #[allow(clippy::cast_possible_truncation)]
    Ok(broker as i32)
}

fn milliseconds(ms: f64) -> Result<u64, JsError> {
    if !ms.is_finite() || !(0.0..=1e12).contains(&ms) {
        return Err(js_error(&Error::new(
            ErrorCode::InvalidRequest,
            format!("{ms} is not a duration in milliseconds"),
        )));
    }
    // Finite, non-negative and bounded above.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Ok(ms as u64)
}

/// A simulated Kafka cluster.
#[wasm_bindgen]
pub struct Cluster {
    sim: Sim,
}

#[wasm_bindgen]
impl Cluster {
    /// Builds a cluster from a spec; throws on a bad spec.
    #[wasm_bindgen(constructor)]
    pub fn new(#[wasm_bindgen(unchecked_param_type = "ClusterSpec")] spec: JsValue) -> Result<Cluster, JsError> {
        reject_unknown_keys(&spec, ClusterSpec::FIELDS, "cluster spec")?;
        if spec.is_object() {
            let topics = js_sys::Reflect::get(&spec, &JsValue::from_str("topics")).unwrap_or(JsValue::UNDEFINED);
            if js_sys::Array::is_array(&topics) {
                for topic in js_sys::Array::from(&topics).iter() {
                    reject_unknown_keys(&topic, TopicSpec::FIELDS, "topic spec")?;
                }
            }
            let producers = js_sys::Reflect::get(&spec, &JsValue::from_str("producers")).unwrap_or(JsValue::UNDEFINED);
            if js_sys::Array::is_array(&producers) {
                for producer in js_sys::Array::from(&producers).iter() {
                    reject_unknown_keys(&producer, WorkloadSpec::FIELDS, "producer workload")?;
                }
            }
        }
        let spec: ClusterSpec = from_js(spec, "cluster spec")?;
        Ok(Cluster { sim: Sim::from_spec(&spec).map_err(|error| js_error(&error))? })
    }

    /// Processes the next event; `false` when nothing is scheduled.
    pub fn step(&mut self) -> bool {
        self.sim.step()
    }

    /// Advances the virtual clock by `ms`; returns how many events ran.
    #[wasm_bindgen(js_name = runFor)]
    pub fn run_for(&mut self, ms: f64) -> Result<f64, JsError> {
        let duration_ms = milliseconds(ms)?;
        let before = self.sim.events();
        self.sim.run_for(duration_ms);
        Ok((self.sim.events() - before) as f64)
    }

    /// Virtual time in milliseconds.
    #[wasm_bindgen(getter, js_name = nowMs)]
    pub fn now_ms(&self) -> f64 {
        self.sim.now_ms() as f64
    }

    /// Events processed so far.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> f64 {
        self.sim.events() as f64
    }

    /// Sends a record; returns its send id (its outcome appears in the trace).
    pub fn produce(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "ProduceSpec")] spec: JsValue,
    ) -> Result<f64, JsError> {
        reject_unknown_keys(&spec, ProduceSpec::FIELDS, "produce request")?;
        let spec: ProduceSpec = from_js(spec, "produce request")?;
        let (_, send_id) = self.sim.produce(&spec).map_err(|error| js_error(&error))?;
        Ok(send_id as f64)
    }

    /// Adds a consumer reading all partitions of the topics from the start; returns its id.
    #[wasm_bindgen(js_name = addConsumer)]
    pub fn add_consumer(&mut self, topics: Vec<String>) -> Result<u32, JsError> {
        self.sim.add_consumer(&topics).map_err(|error| js_error(&error))
    }

    /// Adds a consumer-group member; returns its client number.
    #[wasm_bindgen(js_name = addGroupConsumer)]
    pub fn add_group_consumer(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "GroupMemberSpec")] spec: JsValue,
    ) -> Result<u32, JsError> {
        reject_unknown_keys(&spec, GroupMemberSpec::FIELDS, "group member")?;
        let spec: GroupMemberSpec = from_js(spec, "group member")?;
        let config = spec.to_config().map_err(|error| js_error(&error))?;
        self.sim.add_group_consumer(config).map_err(|error| js_error(&error))
    }

    /// Removes a group member: `graceful` leaves the group, otherwise it just stops (the
    /// coordinator notices after `session.timeout.ms`).
    #[wasm_bindgen(js_name = removeGroupConsumer)]
    pub fn remove_group_consumer(&mut self, client: u32, graceful: bool) -> Result<(), JsError> {
        self.sim.remove_group_consumer(client, graceful).map_err(|error| js_error(&error))
    }

    fn act(&mut self, fault: Fault) -> Result<(), JsError> {
        self.sim.act(fault).map_err(|error| js_error(&error))
    }

    /// Crashes a broker as a power loss does (it loses what it had not flushed).
    pub fn crash(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Crash(broker_id(broker)?))
    }

    /// Kills a broker's process (`kill -9`): it stops, but the OS page cache keeps its writes.
    pub fn kill(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Kill(broker_id(broker)?))
    }

    /// Restarts a crashed broker.
    pub fn restart(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Restart(broker_id(broker)?))
    }

    /// Freezes a broker, as a long GC pause would.
    pub fn pause(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Pause(broker_id(broker)?))
    }

    /// Unfreezes a paused broker.
    pub fn resume(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Resume(broker_id(broker)?))
    }

    /// Cuts the link from one broker to another (one direction).
    #[wasm_bindgen(js_name = cutLink)]
    pub fn cut_link(&mut self, from: f64, to: f64) -> Result<(), JsError> {
        self.act(Fault::CutLink { from: broker_id(from)?, to: broker_id(to)? })
    }

    /// Heals a cut link.
    #[wasm_bindgen(js_name = healLink)]
    pub fn heal_link(&mut self, from: f64, to: f64) -> Result<(), JsError> {
        self.act(Fault::HealLink { from: broker_id(from)?, to: broker_id(to)? })
    }

    /// Cuts a broker off from every other host.
    pub fn isolate(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Isolate(broker_id(broker)?))
    }

    /// Undoes `isolate`.
    pub fn reconnect(&mut self, broker: f64) -> Result<(), JsError> {
        self.act(Fault::Reconnect(broker_id(broker)?))
    }

    /// Slows a broker's disk: each write to its log waits `ms` (0: a healthy disk again).
    #[wasm_bindgen(js_name = slowDisk)]
    pub fn slow_disk(&mut self, broker: f64, ms: f64) -> Result<(), JsError> {
        self.act(Fault::SlowDisk { broker: broker_id(broker)?, ms: milliseconds(ms)? })
    }

    /// Heals every link and stops random drops.
    #[wasm_bindgen(js_name = healNetwork)]
    pub fn heal_network(&mut self) -> Result<(), JsError> {
        self.act(Fault::HealNetwork)
    }

    /// Ends the run: heals the network, restarts and resumes every broker, lets the cluster
    /// settle for `settleMs`, runs the end-of-run (Jepsen-style) checks; returns the snapshot.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn finish(&mut self, settle_ms: f64) -> Result<JsValue, JsError> {
        let settle_ms = milliseconds(settle_ms)?;
        self.sim.finish(settle_ms);
        to_js(&self.sim.snapshot())
    }

    /// The whole cluster as plain objects.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsError> {
        to_js(&self.sim.snapshot())
    }

    /// Trace lines from index `from` on (at most `limit`), each with a plain-words explanation.
    #[wasm_bindgen(unchecked_return_type = "TraceLine[]")]
    pub fn trace(&self, from: f64, limit: f64) -> Result<JsValue, JsError> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Line<'a> {
            index: u64,
            time_ms: u64,
            text: String,
            kind: &'a rill_core::sim::trace::TraceKind,
        }
        let trace = self.sim.trace();
        let start = usize::try_from(milliseconds(from)?).unwrap_or(usize::MAX).min(trace.len());
        let count = usize::try_from(milliseconds(limit)?).unwrap_or(usize::MAX);
        let lines: Vec<Line<'_>> = trace[start..]
            .iter()
            .take(count)
            .map(|event| Line {
                index: event.index,
                time_ms: event.time_ms,
                text: event.to_string(),
                kind: &event.kind,
            })
            .collect();
        to_js(&lines)
    }

    /// Records the clients' history for Jepsen's checkers from now on (off by default: it grows
    /// with the run). Call it before running to have the whole run.
    #[wasm_bindgen(js_name = recordHistory)]
    pub fn record_history(&mut self) {
        self.sim.record_history();
    }

    /// The clients' history in Jepsen's Kafka workload shape (`jepsen.tests.kafka`): `"edn"`
    /// gives `history.edn` (one op per line), `"json"` an array of op objects. Throws if
    /// `recordHistory()` was not called or the format is neither.
    pub fn history(&self, format: &str) -> Result<JsValue, JsError> {
        let Some(history) = self.sim.history() else {
            return Err(js_error(&Error::new(
                ErrorCode::InvalidRequest,
                "no history recorded: call recordHistory() before running",
            )));
        };
        match format {
            "edn" => Ok(JsValue::from_str(&history.to_edn())),
            "json" => to_js(&history.json_ops()),
            other => Err(js_error(&Error::new(
                ErrorCode::InvalidRequest,
                format!("history format {other:?}: use \"edn\" or \"json\""),
            ))),
        }
    }

    /// How many trace lines there are.
    #[wasm_bindgen(js_name = traceLength)]
    pub fn trace_length(&self) -> f64 {
        self.sim.trace().len() as f64
    }

    /// The trace hash as 16 hex digits (equal to the native build's for the same run).
    #[wasm_bindgen(js_name = traceHash)]
    pub fn trace_hash(&self) -> String {
        format!("{:016x}", self.sim.trace_hash())
    }
}
