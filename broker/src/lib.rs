//! # rill-broker
//!
//! Rill's native broker: a driver of `rill-core`'s state machines that speaks the Kafka wire
//! protocol over TCP and keeps partitions in files. Code map: [`storage`] (the file storage).
// The broker is the host: it does I/O, reads the wall clock and spawns tasks by design.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

pub mod storage;
