//! Kafka's record batch compression (the codec in attribute bits 0–2): none, gzip, snappy,
//! lz4, zstd, in the byte formats Kafka's clients write — gzip members, snappy in xerial's
//! framing as the Java client writes it (raw snappy is read too, as Kafka reads it), the LZ4
//! frame format (KIP-57), zstd frames.
//!
//! The codecs are pure Rust, behind the `compression` feature: the broker turns it on, the
//! WebAssembly builds leave it off (the simulation never compresses), and there a compressed
//! batch is refused with `UNSUPPORTED_COMPRESSION_TYPE`. Decompression is bounded: a batch
//! that inflates past [`DECOMPRESSED_BYTES_MAX`] is `CORRUPT_MESSAGE`, never an allocation
//! without limit.

use std::fmt;

use crate::error::{Error, ErrorCode, Result};

/// Most bytes one batch's records may decompress to (a zip bomb stops here).
pub const DECOMPRESSED_BYTES_MAX: usize = 64 << 20;

/// A record batch codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Codec {
    /// Not compressed.
    None,
    /// gzip.
    Gzip,
    /// snappy.
    Snappy,
    /// LZ4 (frame format).
    Lz4,
    /// zstd.
    Zstd,
}

impl Codec {
    /// The codec of a batch's attributes; ids 5–7 are not Kafka codecs.
    pub fn from_attributes(attributes: i16) -> Result<Codec> {
        match attributes & 0x07 {
            0 => Ok(Codec::None),
            1 => Ok(Codec::Gzip),
            2 => Ok(Codec::Snappy),
            3 => Ok(Codec::Lz4),
            4 => Ok(Codec::Zstd),
            other => {
                Err(Error::new(ErrorCode::UnsupportedCompressionType, format!("unknown compression codec {other}")))
            }
        }
    }

    /// Kafka's id (attribute bits 0–2).
    #[must_use]
    pub fn id(self) -> i16 {
        match self {
            Codec::None => 0,
            Codec::Gzip => 1,
            Codec::Snappy => 2,
            Codec::Lz4 => 3,
            Codec::Zstd => 4,
        }
    }

    /// Kafka's name (`compression.type`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Codec::None => "uncompressed",
            Codec::Gzip => "gzip",
            Codec::Snappy => "snappy",
            Codec::Lz4 => "lz4",
            Codec::Zstd => "zstd",
        }
    }

    /// From Kafka's name (`none` is the client's spelling of `uncompressed`).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Codec> {
        match name {
            "uncompressed" | "none" => Some(Codec::None),
            "gzip" => Some(Codec::Gzip),
            "snappy" => Some(Codec::Snappy),
            "lz4" => Some(Codec::Lz4),
            "zstd" => Some(Codec::Zstd),
            _ => None,
        }
    }
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Whether this build has the codecs (the `compression` feature: the broker yes, the browser
/// builds no, to keep the WebAssembly small).
pub const AVAILABLE: bool = cfg!(feature = "compression");

#[cfg(feature = "compression")]
fn too_large() -> Error {
    Error::new(
        ErrorCode::CorruptMessage,
        format!("a compressed batch decompresses to more than {DECOMPRESSED_BYTES_MAX} bytes"),
    )
}

#[cfg(feature = "compression")]
mod codecs {
    use std::io::{Read, Write};

    use super::{too_large, Codec, DECOMPRESSED_BYTES_MAX};
    use crate::error::{Error, ErrorCode, Result};

    /// xerial snappy-java's stream header, as Kafka's Java client writes it.
    const XERIAL_MAGIC: [u8; 8] = [0x82, b'S', b'N', b'A', b'P', b'P', b'Y', 0];
    /// snappy-java's default block size.
    const XERIAL_BLOCK_BYTES: usize = 32 * 1024;

    fn corrupt(codec: Codec, why: impl std::fmt::Display) -> Error {
        Error::new(ErrorCode::CorruptMessage, format!("{codec} data does not decompress: {why}"))
    }

    /// Reads everything `reader` yields, at most [`DECOMPRESSED_BYTES_MAX`] bytes.
    fn read_bounded(codec: Codec, reader: impl Read) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let limit = u64::try_from(DECOMPRESSED_BYTES_MAX).unwrap_or(u64::MAX) + 1;
        reader.take(limit).read_to_end(&mut out).map_err(|e| corrupt(codec, e))?;
        if out.len() > DECOMPRESSED_BYTES_MAX {
            return Err(too_large());
        }
        Ok(out)
    }

    fn snappy_block(out: &mut Vec<u8>, block: &[u8]) -> Result<()> {
        let length = snap::raw::decompress_len(block).map_err(|e| corrupt(Codec::Snappy, e))?;
        if out.len() + length > DECOMPRESSED_BYTES_MAX {
            return Err(too_large());
        }
        let start = out.len();
        out.resize(start + length, 0);
        snap::raw::Decoder::new().decompress(block, &mut out[start..]).map_err(|e| corrupt(Codec::Snappy, e))?;
        Ok(())
    }

    fn snappy_decompress(data: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::new();
        let Some(mut rest) = data.strip_prefix(&XERIAL_MAGIC) else {
            snappy_block(&mut out, data)?;
            return Ok(out);
        };
        // Version and compatible version, then [i32 length][raw snappy block] repeated.
        rest = rest.get(8..).ok_or_else(|| corrupt(Codec::Snappy, "a cut xerial header"))?;
        while !rest.is_empty() {
            let length_bytes: [u8; 4] = rest
                .get(..4)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| corrupt(Codec::Snappy, "a cut block length"))?;
            let length = usize::try_from(i32::from_be_bytes(length_bytes))
                .map_err(|_| corrupt(Codec::Snappy, "a negative block length"))?;
            let block = rest.get(4..4 + length).ok_or_else(|| corrupt(Codec::Snappy, "a cut block"))?;
            snappy_block(&mut out, block)?;
            rest = &rest[4 + length..];
        }
        Ok(out)
    }

    fn snappy_compress(data: &[u8]) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(data.len() / 2 + 16);
        out.extend_from_slice(&XERIAL_MAGIC);
        out.extend_from_slice(&1i32.to_be_bytes());
        out.extend_from_slice(&1i32.to_be_bytes());
        let mut encoder = snap::raw::Encoder::new();
        for chunk in data.chunks(XERIAL_BLOCK_BYTES) {
            let block = encoder.compress_vec(chunk).map_err(|e| corrupt(Codec::Snappy, e))?;
            out.extend_from_slice(&i32::try_from(block.len()).unwrap_or(i32::MAX).to_be_bytes());
            out.extend_from_slice(&block);
        }
        Ok(out)
    }

    pub(super) fn decompress(codec: Codec, data: &[u8]) -> Result<Vec<u8>> {
        match codec {
            Codec::None => Ok(data.to_vec()),
            Codec::Gzip => read_bounded(codec, flate2::read::MultiGzDecoder::new(data)),
            Codec::Snappy => snappy_decompress(data),
            Codec::Lz4 => read_bounded(codec, lz4_flex::frame::FrameDecoder::new(data)),
            Codec::Zstd => {
                let decoder = ruzstd::decoding::StreamingDecoder::new(data).map_err(|e| corrupt(codec, e))?;
                read_bounded(codec, decoder)
            }
        }
    }

    pub(super) fn compress(codec: Codec, data: &[u8]) -> Result<Vec<u8>> {
        let failed = |e: std::io::Error| corrupt(codec, e);
        match codec {
            Codec::None => Ok(data.to_vec()),
            Codec::Gzip => {
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                encoder.write_all(data).map_err(failed)?;
                encoder.finish().map_err(failed)
            }
            Codec::Snappy => snappy_compress(data),
            Codec::Lz4 => {
                let mut encoder = lz4_flex::frame::FrameEncoder::new(Vec::new());
                encoder.write_all(data).map_err(failed)?;
                encoder.finish().map_err(|e| corrupt(codec, e))
            }
            Codec::Zstd => Ok(ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)),
        }
    }
}

