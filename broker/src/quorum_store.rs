//! A controller's metadata log on disk, as KRaft keeps `__cluster_metadata-0`: the
//! `quorum-state` file (epoch, vote, leader — JSON, like Kafka's) and the log's entries, one
//! JSON line each, appended and fsynced before anything the same step produced is sent.
//! A truncation (entries a deposed leader never committed) rewrites the file; a torn last line
//! from a crash mid-write is dropped on load. A snapshot (KIP-630) goes to its own file, named
//! as Kafka names them (`<end offset>-<epoch>.checkpoint`), and the log file is rewritten
//! without the entries it covers.

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use rill_core::controller::quorum::MetadataRecord;
use rill_core::raft::{Durable, Entry, Snapshot, SnapshotId};
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
    /// The snapshot on disk.
    snapshot: Option<SnapshotId>,
    /// The log end offset on disk, and the (offset, epoch) of the last entry there.
    written_end: i64,
    last: Option<(i64, i32)>,
}

/// Kafka's snapshot file name: the end offset and epoch, zero-padded.
fn checkpoint_name(id: SnapshotId) -> String {
    format!("{:020}-{:010}.checkpoint", id.end_offset, id.epoch)
}

/// Where a quorum's voters come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Voters {
    /// `controller.quorum.voters`: fixed (Kafka's `kraft.version` 0).
    Static(Vec<i32>),
    /// A dynamic quorum (KIP-853, `kraft.version` 1), as `rill format` wrote it: the voters it
    /// starts with (`--standalone`, `--initial-controllers`), or none for a controller that
    /// joins as an observer (`--no-initial-controllers`). The log's `VotersRecord`s say who
    /// votes from then on.
    Dynamic(Vec<i32>),
}

impl Voters {
    fn header(&self, node_id: i32) -> String {
        match self {
            Voters::Static(voters) => format!("node.id={node_id}\ncontroller.quorum.voters={voters:?}\n"),
            Voters::Dynamic(bootstrap) => {
                format!("node.id={node_id}\nkraft.version=1\nbootstrap.voters={bootstrap:?}\n")
            }
        }
    }
}

/// The bootstrap voters of a metadata log formatted for a dynamic quorum by `rill format`
/// (`None`: not so formatted — a static quorum, or nothing yet).
pub fn formatted(log_dir: &Path) -> Result<Option<Vec<i32>>, String> {
    let path = log_dir.join(METADATA_DIR).join("meta.properties");
    let Ok(text) = fs::read_to_string(&path) else { return Ok(None) };
    if !text.lines().any(|line| line.trim() == "kraft.version=1") {
        return Ok(None);
    }
    let list = text
        .lines()
        .find_map(|line| line.trim().strip_prefix("bootstrap.voters="))
        .ok_or_else(|| format!("{} says kraft.version=1 but names no bootstrap.voters", path.display()))?;
    list.trim_matches(|c| c == '[' || c == ']')
        .split(',')
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(|id| {
            id.parse().map_err(|_| format!("{}: bootstrap.voters={list} is not a list of node ids", path.display()))
        })
        .collect::<Result<Vec<i32>, String>>()
        .map(Some)
}

/// Formats `log_dir`'s metadata log for a dynamic quorum starting with `bootstrap` (what
/// `kafka-storage format` writes into its `bootstrap.checkpoint`). A directory that holds a
/// metadata log already is refused, as Kafka refuses to format one twice.
pub fn format(log_dir: &Path, node_id: i32, bootstrap: &[i32]) -> Result<(), String> {
    refuse_formatted(log_dir)?;
    let dir = log_dir.join(METADATA_DIR);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    write_atomically(&dir.join("meta.properties"), Voters::Dynamic(bootstrap.to_vec()).header(node_id).as_bytes())
}

/// Refuses a `log_dir` that holds a metadata log already (checked before `rill format` writes
/// anything, so it never leaves a directory half formatted).
pub fn refuse_formatted(log_dir: &Path) -> Result<(), String> {
    let dir = log_dir.join(METADATA_DIR);
    if dir.join("meta.properties").exists() {
        return Err(format!("{} is already formatted: its metadata log is {}", log_dir.display(), dir.display()));
    }
    Ok(())
}

