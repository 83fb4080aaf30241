//! The driver: one broker's `rill-core` state machines (its `BrokerNode` over file storage and,
//! on the controller host, the `Controller`), fed with client requests, messages and timeouts
//! through `handle_*`, and drained through `poll_*`. Kafka requests are translated into the
//! core's per-partition messages and the core's answers gathered back into Kafka responses;
//! no replication, election or group logic lives here.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use rill_core::broker::{BrokerNode, StorageFactory};
use rill_core::config::BrokerConfig;
use rill_core::controller::Controller;
use rill_core::error::ErrorCode;
use rill_core::event::Event;
use rill_core::group::coordinator::{GroupRequest, GroupResponse, OFFSETS_TOPIC};
use rill_core::log::ReadLimit;
use rill_core::protocol::{Acks, Message, NodeId, TopicPartition};
use rill_core::record::RecordBatch;
use rill_core::rng::Rng;
use rill_core::topic::NewTopic;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::cluster::{self, ClusterNode, Frame, Incoming};
use crate::metrics::Metrics;
use crate::storage::FileStorage;

/// Opens each partition's directory under `log.dirs`.
#[derive(Debug)]
pub struct FileStorageFactory {
    log_dir: PathBuf,
}

impl StorageFactory for FileStorageFactory {
    type Storage = FileStorage;

    fn open(&mut self, tp: &TopicPartition) -> FileStorage {
        let dir = self.log_dir.join(format!("{}-{}", tp.topic, tp.partition));
        match FileStorage::open(&dir) {
            Ok(storage) => {
                if storage.recovered_bytes() > 0 {
                    tracing::warn!(partition = %tp, bytes = storage.recovered_bytes(), "recovery truncated a torn or corrupt log tail");
                }
                storage
            }
            Err(error) => {
                tracing::error!(partition = %tp, %error, "cannot open the partition's log");
                FileStorage::failed(&dir, error.to_string())
            }
        }
    }

    fn delete(&mut self, tp: &TopicPartition, storage: FileStorage) {
        let dir = storage.dir().to_path_buf();
        drop(storage);
        // Like Kafka: rename out of the way first, so a crash mid-delete leaves no half log.
        let doomed = dir.with_file_name(format!("{}-{}.deleted", tp.topic, tp.partition));
        let removed = std::fs::rename(&dir, &doomed).and_then(|()| std::fs::remove_dir_all(&doomed));
        match removed {
            Ok(()) => tracing::info!(partition = %tp, "deleted the partition's log"),
            Err(error) => tracing::error!(partition = %tp, %error, "could not delete the partition's log"),
        }
    }
}

/// A Kafka response, or none (acks=0 produce).
pub enum Reply {
    /// Answer now.
    Now(Box<ResponseKind>),
    /// Answer when the core has answered.
    Later(oneshot::Receiver<ResponseKind>),
    /// No response at all (Kafka sends none for acks=0).
    Nothing,
}

/// One Kafka request waiting for the core's answers to its parts.
struct Waiting {
    parts: Vec<Option<Message>>,
    missing: usize,
    kind: WaitKind,
    reply: Option<oneshot::Sender<ResponseKind>>,
}

enum WaitKind {
    Produce { topics: Vec<(String, Vec<i32>)>, version: i16 },
    Fetch(FetchWait),
    FindCoordinator { keys: Vec<String>, version: i16 },
    InitProducerId,
    Join { version: i16 },
    Sync { version: i16 },
    Heartbeat,
    Leave { members: Vec<String>, version: i16 },
    OffsetCommit { topics: Vec<(String, Vec<i32>)> },
    OffsetFetch { group_id: String, version: i16 },
}

#[derive(Clone)]
struct FetchWait {
    /// (topic, topic id, partition, fetch offset, max bytes).
    partitions: Vec<(String, Uuid, i32, i64, usize)>,
    min_bytes: usize,
    deadline_ms: u64,
    use_ids: bool,
    first: bool,
    version: i16,
}

/// The broker's state machines and what is waiting on them.
pub struct Node {
    config: BrokerConfig,
    started: Instant,
    broker: BrokerNode<FileStorageFactory>,
    controller: Option<Controller>,
    advertised_host: String,
    advertised_port: i32,
    cluster_id: String,
    next_request_id: u64,
    waiting: BTreeMap<u64, Waiting>,
    /// Core request id → (waiting id, part index).
    parts: BTreeMap<u64, (u64, usize)>,
    /// Fetches parked until data arrives or their deadline.
    parked: Vec<(u64, FetchWait)>,
    metadata_log: PathBuf,
    /// Topics from the metadata file, created again once this broker has registered.
    restore: Vec<NewTopic>,
    /// Where the controller persists its metadata.
    snapshot_path: PathBuf,
    /// Metadata epoch of the last persisted snapshot.
    persisted_epoch: i64,
    /// The cluster's nodes (empty: one node).
    nodes: Vec<ClusterNode>,
    /// Senders to the other nodes.
    peers: BTreeMap<i32, tokio::sync::mpsc::UnboundedSender<Frame>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
}

fn err(code: ErrorCode) -> i16 {
    code.code()
}

fn name(text: &str) -> TopicName {
    TopicName(StrBytes::from_string(text.to_owned()))
}

fn str_bytes(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_owned())
}

