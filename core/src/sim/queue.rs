//! The event queue: deliveries, timers, faults and producer ticks in (time, sequence) order,
//! so equal times keep the order they were scheduled in.

use super::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Host {
    Broker(BrokerId),
    Client(u32),
}

#[derive(Debug)]
pub(super) enum Item {
    /// `incarnation` is the destination host's incarnation when the message was sent: a
    /// message to a broker that has since crashed and restarted is lost with the old TCP
    /// connection.
    Deliver {
        from: NodeId,
        to: NodeId,
        correlation_id: u64,
        message: Message,
        incarnation: u64,
        sent_ms: u64,
    },
    Timer(NodeId),
    Fault(Fault),
    ProducerTick(u32),
}

/// Pending events in (time, sequence) order. Items sit in a slab so the heap moves only
/// 24-byte keys, not messages.
#[derive(Debug, Default)]
pub(super) struct EventQueue {
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    slots: Vec<Option<Item>>,
    free: Vec<usize>,
    next_seq: u64,
}

impl EventQueue {
    pub(super) fn push(&mut self, at_ms: u64, item: Item) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                self.slots.len() - 1
            }
        };
        self.heap.push(Reverse((at_ms, self.next_seq, slot)));
        self.next_seq += 1;
    }

    pub(super) fn pop(&mut self) -> Option<(u64, Item)> {
        let Reverse((at_ms, _, slot)) = self.heap.pop()?;
        let item = self.slots[slot].take().expect("a queued slot holds its item");
        self.free.push(slot);
        Some((at_ms, item))
    }

    pub(super) fn items(&self) -> impl Iterator<Item = (u64, &Item)> {
        self.heap.iter().filter_map(|Reverse((at_ms, _, slot))| Some((*at_ms, self.slots[*slot].as_ref()?)))
    }

    /// How many items wait.
    pub(super) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(super) fn peek_ms(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at_ms, _, _))| *at_ms)
    }

    /// Removes and returns the earliest item (by time, then sequence) `matches` accepts.
    pub(super) fn take_first(&mut self, matches: impl Fn(u64, &Item) -> bool) -> Option<Item> {
        let (_, _, slot) = self
            .heap
            .iter()
            .filter(|Reverse((at_ms, _, slot))| self.slots[*slot].as_ref().is_some_and(|item| matches(*at_ms, item)))
            .map(|Reverse(key)| *key)
            .min()?;
        self.heap.retain(|Reverse((_, _, queued))| *queued != slot);
        self.free.push(slot);
        self.slots[slot].take()
    }

    /// Removes and returns every item `matches` accepts, in (time, sequence) order.
    pub(super) fn take_all(&mut self, matches: impl Fn(u64, &Item) -> bool) -> Vec<(u64, Item)> {
        let mut keys: Vec<(u64, u64, usize)> = self
            .heap
            .iter()
            .filter(|Reverse((at_ms, _, slot))| self.slots[*slot].as_ref().is_some_and(|item| matches(*at_ms, item)))
            .map(|Reverse(key)| *key)
            .collect();
        keys.sort_unstable();
        self.heap.retain(|Reverse(key)| keys.binary_search(key).is_err());
        keys.into_iter()
            .map(|(at_ms, _, slot)| {
                self.free.push(slot);
                (at_ms, self.slots[slot].take().expect("a queued slot holds its item"))
            })
            .collect()
    }

    /// Keeps only the items `keep` accepts, in their order.
    pub(super) fn retain(&mut self, keep: impl Fn(&Item) -> bool) {
        let mut entries = Vec::with_capacity(self.heap.len());
        while let Some(Reverse((at_ms, seq, slot))) = self.heap.pop() {
            let item = self.slots[slot].take().expect("a queued slot holds its item");
            entries.push((at_ms, seq, item));
        }
        self.slots.clear();
        self.free.clear();
        for (at_ms, seq, item) in entries {
            if keep(&item) {
                self.slots.push(Some(item));
                self.heap.push(Reverse((at_ms, seq, self.slots.len() - 1)));
            }
        }
    }
}
