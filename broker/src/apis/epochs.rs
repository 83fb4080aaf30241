//! OffsetForLeaderEpoch (KIP-101, KIP-320): where a leader epoch ends in the leader's log.
//! Consumers ask it after a leader change to find out whether the log they read was truncated
//! (an unclean election); answered from the leader's epoch cache with Kafka's rules
//! (`LeaderEpochFileCache.endOffsetFor`, `Partition.lastOffsetForLeaderEpoch`).

use kafka_protocol::messages::offset_for_leader_epoch_response::{self, OffsetForLeaderTopicResult};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};
use rill_core::broker::ReplicaView;
use rill_core::error::ErrorCode;
use rill_core::protocol::{EpochEndOffset, TopicPartition};

use super::err;

/// Kafka's answer for `requested` from the leader's epoch cache (`found`: the core's
/// `LeaderEpochCache::end_offset_for`, KIP-101) and its newest epoch: the same, except that an
/// epoch newer than the newest — or none at all — is unknown, `(-1, -1)`.
#[must_use]
pub fn end_offset_for(requested: i32, latest: Option<i32>, found: Option<EpochEndOffset>) -> (i32, i64) {
    match (latest, found) {
        (Some(latest), Some(found)) if (0..=latest).contains(&requested) => (found.epoch, found.end_offset),
        _ => (-1, -1),
    }
}

/// The response, asking `replica` for each partition's view on this broker.
#[must_use]
pub fn offset_for_leader_epoch_response(
    request: &OffsetForLeaderEpochRequest,
    replica: impl Fn(&TopicPartition, i32) -> Option<(ReplicaView, Option<EpochEndOffset>)>,
) -> OffsetForLeaderEpochResponse {
    let mut response = OffsetForLeaderEpochResponse::default();
    for topic in &request.topics {
        let mut result = OffsetForLeaderTopicResult::default();
        result.topic = topic.topic.clone();
        for asked in &topic.partitions {
            let tp = TopicPartition::new(topic.topic.as_str(), asked.partition);
            let mut answer = offset_for_leader_epoch_response::EpochEndOffset::default();
            answer.partition = asked.partition;
            let (error, (epoch, end_offset)) = match replica(&tp, asked.leader_epoch) {
                None => (ErrorCode::UnknownTopicOrPartition, (-1, -1)),
                Some((view, _)) if !view.is_leader => (ErrorCode::NotLeaderOrFollower, (-1, -1)),
                Some((view, _))
                    if asked.current_leader_epoch >= 0 && asked.current_leader_epoch < view.leader_epoch =>
                {
                    (ErrorCode::FencedLeaderEpoch, (-1, -1))
                }
                Some((view, _)) if asked.current_leader_epoch > view.leader_epoch => {
                    (ErrorCode::UnknownLeaderEpoch, (-1, -1))
                }
                Some((view, found)) => {
                    let latest = view.epochs.last().map(|(epoch, _)| *epoch);
                    (ErrorCode::None, end_offset_for(asked.leader_epoch, latest, found))
                }
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
    use rill_core::epoch::LeaderEpochCache;

    #[test]
    fn epochs_end_where_the_next_one_starts() {
        let answer = |epochs: &[(i32, i64)], log_end_offset: i64, requested: i32| {
            let mut cache = LeaderEpochCache::new();
            for (epoch, start) in epochs {
                cache.assign(*epoch, *start);
            }
            end_offset_for(requested, cache.latest_epoch(), cache.end_offset_for(requested, log_end_offset))
        };
        let epochs = [(0, 0), (2, 10), (5, 25)];
        assert_eq!(answer(&epochs, 40, 5), (5, 40), "the newest epoch ends at the log end");
        assert_eq!(answer(&epochs, 40, 0), (0, 10));
        assert_eq!(answer(&epochs, 40, 1), (0, 10), "an epoch this log never had: the one before");
        assert_eq!(answer(&epochs, 40, 3), (2, 25));
        assert_eq!(answer(&epochs, 40, 6), (-1, -1), "newer than the newest");
        assert_eq!(answer(&[(3, 7)], 9, 1), (1, 7), "older than the oldest: where the log's first starts");
        assert_eq!(answer(&[], 0, 0), (-1, -1));
    }
}
