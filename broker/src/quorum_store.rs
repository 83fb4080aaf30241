//! A controller's metadata log on disk, as KRaft keeps `__cluster_metadata-0`: the
//! `quorum-state` file (epoch, vote, leader — JSON, like Kafka's) and the log's entries, one
//! JSON line each, appended and fsynced before anything the same step produced is sent.
//! A truncation (entries a deposed leader never committed) rewrites the file; a torn last line
//! from a crash mid-write is dropped on load.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use rill_core::controller::quorum::MetadataRecord;
use rill_core::raft::{Durable, Entry};
use serde::{Deserialize, Serialize};

/// The directory's name, Kafka's.
pub const METADATA_DIR: &str = "__cluster_metadata-0";

#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct QuorumState {
    epoch: i32,
    voted_for: Option<i32>,
    leader: Option<i32>,
}

/// The store. See the module doc.
#[derive(Debug)]
pub struct QuorumStore {
    dir: PathBuf,
    state: QuorumState,
    /// Entries on disk, and the (offset, epoch) of the last one.
    written: usize,
    last: Option<(i64, i32)>,
}

impl QuorumStore {
    /// Opens (creating) the store of node `node_id` with `voters` under `log_dir` and reads
    /// what it holds. A metadata log written by another node, or for other voters, is refused
    /// (Kafka's `meta.properties` check): it would vote with someone else's state.
    pub fn open(
        log_dir: &Path,
        node_id: i32,
        voters: &[i32],
    ) -> Result<(QuorumStore, Durable<MetadataRecord>), String> {
        let dir = log_dir.join(METADATA_DIR);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let meta_path = dir.join("meta.properties");
        let ours = format!("node.id={node_id}\ncontroller.quorum.voters={voters:?}\n");
        match fs::read_to_string(&meta_path) {
            Ok(found) if found != ours => {
                return Err(format!(
                "{} was written by another node or quorum ({}) but this is node.id={node_id} with voters {voters:?}: \
                     point log.dirs at this node's own directory, or keep its voters (changing them is not \
                     supported yet, KIP-853)",
                meta_path.display(),
                found.trim().replace('\n', ", ")
            ))
            }
            Ok(_) => {}
            Err(_) => write_atomically(&meta_path, ours.as_bytes())?,
        }
        let state_path = dir.join("quorum-state");
        let state: QuorumState = match fs::read(&state_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("{} is not a quorum-state file: {e}", state_path.display()))?,
            Err(_) => QuorumState::default(),
        };
        let mut log: Vec<Entry<MetadataRecord>> = Vec::new();
        if let Ok(file) = File::open(dir.join("log.jsonl")) {
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Entry<MetadataRecord>>(&line) {
                    Ok(entry) if entry.offset == i64::try_from(log.len()).unwrap_or(-1) => log.push(entry),
                    Ok(_) | Err(_) => {
                        tracing::warn!(line = index + 1, "metadata log: dropping a torn or out-of-order tail");
                        break;
                    }
                }
            }
        }
        let last = log.last().map(|e| (e.offset, e.epoch));
        let durable = Durable { epoch: state.epoch, voted_for: state.voted_for, leader: state.leader, log };
        let mut store = QuorumStore { dir, state, written: durable.log.len(), last };
        // Rewrite once if a torn tail was dropped, so appends continue from a clean file.
        store.rewrite(&durable)?;
        Ok((store, durable))
    }

    /// Makes `durable` the state on disk (only what changed), fsynced.
    pub fn persist(&mut self, durable: &Durable<MetadataRecord>) -> Result<(), String> {
        let state = QuorumState { epoch: durable.epoch, voted_for: durable.voted_for, leader: durable.leader };
        if state != self.state {
            let path = self.dir.join("quorum-state");
            write_atomically(&path, &serde_json::to_vec(&state).map_err(|e| e.to_string())?)?;
            self.state = state;
        }
        let kept = self.written <= durable.log.len()
            && self
                .written
                .checked_sub(1)
                .is_none_or(|i| Some((durable.log[i].offset, durable.log[i].epoch)) == self.last);
        if !kept {
            return self.rewrite(durable);
        }
        if self.written == durable.log.len() {
            return Ok(());
        }
        let path = self.dir.join("log.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut text = Vec::new();
        for entry in &durable.log[self.written..] {
            serde_json::to_writer(&mut text, entry).map_err(|e| e.to_string())?;
            text.push(b'\n');
        }
        file.write_all(&text)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.written = durable.log.len();
        self.last = durable.log.last().map(|e| (e.offset, e.epoch));
        Ok(())
    }

    fn rewrite(&mut self, durable: &Durable<MetadataRecord>) -> Result<(), String> {
        let mut text = Vec::new();
        for entry in &durable.log {
            serde_json::to_writer(&mut text, entry).map_err(|e| e.to_string())?;
            text.push(b'\n');
        }
        write_atomically(&self.dir.join("log.jsonl"), &text)?;
        self.written = durable.log.len();
        self.last = durable.log.last().map(|e| (e.offset, e.epoch));
        Ok(())
    }
}

/// Writes `path` through a temporary file and a rename, fsynced: never half a file.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let temporary = path.with_extension("tmp");
    let mut file = File::create(&temporary).map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", temporary.display()))?;
    fs::rename(&temporary, path).map_err(|e| format!("cannot replace {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rill_core::raft::Payload;

    fn entry(offset: i64, epoch: i32) -> Entry<MetadataRecord> {
        Entry { offset, epoch, payload: Payload::LeaderChange { leader: 1, voters: vec![1, 2, 3] } }
    }

    #[test]
    fn appends_truncates_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("rill-quorum-store-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (mut store, mut durable) = QuorumStore::open(&dir, 1, &[1, 2, 3]).unwrap();
        assert!(durable.log.is_empty() && durable.epoch == 0);
        durable.epoch = 2;
        durable.voted_for = Some(1);
        durable.log = vec![entry(0, 1), entry(1, 1), entry(2, 2)];
        store.persist(&durable).unwrap();
        durable.log.truncate(1);
        durable.log.push(entry(1, 3));
        durable.epoch = 3;
        store.persist(&durable).unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &[1, 2, 3]).unwrap();
        assert_eq!(read, durable);
        // A torn last line (a crash mid-append) is dropped.
        let mut file = OpenOptions::new().append(true).open(dir.join(METADATA_DIR).join("log.jsonl")).unwrap();
        file.write_all(br#"{"offset":2,"ep"#).unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &[1, 2, 3]).unwrap();
        assert_eq!(read.log.len(), 2);
        // Another node's (or quorum's) metadata log is refused.
        let error = QuorumStore::open(&dir, 2, &[1, 2, 3]).unwrap_err();
        assert!(error.contains("written by another node or quorum") && error.contains("node.id=2"), "{error}");
        assert!(QuorumStore::open(&dir, 1, &[1, 2]).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
