//! [`FileStorage`]: one partition's log on disk, implementing `rill_core`'s [`Storage`] trait
//! (and passing its contract suite).
//!
//! A partition is a directory `<log.dirs>/<topic>-<partition>/` of segments named by their
//! base offset, like Kafka's: `00000000000000000000.log` holds frames of
//! `[length u32][CRC-32 of the batch (crc32fast) u32][the batch in Kafka's wire format]`, and
//! `.index` / `.timeindex` hold a sparse offset → position and timestamp → offset index, written
//! when a segment is closed (rolled), after recovery on open, and when the log is closed. Reads use an in-memory index of every batch
//! (base offset, last offset, position, size, max timestamp), rebuilt on open.
//!
//! **Recovery on open**: every segment is scanned; the first frame that is torn (cut short by a
//! crash), fails its CRC or does not decode as a batch ends the log there — the segment file is
//! truncated to it and later segments are deleted. Indexes are rebuilt from what remains.
//! Appends are written through to the OS at once (readable, not durable); `flush` fsyncs the
//! active segment, so the flushed offset is what survives a power loss.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use rill_core::broker::StorageFactory;
use rill_core::protocol::TopicPartition;
use rill_core::record::RecordBatch;
use rill_core::storage::{SegmentInfo, Storage, StorageError};

/// Bytes of frame header before each batch: length and CRC.
const FRAME_HEADER_BYTES: usize = 8;
/// Largest batch a segment file may hold (Kafka's `message.max.bytes` ceiling is far below).
const FRAME_BYTES_MAX: usize = 256 << 20;
/// One sparse index entry per this many bytes of log (Kafka's `index.interval.bytes`).
const INDEX_INTERVAL_BYTES: u64 = 4_096;

fn io_error(context: &str, path: &Path, error: &io::Error) -> StorageError {
    StorageError::Io(format!("{context} {}: {error}", path.display()))
}

#[derive(Clone, Copy, Debug)]
struct BatchEntry {
    base_offset: i64,
    last_offset: i64,
    /// Position of the frame in the segment file.
    position: u64,
    /// Bytes of the batch (without the frame header).
    size: u32,
}

#[derive(Debug)]
struct Segment {
    info: SegmentInfo,
    path: PathBuf,
    file: File,
    batches: Vec<BatchEntry>,
    /// Bytes in the file.
    file_bytes: u64,
}

fn segment_name(base_offset: i64, extension: &str) -> String {
    format!("{base_offset:020}.{extension}")
}

