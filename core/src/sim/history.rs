//! A run's client history in the shape of Jepsen's Kafka workload (`jepsen.tests.kafka`), so
//! the real checkers (Elle's Kafka analysis: lost writes, G1a, poll skips, nonmonotonic
//! sends...) can judge a Rill run.
//!
//! Each log is a *key*: a topic-partition named `"topic-partition"`. Each record a producer
//! sends gets a unique integer *value* (the same bytes get the same number). Operations:
//! - a send is `{:type :invoke, :f :send, :value [[:send k v]]}` when `send` is called, then
//!   `:ok` with `[[:send k [offset v]]]` when acknowledged (acks=1/all), `:info` when the outcome
//!   is unknown (acks=0, or an error after which the record may still have been written);
//! - a consumer's fetch is a poll: `{:type :invoke, :f :poll, :value [[:poll]]}` and at the same
//!   time `{:type :ok, :f :poll, :value [[:poll {k [[offset v] ...]}]]}`.
//!
//! A producer has many sends in flight, and Jepsen's processes do one operation at a time, so
//! each in-flight send holds its own process number (freed when it completes, reused after).
//! A send still in flight when the history is taken stays an invoke; its key is then the topic
//! alone (the producer had not chosen a partition that the simulation saw).
//!
//! Recording is off unless asked for ([`super::Sim::record_history`]): it grows with the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::client::{ConsumedRecord, ProduceOutcome};
use crate::collections::VecMap;
use crate::protocol::TopicPartition;

/// Jepsen's operation types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpType {
    /// The operation started.
    Invoke,
    /// It happened.
    Ok,
    /// It did not happen.
    Fail,
    /// Unknown whether it happened.
    Info,
}

impl OpType {
    fn keyword(self) -> &'static str {
        match self {
            OpType::Invoke => ":invoke",
            OpType::Ok => ":ok",
            OpType::Fail => ":fail",
            OpType::Info => ":info",
        }
    }
}

/// What one poll read: per key, (offset, value) in order (`None`: a record no producer of this
/// run sent).
pub type PollRead = BTreeMap<String, Vec<(i64, Option<i64>)>>;

/// One micro-operation of an op's value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mop {
    /// `[:send key value]`, or `[:send key [offset value]]` once the offset is known.
    Send {
        /// The log.
        key: String,
        /// The offset the producer was told.
        offset: Option<i64>,
        /// The record's number.
        value: i64,
    },
    /// `[:poll]` (invoked) or `[:poll {key [[offset value] ...]}]` (what it read; a record no
    /// producer of this run sent has value `nil`).
    Poll(Option<PollRead>),
}

/// One operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    /// Position in the history.
    pub index: u64,
    /// Virtual time in ms (Jepsen's `:time` is in ns: × 1,000,000).
    pub time_ms: u64,
    /// Invoke or completion.
    pub op_type: OpType,
    /// The Jepsen process.
    pub process: u64,
    /// What it did.
    pub mop: Mop,
    /// The Kafka error of a send that did not complete.
    pub error: Option<String>,
    /// The Rill client that did it.
    pub client: u32,
}

impl Op {
    fn f(&self) -> &'static str {
        match self.mop {
            Mop::Send { .. } => "send",
            Mop::Poll(_) => "poll",
        }
    }
}

/// An [`Op`] as JSON: `{"index", "time" (ns), "type", "process", "f", "value", "error"?, "client"}`
/// with `value` `[["send", key, [offset, value]]]`, `[["poll", {key: [[offset, value]]}]]`...
#[derive(Debug, Serialize)]
pub struct JsonOp<'a> {
    index: u64,
    time: u64,
    #[serde(rename = "type")]
    op_type: OpType,
    process: u64,
    f: &'static str,
    value: [&'a Mop; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    client: u32,
}

