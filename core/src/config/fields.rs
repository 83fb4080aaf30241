//! The value types config fields have (Kafka's `ConfigDef` types and enums) with their string
//! forms, and the range checks the config tables use, worded as Kafka words them.

use std::fmt;

use crate::compression::{self, Codec};

/// A value type a config field can have.
pub trait ConfigField: Sized {
    /// Parses Kafka's string form; the error says what was expected.
    fn parse(text: &str) -> Result<Self, String>;
    /// Kafka's string form.
    fn render(&self) -> String;
}

impl ConfigField for bool {
    fn parse(text: &str) -> Result<bool, String> {
        // Kafka's ConfigDef accepts true/false in any case.
        match text.trim().to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err("Expected value to be either true or false".into()),
        }
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

macro_rules! integer_field {
    ($($ty:ty: $kafka_type:literal),*) => {$(
        impl ConfigField for $ty {
            fn parse(text: &str) -> Result<$ty, String> {
                // Kafka's ConfigDef: "Not a number of type INT" (an integer from MIN to MAX).
                text.trim().parse().map_err(|_| concat!("Not a number of type ", $kafka_type).to_owned())
            }
            fn render(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
integer_field!(i16: "SHORT", i32: "INT", i64: "LONG");

/// A ratio such as Kafka's `min.cleanable.dirty.ratio` (a `DOUBLE` in Kafka), kept exactly in
/// millionths. Parsing and printing decimals without floating point keeps std's float
/// formatting and parsing (~25 KB) out of the WebAssembly build; Kafka's ratios are never given
/// with more than a few decimals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Ratio {
    millionths: u32,
}

impl Ratio {
    /// 0.0.
    pub const ZERO: Ratio = Ratio { millionths: 0 };
    /// 1.0.
    pub const ONE: Ratio = Ratio { millionths: 1_000_000 };
    /// Most decimal places a ratio is parsed with.
    pub const DECIMALS_MAX: usize = 6;

    /// The ratio `millionths / 1_000_000`.
    #[must_use]
    pub const fn from_millionths(millionths: u32) -> Ratio {
        Ratio { millionths }
    }

    /// The ratio in millionths.
    #[must_use]
    pub const fn millionths(self) -> u32 {
        self.millionths
    }
}

impl fmt::Display for Ratio {
    /// Like Java's `Double.toString` for these values: `0.5`, `1.0`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whole = self.millionths / 1_000_000;
        let mut fraction = self.millionths % 1_000_000;
        let mut digits = Ratio::DECIMALS_MAX;
        while digits > 1 && fraction.is_multiple_of(10) {
            fraction /= 10;
            digits -= 1;
        }
        write!(f, "{whole}.{fraction:0digits$}")
    }
}

impl ConfigField for Ratio {
    fn parse(text: &str) -> Result<Ratio, String> {
        let invalid = || {
            format!(
                "Not a number of type DOUBLE (Rill reads a decimal such as 0.5, at most {} decimals)",
                Ratio::DECIMALS_MAX
            )
        };
        let text = text.trim();
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits_only = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits_only(whole)
            || !digits_only(fraction)
            || fraction.trim_end_matches('0').len() > Ratio::DECIMALS_MAX
            || whole.len() > 3
        {
            return Err(invalid());
        }
        let whole: u32 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let mut millionths = whole * 1_000_000;
        let mut scale = 100_000;
        for digit in fraction.trim_end_matches('0').bytes() {
            millionths += u32::from(digit - b'0') * scale;
            scale /= 10;
        }
        Ok(Ratio { millionths })
    }
    fn render(&self) -> String {
        self.to_string()
    }
}

impl ConfigField for String {
    fn parse(text: &str) -> Result<String, String> {
        Ok(text.trim().to_owned())
    }
    fn render(&self) -> String {
        self.clone()
    }
}

impl<T: ConfigField> ConfigField for Option<T> {
    fn parse(text: &str) -> Result<Option<T>, String> {
        let text = text.trim();
        if text.is_empty() || text == "null" {
            Ok(None)
        } else {
            T::parse(text).map(Some)
        }
    }
    fn render(&self) -> String {
        self.as_ref().map_or_else(String::new, ConfigField::render)
    }
}

/// `cleanup.policy`: `delete`, `compact` or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CleanupPolicy {
    /// Old segments are deleted by retention.
    pub delete: bool,
    /// Older values of a key are compacted away.
    pub compact: bool,
}

impl CleanupPolicy {
    /// Kafka's default: `delete`.
    pub const DELETE: CleanupPolicy = CleanupPolicy { delete: true, compact: false };
    /// `compact`.
    pub const COMPACT: CleanupPolicy = CleanupPolicy { delete: false, compact: true };
}

impl ConfigField for CleanupPolicy {
    fn parse(text: &str) -> Result<CleanupPolicy, String> {
        let mut policy = CleanupPolicy { delete: false, compact: false };
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            match part {
                "delete" => policy.delete = true,
                "compact" => policy.compact = true,
                other => return Err(format!("String must be one of: compact, delete (got {other})")),
            }
        }
        if !policy.delete && !policy.compact {
            return Err("String must be one of: compact, delete".into());
        }
        Ok(policy)
    }
    fn render(&self) -> String {
        match (self.delete, self.compact) {
            (true, true) => "delete,compact".into(),
            (false, true) => "compact".into(),
            _ => "delete".into(),
        }
    }
}

/// `message.timestamp.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampType {
    /// Keep the producer's timestamp.
    CreateTime,
    /// Overwrite with the broker's time at append.
    LogAppendTime,
}

impl ConfigField for TimestampType {
    fn parse(text: &str) -> Result<TimestampType, String> {
        match text.trim() {
            "CreateTime" => Ok(TimestampType::CreateTime),
            "LogAppendTime" => Ok(TimestampType::LogAppendTime),
            _ => Err("String must be one of: CreateTime, LogAppendTime".into()),
        }
    }
    fn render(&self) -> String {
        match self {
            TimestampType::CreateTime => "CreateTime".into(),
            TimestampType::LogAppendTime => "LogAppendTime".into(),
        }
    }
}

/// `compression.type`: what codec the log stores a topic's batches with (Kafka's
/// `BrokerCompressionType`; KIP-390 levels are not configurable here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompressionType {
    /// Keep each batch as the producer compressed it (Kafka's default).
    Producer,
    /// Store every batch with this codec, recompressing when the producer used another one
    /// (`Codec::None` is Kafka's `uncompressed`).
    Codec(Codec),
}

