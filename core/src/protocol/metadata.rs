//! The cluster metadata the controller decides and brokers and clients learn: partition states,
//! topics, brokers, in one versioned [`MetadataImage`] (the KRaft metadata image).
//!
//! Its serde form is also the controller's persisted snapshot (`__rill_metadata.json`): topics
//! as a list with their names, topic ids in hex, configs as the overrides only.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::collections::VecMap;
use crate::config::TopicConfig;
use crate::placement::BrokerId;

use super::TopicPartition;

/// A partition's replication state as the controller decides it (KRaft `PartitionRecord`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    /// Assigned replicas; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// In-sync replicas.
    pub isr: Vec<BrokerId>,
    /// The leader, or `None` when no replica is eligible (offline partition).
    pub leader: Option<BrokerId>,
    /// Bumped on every leader change (KIP-101).
    pub leader_epoch: i32,
    /// Bumped on every change (ISR or leader); guards AlterPartition against stale updates.
    pub partition_epoch: i32,
    /// During a reassignment (KIP-455), the replicas being added: in `replicas`, and not yet
    /// all in the ISR.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adding_replicas: Vec<BrokerId>,
    /// During a reassignment, the replicas to remove once every target replica is in sync:
    /// the last ones in `replicas`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub removing_replicas: Vec<BrokerId>,
}

impl PartitionState {
    /// A new partition on `replicas`, all in sync, led by the first.
    #[must_use]
    pub fn new(replicas: Vec<BrokerId>) -> PartitionState {
        PartitionState {
            leader: replicas.first().copied(),
            isr: replicas.clone(),
            replicas,
            leader_epoch: 0,
            partition_epoch: 0,
            adding_replicas: Vec::new(),
            removing_replicas: Vec::new(),
        }
    }

    /// Whether a reassignment is under way.
    #[must_use]
    pub fn reassigning(&self) -> bool {
        !self.adding_replicas.is_empty() || !self.removing_replicas.is_empty()
    }

    /// The replicas a reassignment moves to (all of them when none is under way).
    #[must_use]
    pub fn target_replicas(&self) -> Vec<BrokerId> {
        self.replicas.iter().copied().filter(|r| !self.removing_replicas.contains(r)).collect()
    }

    /// The replicas from before the reassignment under way (all of them when none is).
    #[must_use]
    pub fn original_replicas(&self) -> Vec<BrokerId> {
        self.replicas.iter().copied().filter(|r| !self.adding_replicas.contains(r)).collect()
    }
}

/// One topic in the metadata image.
#[derive(Clone, Debug, PartialEq)]
pub struct TopicMetadata {
    /// Topic id.
    pub topic_id: u128,
    /// Topic config.
    pub config: TopicConfig,
    /// Partition states, index = partition.
    pub partitions: Vec<PartitionState>,
}

/// One broker in the metadata image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerMetadata {
    /// Rack.
    pub rack: Option<String>,
    /// Fenced brokers are out of every ISR and cannot lead.
    pub fenced: bool,
}

/// The cluster metadata a broker or client knows, versioned by `metadata_epoch` so stale
/// metadata is detectable (the offset of KRaft's metadata log).
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
#[serde(into = "ImageForm", try_from = "ImageForm")]
pub struct MetadataImage {
    /// The cluster's id (Kafka's `cluster.id`, 22 characters of base64url), named once by the
    /// first active controller; `None` in images from before Rill named clusters.
    pub cluster_id: Option<Arc<str>>,
    /// Version; higher is newer.
    pub metadata_epoch: i64,
    /// Registered brokers.
    pub brokers: VecMap<BrokerId, BrokerMetadata>,
    /// Topics by name.
    pub topics: VecMap<Arc<str>, TopicMetadata>,
}

/// [`MetadataImage`]'s serde form (and the snapshot file's format).
#[derive(Clone, Serialize, Deserialize)]
struct ImageForm {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cluster_id: Option<String>,
    metadata_epoch: i64,
    /// (id, rack, fenced).
    brokers: Vec<(BrokerId, Option<String>, bool)>,
    topics: Vec<TopicForm>,
}

#[derive(Clone, Serialize, Deserialize)]
struct TopicForm {
    name: String,
    /// 32 hex digits.
    topic_id: String,
    /// The config's overrides of the defaults.
    configs: VecMap<String, String>,
    partitions: Vec<PartitionState>,
}

impl From<MetadataImage> for ImageForm {
    fn from(image: MetadataImage) -> ImageForm {
        ImageForm {
            cluster_id: image.cluster_id.as_deref().map(str::to_owned),
            metadata_epoch: image.metadata_epoch,
            brokers: image.brokers.iter().map(|(id, b)| (*id, b.rack.clone(), b.fenced)).collect(),
            topics: image
                .topics
                .iter()
                .map(|(name, topic)| TopicForm {
                    name: name.to_string(),
                    topic_id: format!("{:032x}", topic.topic_id),
                    configs: topic.config.overrides().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    partitions: topic.partitions.clone(),
                })
                .collect(),
        }
    }
}

impl TryFrom<ImageForm> for MetadataImage {
    type Error = String;

    fn try_from(form: ImageForm) -> Result<MetadataImage, String> {
        let mut image = MetadataImage {
            cluster_id: form.cluster_id.map(|id| Arc::from(id.as_str())),
            metadata_epoch: form.metadata_epoch,
            ..MetadataImage::default()
        };
        for (id, rack, fenced) in form.brokers {
            image.brokers.insert(id, BrokerMetadata { rack, fenced });
        }
        for topic in form.topics {
            let config = TopicConfig::from_pairs(&topic.configs).map_err(|e| format!("topic {}: {e}", topic.name))?;
            let topic_id = u128::from_str_radix(&topic.topic_id, 16)
                .map_err(|e| format!("topic {}: topic id {:?}: {e}", topic.name, topic.topic_id))?;
            let metadata = TopicMetadata { topic_id, config, partitions: topic.partitions };
            image.topics.insert(Arc::from(topic.name.as_str()), metadata);
        }
        Ok(image)
    }
}

impl MetadataImage {
    /// A partition's state.
    #[must_use]
    pub fn partition(&self, tp: &TopicPartition) -> Option<&PartitionState> {
        self.topics.get(&tp.topic)?.partitions.get(usize::try_from(tp.partition).ok()?)
    }

    /// Every partition, in order.
    pub fn partitions(&self) -> impl Iterator<Item = (TopicPartition, &PartitionState)> {
        self.topics.iter().flat_map(|(topic, metadata)| {
            metadata.partitions.iter().enumerate().map(move |(index, state)| {
                let partition = i32::try_from(index).expect("partition count fits i32");
                (TopicPartition { topic: topic.clone(), partition }, state)
            })
        })
    }
}
