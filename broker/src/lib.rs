//! # rill-broker
//!
//! Rill's native broker: a driver of `rill-core`'s state machines that speaks the Kafka wire
//! protocol over TCP and keeps partitions in files.
//!
//! Code map: [`storage`] (the file storage: segments, indexes, recovery), [`driver`] (the
//! core's state machines, fed and drained: routing, timeouts, peers), [`apis`] (pure Kafka ⇄
//! core translation per API), [`gather`] (a Kafka request waiting for its core parts),
//! [`metadata_store`] (the controller's snapshot), [`cluster`] (the nodes and their internal
//! channel), [`server`] (listener, framing, `kafka-protocol` decode/encode, timer, `/metrics`),
//! [`metrics`] (Prometheus counters and histograms), [`admin_client`] (a blocking Kafka client for the
//! CLI and tests), [`broker_config`] (the config file and `--set` with Kafka's names) over
//! [`kafka_config`] (Kafka 4.4's broker config names, types and validators). The binary `rill` is `src/main.rs`.
// The broker is the host: it does I/O, reads the wall clock and spawns tasks by design.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod admin_client;
pub mod apis;
pub mod broker_config;
pub mod cluster;
pub mod driver;
pub mod gather;
pub mod kafka_config;
pub mod meta_properties;
pub mod metadata_store;
pub mod metrics;
pub mod quorum_store;
pub mod server;
pub mod storage;
