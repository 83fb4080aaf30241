//! ElectLeaders (KIP-460; `kafka-leader-election`): the request becomes the core's
//! `ElectLeaders`, which the broker forwards to the active controller; its answer becomes the
//! response, per topic and partition.

use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};
use rill_core::error::ErrorCode;
use rill_core::protocol::{self, TopicPartition};

use super::{err, name, str_bytes};

/// The core's request; `INVALID_REQUEST` for an unknown election type.
pub fn elect_leaders_request(request: &ElectLeadersRequest, version: i16) -> Result<protocol::ElectLeaders, ErrorCode> {
    let unclean = match (version, request.election_type) {
        (0, _) | (_, 0) => false,
        (_, 1) => true,
        _ => return Err(ErrorCode::InvalidRequest),
    };
    let partitions = request.topic_partitions.as_ref().map(|topics| {
        topics
            .iter()
            .flat_map(|topic| topic.partitions.iter().map(|p| TopicPartition::new(topic.topic.as_str(), *p)))
            .collect()
    });
    Ok(protocol::ElectLeaders { unclean, partitions })
}

/// The response from the controller's answer.
#[must_use]
pub fn elect_leaders_response(answer: &protocol::ElectLeadersResponse, version: i16) -> ElectLeadersResponse {
    let mut response = ElectLeadersResponse::default();
    if version >= 1 {
        response.error_code = err(answer.error);
    }
    for (topic, outcomes) in &answer.results {
        let mut result = ReplicaElectionResult::default();
        result.topic = name(topic);
        for (partition, error, message) in outcomes {
            let mut outcome = PartitionResult::default();
            outcome.partition_id = *partition;
            outcome.error_code = err(*error);
            outcome.error_message = message.as_deref().map(str_bytes);
            result.partition_result.push(outcome);
        }
        response.replica_election_results.push(result);
    }
    response
}

/// The response when the request is refused before reaching the controller.
#[must_use]
pub fn refused(error: ErrorCode, version: i16) -> ElectLeadersResponse {
    let answer = protocol::ElectLeadersResponse { error, results: Vec::new() };
    elect_leaders_response(&answer, version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;

    #[test]
    fn requests_and_answers_translate_both_ways() {
        let mut request = ElectLeadersRequest::default();
        request.election_type = 1;
        let mut topic = TopicPartitions::default();
        topic.topic = name("t");
        topic.partitions = vec![0, 2];
        request.topic_partitions = Some(vec![topic]);
        let core = elect_leaders_request(&request, 2).expect("valid");
        assert!(core.unclean);
        assert_eq!(core.partitions, Some(vec![TopicPartition::new("t", 0), TopicPartition::new("t", 2)]));
        assert!(!elect_leaders_request(&request, 0).expect("v0 is preferred only").unclean);
        request.election_type = 7;
        assert_eq!(elect_leaders_request(&request, 1), Err(ErrorCode::InvalidRequest));
        request.topic_partitions = None;
        request.election_type = 0;
        assert_eq!(elect_leaders_request(&request, 1).expect("valid").partitions, None, "null: every partition");
        let answer = protocol::ElectLeadersResponse {
            error: ErrorCode::None,
            results: vec![("t".to_owned(), vec![(0, ErrorCode::ElectionNotNeeded, None)])],
        };
        let response = elect_leaders_response(&answer, 2);
        let outcome = &response.replica_election_results[0].partition_result[0];
        assert_eq!((outcome.partition_id, outcome.error_code), (0, ErrorCode::ElectionNotNeeded.code()));
    }
}
