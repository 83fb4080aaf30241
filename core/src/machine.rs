//! [`Machine`]: what every sans-IO state machine of the core offers the host that drives it
//! (quinn-proto's shape): inputs are `handle_*`, outputs are drained with `poll_*`, and time
//! is always an argument. Brokers, the controller and the client models all implement it, so
//! a host — the simulation, the native broker's driver — drives each the same way.

use crate::client::{ConsumerEvent, ProduceOutcome};
use crate::event::Event;
use crate::protocol::{Message, NodeId, Outgoing};

/// Something a state machine reports besides its messages.
#[derive(Clone, Debug)]
pub enum Observation {
    /// A cluster state change (brokers and the controller).
    Event(Event),
    /// A producer's send completed (acknowledged or failed).
    Produced(ProduceOutcome),
    /// A consumer received records, reset a position, got an assignment or committed.
    Consumed(ConsumerEvent),
}

/// A sans-IO state machine.
pub trait Machine {
    /// A message from `from`; `correlation_id` is the request's (a response echoes it).
    fn handle_message(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, message: Message);
    /// Time passed: send what is due, expire what timed out. Extra calls are harmless.
    fn handle_timeout(&mut self, now_ms: u64);
    /// The next message to send.
    fn poll_output(&mut self) -> Option<Outgoing>;
    /// The next observation to report.
    fn poll_observation(&mut self) -> Option<Observation>;
    /// When to call [`Machine::handle_timeout`] next.
    fn poll_timeout(&self) -> Option<u64>;
}

/// Implements [`Machine`] by the type's inherent `handle_message`, `handle_timeout`,
/// `poll_output` and `poll_timeout`, with `poll_observation` from `$poll` wrapped in `$wrap`.
macro_rules! machine {
    ($type:ty, $poll:ident, $wrap:path $(, $generic:ident: $bound:path)?) => {
        impl$(<$generic: $bound>)? Machine for $type {
            fn handle_message(&mut self, now_ms: u64, from: NodeId, correlation_id: u64, message: Message) {
                <$type>::handle_message(self, now_ms, from, correlation_id, message);
            }
            fn handle_timeout(&mut self, now_ms: u64) {
                <$type>::handle_timeout(self, now_ms);
            }
            fn poll_output(&mut self) -> Option<Outgoing> {
                <$type>::poll_output(self)
            }
            fn poll_observation(&mut self) -> Option<Observation> {
                <$type>::$poll(self).map($wrap)
            }
            fn poll_timeout(&self) -> Option<u64> {
                <$type>::poll_timeout(self)
            }
        }
    };
}

machine!(crate::broker::BrokerNode<F>, poll_event, Observation::Event, F: crate::broker::StorageFactory);
machine!(crate::controller::Controller, poll_event, Observation::Event);
machine!(crate::controller::quorum::QuorumController, poll_event, Observation::Event);
machine!(crate::client::Producer, poll_outcome, Observation::Produced);
machine!(crate::client::Consumer, poll_event, Observation::Consumed);
machine!(crate::group::member::GroupConsumer, poll_event, Observation::Consumed);
