//! DescribeQuorum (KIP-595, v0–2): the metadata quorum as its leader sees it, for
//! `kafka-metadata-quorum --describe --status` and `--replication`; AddRaftVoter and
//! RemoveRaftVoter (KIP-853): Kafka's checks and responses (a static quorum refuses them as
//! Kafka refuses them; a dynamic one asks its controller).

use kafka_protocol::messages::describe_quorum_response::{Listener, Node, PartitionData, ReplicaState, TopicData};
use kafka_protocol::messages::{
    AddRaftVoterRequest, AddRaftVoterResponse, BrokerId, DescribeQuorumResponse, RemoveRaftVoterRequest,
    RemoveRaftVoterResponse,
};
use kafka_protocol::protocol::StrBytes;
use rill_core::error::ErrorCode;
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

/// Why a voter change is refused before the quorum is asked, in Kafka's words
/// (`KafkaRaftClient`'s first checks, in its order): another cluster's id, then a voter
/// without a directory id (or, to add, without an endpoint).
fn request_refusal(
    adding: bool,
    request_cluster: Option<&StrBytes>,
    cluster_id: &str,
    valid_voter: bool,
) -> Option<(ErrorCode, String)> {
    let given = request_cluster.map_or("", |given| given.as_str());
    if !given.is_empty() && !cluster_id.is_empty() && given != cluster_id {
        return Some((ErrorCode::InconsistentClusterId, format!("the cluster id is {cluster_id}, not {given}")));
    }
    if !valid_voter {
        let request = if adding { "Add" } else { "Remove" };
        return Some((ErrorCode::InvalidRequest, format!("{request} voter request didn't include a valid voter")));
    }
    None
}

/// A static quorum's refusal (`controller.quorum.voters`, Kafka's `kraft.version` 0, which
/// cannot change), in Kafka's words.
fn static_refusal(adding: bool) -> (ErrorCode, String) {
    let verb = if adding { "adding" } else { "removing" };
    (
        ErrorCode::UnsupportedVersion,
        format!("Cluster doesn't support {verb} voter because the kraft.version feature is 0"),
    )
}

/// Why AddRaftVoter (`kafka-metadata-quorum add-controller`) is refused before the quorum is
/// asked, if it is.
#[must_use]
pub fn add_voter_refusal(request: &AddRaftVoterRequest, cluster_id: &str) -> Option<(ErrorCode, String)> {
    let valid = !request.voter_directory_id.is_nil() && !request.listeners.is_empty() && request.voter_id >= 0;
    request_refusal(true, request.cluster_id.as_ref(), cluster_id, valid)
}

/// Why RemoveRaftVoter (`kafka-metadata-quorum remove-controller`) is refused before the
/// quorum is asked, if it is.
#[must_use]
pub fn remove_voter_refusal(request: &RemoveRaftVoterRequest, cluster_id: &str) -> Option<(ErrorCode, String)> {
    let valid = !request.voter_directory_id.is_nil() && request.voter_id >= 0;
    request_refusal(false, request.cluster_id.as_ref(), cluster_id, valid)
}

/// AddRaftVoter's response: `error` (`NONE` when done) and its message.
#[must_use]
pub fn add_raft_voter_error(error: ErrorCode, message: &str) -> AddRaftVoterResponse {
    let message = (error != ErrorCode::None).then(|| str_bytes(message));
    AddRaftVoterResponse::default().with_error_code(err(error)).with_error_message(message)
}

/// RemoveRaftVoter's response: `error` (`NONE` when done) and its message.
#[must_use]
pub fn remove_raft_voter_error(error: ErrorCode, message: &str) -> RemoveRaftVoterResponse {
    let message = (error != ErrorCode::None).then(|| str_bytes(message));
    RemoveRaftVoterResponse::default().with_error_code(err(error)).with_error_message(message)
}

/// AddRaftVoter on a static quorum.
#[must_use]
pub fn add_raft_voter_response(request: &AddRaftVoterRequest, cluster_id: &str) -> AddRaftVoterResponse {
    let (error, message) = add_voter_refusal(request, cluster_id).unwrap_or_else(|| static_refusal(true));
    add_raft_voter_error(error, &message)
}

/// RemoveRaftVoter on a static quorum.
#[must_use]
pub fn remove_raft_voter_response(request: &RemoveRaftVoterRequest, cluster_id: &str) -> RemoveRaftVoterResponse {
    let (error, message) = remove_voter_refusal(request, cluster_id).unwrap_or_else(|| static_refusal(false));
    remove_raft_voter_error(error, &message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn voter_changes_are_refused_in_kafkas_words_and_order() {
        let directory = uuid::Uuid::from_u128(7);
        let listener = kafka_protocol::messages::add_raft_voter_request::Listener::default();
        let add = AddRaftVoterRequest::default()
            .with_cluster_id(Some(str_bytes("abc")))
            .with_voter_id(4)
            .with_voter_directory_id(directory)
            .with_listeners(vec![listener]);
        let response = add_raft_voter_response(&add, "abc");
        assert_eq!(response.error_code, ErrorCode::UnsupportedVersion.code());
        assert_eq!(
            response.error_message.as_deref(),
            Some("Cluster doesn't support adding voter because the kraft.version feature is 0")
        );
        let other = add_raft_voter_response(&add, "xyz");
        assert_eq!(other.error_code, ErrorCode::InconsistentClusterId.code());
        let no_endpoint = add_raft_voter_response(&add.clone().with_listeners(Vec::new()), "abc");
        assert_eq!(no_endpoint.error_message.as_deref(), Some("Add voter request didn't include a valid voter"));
        let remove = RemoveRaftVoterRequest::default().with_voter_id(3).with_voter_directory_id(directory);
        let response = remove_raft_voter_response(&remove, "abc");
        assert_eq!(
            (response.error_code, response.error_message.as_deref()),
            (
                ErrorCode::UnsupportedVersion.code(),
                Some("Cluster doesn't support removing voter because the kraft.version feature is 0")
            )
        );
    }

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
