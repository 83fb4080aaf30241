//! Kafka's consumer-protocol subscription (`ConsumerProtocolSubscription`, the metadata a
//! consumer puts in JoinGroup): version, topics, user data, owned partitions (v1+). The
//! coordinator reads the topics of real clients' and simulated consumers' subscriptions alike
//! (OffsetDelete refuses to delete the offsets of a topic the group still subscribes to).
//! Decoding is bounds-checked: a malformed subscription is `None`, never a panic.

use bytes::Bytes;

use crate::protocol::TopicPartition;

/// A subscription's topics and the partitions the member owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions it owns (v1+; cooperative rebalancing).
    pub owned: Vec<TopicPartition>,
}

/// Version 1 of the subscription: topics, no user data, owned partitions.
#[must_use]
pub fn encode(topics: &[String], owned: &[TopicPartition]) -> Bytes {
    let mut out: Vec<u8> = Vec::new();
    out.extend_from_slice(&1_i16.to_be_bytes());
    put_len(&mut out, topics.len());
    for topic in topics {
        put_string(&mut out, topic);
    }
    out.extend_from_slice(&(-1_i32).to_be_bytes()); // user data: null
    let mut by_topic: Vec<(&str, Vec<i32>)> = Vec::new();
    for tp in owned {
        match by_topic.iter_mut().find(|(topic, _)| *topic == &*tp.topic) {
            Some((_, partitions)) => partitions.push(tp.partition),
            None => by_topic.push((&tp.topic, vec![tp.partition])),
        }
    }
    put_len(&mut out, by_topic.len());
    for (topic, partitions) in by_topic {
        put_string(&mut out, topic);
        put_len(&mut out, partitions.len());
        for partition in partitions {
            out.extend_from_slice(&partition.to_be_bytes());
        }
    }
    Bytes::from(out)
}

/// Reads a subscription of any version Kafka's clients send (0–3); `None` when malformed.
#[must_use]
pub fn decode(bytes: &[u8]) -> Option<Subscription> {
    let mut reader = Reader { bytes, at: 0 };
    let version = reader.i16()?;
    if version < 0 {
        return None;
    }
    let count = reader.count()?;
    let mut topics = Vec::new();
    for _ in 0..count {
        topics.push(reader.string()?);
    }
    let user_data = reader.i32()?;
    if user_data > 0 {
        reader.skip(usize::try_from(user_data).ok()?)?;
    }
    let mut owned = Vec::new();
    if version >= 1 {
        for _ in 0..reader.count()? {
            let topic = reader.string()?;
            for _ in 0..reader.count()? {
                owned.push(TopicPartition::new(&topic, reader.i32()?));
            }
        }
    }
    Some(Subscription { topics, owned })
}

fn put_len(out: &mut Vec<u8>, len: usize) {
    out.extend_from_slice(&i32::try_from(len).expect("fits a Kafka array").to_be_bytes());
}

fn put_string(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(&i16::try_from(text.len()).expect("fits a Kafka string").to_be_bytes());
    out.extend_from_slice(text.as_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn i16(&mut self) -> Option<i16> {
        Some(i16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    /// An array length: never more than the bytes left could hold (each item ≥ 2 bytes).
    fn count(&mut self) -> Option<usize> {
        let count = usize::try_from(self.i32()?).ok()?;
        (count <= (self.bytes.len() - self.at) / 2).then_some(count)
    }

    fn string(&mut self) -> Option<String> {
        let len = usize::try_from(self.i16()?).ok()?;
        String::from_utf8(self.take(len)?.to_vec()).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_garbage() {
        let topics = vec!["orders".to_owned(), "payments".to_owned()];
        let owned = vec![TopicPartition::new("orders", 0), TopicPartition::new("orders", 2)];
        let bytes = encode(&topics, &owned);
        assert_eq!(decode(&bytes), Some(Subscription { topics: topics.clone(), owned }));
        // Version 0, as an old client writes it: topics and user data only.
        let mut v0 = vec![0, 0, 0, 0, 0, 1, 0, 6];
        v0.extend_from_slice(b"orders");
        v0.extend_from_slice(&[0, 0, 0, 2, 9, 9]);
        assert_eq!(decode(&v0).map(|s| s.topics), Some(vec!["orders".to_owned()]));
        for cut in 0..bytes.len() {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        assert_eq!(decode(&[0, 1, 0x7f, 0xff, 0xff, 0xff]), None, "a huge count is refused, not allocated");
    }
}
