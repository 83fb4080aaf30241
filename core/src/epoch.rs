//! The leader-epoch cache (KIP-101 `LeaderEpochFileCache`): epoch → start offset per replica.

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

    /// Records that `epoch` starts at `start_offset`. Ignores epochs not newer than the
    /// latest (a batch of an epoch already known).
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

    /// Drops entries starting at or after `offset` (the log was truncated to `offset`).
    pub fn truncate_from_end(&mut self, offset: i64) {
        self.entries.retain(|entry| entry.1 < offset);
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
    }
}
