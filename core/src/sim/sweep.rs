//! Seed sweeps: many random fault schedules, one summary.
//!
//! [`random_config`] turns a seed into a whole run — cluster size, topic settings, producers
//! with every acks setting, a consumer, network latency and loss, and a schedule of crashes,
//! pauses, link cuts and isolations — so a failing seed reproduces exactly with
//! [`run_seed`]. `cargo run --release -p rill-core --example sweep -- --seeds 20000` runs a
//! sweep from the command line (on every core, with a progress bar and the summary table), and
//! `... --example sweep -- --trace SEED` replays one seed's story.

use std::fmt;

use serde::Serialize;

use crate::group::assignor::Assignor;
use crate::group::member::{GroupConsumerConfig, GroupProtocol};
use crate::protocol::Acks;
use crate::rng::Rng;
use crate::topic::NewTopic;

use super::checker::{AcksCounts, Violation};
use super::{Fault, NetworkConfig, ProducerSpec, RunSummary, ScheduledFault, Sim, SimConfig};

/// How long faults are injected.
pub const FAULT_PHASE_MS: u64 = 40_000;
/// How long the healed cluster settles before the end-of-run checks.
pub const SETTLE_MS: u64 = 45_000;

/// The run a seed stands for.
#[must_use]
pub fn random_config(seed: u64) -> SimConfig {
    let mut rng = Rng::from_seed(seed ^ 0x5EED_5EED_5EED_5EED);
    let brokers = i32::try_from(rng.range_inclusive(3, 5)).expect("small");
    let partitions = i32::try_from(rng.range_inclusive(1, 3)).expect("small");
    let min_isr = if rng.chance(4, 5) { 2 } else { 1 };
    let unclean = rng.chance(1, 8);
    let mut topic = NewTopic::new("t", partitions, 3)
        .config("min.insync.replicas", &min_isr.to_string())
        .config("unclean.leader.election.enable", &unclean.to_string());
    if rng.chance(1, 2) {
        topic = topic.config("flush.messages", "1");
    }
    if rng.chance(1, 4) {
        // Compacted, with small segments and a fast cleaner so compaction really runs (seed 4066
        // found followers refusing the offset gaps compaction leaves).
        topic = topic
            .config("cleanup.policy", "compact")
            .config("segment.bytes", "2000")
            .config("delete.retention.ms", "5000");
    }
    let mut config = SimConfig::new(seed, brokers, topic);
    config.record_trace = false;
    config.controller_host =
        i32::try_from(rng.range_inclusive(1, u64::try_from(brokers).expect("positive"))).expect("small");
    config.broker_config.replica_lag_time_max_ms = if rng.chance(1, 2) { 10_000 } else { 30_000 };
    config.broker_config.replica_socket_timeout_ms = 5_000;
    config.broker_config.log_retention_check_interval_ms = 5_000;
    config.network = NetworkConfig {
        latency_min_ms: 1,
        latency_max_ms: rng.range_inclusive(2, 25),
        drop_per_million: if rng.chance(1, 3) {
            u32::try_from(rng.range_inclusive(1, 3_000)).expect("small")
        } else {
            0
        },
    };
    for acks in [Acks::None, Acks::Leader, Acks::All] {
        let interval_ms = rng.range_inclusive(40, 120);
        let mut spec = ProducerSpec::new("t", acks, interval_ms, FAULT_PHASE_MS / interval_ms);
        spec.keyed = rng.chance(1, 2);
        spec.config.request_timeout_ms = 10_000;
        spec.config.delivery_timeout_ms = 60_000;
        config.producers.push(spec);
    }
    config.consumers.push(vec!["t".to_owned()]);
    let assignor = [Assignor::Range, Assignor::RoundRobin, Assignor::CooperativeSticky][rng.index(3)];
    for _ in 0..rng.below(4) {
        let mut member = GroupConsumerConfig::new("g", &["t"], assignor);
        member.session_timeout_ms = 10_000;
        member.auto_commit_interval_ms = rng.range_inclusive(1_000, 5_000);
        config.group_consumers.push(member);
    }
    config.faults = random_faults(&mut rng, brokers);
    config.faults.extend(random_reassignments(seed, brokers, partitions));
    config.faults.sort_by_key(|fault| fault.at_ms);
    // The controller quorum (issue 16): one controller (as before), three, or on five brokers
    // five; the faults above hit their hosts like any broker.
    config.controllers = match rng.below(3) {
        0 => Vec::new(),
        1 => (1..=3).collect(),
        _ => (1..=brokers).collect(),
    };
    // Controller-only nodes (process.roles=controller, issue 16): a quarter of the runs put
    // the quorum on three nodes of their own, numbered after the brokers, and add faults that
    // hit every node. Drawn from a second generator, so the rest of each seed's run is as it was.
    let mut separate = Rng::from_seed(seed ^ 0xC0DE_C0DE_C0DE_C0DE);
    if separate.chance(1, 4) {
        config.controllers = (brokers + 1..=brokers + 3).collect();
        config.faults.extend(random_faults(&mut separate, brokers + 3));
        config.faults.sort_by_key(|fault| fault.at_ms);
    }
    // KIP-630: controllers snapshot their metadata log every few records, so voters that were
    // down past the leader's log start must fetch its snapshot.
    config.broker_config.metadata_log_max_records_between_snapshots = [100, 3, 10][rng.index(3)];
    // KIP-848 (issue 15): a third of the groups use `group.protocol=consumer`.
    if rng.chance(1, 3) {
        let remote_assignor = [None, Some("range".to_owned())][rng.index(2)].clone();
        for member in &mut config.group_consumers {
            member.group_protocol = GroupProtocol::Consumer { remote_assignor: remote_assignor.clone() };
        }
    }
    config
}

