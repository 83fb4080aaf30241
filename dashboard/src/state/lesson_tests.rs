//! The newer guided scenarios' lessons, checked on the session the dashboard plays (the
//! reducer's other tests are in `tests.rs`).

use super::*;

#[test]
fn the_slow_disk_scenario_slows_acks_all_and_keeps_the_slow_follower_in_the_isr() {
    // Issue 17: "a slow disk versus replication". The producer's last ack latency and the ISR,
    // each simulated second.
    let recording = scenarios::find("slow-disk").unwrap().recording().unwrap();
    let mut session = Session::at_start(recording).unwrap();
    let mut seconds = Vec::new();
    for second in 1..=45 {
        session.run_for(second * 1_000 - session.sim().now_ms()).unwrap();
        let snapshot = session.sim().snapshot_with(0);
        let latency = snapshot.producers.first().and_then(|p| p.ack_latency_ms);
        seconds.push((second, latency, snapshot.partitions[0].isr.clone(), snapshot.brokers[2].disk_delay_ms));
    }
    let at = |second: u64| seconds[second as usize - 1].clone();
    assert!(at(4).1.unwrap() < 50 && at(4).3 == 0, "healthy: {:?}", at(4));
    for second in 8..=34 {
        let (_, latency, isr, disk_ms) = at(second);
        assert_eq!(disk_ms, 400);
        assert!(latency.unwrap() >= 400, "acks=all waits for broker 3's disk: {:?}", at(second));
        assert_eq!(isr, vec![1, 2, 3], "slow, not stuck: {:?}", at(second));
    }
    assert!(at(40).1.unwrap() < 50 && at(40).3 == 0, "healed: {:?}", at(40));
    assert_eq!(session.sim().report().lost_live.total(), 0);
}

#[test]
fn separate_controllers_fail_over_while_every_write_goes_on() {
    // Issue 16: controller-only nodes. The killed node is the active controller and hosts no
    // replica: the ISR never changes and acks=all writes are acknowledged throughout.
    let recording = scenarios::find("controller-separate").unwrap().recording().unwrap();
    let mut session = Session::at_start(recording).unwrap();
    session.run_for(4_900 - session.sim().now_ms()).unwrap();
    assert_eq!(session.sim().active_controller_id(), Some(5), "the script kills the active controller");
    let mut acknowledged = Vec::new();
    for second in 5..=30 {
        session.run_for(second * 1_000 - session.sim().now_ms()).unwrap();
        let snapshot = session.sim().snapshot_with(0);
        assert_eq!(snapshot.partitions[0].isr, vec![1, 2, 3], "at {second} s");
        acknowledged.push(snapshot.report.acknowledged.acks_all);
    }
    assert!(acknowledged.windows(2).all(|w| w[1] > w[0]), "writes acknowledged every second: {acknowledged:?}");
    let active = session.sim().active_controller_id();
    assert!(matches!(active, Some(4 | 6)), "another controller took over: {active:?}");
    assert_eq!(session.sim().report().lost_live.total(), 0);
}
