//! Replica placement properties.

use proptest::prelude::*;
use rill_core::placement::{assign_replicas, BrokerInfo};
use rill_core::rng::Rng;
use rill_core::ErrorCode;

fn brokers(count: i32) -> Vec<BrokerInfo> {
    (0..count).map(|id| BrokerInfo::new(id * 10 + 1)).collect()
}

proptest! {
    #[test]
    fn no_broker_twice_and_leaders_spread_evenly(
        broker_count in 1i32..9,
        partitions in 1i32..60,
        rf_seed in 0i16..100,
        seed in any::<u64>(),
    ) {
        let rf = rf_seed % i16::try_from(broker_count).unwrap() + 1;
        let brokers = brokers(broker_count);
        let assignment = assign_replicas(&brokers, partitions, rf, &mut Rng::from_seed(seed)).unwrap();
        prop_assert_eq!(assignment.len(), usize::try_from(partitions).unwrap());
        let mut leader_counts = vec![0usize; brokers.len()];
        let mut replica_counts = vec![0usize; brokers.len()];
        for replicas in &assignment {
            prop_assert_eq!(replicas.len(), usize::try_from(rf).unwrap());
            let mut sorted = replicas.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), replicas.len(), "a broker twice in {:?}", replicas);
            for (position, broker) in replicas.iter().enumerate() {
                let index = brokers.iter().position(|b| b.id == *broker).expect("known broker");
                replica_counts[index] += 1;
                if position == 0 {
                    leader_counts[index] += 1;
                }
            }
        }
        // Leaders are dealt round-robin: counts differ by at most one.
        let (min, max) = (leader_counts.iter().min().unwrap(), leader_counts.iter().max().unwrap());
        prop_assert!(max - min <= 1, "leaders {:?}", leader_counts);
        // All replicas spread evenly too, within one rotation of slack per replica slot.
        let (min, max) = (replica_counts.iter().min().unwrap(), replica_counts.iter().max().unwrap());
        prop_assert!(max - min <= usize::try_from(rf).unwrap(), "replicas {:?}", replica_counts);
    }

    #[test]
    fn rack_aware_spreads_each_partition_over_racks(
        racks in 2usize..5,
        per_rack in 1usize..4,
        partitions in 1i32..40,
        seed in any::<u64>(),
    ) {
        let brokers: Vec<BrokerInfo> = (0..racks * per_rack)
            .map(|index| BrokerInfo {
                id: i32::try_from(index).unwrap(),
                rack: Some(format!("rack-{}", index % racks)),
            })
            .collect();
        let rf = i16::try_from(racks.min(3)).unwrap();
        let assignment = assign_replicas(&brokers, partitions, rf, &mut Rng::from_seed(seed)).unwrap();
        for replicas in &assignment {
            let mut racks_used: Vec<&str> = replicas
                .iter()
                .map(|id| brokers[usize::try_from(*id).unwrap()].rack.as_deref().unwrap())
                .collect();
            racks_used.sort_unstable();
            racks_used.dedup();
            prop_assert_eq!(racks_used.len(), replicas.len(), "replicas {:?} share a rack", replicas);
        }
    }
}

#[test]
fn same_seed_same_assignment() {
    let brokers = brokers(5);
    let first = assign_replicas(&brokers, 12, 3, &mut Rng::from_seed(7)).unwrap();
    let second = assign_replicas(&brokers, 12, 3, &mut Rng::from_seed(7)).unwrap();
    assert_eq!(first, second);
    let different = (0..20).any(|seed| assign_replicas(&brokers, 12, 3, &mut Rng::from_seed(seed)).unwrap() != first);
    assert!(different, "the seed must move the start index");
}

#[test]
fn bad_requests_name_the_problem() {
    let mut rng = Rng::from_seed(1);
    let error = assign_replicas(&brokers(3), 3, 4, &mut rng).unwrap_err();
    assert_eq!(error.code, ErrorCode::InvalidReplicationFactor);
    assert!(error.message.contains("larger than available brokers: 3"), "{error}");
    assert_eq!(assign_replicas(&brokers(3), 0, 1, &mut rng).unwrap_err().code, ErrorCode::InvalidPartitions);
    assert_eq!(assign_replicas(&brokers(3), 1, 0, &mut rng).unwrap_err().code, ErrorCode::InvalidReplicationFactor);
    let mixed = vec![BrokerInfo { id: 1, rack: Some("a".into()) }, BrokerInfo::new(2)];
    let error = assign_replicas(&mixed, 1, 1, &mut rng).unwrap_err();
    assert!(error.message.contains("rack"), "{error}");
}
