//! The controller's metadata on disk: one snapshot of the metadata image
//! (`log.dirs/__rill_metadata.json`, the image's serde form), written atomically (temp file,
//! fsync, rename) whenever the image changed and before other nodes can act on it, and read
//! back by a restarted controller. Older data directories kept a list of created topics
//! (`__rill_topics.properties`); it is read once when no snapshot exists, never written.

use std::path::{Path, PathBuf};

use rill_core::collections::VecSet;
use rill_core::protocol::MetadataImage;
use rill_core::topic::NewTopic;

use crate::cluster;

/// Where the metadata lives and what was last written.
#[derive(Debug)]
pub struct MetadataStore {
    snapshot_path: PathBuf,
    legacy_topics_path: PathBuf,
    persisted_epoch: i64,
}

/// What a controller finds on start.
#[derive(Debug, Default)]
pub enum Restored {
    /// Nothing: a new cluster.
    #[default]
    Nothing,
    /// The snapshot: partition states and epochs as they were.
    Image(MetadataImage),
    /// Only an old data directory's topic list: the topics are created again.
    Topics(Vec<NewTopic>),
}

impl MetadataStore {
    /// The store in `log_dir`.
    #[must_use]
    pub fn new(log_dir: &Path) -> MetadataStore {
        MetadataStore {
            snapshot_path: log_dir.join("__rill_metadata.json"),
            legacy_topics_path: log_dir.join("__rill_topics.properties"),
            persisted_epoch: 0,
        }
    }

    /// Reads what a restarted controller had; an unreadable snapshot is reported and ignored.
    pub fn restore(&mut self) -> Restored {
        if let Ok(bytes) = std::fs::read(&self.snapshot_path) {
            match cluster::image_from_json(&bytes) {
                Ok(image) => {
                    self.persisted_epoch = image.metadata_epoch;
                    return Restored::Image(image);
                }
                Err(error) => tracing::error!(%error, "ignoring an unreadable metadata snapshot"),
            }
        }
        let Ok(text) = std::fs::read_to_string(&self.legacy_topics_path) else { return Restored::Nothing };
        let mut topics: Vec<NewTopic> = Vec::new();
        for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
            if let Some(name) = line.strip_prefix("delete ") {
                topics.retain(|topic| topic.name != name.trim());
                continue;
            }
            match parse_topic_line(line) {
                Some(topic) => topics.push(topic),
                None => tracing::warn!(line, "ignoring a bad line in the topic metadata file"),
            }
        }
        Restored::Topics(topics)
    }

    /// Writes `image` when its epoch is new (temp file, fsync, rename): a restarted controller
    /// must not forget epochs other nodes have seen.
    pub fn persist(&mut self, image: &MetadataImage) {
        if image.metadata_epoch == self.persisted_epoch {
            return;
        }
        let bytes = cluster::image_to_json(image);
        let temp = self.snapshot_path.with_extension("json.tmp");
        let written = std::fs::File::create(&temp)
            .and_then(|mut file| {
                use std::io::Write;
                file.write_all(&bytes).and_then(|()| file.sync_all())
            })
            .and_then(|()| std::fs::rename(&temp, &self.snapshot_path));
        match written {
            Ok(()) => self.persisted_epoch = image.metadata_epoch,
            Err(error) => tracing::error!(%error, "could not persist the controller's metadata"),
        }
    }
}

/// Removes partition directories of topics `known` does not hold (a crash between a topic's
/// deletion and the removal of its files must not bring it back if the name is reused), and
/// half-deleted ones.
pub fn remove_orphans(log_dir: &Path, known: &VecSet<String>) {
    let Ok(entries) = std::fs::read_dir(log_dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == crate::quorum_store::METADATA_DIR {
            continue; // the controller's metadata log, not a topic's partition
        }
        let Some((topic, partition)) = name.rsplit_once('-') else { continue };
        let orphan = name.ends_with(".deleted") || (partition.parse::<i32>().is_ok() && !known.contains(topic));
        if orphan && entry.path().is_dir() {
            tracing::warn!(dir = %entry.path().display(), "removing the log of a deleted topic");
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// One line of the old topic list: `name partitions replication_factor [key=value,...]`.
fn parse_topic_line(line: &str) -> Option<NewTopic> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?;
    let partitions = fields.next()?.parse().ok()?;
    let replication_factor = fields.next()?.parse().ok()?;
    let mut topic = NewTopic::new(name, partitions, replication_factor);
    if let Some(configs) = fields.next() {
        for pair in configs.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=')?;
            topic = topic.config(key, value);
        }
    }
    Some(topic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_round_trips_and_an_old_topic_list_is_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store = MetadataStore::new(dir.path());
        assert!(matches!(store.restore(), Restored::Nothing));
        std::fs::write(dir.path().join("__rill_topics.properties"), "a 3 1 retention.ms=5\nb 1 1\ndelete b\n").unwrap();
        let Restored::Topics(topics) = store.restore() else { panic!("the old list") };
        assert_eq!(topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["a"]);
        let image = MetadataImage { metadata_epoch: 4, ..MetadataImage::default() };
        store.persist(&image);
        let mut again = MetadataStore::new(dir.path());
        let Restored::Image(read) = again.restore() else { panic!("the snapshot wins") };
        assert_eq!(read, image);
    }
}
