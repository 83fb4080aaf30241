//! Experiments on a run: a config variation to compare against, the two sides of a
//! comparison, and a fork (what changed, and how to go back).

use std::rc::Rc;

use rill_core::sim::checker::{CheckReport, LostWrite};
use rill_core::sim::session::{Action as SimAction, Recording};
use rill_core::sim::spec::{AcksSpec, ClusterSpec};

use crate::scenarios::Scenario;

/// A config change to compare against (same seed, same actions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Variation {
    /// Override every producer's acks (wire value).
    pub acks: Option<i16>,
    /// Override every topic's `min.insync.replicas`.
    pub min_insync_replicas: Option<i32>,
    /// Override every topic's `unclean.leader.election.enable`.
    pub unclean: Option<bool>,
    /// Replicate as Kafka did before KIP-101 (`rill.truncate.to.high.watermark`), or not.
    pub truncate_to_high_watermark: Option<bool>,
    /// `Some(false)`: the same brokers without `broker.rack` (rack-unaware placement).
    pub racks: Option<bool>,
}

/// The broker config behind [`Variation::truncate_to_high_watermark`].
pub(crate) const TRUNCATE_TO_HIGH_WATERMARK: &str = "rill.truncate.to.high.watermark";

impl Variation {
    /// Plain words.
    #[must_use]
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(acks) = self.acks {
            parts.push(format!("acks={}", if acks == -1 { "all".to_owned() } else { acks.to_string() }));
        }
        if let Some(min_isr) = self.min_insync_replicas {
            parts.push(format!("min.insync.replicas={min_isr}"));
        }
        if let Some(unclean) = self.unclean {
            parts.push(format!("unclean.leader.election.enable={unclean}"));
        }
        if self.racks == Some(false) {
            parts.push("no broker.rack (rack-unaware placement)".to_owned());
        }
        match self.truncate_to_high_watermark {
            Some(true) => parts.push("replication before KIP-101 (truncate to the high watermark)".to_owned()),
            Some(false) => parts.push("leader epochs (KIP-101)".to_owned()),
            None => {}
        }
        if parts.is_empty() {
            "the same config".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// The recording with this variation applied.
    #[must_use]
    pub fn apply(&self, recording: &Recording) -> Recording {
        let mut recording = recording.clone();
        for topic in &mut recording.spec.topics {
            if let Some(min_isr) = self.min_insync_replicas {
                topic.min_insync_replicas = min_isr;
            }
            if let Some(unclean) = self.unclean {
                topic.unclean_leader_election = unclean;
            }
        }
        if self.racks == Some(false) {
            recording.spec.racks.clear();
        }
        if let Some(truncate) = self.truncate_to_high_watermark {
            recording.spec.broker_configs.insert(TRUNCATE_TO_HIGH_WATERMARK.to_owned(), truncate.to_string());
        }
        if let Some(acks) = self.acks {
            for producer in &mut recording.spec.producers {
                producer.acks = Some(AcksSpec::Number(acks));
                producer.enable_idempotence = acks == -1;
            }
            for step in &mut recording.steps {
                match &mut step.action {
                    SimAction::Produce(spec) => spec.acks = Some(AcksSpec::Number(acks)),
                    SimAction::StartProducer(spec) => {
                        spec.acks = Some(AcksSpec::Number(acks));
                        spec.enable_idempotence = acks == -1;
                    }
                    _ => {}
                }
            }
        }
        recording
    }
}

/// A run changed from the one before it (an action that dropped a recorded future, or a
/// config change): what changed, and enough to go back.
#[derive(Clone, Debug)]
pub struct Fork {
    /// What changed, in words.
    pub what: String,
    /// Virtual time of the change.
    pub at_ms: u64,
    pub(super) before: Recording,
    pub(super) before_event: u64,
    pub(super) before_scenario: Option<&'static Scenario>,
    pub(super) previous: Option<Rc<Fork>>,
}

/// What a config change changed, in Kafka's names ("the same config" if nothing).
#[must_use]
pub fn spec_change(before: &ClusterSpec, after: &ClusterSpec) -> String {
    let mut parts = Vec::new();
    let mut differ = |name: &str, a: String, b: String| {
        if a != b {
            parts.push(format!("{name} {a} → {b}"));
        }
    };
    differ("brokers", before.brokers.to_string(), after.brokers.to_string());
    differ("seed", before.seed.to_string(), after.seed.to_string());
    if let (Some(a), Some(b)) = (before.topics.first(), after.topics.first()) {
        differ("partitions", a.partitions.to_string(), b.partitions.to_string());
        differ("replication.factor", format!("{:?}", a.replication_factor), format!("{:?}", b.replication_factor));
        differ("min.insync.replicas", a.min_insync_replicas.to_string(), b.min_insync_replicas.to_string());
        differ(
            "unclean.leader.election.enable",
            a.unclean_leader_election.to_string(),
            b.unclean_leader_election.to_string(),
        );
    }
    let flush = |spec: &ClusterSpec| {
        spec.broker_configs.get("log.flush.interval.messages").cloned().unwrap_or_else(|| "default".to_owned())
    };
    differ("log.flush.interval.messages", flush(before), flush(after));
    let truncate = |spec: &ClusterSpec| {
        spec.broker_configs.get(TRUNCATE_TO_HIGH_WATERMARK).cloned().unwrap_or_else(|| "false".to_owned())
    };
    differ(TRUNCATE_TO_HIGH_WATERMARK, truncate(before), truncate(after));
    if parts.is_empty() {
        "the same config".to_owned()
    } else {
        parts.join(", ")
    }
}

/// One side of a comparison.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Side {
    /// Its config in words.
    pub label: String,
    /// End-of-run checks (after healing and settling).
    pub report: CheckReport,
    /// Acknowledged writes lost, as found live up to now.
    pub lost: Vec<LostWrite>,
    /// Actions that did not apply under this config.
    pub skipped: usize,
}

/// The same seed and actions under two configs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comparison {
    /// This run.
    pub a: Side,
    /// The variation.
    pub b: Side,
}
