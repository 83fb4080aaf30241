//! Produce: a Kafka `ProduceRequest` becomes one core `Produce` per record batch; the answers
//! become one result per partition (the first batch's base offset, or the first error of any
//! of the partition's batches — none is dropped).

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use rill_core::error::ErrorCode;
use rill_core::protocol::{self, Acks, Message, TopicPartition};
use rill_core::record::RecordBatch;

use super::{err, name};

/// One partition of a produce request, in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The partition.
    pub tp: TopicPartition,
    /// Its batches, or why none is sent (bad records).
    pub batches: Result<Vec<RecordBatch>, ErrorCode>,
}

/// What the driver sends for a produce request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// `acks` (acks=0 gets no response).
    pub acks: Acks,
    /// How long the leader may wait for acks=all.
    pub timeout_ms: u64,
    /// The partitions.
    pub slots: Vec<Slot>,
    /// Record bytes received.
    pub bytes_in: u64,
}

/// The partitions of a produce request and how many parts each has (`Err`: refused, no part).
pub type Layout = Vec<(TopicPartition, Result<usize, ErrorCode>)>;

impl Plan {
    /// The core requests, in part order (one per batch of every partition with batches,
    /// the batches moved, not copied), and the layout [`response`] needs.
    #[must_use]
    pub fn into_parts(self) -> (Vec<Message>, Layout) {
        let (acks, timeout_ms) = (self.acks, self.timeout_ms);
        let mut messages = Vec::new();
        let mut layout = Vec::with_capacity(self.slots.len());
        for Slot { tp, batches } in self.slots {
            match batches {
                Ok(batches) => {
                    layout.push((tp.clone(), Ok(batches.len())));
                    messages.extend(
                        batches.into_iter().map(|batch| {
                            Message::Produce(protocol::Produce { tp: tp.clone(), acks, timeout_ms, batch })
                        }),
                    );
                }
                Err(error) => layout.push((tp, Err(error))),
            }
        }
        (messages, layout)
    }
}

/// Reads a produce request: `Err` with the error for every partition when the request as a
/// whole is refused (bad `acks`, a transactional producer).
pub fn plan(request: ProduceRequest) -> Result<Plan, (ErrorCode, ProduceRequest)> {
    let acks = match Acks::from_wire(request.acks) {
        Ok(acks) => acks,
        Err(code) => return Err((code, request)),
    };
    if request.transactional_id.is_some() {
        // Transactions are not served yet: a clear error, never silence.
        return Err((ErrorCode::TransactionalIdAuthorizationFailed, request));
    }
    let timeout_ms = u64::try_from(request.timeout_ms).unwrap_or(30_000);
    let mut slots = Vec::new();
    let mut bytes_in = 0u64;
    for topic in request.topic_data {
        for data in topic.partition_data {
            let tp = TopicPartition::new(&topic.name.0, data.index);
            let records = data.records.unwrap_or_default();
            bytes_in += records.len() as u64;
            // Framed here, validated once by the log's append (CRC, records, compression).
            let batches = match RecordBatch::frame_wire_all(&records) {
                Ok(batches) if !batches.is_empty() => Ok(batches),
                Ok(_) => Err(ErrorCode::CorruptMessage),
                Err(error) => {
                    tracing::warn!(partition = %tp, %error, "rejected a produce");
                    Err(error.code)
                }
            };
            slots.push(Slot { tp, batches });
        }
    }
    Ok(Plan { acks, timeout_ms, slots, bytes_in })
}

