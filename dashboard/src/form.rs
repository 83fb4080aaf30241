//! What the dashboard's forms hold, turned into specs and actions with bad input refused in
//! words (never coerced to some default). Pure: tested natively.

use rill_core::sim::spec::{ClusterSpec, PartitionSnapshot, SPEC_BROKERS_MAX, SPEC_PARTITIONS_MAX};

/// Most records/s a form starts a producer at.
pub const RATE_MAX: u64 = 1_000;

/// A whole number from `min` to `max`, or an error naming the field and the text typed.
pub fn whole(field: &str, text: &str, min: i64, max: i64) -> Result<i64, String> {
    let trimmed = text.trim();
    let plain = !trimmed.is_empty() && trimmed.trim_start_matches('-').bytes().all(|b| b.is_ascii_digit());
    match trimmed.parse::<i64>() {
        Ok(value) if plain && (min..=max).contains(&value) => Ok(value),
        _ => Err(format!("INVALID_CONFIG: {field} must be a whole number from {min} to {max}, got {text:?}")),
    }
}

/// The configuration form, as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigForm {
    /// Number of brokers.
    pub brokers: String,
    /// Partitions of the first topic.
    pub partitions: String,
    /// Its replication factor.
    pub replication_factor: String,
    /// Its `min.insync.replicas`.
    pub min_insync_replicas: String,
    /// Its `unclean.leader.election.enable`.
    pub unclean: bool,
    /// `log.flush.interval.messages` ("" for the default).
    pub flush: String,
    /// The seed.
    pub seed: String,
}

impl ConfigForm {
    /// The form filled from a spec.
    #[must_use]
    pub fn of(spec: &ClusterSpec) -> ConfigForm {
        let topic = spec.topics.first();
        ConfigForm {
            brokers: spec.brokers.to_string(),
            partitions: topic.map_or(1, |t| t.partitions).to_string(),
            replication_factor: topic.and_then(|t| t.replication_factor).unwrap_or(3).to_string(),
            min_insync_replicas: topic.map_or(1, |t| t.min_insync_replicas).to_string(),
            unclean: topic.is_some_and(|t| t.unclean_leader_election),
            flush: spec.broker_configs.get("log.flush.interval.messages").cloned().unwrap_or_default(),
            seed: spec.seed.to_string(),
        }
    }

    /// `base` with this form's values. The first topic keeps its placement while it still
    /// fits (same partitions and replication factor, every replica's broker still there):
    /// changing `min.insync.replicas` must not move the topic away from the scripted faults.
    pub fn apply(&self, base: &ClusterSpec) -> Result<ClusterSpec, String> {
        let brokers = whole("brokers", &self.brokers, 1, i64::from(SPEC_BROKERS_MAX))?;
        let seed = whole("seed", &self.seed, 0, i64::MAX)?;
        let mut spec = base.clone();
        spec.brokers = i32::try_from(brokers).expect("at most SPEC_BROKERS_MAX");
        spec.seed = u64::try_from(seed).expect("not negative");
        if spec.controller_host.is_some_and(|host| host > spec.brokers) {
            spec.controller_host = None;
        }
        if let Some(topic) = spec.topics.first_mut() {
            let partitions = whole("partitions", &self.partitions, 1, i64::from(SPEC_PARTITIONS_MAX))?;
            // Above the broker count is Kafka's own INVALID_REPLICATION_FACTOR, from the core.
            let rf = whole("replication.factor", &self.replication_factor, 1, i64::from(SPEC_BROKERS_MAX))?;
            let min_isr = whole("min.insync.replicas", &self.min_insync_replicas, 1, i64::from(SPEC_BROKERS_MAX))?;
            let partitions = i32::try_from(partitions).expect("at most SPEC_PARTITIONS_MAX");
            let rf = i16::try_from(rf).expect("at most SPEC_BROKERS_MAX");
            let min_isr = i32::try_from(min_isr).expect("at most SPEC_BROKERS_MAX");
            let fits = topic.partitions == partitions
                && topic.replication_factor == Some(rf)
                && topic.assignment.as_ref().is_some_and(|assignment| {
                    assignment.iter().flatten().all(|broker| (1..=spec.brokers).contains(broker))
                });
            if !fits {
                topic.assignment = None;
            }
            topic.partitions = partitions;
            topic.replication_factor = Some(rf);
            topic.min_insync_replicas = min_isr;
            topic.unclean_leader_election = self.unclean;
        }
        match self.flush.trim() {
            "" => {
                spec.broker_configs.remove("log.flush.interval.messages");
            }
            flush => {
                whole("log.flush.interval.messages", flush, 1, i64::MAX)?;
                spec.broker_configs.insert("log.flush.interval.messages".to_owned(), flush.to_owned());
            }
        }
        Ok(spec)
    }
}

/// Records/s for a producer started from the form.
pub fn rate(text: &str) -> Result<u64, String> {
    let rate = whole("records/s", text, 1, i64::try_from(RATE_MAX).expect("small"))?;
    Ok(u64::try_from(rate).expect("positive"))
}

