//! DescribeCluster and DescribeLogDirs: what the AdminClient's `describeCluster` (and
//! `kafka-cluster`) and `describeLogDirs` (and `kafka-log-dirs`) ask of a broker.

use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{
    BrokerId, DescribeClusterRequest, DescribeClusterResponse, DescribeLogDirsRequest, DescribeLogDirsResponse,
};
use rill_core::error::ErrorCode;
use rill_core::protocol::MetadataImage;

use super::admin::ClusterView;
use super::{err, name, str_bytes};

/// Kafka's `DescribeClusterRequest` endpoint types (KIP-919): brokers.
pub const ENDPOINT_BROKERS: i8 = 1;
/// Controllers (`--bootstrap-controller`).
pub const ENDPOINT_CONTROLLERS: i8 = 2;

fn endpoint_type_name(endpoint_type: i8) -> &'static str {
    match endpoint_type {
        ENDPOINT_BROKERS => "BROKER",
        ENDPOINT_CONTROLLERS => "CONTROLLER",
        _ => "UNKNOWN",
    }
}

/// `cluster_authorized_operations` when the client did not ask (Kafka's `Integer.MIN_VALUE`).
const OPERATIONS_NOT_ASKED: i32 = i32::MIN;

/// The cluster as DescribeCluster reports it from an endpoint of type `served`: a broker
/// lists the live brokers (and, when asked, the fenced ones flagged), a controller-only node
/// the controllers (KIP-919); both the cluster id and the controller the clients are told of.
/// Asked for the other type, it answers `MISMATCHED_ENDPOINT_TYPE`, as Kafka does.
#[must_use]
pub fn describe_cluster_response(
    request: &DescribeClusterRequest,
    served: i8,
    image: &MetadataImage,
    cluster: &ClusterView<'_>,
    fenced: &[(i32, kafka_protocol::protocol::StrBytes, i32)],
) -> DescribeClusterResponse {
    let mut response = DescribeClusterResponse::default();
    response.endpoint_type = request.endpoint_type;
    response.cluster_authorized_operations = OPERATIONS_NOT_ASKED;
    if request.endpoint_type != served {
        response.error_code = err(ErrorCode::MismatchedEndpointType);
        let hint = if served == ENDPOINT_BROKERS {
            " (Rill's combined nodes take client connections as brokers: use --bootstrap-server)"
        } else {
            " (this node is controller-only: use --bootstrap-controller, or a broker with --bootstrap-server)"
        };
        response.error_message = Some(str_bytes(&format!(
            "The request was sent to an endpoint of type {}, but we wanted an endpoint of type {}{hint}",
            endpoint_type_name(served),
            endpoint_type_name(request.endpoint_type)
        )));
        return response;
    }
    response.cluster_id = str_bytes(cluster.cluster_id);
    response.controller_id = BrokerId(cluster.controller_id);
    let include_fenced = request.include_fenced_brokers;
    let listed = cluster.brokers.iter().map(|b| (b, false));
    let fenced = fenced.iter().filter(|_| include_fenced).map(|b| (b, true));
    for ((id, host, port), is_fenced) in listed.chain(fenced) {
        let mut broker = DescribeClusterBroker::default();
        broker.broker_id = BrokerId(*id);
        broker.host = host.clone();
        broker.port = *port;
        broker.rack = image.brokers.get(id).and_then(|b| b.rack.as_deref()).map(str_bytes);
        broker.is_fenced = is_fenced;
        response.brokers.push(broker);
    }
    response
}

/// One partition this broker holds a replica of, as DescribeLogDirs reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOnDisk {
    /// Topic name.
    pub topic: String,
    /// Partition index.
    pub partition: i32,
    /// Bytes of its log.
    pub size_bytes: u64,
    /// Its log end offset.
    pub log_end_offset: i64,
    /// Its high watermark.
    pub high_watermark: i64,
}