impl Segment {
    fn create(dir: &Path, base_offset: i64) -> Result<Segment, StorageError> {
        let path = dir.join(segment_name(base_offset, "log"));
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| io_error("create", &path, &e))?;
        file.set_len(0).map_err(|e| io_error("truncate", &path, &e))?;
        Ok(Segment { info: SegmentInfo::empty(base_offset), path, file, batches: Vec::new(), file_bytes: 0 })
    }

    /// Opens and recovers a segment file: returns it and whether it was cut short (a torn or
    /// corrupt frame was found and removed).
    fn recover(path: PathBuf, base_offset: i64) -> Result<(Segment, bool), StorageError> {
        let file = OpenOptions::new().read(true).append(true).open(&path).map_err(|e| io_error("open", &path, &e))?;
        let length = file.metadata().map_err(|e| io_error("stat", &path, &e))?.len();
        let mut segment =
            Segment { info: SegmentInfo::empty(base_offset), path, file, batches: Vec::new(), file_bytes: 0 };
        let mut position = 0u64;
        let mut header = [0u8; FRAME_HEADER_BYTES];
        let torn = loop {
            if position == length {
                break false;
            }
            if length - position < FRAME_HEADER_BYTES as u64
                || segment.file.read_exact_at(&mut header, position).is_err()
            {
                break true;
            }
            let size = u32::from_be_bytes(header[0..4].try_into().expect("4 bytes"));
            let crc = u32::from_be_bytes(header[4..8].try_into().expect("4 bytes"));
            let size_usize = usize::try_from(size).unwrap_or(usize::MAX);
            if size_usize > FRAME_BYTES_MAX || length - position - (FRAME_HEADER_BYTES as u64) < u64::from(size) {
                break true;
            }
            let mut data = vec![0u8; size_usize];
            if segment.file.read_exact_at(&mut data, position + FRAME_HEADER_BYTES as u64).is_err()
                || crc32fast::hash(&data) != crc
            {
                break true;
            }
            let bytes = Bytes::from(data);
            let Ok(Some((batch, taken))) = RecordBatch::read_wire(&bytes) else { break true };
            if taken != size_usize || batch.base_offset() < segment.info.next_offset {
                break true;
            }
            segment.push(&batch, position, size);
            position += FRAME_HEADER_BYTES as u64 + u64::from(size);
        };
        if torn {
            segment.file.set_len(position).map_err(|e| io_error("truncate torn tail of", &segment.path, &e))?;
            segment.file.sync_all().map_err(|e| io_error("fsync", &segment.path, &e))?;
        }
        segment.file_bytes = position;
        Ok((segment, torn))
    }

    fn push(&mut self, batch: &RecordBatch, position: u64, size: u32) {
        self.info = self.info.with_batch(batch);
        self.batches.push(BatchEntry {
            base_offset: batch.base_offset(),
            last_offset: batch.last_offset(),
            position,
            size,
        });
    }

    fn append(&mut self, batch: &RecordBatch) -> Result<(), StorageError> {
        let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES + batch.size_bytes());
        frame.extend_from_slice(&[0u8; FRAME_HEADER_BYTES]);
        batch.write_wire(&mut frame);
        let size = u32::try_from(frame.len() - FRAME_HEADER_BYTES)
            .map_err(|_| StorageError::Io(format!("batch of {} bytes is too large", frame.len())))?;
        let crc = crc32fast::hash(&frame[FRAME_HEADER_BYTES..]);
        frame[0..4].copy_from_slice(&size.to_be_bytes());
        frame[4..8].copy_from_slice(&crc.to_be_bytes());
        self.file.write_all(&frame).map_err(|e| io_error("append to", &self.path, &e))?;
        let position = self.file_bytes;
        self.file_bytes += frame.len() as u64;
        self.push(batch, position, size);
        Ok(())
    }

    /// Index of the batch containing `offset` (its last offset ≥ `offset`).
    fn batch_index(&self, offset: i64) -> usize {
        self.batches.partition_point(|entry| entry.last_offset < offset)
    }

    fn read_batches(&self, entries: &[BatchEntry]) -> Result<Vec<RecordBatch>, StorageError> {
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return Ok(Vec::new()) };
        let end = last.position + FRAME_HEADER_BYTES as u64 + u64::from(last.size);
        let mut data = vec![0u8; usize::try_from(end - first.position).expect("bounded by the byte limit")];
        self.file.read_exact_at(&mut data, first.position).map_err(|e| io_error("read", &self.path, &e))?;
        let data = Bytes::from(data);
        let mut batches = Vec::with_capacity(entries.len());
        for entry in entries {
            let at = usize::try_from(entry.position - first.position).expect("within the read") + FRAME_HEADER_BYTES;
            let bytes = data.slice(at..at + entry.size as usize);
            // Validated when appended and again by recovery on open.
            match RecordBatch::read_wire_trusted(&bytes) {
                Ok(Some((batch, _))) => batches.push(batch),
                Ok(None) => {
                    return Err(StorageError::Io(format!(
                        "{}: batch at {} is cut short",
                        self.path.display(),
                        entry.position
                    )))
                }
                Err(error) => return Err(StorageError::Io(format!("{}: {error}", self.path.display()))),
            }
        }
        Ok(batches)
    }

    fn truncate_to_batch(&mut self, index: usize) -> Result<(), StorageError> {
        let position = self.batches.get(index).map_or(self.file_bytes, |entry| entry.position);
        self.file.set_len(position).map_err(|e| io_error("truncate", &self.path, &e))?;
        self.file.sync_all().map_err(|e| io_error("fsync", &self.path, &e))?;
        self.file_bytes = position;
        self.batches.truncate(index);
        self.info = SegmentInfo::empty(self.info.base_offset);
        // Rebuild the info from the kept entries (timestamps need the batches).
        let kept = self.batches.clone();
        let batches = self.read_batches(&kept)?;
        for batch in &batches {
            self.info = self.info.with_batch(batch);
        }
        Ok(())
    }

    /// Writes the sparse `.index` (relative offset u32, position u32) and `.timeindex`
    /// (timestamp i64, relative offset u32) files for this segment.
    fn write_indexes(&self) -> Result<(), StorageError> {
        let mut index = Vec::new();
        let mut time_index = Vec::new();
        let mut last_indexed = None::<u64>;
        let mut max_timestamp = i64::MIN;
        let batches = self.read_batches(&self.batches)?;
        for (entry, batch) in self.batches.iter().zip(&batches) {
            let relative = u32::try_from(entry.base_offset - self.info.base_offset).unwrap_or(u32::MAX);
            if last_indexed.is_none_or(|at| entry.position - at >= INDEX_INTERVAL_BYTES) {
                index.extend_from_slice(&relative.to_be_bytes());
                index.extend_from_slice(&u32::try_from(entry.position).unwrap_or(u32::MAX).to_be_bytes());
                last_indexed = Some(entry.position);
            }
            if batch.max_timestamp_ms() > max_timestamp {
                max_timestamp = batch.max_timestamp_ms();
                time_index.extend_from_slice(&max_timestamp.to_be_bytes());
                time_index.extend_from_slice(&relative.to_be_bytes());
            }
        }
        let dir = self.path.parent().expect("segments live in a directory");
        for (extension, bytes) in [("index", index), ("timeindex", time_index)] {
            let path = dir.join(segment_name(self.info.base_offset, extension));
            fs::write(&path, bytes).map_err(|e| io_error("write", &path, &e))?;
        }
        Ok(())
    }

    fn remove_files(&self) -> Result<(), StorageError> {
        let dir = self.path.parent().expect("segments live in a directory");
        for extension in ["log", "index", "timeindex"] {
            let path = dir.join(segment_name(self.info.base_offset, extension));
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => return Err(io_error("delete", &path, &error)),
            }
        }
        Ok(())
    }
}

