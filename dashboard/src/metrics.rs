//! Kafka's metrics over the run, by the names the native broker's `/metrics` exports
//! (`rill_core::metrics`): gauges read from the snapshot, counters from the trace and plotted
//! as rates per second. One point per virtual second at most; the newest [`POINTS_MAX`] kept.

use std::collections::VecDeque;

use rill_core::metrics::{self, Kind, Metric, PLOTTED};
use rill_core::sim::spec::Snapshot;

/// Virtual time between two points.
pub const SAMPLE_MS: u64 = 1_000;
/// Points kept per metric (a limit on everything).
pub const POINTS_MAX: usize = 120;

/// Counters the trace feeds (cumulative since the run's start).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// ISR changes that removed a replica.
    pub isr_shrinks: u64,
    /// ISR changes that added one.
    pub isr_expands: u64,
    /// Produce requests a leader answered with an error.
    pub failed_produce_requests: u64,
}

/// One plotted metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Which.
    pub metric: Metric,
    /// (virtual ms, value): a gauge's value or a counter's rate per second.
    pub points: VecDeque<(u64, f64)>,
    last_total: Option<(u64, f64)>,
}

/// Every plotted metric.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// In [`PLOTTED`] order.
    pub series: Vec<Series>,
    next_ms: u64,
}

impl Default for Plot {
    fn default() -> Plot {
        Plot {
            series: PLOTTED
                .iter()
                .map(|metric| Series { metric: *metric, points: VecDeque::new(), last_total: None })
                .collect(),
            next_ms: 0,
        }
    }
}

/// A metric's value now: a gauge's reading, or a counter's running total.
fn reading(metric: Metric, snapshot: &Snapshot, counters: Counters) -> f64 {
    let count = |n: usize| n as f64;
    match metric.name {
        name if name == metrics::UNDER_REPLICATED_PARTITIONS.name => {
            count(snapshot.partitions.iter().filter(|p| p.under_replicated && !p.offline).count())
        }
        name if name == metrics::OFFLINE_PARTITIONS.name => {
            count(snapshot.partitions.iter().filter(|p| p.offline).count())
        }
        name if name == metrics::ACTIVE_CONTROLLER.name => count(
            snapshot.brokers.iter().filter(|b| b.controller && b.status == rill_core::sim::BrokerStatus::Up).count(),
        ),
        name if name == metrics::ISR_SHRINKS.name => counters.isr_shrinks as f64,
        name if name == metrics::ISR_EXPANDS.name => counters.isr_expands as f64,
        name if name == metrics::MESSAGES_IN.name => {
            let acked = &snapshot.report.acknowledged;
            (acked.acks_0 + acked.acks_1 + acked.acks_all) as f64
        }
        name if name == metrics::FAILED_PRODUCE_REQUESTS.name => counters.failed_produce_requests as f64,
        name if name == metrics::CONSUMER_GROUP_LAG.name => {
            snapshot.groups.iter().flat_map(|g| g.offsets.iter()).filter_map(|o| o.lag).sum::<i64>() as f64
        }
        _ => 0.0,
    }
}

impl Plot {
    /// Adds a point to every series if a virtual second has passed since the last one.
    pub fn sample(&mut self, snapshot: &Snapshot, counters: Counters) {
        let now_ms = snapshot.now_ms;
        if now_ms < self.next_ms {
            return;
        }
        self.next_ms = now_ms - now_ms % SAMPLE_MS + SAMPLE_MS;
        for series in &mut self.series {
            let value = reading(series.metric, snapshot, counters);
            let point = match series.metric.kind {
                Kind::Gauge => value,
                Kind::Counter => {
                    let rate = series.last_total.map_or(0.0, |(at_ms, total)| {
                        let seconds = now_ms.saturating_sub(at_ms) as f64 / 1_000.0;
                        if seconds > 0.0 {
                            (value - total).max(0.0) / seconds
                        } else {
                            0.0
                        }
                    });
                    series.last_total = Some((now_ms, value));
                    rate
                }
            };
            series.points.push_back((now_ms, point));
            if series.points.len() > POINTS_MAX {
                series.points.pop_front();
            }
        }
    }
}
