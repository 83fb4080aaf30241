//! The simulated controller quorum: one [`QuorumController`] per voter, beside that node's
//! broker (KRaft's combined mode), keeping its metadata log across crashes (KRaft fsyncs it);
//! the Raft checks after each of its steps; the metadata everyone else reads.

use super::*;

use crate::controller::quorum::{MetadataRecord, QuorumController};
use crate::controller::Controller;
use crate::protocol::MetadataImage;
use crate::raft::Durable;

/// A controller process and what it persisted.
#[derive(Debug)]
pub(super) struct ControllerSlot {
    pub(super) node: Option<QuorumController>,
    pub(super) disk: Durable<MetadataRecord>,
}

impl Sim {
    pub(super) fn start_controller(&mut self, id: BrokerId) {
        let voters = self.config.voters();
        let config = self.broker_config(id);
        let now_ms = self.now_ms;
        let rng = self.rng.fork();
        let Some(slot) = self.controllers.get_mut(&id) else { return };
        if slot.node.is_some() {
            return;
        }
        let disk = std::mem::take(&mut slot.disk);
        let node = QuorumController::new(config, &voters, disk, now_ms, rng, None).expect("validated voters");
        slot.node = Some(node);
        self.quorum_checker.restarted(id);
        self.drain(NodeId::Controller(id));
    }

    /// A crash of the host: the process goes, its metadata log stays.
    pub(super) fn stop_controller(&mut self, id: BrokerId) {
        let Some(slot) = self.controllers.get_mut(&id) else { return };
        if let Some(node) = slot.node.take() {
            slot.disk = node.durable().clone();
        }
        self.timers.remove(&NodeId::Controller(id));
    }

    pub(super) fn controller_machine(&mut self, id: BrokerId) -> Option<&mut dyn Machine> {
        self.controllers.get_mut(&id)?.node.as_mut().map(|node| node as &mut dyn Machine)
    }

    /// The Raft checks on a controller that just took a step.
    pub(super) fn check_quorum_member(&mut self, id: BrokerId) {
        let Some(node) = self.controllers.get(&id).and_then(|slot| slot.node.as_ref()) else { return };
        let before = self.quorum_checker.violations().len();
        self.quorum_checker.check_node(self.now_ms, node.quorum());
        self.report_quorum_violations(before);
    }

    pub(super) fn observe_quorum_event(&mut self, controller: BrokerId, event: &crate::raft::QuorumEvent) {
        let before = self.quorum_checker.violations().len();
        self.quorum_checker.observe_event(self.now_ms, controller, event);
        self.report_quorum_violations(before);
    }

    fn report_quorum_violations(&mut self, before: usize) {
        let new: Vec<String> = self.quorum_checker.violations()[before..].to_vec();
        for detail in new {
            self.checker.violate("metadata quorum safety", detail, self.trace_len, self.now_ms);
        }
    }

    /// The running controller that is active (the newest quorum epoch's, if two think so).
    #[must_use]
    pub fn active_controller(&self) -> Option<&QuorumController> {
        self.controllers
            .values()
            .filter_map(|slot| slot.node.as_ref())
            .filter(|node| node.active().is_some())
            .max_by_key(|node| node.quorum().epoch())
    }

    /// The active controller's id.
    #[must_use]
    pub fn active_controller_id(&self) -> Option<BrokerId> {
        self.active_controller().map(|node| node.quorum().config().node_id)
    }

    /// The active controller's state machine.
    #[must_use]
    pub fn controller(&self) -> Option<&Controller> {
        self.active_controller()?.active()
    }

    /// The controllers: node id and process (`None` while its host is down).
    pub fn controllers(&self) -> impl Iterator<Item = (BrokerId, Option<&QuorumController>)> {
        self.controllers.iter().map(|(id, slot)| (*id, slot.node.as_ref()))
    }

    /// Each voter: role, epoch, leader, metadata log end and HW, how far the leader saw it.
    #[must_use]
    pub fn quorum_snapshot(&self) -> Vec<super::spec::QuorumMemberSnapshot> {
        let active = self.active_controller_id();
        let leader_progress = self
            .controllers
            .values()
            .filter_map(|slot| slot.node.as_ref())
            .filter(|node| node.quorum().role() == crate::raft::RoleKind::Leader)
            .max_by_key(|node| node.quorum().epoch())
            .and_then(|node| node.quorum().progress());
        self.controllers
            .iter()
            .map(|(id, slot)| {
                let quorum = slot.node.as_ref().map(QuorumController::quorum);
                super::spec::QuorumMemberSnapshot {
                    id: *id,
                    status: self.brokers.get(id).map_or(BrokerStatus::Down, |b| b.status),
                    role: quorum.map(|q| q.role()),
                    epoch: quorum.map_or(slot.disk.epoch, |q| q.epoch()),
                    leader: quorum.map_or(slot.disk.leader, |q| q.leader()),
                    active: active == Some(*id),
                    log_start_offset: quorum.map_or(slot.disk.start_offset(), |q| q.start_offset()),
                    log_end_offset: quorum.map_or(slot.disk.end_offset(), |q| q.end_offset()),
                    high_watermark: quorum.map_or(0, |q| q.high_watermark()),
                    fetched_offset: leader_progress.and_then(|p| p.get(id)).map(|p| p.end_offset),
                }
            })
            .collect()
    }

    /// The cluster's metadata: the active controller's, or else the newest committed image a
    /// running controller knows (what the brokers have while no controller is active).
    #[must_use]
    pub fn metadata(&self) -> &MetadataImage {
        if let Some(controller) = self.controller() {
            return controller.image();
        }
        self.controllers
            .values()
            .filter_map(|slot| slot.node.as_ref()?.committed_image())
            .max_by_key(|image| image.metadata_epoch)
            .unwrap_or(&self.empty_image)
    }

    /// Runs an admin change on the active controller; `NOT_CONTROLLER` when none is active.
    pub(super) fn with_controller<T>(&mut self, change: impl FnOnce(&mut Controller, u64) -> Result<T>) -> Result<T> {
        let now_ms = self.now_ms;
        let Some(id) = self.active_controller_id() else {
            return Err(Error::new(ErrorCode::NotController, "no controller is active (the quorum has no leader)"));
        };
        let node = self.controllers.get_mut(&id).and_then(|slot| slot.node.as_mut()).expect("active");
        let result = node.with_active(now_ms, |controller| change(controller, now_ms));
        self.drain(NodeId::Controller(id));
        result
    }
}