/// One partition's log in a directory. See the module doc.
#[derive(Debug)]
pub struct FileStorage {
    dir: PathBuf,
    segments: Vec<Segment>,
    flushed_offset: i64,
    /// Set when the directory could not be opened: every operation reports it.
    failed: Option<String>,
    /// Bytes cut from a torn or corrupt tail when the log was opened.
    recovered_bytes: u64,
    /// The log start offset DeleteRecords raised (kept in `log-start-offset`; 0: the first
    /// segment's base).
    start_floor: i64,
    /// The checkpointed high watermark (kept in `high-watermark-checkpoint`).
    high_watermark_checkpoint: Option<i64>,
}

/// The file that keeps a raised log start offset (Kafka keeps one
/// `log-start-offset-checkpoint` per log directory; Rill one per partition).
const START_FILE: &str = "log-start-offset";

/// The file that keeps the checkpointed high watermark (Kafka's `replication-offset-checkpoint`
/// per log directory; Rill one per partition).
const HIGH_WATERMARK_FILE: &str = "high-watermark-checkpoint";

impl FileStorage {
    /// Opens (creating if needed) and recovers the partition directory `dir`.
    pub fn open(dir: &Path) -> Result<FileStorage, StorageError> {
        fs::create_dir_all(dir).map_err(|e| io_error("create directory", dir, &e))?;
        let mut bases = Vec::new();
        for entry in fs::read_dir(dir).map_err(|e| io_error("list", dir, &e))? {
            let entry = entry.map_err(|e| io_error("list", dir, &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(base) = name.strip_suffix(".log").and_then(|stem| stem.parse::<i64>().ok()) {
                bases.push(base);
            } else if name.ends_with(".cleaned") {
                // A compaction interrupted before its swap: the old segment is intact.
                let _ = fs::remove_file(entry.path());
            }
        }
        bases.sort_unstable();
        let mut storage = FileStorage {
            dir: dir.to_path_buf(),
            segments: Vec::new(),
            flushed_offset: 0,
            failed: None,
            recovered_bytes: 0,
            start_floor: 0,
            high_watermark_checkpoint: None,
        };
        let mut cut = false;
        for base in bases {
            let path = dir.join(segment_name(base, "log"));
            if cut {
                // Everything after a torn or corrupt frame is suspect: Kafka's recovery drops it.
                let length = fs::metadata(&path).map_or(0, |m| m.len());
                storage.recovered_bytes += length;
                let removable = Segment::create(dir, base)?;
                removable.remove_files()?;
                continue;
            }
            let before = fs::metadata(&path).map_or(0, |m| m.len());
            let (segment, torn) = Segment::recover(path, base)?;
            if torn {
                storage.recovered_bytes += before - segment.file_bytes;
                cut = true;
            }
            if let Some(previous) = storage.segments.last() {
                if previous.info.next_offset > base {
                    return Err(StorageError::Io(format!(
                        "{}: segment {base} overlaps the previous one (ends at {})",
                        dir.display(),
                        previous.info.next_offset
                    )));
                }
            }
            storage.segments.push(segment);
        }
        if storage.segments.is_empty() {
            storage.segments.push(Segment::create(dir, 0)?);
        }
        for segment in &storage.segments {
            segment.write_indexes()?;
        }
        sync_dir(dir)?;
        storage.flushed_offset = storage.log_end_offset();
        let start_path = dir.join(START_FILE);
        if let Ok(text) = fs::read_to_string(&start_path) {
            let floor: i64 = text.trim().parse().map_err(|_| {
                StorageError::Io(format!("{}: not a log start offset: {:?}", start_path.display(), text.trim()))
            })?;
            if floor > storage.log_end_offset() {
                // What lay below the start is gone and the rest was lost: start there, empty.
                storage.truncate_fully_and_start_at(floor)?;
            } else {
                storage.start_floor = floor;
            }
        }
        let checkpoint_path = dir.join(HIGH_WATERMARK_FILE);
        if let Ok(text) = fs::read_to_string(&checkpoint_path) {
            let offset: i64 = text.trim().parse().map_err(|_| {
                StorageError::Io(format!("{}: not a high watermark: {:?}", checkpoint_path.display(), text.trim()))
            })?;
            storage.high_watermark_checkpoint = Some(offset);
        }
        Ok(storage)
    }

    fn write_start_floor(&self, floor: i64) -> Result<(), StorageError> {
        crate::quorum_store::write_atomically(&self.dir.join(START_FILE), floor.to_string().as_bytes())
            .map_err(StorageError::Io)?;
        sync_dir(&self.dir)
    }

    /// A storage that reports `error` on every use (its directory could not be opened).
    #[must_use]
    pub fn failed(dir: &Path, error: String) -> FileStorage {
        FileStorage {
            dir: dir.to_path_buf(),
            segments: Vec::new(),
            flushed_offset: 0,
            failed: Some(error),
            recovered_bytes: 0,
            start_floor: 0,
            high_watermark_checkpoint: None,
        }
    }

    /// Bytes recovery removed when this log was opened (a torn or corrupt tail).
    #[must_use]
    pub fn recovered_bytes(&self) -> u64 {
        self.recovered_bytes
    }

    /// The partition directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check(&self) -> Result<(), StorageError> {
        match &self.failed {
            Some(error) => Err(StorageError::Io(error.clone())),
            None => Ok(()),
        }
    }

    fn active(&mut self) -> &mut Segment {
        self.segments.last_mut().expect("there is always an active segment")
    }

    fn out_of_range(&self, offset: i64) -> StorageError {
        StorageError::OffsetOutOfRange {
            offset,
            log_start_offset: self.log_start_offset(),
            log_end_offset: self.log_end_offset(),
        }
    }
}

impl Drop for FileStorage {
    fn drop(&mut self) {
        // Closing: the active segment's indexes (best effort; recovery rebuilds them anyway).
        if self.failed.is_none() {
            if let Some(active) = self.segments.last() {
                let _ = active.write_indexes();
            }
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io_error("fsync directory", dir, &e))
}

impl Storage for FileStorage {
    fn segments(&self) -> Vec<SegmentInfo> {
        if self.failed.is_some() {
            return vec![SegmentInfo::empty(0)];
        }
        self.segments.iter().map(|segment| segment.info).collect()
    }

