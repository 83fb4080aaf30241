//! Prometheus metrics: counters and gauges the broker updates, request-latency histograms per
//! API, and the text exposition format served on `/metrics`. Metrics Kafka has carry Kafka's
//! names (`rill_core::metrics`, the JMX exporter's spelling, shared with the dashboard); the
//! `rill_` ones are Rill's own.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rill_core::metrics::{self, Metric};

/// Upper bounds (seconds) of the request-latency histogram buckets.
const BUCKETS_S: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS_S.len()],
    count: u64,
    sum_s: f64,
}

/// The broker's metrics.
#[derive(Default)]
pub struct Metrics {
    /// Bytes of records received in produce requests.
    pub bytes_in: AtomicU64,
    /// Bytes of records sent in fetch responses.
    pub bytes_out: AtomicU64,
    /// ISR shrinks seen.
    pub isr_shrinks: AtomicU64,
    /// ISR expansions seen.
    pub isr_expands: AtomicU64,
    /// Requests that were malformed, too large or for unknown APIs.
    pub bad_requests: AtomicU64,
    /// Open client connections.
    pub connections: AtomicU64,
    under_replicated: AtomicU64,
    latency: Mutex<BTreeMap<&'static str, Histogram>>,
    lag: Mutex<BTreeMap<(String, String, i32), i64>>,
}

impl Metrics {
    /// Sets the count of partitions this broker leads whose ISR is smaller than the replica set.
    pub fn set_under_replicated(&self, count: u64) {
        self.under_replicated.store(count, Ordering::Relaxed);
    }

    /// Records one request's latency.
    pub fn observe_request(&self, api: &'static str, seconds: f64) {
        let mut latency = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let histogram = latency.entry(api).or_default();
        for (bound, count) in BUCKETS_S.iter().zip(histogram.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        histogram.count += 1;
        histogram.sum_s += seconds;
    }

    /// Sets a consumer group's lag on a partition (high watermark − committed offset).
    pub fn set_lag(&self, group: &str, topic: &str, partition: i32, lag: i64) {
        let mut map = self.lag.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        map.insert((group.to_owned(), topic.to_owned(), partition), lag);
    }

    /// The Prometheus text format.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let kafka = |metric: Metric| (metric.name, metric.help);
        let counters = [
            (kafka(metrics::BYTES_IN), &self.bytes_in),
            (kafka(metrics::BYTES_OUT), &self.bytes_out),
            (kafka(metrics::ISR_SHRINKS), &self.isr_shrinks),
            (kafka(metrics::ISR_EXPANDS), &self.isr_expands),
            (("rill_bad_requests_total", "Malformed, oversized or unknown requests."), &self.bad_requests),
        ];
        for ((name, help), value) in counters {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Ordering::Relaxed));
        }
        let gauges = [
            (kafka(metrics::UNDER_REPLICATED_PARTITIONS), &self.under_replicated),
            (("rill_connections", "Open client connections."), &self.connections),
        ];
        for ((name, help), value) in gauges {
            let _ =
                writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}", value.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# HELP rill_request_latency_seconds Request latency by Kafka API.");
        let _ = writeln!(out, "# TYPE rill_request_latency_seconds histogram");
        let latency = self.latency.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (api, histogram) in latency.iter() {
            for (bound, count) in BUCKETS_S.iter().zip(histogram.counts) {
                let _ = writeln!(out, "rill_request_latency_seconds_bucket{{api=\"{api}\",le=\"{bound}\"}} {count}");
            }
            let _ =
                writeln!(out, "rill_request_latency_seconds_bucket{{api=\"{api}\",le=\"+Inf\"}} {}", histogram.count);
            let _ = writeln!(out, "rill_request_latency_seconds_sum{{api=\"{api}\"}} {}", histogram.sum_s);
            let _ = writeln!(out, "rill_request_latency_seconds_count{{api=\"{api}\"}} {}", histogram.count);
        }
        drop(latency);
        let lag_name = metrics::CONSUMER_GROUP_LAG.name;
        let _ = writeln!(out, "# HELP {lag_name} {}", metrics::CONSUMER_GROUP_LAG.help);
        let _ = writeln!(out, "# TYPE {lag_name} gauge");
        let lag = self.lag.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((group, topic, partition), value) in lag.iter() {
            let _ = writeln!(
                out,
                "{lag_name}{{consumergroup=\"{group}\",topic=\"{topic}\",partition=\"{partition}\"}} {value}"
            );
        }
        out
    }
}
