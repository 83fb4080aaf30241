//! Partition reassignment (KIP-455; what `kafka-reassign-partitions` drives): moving a
//! partition to other replicas while it serves.
//!
//! A reassignment from `current` to `target` first widens the replicas to `target` followed by
//! the ones leaving (`adding = target − current`, `removing = current − target`). The added
//! replicas fetch like any follower and the leader adds them to the ISR once they catch up.
//! When every target replica is in the ISR the controller completes it: the replicas become
//! `target`, the leaving ones leave the ISR, a leader outside `target` hands over, and the leader
//! epoch is bumped so the removed replicas are fenced and drop their copies. Cancelling puts
//! the original replicas back. The rules and words follow Kafka's `ReplicationControlManager`,
//! `PartitionReassignmentReplicas` and `PartitionReassignmentRevert`.

use super::*;
use crate::protocol::{AlterReassignments, AlterReassignmentsResponse};

/// Completes `state`'s reassignment when every target replica is in the ISR: the replicas
/// become the target ones and the leaving ones leave the ISR (never emptying it).
pub(super) fn maybe_complete(state: &mut PartitionState) {
    if !state.reassigning() {
        return;
    }
    let target = state.target_replicas();
    let isr: Vec<BrokerId> = state.isr.iter().copied().filter(|r| !state.removing_replicas.contains(r)).collect();
    if isr.is_empty() || target.is_empty() || !target.iter().all(|r| isr.contains(r)) {
        return;
    }
    state.replicas = target;
    state.isr = isr;
    state.adding_replicas.clear();
    state.removing_replicas.clear();
}

impl Controller {
    /// Starts, changes or cancels reassignments; what changed is published together.
    pub fn alter_reassignments(&mut self, now_ms: u64, request: &AlterReassignments) -> AlterReassignmentsResponse {
        let mut results = Vec::with_capacity(request.partitions.len());
        let mut changed = false;
        for (tp, target) in &request.partitions {
            let outcome = match target {
                Some(target) => self.reassign(tp, target, request.allow_replication_factor_change),
                None => self.cancel_reassignment(tp),
            };
            let (error, message) = match outcome {
                Ok(moved) => {
                    changed |= moved;
                    (ErrorCode::None, None)
                }
                Err(error) => (error.code, Some(error.message)),
            };
            results.push((tp.clone(), error, message));
        }
        if changed {
            self.publish(now_ms);
        }
        AlterReassignmentsResponse { error: ErrorCode::None, message: None, results }
    }