    fn active_segment(&self) -> SegmentInfo {
        self.segments.last().map_or(SegmentInfo::empty(0), |segment| segment.info)
    }

    fn log_start_offset(&self) -> i64 {
        self.segments.first().map_or(0, |segment| segment.info.base_offset).max(self.start_floor)
    }

    fn log_end_offset(&self) -> i64 {
        self.segments.last().map_or(0, |segment| segment.info.next_offset)
    }

    fn append(&mut self, batch: RecordBatch) -> Result<(), StorageError> {
        self.check()?;
        let expected = self.log_end_offset();
        if batch.base_offset() < expected {
            return Err(StorageError::NonContiguousAppend { expected, actual: batch.base_offset() });
        }
        self.active().append(&batch)
    }

    fn roll(&mut self) -> Result<(), StorageError> {
        self.check()?;
        if self.active_segment().is_empty() {
            return Ok(());
        }
        let base = self.log_end_offset();
        {
            let active = self.active();
            active.file.sync_all().map_err(|e| io_error("fsync", &active.path, &e))?;
            active.write_indexes()?;
        }
        self.flushed_offset = self.flushed_offset.max(base);
        let segment = Segment::create(&self.dir, base)?;
        self.segments.push(segment);
        sync_dir(&self.dir)
    }

    fn read(&self, offset: i64, max_bytes: usize) -> Result<Vec<RecordBatch>, StorageError> {
        self.check()?;
        if offset < self.log_start_offset() || offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        let first_segment = self.segments.partition_point(|segment| segment.info.next_offset <= offset);
        let mut batches = Vec::new();
        let mut total = 0usize;
        for segment in &self.segments[first_segment.min(self.segments.len())..] {
            let start = segment.batch_index(offset);
            let mut take = 0;
            for entry in &segment.batches[start..] {
                let size = entry.size as usize;
                if (!batches.is_empty() || take > 0) && total + size > max_bytes {
                    break;
                }
                total += size;
                take += 1;
            }
            let full = start + take < segment.batches.len();
            batches.extend(segment.read_batches(&segment.batches[start..start + take])?);
            if full || total >= max_bytes {
                break;
            }
        }
        Ok(batches)
    }