/// The broker's log directory and the replicas in it that the request names (all when it
/// names none). `total_bytes`/`usable_bytes` are the volume's, −1 when unknown (as Kafka
/// reports them to clients before version 4).
#[must_use]
pub fn describe_log_dirs_response(
    request: &DescribeLogDirsRequest,
    log_dir: &str,
    replicas: &[ReplicaOnDisk],
    volume: Option<(i64, i64)>,
) -> DescribeLogDirsResponse {
    let wanted = |replica: &ReplicaOnDisk| match &request.topics {
        None => true,
        Some(topics) => {
            topics.iter().any(|t| t.topic.as_str() == replica.topic && t.partitions.contains(&replica.partition))
        }
    };
    let mut result = DescribeLogDirsResult::default();
    result.log_dir = str_bytes(log_dir);
    (result.total_bytes, result.usable_bytes) = volume.unwrap_or((-1, -1));
    for replica in replicas.iter().filter(|r| wanted(r)) {
        let mut partition = DescribeLogDirsPartition::default();
        partition.partition_index = replica.partition;
        partition.partition_size = i64::try_from(replica.size_bytes).unwrap_or(i64::MAX);
        // Kafka: how far the log end is behind the high watermark (0 once caught up).
        partition.offset_lag = (replica.high_watermark - replica.log_end_offset).max(0);
        partition.is_future_key = false;
        match result.topics.iter_mut().find(|t| t.name.as_str() == replica.topic) {
            Some(topic) => topic.partitions.push(partition),
            None => {
                let mut topic = DescribeLogDirsTopic::default();
                topic.name = name(&replica.topic);
                topic.partitions.push(partition);
                result.topics.push(topic);
            }
        }
    }
    let mut response = DescribeLogDirsResponse::default();
    response.results.push(result);
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;

    fn replica(topic: &str, partition: i32, size_bytes: u64) -> ReplicaOnDisk {
        ReplicaOnDisk { topic: topic.to_owned(), partition, size_bytes, log_end_offset: 10, high_watermark: 10 }
    }

    #[test]
    fn log_dirs_list_the_asked_partitions_grouped_by_topic() {
        let replicas = [replica("a", 0, 70), replica("a", 1, 0), replica("b", 0, 5)];
        let mut request = DescribeLogDirsRequest::default();
        request.topics = None; // null: every partition
        let all = describe_log_dirs_response(&request, "/data", &replicas, None);
        let result = &all.results[0];
        assert_eq!((result.log_dir.as_str(), result.total_bytes), ("/data", -1));
        let listed: Vec<(String, Vec<(i32, i64)>)> = result
            .topics
            .iter()
            .map(|t| (t.name.to_string(), t.partitions.iter().map(|p| (p.partition_index, p.partition_size)).collect()))
            .collect();
        assert_eq!(listed, vec![("a".to_owned(), vec![(0, 70), (1, 0)]), ("b".to_owned(), vec![(0, 5)])]);
        let mut topic = DescribableLogDirTopic::default();
        topic.topic = name("a");
        topic.partitions = vec![1];
        request.topics = Some(vec![topic]);
        let some = describe_log_dirs_response(&request, "/data", &replicas, Some((100, 40)));
        assert_eq!(some.results[0].topics.len(), 1);
        assert_eq!(some.results[0].topics[0].partitions[0].partition_index, 1);
        assert_eq!((some.results[0].total_bytes, some.results[0].usable_bytes), (100, 40));
    }

    #[test]
    fn describe_cluster_lists_brokers_and_refuses_controller_endpoints() {
        let cluster = ClusterView {
            brokers: vec![(1, str_bytes("127.0.0.1"), 9092), (2, str_bytes("127.0.0.1"), 9093)],
            controller_id: 1,
            cluster_id: "rill-1",
        };
        let fenced = [(3, str_bytes("127.0.0.1"), 9094)];
        let mut request = DescribeClusterRequest::default();
        request.endpoint_type = ENDPOINT_BROKERS;
        let image = MetadataImage::default();
        let response = describe_cluster_response(&request, ENDPOINT_BROKERS, &image, &cluster, &fenced);
        assert_eq!(response.error_code, 0);
        assert_eq!(response.cluster_id.as_str(), "rill-1");
        let ids: Vec<i32> = response.brokers.iter().map(|b| b.broker_id.0).collect();
        assert_eq!(ids, vec![1, 2]);
        request.include_fenced_brokers = true;
        let response = describe_cluster_response(&request, ENDPOINT_BROKERS, &image, &cluster, &fenced);
        let ids: Vec<(i32, bool)> = response.brokers.iter().map(|b| (b.broker_id.0, b.is_fenced)).collect();
        assert_eq!(ids, vec![(1, false), (2, false), (3, true)]);
        request.endpoint_type = ENDPOINT_CONTROLLERS;
        let response = describe_cluster_response(&request, ENDPOINT_BROKERS, &image, &cluster, &fenced);
        assert_eq!(response.error_code, ErrorCode::MismatchedEndpointType.code());
        assert!(response.error_message.as_deref().unwrap_or_default().contains("of type BROKER, but we wanted"));
        // A controller-only node lists the controllers, and refuses a broker request.
        let response = describe_cluster_response(&request, ENDPOINT_CONTROLLERS, &image, &cluster, &[]);
        assert_eq!((response.error_code, response.endpoint_type, response.brokers.len()), (0, ENDPOINT_CONTROLLERS, 2));
        request.endpoint_type = ENDPOINT_BROKERS;
        let response = describe_cluster_response(&request, ENDPOINT_CONTROLLERS, &image, &cluster, &[]);
        assert_eq!(response.error_code, ErrorCode::MismatchedEndpointType.code());
    }
}
