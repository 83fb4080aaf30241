//! The partitioner against the Java client's known outputs.

use rill_core::partitioner::{murmur2, partition_for_key, to_positive, Partitioner, PartitionerKind};
use rill_core::rng::Rng;
use rill_core::ErrorCode;

/// Vectors from Kafka's own `UtilsTest.testMurmur2` and from akka's `Murmur2Spec`, which
/// checks against the Java client's `Utils.murmur2`.
const JAVA_MURMUR2: &[(&str, i32)] = &[
    ("21", -973_932_308),
    ("foobar", -790_332_482),
    ("a-little-bit-long-string", -985_981_536),
    ("a-little-bit-longer-string", -1_486_304_829),
    ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
    ("abc", 479_470_107),
    ("1", -1_993_445_489),
    ("12", 126_087_238),
    ("123", -267_702_483),
    ("1234", -1_614_185_708),
    ("12345", -1_188_365_604),
];

#[test]
fn murmur2_matches_the_java_client() {
    for (key, expected) in JAVA_MURMUR2 {
        assert_eq!(murmur2(key.as_bytes()), *expected, "murmur2({key:?})");
    }
}

#[test]
fn keyed_partition_is_to_positive_mod_n() {
    for (key, hash) in JAVA_MURMUR2 {
        for partitions in [1, 3, 6, 12, 50] {
            let expected = (hash & 0x7fff_ffff) % partitions;
            assert_eq!(partition_for_key(key.as_bytes(), partitions), expected);
        }
    }
    // toPositive is not abs: i32::MIN maps to 0, -1 to i32::MAX.
    assert_eq!(to_positive(i32::MIN), 0);
    assert_eq!(to_positive(-1), i32::MAX);
    // "21" hashes to -973932308: toPositive = 1173551340, % 3 = 0 in the Java client.
    assert_eq!(partition_for_key(b"21", 3), 0);
}

#[test]
fn explicit_partition_wins_and_is_checked() {
    let mut rng = Rng::from_seed(1);
    let mut partitioner = Partitioner::new(PartitionerKind::Default, 16_384);
    assert_eq!(partitioner.partition("t", Some(2), Some(b"21"), 10, 3, &mut rng).unwrap(), 2);
    let error = partitioner.partition("t", Some(3), None, 10, 3, &mut rng).unwrap_err();
    assert_eq!(error.code, ErrorCode::UnknownTopicOrPartition);
    assert!(error.message.contains('3'), "{error}");
    let error = partitioner.partition("t", None, None, 10, 0, &mut rng).unwrap_err();
    assert_eq!(error.code, ErrorCode::UnknownTopicOrPartition);
}

#[test]
fn sticky_partitioner_switches_after_batch_size_bytes() {
    let mut rng = Rng::from_seed(3);
    let batch_size = 1_000;
    let mut partitioner = Partitioner::new(PartitionerKind::Default, batch_size);
    let chosen: Vec<i32> =
        (0..400).map(|_| partitioner.partition("orders", None, None, 100, 8, &mut rng).unwrap()).collect();
    // 100-byte records and batch.size 1000: each stint on a partition is exactly 10 records.
    for stint in chosen.chunks(10) {
        assert!(stint.iter().all(|partition| *partition == stint[0]), "{stint:?}");
    }
    let mut distinct = chosen.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() >= 6, "sticky choices spread over partitions: {distinct:?}");
    // Keyed records ignore the sticky state.
    assert_eq!(
        partitioner.partition("orders", None, Some(b"21"), 100, 8, &mut rng).unwrap(),
        partition_for_key(b"21", 8)
    );
}

#[test]
fn sticky_choices_are_deterministic_per_seed() {
    let run = |seed| {
        let mut rng = Rng::from_seed(seed);
        let mut partitioner = Partitioner::new(PartitionerKind::Default, 500);
        (0..100).map(|_| partitioner.partition("t", None, None, 100, 16, &mut rng).unwrap()).collect::<Vec<_>>()
    };
    assert_eq!(run(9), run(9));
    assert_ne!(run(9), run(10));
}

#[test]
fn round_robin_cycles_and_ignores_keys() {
    let mut rng = Rng::from_seed(1);
    let mut partitioner = Partitioner::new(PartitionerKind::RoundRobin, 16_384);
    let chosen: Vec<i32> =
        (0..7).map(|_| partitioner.partition("t", None, Some(b"same-key"), 10, 3, &mut rng).unwrap()).collect();
    assert_eq!(chosen, [0, 1, 2, 0, 1, 2, 0]);
    // Per-topic counters.
    assert_eq!(partitioner.partition("other", None, None, 10, 3, &mut rng).unwrap(), 0);
}