impl QuorumStore {
    /// Opens (creating) the store of node `node_id` with `voters` under `log_dir` and reads
    /// what it holds. A metadata log written by another node, or for other voters, is refused
    /// (Kafka's `meta.properties` check): it would vote with someone else's state.
    pub fn open(
        log_dir: &Path,
        node_id: i32,
        voters: &Voters,
    ) -> Result<(QuorumStore, Durable<MetadataRecord>), String> {
        let dir = log_dir.join(METADATA_DIR);
        fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let meta_path = dir.join("meta.properties");
        let ours = voters.header(node_id);
        match fs::read_to_string(&meta_path) {
            Ok(found) if found != ours => {
                return Err(format!(
                    "{} was written by another node or quorum ({}) but this is node.id={node_id} with {}: point \
                     log.dirs at this node's own directory, or keep its voters (a static controller.quorum.voters \
                     cannot change; a quorum formatted with `rill format` changes its voters with \
                     kafka-metadata-quorum add-controller / remove-controller)",
                    meta_path.display(),
                    found.trim().replace('\n', ", "),
                    ours.trim().replace('\n', ", ")
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
        let snapshot = read_newest_checkpoint(&dir)?;
        let start = snapshot.as_ref().map_or(0, |s| s.id.end_offset);
        let mut log: Vec<Entry<MetadataRecord>> = Vec::new();
        if let Ok(file) = File::open(dir.join("log.jsonl")) {
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let Ok(line) = line else { break };
                let next = start + i64::try_from(log.len()).unwrap_or(i64::MAX);
                match serde_json::from_str::<Entry<MetadataRecord>>(&line) {
                    // Entries the snapshot covers (a crash before the log was rewritten).
                    Ok(entry) if entry.offset < start => {}
                    Ok(entry) if entry.offset == next => log.push(entry),
                    Ok(_) | Err(_) => {
                        tracing::warn!(line = index + 1, "metadata log: dropping a torn or out-of-order tail");
                        break;
                    }
                }
            }
        }
        let durable = Durable { epoch: state.epoch, voted_for: state.voted_for, leader: state.leader, snapshot, log };
        let mut store = QuorumStore {
            dir,
            state,
            snapshot: durable.snapshot.as_ref().map(|s| s.id),
            written_end: durable.end_offset(),
            last: None,
        };
        // Rewrite once (a torn tail dropped, covered entries gone), so appends continue from a
        // clean file.
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
        let snapshot = durable.snapshot.as_ref().map(|s| s.id);
        if snapshot != self.snapshot {
            // A new snapshot: its file first, then the log without what it covers, then the
            // older snapshots go (a crash in between leaves a state `open` reads back).
            let snapshot = durable.snapshot.as_ref().expect("snapshots are never removed");
            let text = serde_json::to_vec(snapshot).map_err(|e| e.to_string())?;
            write_atomically(&self.dir.join(checkpoint_name(snapshot.id)), &text)?;
            self.rewrite(durable)?;
            self.snapshot = Some(snapshot.id);
            return remove_checkpoints_except(&self.dir, snapshot.id);
        }
        let kept = self.written_end <= durable.end_offset()
            && self.last.is_none_or(|(offset, epoch)| durable.entry(offset).map(|e| e.epoch) == Some(epoch));
        if !kept {
            return self.rewrite(durable);
        }
        if self.written_end == durable.end_offset() {
            return Ok(());
        }
        let path = self.dir.join("log.jsonl");
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let mut text = Vec::new();
        let from = usize::try_from(self.written_end - durable.start_offset()).expect("written past the log start");
        for entry in &durable.log[from..] {
            serde_json::to_writer(&mut text, entry).map_err(|e| e.to_string())?;
            text.push(b'\n');
        }
        file.write_all(&text)
            .and_then(|()| file.sync_data())
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        self.written_end = durable.end_offset();
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
        self.written_end = durable.end_offset();
        self.last = durable.log.last().map(|e| (e.offset, e.epoch));
        Ok(())
    }
}

/// The newest `*.checkpoint` in `dir` (by end offset), read whole; none when there is none.
fn read_newest_checkpoint(dir: &Path) -> Result<Option<Snapshot<MetadataRecord>>, String> {
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut newest: Option<(i64, PathBuf)> = None;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let Some(end) = name.strip_suffix(".checkpoint").and_then(|stem| stem.split('-').next()) else { continue };
        let end: i64 = end.parse().map_err(|_| format!("{} is not a snapshot file name", path.display()))?;
        if newest.as_ref().is_none_or(|(best, _)| end > *best) {
            newest = Some((end, path));
        }
    }
    let Some((_, path)) = newest else { return Ok(None) };
    let bytes = fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let snapshot: Snapshot<MetadataRecord> =
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is not a metadata snapshot: {e}", path.display()))?;
    if checkpoint_name(snapshot.id) != path.file_name().and_then(|n| n.to_str()).unwrap_or_default() {
        return Err(format!("{} holds the snapshot {:?}, not the one its name says", path.display(), snapshot.id));
    }
    Ok(Some(snapshot))
}

fn remove_checkpoints_except(dir: &Path, keep: SnapshotId) -> Result<(), String> {
    let keep = checkpoint_name(keep);
    let entries = fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.ends_with(".checkpoint") && name != keep {
            fs::remove_file(entry.path()).map_err(|e| format!("cannot remove {name}: {e}"))?;
        }
    }
    Ok(())
}

/// Writes `path` through a temporary file and a rename, fsynced: never half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
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
        let (mut store, mut durable) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1, 2, 3])).unwrap();
        assert!(durable.log.is_empty() && durable.epoch == 0);
        durable.epoch = 2;
        durable.voted_for = Some(1);
        durable.log = vec![entry(0, 1), entry(1, 1), entry(2, 2)];
        store.persist(&durable).unwrap();
        durable.log.truncate(1);
        durable.log.push(entry(1, 3));
        durable.epoch = 3;
        store.persist(&durable).unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1, 2, 3])).unwrap();
        assert_eq!(read, durable);
        // A torn last line (a crash mid-append) is dropped.
        let mut file = OpenOptions::new().append(true).open(dir.join(METADATA_DIR).join("log.jsonl")).unwrap();
        file.write_all(br#"{"offset":2,"ep"#).unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1, 2, 3])).unwrap();
        assert_eq!(read.log.len(), 2);
        // Another node's (or quorum's) metadata log is refused.
        let error = QuorumStore::open(&dir, 2, &Voters::Static(vec![1, 2, 3])).unwrap_err();
        assert!(error.contains("written by another node or quorum") && error.contains("node.id=2"), "{error}");
        assert!(QuorumStore::open(&dir, 1, &Voters::Static(vec![1, 2])).is_err());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_dynamic_quorum_is_formatted_once_and_opened_as_formatted() {
        let dir = std::env::temp_dir().join(format!("rill-quorum-format-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        assert_eq!(formatted(&dir), Ok(None), "nothing yet");
        format(&dir, 2, &[]).unwrap();
        assert_eq!(formatted(&dir), Ok(Some(Vec::new())), "a controller that joins");
        assert!(format(&dir, 2, &[2]).unwrap_err().contains("already formatted"));
        let (_, durable) = QuorumStore::open(&dir, 2, &Voters::Dynamic(Vec::new())).unwrap();
        assert!(durable.log.is_empty());
        let error = QuorumStore::open(&dir, 2, &Voters::Static(vec![2])).unwrap_err();
        assert!(error.contains("kraft.version=1") && error.contains("controller.quorum.voters=[2]"), "{error}");
        let _ = fs::remove_dir_all(&dir);
        format(&dir, 1, &[1, 3]).unwrap();
        assert_eq!(formatted(&dir), Ok(Some(vec![1, 3])));
        assert!(QuorumStore::open(&dir, 1, &Voters::Dynamic(vec![1, 3])).is_ok());
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_snapshot_replaces_the_entries_it_covers_and_survives_a_crash_midway() {
        use rill_core::controller::ControllerRecord;
        use rill_core::protocol::MetadataImage;
        use std::sync::Arc;
        let dir = std::env::temp_dir().join(format!("rill-quorum-snapshot-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let (mut store, mut durable) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1])).unwrap();
        durable.epoch = 1;
        durable.log = (0..5).map(|offset| entry(offset, 1)).collect();
        store.persist(&durable).unwrap();
        let record = ControllerRecord {
            image: Arc::new(MetadataImage::default()),
            broker_epochs: rill_core::collections::VecMap::new(),
            next_broker_epoch: 7,
        };
        let id = SnapshotId { end_offset: 3, epoch: 1 };
        durable.snapshot = Some(Snapshot { id, state: Arc::new(record), voters: Some(vec![1]) });
        durable.log.drain(..3);
        store.persist(&durable).unwrap();
        let metadata = dir.join(METADATA_DIR);
        assert!(metadata.join("00000000000000000003-0000000001.checkpoint").exists());
        let lines = fs::read_to_string(metadata.join("log.jsonl")).unwrap().lines().count();
        assert_eq!(lines, 2, "the covered entries left the log file");
        durable.log.push(entry(5, 1));
        store.persist(&durable).unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1])).unwrap();
        assert_eq!(read, durable);
        assert_eq!((read.start_offset(), read.end_offset()), (3, 6));
        // A crash after the snapshot was written but before the log was rewritten: the log
        // file still starts at 0, and the entries the snapshot covers are skipped.
        let old: Vec<String> = (0..6).map(|offset| serde_json::to_string(&entry(offset, 1)).unwrap()).collect();
        fs::write(metadata.join("log.jsonl"), old.join("\n") + "\n").unwrap();
        let (_, read) = QuorumStore::open(&dir, 1, &Voters::Static(vec![1])).unwrap();
        assert_eq!(read, durable);
        let _ = fs::remove_dir_all(&dir);
    }
}
