//! Records in Kafka's v2 encoding: writing one (zig-zag varints, key, value, headers), and
//! reading them back bounds-checked — every field of every record when a batch is validated
//! (as Kafka's `LogValidator` reads them), and as owned [`OffsetRecord`]s sharing the batch's
//! buffer when iterated.

use bytes::Bytes;

use super::{Header, OffsetRecord, Record, RecordBatch};
use crate::error::{Error, ErrorCode, Result};

/// Appends one record in Kafka's format (length-prefixed) to `out`.
pub(super) fn encode_record(
    out: &mut Vec<u8>,
    body: &mut Vec<u8>,
    record: &Record,
    base_timestamp_ms: i64,
    offset_delta: i32,
) {
    body.clear();
    body.push(0); // record attributes: unused in v2
    put_varlong(body, record.timestamp_ms.wrapping_sub(base_timestamp_ms));
    put_varint(body, offset_delta);
    put_nullable_bytes(body, record.key.as_deref());
    put_nullable_bytes(body, record.value.as_deref());
    put_varint(body, i32::try_from(record.headers.len()).expect("header count fits i32"));
    for header in &record.headers {
        put_nullable_bytes(body, Some(header.key.as_bytes()));
        put_nullable_bytes(body, header.value.as_deref());
    }
    put_varint(out, i32::try_from(body.len()).expect("record fits i32"));
    out.extend_from_slice(body);
}

/// Iterator over a batch's records; yields `CORRUPT_MESSAGE` errors instead of panicking.
#[derive(Debug)]
pub struct RecordIter<'a> {
    batch: &'a RecordBatch,
    /// The (decompressed) records, or why they could not be had.
    data: Result<Bytes>,
    position: usize,
    remaining: i32,
}

impl<'a> RecordIter<'a> {
    pub(super) fn new(batch: &'a RecordBatch, data: Result<Bytes>) -> RecordIter<'a> {
        RecordIter { batch, data, position: 0, remaining: batch.record_count() }
    }
}

impl Iterator for RecordIter<'_> {
    type Item = Result<OffsetRecord>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining <= 0 {
            return None;
        }
        self.remaining -= 1;
        let data = match &self.data {
            Ok(data) => data,
            Err(error) => {
                self.remaining = 0;
                return Some(Err(error.clone()));
            }
        };
        let mut reader = Reader { bytes: data, position: self.position };
        let result = decode_record(self.batch, data, &mut reader);
        self.position = reader.position;
        if result.is_err() {
            self.remaining = 0;
        }
        Some(result)
    }
}

/// One record's fields, borrowed from the (decompressed) records.
struct RawRecord<'a> {
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&'a [u8]>,
    value: Option<&'a [u8]>,
}

/// Reads one record (Kafka's `DefaultRecord`), handing each header to `header`; checks that the
/// fields fill exactly the record's length.
fn walk_record<'a>(
    reader: &mut Reader<'a>,
    mut header: impl FnMut(&'a [u8], Option<&'a [u8]>) -> Result<()>,
) -> Result<RawRecord<'a>> {
    let length = usize::try_from(reader.varint()?)
        .map_err(|_| Error::new(ErrorCode::CorruptMessage, "negative record length"))?;
    let start = reader.position;
    let _attributes = reader.byte()?;
    let timestamp_delta = reader.varlong()?;
    let offset_delta = reader.varint()?;
    let key = reader.nullable_slice()?;
    let value = reader.nullable_slice()?;
    let header_count = usize::try_from(reader.varint()?)
        .map_err(|_| Error::new(ErrorCode::CorruptMessage, "negative header count"))?;
    if header_count > length {
        return Err(Error::new(ErrorCode::CorruptMessage, "header count exceeds record size"));
    }
    for _ in 0..header_count {
        let key = reader.nullable_slice()?.ok_or_else(|| Error::new(ErrorCode::CorruptMessage, "null header key"))?;
        header(key, reader.nullable_slice()?)?;
    }
    if reader.position - start != length {
        return Err(Error::new(ErrorCode::CorruptMessage, "record length does not match its fields"));
    }
    Ok(RawRecord { timestamp_delta, offset_delta, key, value })
}

