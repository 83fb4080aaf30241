//! Leader elections asked for by an operator (`ElectLeaders`, KIP-460; what
//! `kafka-leader-election` sends): PREFERRED moves leadership to the first replica when it is
//! in the ISR and unfenced; UNCLEAN gives a partition without a leader one — from the ISR if
//! it can, else any unfenced replica, which may lose acknowledged writes. Outcomes and words
//! follow Kafka's `ReplicationControlManager.electLeaders`.

use super::*;
use crate::protocol::{ElectLeaders, ElectLeadersResponse, TopicElections};

/// Adds `tp`'s outcome under its topic (the topic is listed even when `keep` is false).
fn record(results: &mut Vec<TopicElections>, tp: &TopicPartition, outcome: (ErrorCode, Option<String>), keep: bool) {
    let topic = tp.topic.to_string();
    if results.last().is_none_or(|(name, _)| *name != topic) {
        results.push((topic, Vec::new()));
    }
    if keep {
        results.last_mut().expect("pushed").1.push((tp.partition, outcome.0, outcome.1));
    }
}

impl Controller {
    /// Runs `request`; the elections it made are published together.
    pub fn elect_leaders(&mut self, now_ms: u64, request: &ElectLeaders) -> ElectLeadersResponse {
        let mut results: Vec<TopicElections> = Vec::new();
        let mut changed = false;
        match &request.partitions {
            Some(partitions) => {
                for tp in partitions {
                    let outcome = self.elect_leader(tp, request.unclean);
                    changed |= outcome.0 == ErrorCode::None;
                    record(&mut results, tp, outcome, true);
                }
            }
            None => {
                // Every partition; those that already have the leader asked for are left out.
                let all: Vec<TopicPartition> = self.image.partitions().map(|(tp, _)| tp).collect();
                for tp in &all {
                    let outcome = self.elect_leader(tp, request.unclean);
                    changed |= outcome.0 == ErrorCode::None;
                    let keep = outcome.0 != ErrorCode::ElectionNotNeeded;
                    record(&mut results, tp, outcome, keep);
                }
            }
        }
        if changed {
            self.publish(now_ms);
        }
        ElectLeadersResponse { error: ErrorCode::None, results }
    }

