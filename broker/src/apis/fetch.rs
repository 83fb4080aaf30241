//! Fetch (a consumer's): a Kafka `FetchRequest` becomes one core `Fetch` of all its
//! partitions, with its `min_bytes` and `max_wait_ms` — the core holds it (its one long poll)
//! until it has that much or the time passed — and the core's answer becomes the response.

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{BrokerId, FetchRequest, FetchResponse};
use rill_core::collections::VecMap;
use rill_core::error::ErrorCode;
use rill_core::protocol::{self, FetchPartition, TopicPartition};
use rill_core::record::RecordBatch;
use uuid::Uuid;

use super::{err, name};

/// The longest a fetch may wait here, whatever it asks (Kafka caps it by its request timeout).
pub const FETCH_WAIT_MAX_MS: u64 = 30_000;

/// How the response must be laid out: each partition's topic (name and id) in request order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// (topic name, topic id, partition); an unknown topic id has an empty name.
    pub partitions: Vec<(String, Uuid, i32)>,
    /// Topics by id (v13+) rather than by name.
    pub use_ids: bool,
    /// The request version.
    pub version: i16,
}

/// The core fetch for a Kafka fetch; `topic_names` maps topic ids to names (v13+).
#[must_use]
pub fn plan(request: &FetchRequest, version: i16, topic_names: &VecMap<u128, String>) -> (protocol::Fetch, Layout) {
    let use_ids = version >= 13;
    let mut partitions = Vec::new();
    let mut layout = Vec::new();
    for topic in &request.topics {
        let topic_name = if use_ids {
            topic_names.get(&topic.topic_id.as_u128()).cloned().unwrap_or_default()
        } else {
            topic.topic.0.to_string()
        };
        for partition in &topic.partitions {
            layout.push((topic_name.clone(), topic.topic_id, partition.partition));
            partitions.push(FetchPartition {
                tp: TopicPartition::new(&topic_name, partition.partition),
                fetch_offset: partition.fetch_offset,
                last_fetched_epoch: -1,
                current_leader_epoch: -1,
                max_bytes: usize::try_from(partition.partition_max_bytes.max(1)).unwrap_or(1),
            });
        }
    }
    let fetch = protocol::Fetch {
        replica_id: None,
        max_wait_ms: u64::try_from(request.max_wait_ms.max(0)).unwrap_or(0).min(FETCH_WAIT_MAX_MS),
        min_bytes: usize::try_from(request.min_bytes.max(1)).unwrap_or(1),
        partitions,
    };
    (fetch, Layout { partitions: layout, use_ids, version })
}

/// The Kafka response from the core's answer (`None` when the core had none to give).
#[must_use]
pub fn response(layout: &Layout, answer: Option<protocol::FetchResponse>) -> FetchResponse {
    let mut answers = answer.map(|answer| answer.partitions).unwrap_or_default().into_iter();
    let mut response = FetchResponse::default();
    let mut topics: Vec<FetchableTopicResponse> = Vec::new();
    for (topic, topic_id, partition) in &layout.partitions {
        let mut data = PartitionData::default();
        data.partition_index = *partition;
        data.preferred_read_replica = BrokerId(-1);
        if layout.version >= 4 {
            data.aborted_transactions = Some(Vec::new());
        }
        match answers.next() {
            Some(answer) if !topic.is_empty() => {
                data.error_code = err(answer.error);
                data.high_watermark = answer.high_watermark;
                data.last_stable_offset = answer.high_watermark;
                if layout.version >= 5 {
                    data.log_start_offset = answer.log_start_offset;
                }
                let mut bytes = Vec::with_capacity(answer.size_bytes());
                for batch in &answer.batches {
                    batch.write_wire(&mut bytes);
                }
                data.records = Some(Bytes::from(bytes));
            }
            _ => {
                let error =
                    if topic.is_empty() { ErrorCode::UnknownTopicId } else { ErrorCode::UnknownTopicOrPartition };
                data.error_code = err(error);
                data.high_watermark = -1;
                data.last_stable_offset = -1;
                data.records = Some(Bytes::new());
            }
        }
        let same = topics.last().is_some_and(|t| {
            if layout.use_ids {
                t.topic_id == *topic_id
            } else {
                t.topic.0.as_str() == topic
            }
        });
        if !same {
            let mut t = FetchableTopicResponse::default();
            t.topic = name(topic);
            t.topic_id = *topic_id;
            topics.push(t);
        }
        topics.last_mut().expect("pushed").partitions.push(data);
    }
    response.responses = topics;
    response
}

