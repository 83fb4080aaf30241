//! DeleteRecords (KIP-107, `kafka-delete-records`): each partition's log start moves on its
//! leader; the answer carries the new log start as the low watermark.

use kafka_protocol::messages::delete_records_response::{DeleteRecordsPartitionResult, DeleteRecordsTopicResult};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};
use rill_core::error::Error;
use rill_core::protocol::TopicPartition;

use super::err;

/// The response; `delete` moves one partition's start (the broker's leader) and says where
/// it now is.
pub fn delete_records_response(
    request: &DeleteRecordsRequest,
    mut delete: impl FnMut(&TopicPartition, i64) -> Result<i64, Error>,
) -> DeleteRecordsResponse {
    let mut response = DeleteRecordsResponse::default();
    for topic in &request.topics {
        let mut result = DeleteRecordsTopicResult::default();
        result.name = topic.name.clone();
        for partition in &topic.partitions {
            let tp = TopicPartition::new(&topic.name.0, partition.partition_index);
            let mut outcome = DeleteRecordsPartitionResult::default();
            outcome.partition_index = partition.partition_index;
            match delete(&tp, partition.offset) {
                Ok(low_watermark) => outcome.low_watermark = low_watermark,
                Err(error) => {
                    outcome.low_watermark = -1;
                    outcome.error_code = err(error.code);
                }
            }
            result.partitions.push(outcome);
        }
        response.topics.push(result);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::delete_records_request::{DeleteRecordsPartition, DeleteRecordsTopic};
    use rill_core::error::ErrorCode;

    #[test]
    fn each_partition_gets_its_low_watermark_or_its_error() {
        let mut request = DeleteRecordsRequest::default();
        let mut topic = DeleteRecordsTopic::default();
        topic.name = super::super::name("orders");
        for (index, offset) in [(0, 5), (1, 99)] {
            let mut partition = DeleteRecordsPartition::default();
            partition.partition_index = index;
            partition.offset = offset;
            topic.partitions.push(partition);
        }
        request.topics.push(topic);
        let response = delete_records_response(&request, |tp, offset| {
            if tp.partition == 0 {
                Ok(offset)
            } else {
                Err(Error::new(ErrorCode::OffsetOutOfRange, "beyond the high watermark"))
            }
        });
        let partitions = &response.topics[0].partitions;
        assert_eq!((partitions[0].low_watermark, partitions[0].error_code), (5, 0));
        assert_eq!((partitions[1].low_watermark, partitions[1].error_code), (-1, err(ErrorCode::OffsetOutOfRange)));
    }
}
