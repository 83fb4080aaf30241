//! Consumer groups: Kafka's classic group protocol (the coordinator state machine and the
//! assignors its leader member runs) and KIP-848's consumer groups ([`consumer`]), whose
//! coordinator assigns and whose members reconcile incrementally.
//!
//! [`coordinator::GroupCoordinator`] is sans-IO like every core state machine: requests come in
//! with `now_ms`, responses (some delayed until a rebalance phase completes) are drained with
//! `poll_output`, and `poll_timeout` says when session, rebalance and initial-delay timers are
//! due. Member metadata and assignments are opaque bytes to the coordinator, as on the wire;
//! the client side (the leader member) runs an [`assignor::Assignor`].

pub mod assignor;
pub mod consumer;
pub mod coordinator;
pub mod member;
pub mod subscription;
