//! Records and record batches.
//!
//! A [`RecordBatch`] mirrors Kafka's record batch v2 (`DefaultRecordBatch`): a header (base
//! offset, partition leader epoch, producer id / epoch / base sequence, timestamps, record count,
//! CRC) and the records encoded exactly as Kafka encodes them (zig-zag varints, key, value,
//! headers). Records stay encoded in a shared [`Bytes`] buffer, so appending, replicating and
//! reading a batch never copies or re-parses its records.
//!
//! The CRC is Kafka's: CRC-32C over everything from the attributes to the end of the records,
//! so the leader can stamp `base_offset` and `partition_leader_epoch` without recomputing it,
//! and a batch is byte-for-byte what Kafka clients send and expect ([`RecordBatch::write_wire`],
//! [`RecordBatch::read_wire`]).

use bytes::Bytes;

use crate::compression::{self, Codec};

mod encoding;
use crate::error::{Error, ErrorCode, Result};
pub use encoding::RecordIter;

/// The record batch format version Rill reads and writes (Kafka's current "magic" byte).
pub const MAGIC: u8 = 2;
/// Bytes of batch header Kafka counts before the records (`RECORD_BATCH_OVERHEAD`).
pub const BATCH_OVERHEAD_BYTES: usize = 61;
/// The most records one batch may hold (a limit on everything: TIGER_STYLE).
pub const RECORDS_PER_BATCH_MAX: usize = 1 << 20;
/// "No producer id": the value for batches from non-idempotent producers.
pub const NO_PRODUCER_ID: i64 = -1;
/// "No producer epoch".
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// "No sequence".
pub const NO_SEQUENCE: i32 = -1;
/// "No partition leader epoch" (before the leader stamps the batch).
pub const NO_PARTITION_LEADER_EPOCH: i32 = -1;

/// A record header: a string key and an optional byte value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// Header key (UTF-8).
    pub key: String,
    /// Header value; `None` is Kafka's null.
    pub value: Option<Bytes>,
}

/// One record as a producer sends it and a consumer reads it.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Record {
    /// Key (`None` = null key, which the partitioner treats specially).
    pub key: Option<Bytes>,
    /// Value (`None` = null value, a tombstone under compaction).
    pub value: Option<Bytes>,
    /// Create time in milliseconds since the epoch, as given by the producer.
    pub timestamp_ms: i64,
    /// Headers, in order.
    pub headers: Vec<Header>,
}

impl Record {
    /// A record with a key and a value and no headers.
    #[must_use]
    pub fn new(key: Option<&[u8]>, value: Option<&[u8]>, timestamp_ms: i64) -> Record {
        Record {
            key: key.map(Bytes::copy_from_slice),
            value: value.map(Bytes::copy_from_slice),
            timestamp_ms,
            headers: Vec::new(),
        }
    }
}

/// A record read back from a batch, with the offset the log assigned it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetRecord {
    /// The record's offset in its partition.
    pub offset: i64,
    /// The record.
    pub record: Record,
}

/// Header fields of a batch that the producer sets and the CRC covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerInfo {
    /// Producer id from InitProducerId, or [`NO_PRODUCER_ID`].
    pub producer_id: i64,
    /// Producer epoch, or [`NO_PRODUCER_EPOCH`].
    pub producer_epoch: i16,
    /// Sequence number of the first record, or [`NO_SEQUENCE`].
    pub base_sequence: i32,
}

impl Default for ProducerInfo {
    fn default() -> ProducerInfo {
        ProducerInfo { producer_id: NO_PRODUCER_ID, producer_epoch: NO_PRODUCER_EPOCH, base_sequence: NO_SEQUENCE }
    }
}

/// A batch of records (Kafka record batch v2; the records may be compressed, see [`Codec`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordBatch {
    base_offset: i64,
    partition_leader_epoch: i32,
    attributes: i16,
    last_offset_delta: i32,
    base_timestamp_ms: i64,
    max_timestamp_ms: i64,
    producer: ProducerInfo,
    record_count: i32,
    crc: u32,
    records: Bytes,
}