/// A schedule of overlapping faults, each undone after a while.
fn random_faults(rng: &mut Rng, brokers: i32) -> Vec<ScheduledFault> {
    let pick = |rng: &mut Rng| {
        i32::try_from(rng.range_inclusive(1, u64::try_from(brokers).expect("positive"))).expect("small")
    };
    let mut faults = Vec::new();
    let mut at_ms = rng.range_inclusive(2_000, 6_000);
    while at_ms < FAULT_PHASE_MS {
        let duration_ms = rng.range_inclusive(1_000, 15_000);
        let end_ms = (at_ms + duration_ms).min(FAULT_PHASE_MS);
        let (start, end) = match rng.below(5) {
            0 => {
                let broker = pick(rng);
                (Fault::Crash(broker), Fault::Restart(broker))
            }
            1 => {
                let broker = pick(rng);
                (Fault::Kill(broker), Fault::Restart(broker))
            }
            2 => {
                let broker = pick(rng);
                (Fault::Pause(broker), Fault::Resume(broker))
            }
            3 => {
                let from = pick(rng);
                let to = pick(rng);
                (Fault::CutLink { from, to }, Fault::HealLink { from, to })
            }
            _ => {
                let broker = pick(rng);
                (Fault::Isolate(broker), Fault::Reconnect(broker))
            }
        };
        faults.push(ScheduledFault { at_ms, fault: start });
        faults.push(ScheduledFault { at_ms: end_ms, fault: end });
        at_ms += rng.range_inclusive(1_500, 8_000);
    }
    faults
}

/// Half the seeds move a partition to three random brokers during the faults (KIP-455), and
/// some of those cancel the move soon after. Drawn from their own generator so every seed keeps
/// the rest of its run.
fn random_reassignments(seed: u64, brokers: i32, partitions: i32) -> Vec<ScheduledFault> {
    let mut rng = Rng::from_seed(seed ^ 0x0EA5_5165_0EA5_5165);
    if !rng.chance(1, 2) {
        return Vec::new();
    }
    let mut pool: Vec<i32> = (1..=brokers).collect();
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(pool.remove(rng.index(pool.len())));
    }
    let topic = "t".to_owned();
    let partition = i32::try_from(rng.below(u64::try_from(partitions).expect("positive"))).expect("small");
    let at_ms = rng.range_inclusive(3_000, FAULT_PHASE_MS - 5_000);
    let mut faults = vec![ScheduledFault {
        at_ms,
        fault: Fault::Reassign { topic: topic.clone(), partition, replicas: Some(replicas) },
    }];
    if rng.chance(1, 4) {
        let cancel_ms = at_ms + rng.range_inclusive(50, 3_000);
        faults.push(ScheduledFault { at_ms: cancel_ms, fault: Fault::Reassign { topic, partition, replicas: None } });
    }
    faults
}