impl ConfigField for CompressionType {
    fn parse(text: &str) -> Result<CompressionType, String> {
        match text.trim() {
            "producer" => Ok(CompressionType::Producer),
            "uncompressed" => Ok(CompressionType::Codec(Codec::None)),
            name => match Codec::from_name(name) {
                Some(codec) if codec != Codec::None && compression::AVAILABLE => Ok(CompressionType::Codec(codec)),
                Some(codec) if codec != Codec::None => Err(format!(
                    "{codec} is not available in this build of Rill (the browser build stores batches as the producer sent them); use producer or uncompressed"
                )),
                _ => Err("String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer".into()),
            },
        }
    }
    fn render(&self) -> String {
        match self {
            CompressionType::Producer => "producer".into(),
            CompressionType::Codec(Codec::None) => "uncompressed".into(),
            CompressionType::Codec(codec) => codec.name().into(),
        }
    }
}

/// A check: the value is at least `min` (Kafka's `atLeast`).
pub(super) fn at_least<T: PartialOrd + fmt::Display + Copy>(min: T) -> impl Fn(&T) -> Result<(), String> {
    move |value| {
        if *value >= min {
            Ok(())
        } else {
            Err(format!("Value must be at least {min}"))
        }
    }
}

/// A check: `min ≤ value ≤ max` (Kafka's `between`).
pub(super) fn between<T: PartialOrd + fmt::Display + Copy>(min: T, max: T) -> impl Fn(&T) -> Result<(), String> {
    move |value| {
        if *value < min {
            Err(format!("Value must be at least {min}"))
        } else if *value > max {
            Err(format!("Value must be no more than {max}"))
        } else {
            Ok(())
        }
    }
}

/// A check on an optional value: when set, at least `min`.
pub(super) fn optional_at_least<T: PartialOrd + fmt::Display + Copy>(
    min: T,
) -> impl Fn(&Option<T>) -> Result<(), String> {
    move |value| match value {
        Some(value) => at_least(min)(value),
        None => Ok(()),
    }
}