    fn truncate_to(&mut self, offset: i64) -> Result<(), StorageError> {
        self.check()?;
        if offset >= self.log_end_offset() {
            return Ok(());
        }
        if offset < self.log_start_offset() {
            return Err(self.out_of_range(offset));
        }
        // Drop whole segments that start at or above the offset (keeping one).
        while self.segments.len() > 1 && self.segments.last().is_some_and(|s| s.info.base_offset >= offset) {
            let segment = self.segments.pop().expect("checked above");
            segment.remove_files()?;
        }
        let active = self.active();
        let index = active.batch_index(offset);
        active.truncate_to_batch(index)?;
        self.flushed_offset = self.flushed_offset.min(self.log_end_offset());
        sync_dir(&self.dir)
    }

    fn delete_segments_below(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError> {
        self.check()?;
        let mut deleted = Vec::new();
        while self.segments.len() > 1 && self.segments[0].info.next_offset <= offset {
            let segment = self.segments.remove(0);
            segment.remove_files()?;
            deleted.push(segment.info);
        }
        if !deleted.is_empty() {
            sync_dir(&self.dir)?;
        }
        self.flushed_offset = self.flushed_offset.max(self.log_start_offset());
        Ok(deleted)
    }

    fn replace_segment(&mut self, base_offset: i64, batches: Vec<RecordBatch>) -> Result<(), StorageError> {
        self.check()?;
        let Some(index) = self.segments.iter().position(|s| s.info.base_offset == base_offset) else {
            return Err(StorageError::Io(format!("no segment starts at {base_offset}")));
        };
        if index + 1 == self.segments.len() {
            return Err(StorageError::Io("the active segment cannot be replaced".to_owned()));
        }
        let next_offset = self.segments[index].info.next_offset;
        let mut previous = base_offset;
        for batch in &batches {
            if batch.base_offset() < previous || batch.last_offset() >= next_offset {
                return Err(StorageError::Io(format!(
                    "replacement batches must lie within [{base_offset}, {next_offset}) in order"
                )));
            }
            previous = batch.next_offset();
        }
        let cleaned = self.dir.join(format!("{}.cleaned", segment_name(base_offset, "log")));
        let mut bytes = Vec::new();
        for batch in &batches {
            let wire = batch.to_wire();
            bytes.extend_from_slice(&u32::try_from(wire.len()).unwrap_or(u32::MAX).to_be_bytes());
            bytes.extend_from_slice(&crc32fast::hash(&wire).to_be_bytes());
            bytes.extend_from_slice(&wire);
        }
        let mut file = File::create(&cleaned).map_err(|e| io_error("create", &cleaned, &e))?;
        file.write_all(&bytes).and_then(|()| file.sync_all()).map_err(|e| io_error("write", &cleaned, &e))?;
        let path = self.segments[index].path.clone();
        fs::rename(&cleaned, &path).map_err(|e| io_error("swap in", &path, &e))?;
        sync_dir(&self.dir)?;
        let (mut segment, torn) = Segment::recover(path, base_offset)?;
        if torn {
            return Err(StorageError::Io(format!(
                "{}: the cleaned segment does not read back",
                segment.path.display()
            )));
        }
        // The segment keeps its offset range even when compaction emptied its tail.
        segment.info.next_offset = next_offset;
        segment.write_indexes()?;
        self.segments[index] = segment;
        Ok(())
    }

    fn advance_log_start(&mut self, offset: i64) -> Result<Vec<SegmentInfo>, StorageError> {
        self.check()?;
        if offset > self.log_end_offset() {
            return Err(self.out_of_range(offset));
        }
        if offset <= self.log_start_offset() {
            return Ok(Vec::new());
        }
        // The start first: a crash between the two leaves segments below it, never a start
        // that was not recorded.
        self.write_start_floor(offset)?;
        self.start_floor = offset;
        let deleted = self.delete_segments_below(offset)?;
        self.flushed_offset = self.flushed_offset.max(offset);
        Ok(deleted)
    }

    fn truncate_fully_and_start_at(&mut self, offset: i64) -> Result<(), StorageError> {
        self.check()?;
        for segment in self.segments.drain(..) {
            segment.remove_files()?;
        }
        self.segments.push(Segment::create(&self.dir, offset)?);
        self.flushed_offset = offset;
        if self.start_floor > 0 {
            self.start_floor = offset;
            self.write_start_floor(offset)?;
        }
        sync_dir(&self.dir)
    }

    fn flush(&mut self) -> Result<(), StorageError> {
        self.check()?;
        let active = self.active();
        active.file.sync_data().map_err(|e| io_error("fsync", &active.path, &e))?;
        self.flushed_offset = self.log_end_offset();
        Ok(())
    }

    fn flushed_offset(&self) -> i64 {
        self.flushed_offset
    }

    fn checkpoint_high_watermark(&mut self, offset: i64) -> Result<(), StorageError> {
        self.check()?;
        if self.high_watermark_checkpoint == Some(offset) {
            return Ok(());
        }
        crate::quorum_store::write_atomically(&self.dir.join(HIGH_WATERMARK_FILE), offset.to_string().as_bytes())
            .map_err(StorageError::Io)?;
        sync_dir(&self.dir)?;
        self.high_watermark_checkpoint = Some(offset);
        Ok(())
    }

    fn high_watermark_checkpoint(&self) -> i64 {
        self.high_watermark_checkpoint.unwrap_or(0).max(self.log_start_offset())
    }
}

/// Opens each partition's directory under `log.dirs`.
#[derive(Debug)]
pub struct FileStorageFactory {
    log_dir: PathBuf,
}

impl FileStorageFactory {
    /// Partitions under `log_dir`.
    #[must_use]
    pub fn new(log_dir: PathBuf) -> FileStorageFactory {
        FileStorageFactory { log_dir }
    }
}

impl StorageFactory for FileStorageFactory {
    type Storage = FileStorage;