/// Plain words on how the first topic's placement changed between two runs, naming the
/// brokers that recorded faults hit which no longer hold a replica; `None` when unchanged.
#[must_use]
pub fn placement_change(before: &[PartitionSnapshot], after: &[PartitionSnapshot], faulted: &[i32]) -> Option<String> {
    let topic = before.first().map(|p| p.topic.clone())?;
    let replicas = |partitions: &[PartitionSnapshot]| -> Vec<(i32, Vec<i32>)> {
        partitions.iter().filter(|p| p.topic == topic).map(|p| (p.partition, p.replicas.clone())).collect()
    };
    let (old, new) = (replicas(before), replicas(after));
    if old == new {
        return None;
    }
    let show = |placement: &[(i32, Vec<i32>)]| {
        placement.iter().map(|(partition, replicas)| format!("{topic}-{partition} on {replicas:?}")).collect::<Vec<_>>()
    };
    let mut text =
        format!("The topic moved: it was placed as {} and now as {}.", show(&old).join(", "), show(&new).join(", "));
    let held = |placement: &[(i32, Vec<i32>)], broker: i32| placement.iter().any(|(_, r)| r.contains(&broker));
    let mut missed: Vec<i32> =
        faulted.iter().copied().filter(|broker| held(&old, *broker) && !held(&new, *broker)).collect();
    missed.sort_unstable();
    missed.dedup();
    if !missed.is_empty() {
        let names: Vec<String> = missed.iter().map(ToString::to_string).collect();
        let brokers = if missed.len() == 1 { "broker" } else { "brokers" };
        text.push_str(&format!(
            " The recorded faults on {brokers} {} no longer touch its replicas: this run does not show the same story.",
            names.join(", ")
        ));
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios;

    #[test]
    fn bad_numbers_are_refused_in_words_never_coerced() {
        for (field, text) in
            [("brokers", "2.5"), ("brokers", "abc"), ("brokers", "1e3"), ("brokers", "-1"), ("brokers", "")]
        {
            let error = whole(field, text, 1, 16).unwrap_err();
            assert!(error.starts_with("INVALID_CONFIG: brokers must be a whole number from 1 to 16"), "{error}");
            assert!(error.contains(&format!("got {text:?}")), "{error}");
        }
        assert_eq!(whole("brokers", " 4 ", 1, 16), Ok(4));
        for bad in ["-5", "abc", "1e3", "5000", "0"] {
            assert!(rate(bad).unwrap_err().contains("records/s must be a whole number from 1 to 1000"), "{bad}");
        }
        assert_eq!(rate("250"), Ok(250));
        let spec = (scenarios::SCENARIOS[0].spec)();
        let mut form = ConfigForm::of(&spec);
        form.seed = "-1".to_owned();
        assert!(form.apply(&spec).unwrap_err().contains("seed must be a whole number"));
        let mut form = ConfigForm::of(&spec);
        form.min_insync_replicas = "0".to_owned();
        assert!(form.apply(&spec).unwrap_err().contains("min.insync.replicas must be a whole number from 1 to 16"));
    }

    #[test]
    fn changing_min_insync_replicas_keeps_the_placement_and_changing_rf_says_so() {
        let spec = (scenarios::SCENARIOS[0].spec)();
        assert_eq!(spec.topics[0].assignment, Some(vec![vec![1, 2, 3]]));
        let mut form = ConfigForm::of(&spec);
        assert_eq!(form.apply(&spec).unwrap(), spec, "an untouched form changes nothing");
        form.min_insync_replicas = "2".to_owned();
        let changed = form.apply(&spec).unwrap();
        assert_eq!(changed.topics[0].assignment, Some(vec![vec![1, 2, 3]]), "the topic stays on brokers 1, 2, 3");
        assert_eq!(changed.topics[0].min_insync_replicas, 2);
        form.replication_factor = "2".to_owned();
        form.min_insync_replicas = "1".to_owned();
        assert_eq!(form.apply(&spec).unwrap().topics[0].assignment, None, "a new replication factor is placed anew");
    }

    #[test]
    fn a_moved_topic_is_named_with_the_faults_it_escapes() {
        let partition = |replicas: Vec<i32>| PartitionSnapshot {
            topic: "orders".to_owned(),
            partition: 0,
            replicas,
            isr: Vec::new(),
            leader: None,
            leader_epoch: 0,
            under_replicated: false,
            offline: false,
        };
        let same = placement_change(&[partition(vec![1, 2, 3])], &[partition(vec![1, 2, 3])], &[1]);
        assert_eq!(same, None);
        let moved = placement_change(&[partition(vec![1, 2, 3])], &[partition(vec![2, 3, 4])], &[1, 4, 1]).unwrap();
        assert!(moved.contains("orders-0 on [1, 2, 3]") && moved.contains("orders-0 on [2, 3, 4]"), "{moved}");
        assert!(moved.contains("faults on broker 1 no longer touch its replicas"), "{moved}");
    }
}