impl Node {
    /// Starts this broker's state machines over `log.dirs`, replaying the topics the
    /// controller had created (its metadata file) so a restarted broker finds its partitions.
    pub fn new(
        config: BrokerConfig,
        advertised_host: String,
        advertised_port: i32,
        nodes: Vec<ClusterNode>,
        peers: BTreeMap<i32, tokio::sync::mpsc::UnboundedSender<Frame>>,
    ) -> Result<Node, String> {
        let log_dir = PathBuf::from(config.log_dirs.split(',').next().unwrap_or("/tmp/rill-logs"));
        std::fs::create_dir_all(&log_dir).map_err(|e| format!("cannot create log.dirs {}: {e}", log_dir.display()))?;
        let factory = FileStorageFactory { log_dir: log_dir.clone() };
        let started = Instant::now();
        let broker = BrokerNode::new(config.clone(), factory, 0);
        // A one-node KRaft quorum: the controller runs here (see ARCHITECTURE.md).
        let controller = Controller::new(config.clone(), Rng::from_seed(u64::from(config.node_id.unsigned_abs())));
        let metadata_log = log_dir.join("__rill_topics.properties");
        let mut restore = Vec::new();
        if let Ok(text) = std::fs::read_to_string(&metadata_log) {
            for line in text.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')) {
                if let Some(name) = line.strip_prefix("delete ") {
                    restore.retain(|topic: &NewTopic| topic.name != name.trim());
                    continue;
                }
                match parse_topic_line(line) {
                    Some(topic) => restore.push(topic),
                    None => tracing::warn!(line, "ignoring a bad line in the topic metadata file"),
                }
            }
        }
        let mut controller = controller;
        let hosts_controller = nodes.first().is_none_or(|first| first.id == config.node_id);
        // The controller's snapshot (every published image) supersedes the topic list: it keeps
        // partition leaders, ISRs and epochs across a restart.
        let snapshot_path = log_dir.join("__rill_metadata.json");
        let mut restored_names: Option<Vec<String>> = None;
        if hosts_controller {
            if let Ok(bytes) = std::fs::read(&snapshot_path) {
                match cluster::image_from_json(&bytes) {
                    Ok(image) => {
                        restored_names = Some(image.topics.keys().map(ToString::to_string).collect());
                        tracing::info!(
                            metadata_epoch = image.metadata_epoch,
                            topics = image.topics.len(),
                            "controller restored its metadata"
                        );
                        controller.restore(0, image);
                        restore.clear();
                    }
                    Err(error) => tracing::error!(%error, "ignoring an unreadable metadata snapshot"),
                }
            }
        }
        // Partition directories of topics the metadata no longer has (a crash between a topic's
        // deletion and the removal of its files) must not come back if the name is reused.
        let known: std::collections::BTreeSet<&str> = match &restored_names {
            Some(names) => names.iter().map(String::as_str).collect(),
            None => restore.iter().map(|t| t.name.as_str()).collect(),
        };
        // Only the controller's host knows the topics before any metadata arrives.
        // Only with a readable snapshot: without one nothing is known, and nothing is deleted.
        let cleanup =
            if hosts_controller && restored_names.is_some() { std::fs::read_dir(&log_dir).ok() } else { None };
        if let Some(entries) = cleanup {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let Some((topic, partition)) = name.rsplit_once('-') else { continue };
                let orphan = name.ends_with(".deleted") || (partition.parse::<i32>().is_ok() && !known.contains(topic));
                if orphan && entry.path().is_dir() {
                    tracing::warn!(dir = %entry.path().display(), "removing the log of a deleted topic");
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let mut node = Node {
            // One id for the whole cluster (named after the controller's host).
            cluster_id: format!("rill-{}", nodes.first().map_or(config.node_id, |n| n.id)),
            config,
            started,
            broker,
            controller: hosts_controller.then_some(controller),
            advertised_host,
            advertised_port,
            next_request_id: 1,
            waiting: BTreeMap::new(),
            parts: BTreeMap::new(),
            parked: Vec::new(),
            metadata_log,
            restore,
            snapshot_path,
            persisted_epoch: 0,
            nodes,
            peers,
            metrics: Arc::new(Metrics::default()),
        };
        node.tick();
        Ok(node)
    }

    /// Milliseconds since start: the core's clock.
    #[must_use]
    pub fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// When `tick` should run next (ms since start).
    #[must_use]
    pub fn next_deadline_ms(&self) -> u64 {
        let mut next = self.now_ms() + 1_000;
        if let Some(at) = self.broker.poll_timeout() {
            next = next.min(at);
        }
        if let Some(at) = self.controller.as_ref().and_then(Controller::poll_timeout) {
            next = next.min(at);
        }
        for (_, fetch) in &self.parked {
            next = next.min(fetch.deadline_ms);
        }
        next
    }

    /// Runs due timeouts and answers expired fetches.
    pub fn tick(&mut self) {
        let now = self.now_ms();
        self.broker.handle_timeout(now);
        if let Some(controller) = self.controller.as_mut() {
            controller.handle_timeout(now);
        }
        self.pump();
        if !self.restore.is_empty() && self.broker.image().brokers.contains_key(&self.config.node_id) {
            let Some(controller) = self.controller.as_mut() else { return };
            for topic in std::mem::take(&mut self.restore) {
                if let Err(error) = controller.create_topic(now, &topic) {
                    tracing::warn!(%error, topic = topic.name, "could not restore a topic");
                }
            }
            self.pump();
        }
        let expired: Vec<(u64, FetchWait)> = {
            let (expired, kept) = std::mem::take(&mut self.parked).into_iter().partition(|(_, f)| f.deadline_ms <= now);
            self.parked = kept;
            expired
        };
        for (wait_id, fetch) in expired {
            self.issue_fetch(wait_id, fetch, true);
        }
        self.pump();
        self.update_gauges();
    }

    fn update_gauges(&self) {
        let mut under = 0;
        for view in self.broker.replicas() {
            if view.is_leader {
                if let Some(state) = self.broker.image().partition(&view.tp) {
                    if state.isr.len() < state.replicas.len() {
                        under += 1;
                    }
                }
            }
        }
        self.metrics.set_under_replicated(under);
        // Consumer lag of the groups this broker coordinates: leader HW − committed offset.
        for (_, coordinator) in self.broker.coordinators() {
            for (group_id, _) in coordinator.list_groups() {
                for (tp, committed) in coordinator.committed(&group_id) {
                    if let Some(log) = self.broker.log(&tp) {
                        let lag = (log.high_watermark() - committed).max(0);
                        self.metrics.set_lag(&group_id, &tp.topic, tp.partition, lag);
                    }
                }
            }
        }
    }

    /// Moves messages between the state machines until they are quiet.
    fn pump(&mut self) {
        let id = self.config.node_id;
        for _ in 0..10_000 {
            let mut moved = false;
            let now = self.now_ms();
            while let Some(out) = self.broker.poll_output() {
                moved = true;
                match out.to {
                    NodeId::Controller => match self.controller.as_mut() {
                        Some(controller) => controller.handle_message(now, NodeId::Broker(id), out.message),
                        None => {
                            let host = self.nodes.first().map_or(id, |n| n.id);
                            self.send_peer(host, NodeId::Broker(id), true, &out.message);
                        }
                    },
                    NodeId::Client(_) => self.answer(out.message),
                    NodeId::Broker(other) if other == id => {
                        self.broker.handle_message(now, NodeId::Broker(id), out.message);
                    }
                    NodeId::Broker(other) => self.send_peer(other, NodeId::Broker(id), false, &out.message),
                }
            }
            let mut remote = Vec::new();
            let mut events = Vec::new();
            if let Some(controller) = self.controller.as_mut() {
                while let Some(out) = controller.poll_output() {
                    moved = true;
                    if out.to == NodeId::Broker(id) {
                        self.broker.handle_message(now, NodeId::Controller, out.message);
                    } else if let NodeId::Broker(other) = out.to {
                        remote.push((other, out.message));
                    }
                }
                while let Some(event) = controller.poll_event() {
                    events.push(event);
                }
            }
            if !remote.is_empty() {
                // Durable before any other node can act on it.
                self.persist_snapshot();
            }
            for (other, message) in remote {
                self.send_peer(other, NodeId::Controller, false, &message);
            }
            for event in events {
                self.observe(&event);
            }
            while let Some(event) = self.broker.poll_event() {
                self.observe(&event);
            }
            if !moved {
                self.persist_snapshot();
                return;
            }
        }
        tracing::error!("the state machines did not settle after 10000 rounds");
    }

    fn send_peer(&self, to: i32, from: NodeId, to_controller: bool, message: &Message) {
        match (self.peers.get(&to), cluster::encode(from, to_controller, message)) {
            (Some(peer), Some(frame)) => {
                let _ = peer.send(frame);
            }
            _ => tracing::debug!(to, kind = message.kind(), "no route to the node"),
        }
    }

    /// A message from another node.
    pub fn handle_incoming(&mut self, incoming: Incoming) {
        let now = self.now_ms();
        match incoming {
            Incoming::Message { from, to_controller: true, message } => {
                if let Some(controller) = self.controller.as_mut() {
                    controller.handle_message(now, from, message);
                }
            }
            Incoming::Message { from, to_controller: false, message } => self.broker.handle_message(now, from, message),
            Incoming::EnsureOffsetsTopic => self.ensure_offsets_topic(),
        }
        self.pump();
    }

    /// Whether this node hosts the controller.
    #[must_use]
    pub fn is_controller(&self) -> bool {
        self.controller.is_some()
    }

    /// Host and Kafka port of a node.
    fn endpoint_of(&self, id: i32) -> (StrBytes, i32) {
        match self.nodes.iter().find(|n| n.id == id) {
            Some(node) => (str_bytes(&node.host), i32::from(node.kafka_port)),
            None => (str_bytes(&self.advertised_host), self.advertised_port),
        }
    }

    fn observe(&mut self, event: &Event) {
        match event {
            Event::HighWatermarkAdvanced { tp, .. } | Event::Appended { tp, .. } => {
                let woken: Vec<(u64, FetchWait)> = {
                    let (woken, kept) = std::mem::take(&mut self.parked).into_iter().partition(|(_, f)| {
                        f.partitions.iter().any(|(topic, _, partition, _, _)| {
                            topic.as_str() == tp.topic.as_ref() && *partition == tp.partition
                        })
                    });
                    self.parked = kept;
                    woken
                };
                for (wait_id, fetch) in woken {
                    self.issue_fetch(wait_id, fetch, false);
                }
                return;
            }
            Event::IsrChanged { old_isr, new_isr, .. } => {
                if new_isr.len() < old_isr.len() {
                    self.metrics.isr_shrinks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                } else {
                    self.metrics.isr_expands.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            }
            _ => {}
        }
        tracing::info!("{event}");
    }

    /// A fresh id for a waiting request or one of the core requests it is made of.
    fn next_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    fn new_wait(&mut self, kind: WaitKind, parts: usize) -> (u64, oneshot::Receiver<ResponseKind>) {
        let (sender, receiver) = oneshot::channel();
        let wait_id = self.next_id();
        self.waiting.insert(wait_id, Waiting { parts: vec![None; parts], missing: parts, kind, reply: Some(sender) });
        (wait_id, receiver)
    }

    fn send_part(&mut self, conn: u32, wait_id: u64, part: usize, make: impl FnOnce(u64) -> Message) {
        let request_id = self.next_id();
        self.parts.insert(request_id, (wait_id, part));
        let now = self.now_ms();
        self.broker.handle_message(now, NodeId::Client(conn), make(request_id));
    }

    fn answer(&mut self, message: Message) {
        let request_id = match &message {
            Message::ProduceResponse { request_id, .. }
            | Message::FetchResponse { request_id, .. }
            | Message::FindCoordinatorResponse { request_id, .. }
            | Message::InitProducerIdResponse { request_id, .. }
            | Message::MetadataResponse { request_id, .. } => *request_id,
            Message::GroupResponse(response) => match response {
                GroupResponse::Join { request_id, .. }
                | GroupResponse::Sync { request_id, .. }
                | GroupResponse::Ack { request_id, .. }
                | GroupResponse::Offsets { request_id, .. } => *request_id,
            },
            _ => return,
        };
        let Some((wait_id, part)) = self.parts.remove(&request_id) else { return };
        let Some(waiting) = self.waiting.get_mut(&wait_id) else { return };
        if waiting.parts[part].is_none() {
            waiting.parts[part] = Some(message);
            waiting.missing -= 1;
        }
        if waiting.missing == 0 {
            let waiting = self.waiting.remove(&wait_id).expect("present");
            self.complete(wait_id, waiting);
        }
    }

    fn complete(&mut self, wait_id: u64, mut waiting: Waiting) {
        let parts = std::mem::take(&mut waiting.parts);
        let response = match waiting.kind {
            WaitKind::Produce { topics, version } => produce_response(&topics, parts, version),
            WaitKind::Fetch(fetch) => {
                let bytes: usize = parts
                    .iter()
                    .map(|p| match p {
                        Some(Message::FetchResponse { batches, .. }) => {
                            batches.iter().map(RecordBatch::size_bytes).sum()
                        }
                        _ => 0,
                    })
                    .sum();
                let errored = parts
                    .iter()
                    .any(|p| matches!(p, Some(Message::FetchResponse { error, .. }) if *error != ErrorCode::None));
                if fetch.first && bytes < fetch.min_bytes && !errored && self.now_ms() < fetch.deadline_ms {
                    // Long poll (`fetch.max.wait.ms`/`min_bytes`): wait for new data or the deadline.
                    let mut fetch = fetch;
                    fetch.first = false;
                    self.waiting.insert(
                        wait_id,
                        Waiting {
                            parts: Vec::new(),
                            missing: 0,
                            kind: WaitKind::InitProducerId,
                            reply: waiting.reply.take(),
                        },
                    );
                    self.parked.push((wait_id, fetch));
                    return;
                }
                self.metrics.bytes_out.fetch_add(bytes as u64, std::sync::atomic::Ordering::Relaxed);
                fetch_response(&fetch, parts)
            }
            WaitKind::FindCoordinator { keys, version } => self.find_coordinator_response(&keys, parts, version),
            WaitKind::InitProducerId => {
                let mut response = InitProducerIdResponse::default();
                if let Some(Message::InitProducerIdResponse { error, producer_id, producer_epoch, .. }) =
                    parts.into_iter().next().flatten()
                {
                    response.error_code = err(error);
                    response.producer_id = ProducerId(producer_id);
                    response.producer_epoch = producer_epoch;
                }
                ResponseKind::InitProducerId(response)
            }
            WaitKind::Join { version } => {
                let mut response = JoinGroupResponse::default();
                if let Some(Message::GroupResponse(GroupResponse::Join {
                    error,
                    generation_id,
                    protocol_name,
                    leader,
                    member_id,
                    members,
                    ..
                })) = parts.into_iter().next().flatten()
                {
                    response.error_code = err(error);
                    response.generation_id = generation_id;
                    if version >= 7 {
                        response.protocol_type = Some(str_bytes("consumer"));
                    }
                    response.protocol_name = Some(str_bytes(&protocol_name));
                    response.leader = str_bytes(&leader);
                    response.member_id = str_bytes(&member_id);
                    response.members = members
                        .into_iter()
                        .map(|(member_id, metadata)| {
                            let mut member = JoinGroupResponseMember::default();
                            member.member_id = str_bytes(&member_id);
                            member.metadata = metadata;
                            member
                        })
                        .collect();
                }
                ResponseKind::JoinGroup(response)
            }
            WaitKind::Sync { version } => {
                let mut response = SyncGroupResponse::default();
                if let Some(Message::GroupResponse(GroupResponse::Sync { error, assignment, .. })) =
                    parts.into_iter().next().flatten()
                {
                    response.error_code = err(error);
                    response.assignment = assignment;
                    if version >= 5 {
                        response.protocol_type = Some(str_bytes("consumer"));
                    }
                }
                ResponseKind::SyncGroup(response)
            }
            WaitKind::Heartbeat => {
                let mut response = HeartbeatResponse::default();
                response.error_code = ack_error(parts.into_iter().next().flatten());
                ResponseKind::Heartbeat(response)
            }
            WaitKind::Leave { members, version } => {
                let errors: Vec<i16> = parts.into_iter().map(ack_error).collect();
                let mut response = LeaveGroupResponse::default();
                if version >= 3 {
                    response.members = members
                        .iter()
                        .zip(&errors)
                        .map(|(member_id, error)| {
                            let mut member = leave_group_response::MemberResponse::default();
                            member.member_id = str_bytes(member_id);
                            member.error_code = *error;
                            member
                        })
                        .collect();
                } else {
                    response.error_code = errors.first().copied().unwrap_or(0);
                }
                ResponseKind::LeaveGroup(response)
            }
            WaitKind::OffsetCommit { topics } => {
                let error = ack_error(parts.into_iter().next().flatten());
                let mut response = OffsetCommitResponse::default();
                response.topics = topics
                    .iter()
                    .map(|(topic, partitions)| {
                        let mut t = offset_commit_response::OffsetCommitResponseTopic::default();
                        t.name = name(topic);
                        t.partitions = partitions
                            .iter()
                            .map(|p| {
                                let mut r = offset_commit_response::OffsetCommitResponsePartition::default();
                                r.partition_index = *p;
                                r.error_code = error;
                                r
                            })
                            .collect();
                        t
                    })
                    .collect();
                ResponseKind::OffsetCommit(response)
            }
            WaitKind::OffsetFetch { group_id, version } => {
                offset_fetch_response(&group_id, parts.into_iter().next().flatten(), version)
            }
        };
        if let Some(reply) = waiting.reply.take() {
            let _ = reply.send(response);
        }
    }

    // ----- requests -----

    /// Handles one decoded request from connection `conn`.
    pub fn handle(&mut self, conn: u32, version: i16, request: RequestKind) -> Reply {
        let reply = match request {
            RequestKind::Metadata(request) => {
                Reply::Now(Box::new(ResponseKind::Metadata(self.metadata(&request, version))))
            }
            RequestKind::CreateTopics(request) => {
                Reply::Now(Box::new(ResponseKind::CreateTopics(self.create_topics(&request, version))))
            }
            RequestKind::DeleteTopics(request) => {
                Reply::Now(Box::new(ResponseKind::DeleteTopics(self.delete_topics(&request, version))))
            }
            RequestKind::Produce(request) => self.produce(conn, request, version),
            RequestKind::Fetch(request) => self.fetch(conn, &request, version),
            RequestKind::ListOffsets(request) => {
                Reply::Now(Box::new(ResponseKind::ListOffsets(self.list_offsets(&request, version))))
            }
            RequestKind::FindCoordinator(request) => self.find_coordinator(conn, &request, version),
            RequestKind::InitProducerId(request) => self.init_producer_id(conn, &request),
            RequestKind::JoinGroup(request) => {
                let (wait_id, receiver) = self.new_wait(WaitKind::Join { version }, 1);
                let group = GroupRequest::Join {
                    request_id: 0,
                    group_id: request.group_id.0.to_string(),
                    member_id: request.member_id.to_string(),
                    session_timeout_ms: u64::try_from(request.session_timeout_ms).unwrap_or(10_000),
                    rebalance_timeout_ms: u64::try_from(request.rebalance_timeout_ms).unwrap_or(300_000),
                    protocol_type: request.protocol_type.to_string(),
                    protocols: request.protocols.iter().map(|p| (p.name.to_string(), p.metadata.clone())).collect(),
                };
                self.send_group(conn, wait_id, 0, group);
                Reply::Later(receiver)
            }
            RequestKind::SyncGroup(request) => {
                let (wait_id, receiver) = self.new_wait(WaitKind::Sync { version }, 1);
                let group = GroupRequest::Sync {
                    request_id: 0,
                    group_id: request.group_id.0.to_string(),
                    generation_id: request.generation_id,
                    member_id: request.member_id.to_string(),
                    assignments: request
                        .assignments
                        .iter()
                        .map(|a| (a.member_id.to_string(), a.assignment.clone()))
                        .collect(),
                };
                self.send_group(conn, wait_id, 0, group);
                Reply::Later(receiver)
            }
            RequestKind::Heartbeat(request) => {
                let (wait_id, receiver) = self.new_wait(WaitKind::Heartbeat, 1);
                let group = GroupRequest::Heartbeat {
                    request_id: 0,
                    group_id: request.group_id.0.to_string(),
                    generation_id: request.generation_id,
                    member_id: request.member_id.to_string(),
                };
                self.send_group(conn, wait_id, 0, group);
                Reply::Later(receiver)
            }
            RequestKind::LeaveGroup(request) => {
                let members: Vec<String> = if version >= 3 {
                    request.members.iter().map(|m| m.member_id.to_string()).collect()
                } else {
                    vec![request.member_id.to_string()]
                };
                if members.is_empty() {
                    return Reply::Now(Box::new(ResponseKind::LeaveGroup(LeaveGroupResponse::default())));
                }
                let (wait_id, receiver) =
                    self.new_wait(WaitKind::Leave { members: members.clone(), version }, members.len());
                for (part, member_id) in members.into_iter().enumerate() {
                    let group =
                        GroupRequest::Leave { request_id: 0, group_id: request.group_id.0.to_string(), member_id };
                    self.send_group(conn, wait_id, part, group);
                }
                Reply::Later(receiver)
            }
            RequestKind::OffsetCommit(request) => {
                let topics: Vec<(String, Vec<i32>)> = request
                    .topics
                    .iter()
                    .map(|t| (t.name.0.to_string(), t.partitions.iter().map(|p| p.partition_index).collect()))
                    .collect();
                let offsets = request
                    .topics
                    .iter()
                    .flat_map(|t| {
                        t.partitions
                            .iter()
                            .map(|p| (TopicPartition::new(&t.name.0, p.partition_index), p.committed_offset))
                    })
                    .collect();
                let (wait_id, receiver) = self.new_wait(WaitKind::OffsetCommit { topics }, 1);
                let group = GroupRequest::OffsetCommit {
                    request_id: 0,
                    group_id: request.group_id.0.to_string(),
                    generation_id: request.generation_id_or_member_epoch,
                    member_id: request.member_id.to_string(),
                    offsets,
                };
                self.send_group(conn, wait_id, 0, group);
                Reply::Later(receiver)
            }
            RequestKind::OffsetFetch(request) => {
                let (group_id, topics) = if version >= 8 {
                    let Some(group) = request.groups.first() else {
                        return Reply::Now(Box::new(ResponseKind::OffsetFetch(OffsetFetchResponse::default())));
                    };
                    let topics = group.topics.as_ref().map(|topics| {
                        topics
                            .iter()
                            .flat_map(|t| t.partition_indexes.iter().map(|p| TopicPartition::new(&t.name.0, *p)))
                            .collect::<Vec<_>>()
                    });
                    (group.group_id.0.to_string(), topics)
                } else {
                    let topics = request.topics.as_ref().map(|topics| {
                        topics
                            .iter()
                            .flat_map(|t| t.partition_indexes.iter().map(|p| TopicPartition::new(&t.name.0, *p)))
                            .collect::<Vec<_>>()
                    });
                    (request.group_id.0.to_string(), topics)
                };
                let (wait_id, receiver) =
                    self.new_wait(WaitKind::OffsetFetch { group_id: group_id.clone(), version }, 1);
                let group =
                    GroupRequest::OffsetFetch { request_id: 0, group_id, partitions: topics.unwrap_or_default() };
                self.send_group(conn, wait_id, 0, group);
                Reply::Later(receiver)
            }
            RequestKind::ListGroups(_) => Reply::Now(Box::new(ResponseKind::ListGroups(self.list_groups(version)))),
            RequestKind::DescribeGroups(request) => {
                Reply::Now(Box::new(ResponseKind::DescribeGroups(self.describe_groups(&request))))
            }
            RequestKind::DescribeConfigs(request) => {
                Reply::Now(Box::new(ResponseKind::DescribeConfigs(self.describe_configs(&request))))
            }
            other => {
                tracing::warn!(?other, "request not handled");
                return Reply::Nothing;
            }
        };
        self.pump();
        reply
    }

    fn send_group(&mut self, conn: u32, wait_id: u64, part: usize, mut group: GroupRequest) {
        self.send_part(conn, wait_id, part, move |request_id| {
            match &mut group {
                GroupRequest::Join { request_id: id, .. }
                | GroupRequest::Sync { request_id: id, .. }
                | GroupRequest::Heartbeat { request_id: id, .. }
                | GroupRequest::Leave { request_id: id, .. }
                | GroupRequest::OffsetCommit { request_id: id, .. }
                | GroupRequest::OffsetFetch { request_id: id, .. } => *id = request_id,
            }
            Message::Group(group)
        });
    }

    fn broker_endpoint(&self) -> (BrokerId, StrBytes, i32) {
        (BrokerId(self.config.node_id), str_bytes(&self.advertised_host), self.advertised_port)
    }

    fn create_topic(&mut self, topic: &NewTopic) -> Result<(), rill_core::error::Error> {
        let now = self.now_ms();
        let Some(controller) = self.controller.as_mut() else {
            let host = self.nodes.first().map_or(-1, |n| n.id);
            return Err(rill_core::error::Error::new(
                ErrorCode::NotController,
                format!("broker {host} hosts the controller: send topic changes there"),
            ));
        };
        controller.create_topic(now, topic)?;
        self.persist(&topic_line(topic));
        self.pump();
        Ok(())
    }

    /// Writes the controller's image when it changed (temp file, fsync, rename), before the
    /// brokers act on it in a later round: a restarted controller must not forget epochs.
    fn persist_snapshot(&mut self) {
        let Some(controller) = self.controller.as_ref() else { return };
        let epoch = controller.image().metadata_epoch;
        if epoch == self.persisted_epoch {
            return;
        }
        let bytes = cluster::image_to_json(controller.image());
        let temp = self.snapshot_path.with_extension("json.tmp");
        let written = std::fs::File::create(&temp)
            .and_then(|mut file| {
                use std::io::Write;
                file.write_all(&bytes).and_then(|()| file.sync_all())
            })
            .and_then(|()| std::fs::rename(&temp, &self.snapshot_path));
        match written {
            Ok(()) => self.persisted_epoch = epoch,
            Err(error) => tracing::error!(%error, "could not persist the controller's metadata"),
        }
    }

    /// Appends a line to the topic metadata file (fsynced: it is the controller's record).
    fn persist(&self, line: &str) {
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.metadata_log)
            .and_then(|mut file| file.write_all(line.as_bytes()).and_then(|()| file.sync_all()));
        if let Err(error) = appended {
            tracing::error!(%error, "could not persist the topic metadata");
        }
    }

    fn delete_topics(&mut self, request: &DeleteTopicsRequest, version: i16) -> DeleteTopicsResponse {
        let mut response = DeleteTopicsResponse::default();
        for topic in &request.topic_names {
            let now = self.now_ms();
            let mut result = kafka_protocol::messages::delete_topics_response::DeletableTopicResult::default();
            result.name = Some(topic.clone());
            let outcome = match self.controller.as_mut() {
                Some(controller) => controller.delete_topic(now, &topic.0),
                None => Err(rill_core::error::Error::new(
                    ErrorCode::NotController,
                    "send topic changes to the controller's broker",
                )),
            };
            match outcome {
                Ok(()) => {
                    self.persist(&format!("delete {}\n", &*topic.0));
                    tracing::info!(topic = %&*topic.0, "deleted topic");
                    self.pump();
                }
                Err(error) => {
                    result.error_code = err(error.code);
                    if version >= 5 {
                        result.error_message = Some(str_bytes(&error.message));
                    }
                }
            }
            response.responses.push(result);
        }
        response
    }

    fn metadata(&mut self, request: &MetadataRequest, version: i16) -> MetadataResponse {
        let wanted: Option<Vec<String>> = request
            .topics
            .as_ref()
            .map(|topics| topics.iter().filter_map(|t| t.name.as_ref().map(|n| n.0.to_string())).collect());
        if let Some(wanted) = &wanted {
            let allow = request.allow_auto_topic_creation || version < 4;
            for topic in wanted {
                if allow
                    && self.restore.is_empty()
                    && self.config.auto_create_topics_enable
                    && !self.broker.image().topics.contains_key(topic.as_str())
                {
                    let new = NewTopic::new(topic, self.config.num_partitions, self.config.default_replication_factor);
                    match self.create_topic(&new) {
                        Ok(()) => tracing::info!(topic, "auto-created topic (auto.create.topics.enable)"),
                        Err(error) => tracing::warn!(topic, %error, "could not auto-create topic"),
                    }
                }
            }
        }
        let image = self.broker.image().clone();
        let mut response = MetadataResponse::default();
        let ids: Vec<i32> = if self.nodes.is_empty() {
            vec![self.config.node_id]
        } else {
            // Live brokers: registered and not fenced (and always this one).
            self.nodes
                .iter()
                .map(|n| n.id)
                .filter(|id| *id == self.config.node_id || image.brokers.get(id).is_some_and(|b| !b.fenced))
                .collect()
        };
        for id in ids {
            let (host, port) = self.endpoint_of(id);
            let mut broker = MetadataResponseBroker::default();
            broker.node_id = BrokerId(id);
            broker.host = host;
            broker.port = port;
            if version >= 1 {
                broker.rack = image.brokers.get(&id).and_then(|b| b.rack.as_deref()).map(str_bytes);
            }
            response.brokers.push(broker);
        }
        if version >= 1 {
            response.controller_id = BrokerId(self.nodes.first().map_or(self.config.node_id, |n| n.id));
        }
        if version >= 2 {
            response.cluster_id = Some(str_bytes(&self.cluster_id));
        }
        let names: Vec<String> = match &wanted {
            Some(wanted) => wanted.clone(),
            None => image.topics.keys().map(ToString::to_string).collect(),
        };
        for topic_name in names {
            let mut topic = MetadataResponseTopic::default();
            topic.name = Some(name(&topic_name));
            topic.is_internal = version >= 1 && topic_name.starts_with("__");
            match image.topics.get(topic_name.as_str()) {
                None => topic.error_code = err(ErrorCode::UnknownTopicOrPartition),
                Some(metadata) => {
                    if version >= 10 {
                        topic.topic_id = Uuid::from_u128(metadata.topic_id);
                    }
                    for (index, state) in metadata.partitions.iter().enumerate() {
                        let mut partition = MetadataResponsePartition::default();
                        partition.partition_index = i32::try_from(index).unwrap_or(i32::MAX);
                        partition.leader_id = BrokerId(state.leader.unwrap_or(-1));
                        if version >= 7 {
                            partition.leader_epoch = state.leader_epoch;
                        }
                        partition.replica_nodes = state.replicas.iter().map(|b| BrokerId(*b)).collect();
                        partition.isr_nodes = state.isr.iter().map(|b| BrokerId(*b)).collect();
                        if state.leader.is_none() {
                            partition.error_code = err(ErrorCode::LeaderNotAvailable);
                        }
                        topic.partitions.push(partition);
                    }
                }
            }
            response.topics.push(topic);
        }
        response
    }

    fn create_topics(&mut self, request: &CreateTopicsRequest, version: i16) -> CreateTopicsResponse {
        let mut response = CreateTopicsResponse::default();
        for creatable in &request.topics {
            let mut new = NewTopic::new(&creatable.name.0, creatable.num_partitions, creatable.replication_factor);
            if new.partitions == -1 && creatable.assignments.is_empty() {
                new.partitions = self.config.num_partitions;
            }
            if new.replication_factor == -1 && creatable.assignments.is_empty() {
                new.replication_factor = self.config.default_replication_factor;
            }
            if !creatable.assignments.is_empty() {
                let mut assignments: Vec<_> = creatable.assignments.iter().collect();
                assignments.sort_by_key(|a| a.partition_index);
                new.assignment = Some(assignments.iter().map(|a| a.broker_ids.iter().map(|b| b.0).collect()).collect());
            }
            for config in &creatable.configs {
                if let Some(value) = &config.value {
                    new = new.config(&config.name, value);
                }
            }
            let mut result = CreatableTopicResult::default();
            result.name = creatable.name.clone();
            let outcome = if self.broker.image().topics.contains_key(creatable.name.0.as_str()) {
                Err(rill_core::error::Error::new(
                    ErrorCode::TopicAlreadyExists,
                    format!("topic {} already exists", &*creatable.name.0),
                ))
            } else if request.validate_only {
                Ok(())
            } else {
                self.create_topic(&new)
            };
            match outcome {
                Ok(()) if version >= 5 => {
                    if let Some(topic) = self.broker.image().topics.get(creatable.name.0.as_str()) {
                        result.num_partitions = i32::try_from(topic.partitions.len()).unwrap_or(i32::MAX);
                        result.replication_factor =
                            topic.partitions.first().map_or(-1, |p| i16::try_from(p.replicas.len()).unwrap_or(-1));
                        if version >= 7 {
                            result.topic_id = Uuid::from_u128(topic.topic_id);
                        }
                    }
                }
                Ok(()) => {}
                Err(error) => {
                    result.error_code = err(error.code);
                    if version >= 1 {
                        result.error_message = Some(str_bytes(&error.message));
                    }
                }
            }
            response.topics.push(result);
        }
        response
    }

    fn produce(&mut self, conn: u32, request: ProduceRequest, version: i16) -> Reply {
        let acks = match Acks::from_wire(request.acks) {
            Ok(acks) => acks,
            Err(code) => return Reply::Now(Box::new(ResponseKind::Produce(produce_error(&request, code, version)))),
        };
        if request.transactional_id.is_some() {
            return Reply::Now(Box::new(ResponseKind::Produce(produce_error(
                &request,
                ErrorCode::TransactionalIdAuthorizationFailed,
                version,
            ))));
        }
        let timeout_ms = u64::try_from(request.timeout_ms).unwrap_or(30_000);
        let topics: Vec<(String, Vec<i32>)> = request
            .topic_data
            .iter()
            .map(|t| (t.name.0.to_string(), t.partition_data.iter().map(|p| p.index).collect()))
            .collect();
        let count: usize = topics.iter().map(|(_, p)| p.len()).sum();
        let (wait_id, receiver) = self.new_wait(WaitKind::Produce { topics, version }, count);
        let mut part = 0;
        for topic in request.topic_data {
            for data in topic.partition_data {
                let tp = TopicPartition::new(&topic.name.0, data.index);
                let records = data.records.unwrap_or_default();
                self.metrics.bytes_in.fetch_add(records.len() as u64, std::sync::atomic::Ordering::Relaxed);
                let batches = match RecordBatch::read_wire_all(&records) {
                    Ok(batches) if !batches.is_empty() => batches,
                    Ok(_) => {
                        self.fail_part(wait_id, part, tp, ErrorCode::CorruptMessage);
                        part += 1;
                        continue;
                    }
                    Err(error) => {
                        tracing::warn!(partition = %tp, %error, "rejected a produce");
                        self.fail_part(wait_id, part, tp, error.code);
                        part += 1;
                        continue;
                    }
                };
                // Kafka clients send one batch per partition; more are appended in order and
                // answered with the first batch's offset.
                let last = batches.len() - 1;
                for (index, batch) in batches.into_iter().enumerate() {
                    if index == last {
                        self.send_part(conn, wait_id, part, |request_id| Message::Produce {
                            request_id,
                            tp: tp.clone(),
                            acks,
                            timeout_ms,
                            batch,
                        });
                    } else {
                        let request_id = self.next_id();
                        let now = self.now_ms();
                        self.broker.handle_message(
                            now,
                            NodeId::Client(conn),
                            Message::Produce { request_id, tp: tp.clone(), acks, timeout_ms, batch },
                        );
                    }
                }
                part += 1;
            }
        }
        if acks == Acks::None {
            self.waiting.remove(&wait_id);
            self.parts.retain(|_, (w, _)| *w != wait_id);
            return Reply::Nothing;
        }
        // Parts answered synchronously may have completed the request already.
        Reply::Later(receiver)
    }

    fn fail_part(&mut self, wait_id: u64, part: usize, tp: TopicPartition, error: ErrorCode) {
        let request_id = self.next_id();
        self.parts.insert(request_id, (wait_id, part));
        self.answer(Message::ProduceResponse { request_id, tp, error, base_offset: -1 });
    }

    fn fetch(&mut self, conn: u32, request: &FetchRequest, version: i16) -> Reply {
        let image = self.broker.image().clone();
        let ids: BTreeMap<u128, String> = image.topics.iter().map(|(name, t)| (t.topic_id, name.to_string())).collect();
        let use_ids = version >= 13;
        let mut partitions = Vec::new();
        for topic in &request.topics {
            let topic_name = if use_ids {
                ids.get(&topic.topic_id.as_u128()).cloned().unwrap_or_default()
            } else {
                topic.topic.0.to_string()
            };
            for partition in &topic.partitions {
                let max = usize::try_from(partition.partition_max_bytes.max(0)).unwrap_or(0);
                partitions.push((topic_name.clone(), topic.topic_id, partition.partition, partition.fetch_offset, max));
            }
        }
        let now = self.now_ms();
        let fetch = FetchWait {
            partitions,
            min_bytes: usize::try_from(request.min_bytes.max(0)).unwrap_or(0),
            deadline_ms: now + u64::try_from(request.max_wait_ms.max(0)).unwrap_or(0).min(30_000),
            use_ids,
            first: true,
            version,
        };
        let (wait_id, receiver) = self.new_wait(WaitKind::Fetch(fetch.clone()), fetch.partitions.len());
        let _ = conn;
        if fetch.partitions.is_empty() {
            let waiting = self.waiting.remove(&wait_id).expect("just added");
            self.complete(wait_id, waiting);
        } else {
            self.issue_fetch_parts(wait_id, &fetch);
        }
        Reply::Later(receiver)
    }

    fn issue_fetch_parts(&mut self, wait_id: u64, fetch: &FetchWait) {
        for (part, (topic, _, partition, fetch_offset, max_bytes)) in fetch.partitions.iter().enumerate() {
            let tp = TopicPartition::new(topic, *partition);
            let (fetch_offset, max_bytes) = (*fetch_offset, (*max_bytes).max(1));
            self.send_part(0, wait_id, part, |request_id| Message::Fetch {
                request_id,
                replica_id: None,
                tp,
                fetch_offset,
                last_fetched_epoch: -1,
                current_leader_epoch: -1,
                max_bytes,
                max_wait_ms: 0,
            });
        }
    }

    /// Re-reads a parked fetch (new data, or its deadline): answers it this time.
    fn issue_fetch(&mut self, wait_id: u64, mut fetch: FetchWait, _expired: bool) {
        let Some(waiting) = self.waiting.get_mut(&wait_id) else { return };
        fetch.first = false;
        waiting.parts = vec![None; fetch.partitions.len()];
        waiting.missing = fetch.partitions.len();
        waiting.kind = WaitKind::Fetch(fetch.clone());
        self.issue_fetch_parts(wait_id, &fetch);
    }

    fn list_offsets(&mut self, request: &ListOffsetsRequest, version: i16) -> ListOffsetsResponse {
        let mut response = ListOffsetsResponse::default();
        for topic in &request.topics {
            let mut topic_response = ListOffsetsTopicResponse::default();
            topic_response.name = topic.name.clone();
            for partition in &topic.partitions {
                let tp = TopicPartition::new(&topic.name.0, partition.partition_index);
                let mut result = ListOffsetsPartitionResponse::default();
                result.partition_index = partition.partition_index;
                result.timestamp = -1;
                match (self.broker.replica(&tp), self.broker.log(&tp)) {
                    (Some(view), Some(log)) if view.is_leader => {
                        if version >= 4 {
                            result.leader_epoch = view.leader_epoch;
                        }
                        result.offset = match partition.timestamp {
                            -2 => log.log_start_offset(),
                            -1 | -3 => log.high_watermark(),
                            timestamp => log
                                .batches_from(log.log_start_offset(), ReadLimit::HighWatermark)
                                .iter()
                                .find(|batch| batch.max_timestamp_ms() >= timestamp)
                                .map_or(-1, RecordBatch::base_offset),
                        };
                    }
                    (Some(_), _) => result.error_code = err(ErrorCode::NotLeaderOrFollower),
                    _ => result.error_code = err(ErrorCode::UnknownTopicOrPartition),
                }
                topic_response.partitions.push(result);
            }
            response.topics.push(topic_response);
        }
        response
    }

    fn ensure_offsets_topic(&mut self) {
        if self.broker.image().topics.contains_key(OFFSETS_TOPIC) {
            return;
        }
        if self.controller.is_none() {
            if let Some(peer) = self.nodes.first().and_then(|host| self.peers.get(&host.id)) {
                let _ = peer.send(cluster::ensure_offsets_topic(self.config.node_id));
            }
            return;
        }
        let Some(controller) = self.controller.as_ref() else { return };
        if controller.image().topics.contains_key(OFFSETS_TOPIC) {
            return;
        }
        // Kafka: creating it fails until the cluster is as large as its replication factor.
        let cluster = i16::try_from(self.nodes.len().max(1)).unwrap_or(1);
        let registered = i16::try_from(controller.image().brokers.len()).unwrap_or(0);
        let replication_factor = self.config.offsets_topic_replication_factor.min(cluster);
        if registered < replication_factor {
            return;
        }
        let topic = NewTopic::new(OFFSETS_TOPIC, self.config.offsets_topic_num_partitions, replication_factor)
            .config("cleanup.policy", "compact");
        if let Err(error) = self.create_topic(&topic) {
            tracing::warn!(%error, "could not create {OFFSETS_TOPIC}");
        }
    }

    fn find_coordinator(&mut self, conn: u32, request: &FindCoordinatorRequest, version: i16) -> Reply {
        let keys: Vec<String> = if version >= 4 {
            request.coordinator_keys.iter().map(ToString::to_string).collect()
        } else {
            vec![request.key.to_string()]
        };
        if request.key_type != 0 {
            let parts = keys.iter().map(|_| None).collect();
            return Reply::Now(Box::new(self.find_coordinator_response(&keys, parts, version)));
        }
        self.ensure_offsets_topic();
        let (wait_id, receiver) =
            self.new_wait(WaitKind::FindCoordinator { keys: keys.clone(), version }, keys.len().max(1));
        for (part, group_id) in keys.into_iter().enumerate() {
            self.send_part(conn, wait_id, part, |request_id| Message::FindCoordinator { request_id, group_id });
        }
        Reply::Later(receiver)
    }

    fn find_coordinator_response(&self, keys: &[String], parts: Vec<Option<Message>>, version: i16) -> ResponseKind {
        let (node_id, host, port) = self.broker_endpoint();
        let mut response = FindCoordinatorResponse::default();
        let mut coordinators = Vec::new();
        for (key, part) in keys.iter().zip(parts) {
            let mut coordinator = Coordinator::default();
            coordinator.key = str_bytes(key);
            match part {
                Some(Message::FindCoordinatorResponse { error: ErrorCode::None, coordinator: Some(id), .. }) => {
                    let (host, port) = if id == node_id.0 { (host.clone(), port) } else { self.endpoint_of(id) };
                    coordinator.node_id = BrokerId(id);
                    coordinator.host = host;
                    coordinator.port = port;
                }
                Some(Message::FindCoordinatorResponse { error, .. }) => {
                    coordinator.node_id = BrokerId(-1);
                    coordinator.error_code =
                        err(if error == ErrorCode::None { ErrorCode::CoordinatorNotAvailable } else { error });
                }
                _ => {
                    coordinator.node_id = BrokerId(-1);
                    coordinator.error_code = err(ErrorCode::CoordinatorNotAvailable);
                }
            }
            coordinators.push(coordinator);
        }
        if version >= 4 {
            response.coordinators = coordinators;
        } else if let Some(first) = coordinators.into_iter().next() {
            response.error_code = first.error_code;
            response.node_id = first.node_id;
            response.host = first.host;
            response.port = first.port;
        }
        ResponseKind::FindCoordinator(response)
    }

    fn init_producer_id(&mut self, conn: u32, request: &InitProducerIdRequest) -> Reply {
        if request.transactional_id.is_some() {
            let mut response = InitProducerIdResponse::default();
            response.error_code = err(ErrorCode::TransactionalIdAuthorizationFailed);
            response.producer_id = ProducerId(-1);
            return Reply::Now(Box::new(ResponseKind::InitProducerId(response)));
        }
        let (wait_id, receiver) = self.new_wait(WaitKind::InitProducerId, 1);
        self.send_part(conn, wait_id, 0, |request_id| Message::InitProducerId { request_id });
        Reply::Later(receiver)
    }

    fn list_groups(&self, version: i16) -> ListGroupsResponse {
        let mut response = ListGroupsResponse::default();
        for (_, coordinator) in self.broker.coordinators() {
            for (group_id, state) in coordinator.list_groups() {
                let mut group = ListedGroup::default();
                group.group_id = GroupId(str_bytes(&group_id));
                group.protocol_type = str_bytes("consumer");
                if version >= 4 {
                    group.group_state = str_bytes(&format!("{state:?}"));
                }
                if version >= 5 {
                    group.group_type = str_bytes("classic");
                }
                response.groups.push(group);
            }
        }
        response
    }

    fn describe_groups(&self, request: &DescribeGroupsRequest) -> DescribeGroupsResponse {
        let mut response = DescribeGroupsResponse::default();
        for group_id in &request.groups {
            let mut described = DescribedGroup::default();
            described.group_id = group_id.clone();
            let found = self.broker.coordinators().find_map(|(_, c)| c.describe(&group_id.0));
            match found {
                Some(description) => {
                    described.group_state = str_bytes(&format!("{:?}", description.state));
                    described.protocol_type = str_bytes("consumer");
                    described.protocol_data = str_bytes(&description.protocol_name);
                    for member in description.members {
                        let mut m = DescribedGroupMember::default();
                        m.member_id = str_bytes(&member.member_id);
                        m.client_id = str_bytes(&member.member_id);
                        m.client_host = str_bytes("/127.0.0.1");
                        described.members.push(m);
                    }
                }
                None => described.group_state = str_bytes("Dead"),
            }
            response.groups.push(described);
        }
        response
    }

    fn describe_configs(&self, request: &DescribeConfigsRequest) -> DescribeConfigsResponse {
        let mut response = DescribeConfigsResponse::default();
        for resource in &request.resources {
            let mut result = describe_configs_response::DescribeConfigsResult::default();
            result.resource_type = resource.resource_type;
            result.resource_name = resource.resource_name.clone();
            let entries: Option<Vec<(String, String)>> =
                match resource.resource_type {
                    // 2 = topic, 4 = broker (Kafka's ConfigResource.Type).
                    2 => self.broker.image().topics.get(resource.resource_name.as_str()).map(|topic| {
                        topic.config.entries().into_iter().map(|e| (e.name.to_owned(), e.value)).collect()
                    }),
                    4 => Some(self.config.entries().into_iter().map(|e| (e.name.to_owned(), e.value)).collect()),
                    _ => None,
                };
            match entries {
                Some(entries) => {
                    for (key, value) in entries {
                        let wanted = resource
                            .configuration_keys
                            .as_ref()
                            .is_none_or(|keys| keys.iter().any(|k| k.as_str() == key));
                        if wanted {
                            let mut entry = describe_configs_response::DescribeConfigsResourceResult::default();
                            entry.name = str_bytes(&key);
                            entry.value = Some(str_bytes(&value));
                            result.configs.push(entry);
                        }
                    }
                }
                None => {
                    result.error_code = err(ErrorCode::UnknownTopicOrPartition);
                    result.error_message = Some(str_bytes("no such resource"));
                }
            }
            response.results.push(result);
        }
        response
    }
}

fn ack_error(part: Option<Message>) -> i16 {
    match part {
        Some(Message::GroupResponse(GroupResponse::Ack { error, .. })) => err(error),
        _ => err(ErrorCode::CoordinatorNotAvailable),
    }
}

fn produce_error(request: &ProduceRequest, code: ErrorCode, version: i16) -> ProduceResponse {
    let topics: Vec<(String, Vec<i32>)> = request
        .topic_data
        .iter()
        .map(|t| (t.name.0.to_string(), t.partition_data.iter().map(|p| p.index).collect()))
        .collect();
    let parts = topics
        .iter()
        .flat_map(|(topic, partitions)| {
            partitions.iter().map(|p| {
                Some(Message::ProduceResponse {
                    request_id: 0,
                    tp: TopicPartition::new(topic, *p),
                    error: code,
                    base_offset: -1,
                })
            })
        })
        .collect();
    match produce_response(&topics, parts, version) {
        ResponseKind::Produce(response) => response,
        _ => unreachable!("produce_response makes a produce response"),
    }
}

fn produce_response(topics: &[(String, Vec<i32>)], parts: Vec<Option<Message>>, _version: i16) -> ResponseKind {
    let mut parts = parts.into_iter();
    let mut response = ProduceResponse::default();
    for (topic, partitions) in topics {
        let mut topic_response = TopicProduceResponse::default();
        topic_response.name = name(topic);
        for partition in partitions {
            let mut result = PartitionProduceResponse::default();
            result.index = *partition;
            result.log_append_time_ms = -1;
            match parts.next().flatten() {
                Some(Message::ProduceResponse { error, base_offset, .. }) => {
                    result.error_code = err(error);
                    result.base_offset = base_offset;
                }
                _ => {
                    result.error_code = err(ErrorCode::RequestTimedOut);
                    result.base_offset = -1;
                }
            }
            topic_response.partition_responses.push(result);
        }
        response.responses.push(topic_response);
    }
    ResponseKind::Produce(response)
}

fn fetch_response(fetch: &FetchWait, parts: Vec<Option<Message>>) -> ResponseKind {
    let mut response = FetchResponse::default();
    let mut topics: Vec<FetchableTopicResponse> = Vec::new();
    for ((topic, topic_id, partition, _, _), part) in fetch.partitions.iter().zip(parts) {
        let mut data = PartitionData::default();
        data.partition_index = *partition;
        data.preferred_read_replica = BrokerId(-1);
        if fetch.version >= 4 {
            data.aborted_transactions = Some(Vec::new());
        }
        match part {
            Some(Message::FetchResponse { error, high_watermark, log_start_offset, batches, .. }) => {
                data.error_code = err(error);
                data.high_watermark = high_watermark;
                data.last_stable_offset = high_watermark;
                if fetch.version >= 5 {
                    data.log_start_offset = log_start_offset;
                }
                let mut bytes = Vec::with_capacity(batches.iter().map(RecordBatch::size_bytes).sum());
                for batch in &batches {
                    batch.write_wire(&mut bytes);
                }
                data.records = Some(Bytes::from(bytes));
            }
            _ => {
                data.error_code =
                    err(if topic.is_empty() { ErrorCode::UnknownTopicId } else { ErrorCode::UnknownTopicOrPartition });
                data.high_watermark = -1;
                data.last_stable_offset = -1;
                data.records = Some(Bytes::new());
            }
        }
        let same = topics.last().is_some_and(|t| {
            if fetch.use_ids {
                t.topic_id == *topic_id
            } else {
                t.topic.0.as_str() == topic
            }
        });
        if !same {
            let mut t = FetchableTopicResponse::default();
            t.topic = name(topic);
            t.topic_id = *topic_id;
            topics.push(t);
        }
        topics.last_mut().expect("pushed").partitions.push(data);
    }
    response.responses = topics;
    ResponseKind::Fetch(response)
}

fn offset_fetch_response(group_id: &str, part: Option<Message>, version: i16) -> ResponseKind {
    let (error, offsets) = match part {
        Some(Message::GroupResponse(GroupResponse::Offsets { error, offsets, .. })) => (err(error), offsets),
        _ => (err(ErrorCode::CoordinatorNotAvailable), Vec::new()),
    };
    let mut by_topic: BTreeMap<String, Vec<(i32, i64)>> = BTreeMap::new();
    for (tp, offset) in offsets {
        by_topic.entry(tp.topic.to_string()).or_default().push((tp.partition, offset));
    }
    let mut response = OffsetFetchResponse::default();
    if version >= 8 {
        let mut group = OffsetFetchResponseGroup::default();
        group.group_id = GroupId(str_bytes(group_id));
        group.error_code = error;
        for (topic, partitions) in by_topic {
            let mut t = OffsetFetchResponseTopics::default();
            t.name = name(&topic);
            for (partition, offset) in partitions {
                let mut p = OffsetFetchResponsePartitions::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p.committed_leader_epoch = -1;
                t.partitions.push(p);
            }
            group.topics.push(t);
        }
        response.groups.push(group);
    } else {
        response.error_code = error;
        for (topic, partitions) in by_topic {
            let mut t = OffsetFetchResponseTopic::default();
            t.name = name(&topic);
            for (partition, offset) in partitions {
                let mut p = OffsetFetchResponsePartition::default();
                p.partition_index = partition;
                p.committed_offset = offset;
                p.committed_leader_epoch = -1;
                t.partitions.push(p);
            }
            response.topics.push(t);
        }
    }
    ResponseKind::OffsetFetch(response)
}

/// One line of the topic metadata file: `name partitions replication_factor [key=value,...]`.
fn topic_line(topic: &NewTopic) -> String {
    let configs: Vec<String> = topic.configs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} {} {} {}\n", topic.name, topic.partitions, topic.replication_factor, configs.join(","))
}

fn parse_topic_line(line: &str) -> Option<NewTopic> {
    let mut fields = line.split_whitespace();
    let name = fields.next()?;
    let partitions = fields.next()?.parse().ok()?;
    let replication_factor = fields.next()?.parse().ok()?;
    let mut topic = NewTopic::new(name, partitions, replication_factor);
    if let Some(configs) = fields.next() {
        for pair in configs.split(',').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=')?;
            topic = topic.config(key, value);
        }
    }
    Some(topic)
}
