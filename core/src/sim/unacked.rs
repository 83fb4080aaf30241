//! The fate of acks=0 writes. Their producer counts a record as sent the moment it leaves
//! (Kafka's acks=0: no response ever comes), so only the simulation can tell whether it
//! reached a leader's log. It watches each acks=0 produce request: dropped on the way, refused
//! by the broker, or appended at an offset. A record that never landed is a loss the moment
//! that is known; one that landed is checked like any acknowledged write from then on.

use super::checker::SendFate;
use super::trace::{fingerprint, DropReason};
use super::*;

/// The partition and record fingerprint of an acks=0 produce request carrying one record
/// (what the simulated producer sends), if `message` is one.
pub(super) fn unacknowledged_write(message: &Message) -> Option<(TopicPartition, u64)> {
    let Message::Produce(produce) = message else { return None };
    if produce.acks != Acks::None {
        return None;
    }
    let mut records = produce.batch.records();
    let record = records.next()?.ok()?;
    if records.next().is_some() {
        return None;
    }
    Some((produce.tp.clone(), fingerprint(record.record.key.as_deref(), record.record.value.as_deref())))
}

impl Sim {
    /// Records a message lost on the way (and tells the checker if it was an acks=0 write).
    pub(super) fn dropped(&mut self, from: NodeId, to: NodeId, message: &Message, reason: DropReason) {
        let index = self.record(TraceKind::Dropped { from, to, api: message.kind(), reason });
        self.lost_on_the_way(to, message, reason, index);
    }

    /// Tells the checker when a lost message was an acks=0 write.
    pub(super) fn lost_on_the_way(&mut self, to: NodeId, message: &Message, reason: DropReason, index: u64) {
        let (Some((tp, print)), NodeId::Broker(broker)) = (unacknowledged_write(message), to) else { return };
        let cause = match reason {
            DropReason::LinkCut => format!("never arrived: the network between it and broker {broker} was cut"),
            DropReason::Random => format!("never arrived: the network dropped it on the way to broker {broker}"),
            DropReason::NodeDown => format!("never arrived: broker {broker} was down"),
            DropReason::ByHand => format!("never arrived: dropped by hand on the way to broker {broker}"),
        };
        let listed = self.checker.report().lost_writes.len();
        self.checker.on_send_fate(&tp, print, SendFate::NeverLanded(broker, cause), index, self.now_ms);
        self.checker.stamp_losses(listed, None, self.events);
    }

    /// The log end of `tp` on broker `id` if it leads `tp` (where an acks=0 write would land).
    pub(super) fn leader_log_end(&self, id: BrokerId, tp: &TopicPartition) -> Option<i64> {
        let broker = self.brokers.get(&id)?.node.as_ref()?;
        broker.leader_logs().find(|(led, _, _)| *led == tp).map(|(_, _, log)| log.log_end_offset())
    }

    /// After broker `id` handled an acks=0 write of `print` to `tp`: it landed if the leader's
    /// log grew from `log_end_before`, otherwise the broker refused it.
    pub(super) fn settle_unacknowledged(
        &mut self,
        id: BrokerId,
        (tp, print): (TopicPartition, u64),
        log_end_before: Option<i64>,
        refusal: Option<ErrorCode>,
    ) {
        let index = self.trace_len;
        let after = self.leader_log_end(id, &tp);
        let fate = match (log_end_before, after) {
            (Some(before), Some(after)) if after > before => {
                assert_eq!(after, before + 1, "a one-record produce appends one offset");
                SendFate::Landed(before)
            }
            _ => {
                let error = refusal.unwrap_or(ErrorCode::NotLeaderOrFollower);
                SendFate::NeverLanded(id, format!("broker {id} refused it ({error}); an acks=0 producer is never told"))
            }
        };
        let listed = self.checker.report().lost_writes.len();
        self.checker.on_send_fate(&tp, print, fate, index, self.now_ms);
        self.checker.stamp_losses(listed, None, self.events);
    }
}