/// The records of a batch compressed with `codec`, decompressed (bounded).
pub fn decompress(codec: Codec, data: &[u8]) -> Result<Vec<u8>> {
    #[cfg(feature = "compression")]
    {
        codecs::decompress(codec, data)
    }
    #[cfg(not(feature = "compression"))]
    {
        let _ = data;
        unsupported(codec)
    }
}

/// Records compressed with `codec` in the format Kafka's Java client writes.
pub fn compress(codec: Codec, data: &[u8]) -> Result<Vec<u8>> {
    #[cfg(feature = "compression")]
    {
        codecs::compress(codec, data)
    }
    #[cfg(not(feature = "compression"))]
    {
        if codec == Codec::None {
            return Ok(data.to_vec());
        }
        unsupported(codec)
    }
}

#[cfg(not(feature = "compression"))]
fn unsupported(codec: Codec) -> Result<Vec<u8>> {
    Err(Error::new(
        ErrorCode::UnsupportedCompressionType,
        format!(
            "compression codec {codec} is not supported in this build (rill-core without the `compression` feature)"
        ),
    ))
}

#[cfg(all(test, feature = "compression"))]
mod tests {
    use super::*;

    #[test]
    fn every_codec_round_trips_and_reads_kafkas_formats() {
        let data: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        for codec in [Codec::None, Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
            let compressed = compress(codec, &data).unwrap();
            assert_eq!(decompress(codec, &compressed).unwrap(), data, "{codec}");
            assert_eq!(Codec::from_attributes(codec.id()).unwrap(), codec);
            assert_eq!(Codec::from_name(codec.name()), Some(codec));
        }
        // Raw snappy (no xerial header) is read too, as Kafka reads it.
        let raw = snap::raw::Encoder::new().compress_vec(&data).unwrap();
        assert_eq!(decompress(Codec::Snappy, &raw).unwrap(), data);
        assert_eq!(Codec::from_attributes(7).unwrap_err().code, ErrorCode::UnsupportedCompressionType);
    }

    #[test]
    fn corrupt_and_bomb_inputs_are_errors() {
        for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
            let error = decompress(codec, b"\x82SNAPPY\x00 not really").unwrap_err();
            assert_eq!(error.code, ErrorCode::CorruptMessage, "{codec}: {error}");
        }
        // 64 MiB of zeros compresses to a sliver (snappy: 1/21) and must not be inflated whole.
        let zeros = vec![0u8; DECOMPRESSED_BYTES_MAX + 1];
        for codec in [Codec::Gzip, Codec::Snappy, Codec::Lz4, Codec::Zstd] {
            let bomb = compress(codec, &zeros).unwrap();
            assert!(bomb.len() < zeros.len() / 16, "{codec}: {} bytes", bomb.len());
            let error = decompress(codec, &bomb).unwrap_err();
            assert!(error.message.contains("more than"), "{codec}: {error}");
        }
    }
}
