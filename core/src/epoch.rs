//! The leader-epoch cache (KIP-101 `LeaderEpochFileCache`): epoch → start offset per replica.
//!
//! The one rule that keeps truncation safe: **an epoch's recorded start may be earlier than the
//! offset of its first batch, never later.** An epoch begins where the log ended when this
//! replica first saw the epoch: the leader's LEO when it took over (KIP-279), a follower's LEO
//! before it appended the first batch of that epoch, or, when the cache is derived from the log
//! after a restart, the end of the batch before. Those are the batch's base offset unless
//! compaction removed the batches in between; then the batch's base offset would claim that
//! the removed offsets belonged to the older epoch, a leader would tell a diverging follower
//! that the older epoch ends there, and the follower would keep a stale tail that was never
//! committed (issue 13, seed 8282 of the sweep). A start that is too early only makes a
//! follower truncate a little more and fetch those offsets again.

use crate::protocol::EpochEndOffset;

/// Epoch → first offset written in that epoch, ascending in both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    entries: Vec<(i32, i64)>,
}

impl LeaderEpochCache {
    /// An empty cache.
    #[must_use]
    pub fn new() -> LeaderEpochCache {
        LeaderEpochCache::default()
    }

    /// Entries, oldest first.
    #[must_use]
    pub fn entries(&self) -> &[(i32, i64)] {
        &self.entries
    }

    /// The newest epoch, if any.
    #[must_use]
    pub fn latest_epoch(&self) -> Option<i32> {
        self.entries.last().map(|entry| entry.0)
    }

    /// Records that `epoch` starts at `start_offset`: the log end offset when the epoch's
    /// first batch is appended or the replica takes over as its leader (see the module doc;
    /// never the base offset of a batch appended after a gap). Ignores epochs not newer than
    /// the latest (a batch of an epoch already known).
    pub fn assign(&mut self, epoch: i32, start_offset: i64) {
        if let Some(&(latest, latest_start)) = self.entries.last() {
            if epoch <= latest {
                return;
            }
            assert!(
                start_offset >= latest_start,
                "epoch {epoch} starts at {start_offset} before epoch {latest} at {latest_start}"
            );
        }
        self.entries.push((epoch, start_offset));
    }

    /// Start offset of `epoch`, if known.
    #[must_use]
    pub fn start_offset(&self, epoch: i32) -> Option<i64> {
        self.entries.iter().find(|entry| entry.0 == epoch).map(|entry| entry.1)
    }

    /// KIP-101 `endOffsetFor` (Kafka's `LeaderEpochFileCache.endOffsetFor`): the largest epoch
    /// ≤ `epoch` and where it ends (the next epoch's start, or `log_end_offset` for the newest).
    /// For an epoch older than every known one, `epoch` itself ending where the first known
    /// epoch starts: the asker's data at that epoch is not in this log. `None` only when the
    /// cache is empty.
    #[must_use]
    pub fn end_offset_for(&self, epoch: i32, log_end_offset: i64) -> Option<EpochEndOffset> {
        let first = self.entries.first()?;
        let index = self.entries.partition_point(|entry| entry.0 <= epoch);
        if index == 0 {
            return Some(EpochEndOffset { epoch, end_offset: first.1 });
        }
        let found = self.entries[index - 1].0;
        let end_offset = self.entries.get(index).map_or(log_end_offset, |next| next.1);
        Some(EpochEndOffset { epoch: found, end_offset })
    }

    /// The epoch whose range holds `offset`: the newest entry starting at or before it.
    #[must_use]
    pub fn epoch_for(&self, offset: i64) -> Option<i32> {
        let index = self.entries.partition_point(|entry| entry.1 <= offset);
        index.checked_sub(1).map(|index| self.entries[index].0)
    }

    /// Drops entries starting at or after `offset` (the log was truncated to `offset`).
    pub fn truncate_from_end(&mut self, offset: i64) {
        self.entries.retain(|entry| entry.1 < offset);
    }

    /// The log now starts at `offset` (retention, Kafka's `truncateFromStart`): entries wholly
    /// below it go, and the one holding it starts there.
    pub fn truncate_from_start(&mut self, offset: i64) {
        let holding = self.entries.partition_point(|entry| entry.1 <= offset);
        if holding > 1 {
            self.entries.drain(..holding - 1);
        }
        if let Some(first) = self.entries.first_mut() {
            first.1 = first.1.max(offset);
        }
    }