/// The header of a batch as stored or sent, for rebuilding a [`RecordBatch`] from bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record.
    pub base_offset: i64,
    /// Epoch of the leader that appended the batch.
    pub partition_leader_epoch: i32,
    /// Kafka attributes (bits 0–2 codec, 3 timestamp type, 4 transactional, 5 control).
    pub attributes: i16,
    /// Offset of the last record minus the base offset.
    pub last_offset_delta: i32,
    /// Timestamp of the first record.
    pub base_timestamp_ms: i64,
    /// Largest record timestamp.
    pub max_timestamp_ms: i64,
    /// Producer id, epoch and base sequence.
    pub producer: ProducerInfo,
    /// Number of records.
    pub record_count: i32,
    /// Checksum over attributes..end of records.
    pub crc: u32,
}

impl RecordBatch {
    /// Rebuilds a batch from a header and encoded records, checking the CRC and the framing of
    /// every record. Bad input gives `CORRUPT_MESSAGE`, never a panic.
    pub fn from_parts(header: BatchHeader, records: Bytes) -> Result<RecordBatch> {
        let batch = RecordBatch::from_parts_unchecked(header, records);
        batch.validate()?;
        Ok(batch)
    }

    fn from_parts_unchecked(header: BatchHeader, records: Bytes) -> RecordBatch {
        RecordBatch {
            base_offset: header.base_offset,
            partition_leader_epoch: header.partition_leader_epoch,
            attributes: header.attributes,
            last_offset_delta: header.last_offset_delta,
            base_timestamp_ms: header.base_timestamp_ms,
            max_timestamp_ms: header.max_timestamp_ms,
            producer: header.producer,
            record_count: header.record_count,
            crc: header.crc,
            records,
        }
    }

    /// The header fields.
    #[must_use]
    pub fn header(&self) -> BatchHeader {
        BatchHeader {
            base_offset: self.base_offset,
            partition_leader_epoch: self.partition_leader_epoch,
            attributes: self.attributes,
            last_offset_delta: self.last_offset_delta,
            base_timestamp_ms: self.base_timestamp_ms,
            max_timestamp_ms: self.max_timestamp_ms,
            producer: self.producer,
            record_count: self.record_count,
            crc: self.crc,
        }
    }

    /// Offset of the first record.
    #[must_use]
    pub fn base_offset(&self) -> i64 {
        self.base_offset
    }

    /// Offset of the last record.
    #[must_use]
    pub fn last_offset(&self) -> i64 {
        self.base_offset + i64::from(self.last_offset_delta)
    }

    /// Offset after the last record.
    #[must_use]
    pub fn next_offset(&self) -> i64 {
        self.last_offset() + 1
    }

    /// Epoch of the leader that appended this batch (KIP-101).
    #[must_use]
    pub fn partition_leader_epoch(&self) -> i32 {
        self.partition_leader_epoch
    }

    /// Number of records.
    #[must_use]
    pub fn record_count(&self) -> i32 {
        self.record_count
    }

    /// Timestamp of the first record.
    #[must_use]
    pub fn base_timestamp_ms(&self) -> i64 {
        self.base_timestamp_ms
    }

    /// Largest record timestamp in the batch.
    #[must_use]
    pub fn max_timestamp_ms(&self) -> i64 {
        self.max_timestamp_ms
    }

    /// Producer id, epoch and base sequence.
    #[must_use]
    pub fn producer(&self) -> ProducerInfo {
        self.producer
    }

    /// The stored checksum.
    #[must_use]
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// Kafka attributes.
    #[must_use]
    pub fn attributes(&self) -> i16 {
        self.attributes
    }

    /// The encoded records (Kafka's v2 record format).
    #[must_use]
    pub fn records_bytes(&self) -> &Bytes {
        &self.records
    }

