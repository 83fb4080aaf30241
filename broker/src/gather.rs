//! The request gatherer: a Kafka request becomes one or more core requests ("parts"), each
//! sent with its own correlation id; the core's answers fill the parts, and when the last one
//! arrives the API's `finish` turns them, in order, into the Kafka response.

use std::collections::BTreeMap;

use kafka_protocol::messages::ResponseKind;
use rill_core::protocol::Message;
use tokio::sync::oneshot;

/// Builds a Kafka response from the core's answers to the parts, in part order.
pub type Finish = Box<dyn FnOnce(Vec<Message>) -> ResponseKind>;

/// Most Kafka requests waiting for the core at once (a limit on everything).
const GATHERINGS_MAX: usize = 100_000;

struct Gathering {
    parts: Vec<Option<Message>>,
    missing: usize,
    finish: Finish,
    reply: oneshot::Sender<ResponseKind>,
}

/// The Kafka requests waiting for the core's answers.
#[derive(Default)]
pub struct Gatherer {
    next_id: u64,
    gatherings: BTreeMap<u64, Gathering>,
    /// Correlation id of a part → (gathering, part index).
    parts: BTreeMap<u64, (u64, usize)>,
}

/// A Kafka request that waits for its parts: the correlation id of each part, and where its
/// response will come.
pub struct Started {
    /// One correlation id per part, in part order.
    pub correlation_ids: Vec<u64>,
    /// The Kafka response, once every part is answered.
    pub response: oneshot::Receiver<ResponseKind>,
}

impl Gatherer {
    /// A fresh correlation id for a core request no gathering waits for (acks=0 produce).
    pub fn next_correlation_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Starts gathering `parts` answers (at least one); `None` when too many requests wait.
    pub fn start(&mut self, parts: usize, finish: Finish) -> Option<Started> {
        assert!(parts > 0, "a gathering waits for at least one part");
        if self.gatherings.len() >= GATHERINGS_MAX {
            return None;
        }
        let id = self.next_correlation_id();
        let (reply, response) = oneshot::channel();
        let correlation_ids: Vec<u64> = (0..parts)
            .map(|part| {
                let correlation_id = self.next_correlation_id();
                self.parts.insert(correlation_id, (id, part));
                correlation_id
            })
            .collect();
        self.gatherings.insert(id, Gathering { parts: vec![None; parts], missing: parts, finish, reply });
        Some(Started { correlation_ids, response })
    }

    /// An answer from the core; completes its request when it is the last part. Answers to
    /// unknown or already answered parts are ignored.
    pub fn answer(&mut self, correlation_id: u64, message: Message) {
        let Some((id, part)) = self.parts.remove(&correlation_id) else { return };
        let Some(gathering) = self.gatherings.get_mut(&id) else { return };
        assert!(gathering.parts[part].is_none(), "a part is answered once: its correlation id is gone after");
        gathering.parts[part] = Some(message);
        gathering.missing -= 1;
        if gathering.missing > 0 {
            return;
        }
        let gathering = self.gatherings.remove(&id).expect("present");
        let parts: Vec<Message> = gathering.parts.into_iter().map(|part| part.expect("all answered")).collect();
        // The connection may be gone; then nobody waits for the response.
        let _ = gathering.reply.send((gathering.finish)(parts));
    }

    /// How many Kafka requests wait.
    #[must_use]
    pub fn len(&self) -> usize {
        self.gatherings.len()
    }

    /// Whether none waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.gatherings.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::HeartbeatResponse;
    use rill_core::error::ErrorCode;
    use rill_core::protocol::{GroupAck, GroupResponse};

    fn ack(error: ErrorCode) -> Message {
        Message::GroupResponse(GroupResponse::Ack(GroupAck { error }))
    }

    #[test]
    fn a_request_completes_when_its_last_part_is_answered_in_part_order() {
        let mut gatherer = Gatherer::default();
        let finish: Finish = Box::new(|parts| {
            let codes: Vec<i16> = parts
                .iter()
                .map(|part| match part {
                    Message::GroupResponse(response) => response.error().code(),
                    _ => -1,
                })
                .collect();
            let mut response = HeartbeatResponse::default();
            response.error_code = codes[0] * 100 + codes[1];
            ResponseKind::Heartbeat(response)
        });
        let mut started = gatherer.start(2, finish).expect("room");
        let ids = started.correlation_ids.clone();
        gatherer.answer(ids[1], ack(ErrorCode::UnknownMemberId));
        assert!(started.response.try_recv().is_err(), "one part is still missing");
        gatherer.answer(ids[1], ack(ErrorCode::None)); // answered already: ignored
        gatherer.answer(999, ack(ErrorCode::None)); // unknown: ignored
        gatherer.answer(ids[0], ack(ErrorCode::IllegalGeneration));
        let Ok(ResponseKind::Heartbeat(response)) = started.response.try_recv() else { panic!("complete") };
        assert_eq!(response.error_code, 22 * 100 + 25, "parts in order, whatever the arrival order");
        assert!(gatherer.is_empty());
    }
}