    fn open(&mut self, tp: &TopicPartition) -> FileStorage {
        let dir = self.log_dir.join(format!("{}-{}", tp.topic, tp.partition));
        match FileStorage::open(&dir) {
            Ok(storage) => {
                if storage.recovered_bytes() > 0 {
                    tracing::warn!(partition = %tp, bytes = storage.recovered_bytes(), "recovery truncated a torn or corrupt log tail");
                }
                storage
            }
            Err(error) => {
                tracing::error!(partition = %tp, %error, "cannot open the partition's log");
                FileStorage::failed(&dir, error.to_string())
            }
        }
    }

    fn delete(&mut self, tp: &TopicPartition, storage: FileStorage) {
        let dir = storage.dir().to_path_buf();
        drop(storage);
        // Like Kafka: rename out of the way first, so a crash mid-delete leaves no half log.
        let doomed = dir.with_file_name(format!("{}-{}.deleted", tp.topic, tp.partition));
        let removed = std::fs::rename(&dir, &doomed).and_then(|()| std::fs::remove_dir_all(&doomed));
        match removed {
            Ok(()) => tracing::info!(partition = %tp, "deleted the partition's log"),
            Err(error) => tracing::error!(partition = %tp, %error, "could not delete the partition's log"),
        }
    }
}