/// Record bytes in a Kafka fetch response (for `/metrics`).
#[must_use]
pub fn response_bytes(response: &FetchResponse) -> u64 {
    response
        .responses
        .iter()
        .flat_map(|topic| &topic.partitions)
        .map(|partition| partition.records.as_ref().map_or(0, |records| records.len() as u64))
        .sum()
}

/// The size of the records a core answer carries.
#[must_use]
pub fn batches_bytes(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::size_bytes).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::fetch_request::{FetchPartition as KafkaPartition, FetchTopic};
    use rill_core::protocol::FetchPartitionResponse;
    use rill_core::record::{BatchBuilder, Record};

    fn request(min_bytes: i32, max_wait_ms: i32) -> FetchRequest {
        let mut topic = FetchTopic::default();
        topic.topic = name("orders");
        for index in [0, 2] {
            let mut partition = KafkaPartition::default();
            partition.partition = index;
            partition.fetch_offset = 7;
            partition.partition_max_bytes = 1 << 20;
            topic.partitions.push(partition);
        }
        let mut request = FetchRequest::default();
        request.min_bytes = min_bytes;
        request.max_wait_ms = max_wait_ms;
        request.topics.push(topic);
        request
    }

    #[test]
    fn one_core_fetch_carries_every_partition_and_the_long_poll_settings() {
        let (fetch, layout) = plan(&request(1_000, 500), 12, &VecMap::new());
        assert_eq!((fetch.min_bytes, fetch.max_wait_ms, fetch.replica_id), (1_000, 500, None));
        assert_eq!(fetch.partitions.len(), 2);
        assert_eq!(fetch.partitions[1].tp, TopicPartition::new("orders", 2));
        assert_eq!(fetch.partitions[1].fetch_offset, 7);
        assert_eq!(layout.partitions[1].2, 2);
        let (fetch, _) = plan(&request(0, 3_600_000), 12, &VecMap::new());
        assert_eq!((fetch.min_bytes, fetch.max_wait_ms), (1, FETCH_WAIT_MAX_MS), "bounded");
    }

    #[test]
    fn the_answer_becomes_kafkas_response_partition_by_partition() {
        let (_, layout) = plan(&request(1, 0), 12, &VecMap::new());
        let batch = BatchBuilder::from_records(&[Record::new(None, Some(b"v"), 1)]);
        let mut with_data = FetchPartitionResponse::error(TopicPartition::new("orders", 0), ErrorCode::None);
        with_data.high_watermark = 8;
        with_data.batches = vec![batch.clone()];
        let refused = FetchPartitionResponse::error(TopicPartition::new("orders", 2), ErrorCode::NotLeaderOrFollower);
        let answer = protocol::FetchResponse { partitions: vec![with_data, refused] };
        let response = response(&layout, Some(answer));
        let partitions = &response.responses[0].partitions;
        assert_eq!(partitions[0].high_watermark, 8);
        assert_eq!(partitions[0].records.as_ref().map(Bytes::len), Some(batch.size_bytes()));
        assert_eq!(partitions[1].error_code, err(ErrorCode::NotLeaderOrFollower));
        assert_eq!(response_bytes(&response), batch.size_bytes() as u64);
    }
}
