//! The simulated network and faults: per-direction links with latency, drops and cuts, FIFO
//! per connection (like TCP); crashes (the unflushed tail is lost), restarts, pauses.

use super::*;

impl Sim {
    pub(super) fn transmit(&mut self, from: NodeId, outgoing: Outgoing) {
        let Outgoing { to, correlation_id, message } = outgoing;
        let api = message.kind();
        let (from_host, to_host) = (self.host(from), self.host(to));
        if from_host != to_host {
            let isolated = |host: Host| matches!(host, Host::Broker(id) if self.isolated.contains(&id));
            if self.cut.contains(&(from_host, to_host)) || isolated(from_host) || isolated(to_host) {
                self.dropped(from, to, &message, DropReason::LinkCut);
                return;
            }
            if self.drop_per_million > 0 && self.rng.below(1_000_000) < u64::from(self.drop_per_million) {
                self.dropped(from, to, &message, DropReason::Random);
                return;
            }
        }
        let latency_ms = if from_host == to_host {
            0
        } else {
            self.rng.range_inclusive(self.config.network.latency_min_ms, self.config.network.latency_max_ms)
        };
        // A write to a slow disk's log waits for it before it is handled (FIFO below keeps
        // the writes on one connection in order).
        let disk_ms = match (to, &message) {
            (NodeId::Broker(id), Message::Produce(_) | Message::FetchResponse(_)) => {
                self.slow_disks.get(&id).copied().unwrap_or(0)
            }
            _ => 0,
        };
        let latency_ms = latency_ms + disk_ms;
        // FIFO per connection, like TCP.
        let link = (from, to);
        let at_ms = (self.now_ms + latency_ms).max(self.last_delivery_ms.get(&link).copied().unwrap_or(0));
        self.last_delivery_ms.insert(link, at_ms);
        self.record(TraceKind::Sent { from, to, api, deliver_at_ms: at_ms });
        let incarnation = self.incarnation(to);
        let sent_ms = self.now_ms;
        self.schedule(at_ms, Item::Deliver { from, to, correlation_id, message, incarnation, sent_ms });
    }

    pub(super) fn host(&self, node: NodeId) -> Host {
        match node {
            NodeId::Broker(id) => Host::Broker(id),
            NodeId::Controller(id) => Host::Broker(id),
            NodeId::Client(id) => Host::Client(id),
        }
    }

    pub(super) fn incarnation(&self, node: NodeId) -> u64 {
        match self.host(node) {
            Host::Broker(id) => self.brokers.get(&id).map_or(0, |slot| slot.incarnation),
            Host::Client(_) => 0,
        }
    }

    pub(super) fn status(&self, node: NodeId) -> BrokerStatus {
        match self.host(node) {
            Host::Broker(id) => self.brokers.get(&id).map_or(BrokerStatus::Down, |slot| slot.status),
            Host::Client(_) => BrokerStatus::Up,
        }
    }