    /// Size as Kafka counts it: header overhead plus encoded records.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        BATCH_OVERHEAD_BYTES + self.records.len()
    }

    /// Stamps the offsets and leader epoch, as the leader does on append. The CRC does not
    /// cover these fields, so it stays valid.
    pub fn assign(&mut self, base_offset: i64, partition_leader_epoch: i32) {
        assert!(base_offset >= 0, "offsets are never negative");
        self.base_offset = base_offset;
        self.partition_leader_epoch = partition_leader_epoch;
    }

    /// The checksum the header and records should have.
    #[must_use]
    pub fn compute_crc(&self) -> u32 {
        // The header fields in Kafka's order, big-endian, then the records: CRC-32C like Kafka.
        let mut header = [0u8; 40];
        header[0..2].copy_from_slice(&self.attributes.to_be_bytes());
        header[2..6].copy_from_slice(&self.last_offset_delta.to_be_bytes());
        header[6..14].copy_from_slice(&self.base_timestamp_ms.to_be_bytes());
        header[14..22].copy_from_slice(&self.max_timestamp_ms.to_be_bytes());
        header[22..30].copy_from_slice(&self.producer.producer_id.to_be_bytes());
        header[30..32].copy_from_slice(&self.producer.producer_epoch.to_be_bytes());
        header[32..36].copy_from_slice(&self.producer.base_sequence.to_be_bytes());
        header[36..40].copy_from_slice(&self.record_count.to_be_bytes());
        crc32c::crc32c_append(crc32c::crc32c(&header), &self.records)
    }

    /// Appends the batch in Kafka's wire and log format (magic 2): base offset, batch length,
    /// partition leader epoch, magic, CRC-32C, attributes, last offset delta, timestamps,
    /// producer id / epoch / base sequence, record count, records — all big-endian.
    pub fn write_wire(&self, out: &mut Vec<u8>) {
        let batch_length = i32::try_from(BATCH_OVERHEAD_BYTES - 12 + self.records.len()).expect("batches are bounded");
        out.reserve(BATCH_OVERHEAD_BYTES + self.records.len());
        out.extend_from_slice(&self.base_offset.to_be_bytes());
        out.extend_from_slice(&batch_length.to_be_bytes());
        out.extend_from_slice(&self.partition_leader_epoch.to_be_bytes());
        out.push(MAGIC);
        out.extend_from_slice(&self.crc.to_be_bytes());
        out.extend_from_slice(&self.attributes.to_be_bytes());
        out.extend_from_slice(&self.last_offset_delta.to_be_bytes());
        out.extend_from_slice(&self.base_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.max_timestamp_ms.to_be_bytes());
        out.extend_from_slice(&self.producer.producer_id.to_be_bytes());
        out.extend_from_slice(&self.producer.producer_epoch.to_be_bytes());
        out.extend_from_slice(&self.producer.base_sequence.to_be_bytes());
        out.extend_from_slice(&self.record_count.to_be_bytes());
        out.extend_from_slice(&self.records);
    }

    /// The batch in wire format, as one buffer.
    #[must_use]
    pub fn to_wire(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_wire(&mut out);
        out
    }

    /// Decodes exactly one whole batch in wire format (CRC and framing checked).
    pub fn from_wire(bytes: Bytes) -> Result<RecordBatch> {
        match RecordBatch::read_wire(&bytes)? {
            Some((batch, used)) if used == bytes.len() => Ok(batch),
            _ => Err(Error::new(ErrorCode::CorruptMessage, "not exactly one record batch")),
        }
    }

    /// Decodes the batch at the front of `bytes` (Kafka's wire format, magic 2), checking its
    /// length, magic, CRC-32C and record framing; returns it and the bytes it took. The
    /// records are shared with `bytes`, not copied. `Ok(None)` when `bytes` holds only part of
    /// a batch (Kafka may end a fetch response with one). Bad input is `CORRUPT_MESSAGE` (or
    /// `UNSUPPORTED_COMPRESSION_TYPE`), never a panic.
    pub fn read_wire(bytes: &Bytes) -> Result<Option<(RecordBatch, usize)>> {
        RecordBatch::read_wire_inner(bytes, true)
    }

    /// [`RecordBatch::read_wire`] for bytes this process validated before (its own log,
    /// checked when appended and on recovery): checks lengths and magic but not the CRC and
    /// record framing again.
    pub fn read_wire_trusted(bytes: &Bytes) -> Result<Option<(RecordBatch, usize)>> {
        RecordBatch::read_wire_inner(bytes, false)
    }

    fn read_wire_inner(bytes: &Bytes, validate: bool) -> Result<Option<(RecordBatch, usize)>> {
        let corrupt = |why: String| Err(Error::new(ErrorCode::CorruptMessage, why));
        if bytes.len() < 12 {
            return Ok(None);
        }
        let be_i64 = |at: usize| i64::from_be_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let be_i32 = |at: usize| i32::from_be_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let be_i16 = |at: usize| i16::from_be_bytes(bytes[at..at + 2].try_into().expect("2 bytes"));
        let batch_length = be_i32(8);
        let Ok(length) = usize::try_from(batch_length) else {
            return corrupt(format!("negative batch length {batch_length}"));
        };
        if length < BATCH_OVERHEAD_BYTES - 12 {
            return corrupt(format!("batch length {length} is shorter than a batch header"));
        }
        let total = length + 12;
        if bytes.len() < total {
            return Ok(None);
        }
        if bytes[16] != MAGIC {
            return Err(Error::new(
                ErrorCode::UnsupportedVersion,
                format!("record batch magic {} is not supported (only 2)", bytes[16]),
            ));
        }
        let header = BatchHeader {
            base_offset: be_i64(0),
            partition_leader_epoch: be_i32(12),
            crc: u32::from_be_bytes(bytes[17..21].try_into().expect("4 bytes")),
            attributes: be_i16(21),
            last_offset_delta: be_i32(23),
            base_timestamp_ms: be_i64(27),
            max_timestamp_ms: be_i64(35),
            producer: ProducerInfo { producer_id: be_i64(43), producer_epoch: be_i16(51), base_sequence: be_i32(53) },
            record_count: be_i32(57),
        };
        let records = bytes.slice(BATCH_OVERHEAD_BYTES..total);
        let batch = if validate {
            RecordBatch::from_parts(header, records)?
        } else {
            RecordBatch::from_parts_unchecked(header, records)
        };
        Ok(Some((batch, total)))
    }

    /// Frames a produce request's `records` into batches (lengths and magic checked, not the
    /// CRC and records: the log's append validates each batch once, as Kafka's `LogValidator`
    /// does). Bytes left over after the last whole batch are `CORRUPT_MESSAGE`: a produce
    /// request never ends with part of a batch.
    pub fn frame_wire_all(bytes: &Bytes) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        let mut rest = bytes.clone();
        while let Some((batch, taken)) = RecordBatch::read_wire_trusted(&rest)? {
            batches.push(batch);
            rest = rest.slice(taken..);
        }
        if !rest.is_empty() {
            return Err(Error::new(
                ErrorCode::CorruptMessage,
                format!("{} bytes after the last whole batch", rest.len()),
            ));
        }
        Ok(batches)
    }

    /// Decodes every whole batch in a Kafka `records` field, in order; a partial batch at the
    /// end is ignored (see [`RecordBatch::read_wire`]).
    pub fn read_wire_all(bytes: &Bytes) -> Result<Vec<RecordBatch>> {
        let mut batches = Vec::new();
        let mut rest = bytes.clone();
        while let Some((batch, taken)) = RecordBatch::read_wire(&rest)? {
            batches.push(batch);
            rest = rest.slice(taken..);
        }
        Ok(batches)
    }

    /// Checks the CRC, the header, and every record's fields (decompressing first).
    pub fn validate(&self) -> Result<()> {
        let corrupt = |why: String| Err(Error::new(ErrorCode::CorruptMessage, why));
        if self.record_count < 1 {
            return corrupt(format!("batch has {} records", self.record_count));
        }
        if usize::try_from(self.record_count).map_or(true, |n| n > RECORDS_PER_BATCH_MAX) {
            return corrupt(format!(
                "batch has {} records, more than the limit {RECORDS_PER_BATCH_MAX}",
                self.record_count
            ));
        }
        // Compaction leaves gaps, so a batch may span more offsets than it holds records.
        if self.last_offset_delta < self.record_count - 1 {
            return corrupt(format!(
                "last offset delta {} is too small for {} records",
                self.last_offset_delta, self.record_count
            ));
        }
        if self.base_offset < 0 {
            return corrupt(format!("negative base offset {}", self.base_offset));
        }
        let actual = self.compute_crc();
        if actual != self.crc {
            return corrupt(format!(
                "CRC mismatch at base offset {}: stored {:#010x}, computed {actual:#010x}",
                self.base_offset, self.crc
            ));
        }
        let records = self.decompressed_records()?;
        let count = encoding::check_records(&records, self.record_count)?;
        if count != self.record_count {
            return corrupt(format!("batch says {} records but holds {count}", self.record_count));
        }
        Ok(())
    }

    /// The batch's codec (attribute bits 0–2).
    pub fn codec(&self) -> Result<Codec> {
        Codec::from_attributes(self.attributes)
    }

    /// The records' bytes, decompressed (bounded) when the batch is compressed; shared, not
    /// copied, when it is not.
    pub fn decompressed_records(&self) -> Result<Bytes> {
        match self.codec()? {
            Codec::None => Ok(self.records.clone()),
            codec => compression::decompress(codec, &self.records).map(Bytes::from),
        }
    }

    /// The same records compressed with `codec` (a topic's `compression.type` other than
    /// `producer`): the header stays, the CRC is computed again.
    pub fn with_codec(&self, codec: Codec) -> Result<RecordBatch> {
        if self.codec()? == codec {
            return Ok(self.clone());
        }
        let plain = self.decompressed_records()?;
        let records = Bytes::from(compression::compress(codec, &plain)?);
        let attributes = (self.attributes & !0x07) | codec.id();
        let mut batch = RecordBatch { attributes, records, crc: 0, ..self.clone() };
        batch.crc = batch.compute_crc();
        Ok(batch)
    }

    /// Decodes the records with their offsets (decompressing a compressed batch first; a
    /// batch that does not decompress yields one error).
    #[must_use]
    pub fn records(&self) -> RecordIter<'_> {
        RecordIter::new(self, self.decompressed_records())
    }

    /// The batch with only the records `keep` accepts (log compaction), keeping their offsets
    /// and timestamps, the batch's offset span and producer fields (as Kafka's cleaner does);
    /// `None` when no record is kept or a record does not decode.
    #[must_use]
    pub fn retain_records(&self, mut keep: impl FnMut(&OffsetRecord) -> bool) -> Option<RecordBatch> {
        let mut buffer = Vec::new();
        let mut scratch = Vec::new();
        let mut count = 0i32;
        let mut max_timestamp_ms = i64::MIN;
        for record in self.records() {
            let record = record.ok()?;
            if !keep(&record) {
                continue;
            }
            let offset_delta = i32::try_from(record.offset - self.base_offset).ok()?;
            encoding::encode_record(&mut buffer, &mut scratch, &record.record, self.base_timestamp_ms, offset_delta);
            max_timestamp_ms = max_timestamp_ms.max(record.record.timestamp_ms);
            count += 1;
        }
        if count == 0 {
            return None;
        }
        // Compaction keeps the batch's codec (Kafka's cleaner compresses what it keeps again).
        let records = match self.codec().ok()? {
            Codec::None => Bytes::from(buffer),
            codec => Bytes::from(compression::compress(codec, &buffer).ok()?),
        };
        let mut batch = RecordBatch { record_count: count, max_timestamp_ms, records, crc: 0, ..self.clone() };
        batch.crc = batch.compute_crc();
        debug_assert!(batch.validate().is_ok());
        Some(batch)
    }
}