/// The Kafka response from the answers to [`Plan::messages`] (in order) and the layout.
#[must_use]
pub fn response(layout: &[(TopicPartition, Result<usize, ErrorCode>)], answers: Vec<Message>) -> ProduceResponse {
    let mut answers = answers.into_iter();
    let mut response = ProduceResponse::default();
    for (tp, parts) in layout {
        let (error, base_offset) = match parts {
            Err(error) => (*error, -1),
            Ok(count) => {
                let results: Vec<(ErrorCode, i64)> = (0..*count)
                    .map(|_| match answers.next() {
                        Some(Message::ProduceResponse(answer)) => (answer.error, answer.base_offset),
                        _ => (ErrorCode::RequestTimedOut, -1),
                    })
                    .collect();
                match results.iter().find(|(error, _)| !error.is_ok()) {
                    Some((error, _)) => (*error, -1),
                    None => (ErrorCode::None, results.first().map_or(-1, |(_, base_offset)| *base_offset)),
                }
            }
        };
        let mut result = PartitionProduceResponse::default();
        result.index = tp.partition;
        result.log_append_time_ms = -1;
        result.error_code = err(error);
        result.base_offset = base_offset;
        let same_topic =
            response.responses.last().is_some_and(|t: &TopicProduceResponse| t.name.0.as_str() == &*tp.topic);
        if !same_topic {
            let mut topic = TopicProduceResponse::default();
            topic.name = name(&tp.topic);
            response.responses.push(topic);
        }
        response.responses.last_mut().expect("pushed").partition_responses.push(result);
    }
    response
}

/// The response refusing a whole request with `error` for every partition.
#[must_use]
pub fn refused(request: &ProduceRequest, error: ErrorCode) -> ProduceResponse {
    let layout: Layout = request
        .topic_data
        .iter()
        .flat_map(|t| t.partition_data.iter().map(|p| (TopicPartition::new(&t.name.0, p.index), Err(error))))
        .collect();
    response(&layout, Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use rill_core::record::{BatchBuilder, Record};

    fn request(acks: i16, partitions: &[(i32, Bytes)]) -> ProduceRequest {
        let mut topic = TopicProduceData::default();
        topic.name = name("orders");
        for (index, records) in partitions {
            let mut data = PartitionProduceData::default();
            data.index = *index;
            data.records = Some(records.clone());
            topic.partition_data.push(data);
        }
        let mut request = ProduceRequest::default();
        request.acks = acks;
        request.timeout_ms = 5_000;
        request.topic_data.push(topic);
        request
    }

    fn batches(count: usize) -> Bytes {
        let mut wire = Vec::new();
        for index in 0..count {
            let record = Record::new(None, Some(format!("v{index}").as_bytes()), 1);
            BatchBuilder::from_records(&[record]).write_wire(&mut wire);
        }
        Bytes::from(wire)
    }

    fn answer(error: ErrorCode, base_offset: i64) -> Message {
        Message::ProduceResponse(protocol::ProduceResponse { tp: TopicPartition::new("orders", 0), error, base_offset })
    }

    #[test]
    fn every_batch_is_a_part_and_an_error_on_any_of_them_is_the_partitions_result() {
        let plan = plan(request(-1, &[(0, batches(3)), (1, batches(1)), (2, Bytes::from_static(b"junk"))])).unwrap();
        assert_eq!(plan.acks, Acks::All);
        let (messages, layout) = plan.into_parts();
        assert_eq!(messages.len(), 4, "3 batches of partition 0, 1 of partition 1, none of the junk");
        assert_eq!(layout[2].1, Err(ErrorCode::CorruptMessage));
        let answers = vec![
            answer(ErrorCode::None, 10),
            answer(ErrorCode::NotEnoughReplicas, -1), // the middle batch of partition 0 failed
            answer(ErrorCode::None, 12),
            answer(ErrorCode::None, 40),
        ];
        let response = response(&layout, answers);
        let results = &response.responses[0].partition_responses;
        assert_eq!((results[0].error_code, results[0].base_offset), (err(ErrorCode::NotEnoughReplicas), -1));
        assert_eq!((results[1].error_code, results[1].base_offset), (0, 40));
        assert_eq!(results[2].error_code, err(ErrorCode::CorruptMessage));
    }

    #[test]
    fn bad_acks_and_transactions_refuse_the_whole_request() {
        let (error, request) = plan(request(2, &[(0, batches(1))])).unwrap_err();
        assert_eq!(error, ErrorCode::InvalidRequiredAcks);
        let response = refused(&request, error);
        assert_eq!(response.responses[0].partition_responses[0].error_code, err(ErrorCode::InvalidRequiredAcks));
    }
}
