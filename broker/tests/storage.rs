//! `FileStorage` on real files: the core's storage contract suite, and recovery from torn or
//! corrupt tails (a crash mid-write, a flipped bit), which must truncate, never panic.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use rill_broker::storage::FileStorage;
use rill_core::storage::contract::{self, Harness};
use rill_core::storage::Storage;

struct FileHarness {
    root: tempfile::TempDir,
    next: u32,
}

impl FileHarness {
    fn dir(&mut self) -> PathBuf {
        self.next += 1;
        self.root.path().join(format!("t-{}", self.next))
    }
}

impl Harness for FileHarness {
    type Storage = FileStorage;

    fn fresh(&mut self) -> FileStorage {
        let dir = self.dir();
        FileStorage::open(&dir).expect("open a fresh directory")
    }

    fn crash_and_recover(&mut self, storage: FileStorage) -> FileStorage {
        // No flush: the process dies; what the OS has is what recovery finds.
        let dir = storage.dir().to_path_buf();
        drop(storage);
        FileStorage::open(&dir).expect("recover")
    }

    fn reopen(&mut self, mut storage: FileStorage) -> FileStorage {
        storage.flush().expect("flush");
        let dir = storage.dir().to_path_buf();
        drop(storage);
        FileStorage::open(&dir).expect("reopen")
    }
}

#[test]
fn file_storage_passes_the_contract() {
    let mut harness = FileHarness { root: tempfile::tempdir().unwrap(), next: 0 };
    contract::run_all(&mut harness);
}

fn segment_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn log_with_two_segments(dir: &Path) -> FileStorage {
    let mut storage = FileStorage::open(dir).unwrap();
    contract::append_batches(&mut storage, &[3, 2], 0);
    storage.roll().unwrap();
    contract::append_batches(&mut storage, &[4, 1, 5], 0);
    storage.flush().unwrap();
    assert_eq!(storage.log_end_offset(), 15);
    storage
}

#[test]
fn segments_are_named_by_base_offset_with_indexes() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("orders-0");
    drop(log_with_two_segments(&dir));
    assert_eq!(
        segment_files(&dir),
        [
            "00000000000000000000.index",
            "00000000000000000000.log",
            "00000000000000000000.timeindex",
            "00000000000000000005.index",
            "00000000000000000005.log",
            "00000000000000000005.timeindex",
        ]
    );
    let storage = FileStorage::open(&dir).unwrap();
    assert_eq!(storage.segments().len(), 2);
    assert_eq!(storage.log_end_offset(), 15);
    assert_eq!(storage.recovered_bytes(), 0);
}

#[test]
fn a_torn_last_batch_is_truncated_on_start() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("orders-0");
    drop(log_with_two_segments(&dir));
    let active = dir.join("00000000000000000005.log");
    let length = fs::metadata(&active).unwrap().len();
    // A crash in the middle of writing the last batch: its last 20 bytes never made it.
    OpenOptions::new().write(true).open(&active).unwrap().set_len(length - 20).unwrap();
    let storage = FileStorage::open(&dir).unwrap();
    assert_eq!(storage.log_end_offset(), 10, "the torn batch [10, 15) is gone, the rest stays");
    assert!(storage.recovered_bytes() > 0);
    let batches = storage.read(5, usize::MAX).unwrap();
    assert_eq!(batches.iter().map(|b| (b.base_offset(), b.record_count())).collect::<Vec<_>>(), [(5, 4), (9, 1)]);
    // And it keeps working: appends continue at the recovered end.
    let mut storage = storage;
    contract::append_batches(&mut storage, &[2], 0);
    assert_eq!(storage.log_end_offset(), 12);
}

#[test]
fn garbage_after_the_last_batch_and_a_flipped_bit_are_cut_off() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("orders-0");
    drop(log_with_two_segments(&dir));
    let active = dir.join("00000000000000000005.log");
    OpenOptions::new().append(true).open(&active).unwrap().write_all(&[0xff; 37]).unwrap();
    let storage = FileStorage::open(&dir).unwrap();
    assert_eq!(storage.log_end_offset(), 15, "garbage after whole batches is dropped");
    assert_eq!(storage.recovered_bytes(), 37);
    drop(storage);
    // Flip a bit inside the first segment's second batch: the log ends before it, and the
    // later segment (which follows corrupt data) is dropped, as Kafka's recovery does.
    let first = dir.join("00000000000000000000.log");
    let mut bytes = fs::read(&first).unwrap();
    let flip = bytes.len() - 10;
    bytes[flip] ^= 0x01;
    fs::write(&first, bytes).unwrap();
    let storage = FileStorage::open(&dir).unwrap();
    assert_eq!(storage.log_end_offset(), 3);
    assert_eq!(storage.segments().len(), 1);
    assert!(!dir.join("00000000000000000005.log").exists());
}

#[test]
fn random_damage_never_panics() {
    let root = tempfile::tempdir().unwrap();
    let mut rng = rill_core::rng::Rng::from_seed(7);
    for round in 0..40 {
        let dir = root.path().join(format!("p-{round}"));
        drop(log_with_two_segments(&dir));
        let target = dir.join(if round % 2 == 0 { "00000000000000000000.log" } else { "00000000000000000005.log" });
        let mut bytes = fs::read(&target).unwrap();
        for _ in 0..1 + rng.below(4) {
            let at = usize::try_from(rng.below(bytes.len() as u64)).unwrap();
            bytes[at] = u8::try_from(rng.below(256)).unwrap();
        }
        if rng.below(2) == 0 {
            bytes.truncate(usize::try_from(rng.below(bytes.len() as u64)).unwrap());
        }
        fs::write(&target, bytes).unwrap();
        let storage = FileStorage::open(&dir).unwrap();
        assert!(storage.log_end_offset() <= 15);
        let batches = storage.read(storage.log_start_offset(), usize::MAX).unwrap();
        let mut next = storage.log_start_offset();
        for batch in batches {
            assert_eq!(batch.base_offset(), next, "round {round}: what remains is a clean prefix");
            next = batch.next_offset();
        }
    }
}
