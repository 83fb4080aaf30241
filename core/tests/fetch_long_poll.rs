//! The one long poll (Kafka's `DelayedFetch`), in the core: a fetch is answered at once when
//! its partitions have `min_bytes` for it, else held until they have or `max_wait_ms` passed —
//! for a multi-partition consumer fetch as for a follower's. Driven by hand: one broker, its
//! controller, and this test as the client.

mod one_node;

use one_node::Cluster;
use rill_core::protocol::{Fetch, FetchPartition, Message, TopicPartition};

fn fetch(min_bytes: usize, max_wait_ms: u64) -> Message {
    let partition = |index: i32| FetchPartition {
        tp: TopicPartition::new("t", index),
        fetch_offset: 0,
        last_fetched_epoch: -1,
        current_leader_epoch: -1,
        max_bytes: 1 << 20,
    };
    Message::Fetch(Fetch { replica_id: None, max_wait_ms, min_bytes, partitions: vec![partition(0), partition(1)] })
}

#[test]
fn a_fetch_waits_for_min_bytes_across_its_partitions_or_its_deadline() {
    let mut cluster = Cluster::new();
    // Nothing to read: held.
    cluster.send(10, fetch(1, 500));
    assert!(cluster.fetch_answer(10).is_none(), "an empty fetch waits");
    // One record on partition 1: a 1-byte fetch completes, with both partitions answered.
    cluster.produce(11, 1, b"first");
    let answer = cluster.fetch_answer(10).expect("data arrived");
    assert_eq!(answer.partitions.len(), 2);
    assert!(answer.partitions[0].batches.is_empty() && answer.partitions[1].batches.len() == 1);

    // min_bytes larger than what the partitions hold: held past new data...
    cluster.send(20, fetch(10_000, 800));
    assert!(cluster.fetch_answer(20).is_none());
    cluster.produce(21, 0, b"second");
    assert!(cluster.fetch_answer(20).is_none(), "still fewer than min_bytes");
    // ...until max_wait_ms, then answered with what there is.
    cluster.tick(cluster.now_ms + 799);
    assert!(cluster.fetch_answer(20).is_none(), "not before its deadline");
    cluster.tick(cluster.now_ms + 1);
    let answer = cluster.fetch_answer(20).expect("answered at the deadline");
    assert_eq!(answer.partitions.iter().map(|p| p.batches.len()).sum::<usize>(), 2);

    // Enough bytes across both partitions completes it before the deadline.
    cluster.send(30, fetch(1, 0));
    assert!(cluster.fetch_answer(30).is_some(), "max_wait_ms 0 answers at once");
    let held = cluster.answers.len();
    cluster.send(40, fetch(150, 5_000));
    let bytes_now: usize = cluster
        .fetch_answer(30)
        .expect("answered")
        .partitions
        .iter()
        .flat_map(|p| &p.batches)
        .map(|b| b.size_bytes())
        .sum();
    assert!(bytes_now < 150, "the test needs fewer than min_bytes now: {bytes_now}");
    assert_eq!(cluster.answers.len(), held, "held: fewer than 150 bytes");
    cluster.produce(41, 1, &[b'x'; 100]);
    assert!(cluster.fetch_answer(40).is_some(), "answered once the partitions hold 150 bytes, before its deadline");
}