/// Runs the seed's whole scenario, including the settle phase and end-of-run checks.
#[must_use]
pub fn run_seed(seed: u64) -> RunSummary {
    let mut sim = Sim::new(random_config(seed)).expect("random configs are valid");
    sim.run_until(FAULT_PHASE_MS);
    sim.finish(SETTLE_MS)
}

/// The first violation of a sweep.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FirstFailure {
    /// The seed that reproduces it.
    pub seed: u64,
    /// What broke.
    pub violation: Violation,
}

/// A sweep's totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SweepSummary {
    /// Seeds run.
    pub runs: u64,
    /// Events processed in all.
    pub events: u64,
    /// Runs with at least one violation.
    pub failed_runs: u64,
    /// Violations in all.
    pub violations: u64,
    /// Acknowledged writes by acks.
    pub acknowledged: AcksCounts,
    /// Acknowledged writes lost, by acks (allowed where Kafka allows it).
    pub lost: AcksCounts,
    /// Duplicated records (producer retries without idempotence).
    pub duplicates: u64,
    /// Unclean elections.
    pub unclean_elections: u64,
    /// The first failing seed.
    pub first_failure: Option<FirstFailure>,
}

impl SweepSummary {
    /// Adds one run.
    pub fn add(&mut self, run: &RunSummary) {
        let report = &run.report;
        let failed = !report.violations.is_empty();
        self.merge(SweepSummary {
            runs: 1,
            events: run.events,
            failed_runs: u64::from(failed),
            violations: u64::try_from(report.violations.len()).unwrap_or(u64::MAX),
            acknowledged: report.acknowledged.clone(),
            lost: report.lost.clone(),
            duplicates: report.duplicates,
            unclean_elections: report.unclean_elections,
            first_failure: report
                .violations
                .first()
                .map(|violation| FirstFailure { seed: run.seed, violation: violation.clone() }),
        });
    }

    /// Adds another sweep's totals (of other seeds); the first failure is the lowest seed's.
    pub fn merge(&mut self, other: SweepSummary) {
        self.runs += other.runs;
        self.events += other.events;
        self.failed_runs += other.failed_runs;
        self.violations += other.violations;
        for (total, part) in [(&mut self.acknowledged, &other.acknowledged), (&mut self.lost, &other.lost)] {
            total.acks_0 += part.acks_0;
            total.acks_1 += part.acks_1;
            total.acks_all += part.acks_all;
        }
        self.duplicates += other.duplicates;
        self.unclean_elections += other.unclean_elections;
        self.first_failure = match (self.first_failure.take(), other.first_failure) {
            (Some(mine), Some(theirs)) => Some(if theirs.seed < mine.seed { theirs } else { mine }),
            (mine, theirs) => mine.or(theirs),
        };
    }
}

/// Runs seeds `first..first + count` one after another.
#[must_use]
pub fn sweep(first: u64, count: u64) -> SweepSummary {
    let mut summary = SweepSummary::default();
    for seed in first..first.saturating_add(count) {
        summary.add(&run_seed(seed));
    }
    summary
}

impl fmt::Display for SweepSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| seeds | events | failed runs | violations | duplicates | unclean elections |")?;
        writeln!(f, "|---:|---:|---:|---:|---:|---:|")?;
        writeln!(
            f,
            "| {} | {} | {} | {} | {} | {} |",
            self.runs, self.events, self.failed_runs, self.violations, self.duplicates, self.unclean_elections
        )?;
        writeln!(f)?;
        writeln!(f, "| acks | acknowledged | lost | lost % |")?;
        writeln!(f, "|---|---:|---:|---:|")?;
        for (name, acked, lost) in [
            ("0", self.acknowledged.acks_0, self.lost.acks_0),
            ("1", self.acknowledged.acks_1, self.lost.acks_1),
            ("all", self.acknowledged.acks_all, self.lost.acks_all),
        ] {
            let percent = if acked == 0 { 0.0 } else { lost as f64 * 100.0 / acked as f64 };
            writeln!(f, "| {name} | {acked} | {lost} | {percent:.3} |")?;
        }
        match &self.first_failure {
            Some(failure) => writeln!(
                f,
                "\nfirst failing seed: {} — {} at event {} (t={} ms): {}",
                failure.seed,
                failure.violation.invariant,
                failure.violation.event_index,
                failure.violation.time_ms,
                failure.violation.detail
            ),
            None => writeln!(f, "\nno violations"),
        }
    }
}
