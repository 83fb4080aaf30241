//! DescribeProducers (KIP-664; `kafka-transactions describe-producers`): the idempotent
//! producers a partition's leader knows — id, epoch, last sequence, last timestamp. Rill has no
//! transactions, so no coordinator epoch and no open transaction (−1, as Kafka reports them then).

use kafka_protocol::messages::describe_producers_response::{PartitionResponse, ProducerState, TopicResponse};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse, ProducerId};
use rill_core::error::ErrorCode;
use rill_core::producer_state::ProducerSummary;
use rill_core::protocol::TopicPartition;

use super::{err, str_bytes};

/// The response; `leader` gives, per partition this broker holds, whether it leads it and
/// the producers it knows.
#[must_use]
pub fn describe_producers_response(
    request: &DescribeProducersRequest,
    leader: impl Fn(&TopicPartition) -> Option<(bool, Vec<ProducerSummary>)>,
) -> DescribeProducersResponse {
    let mut response = DescribeProducersResponse::default();
    for topic in &request.topics {
        let mut result = TopicResponse::default();
        result.name = topic.name.clone();
        for index in &topic.partition_indexes {
            let mut partition = PartitionResponse::default();
            partition.partition_index = *index;
            match leader(&TopicPartition::new(topic.name.as_str(), *index)) {
                None => partition.error_code = err(ErrorCode::UnknownTopicOrPartition),
                Some((false, _)) => {
                    partition.error_code = err(ErrorCode::NotLeaderOrFollower);
                    partition.error_message = Some(str_bytes("this broker does not lead the partition"));
                }
                Some((true, producers)) => {
                    for producer in producers {
                        let mut state = ProducerState::default();
                        state.producer_id = ProducerId(producer.producer_id);
                        state.producer_epoch = i32::from(producer.epoch);
                        state.last_sequence = producer.last_sequence;
                        state.last_timestamp = producer.last_timestamp_ms;
                        state.coordinator_epoch = -1;
                        state.current_txn_start_offset = -1;
                        partition.active_producers.push(state);
                    }
                }
            }
            result.partitions.push(partition);
        }
        response.topics.push(result);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_producers_request::TopicRequest;

    #[test]
    fn the_leader_lists_its_producers_others_say_why_not() {
        let mut request = DescribeProducersRequest::default();
        let mut topic = TopicRequest::default();
        topic.name = super::super::name("t");
        topic.partition_indexes = vec![0, 1, 2];
        request.topics.push(topic);
        let producer = ProducerSummary { producer_id: 7, epoch: 0, last_sequence: 199, last_timestamp_ms: 1_000 };
        let response = describe_producers_response(&request, |tp| match tp.partition {
            0 => Some((true, vec![producer])),
            1 => Some((false, Vec::new())),
            _ => None,
        });
        let partitions = &response.topics[0].partitions;
        assert_eq!(partitions[0].active_producers[0].last_sequence, 199);
        assert_eq!(partitions[0].active_producers[0].producer_id, ProducerId(7));
        assert_eq!(partitions[1].error_code, ErrorCode::NotLeaderOrFollower.code());
        assert_eq!(partitions[2].error_code, ErrorCode::UnknownTopicOrPartition.code());
    }
}
