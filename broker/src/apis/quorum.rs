//! DescribeQuorum (KIP-595, v0–2): the metadata quorum as its leader sees it, for
//! `kafka-metadata-quorum --describe --status` and `--replication`.

use kafka_protocol::messages::describe_quorum_response::{Listener, Node, PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{BrokerId, DescribeQuorumResponse};
use rill_core::protocol::{self, QuorumReplicaState};

use super::{err, name, str_bytes};

/// The metadata log's topic, Kafka's name.
pub const METADATA_TOPIC: &str = "__cluster_metadata";

/// Kafka's response from the core's answer (`None`: no answer), with timestamps moved from the
/// broker's clock (`ms` since it started) to wall-clock milliseconds by `wall`, and each voter's
/// controller endpoint from `endpoint`.
#[must_use]
pub fn describe_quorum_response(
    answer: Option<protocol::DescribeQuorumResponse>,
    wall: impl Fn(i64) -> i64,
    endpoint: impl Fn(i32) -> (String, u16),
) -> DescribeQuorumResponse {
    let answer = answer.unwrap_or_else(protocol::DescribeQuorumResponse::no_leader);
    let state = |replica: &QuorumReplicaState| {
        let time = |value: i64| if value < 0 { -1 } else { wall(value) };
        ReplicaState::default()
            .with_replica_id(BrokerId(replica.replica_id))
            .with_log_end_offset(replica.log_end_offset)
            .with_last_fetch_timestamp(time(replica.last_fetch_ms))
            .with_last_caught_up_timestamp(time(replica.last_caught_up_ms))
    };
    let partition = PartitionData::default()
        .with_partition_index(0)
        .with_error_code(err(answer.error))
        .with_leader_id(BrokerId(answer.leader_id))
        .with_leader_epoch(answer.leader_epoch)
        .with_high_watermark(answer.high_watermark)
        .with_current_voters(answer.voters.iter().map(state).collect())
        .with_observers(answer.observers.iter().map(state).collect());
    let nodes = answer
        .voters
        .iter()
        .map(|voter| {
            let (host, port) = endpoint(voter.replica_id);
            Node::default().with_node_id(BrokerId(voter.replica_id)).with_listeners(vec![Listener::default()
                .with_name(str_bytes("CONTROLLER"))
                .with_host(str_bytes(&host))
                .with_port(port)])
        })
        .collect();
    DescribeQuorumResponse::default()
        .with_topics(vec![TopicData::default().with_topic_name(name(METADATA_TOPIC)).with_partitions(vec![partition])])
        .with_nodes(nodes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::error::ErrorCode;

    #[test]
    fn the_leaders_view_and_no_leader() {
        let voter = |id, end| QuorumReplicaState {
            replica_id: id,
            log_end_offset: end,
            last_fetch_ms: 10,
            last_caught_up_ms: -1,
        };
        let answer = protocol::DescribeQuorumResponse {
            error: ErrorCode::None,
            leader_id: 2,
            leader_epoch: 4,
            high_watermark: 17,
            voters: vec![voter(1, 15), voter(2, 17)],
            observers: Vec::new(),
        };
        let response =
            describe_quorum_response(Some(answer), |ms| ms + 1_000, |id| ("127.0.0.1".into(), 9000 + id as u16));
        let partition = &response.topics[0].partitions[0];
        assert_eq!((partition.leader_id.0, partition.leader_epoch, partition.high_watermark), (2, 4, 17));
        assert_eq!(partition.current_voters[0].last_fetch_timestamp, 1_010);
        assert_eq!(partition.current_voters[0].last_caught_up_timestamp, -1);
        assert_eq!(response.nodes[1].listeners[0].port, 9002);
        let none = describe_quorum_response(None, |ms| ms, |_| (String::new(), 0));
        assert_eq!(none.topics[0].partitions[0].error_code, ErrorCode::NotLeaderOrFollower.code());
    }
}
