//! Replica placement: which brokers host each partition's replicas.
//!
//! A port of Kafka's `AdminUtils.assignReplicasToBrokers` (rack-unaware and rack-aware), with
//! Rill's seeded [`Rng`] where Kafka draws its random start index and shift. The first replica
//! of each partition is its preferred leader; leaders spread round-robin over the brokers.

use crate::collections::{self, VecMap};

use crate::error::{Error, ErrorCode, Result};
use crate::rng::Rng;

/// A broker id (Kafka's `node.id`).
pub type BrokerId = i32;

/// What placement needs to know about a broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerInfo {
    /// The broker's id.
    pub id: BrokerId,
    /// The broker's rack (`broker.rack`), if any.
    pub rack: Option<String>,
}

impl BrokerInfo {
    /// A broker without a rack.
    #[must_use]
    pub fn new(id: BrokerId) -> BrokerInfo {
        BrokerInfo { id, rack: None }
    }
}

/// Replica lists for partitions `0..partitions`, the first replica being the preferred leader.
///
/// Rack-aware when every broker has a rack, rack-unaware when none has; a mix is an error, as
/// in Kafka. `replication_factor` must be in `1..=brokers.len()`.
pub fn assign_replicas(
    brokers: &[BrokerInfo],
    partitions: i32,
    replication_factor: i16,
    rng: &mut Rng,
) -> Result<Vec<Vec<BrokerId>>> {
    if partitions < 1 {
        return Err(Error::new(
            ErrorCode::InvalidPartitions,
            format!("number of partitions must be larger than 0, got {partitions}"),
        ));
    }
    if replication_factor < 1 {
        return Err(Error::new(
            ErrorCode::InvalidReplicationFactor,
            format!("replication factor must be larger than 0, got {replication_factor}"),
        ));
    }
    let available = brokers.len();
    if usize::try_from(replication_factor).is_ok_and(|rf| rf > available) {
        return Err(Error::new(
            ErrorCode::InvalidReplicationFactor,
            format!("replication factor: {replication_factor} larger than available brokers: {available}"),
        ));
    }
    let mut sorted: Vec<BrokerInfo> = brokers.to_vec();
    collections::sort_by_key(&mut sorted, |broker| broker.id);
    if sorted.windows(2).any(|pair| pair[0].id == pair[1].id) {
        return Err(Error::new(ErrorCode::InvalidReplicaAssignment, "duplicate broker id in broker list"));
    }
    let with_rack = sorted.iter().filter(|broker| broker.rack.is_some()).count();
    let partitions = usize::try_from(partitions).expect("checked positive");
    let replication_factor = usize::try_from(replication_factor).expect("checked positive");
    // Kafka draws the start index and the first shift independently.
    let start = Start { index: rng.index(sorted.len()), shift: rng.index(sorted.len()) };
    let assignment = if with_rack == 0 {
        let ids: Vec<BrokerId> = sorted.iter().map(|broker| broker.id).collect();
        assign_rack_unaware(&ids, partitions, replication_factor, start)
    } else if with_rack == sorted.len() {
        assign_rack_aware(&sorted, partitions, replication_factor, start)
    } else {
        return Err(Error::new(
            ErrorCode::InvalidReplicaAssignment,
            "not all brokers have rack information: give every broker a broker.rack or none",
        ));
    };
    debug_assert!(assignment.iter().all(|replicas| {
        let mut ids = replicas.clone();
        collections::sort(&mut ids);
        ids.dedup();
        ids.len() == replication_factor
    }));
    Ok(assignment)
}

/// Where the round-robin starts: Kafka's `startIndex` and first `nextReplicaShift`.
#[derive(Clone, Copy, Debug)]
struct Start {
    index: usize,
    shift: usize,
}

/// Kafka's `replicaIndex`: the broker index of replica `replica_index + 1` of a partition.
fn replica_index(first_replica_index: usize, shift: usize, replica_index: usize, brokers: usize) -> usize {
    let shift = 1 + (shift + replica_index) % (brokers - 1);
    (first_replica_index + shift) % brokers
}

fn assign_rack_unaware(
    brokers: &[BrokerId],
    partitions: usize,
    replication_factor: usize,
    start: Start,
) -> Vec<Vec<BrokerId>> {
    let count = brokers.len();
    let start_index = start.index;
    let mut next_replica_shift = start.shift;
    let mut assignment = Vec::with_capacity(partitions);
    for partition in 0..partitions {
        if partition > 0 && partition % count == 0 {
            next_replica_shift += 1;
        }
        let first_replica_index = (partition + start_index) % count;
        let mut replicas = vec![brokers[first_replica_index]];
        for j in 0..replication_factor - 1 {
            replicas.push(brokers[replica_index(first_replica_index, next_replica_shift, j, count)]);
        }
        assignment.push(replicas);
    }
    assignment
}

