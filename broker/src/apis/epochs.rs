//! OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ends in the leader's log.
//! Consumers ask it after a leader change to find out whether the log they read was truncated
//! (an unclean election); answered from the leader's epoch cache with Kafka's rules
//! (`LeaderEpochFileCache.endOffsetFor`, `Partition.lastOffsetForLeaderEpoch`).

use kafka_protocol::messages::offset_for_leader_epoch_response::{EpochEndOffset, OffsetForLeaderTopicResult};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use rill_core::broker::ReplicaView;
use rill_core::error::ErrorCode;
use rill_core::protocol::TopicPartition;

use super::err;

/// `(epoch, end offset)` for `requested` in a log with `epochs` (epoch, start offset) and
/// `log_end_offset`; `(-1, -1)` when the epoch is unknown or newer than the newest.
#[must_use]
pub fn end_offset_for(epochs: &[(i32, i64)], log_end_offset: i64, requested: i32) -> (i32, i64) {
    const UNDEFINED: (i32, i64) = (-1, -1);
    let Some(&(latest, _)) = epochs.last() else { return UNDEFINED };
    if requested < 0 {
        return UNDEFINED;
    }
    if requested == latest {
        return (requested, log_end_offset);
    }
    // The first epoch after the requested one starts where it ends.
    let higher = epochs.partition_point(|(epoch, _)| *epoch <= requested);
    let Some(&(_, next_start)) = epochs.get(higher) else { return UNDEFINED };
    match higher.checked_sub(1) {
        Some(floor) => (epochs[floor].0, next_start),
        None => (requested, next_start),
    }
}

/// The response, asking `replica` for each partition's view on this broker.
#[must_use]
pub fn offset_for_leader_epoch_response(
    request: &OffsetForLeaderEpochRequest,
    replica: impl Fn(&TopicPartition) -> Option<ReplicaView>,
) -> OffsetForLeaderEpochResponse {
    let mut response = OffsetForLeaderEpochResponse::default();
    for topic in &request.topics {
        let mut result = OffsetForLeaderTopicResult::default();
        result.topic = topic.topic.clone();
        for asked in &topic.partitions {
            let tp = TopicPartition::new(topic.topic.as_str(), asked.partition);
            let mut answer = EpochEndOffset::default();
            answer.partition = asked.partition;
            let (error, (epoch, end_offset)) = match replica(&tp) {
                None => (ErrorCode::UnknownTopicOrPartition, (-1, -1)),
                Some(view) if !view.is_leader => (ErrorCode::NotLeaderOrFollower, (-1, -1)),
                Some(view) if asked.current_leader_epoch >= 0 && asked.current_leader_epoch < view.leader_epoch => {
                    (ErrorCode::FencedLeaderEpoch, (-1, -1))
                }
                Some(view) if asked.current_leader_epoch > view.leader_epoch => {
                    (ErrorCode::UnknownLeaderEpoch, (-1, -1))
                }
                Some(view) => (ErrorCode::None, end_offset_for(&view.epochs, view.log_end_offset, asked.leader_epoch)),
            };
            answer.error_code = err(error);
            answer.leader_epoch = epoch;
            answer.end_offset = end_offset;
            result.partitions.push(answer);
        }
        response.topics.push(result);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_end_where_the_next_one_starts() {
        let epochs = [(0, 0), (2, 10), (5, 25)];
        assert_eq!(end_offset_for(&epochs, 40, 5), (5, 40), "the newest epoch ends at the log end");
        assert_eq!(end_offset_for(&epochs, 40, 0), (0, 10));
        assert_eq!(end_offset_for(&epochs, 40, 1), (0, 10), "an epoch this log never had: the one before");
        assert_eq!(end_offset_for(&epochs, 40, 3), (2, 25));
        assert_eq!(end_offset_for(&epochs, 40, 6), (-1, -1), "newer than the newest");
        assert_eq!(end_offset_for(&[(3, 7)], 9, 1), (1, 7), "older than the oldest: where the log's first starts");
        assert_eq!(end_offset_for(&[], 0, 0), (-1, -1));
    }
}