    fn elect_leader(&mut self, tp: &TopicPartition, unclean: bool) -> (ErrorCode, Option<String>) {
        if !self.image.topics.contains_key(&tp.topic) {
            return (ErrorCode::UnknownTopicOrPartition, Some(format!("No such topic as {}", tp.topic)));
        }
        let Some(state) = self.image.partition(tp).cloned() else {
            return (
                ErrorCode::UnknownTopicOrPartition,
                Some(format!("No such partition as {}-{}", tp.topic, tp.partition)),
            );
        };
        let preferred = state.replicas.first().copied();
        if (!unclean && state.leader.is_some() && state.leader == preferred) || (unclean && state.leader.is_some()) {
            return (ErrorCode::ElectionNotNeeded, None);
        }
        let usable = |replica: &BrokerId| self.is_unfenced(*replica);
        let leader = if unclean {
            let clean = state.replicas.iter().copied().find(|r| state.isr.contains(r) && usable(r));
            clean.or_else(|| state.replicas.iter().copied().find(usable))
        } else {
            preferred.filter(|p| state.isr.contains(p) && usable(p))
        };
        let Some(leader) = leader else {
            let code =
                if unclean { ErrorCode::EligibleLeadersNotAvailable } else { ErrorCode::PreferredLeaderNotAvailable };
            return (code, None);
        };
        self.change_partition(tp, |state| {
            if !state.isr.contains(&leader) {
                state.isr = vec![leader];
            }
            state.leader = Some(leader);
        });
        assert_eq!(self.image.partition(tp).and_then(|s| s.leader), Some(leader), "the elected leader stands");
        (ErrorCode::None, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topic::NewTopic;

    fn controller() -> Controller {
        let mut controller = test_controller(3);
        controller.create_topic(0, &NewTopic::new("t", 3, 3)).expect("created");
        controller
    }

    fn elect(controller: &mut Controller, unclean: bool, tps: Option<&[(&str, i32)]>) -> Vec<(String, i32, ErrorCode)> {
        let partitions = tps.map(|tps| tps.iter().map(|(t, p)| TopicPartition::new(t, *p)).collect());
        let response = controller.elect_leaders(100, &ElectLeaders { unclean, partitions });
        let mut flat = Vec::new();
        for (topic, outcomes) in response.results {
            for (partition, error, _) in outcomes {
                flat.push((topic.clone(), partition, error));
            }
        }
        flat
    }

    #[test]
    fn preferred_election_moves_leadership_back_once_the_preferred_replica_is_in_sync() {
        let mut controller = controller();
        let tp = TopicPartition::new("t", 0);
        let preferred = controller.image.partition(&tp).unwrap().replicas[0];
        controller.fence(10, preferred, FenceReason::SessionTimeout);
        controller.unfence(20, preferred);
        assert_ne!(controller.image.partition(&tp).unwrap().leader, Some(preferred), "moved away");
        let outcome = elect(&mut controller, false, Some(&[("t", 0)]));
        assert_eq!(outcome, vec![("t".to_owned(), 0, ErrorCode::PreferredLeaderNotAvailable)], "not in the ISR yet");
        controller.change_partition(&tp, |state| state.isr.push(preferred));
        let epoch = controller.image.partition(&tp).unwrap().leader_epoch;
        // Every partition: those already led by their preferred replica are left out.
        let outcome = elect(&mut controller, false, None);
        assert!(outcome.contains(&("t".to_owned(), 0, ErrorCode::None)), "{outcome:?}");
        assert!(outcome.iter().all(|(_, _, error)| *error != ErrorCode::ElectionNotNeeded), "{outcome:?}");
        let state = controller.image.partition(&tp).unwrap();
        assert_eq!((state.leader, state.leader_epoch), (Some(preferred), epoch + 1));
        assert_eq!(elect(&mut controller, false, Some(&[("t", 0)]))[0].2, ErrorCode::ElectionNotNeeded);
        let unknown = controller.elect_leaders(
            0,
            &ElectLeaders {
                unclean: false,
                partitions: Some(vec![TopicPartition::new("nope", 0), TopicPartition::new("t", 9)]),
            },
        );
        let words: Vec<Option<String>> =
            unknown.results.iter().flat_map(|(_, o)| o.iter().map(|r| r.2.clone())).collect();
        assert_eq!(words, vec![Some("No such topic as nope".to_owned()), Some("No such partition as t-9".to_owned())]);
    }

    #[test]
    fn unclean_election_gives_a_leaderless_partition_a_live_replica_and_says_so() {
        let mut controller = controller();
        let tp = TopicPartition::new("t", 0);
        let replicas = controller.image.partition(&tp).unwrap().replicas.clone();
        for broker in &replicas {
            controller.fence(10, *broker, FenceReason::SessionTimeout);
        }
        assert_eq!(controller.image.partition(&tp).unwrap().leader, None);
        let last_in_sync = controller.image.partition(&tp).unwrap().isr.clone();
        let outcome = elect(&mut controller, true, Some(&[("t", 0)]));
        assert_eq!(outcome[0].2, ErrorCode::EligibleLeadersNotAvailable, "every replica is fenced");
        let back = *replicas.iter().find(|b| !last_in_sync.contains(b)).expect("one left the ISR");
        controller.unfence(20, back);
        assert_eq!(controller.image.partition(&tp).unwrap().leader, None, "unclean.leader.election.enable is off");
        assert_eq!(elect(&mut controller, false, Some(&[("t", 0)]))[0].2, ErrorCode::PreferredLeaderNotAvailable);
        while controller.poll_event().is_some() {}
        assert_eq!(elect(&mut controller, true, Some(&[("t", 0)]))[0].2, ErrorCode::None);
        let state = controller.image.partition(&tp).unwrap();
        assert_eq!((state.leader, state.isr.clone()), (Some(back), vec![back]));
        let unclean_event = std::iter::from_fn(|| controller.poll_event())
            .any(|event| matches!(event, Event::LeaderChanged { unclean: true, .. }));
        assert!(unclean_event, "the election is reported as unclean");
        assert_eq!(elect(&mut controller, true, Some(&[("t", 0)]))[0].2, ErrorCode::ElectionNotNeeded);
    }
}
