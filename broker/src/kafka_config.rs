//! Apache Kafka's broker configuration names, types and validators (Kafka 4.4's `ConfigDef`,
//! dumped from its jars into `kafka_broker_configs.tsv` by `tests/kafka/ConfigDefDump.java`;
//! a test regenerates it and compares). The broker's config loader checks every key Kafka knows
//! with Kafka's own rules and wording, so a file that Kafka refuses is refused here with the
//! same message, and a file Kafka starts with starts Rill too.

use std::sync::OnceLock;

/// The dump, checked in (a build needs no Java).
const TABLE: &str = include_str!("kafka_broker_configs.tsv");

/// A `ConfigDef` type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaType {
    /// `BOOLEAN`.
    Boolean,
    /// `SHORT`.
    Short,
    /// `INT`.
    Int,
    /// `LONG`.
    Long,
    /// `DOUBLE`.
    Double,
    /// `STRING`.
    String,
    /// `LIST` (comma-separated).
    List,
    /// `CLASS` (a Java class name; Rill checks nothing).
    Class,
    /// `PASSWORD` (never printed).
    Password,
}

/// A `ConfigDef` validator Rill checks (others are checked by type only).
#[derive(Clone, Debug, PartialEq)]
pub enum Validator {
    /// None.
    None,
    /// `Range.atLeast` / `between`: the bounds as Kafka prints them.
    Range {
        /// Lower bound.
        min: Option<&'static str>,
        /// Upper bound.
        max: Option<&'static str>,
    },
    /// `ValidString.in`.
    In(Vec<&'static str>),
    /// `CaseInsensitiveValidString.in`.
    InAnyCase(Vec<&'static str>),
    /// `ValidList.in` (an empty list allows any element).
    ListIn(Vec<&'static str>),
    /// A validator Rill does not reproduce (its description).
    Other(&'static str),
}

/// One key of Kafka's broker `ConfigDef`.
#[derive(Clone, Debug, PartialEq)]
pub struct KafkaKey {
    /// The name.
    pub name: &'static str,
    /// Its type.
    pub kind: KafkaType,
    /// Its default as Kafka prints it; `None` when Kafka requires the key or defaults to null.
    pub default: Option<&'static str>,
    /// Its validator.
    pub validator: Validator,
}

fn parse_type(text: &str) -> KafkaType {
    match text {
        "BOOLEAN" => KafkaType::Boolean,
        "SHORT" => KafkaType::Short,
        "INT" => KafkaType::Int,
        "LONG" => KafkaType::Long,
        "DOUBLE" => KafkaType::Double,
        "LIST" => KafkaType::List,
        "CLASS" => KafkaType::Class,
        "PASSWORD" => KafkaType::Password,
        _ => KafkaType::String,
    }
}

fn parse_validator(text: &'static str) -> Validator {
    let words = |list: &'static str| list.split('|').filter(|word| !word.is_empty()).collect::<Vec<_>>();
    let bound = |text: &'static str| (!text.is_empty()).then_some(text);
    if let Some(range) = text.strip_prefix("range:") {
        let (min, max) = range.split_once(':').unwrap_or((range, ""));
        return Validator::Range { min: bound(min), max: bound(max) };
    }
    if let Some(list) = text.strip_prefix("in:") {
        return Validator::In(words(list));
    }
    if let Some(list) = text.strip_prefix("in-any-case:") {
        return Validator::InAnyCase(words(list));
    }
    if let Some(list) = text.strip_prefix("list-in:") {
        return Validator::ListIn(words(list));
    }
    match text.strip_prefix("other:") {
        Some(description) => Validator::Other(description),
        None => Validator::None,
    }
}

/// Every key of Kafka 4.4's broker `ConfigDef`, in name order.
pub fn kafka_keys() -> &'static [KafkaKey] {
    static KEYS: OnceLock<Vec<KafkaKey>> = OnceLock::new();
    KEYS.get_or_init(|| {
        TABLE
            .lines()
            .filter(|line| !line.starts_with('#') && !line.is_empty())
            .map(|line| {
                let fields: Vec<&'static str> = line.split('\t').collect();
                assert!(fields.len() >= 4, "kafka_broker_configs.tsv: a line with too few fields: {line}");
                let default = match fields[2] {
                    "<required>" | "<null>" => None,
                    value => Some(value),
                };
                KafkaKey {
                    name: fields[0],
                    kind: parse_type(fields[1]),
                    default,
                    validator: parse_validator(fields[3]),
                }
            })
            .collect()
    })
}

/// Kafka's definition of `name`, if Kafka's broker knows it.
#[must_use]
pub fn kafka_key(name: &str) -> Option<&'static KafkaKey> {
    let keys = kafka_keys();
    keys.binary_search_by(|key| key.name.cmp(name)).ok().map(|index| &keys[index])
}

/// Kafka's `ConfigException` text.
fn invalid(name: &str, value: &str, reason: &str) -> String {
    format!("Invalid value {value} for configuration {name}: {reason}")
}

impl KafkaKey {
    /// Parses and validates `value` as Kafka's `ConfigDef` does; the error is Kafka's message.
    pub fn check(&self, value: &str) -> Result<(), String> {
        let trimmed = value.trim();
        let number: Option<f64> = match self.kind {
            KafkaType::Boolean => {
                if !trimmed.eq_ignore_ascii_case("true") && !trimmed.eq_ignore_ascii_case("false") {
                    return Err(invalid(self.name, value, "Expected value to be either true or false"));
                }
                None
            }
            KafkaType::Short => Some(parse_integer::<i16>(self.name, trimmed, "SHORT")?),
            KafkaType::Int => Some(parse_integer::<i32>(self.name, trimmed, "INT")?),
            KafkaType::Long => Some(parse_integer::<i64>(self.name, trimmed, "LONG")?),
            KafkaType::Double => {
                Some(trimmed.parse::<f64>().map_err(|_| invalid(self.name, value, "Not a number of type DOUBLE"))?)
            }
            KafkaType::String | KafkaType::List | KafkaType::Class | KafkaType::Password => None,
        };
        match &self.validator {
            Validator::Range { min, max } => {
                let Some(number) = number else { return Ok(()) };
                if let Some(min) = min.filter(|min| min.parse::<f64>().is_ok_and(|min| number < min)) {
                    return Err(invalid(self.name, trimmed, &format!("Value must be at least {min}")));
                }
                if let Some(max) = max.filter(|max| max.parse::<f64>().is_ok_and(|max| number > max)) {
                    return Err(invalid(self.name, trimmed, &format!("Value must be no more than {max}")));
                }
                Ok(())
            }
            Validator::In(valid) if !valid.contains(&trimmed) => {
                Err(invalid(self.name, trimmed, &format!("String must be one of: {}", valid.join(", "))))
            }
            Validator::InAnyCase(valid) if !valid.iter().any(|v| v.eq_ignore_ascii_case(trimmed)) => Err(invalid(
                self.name,
                trimmed,
                &format!("String must be one of (case insensitive): {}", valid.join(", ")),
            )),
            Validator::ListIn(valid) if !valid.is_empty() => {
                for element in trimmed.split(',').map(str::trim).filter(|element| !element.is_empty()) {
                    if !valid.contains(&element) {
                        return Err(invalid(
                            self.name,
                            element,
                            &format!("String must be one of: {}", valid.join(", ")),
                        ));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn parse_integer<T: std::str::FromStr + Into<i64>>(name: &str, text: &str, kafka_type: &str) -> Result<f64, String> {
    let value: T = text.parse().map_err(|_| invalid(name, text, &format!("Not a number of type {kafka_type}")))?;
    // Config integers are far below 2^53: the conversion is exact.
    #[allow(clippy::cast_precision_loss)]
    Ok(value.into() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_holds_kafkas_broker_keys() {
        let keys = kafka_keys();
        assert!(keys.len() > 300, "Kafka 4.4 has ~380 broker configs: {}", keys.len());
        assert!(keys.windows(2).all(|pair| pair[0].name < pair[1].name), "sorted, for lookups");
        let partitions = kafka_key("num.partitions").expect("known");
        assert_eq!((partitions.kind, partitions.default), (KafkaType::Int, Some("1")));
        assert_eq!(partitions.validator, Validator::Range { min: Some("1"), max: None });
        assert!(kafka_key("made.up.key").is_none());
    }

    #[test]
    fn values_are_checked_with_kafkas_rules_and_words() {
        let check = |name: &str, value: &str| kafka_key(name).expect("known").check(value);
        assert_eq!(
            check("num.partitions", "0"),
            Err("Invalid value 0 for configuration num.partitions: Value must be at least 1".to_owned())
        );
        assert_eq!(
            check("num.network.threads", "many"),
            Err("Invalid value many for configuration num.network.threads: Not a number of type INT".to_owned())
        );
        assert_eq!(
            check("auto.create.topics.enable", "yes"),
            Err("Invalid value yes for configuration auto.create.topics.enable: Expected value to be either true or false"
                .to_owned())
        );
        assert_eq!(
            check("process.roles", "broker,leader"),
            Err("Invalid value leader for configuration process.roles: String must be one of: broker, controller"
                .to_owned())
        );
        assert!(check("num.partitions", " 3 ").is_ok());
        assert!(check("process.roles", "broker,controller").is_ok());
        assert!(check("socket.send.buffer.bytes", "102400").is_ok());
    }
}
