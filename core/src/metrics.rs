//! The names of the metrics Rill reports, Kafka's own: each is the name Prometheus' JMX
//! exporter gives Kafka's MBean (so a Grafana dashboard built for Kafka reads Rill's
//! `/metrics`), with the MBean beside it. The native broker exports them; the dashboard plots
//! the same names from the simulation, so what a learner sees is what an operator sees.

/// Counter or gauge (Prometheus' types).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Only grows; plotted as a rate per second.
    Counter,
    /// A value now.
    Gauge,
}

/// One metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    /// Prometheus name (JMX exporter style).
    pub name: &'static str,
    /// Kafka's MBean.
    pub mbean: &'static str,
    /// What it counts.
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
}

const fn metric(name: &'static str, mbean: &'static str, help: &'static str, kind: Kind) -> Metric {
    Metric { name, mbean, help, kind }
}

/// Partitions led here whose ISR is smaller than their replica set.
pub const UNDER_REPLICATED_PARTITIONS: Metric = metric(
    "kafka_server_replicamanager_underreplicatedpartitions",
    "kafka.server:type=ReplicaManager,name=UnderReplicatedPartitions",
    "Led partitions whose ISR is smaller than the replica set.",
    Kind::Gauge,
);
/// ISR shrinks.
pub const ISR_SHRINKS: Metric = metric(
    "kafka_server_replicamanager_isrshrinks_total",
    "kafka.server:type=ReplicaManager,name=IsrShrinksPerSec",
    "ISR shrinks.",
    Kind::Counter,
);
/// ISR expansions.
pub const ISR_EXPANDS: Metric = metric(
    "kafka_server_replicamanager_isrexpands_total",
    "kafka.server:type=ReplicaManager,name=IsrExpandsPerSec",
    "ISR expansions.",
    Kind::Counter,
);
/// Partitions without a leader.
pub const OFFLINE_PARTITIONS: Metric = metric(
    "kafka_controller_kafkacontroller_offlinepartitionscount",
    "kafka.controller:type=KafkaController,name=OfflinePartitionsCount",
    "Partitions without a leader.",
    Kind::Gauge,
);
/// 1 on the node hosting the active controller.
pub const ACTIVE_CONTROLLER: Metric = metric(
    "kafka_controller_kafkacontroller_activecontrollercount",
    "kafka.controller:type=KafkaController,name=ActiveControllerCount",
    "1 where the active controller runs.",
    Kind::Gauge,
);
/// Records appended by produce requests.
pub const MESSAGES_IN: Metric = metric(
    "kafka_server_brokertopicmetrics_messagesin_total",
    "kafka.server:type=BrokerTopicMetrics,name=MessagesInPerSec",
    "Records appended by produce requests.",
    Kind::Counter,
);
/// Record bytes received by produce requests.
pub const BYTES_IN: Metric = metric(
    "kafka_server_brokertopicmetrics_bytesin_total",
    "kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec",
    "Record bytes received by produce requests.",
    Kind::Counter,
);
/// Record bytes sent by fetch responses.
pub const BYTES_OUT: Metric = metric(
    "kafka_server_brokertopicmetrics_bytesout_total",
    "kafka.server:type=BrokerTopicMetrics,name=BytesOutPerSec",
    "Record bytes sent by fetch responses.",
    Kind::Counter,
);
/// Produce requests answered with an error.
pub const FAILED_PRODUCE_REQUESTS: Metric = metric(
    "kafka_server_brokertopicmetrics_failedproducerequests_total",
    "kafka.server:type=BrokerTopicMetrics,name=FailedProduceRequestsPerSec",
    "Produce requests answered with an error.",
    Kind::Counter,
);
/// A group's committed offset behind the high watermark (kafka_exporter's name).
pub const CONSUMER_GROUP_LAG: Metric = metric(
    "kafka_consumergroup_lag",
    "kafka.consumer:type=consumer-fetch-manager-metrics,name=records-lag (client side)",
    "Committed offset behind the high watermark.",
    Kind::Gauge,
);
/// The metrics the dashboard plots, in order.
pub const PLOTTED: [Metric; 8] = [
    UNDER_REPLICATED_PARTITIONS,
    OFFLINE_PARTITIONS,
    ACTIVE_CONTROLLER,
    ISR_SHRINKS,
    ISR_EXPANDS,
    MESSAGES_IN,
    FAILED_PRODUCE_REQUESTS,
    CONSUMER_GROUP_LAG,
];
