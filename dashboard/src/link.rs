//! Share links: `#run=<the whole run as JSON>&at=<events>&scenario=<id>&play=1&speed=2`.
//!
//! A link carries the whole run — every recorded action, the ones still ahead included — and
//! the position it was made at, so a link made mid-scenario plays the rest of the script from
//! there (a link made from `recording_now()` would drop it). Pure: tested natively.

use rill_core::sim::session::Recording;

/// What a link's hash holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Link {
    /// The run (JSON of a [`Recording`]), if the link carries one.
    pub run: Option<String>,
    /// Events processed at the position the link was made (absent in older links: the end).
    pub at: Option<u64>,
    /// The guided scenario the run came from.
    pub scenario: Option<String>,
    /// Start playing.
    pub play: bool,
    /// Speed.
    pub speed: Option<f64>,
    /// `pace=0`: play through guided scenarios' chapters without pausing.
    pub pace: Option<bool>,
}

/// Percent-encodes like JavaScript's `encodeURIComponent`.
#[must_use]
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Decodes percent-encoding; `None` for a malformed escape or bytes that are not UTF-8.
#[must_use]
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The hash (without `#`) of a link to `recording` at `at_event`.
#[must_use]
pub fn hash(recording: &Recording, at_event: u64, scenario: Option<&str>) -> String {
    let json = serde_json::to_string(recording).expect("a recording serializes");
    let mut hash = format!("run={}&at={at_event}", encode(&json));
    if let Some(scenario) = scenario {
        hash.push_str(&format!("&scenario={}", encode(scenario)));
    }
    hash
}

/// Reads a link's hash (with or without `#`). Unknown keys are ignored; a bad escape is an
/// error naming the key.
pub fn parse(hash: &str) -> Result<Link, String> {
    let mut link = Link::default();
    for pair in hash.trim_start_matches('#').split('&') {
        let Some((key, value)) = pair.split_once('=') else { continue };
        let value =
            decode(value).ok_or_else(|| format!("INVALID_REQUEST: the link's {key} is not percent-encoded text"))?;
        match key {
            "run" => link.run = Some(value),
            "at" => {
                link.at = Some(value.parse().map_err(|_| {
                    format!("INVALID_REQUEST: the link's position must be an event count, got {value:?}")
                })?);
            }
            "scenario" => link.scenario = Some(value),
            "play" => link.play = value == "1",
            "speed" => link.speed = value.parse().ok(),
            "pace" => link.pace = Some(value != "0"),
            _ => {}
        }
    }
    Ok(link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios;

    #[test]
    fn encoding_round_trips_and_matches_encode_uri_component() {
        assert_eq!(encode("{\"a\": [1, 2]}é"), "%7B%22a%22%3A%20%5B1%2C%202%5D%7D%C3%A9");
        assert_eq!(encode("A-z_0.9!~*'()"), "A-z_0.9!~*'()");
        for text in ["", "plain", "{\"spec\":{\"seed\":11}}", "ünïcødé & = # %"] {
            assert_eq!(decode(&encode(text)).as_deref(), Some(text));
        }
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%4"), None);
    }

    #[test]
    fn a_link_carries_the_whole_run_and_the_position() {
        let recording = scenarios::SCENARIOS[0].recording().unwrap();
        let hash = hash(&recording, 1_234, Some("acks1-leader-crash"));
        let link = parse(&format!("#{hash}&play=1&speed=2")).unwrap();
        let back: Recording = serde_json::from_str(link.run.as_deref().unwrap()).unwrap();
        assert_eq!(back, recording);
        assert_eq!(
            (link.at, link.scenario.as_deref(), link.play, link.speed),
            (Some(1_234), Some("acks1-leader-crash"), true, Some(2.0))
        );
        assert!(parse("run=x&at=-3").unwrap_err().contains("position must be an event count"));
        assert_eq!(parse("scenario=group-rebalance").unwrap().at, None);
    }
}
