//! Changing a topic's config on the controller (`IncrementalAlterConfigs`, KIP-339): each
//! change applied in order to the topic's current config — set a value, delete the override
//! (back to the broker's `log.*` default), or append to / subtract from a list — then the
//! whole checked as at creation, and published like any metadata change. The legacy
//! `AlterConfigs` is the same from the broker's defaults: what it does not name is reset.

use super::*;
use crate::protocol::{AlterTopicConfig, ConfigOperation};

/// Topic configs whose value is a comma-separated list (APPEND and SUBTRACT apply to these).
const LIST_KEYS: &[&str] = &["cleanup.policy"];

/// Kafka's topic-level replication throttles. Rill does not throttle replication, so they are
/// never set; removing them is a no-op (`kafka-reassign-partitions --verify` does it).
const THROTTLE_KEYS: &[&str] = &["leader.replication.throttled.replicas", "follower.replication.throttled.replicas"];

impl Controller {
    /// Applies `request` to its topic's config (only checks it with `validate_only`). Unknown
    /// topics, unknown keys and bad values are refused with Kafka's error codes, naming the key.
    pub fn alter_topic_config(&mut self, now_ms: u64, request: &AlterTopicConfig) -> Result<()> {
        let Some(topic) = self.topics.get(&request.topic) else {
            return Err(Error::new(
                ErrorCode::UnknownTopicOrPartition,
                format!("The topic '{}' does not exist.", request.topic),
            ));
        };
        let defaults = self.config.topic_defaults();
        let mut config = if request.replace { defaults.clone() } else { topic.config.clone() };
        for (key, operation, value) in &request.changes {
            if THROTTLE_KEYS.contains(&key.as_str()) {
                if *operation == ConfigOperation::Delete {
                    continue;
                }
                return Err(Error::new(
                    ErrorCode::InvalidConfig,
                    format!("{key} cannot be set: Rill does not throttle replication"),
                ));
            }
            let unknown = || Error::new(ErrorCode::InvalidConfig, format!("Unknown topic config name: {key}"));
            let current = config.get(key).ok_or_else(unknown)?;
            let new_value = match operation {
                ConfigOperation::Set => value.clone().ok_or_else(|| {
                    Error::new(ErrorCode::InvalidRequest, format!("Null value not supported for : {key}"))
                })?,
                ConfigOperation::Delete => defaults.get(key).ok_or_else(unknown)?,
                ConfigOperation::Append | ConfigOperation::Subtract => {
                    list_change(key, &current, *operation, value.as_deref().unwrap_or_default())?
                }
            };
            config.set(key, &new_value).map_err(Error::from)?;
        }
        config.validate().map_err(Error::from)?;
        if request.validate_only || config == topic.config {
            return Ok(());
        }
        let mut changed = topic.clone();
        changed.config = config.clone();
        self.topics.restore(changed);
        let name = request.topic.as_str();
        self.image.topics.get_mut(name).expect("the image has every topic of Topics").config = config;
        self.publish(now_ms);
        Ok(())
    }
}

/// `current` with the items of `value` appended (those it lacks) or removed.
fn list_change(key: &str, current: &str, operation: ConfigOperation, value: &str) -> Result<String> {
    if !LIST_KEYS.contains(&key) {
        let verb = if operation == ConfigOperation::Append { "append" } else { "subtract" };
        return Err(Error::new(
            ErrorCode::InvalidConfig,
            format!("Config value {verb} is not allowed for config key: {key}"),
        ));
    }
    let mut items: Vec<&str> = current.split(',').map(str::trim).filter(|item| !item.is_empty()).collect();
    for item in value.split(',').map(str::trim).filter(|item| !item.is_empty()) {
        match operation {
            ConfigOperation::Append if !items.contains(&item) => items.push(item),
            ConfigOperation::Subtract => items.retain(|kept| *kept != item),
            _ => {}
        }
    }
    Ok(items.join(","))
}