    /// Applies a fault or action now (from a UI or a test).
    pub fn apply(&mut self, fault: Fault) {
        let index = self.record(TraceKind::Fault(fault.clone()));
        // Cites the event count the dashboard's header shows (not the trace index).
        self.last_fault = Some((index, format!("{fault} at {} ms (event {})", self.now_ms, self.events)));
        match fault {
            Fault::Crash(id) => self.crash(id, true),
            Fault::Kill(id) => self.crash(id, false),
            Fault::Restart(id) => self.restart(id),
            Fault::Pause(id) => {
                if let Some(slot) = self.brokers.get_mut(&id) {
                    if slot.status == BrokerStatus::Up {
                        slot.status = BrokerStatus::Paused;
                    }
                }
            }
            Fault::Resume(id) => self.resume(id),
            Fault::CutLink { from, to } => {
                self.cut.insert((Host::Broker(from), Host::Broker(to)));
            }
            Fault::HealLink { from, to } => {
                self.cut.remove(&(Host::Broker(from), Host::Broker(to)));
            }
            Fault::Isolate(id) => {
                self.isolated.insert(id);
            }
            Fault::Reconnect(id) => {
                self.isolated.remove(&id);
            }
            Fault::HealNetwork => {
                self.cut.clear();
                self.isolated.clear();
                self.drop_per_million = 0;
            }
            Fault::SetDropRate(ppm) => self.drop_per_million = ppm.min(1_000_000),
            Fault::SlowDisk { broker, ms: 0 } => {
                self.slow_disks.remove(&broker);
            }
            Fault::SlowDisk { broker, ms } => {
                self.slow_disks.insert(broker, ms.min(SLOW_DISK_MS_MAX));
            }
            Fault::Reassign { topic, partition, replicas } => {
                let tp = TopicPartition::new(&topic, partition);
                let request = crate::protocol::AlterReassignments {
                    partitions: vec![(tp, replicas)],
                    allow_replication_factor_change: true,
                };
                // Refusals (no active controller, a bad target) leave the cluster as it was, as
                // the tool's failed call does; `Sim::fault` checks targets before they get here.
                let _ = self.with_controller(|controller, now_ms| Ok(controller.alter_reassignments(now_ms, &request)));
            }
        }
    }

    /// Stops broker `id`; with `power_loss` its storage loses what was not flushed (a process
    /// crash keeps it: the OS page cache survives the process).
    pub(super) fn crash(&mut self, id: BrokerId, power_loss: bool) {
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        if slot.status == BrokerStatus::Down {
            return;
        }
        slot.status = BrokerStatus::Down;
        let held = std::mem::take(&mut slot.held);
        // A controller-only node has no broker: only its controller stops (below).
        let mut lost = Vec::new();
        debug_assert_eq!(slot.node.is_some(), slot.runs_broker, "a running broker node, unless controller-only");
        if let Some(node) = slot.node.take() {
            let mut storages = node.into_storages();
            for (tp, storage) in &mut storages {
                let before = storage.log_end_offset();
                if power_loss {
                    storage.crash();
                }
                let after = storage.log_end_offset();
                if after < before {
                    lost.push(Event::LostUnflushed {
                        broker: id,
                        tp: tp.clone(),
                        from_offset: before,
                        to_offset: after,
                    });
                }
            }
            slot.kept = storages;
        }
        self.timers.remove(&NodeId::Broker(id));
        self.stop_controller(id);
        // Requests held by a paused node die with it (no trace line: the crash says it).
        for (_, to, _, message) in held {
            self.lost_on_the_way(to, &message, DropReason::NodeDown, self.trace_len);
        }
        for event in lost {
            self.observe_event(NodeId::Broker(id), event);
        }
    }

    pub(super) fn restart(&mut self, id: BrokerId) {
        let config = self.broker_config(id);
        let now_ms = self.now_ms;
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        if slot.status != BrokerStatus::Down {
            return;
        }
        slot.incarnation += 1;
        slot.status = BrokerStatus::Up;
        // A controller-only node has no broker to start: only its controller (below).
        if slot.runs_broker {
            let kept = std::mem::take(&mut slot.kept);
            let mut node = BrokerNode::new(config, MemStorageFactory::with(kept), now_ms);
            node.set_controllers(self.config.voters());
            slot.node = Some(node);
            self.wake(NodeId::Broker(id), now_ms);
        }
        self.start_controller(id);
    }

    pub(super) fn resume(&mut self, id: BrokerId) {
        let now_ms = self.now_ms;
        let Some(slot) = self.brokers.get_mut(&id) else {
            return;
        };
        if slot.status != BrokerStatus::Paused {
            return;
        }
        slot.status = BrokerStatus::Up;
        let held = std::mem::take(&mut slot.held);
        let incarnation = slot.incarnation;
        for (from, to, correlation_id, message) in held {
            self.schedule(now_ms, Item::Deliver { from, to, correlation_id, message, incarnation, sent_ms: now_ms });
        }
        self.wake(NodeId::Broker(id), now_ms);
        if self.controllers.contains_key(&id) {
            self.wake(NodeId::Controller(id), now_ms);
        }
    }
}