fn decode_record(batch: &RecordBatch, data: &Bytes, reader: &mut Reader<'_>) -> Result<OffsetRecord> {
    let mut headers = Vec::new();
    let raw = walk_record(reader, |key, value| {
        let key = std::str::from_utf8(key)
            .map_err(|_| Error::new(ErrorCode::CorruptMessage, "header key is not UTF-8"))?
            .to_owned();
        headers.push(Header { key, value: value.map(|v| data.slice_ref(v)) });
        Ok(())
    })?;
    Ok(OffsetRecord {
        offset: batch.base_offset + i64::from(raw.offset_delta),
        record: Record {
            key: raw.key.map(|k| data.slice_ref(k)),
            value: raw.value.map(|v| data.slice_ref(v)),
            timestamp_ms: batch.base_timestamp_ms.wrapping_add(raw.timestamp_delta),
            headers,
        },
    })
}

/// Reads every record of `records` (decompressed), checking every field; returns how many
/// there are, stopping one past `expected`.
pub(super) fn check_records(records: &[u8], expected: i32) -> Result<i32> {
    let mut reader = Reader::new(records);
    let mut count = 0i32;
    while !reader.is_empty() {
        walk_record(&mut reader, |key, _| {
            std::str::from_utf8(key)
                .map(|_| ())
                .map_err(|_| Error::new(ErrorCode::CorruptMessage, "header key is not UTF-8"))
        })?;
        count += 1;
        if count > expected {
            break;
        }
    }
    Ok(count)
}

fn zigzag32(value: i32) -> u32 {
    // Kafka's ByteUtils.writeVarint: zig-zag then base-128.
    ((value << 1) ^ (value >> 31)).cast_unsigned()
}

fn zigzag64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)).cast_unsigned()
}

fn put_unsigned(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(u8::try_from(value & 0x7f).expect("7 bits fit a byte") | 0x80);
        value >>= 7;
    }
    out.push(u8::try_from(value).expect("< 0x80 fits a byte"));
}

fn put_varint(out: &mut Vec<u8>, value: i32) {
    put_unsigned(out, u64::from(zigzag32(value)));
}

fn put_varlong(out: &mut Vec<u8>, value: i64) {
    put_unsigned(out, zigzag64(value));
}

fn put_nullable_bytes(out: &mut Vec<u8>, bytes: Option<&[u8]>) {
    match bytes {
        None => put_varint(out, -1),
        Some(bytes) => {
            put_varint(out, i32::try_from(bytes.len()).expect("field fits i32"));
            out.extend_from_slice(bytes);
        }
    }
}

/// A bounds-checked cursor over encoded records.
#[derive(Debug)]
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, position: 0 }
    }

    fn is_empty(&self) -> bool {
        self.position >= self.bytes.len()
    }

    fn truncated() -> Error {
        Error::new(ErrorCode::CorruptMessage, "record data ends early")
    }

    fn byte(&mut self) -> Result<u8> {
        let byte = *self.bytes.get(self.position).ok_or_else(Reader::truncated)?;
        self.position += 1;
        Ok(byte)
    }

    fn unsigned(&mut self, max_bytes: u32) -> Result<u64> {
        let mut value = 0u64;
        for index in 0..max_bytes {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << (7 * index);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(Error::new(ErrorCode::CorruptMessage, "varint is too long"))
    }

    fn varint(&mut self) -> Result<i32> {
        let raw = u32::try_from(self.unsigned(5)? & 0xffff_ffff).expect("masked to 32 bits");
        Ok((raw >> 1).cast_signed() ^ -((raw & 1).cast_signed()))
    }

    fn varlong(&mut self) -> Result<i64> {
        let raw = self.unsigned(10)?;
        Ok((raw >> 1).cast_signed() ^ -((raw & 1).cast_signed()))
    }

    fn skip(&mut self, length: usize) -> Result<()> {
        let end = self.position.checked_add(length).ok_or_else(Reader::truncated)?;
        if end > self.bytes.len() {
            return Err(Reader::truncated());
        }
        self.position = end;
        Ok(())
    }

    fn nullable_slice(&mut self) -> Result<Option<&'a [u8]>> {
        let length = self.varint()?;
        if length < 0 {
            return Ok(None);
        }
        let start = self.position;
        self.skip(usize::try_from(length).expect("non-negative"))?;
        Ok(Some(&self.bytes[start..self.position]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_at_the_edges() {
        for value in [0, 1, -1, 63, -64, 64, i32::MAX, i32::MIN] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(Reader::new(&out).varint().unwrap(), value);
        }
        for value in [0, -1, i64::MAX, i64::MIN, 1 << 40] {
            let mut out = Vec::new();
            put_varlong(&mut out, value);
            assert_eq!(Reader::new(&out).varlong().unwrap(), value);
        }
    }
}