/// Builds a [`RecordBatch`] from records, encoding them as Kafka does.
#[derive(Debug)]
pub struct BatchBuilder {
    buffer: Vec<u8>,
    scratch: Vec<u8>,
    base_timestamp_ms: Option<i64>,
    max_timestamp_ms: i64,
    record_count: i32,
    producer: ProducerInfo,
}

impl Default for BatchBuilder {
    fn default() -> Self {
        BatchBuilder::new()
    }
}

impl BatchBuilder {
    /// An empty builder for a non-idempotent producer.
    #[must_use]
    pub fn new() -> BatchBuilder {
        BatchBuilder {
            buffer: Vec::new(),
            scratch: Vec::new(),
            base_timestamp_ms: None,
            max_timestamp_ms: i64::MIN,
            record_count: 0,
            producer: ProducerInfo::default(),
        }
    }

    /// Sets the producer id, epoch and base sequence (idempotent producers).
    #[must_use]
    pub fn producer(mut self, producer: ProducerInfo) -> BatchBuilder {
        self.producer = producer;
        self
    }

    /// Number of records pushed so far.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::try_from(self.record_count).expect("record count is never negative")
    }

    /// `true` before the first push.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.record_count == 0
    }

    /// Size the batch would have now.
    #[must_use]
    pub fn size_bytes(&self) -> usize {
        BATCH_OVERHEAD_BYTES + self.buffer.len()
    }

    /// Appends a record. Panics past [`RECORDS_PER_BATCH_MAX`] records (a programming error).
    pub fn push(&mut self, record: &Record) -> &mut BatchBuilder {
        assert!(self.len() < RECORDS_PER_BATCH_MAX, "batch is full");
        let base_timestamp_ms = *self.base_timestamp_ms.get_or_insert(record.timestamp_ms);
        self.max_timestamp_ms = self.max_timestamp_ms.max(record.timestamp_ms);
        encoding::encode_record(&mut self.buffer, &mut self.scratch, record, base_timestamp_ms, self.record_count);
        self.record_count += 1;
        self
    }

    /// Finishes the batch (base offset 0, no leader epoch yet). Panics if empty.
    #[must_use]
    pub fn build(self) -> RecordBatch {
        assert!(self.record_count > 0, "a batch needs at least one record");
        let mut batch = RecordBatch {
            base_offset: 0,
            partition_leader_epoch: NO_PARTITION_LEADER_EPOCH,
            attributes: 0,
            last_offset_delta: self.record_count - 1,
            base_timestamp_ms: self.base_timestamp_ms.unwrap_or(0),
            max_timestamp_ms: self.max_timestamp_ms,
            producer: self.producer,
            record_count: self.record_count,
            crc: 0,
            records: Bytes::from(self.buffer),
        };
        batch.crc = batch.compute_crc();
        debug_assert!(batch.validate().is_ok());
        batch
    }

    /// Convenience: one batch holding `records`.
    #[must_use]
    pub fn from_records(records: &[Record]) -> RecordBatch {
        let mut builder = BatchBuilder::new();
        for record in records {
            builder.push(record);
        }
        builder.build()
    }
}