    fn partition_state(&self, tp: &TopicPartition) -> Result<PartitionState> {
        self.image.partition(tp).cloned().ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("Unable to find partition {}-{}", tp.topic, tp.partition),
            )
        })
    }

    /// Moves `tp` to `target`; `Ok(false)` when it is already there with nothing under way.
    fn reassign(&mut self, tp: &TopicPartition, target: &[BrokerId], allow_rf_change: bool) -> Result<bool> {
        let state = self.partition_state(tp)?;
        let invalid = |message: String| Err(Error::new(ErrorCode::InvalidReplicaAssignment, message));
        if target.is_empty() {
            return invalid("The manual partition assignment includes an empty replica list.".to_owned());
        }
        for (index, broker) in target.iter().enumerate() {
            if target[..index].contains(broker) {
                return invalid(format!(
                    "The manual partition assignment includes the broker {broker} more than once."
                ));
            }
            if !self.registrations.contains_key(broker) {
                return invalid(format!(
                    "The manual partition assignment includes broker {broker}, but no such broker is registered."
                ));
            }
        }
        let replication_factor = state.target_replicas().len();
        if !allow_rf_change && target.len() != replication_factor {
            return Err(Error::new(
                ErrorCode::InvalidReplicationFactor,
                format!("The replication factor is changed from {replication_factor} to {}", target.len()),
            ));
        }
        if state.replicas == target && !state.reassigning() {
            return Ok(false);
        }
        let current = state.replicas.clone();
        let removing: Vec<BrokerId> = current.iter().copied().filter(|r| !target.contains(r)).collect();
        let adding: Vec<BrokerId> = target.iter().copied().filter(|r| !current.contains(r)).collect();
        let mut replicas = target.to_vec();
        replicas.extend(&removing);
        self.change_partition(tp, |state| {
            state.replicas = replicas;
            state.adding_replicas = adding;
            state.removing_replicas = removing;
        });
        self.sync_assignment(tp);
        Ok(true)
    }

    /// Puts `tp`'s original replicas back (`NO_REASSIGNMENT_IN_PROGRESS` when none is under way).
    fn cancel_reassignment(&mut self, tp: &TopicPartition) -> Result<bool> {
        let state = self.partition_state(tp)?;
        if !state.reassigning() {
            return Err(Error::new(
                ErrorCode::NoReassignmentInProgress,
                format!("Partition {}-{} has no ongoing reassignment.", tp.topic, tp.partition),
            ));
        }
        let original = state.original_replicas();
        let mut isr: Vec<BrokerId> = state.isr.iter().copied().filter(|r| !state.adding_replicas.contains(r)).collect();
        if isr.is_empty() {
            // Every in-sync replica was being added: the first original replica goes back in
            // (an unclean choice, as in Kafka's `PartitionReassignmentRevert`).
            isr = original.first().copied().into_iter().collect();
        }
        self.change_partition(tp, |state| {
            state.replicas = original;
            state.isr = isr;
            state.adding_replicas.clear();
            state.removing_replicas.clear();
        });
        self.sync_assignment(tp);
        Ok(true)
    }

    /// Keeps the topic registry's assignment (what placement and the replication factor of
    /// new partitions go by) equal to the partition's target replicas.
    fn sync_assignment(&mut self, tp: &TopicPartition) {
        let Some(replicas) = self.image.partition(tp).map(PartitionState::target_replicas) else { return };
        self.topics.set_replicas(tp, replicas);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::NewTopic;

    fn controller() -> Controller {
        let mut controller = test_controller(4);
        let mut topic = NewTopic::new("t", 0, 0);
        topic.partitions = -1;
        topic.replication_factor = -1;
        topic.assignment = Some(vec![vec![1, 2, 3]]);
        controller.create_topic(0, &topic).expect("created");
        controller
    }

    fn alter(controller: &mut Controller, target: Option<Vec<BrokerId>>) -> (ErrorCode, Option<String>) {
        let request = AlterReassignments {
            partitions: vec![(TopicPartition::new("t", 0), target)],
            allow_replication_factor_change: true,
        };
        let (_, error, message) = controller.alter_reassignments(10, &request).results.remove(0);
        (error, message)
    }

    fn state(controller: &Controller) -> PartitionState {
        controller.image.partition(&TopicPartition::new("t", 0)).unwrap().clone()
    }

    /// The leader's AlterPartition adding `broker` to the ISR.
    fn caught_up(controller: &mut Controller, broker: BrokerId) {
        let tp = TopicPartition::new("t", 0);
        let now = state(controller);
        let mut isr = now.isr.clone();
        isr.push(broker);
        let leader = now.leader.unwrap();
        let request = AlterPartition {
            broker_id: leader,
            broker_epoch: controller.registrations[&leader].broker_epoch,
            tp,
            leader_epoch: now.leader_epoch,
            partition_epoch: now.partition_epoch,
            new_isr: isr,
        };
        let (error, _) = controller.alter_partition(20, request);
        assert_eq!(error, ErrorCode::None);
    }

    #[test]
    fn a_move_widens_the_replicas_then_completes_once_the_new_replica_is_in_sync() {
        let mut controller = controller();
        assert_eq!(alter(&mut controller, Some(vec![4, 2, 3])), (ErrorCode::None, None));
        let during = state(&controller);
        assert_eq!(during.replicas, vec![4, 2, 3, 1]);
        assert_eq!((during.adding_replicas.clone(), during.removing_replicas.clone()), (vec![4], vec![1]));
        assert_eq!((during.leader, during.isr.clone()), (Some(1), vec![1, 2, 3]), "1 leads until 4 is in sync");
        caught_up(&mut controller, 4);
        let after = state(&controller);
        assert_eq!(after.replicas, vec![4, 2, 3]);
        assert!(!after.reassigning());
        assert!(after.isr.iter().all(|r| [2, 3, 4].contains(r)) && after.isr.len() == 3, "{:?}", after.isr);
        assert_eq!(after.leader, Some(4), "the first target replica in sync takes over from 1");
        assert_eq!(after.leader_epoch, during.leader_epoch + 1);
        assert_eq!(controller.topics.get("t").unwrap().assignment, vec![vec![4, 2, 3]]);
        let changes: Vec<Event> = std::iter::from_fn(|| controller.poll_event())
            .filter(|event| matches!(event, Event::ReplicasChanged { .. }))
            .collect();
        assert_eq!(changes.len(), 2, "started and completed: {changes:?}");
    }

    #[test]
    fn shrinking_completes_at_once_and_fences_the_removed_replica_with_a_new_epoch() {
        let mut controller = controller();
        let before = state(&controller);
        assert_eq!(alter(&mut controller, Some(vec![1, 2])).0, ErrorCode::None);
        let after = state(&controller);
        assert_eq!((after.replicas.clone(), after.isr.clone(), after.leader), (vec![1, 2], vec![1, 2], Some(1)));
        assert_eq!(after.leader_epoch, before.leader_epoch + 1, "the same leader, a new epoch");
        assert_eq!(alter(&mut controller, Some(vec![1, 2])).0, ErrorCode::None, "already there: nothing to do");
        assert_eq!(state(&controller).partition_epoch, after.partition_epoch);
    }

    #[test]
    fn cancelling_puts_the_original_replicas_back() {
        let mut controller = controller();
        let no_move = alter(&mut controller, None);
        assert_eq!(no_move.0, ErrorCode::NoReassignmentInProgress);
        assert_eq!(no_move.1.as_deref(), Some("Partition t-0 has no ongoing reassignment."));
        alter(&mut controller, Some(vec![4, 2, 3]));
        assert_eq!(alter(&mut controller, None), (ErrorCode::None, None));
        let after = state(&controller);
        // Kafka's order: what stays of the target, then the replicas it was removing.
        assert_eq!((after.replicas.clone(), after.isr.clone(), after.leader), (vec![2, 3, 1], vec![1, 2, 3], Some(1)));
        assert!(!after.reassigning());
    }

    #[test]
    fn bad_targets_are_refused_with_kafkas_words() {
        let mut controller = controller();
        let refused = |controller: &mut Controller, target: Vec<BrokerId>| alter(controller, Some(target));
        assert_eq!(
            refused(&mut controller, vec![]),
            (
                ErrorCode::InvalidReplicaAssignment,
                Some("The manual partition assignment includes an empty replica list.".to_owned())
            )
        );
        assert_eq!(
            refused(&mut controller, vec![1, 1]).1.as_deref(),
            Some("The manual partition assignment includes the broker 1 more than once.")
        );
        assert_eq!(
            refused(&mut controller, vec![1, 9]).1.as_deref(),
            Some("The manual partition assignment includes broker 9, but no such broker is registered.")
        );
        let unknown = controller.alter_reassignments(
            0,
            &AlterReassignments {
                partitions: vec![
                    (TopicPartition::new("t", 7), Some(vec![1])),
                    (TopicPartition::new("t", 0), Some(vec![1])),
                ],
                allow_replication_factor_change: false,
            },
        );
        assert_eq!(unknown.results[0].1, ErrorCode::UnknownTopicOrPartition);
        assert_eq!(
            (unknown.results[1].1, unknown.results[1].2.as_deref()),
            (ErrorCode::InvalidReplicationFactor, Some("The replication factor is changed from 3 to 1"))
        );
        assert!(!state(&controller).reassigning(), "nothing started");
    }
}