/// Brokers ordered so that consecutive brokers are on different racks (Kafka's
/// `getRackAlternatedBrokerList`): one from each rack in rack order, repeatedly.
fn rack_alternated(brokers: &[BrokerInfo]) -> Vec<&BrokerInfo> {
    let mut by_rack: VecMap<&str, Vec<&BrokerInfo>> = VecMap::new();
    for broker in brokers {
        by_rack.entry(broker.rack.as_deref().expect("all brokers have racks")).or_default().push(broker);
    }
    let mut result = Vec::with_capacity(brokers.len());
    let mut round = 0;
    while result.len() < brokers.len() {
        for rack_brokers in by_rack.values() {
            if let Some(broker) = rack_brokers.get(round) {
                result.push(*broker);
            }
        }
        round += 1;
    }
    result
}

fn assign_rack_aware(
    brokers: &[BrokerInfo],
    partitions: usize,
    replication_factor: usize,
    start: Start,
) -> Vec<Vec<BrokerId>> {
    let arranged = rack_alternated(brokers);
    let count = arranged.len();
    let rack_count = {
        let mut racks: Vec<&str> = arranged.iter().filter_map(|broker| broker.rack.as_deref()).collect();
        collections::sort(&mut racks);
        racks.dedup();
        racks.len()
    };
    let start_index = start.index;
    let mut next_replica_shift = start.shift;
    let mut assignment = Vec::with_capacity(partitions);
    for partition in 0..partitions {
        if partition > 0 && partition % count == 0 {
            next_replica_shift += 1;
        }
        let first_replica_index = (partition + start_index) % count;
        let leader = arranged[first_replica_index];
        let mut replicas = vec![leader.id];
        let mut racks_with_replicas = vec![leader.rack.as_deref()];
        let mut k = 0;
        for _ in 0..replication_factor - 1 {
            // Bounded: every pass over `count` candidates finds a broker not yet used.
            for _ in 0..count * count + count {
                let broker = arranged[replica_index(first_replica_index, next_replica_shift * rack_count, k, count)];
                k += 1;
                let rack = broker.rack.as_deref();
                let rack_ok =
                    !racks_with_replicas.contains(&rack) || racks_with_replicas_full(&racks_with_replicas, rack_count);
                let broker_ok = !replicas.contains(&broker.id) || replicas.len() == count;
                if rack_ok && broker_ok {
                    replicas.push(broker.id);
                    racks_with_replicas.push(rack);
                    break;
                }
            }
        }
        assert_eq!(replicas.len(), replication_factor, "rack-aware placement found too few brokers");
        assignment.push(replicas);
    }
    assignment
}

fn racks_with_replicas_full(racks: &[Option<&str>], rack_count: usize) -> bool {
    let mut distinct: Vec<&Option<&str>> = racks.iter().collect();
    collections::sort(&mut distinct);
    distinct.dedup();
    distinct.len() == rack_count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_rack_unaware_layout_with_fixed_start() {
        // Kafka's AdminUtilsTest.testReplicaAssignment: 5 brokers, 10 partitions, RF 3,
        // fixed start index 0 (start and shift both 0).
        let assignment = assign_rack_unaware(&[0, 1, 2, 3, 4], 10, 3, Start { index: 0, shift: 0 });
        let expected: Vec<Vec<i32>> = vec![
            vec![0, 1, 2],
            vec![1, 2, 3],
            vec![2, 3, 4],
            vec![3, 4, 0],
            vec![4, 0, 1],
            vec![0, 2, 3],
            vec![1, 3, 4],
            vec![2, 4, 0],
            vec![3, 0, 1],
            vec![4, 1, 2],
        ];
        assert_eq!(assignment, expected);
    }

    #[test]
    fn rack_alternation_interleaves_racks() {
        let brokers = [
            BrokerInfo { id: 0, rack: Some("a".into()) },
            BrokerInfo { id: 1, rack: Some("a".into()) },
            BrokerInfo { id: 2, rack: Some("b".into()) },
            BrokerInfo { id: 3, rack: Some("c".into()) },
            BrokerInfo { id: 4, rack: Some("c".into()) },
        ];
        let ids: Vec<i32> = rack_alternated(&brokers).iter().map(|broker| broker.id).collect();
        assert_eq!(ids, [0, 2, 3, 1, 4]);
    }
}