impl Serialize for Mop {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self {
            Mop::Send { key, offset, value } => {
                let mut seq = serializer.serialize_seq(Some(3))?;
                seq.serialize_element("send")?;
                seq.serialize_element(key)?;
                match offset {
                    Some(offset) => seq.serialize_element(&(offset, value))?,
                    None => seq.serialize_element(value)?,
                }
                seq.end()
            }
            Mop::Poll(None) => {
                let mut seq = serializer.serialize_seq(Some(1))?;
                seq.serialize_element("poll")?;
                seq.end()
            }
            Mop::Poll(Some(read)) => {
                let mut seq = serializer.serialize_seq(Some(2))?;
                seq.serialize_element("poll")?;
                seq.serialize_element(read)?;
                seq.end()
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    index: usize,
    process: u64,
    value: i64,
}

/// The history so far; see the module doc.
#[derive(Clone, Debug, Default)]
pub struct History {
    ops: Vec<Op>,
    values: BTreeMap<Vec<u8>, i64>,
    pending: VecMap<(u32, u64), Pending>,
    free_processes: Vec<u64>,
    next_process: u64,
    consumer_process: VecMap<u32, u64>,
}

fn key_of(tp: &TopicPartition) -> String {
    format!("{}-{}", tp.topic, tp.partition)
}

impl History {
    /// The operations, in the order they happened.
    #[must_use]
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    fn process(&mut self) -> u64 {
        self.free_processes.pop().unwrap_or_else(|| {
            self.next_process += 1;
            self.next_process - 1
        })
    }

    fn push(&mut self, time_ms: u64, op_type: OpType, process: u64, client: u32, mop: Mop, error: Option<String>) {
        let index = u64::try_from(self.ops.len()).expect("fits");
        debug_assert!(self.ops.last().is_none_or(|last| last.time_ms <= time_ms), "a history never goes back in time");
        self.ops.push(Op { index, time_ms, op_type, process, mop, error, client });
    }

    /// A producer was handed a record (`send` returned `send_id`).
    pub fn on_send(&mut self, time_ms: u64, client: u32, send_id: u64, topic: &str, value: Option<&[u8]>) {
        let next = i64::try_from(self.values.len()).expect("fits");
        let value = *self.values.entry(value.unwrap_or_default().to_vec()).or_insert(next);
        let process = self.process();
        let index = self.ops.len();
        self.push(
            time_ms,
            OpType::Invoke,
            process,
            client,
            Mop::Send { key: topic.to_owned(), offset: None, value },
            None,
        );
        self.pending.insert((client, send_id), Pending { index, process, value });
    }

    /// A producer learned what became of a send.
    pub fn on_outcome(&mut self, time_ms: u64, client: u32, outcome: &ProduceOutcome) {
        let Some(pending) = self.pending.remove(&(client, outcome.send_id)) else {
            return;
        };
        let key = outcome.tp.as_ref().map_or_else(
            || match &self.ops[pending.index].mop {
                Mop::Send { key, .. } => key.clone(),
                Mop::Poll(_) => unreachable!("a pending send is a send"),
            },
            key_of,
        );
        // The invoke names the partition the record went to, as Jepsen's client knows it.
        if let Mop::Send { key: invoked, .. } = &mut self.ops[pending.index].mop {
            invoked.clone_from(&key);
        }
        let (op_type, offset, error) = match outcome.result {
            Ok(offset) if offset >= 0 => (OpType::Ok, Some(offset), None),
            // acks=0: the producer is never told.
            Ok(_) => (OpType::Info, None, None),
            // A retried record may have been written before the error: unknown.
            Err(code) => (OpType::Info, None, Some(code.name().to_owned())),
        };
        self.push(time_ms, op_type, pending.process, client, Mop::Send { key, offset, value: pending.value }, error);
        self.free_processes.push(pending.process);
    }

