//! # rill-broker
//!
//! Rill's native broker: a driver of `rill-core`'s state machines that speaks the Kafka wire
//! protocol over TCP and keeps partitions in files.
//!
//! Code map: [`storage`] (the file storage: segments, indexes, recovery), [`node`] (the
//! driver: Kafka requests ↔ the core's messages, timeouts, the controller's metadata file),
//! [`server`] (listener, framing, `kafka-protocol` decode/encode, timer, `/metrics`),
//! [`metrics`] (Prometheus counters and histograms), [`client`] (a blocking client for the
//! CLI and tests), [`broker_config`] (the config file and `--set` with Kafka's names) over
//! [`kafka_config`] (Kafka 4.4's broker config names, types and validators). The binary `rill` is `src/main.rs`.
// The broker is the host: it does I/O, reads the wall clock and spawns tasks by design.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod broker_config;
pub mod client;
pub mod cluster;
pub mod kafka_config;
pub mod metrics;
pub mod node;
pub mod server;
pub mod storage;