/// A batch's serde form is its bytes in Kafka's wire format (checked when read back).
impl serde::Serialize for RecordBatch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for RecordBatch {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<RecordBatch, D::Error> {
        let bytes = Bytes::deserialize(deserializer)?;
        RecordBatch::from_wire(bytes).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_format_round_trips_and_rejects_bad_bytes() {
        let mut first = BatchBuilder::from_records(&sample());
        first.assign(100, 7);
        let second = BatchBuilder::from_records(&[Record::new(Some(b"k"), Some(b"v"), 5)]);
        let mut wire = first.to_wire();
        assert_eq!(wire.len(), first.size_bytes());
        second.write_wire(&mut wire);
        let bytes = Bytes::from(wire.clone());
        let batches = RecordBatch::read_wire_all(&bytes).unwrap();
        assert_eq!(batches, vec![first.clone(), second.clone()]);
        // Kafka's layout: length after the length field, magic 2 at byte 16, CRC-32C at 17.
        assert_eq!(i32::from_be_bytes(wire[8..12].try_into().unwrap()) as usize, first.size_bytes() - 12);
        assert_eq!(wire[16], 2);
        assert_eq!(u32::from_be_bytes(wire[17..21].try_into().unwrap()), crc32c::crc32c(&wire[21..first.size_bytes()]));
        // A partial batch at the end (as in a fetch response) is left alone.
        let partial = Bytes::from(wire[..wire.len() - 3].to_vec());
        assert_eq!(RecordBatch::read_wire_all(&partial).unwrap(), vec![first.clone()]);
        // A flipped byte fails the CRC; a wrong magic is refused; garbage never panics.
        let mut flipped = wire.clone();
        flipped[70] ^= 0x40;
        let error = RecordBatch::read_wire_all(&Bytes::from(flipped)).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage, "{error}");
        let mut magic = wire.clone();
        magic[16] = 1;
        assert_eq!(RecordBatch::read_wire_all(&Bytes::from(magic)).unwrap_err().code, ErrorCode::UnsupportedVersion);
        let mut negative = wire;
        negative[8] = 0xff;
        assert_eq!(RecordBatch::read_wire_all(&Bytes::from(negative)).unwrap_err().code, ErrorCode::CorruptMessage);
        let mut rng = crate::rng::Rng::from_seed(1);
        for _ in 0..2_000 {
            let len = usize::try_from(rng.below(200)).unwrap();
            let garbage: Vec<u8> = (0..len).map(|_| u8::try_from(rng.below(256)).unwrap()).collect();
            let _ = RecordBatch::read_wire_all(&Bytes::from(garbage));
        }
    }

