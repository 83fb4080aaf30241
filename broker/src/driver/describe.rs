//! What this node tells clients about the cluster and its own disks: the live brokers (for
//! Metadata and DescribeCluster) and the replicas in its log directory (DescribeLogDirs).

use kafka_protocol::messages::{DescribeClusterRequest, DescribeClusterResponse, DescribeLogDirsRequest};

use super::*;
use crate::apis::describe::{self, ReplicaOnDisk};

/// A broker's id and advertised endpoint.
type Endpoint = (i32, StrBytes, i32);

impl Driver {
    /// The cluster as clients see it: the live brokers (registered and unfenced, and always
    /// this one), the controller named to clients and the cluster id — and the fenced brokers
    /// (registered, fenced). A node that never registered (a controller-only one, or a broker
    /// not yet up) is in neither, as in Kafka.
    pub(super) fn cluster_view(&self) -> (admin::ClusterView<'_>, Vec<Endpoint>) {
        let image = self.image();
        let ids: Vec<i32> =
            if self.nodes.is_empty() { vec![self.config.node_id] } else { self.nodes.iter().map(|n| n.id).collect() };
        let (live, fenced): (Vec<i32>, Vec<i32>) = ids
            .into_iter()
            .filter(|id| *id == self.config.node_id || image.brokers.contains_key(id))
            .partition(|id| *id == self.config.node_id || image.brokers.get(id).is_some_and(|b| !b.fenced));
        // Clients send admin requests to the controller they are told of. A controller-only
        // node takes none: name this broker instead, which forwards them (Kafka names a
        // broker too).
        let active = self.active_controller_id();
        let controller_id = if image.brokers.contains_key(&active) { active } else { self.config.node_id };
        let cluster =
            admin::ClusterView { brokers: self.endpoints(&live), controller_id, cluster_id: self.cluster_id() };
        (cluster, self.endpoints(&fenced))
    }

    /// Each node's id and advertised endpoint.
    fn endpoints(&self, ids: &[i32]) -> Vec<Endpoint> {
        ids.iter()
            .map(|id| {
                let (host, port) = self.endpoint_of(*id);
                (*id, host, port)
            })
            .collect()
    }

    pub(super) fn describe_cluster(&self, request: &DescribeClusterRequest) -> DescribeClusterResponse {
        if self.broker.is_none() {
            // A controller-only node (KIP-919): the controllers, and the quorum's leader.
            let cluster = admin::ClusterView {
                brokers: self.endpoints(&self.voters),
                controller_id: self.known_active_controller().unwrap_or(-1),
                cluster_id: self.cluster_id(),
            };
            return describe::describe_cluster_response(
                request,
                describe::ENDPOINT_CONTROLLERS,
                self.image(),
                &cluster,
                &[],
            );
        }
        let (cluster, fenced) = self.cluster_view();
        describe::describe_cluster_response(request, describe::ENDPOINT_BROKERS, self.image(), &cluster, &fenced)
    }

    /// This broker's log directory (the first of `log.dirs`: Rill keeps every partition there)
    /// and the replicas in it.
    pub(super) fn describe_log_dirs(
        &self,
        request: &DescribeLogDirsRequest,
    ) -> kafka_protocol::messages::DescribeLogDirsResponse {
        let configured = self.config.log_dirs.split(',').next().unwrap_or_default();
        let log_dir =
            std::path::absolute(configured).map_or_else(|_| configured.to_owned(), |p| p.display().to_string());
        let broker = self.broker();
        let replicas: Vec<ReplicaOnDisk> = broker
            .replicas()
            .into_iter()
            .map(|view| ReplicaOnDisk {
                size_bytes: broker.log(&view.tp).map_or(0, |log| log.size_bytes()),
                topic: view.tp.topic.to_string(),
                partition: view.tp.partition,
                log_end_offset: view.log_end_offset,
                high_watermark: view.high_watermark,
            })
            .collect();
        describe::describe_log_dirs_response(request, &log_dir, &replicas, None)
    }
}