    /// The invariant that ties the cache to its log, asserted by the replica: epochs and
    /// starts ascend, and every batch lies in the range of its own epoch. `batches` are
    /// (base offset, last offset, epoch) in log order.
    ///
    /// # Panics
    /// When the invariant does not hold (a programmer error, never bad input).
    pub fn assert_matches_log(&self, batches: impl IntoIterator<Item = (i64, i64, i32)>, log_end_offset: i64) {
        for pair in self.entries.windows(2) {
            assert!(pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1, "epoch cache out of order: {:?}", self.entries);
        }
        if let Some(&(epoch, start)) = self.entries.last() {
            assert!(start <= log_end_offset, "epoch {epoch} starts at {start}, past the log end {log_end_offset}");
        }
        for (base_offset, last_offset, epoch) in batches {
            if epoch < 0 {
                continue;
            }
            let holding = self.epoch_for(base_offset);
            let next_start = self.entries.iter().find(|entry| entry.0 > epoch).map_or(i64::MAX, |entry| entry.1);
            assert!(
                holding == Some(epoch) && last_offset < next_start,
                "batch [{base_offset}, {last_offset}] of epoch {epoch} lies outside its epoch's range in {:?}",
                self.entries
            );
        }
    }

    /// Derives the cache from a log's batches (base offset, next offset, epoch), oldest first,
    /// after a restart: each epoch starts where the batch before it ended (or at
    /// `log_start_offset`), so a compacted gap before an epoch's first batch counts as that
    /// epoch's, never the older one's (see the module doc).
    #[must_use]
    pub fn from_log(log_start_offset: i64, batches: impl IntoIterator<Item = (i64, i64, i32)>) -> LeaderEpochCache {
        let mut cache = LeaderEpochCache::new();
        let mut previous_end = log_start_offset;
        for (base_offset, next_offset, epoch) in batches {
            assert!(base_offset >= previous_end, "batches overlap at {base_offset} (previous ended at {previous_end})");
            if epoch >= 0 {
                cache.assign(epoch, previous_end);
            }
            previous_end = next_offset;
        }
        cache
    }

    /// Forgets everything (the log was emptied).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn end_offsets_follow_kip_101() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 0);
        cache.assign(3, 10);
        cache.assign(3, 12);
        cache.assign(5, 20);
        assert_eq!(cache.entries(), &[(1, 0), (3, 10), (5, 20)]);
        assert_eq!(cache.end_offset_for(0, 30), Some(EpochEndOffset { epoch: 0, end_offset: 0 }));
        assert_eq!(LeaderEpochCache::new().end_offset_for(0, 30), None);
        assert_eq!(cache.end_offset_for(1, 30), Some(EpochEndOffset { epoch: 1, end_offset: 10 }));
        assert_eq!(cache.end_offset_for(2, 30), Some(EpochEndOffset { epoch: 1, end_offset: 10 }));
        assert_eq!(cache.end_offset_for(4, 30), Some(EpochEndOffset { epoch: 3, end_offset: 20 }));
        assert_eq!(cache.end_offset_for(9, 30), Some(EpochEndOffset { epoch: 5, end_offset: 30 }));
        cache.truncate_from_end(15);
        assert_eq!(cache.entries(), &[(1, 0), (3, 10)]);
        assert_eq!(cache.latest_epoch(), Some(3));
        assert_eq!(cache.epoch_for(9), Some(1));
        assert_eq!(cache.epoch_for(10), Some(3));
        cache.truncate_from_start(12);
        assert_eq!(cache.entries(), &[(3, 12)]);
    }

    /// Compaction removed offsets 8..10 (the first batches of epoch 3): derived from the log,
    /// epoch 3 starts where epoch 1's last surviving batch ended, not at its first surviving
    /// batch, so a follower with epoch-1 data at 8..10 is told to truncate it.
    #[test]
    fn an_epoch_derived_after_a_compacted_gap_starts_at_the_gap() {
        let cache = LeaderEpochCache::from_log(0, [(0, 5, 1), (5, 8, 1), (10, 12, 3), (12, 20, 5)]);
        assert_eq!(cache.entries(), &[(1, 0), (3, 8), (5, 12)]);
        assert_eq!(cache.end_offset_for(1, 20), Some(EpochEndOffset { epoch: 1, end_offset: 8 }));
        cache.assert_matches_log([(0, 4, 1), (5, 7, 1), (10, 11, 3), (12, 19, 5)], 20);
    }

    #[test]
    #[should_panic(expected = "outside its epoch's range")]
    fn a_batch_outside_its_epochs_range_is_caught() {
        let mut cache = LeaderEpochCache::new();
        cache.assign(1, 0);
        cache.assign(3, 10);
        // An epoch-1 batch past the start of epoch 3.
        cache.assert_matches_log([(0, 9, 1), (10, 12, 1)], 13);
    }
}