    fn sample() -> Vec<Record> {
        vec![
            Record::new(Some(b"k1"), Some(b"v1"), 1_000),
            Record::new(None, Some(b"no key"), 999),
            Record {
                key: Some(Bytes::from_static(b"k3")),
                value: None,
                timestamp_ms: 1_500,
                headers: vec![
                    Header { key: "trace".into(), value: Some(Bytes::from_static(b"abc")) },
                    Header { key: "null".into(), value: None },
                ],
            },
        ]
    }

    #[test]
    fn build_and_decode_round_trip() {
        let mut batch = BatchBuilder::from_records(&sample());
        batch.assign(100, 7);
        batch.validate().unwrap();
        assert_eq!(batch.record_count(), 3);
        assert_eq!(batch.last_offset(), 102);
        assert_eq!(batch.max_timestamp_ms(), 1_500);
        assert_eq!(batch.partition_leader_epoch(), 7);
        let decoded: Vec<OffsetRecord> = batch.records().map(Result::unwrap).collect();
        let offsets: Vec<i64> = decoded.iter().map(|r| r.offset).collect();
        assert_eq!(offsets, [100, 101, 102]);
        let records: Vec<Record> = decoded.into_iter().map(|r| r.record).collect();
        assert_eq!(records, sample());
    }

