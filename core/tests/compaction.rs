//! Log compaction (`cleanup.policy=compact`) against a model, over random keyed writes,
//! tombstones, segment rolls, high-watermark moves and compaction passes.

use proptest::prelude::*;
use rill_core::config::{CleanupPolicy, TopicConfig};
use rill_core::log::{PartitionLog, ReadLimit};
use rill_core::record::{BatchBuilder, Record};
use rill_core::storage::MemStorage;

#[derive(Clone, Debug)]
enum Op {
    Write { key: u8, tombstone: bool, advance_ms: u64 },
    Roll,
    SetHighWatermark { position: u16 },
    Compact { advance_ms: u64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u8..6, prop::bool::weighted(0.2), 0u64..500)
            .prop_map(|(key, tombstone, advance_ms)| Op::Write { key, tombstone, advance_ms }),
        2 => Just(Op::Roll),
        2 => any::<u16>().prop_map(|position| Op::SetHighWatermark { position }),
        2 => (0u64..3_000).prop_map(|advance_ms| Op::Compact { advance_ms }),
    ]
}

/// (offset, key, value, timestamp) of every record now in the log.
type Row = (i64, Option<String>, Option<String>, i64);

fn rows(log: &PartitionLog<MemStorage>) -> Vec<Row> {
    let read = log.read(log.log_start_offset(), usize::MAX, ReadLimit::LogEnd).unwrap();
    let text = |bytes: Option<bytes::Bytes>| bytes.map(|b| String::from_utf8(b.to_vec()).unwrap());
    read.batches
        .iter()
        .flat_map(|batch| batch.records().map(|r| r.unwrap()).collect::<Vec<_>>())
        .map(|r| (r.offset, text(r.record.key), text(r.record.value), r.record.timestamp_ms))
        .collect()
}

/// What each key reads as when the whole log is replayed (last write wins, tombstone deletes).
fn final_values(rows: &[Row]) -> std::collections::BTreeMap<String, Option<String>> {
    let mut values = std::collections::BTreeMap::new();
    for (_, key, value, _) in rows {
        if let Some(key) = key {
            values.insert(key.clone(), value.clone());
        }
    }
    values.retain(|_, value| value.is_some());
    values
}

const DELETE_RETENTION_MS: i64 = 2_000;

fn run(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let config = TopicConfig {
        cleanup_policy: CleanupPolicy::COMPACT,
        delete_retention_ms: DELETE_RETENTION_MS,
        segment_bytes: 300,
        ..TopicConfig::default()
    };
    let mut log = PartitionLog::new(MemStorage::new(), config);
    let mut model: Vec<Row> = Vec::new();
    let mut now_ms: u64 = 10_000;
    let mut counter = 0u32;
    for op in ops {
        match op {
            Op::Write { key, tombstone, advance_ms } => {
                now_ms += advance_ms;
                counter += 1;
                let key = format!("k{key}");
                let value = (!tombstone).then(|| format!("v{counter}"));
                let timestamp_ms = i64::try_from(now_ms).unwrap();
                let record = Record::new(Some(key.as_bytes()), value.as_deref().map(str::as_bytes), timestamp_ms);
                let info = log.append_as_leader(now_ms, BatchBuilder::from_records(&[record]), 0).unwrap();
                model.push((info.base_offset, Some(key), value, timestamp_ms));
            }
            Op::Roll => log.roll().unwrap(),
            Op::SetHighWatermark { position } => {
                let span = log.log_end_offset() - log.log_start_offset() + 1;
                let high_watermark = log.log_start_offset() + i64::from(position) % span;
                if high_watermark >= log.high_watermark() {
                    log.set_high_watermark(high_watermark);
                }
            }
            Op::Compact { advance_ms } => {
                now_ms += advance_ms;
                let before = rows(&log);
                let values_before = final_values(&before);
                let segments = log.segments();
                let end = segments[..segments.len() - 1]
                    .iter()
                    .take_while(|s| s.next_offset <= log.high_watermark())
                    .last()
                    .map_or(i64::MIN, |s| s.next_offset);
                let result = log.compact(now_ms).unwrap();
                // The model: below `end`, keep each key's latest record unless it is an
                // expired tombstone; at and above `end`, keep everything.
                let now = i64::try_from(now_ms).unwrap();
                let latest =
                    |key: &Option<String>| model.iter().filter(|r| r.0 < end && &r.1 == key).map(|r| r.0).max();
                let expected: Vec<Row> = model
                    .iter()
                    .filter(|row| {
                        row.0 >= end
                            || (latest(&row.1) == Some(row.0)
                                && !(row.2.is_none() && now - row.3 > DELETE_RETENTION_MS))
                    })
                    .cloned()
                    .collect();
                let removed = u64::try_from(model.len() - expected.len()).unwrap();
                model = expected;
                let after = rows(&log);
                prop_assert_eq!(&after, &model);
                prop_assert_eq!(result.records_removed + result.tombstones_removed, removed);
                // Reading the whole log gives every key the value it had before.
                prop_assert_eq!(final_values(&after), values_before);
                prop_assert!(after.windows(2).all(|pair| pair[0].0 < pair[1].0), "offsets only grow");
            }
        }
        prop_assert_eq!(rows(&log), model.clone());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn compaction_matches_the_model(ops in prop::collection::vec(op(), 1..120)) {
        run(ops)?;
    }
}

#[test]
fn compaction_keeps_the_last_value_of_every_key_and_spares_the_active_segment() {
    let config = TopicConfig { cleanup_policy: CleanupPolicy::COMPACT, segment_bytes: 14, ..TopicConfig::default() };
    let mut log = PartitionLog::new(MemStorage::new(), config);
    for (index, (key, value)) in
        [("a", "1"), ("b", "1"), ("a", "2"), ("a", "3"), ("b", "2"), ("a", "4")].iter().enumerate()
    {
        let record = Record::new(Some(key.as_bytes()), Some(value.as_bytes()), i64::try_from(index).unwrap());
        log.append_as_leader(0, BatchBuilder::from_records(&[record]), 0).unwrap();
    }
    assert_eq!(log.compact(10).unwrap().records_removed, 0, "nothing is below the high watermark yet");
    log.set_high_watermark(4);
    let result = log.compact(10).unwrap();
    // Cleanable: offsets 0..4 (segments below HW 4); a@3 and b@1 are the latest there.
    assert_eq!(result.records_removed, 2);
    let offsets: Vec<i64> = rows(&log).iter().map(|row| row.0).collect();
    assert_eq!(offsets, [1, 3, 4, 5], "a@0 and a@2 are gone; the rest keep their offsets");
    log.set_high_watermark(6);
    log.compact(10).unwrap();
    let offsets: Vec<i64> = rows(&log).iter().map(|row| row.0).collect();
    assert_eq!(offsets, [3, 4, 5], "b@1 superseded by b@4; the active segment (a@5) untouched");
    let config = TopicConfig::default();
    let mut delete_only = PartitionLog::new(MemStorage::new(), config);
    delete_only.append_as_leader(0, BatchBuilder::from_records(&[Record::new(Some(b"a"), Some(b"1"), 0)]), 0).unwrap();
    assert_eq!(delete_only.compact(0).unwrap().segments_cleaned, 0, "cleanup.policy=delete never compacts");
}