    /// A consumer read these records in one fetch.
    pub fn on_poll(&mut self, time_ms: u64, client: u32, records: &[&ConsumedRecord]) {
        if records.is_empty() {
            return;
        }
        let process = match self.consumer_process.get(&client) {
            Some(process) => *process,
            None => {
                let process = self.process();
                self.consumer_process.insert(client, process);
                process
            }
        };
        let mut read = PollRead::new();
        for record in records {
            let value = self.values.get(record.value.as_deref().unwrap_or_default()).copied();
            read.entry(key_of(&record.tp)).or_default().push((record.offset, value));
        }
        self.push(time_ms, OpType::Invoke, process, client, Mop::Poll(None), None);
        self.push(time_ms, OpType::Ok, process, client, Mop::Poll(Some(read)), None);
    }

    /// The history as Jepsen writes `history.edn`: one op map per line.
    #[must_use]
    pub fn to_edn(&self) -> String {
        let mut out = String::new();
        for op in &self.ops {
            let _ = write!(
                out,
                "{{:index {}, :time {}, :type {}, :process {}, :f :{}, :value [",
                op.index,
                op.time_ms * 1_000_000,
                op.op_type.keyword(),
                op.process,
                op.f()
            );
            match &op.mop {
                Mop::Send { key, offset: Some(offset), value } => {
                    let _ = write!(out, "[:send {key:?} [{offset} {value}]]");
                }
                Mop::Send { key, offset: None, value } => {
                    let _ = write!(out, "[:send {key:?} {value}]");
                }
                Mop::Poll(None) => out.push_str("[:poll]"),
                Mop::Poll(Some(read)) => {
                    out.push_str("[:poll {");
                    for (i, (key, records)) in read.iter().enumerate() {
                        let _ = write!(out, "{}{key:?} [", if i == 0 { "" } else { ", " });
                        for (j, (offset, value)) in records.iter().enumerate() {
                            let value = value.map_or_else(|| "nil".to_owned(), |value| value.to_string());
                            let _ = write!(out, "{}[{offset} {value}]", if j == 0 { "" } else { " " });
                        }
                        out.push(']');
                    }
                    out.push_str("}]");
                }
            }
            out.push(']');
            if let Some(error) = &op.error {
                let _ = write!(out, ", :error {error:?}");
            }
            let _ = writeln!(out, ", :rill/client {}}}", op.client);
        }
        out
    }

    /// The same operations for JSON (serialize with any serde format): Jepsen's field names,
    /// keywords as strings, `:time` in ns.
    #[must_use]
    pub fn json_ops(&self) -> Vec<JsonOp<'_>> {
        self.ops
            .iter()
            .map(|op| JsonOp {
                index: op.index,
                time: op.time_ms * 1_000_000,
                op_type: op.op_type,
                process: op.process,
                f: op.f(),
                value: [&op.mop],
                error: op.error.as_deref(),
                client: op.client,
            })
            .collect()
    }

    /// Jepsen's `:lost-write` analysis (`jepsen.tests.kafka`): an acknowledged send at offset
    /// `a` of a key, where some poll read a higher offset of that key, but no poll ever read the
    /// send's value. Returns (key, offset, value), in order.
    #[must_use]
    pub fn lost_writes(&self) -> Vec<(String, i64, i64)> {
        let mut polled_max: BTreeMap<&str, i64> = BTreeMap::new();
        let mut read: std::collections::BTreeSet<(&str, i64)> = std::collections::BTreeSet::new();
        for op in &self.ops {
            if let (OpType::Ok, Mop::Poll(Some(records))) = (op.op_type, &op.mop) {
                for (key, records) in records {
                    for (offset, value) in records {
                        let max = polled_max.entry(key.as_str()).or_insert(*offset);
                        *max = (*max).max(*offset);
                        if let Some(value) = value {
                            read.insert((key.as_str(), *value));
                        }
                    }
                }
            }
        }
        let mut lost = Vec::new();
        for op in &self.ops {
            if let (OpType::Ok, Mop::Send { key, offset: Some(offset), value }) = (op.op_type, &op.mop) {
                let past = polled_max.get(key.as_str()).is_some_and(|max| max > offset);
                if past && !read.contains(&(key.as_str(), *value)) {
                    lost.push((key.clone(), *offset, *value));
                }
            }
        }
        lost
    }
}
