//! A slow disk versus replication (issue 17): with acks=all the producer waits for the slowest
//! in-sync replica, and Kafka keeps a slow follower that keeps catching up in the ISR —
//! `replica.lag.time.max.ms` removes followers that stop catching up, not slow ones.

use rill_core::protocol::Acks;
use rill_core::sim::{Fault, ProducerSpec, ScheduledFault, Sim, SimConfig};
use rill_core::topic::NewTopic;

const DISK_MS: u64 = 400;

/// orders-0 on [1, 2, 3] led by 1, the controller on 4; broker 3's disk is slow from 5 s to
/// 35 s; one producer at 2 records/s with `acks` (Rill's producer sends one record per request,
/// so 5 in flight at about a second each bound it near 5 records/s while the disk is slow).
fn slow_follower_disk(acks: Acks) -> Sim {
    let mut topic = NewTopic::new("orders", -1, -1).config("min.insync.replicas", "2");
    topic.assignment = Some(vec![vec![1, 2, 3]]);
    let mut config = SimConfig::new(5, 4, topic);
    config.controller_host = 4;
    config.producers.push(ProducerSpec::new("orders", acks, 500, 100));
    config.faults = vec![
        ScheduledFault { at_ms: 5_000, fault: Fault::SlowDisk { broker: 3, ms: DISK_MS } },
        ScheduledFault { at_ms: 35_000, fault: Fault::SlowDisk { broker: 3, ms: 0 } },
    ];
    Sim::new(config).unwrap()
}

/// The producer's last acknowledgement latency and the partition's ISR at each second.
fn seconds(mut sim: Sim, until_s: u64) -> Vec<(u64, Option<u64>, Vec<i32>)> {
    (1..=until_s)
        .map(|second| {
            sim.run_until(second * 1_000);
            let snapshot = sim.snapshot_with(0);
            let latency = snapshot.producers[0].ack_latency_ms;
            (second, latency, snapshot.partitions[0].isr.clone())
        })
        .collect()
}

#[test]
fn acks_all_waits_for_the_slow_disk_and_the_slow_follower_stays_in_the_isr() {
    let samples = seconds(slow_follower_disk(Acks::All), 45);
    let latency = |second: u64| samples[second as usize - 1].1.expect("acknowledged");
    for second in 2..=4 {
        assert!(latency(second) < 50, "a healthy disk: {:?}", samples[second as usize - 1]);
    }
    for second in 8..=34 {
        assert!(latency(second) >= DISK_MS, "acks=all waits for broker 3's disk: {:?}", samples[second as usize - 1]);
    }
    for second in 38..=45 {
        assert!(latency(second) < 50, "the disk healed: {:?}", samples[second as usize - 1]);
    }
    for (second, _, isr) in &samples[1..] {
        assert_eq!(isr, &vec![1, 2, 3], "at {second} s: slow but catching up, broker 3 stays in the ISR");
    }
}

#[test]
fn acks_1_does_not_wait_for_a_slow_follower_disk() {
    let samples = seconds(slow_follower_disk(Acks::Leader), 34);
    for (second, latency, _) in &samples[7..] {
        assert!(latency.expect("acknowledged") < 50, "at {second} s, acks=1 waits only for the leader");
    }
}

#[test]
fn a_slow_leader_disk_slows_every_write() {
    let mut sim = slow_follower_disk(Acks::Leader);
    sim.apply(Fault::SlowDisk { broker: 1, ms: DISK_MS });
    sim.run_until(20_000);
    let snapshot = sim.snapshot_with(0);
    assert_eq!(snapshot.brokers[0].disk_delay_ms, DISK_MS);
    assert!(snapshot.producers[0].ack_latency_ms.unwrap() >= DISK_MS, "{:?}", snapshot.producers[0]);
}

#[test]
fn a_slow_disk_past_a_minute_per_write_is_refused() {
    let mut sim = slow_follower_disk(Acks::All);
    let error = sim.act(Fault::SlowDisk { broker: 3, ms: 60_001 }).expect_err("too slow");
    assert!(error.message.contains("at most 60000 ms"), "{}", error.message);
    let error = sim.act(Fault::SlowDisk { broker: 9, ms: 10 }).expect_err("no broker 9");
    assert!(error.message.contains('9'), "{}", error.message);
}
