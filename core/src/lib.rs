//! # rill-core
//!
//! The pure, deterministic core of Rill, a Kafka-like partitioned, replicated log.
//!
//! **Contract.** This crate does no I/O, reads no clock, spawns no threads and uses no global
//! or OS-seeded randomness. Time comes in as `now_ms: u64` arguments; randomness from a
//! [`rng::Rng`] the caller seeds; collections are ordered ([`collections::VecMap`], `Vec`,
//! `BTreeMap`) so iteration order is the
//! same on every platform (x86_64 and wasm32 alike). Clippy enforces this (`core/clippy.toml`).
//! The same code runs in the native broker, in WebAssembly and in the deterministic simulation.
//!
//! ## A short tour
//! ```
//! use rill_core::config::TopicConfig;
//! use rill_core::log::{PartitionLog, ReadLimit};
//! use rill_core::record::{BatchBuilder, Record};
//! use rill_core::storage::MemStorage;
//!
//! let mut log = PartitionLog::new(MemStorage::new(), TopicConfig::default());
//! let batch = BatchBuilder::from_records(&[Record::new(Some(b"user-1"), Some(b"hello"), 1_000)]);
//! let info = log.append_as_leader(1_000, batch, 0).unwrap();
//! assert_eq!(info.base_offset, 0);
//! // Consumers only see committed records: below the high watermark.
//! assert!(log.read(0, 1 << 20, ReadLimit::HighWatermark).unwrap().batches.is_empty());
//! log.set_high_watermark(log.log_end_offset());
//! let read = log.read(0, 1 << 20, ReadLimit::HighWatermark).unwrap();
//! let record = read.batches[0].records().next().unwrap().unwrap();
//! assert_eq!(record.record.value.as_deref(), Some(&b"hello"[..]));
//! ```
//!
//! ## Modules
//! - [`record`]: records and record batches (Kafka's batch v2 layout, CRC).
//! - [`storage`]: the [`storage::Storage`] trait, [`storage::MemStorage`] and the contract suite.
//! - [`log`]: [`log::PartitionLog`]: offsets, segment rolling, reads, truncation, retention.
//! - [`topic`], [`placement`]: topic validation and Kafka's replica assignment.
//! - [`partitioner`]: murmur2 exactly like the Java client, sticky and round-robin.
//! - [`config`]: broker and topic configs with Kafka's names and defaults.
//! - [`error`]: Kafka's error codes.
//! - [`rng`]: the seeded PRNG.
//! - [`collections`]: `VecMap`/`VecSet` (sorted `Vec`s with `BTreeMap`'s API) and a compact sort.

pub mod broker;
pub mod client;
pub mod collections;
pub mod compression;
pub mod config;
pub mod controller;
pub mod epoch;
pub mod error;
pub mod event;
pub mod group;
pub mod log;
pub mod machine;
pub mod metrics;
pub mod partitioner;
pub mod placement;
pub mod producer_state;
pub mod protocol;
pub mod raft;
pub mod record;
pub mod rng;
pub mod sim;
pub mod storage;
pub mod topic;

pub use error::{Error, ErrorCode, Result};