    #[test]
    fn encoding_matches_kafka_bytes() {
        // Kafka's DefaultRecord for key "k", value "v", offset delta 0, timestamp delta 0,
        // no headers: length 8, attributes 0, ts 0, offset 0, key len 1 (zig-zag 2), 'k',
        // value len 1, 'v', header count 0.
        let batch = BatchBuilder::from_records(&[Record::new(Some(b"k"), Some(b"v"), 5)]);
        assert_eq!(&batch.records_bytes()[..], &[16, 0, 0, 0, 2, b'k', 2, b'v', 0]);
        assert_eq!(batch.size_bytes(), BATCH_OVERHEAD_BYTES + 9);
    }

    #[test]
    fn corruption_is_detected_not_panicking() {
        let batch = BatchBuilder::from_records(&sample());
        let mut bytes = batch.records_bytes().to_vec();
        bytes[3] ^= 0xff;
        let error = RecordBatch::from_parts(batch.header(), Bytes::from(bytes)).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage);
        assert!(error.message.contains("CRC"), "{error}");

        let mut header = batch.header();
        header.record_count = 4;
        header.last_offset_delta = 3;
        let error = RecordBatch::from_parts(header, batch.records_bytes().clone()).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage);

        let truncated = batch.records_bytes().slice(..5);
        let mut header = batch.header();
        header.crc = {
            let mut hasher_batch = batch.clone();
            hasher_batch.records = truncated.clone();
            hasher_batch.compute_crc()
        };
        let error = RecordBatch::from_parts(header, truncated).unwrap_err();
        assert_eq!(error.code, ErrorCode::CorruptMessage);
    }
}
