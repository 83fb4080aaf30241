//! Kafka ⇄ core translation, one file per group of APIs. Every function here is pure: a Kafka
//! request (and what the broker knows) in, the core's messages or a Kafka response out — no
//! sockets, no state, unit-tested beside the code. The driver (`crate::driver`) sends the core
//! messages, gathers the answers (`crate::gather`) and calls these to build the response.

pub mod admin;
pub mod configs;
pub mod consumer_groups;
pub mod delete_records;
pub mod describe;
pub mod elections;
pub mod epochs;
pub mod fetch;
pub mod groups;
pub mod offset_delete;
pub mod produce;
pub mod producers;
pub mod quorum;
pub mod reassignments;
pub mod synonyms;
pub mod topic_partitions;

use kafka_protocol::messages::TopicName;
use kafka_protocol::protocol::StrBytes;
use rill_core::error::ErrorCode;

/// A Kafka error code on the wire.
#[must_use]
pub fn err(code: ErrorCode) -> i16 {
    code.code()
}

/// A topic name on the wire.
#[must_use]
pub fn name(text: &str) -> TopicName {
    TopicName(StrBytes::from_string(text.to_owned()))
}

/// A string on the wire.
#[must_use]
pub fn str_bytes(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}
