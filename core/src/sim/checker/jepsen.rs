//! The end-of-run Jepsen check: every acknowledged write readable where it was acknowledged
//! (or accounted for: superseded or tombstoned under compaction, deleted by retention), and
//! idempotent producers' records in the log once.

use super::*;

impl Checker {
    /// The Jepsen check at the end of a run: `final_logs` holds each partition's committed
    /// records (offset → fingerprint) as read from its final leader.
    pub fn check_acknowledged(
        &mut self,
        final_logs: &VecMap<TopicPartition, VecMap<i64, (u64, Option<u64>)>>,
        event_index: u64,
        time_ms: u64,
    ) {
        // Copies of each fingerprint per partition. Internal topics (__consumer_offsets) repeat
        // keys and values by design.
        let seen: VecMap<TopicPartition, VecMap<u64, u64>> = final_logs
            .iter()
            .filter(|(tp, _)| !tp.topic.starts_with("__"))
            .map(|(tp, records)| (tp.clone(), collections::counts(records.values().map(|(print, _)| *print))))
            .collect();
        let mut acked = std::mem::take(&mut self.acked);
        // The same key and value may legitimately be written more than once (a user sending
        // it twice): only copies beyond the number of acknowledged sends are duplicates.
        let mut sent_prints: VecMap<TopicPartition, Vec<u64>> = VecMap::new();
        for write in &acked {
            if let Some(tp) = &write.tp {
                sent_prints.entry(tp.clone()).or_default().push(write.fingerprint);
            }
        }
        let sent: VecMap<TopicPartition, VecMap<u64, u64>> =
            sent_prints.into_iter().map(|(tp, prints)| (tp, collections::counts(prints))).collect();
        let count_of = |table: &VecMap<TopicPartition, VecMap<u64, u64>>, tp: &TopicPartition, print: u64| {
            table.get(tp).and_then(|counts| counts.get(&print)).copied()
        };
        let expected = |tp: &TopicPartition, print: u64| count_of(&sent, tp, print).unwrap_or(1).max(1);
        self.report.duplicates = seen
            .iter()
            .flat_map(|(tp, counts)| {
                counts.iter().map(move |(print, count)| count.saturating_sub(expected(tp, *print)))
            })
            .sum();
        // Idempotence: a record written once is in the log once.
        let mut reported = VecMap::new();
        for write in acked.iter().filter(|write| write.idempotent) {
            let Some(tp) = &write.tp else { continue };
            let count = count_of(&seen, tp, write.fingerprint).unwrap_or(0);
            let tainted = self.unclean.contains(tp) || self.crash_losses.contains_key(tp);
            if count > expected(tp, write.fingerprint)
                && !tainted
                && reported.insert((tp.clone(), write.fingerprint), ()).is_none()
            {
                let offsets: Vec<i64> = final_logs
                    .get(tp)
                    .map(|records| records.iter().filter(|(_, p)| p.0 == write.fingerprint).map(|(o, _)| *o).collect())
                    .unwrap_or_default();
                self.violate(
                    "idempotent producers write no duplicates",
                    format!("{tp}: a record from an idempotent producer is in the log {count} times, at offsets {offsets:?}"),
                    event_index,
                    time_ms,
                );
            }
        }
        let tombstones: Vec<(TopicPartition, Option<u64>, i64)> = acked
            .iter()
            .filter(|w| w.tombstone && w.offset >= 0)
            .filter_map(|w| Some((w.tp.clone()?, w.key_print, w.offset)))
            .collect();
        for write in &mut acked {
            write.lost_at_end = false;
            let Some(tp) = write.tp.clone() else { continue };
            let tp = &tp;
            let present = if write.offset >= 0 {
                final_logs.get(tp).and_then(|records| records.get(&write.offset)).map(|p| p.0)
                    == Some(write.fingerprint)
            } else {
                count_of(&seen, tp, write.fingerprint).is_some()
            };
            // Compaction keeps the latest record per key: a write superseded by a later write
            // of its key is accounted for; so is one deleted by a later acknowledged tombstone,
            // and a tombstone itself (the cleaner drops it after delete.retention.ms).
            let compacted = self.compacted.contains(tp.topic.as_ref()) && write.key_print.is_some();
            let superseded = compacted
                && (write.tombstone
                    || tombstones
                        .iter()
                        .any(|(t, key, offset)| t == tp && *key == write.key_print && *offset > write.offset.max(0))
                    || final_logs.get(tp).is_some_and(|records| {
                        records.range(write.offset.max(0) + 1..).any(|(_, (_, key))| *key == write.key_print)
                    }));
            // Retention deletes whole segments by age (cleanup.policy=delete): on purpose.
            let retained_away =
                write.offset >= 0 && self.cleaned_below.get(tp).is_some_and(|below| write.offset < *below);
            if present || superseded || retained_away {
                continue;
            }
            write.lost_at_end = true;
            self.report.lost.add(write.acks);
            if write.guaranteed_by_config && !self.exempt(tp, write.offset) {
                self.violate(
                    "acknowledged acks=all writes survive (Jepsen)",
                    format!(
                        "{tp} offset {} was acknowledged with acks=all and min.insync.replicas >= 2 but is gone",
                        write.offset
                    ),
                    event_index,
                    time_ms,
                );
            }
        }
        self.acked = acked;
    }
}
