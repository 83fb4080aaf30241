//! The driver: one node's `rill-core` state machines (its `BrokerNode` over file storage,
//! unless the node is controller-only, and, on a voter of the controller quorum, its
//! `QuorumController`), fed with Kafka requests, peer messages and timeouts, and drained until
//! quiet. It translates (through `crate::apis`), routes and
//! gathers; it decides nothing — replication, elections, groups and the fetch long poll are
//! the core's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use kafka_protocol::messages::{
    DeleteTopicsResponse, LeaveGroupResponse, OffsetFetchResponse, RequestKind, ResponseKind,
};
use kafka_protocol::protocol::StrBytes;
use rill_core::broker::BrokerNode;
use rill_core::collections::{VecMap, VecSet};
use rill_core::config::BrokerConfig;
use rill_core::controller::quorum::QuorumController;
use rill_core::controller::ControllerRecord;
use rill_core::error::{Error, ErrorCode};
use rill_core::event::Event;
use rill_core::group::coordinator::OFFSETS_TOPIC;
use rill_core::log::ReadLimit;
use rill_core::protocol::{self, Acks, ChangeTopic, GroupRequest, Message, NodeId};
use rill_core::raft::{Durable, Entry, Payload};
use rill_core::record::RecordBatch;
use rill_core::rng::Rng;
use rill_core::topic::NewTopic;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use crate::apis::{
    admin, configs, consumer_groups, delete_records, elections, epochs, fetch, groups, offset_delete, produce,
    producers, quorum, reassignments, str_bytes, topic_partitions,
};
use crate::broker_config::Roles;
use crate::cluster::{self, ClusterNode, Frame, Incoming, Received};
use crate::gather::{Finish, Gatherer};
use crate::metadata_store::{remove_orphans, MetadataStore, Restored};
use crate::metrics::Metrics;
use crate::quorum_store::{QuorumStore, Voters};
use crate::storage::FileStorageFactory;

mod describe;
mod identity;
mod requests;
mod topics;

use topics::{quorum_voters, BuildAdminReply, Committing};

/// A Kafka response, or none (acks=0 produce).
pub enum Reply {
    /// Answer now.
    Now(Box<ResponseKind>),
    /// Answer when the core has answered.
    Later(oneshot::Receiver<ResponseKind>),
    /// No response at all (Kafka sends none for acks=0).
    Nothing,
}

/// Most rounds `pump` runs before it reports that the state machines do not settle.
const PUMP_ROUNDS_MAX: usize = 10_000;

/// The broker's state machines and the requests waiting on them.
pub struct Driver {
    config: BrokerConfig,
    started: Instant,
    /// The broker (`None` on a controller-only node, `process.roles=controller`).
    broker: Option<BrokerNode<FileStorageFactory>>,
    /// This node's controller, when it is a voter of `controller.quorum.voters`.
    controller: Option<QuorumController>,
    advertised: (String, i32),
    identity: identity::Identity,
    gatherer: Gatherer,
    /// The controller's metadata log on disk.
    store: Option<QuorumStore>,
    /// Admin changes waiting for their record to commit.
    committing: Vec<Committing>,
    /// Whether the quorum's voters may change (formatted by `rill format`, KIP-853).
    dynamic: bool,
    /// The controller quorum's voters, and when a controller last answered (or this node's
    /// was active), so a quorum nobody can reach is reported rather than waited on in silence.
    voters: Vec<i32>,
    controller_seen_ms: u64,
    /// Topics of an old data directory, created again once this broker has registered.
    restore: Vec<NewTopic>,
    /// The cluster's nodes (empty: one node).
    nodes: Vec<ClusterNode>,
    /// Senders to the other nodes.
    peers: BTreeMap<i32, UnboundedSender<Frame>>,
    /// Counters for `/metrics`.
    pub metrics: Arc<Metrics>,
    /// Broker keys set in the config file or with `--set` (DescribeConfigs' `STATIC_BROKER_CONFIG`).
    pub static_configs: BTreeMap<String, String>,
    /// The `client.id` and host of the request being handled (set by the server before each).
    pub client: (String, String),
}

impl Driver {
    /// Starts this node's state machines over `log.dirs` — a broker unless `roles` says it is
    /// controller-only; on a voter, takes up the controller's persisted metadata.
    pub fn new(
        config: BrokerConfig,
        roles: Roles,
        advertised: (String, i32),
        nodes: Vec<ClusterNode>,
        peers: BTreeMap<i32, UnboundedSender<Frame>>,
    ) -> Result<Driver, String> {
        let log_dir = PathBuf::from(config.log_dirs.split(',').next().unwrap_or("/tmp/rill-logs"));
        std::fs::create_dir_all(&log_dir).map_err(|e| format!("cannot create log.dirs {}: {e}", log_dir.display()))?;
        let me = config.node_id;
        // A quorum formatted by `rill format` (KIP-853): its voters start as formatted (none on
        // a controller that joins: it asks the other nodes who leads) and follow its log.
        let dynamic = crate::quorum_store::formatted(&log_dir)?;
        let discovery: Vec<i32> = nodes.iter().map(|node| node.id).filter(|id| *id != me).collect();
        let voters = match &dynamic {
            Some(bootstrap) if bootstrap.is_empty() => discovery.clone(),
            Some(bootstrap) => bootstrap.clone(),
            None => quorum_voters(&config, &nodes)?,
        };
        if voters.is_empty() {
            return Err(format!(
                "log.dirs {} was formatted to join a controller quorum (--no-initial-controllers), but \
                 rill.cluster.nodes names no other node to ask who leads",
                log_dir.display()
            ));
        }
        if dynamic.is_none() {
            // `broker_config::load` checked this already; a controller-only node that is no
            // voter would run nothing (and `image` relies on its controller).
            roles.check(config.node_id, &voters)?;
        }
        let broker = roles.broker.then(|| {
            let mut broker = BrokerNode::new(config.clone(), FileStorageFactory::new(log_dir.clone()), 0);
            broker.set_controllers(voters.clone());
            broker
        });
        let mut restore = Vec::new();
        let mut store = None;
        // A snapshot is committed: its cluster id is the cluster's (checked against
        // meta.properties by `Identity::open`).
        let mut snapshotted = None;
        let runs_controller = if dynamic.is_some() { roles.controller } else { voters.contains(&me) };
        let voter_log = if runs_controller {
            let kind = match &dynamic {
                Some(bootstrap) => Voters::Dynamic(bootstrap.clone()),
                None => Voters::Static(voters.clone()),
            };
            let (quorum_store, mut durable) = QuorumStore::open(&log_dir, config.node_id, &kind)?;
            if durable.log.is_empty() && durable.snapshot.is_none() {
                // A data directory from before the quorum: its controller's image snapshot
                // becomes the metadata log's first record.
                match MetadataStore::new(&log_dir).restore() {
                    Restored::Image(image) => {
                        tracing::info!(
                            metadata_epoch = image.metadata_epoch,
                            "controller took up its old metadata snapshot"
                        );
                        let next_broker_epoch = image.metadata_epoch + 1;
                        let record = ControllerRecord {
                            image: Arc::new(image),
                            broker_epochs: VecMap::new(),
                            next_broker_epoch,
                        };
                        durable = Durable {
                            epoch: 1,
                            voted_for: None,
                            leader: None,
                            snapshot: None,
                            log: vec![Entry { offset: 0, epoch: 1, payload: Payload::Data(Arc::new(record)) }],
                        };
                    }
                    Restored::Topics(topics) => restore = topics,
                    Restored::Nothing => {}
                }
            }
            if dynamic.is_none() && voters == [config.node_id] {
                // The only voter's log is the cluster's metadata: partitions of topics deleted
                // while it was down can go (a voter among several may be behind: it keeps them).
                let newest = durable.newest_state();
                if let Some(record) = newest {
                    let known: VecSet<String> = record.image.topics.keys().map(ToString::to_string).collect();
                    remove_orphans(&log_dir, &known);
                }
            }
            snapshotted = durable.snapshot.as_ref().and_then(|s| s.state.image.cluster_id.clone());
            store = Some(quorum_store);
            Some(durable)
        } else {
            None
        };
        let identity = identity::Identity::open(&log_dir, config.node_id, snapshotted.as_deref())?;
        let controller = match voter_log {
            Some(durable) => {
                let rng = Rng::from_seed(u64::from(config.node_id.unsigned_abs()));
                let cluster_id = Some(identity.proposal()?);
                let controller = match &dynamic {
                    Some(bootstrap) => QuorumController::new_dynamic(
                        config.clone(),
                        bootstrap,
                        &discovery,
                        durable,
                        0,
                        rng,
                        cluster_id,
                    ),
                    None => QuorumController::new(config.clone(), &voters, durable, 0, rng, cluster_id),
                };
                Some(controller.map_err(|e| e.to_string())?)
            }
            None => None,
        };
        let mut driver = Driver {
            identity,
            config,
            started: Instant::now(),
            broker,
            controller,
            advertised,
            gatherer: Gatherer::default(),
            store,
            committing: Vec::new(),
            dynamic: dynamic.is_some(),
            voters,
            controller_seen_ms: 0,
            restore,
            nodes,
            peers,
            metrics: Arc::new(Metrics::default()),
            static_configs: BTreeMap::new(),
            client: (String::new(), String::new()),
        };
        driver.tick();
        Ok(driver)
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
        if let Some(at) = self.broker.as_ref().and_then(BrokerNode::poll_timeout) {
            next = next.min(at);
        }
        if let Some(at) = self.controller.as_ref().and_then(QuorumController::poll_timeout) {
            next = next.min(at);
        }
        next
    }

    /// Runs due timeouts.
    pub fn tick(&mut self) {
        let now = self.now_ms();
        if let Some(broker) = self.broker.as_mut() {
            broker.handle_timeout(now);
        }
        if let Some(controller) = self.controller.as_mut() {
            controller.handle_timeout(now);
        }
        self.pump();
        if self.is_controller() || self.known_active_controller().is_some() {
            self.controller_seen_ms = now;
        } else if now >= self.controller_seen_ms + 30_000 {
            tracing::warn!(
                "no controller has been active for 30 s: none of controller.quorum.voters {:?} answers, or they \
                 lack a majority (check that they run, are reachable over rill.cluster.nodes, and list the same voters)",
                self.voters
            );
            self.controller_seen_ms = now;
        }
        if !self.restore.is_empty() && self.image().brokers.contains_key(&self.config.node_id) {
            for topic in std::mem::take(&mut self.restore) {
                if let Err(error) = self.create_topic(&topic) {
                    tracing::warn!(%error, topic = topic.name, "could not restore a topic");
                }
            }
        }
        self.update_gauges();
    }

    fn update_gauges(&self) {
        let Some(broker) = self.broker.as_ref() else { return };
        let under = broker
            .replicas()
            .iter()
            .filter(|view| view.is_leader)
            .filter(|view| broker.image().partition(&view.tp).is_some_and(|s| s.isr.len() < s.replicas.len()))
            .count();
        self.metrics.set_under_replicated(u64::try_from(under).unwrap_or(u64::MAX));
        // Consumer lag of the groups this broker coordinates: leader HW − committed offset.
        for (_, coordinator) in broker.coordinators() {
            for (group_id, _) in coordinator.list_groups() {
                for (tp, committed) in coordinator.committed(&group_id) {
                    if let Some(log) = broker.log(&tp) {
                        let lag = (log.high_watermark() - committed).max(0);
                        self.metrics.set_lag(&group_id, &tp.topic, tp.partition, lag);
                    }
                }
            }
        }
    }

    /// Moves messages between the state machines, the peers and the waiting Kafka requests
    /// until they are quiet.
    fn pump(&mut self) {
        let id = self.config.node_id;
        for _ in 0..PUMP_ROUNDS_MAX {
            let mut moved = false;
            let now = self.now_ms();
            while let Some(out) = self.broker.as_mut().and_then(BrokerNode::poll_output) {
                moved = true;
                match out.to {
                    NodeId::Controller(target) => match self.controller.as_mut() {
                        Some(controller) if target == id => {
                            controller.handle_message(now, NodeId::Broker(id), out.correlation_id, out.message);
                        }
                        _ => self.send_peer(target, NodeId::Broker(id), true, out.correlation_id, &out.message),
                    },
                    NodeId::Client(_) => self.gatherer.answer(out.correlation_id, out.message),
                    NodeId::Broker(other) if other == id => {
                        self.broker_mut().handle_message(now, NodeId::Broker(id), out.correlation_id, out.message);
                    }
                    NodeId::Broker(other) => {
                        self.send_peer(other, NodeId::Broker(id), false, out.correlation_id, &out.message);
                    }
                }
            }
            let mut remote = Vec::new();
            let mut events = Vec::new();
            if let Some(controller) = self.controller.as_mut() {
                while let Some(out) = controller.poll_output() {
                    moved = true;
                    match out.to {
                        NodeId::Broker(other) if other == id => match self.broker.as_mut() {
                            Some(broker) => {
                                broker.handle_message(now, NodeId::Controller(id), out.correlation_id, out.message);
                            }
                            // A controller-only node never registers as a broker: only a
                            // misconfigured cluster (two processes with one node.id) gets here.
                            None => tracing::warn!(
                                kind = out.message.kind(),
                                "the controller answered broker {id}, but this node is controller-only: is node.id \
                                 {id} given to two processes?"
                            ),
                        },
                        NodeId::Broker(other) => remote.push((other, false, out)),
                        NodeId::Controller(other) if other != id => remote.push((other, true, out)),
                        // A request this controller-only node's own controller was asked.
                        NodeId::Client(_) => self.gatherer.answer(out.correlation_id, out.message),
                        NodeId::Controller(_) => {}
                    }
                }
                while let Some(event) = controller.poll_event() {
                    events.push(event);
                }
            }
            if !remote.is_empty() {
                // Durable before any other node can act on it (KRaft fsyncs first).
                self.persist_metadata();
            }
            for (other, to_controller, out) in remote {
                self.send_peer(other, NodeId::Controller(id), to_controller, out.correlation_id, &out.message);
            }
            for event in events {
                self.observe(&event);
            }
            while let Some(event) = self.broker.as_mut().and_then(BrokerNode::poll_event) {
                self.observe(&event);
            }
            if !moved {
                self.persist_metadata();
                self.learn_cluster_id();
                self.complete_commits();
                self.follow_voters();
                return;
            }
        }
        tracing::error!("the state machines did not settle after {PUMP_ROUNDS_MAX} rounds");
    }

    /// A dynamic quorum's voters, as this node's controller knows them now: the broker asks
    /// them for the active controller, and `DescribeCluster` names them.
    fn follow_voters(&mut self) {
        let Some(controller) = self.controller.as_ref().filter(|_| self.dynamic) else { return };
        let now = controller.quorum().voters();
        if now != self.voters.as_slice() {
            tracing::info!(before = ?self.voters, now = ?now, "the controller quorum's voters changed");
            self.voters = now.to_vec();
            if let Some(broker) = self.broker.as_mut() {
                broker.set_controllers(self.voters.clone());
            }
        }
    }

    fn persist_metadata(&mut self) {
        if let (Some(controller), Some(store)) = (self.controller.as_ref(), self.store.as_mut()) {
            if let Err(error) = store.persist(controller.durable()) {
                // The metadata log cannot be trusted any more: stop rather than answer on it.
                tracing::error!(%error, "cannot write the metadata log; stopping");
                std::process::exit(1);
            }
        }
    }

    fn send_peer(&self, to: i32, from: NodeId, to_controller: bool, correlation_id: u64, message: &Message) {
        match (
            self.peers.get(&to),
            cluster::encode(from, self.identity.cluster_id.as_deref(), to_controller, correlation_id, message),
        ) {
            (Some(peer), Some(frame)) => {
                let _ = peer.send(frame);
            }
            _ => tracing::debug!(to, kind = message.kind(), "no route to the node"),
        }
    }

    /// A frame from another node.
    pub fn handle_incoming(&mut self, received: Received) {
        if !self.admit(&received) {
            return;
        }
        let now = self.now_ms();
        match received.incoming {
            Incoming::Message { from, to_controller: true, correlation_id, message } => {
                if let Some(controller) = self.controller.as_mut() {
                    controller.handle_message(now, from, correlation_id, message);
                }
            }
            Incoming::Message { from, to_controller: false, correlation_id, message } => match self.broker.as_mut() {
                Some(broker) => broker.handle_message(now, from, correlation_id, message),
                None => tracing::debug!(?from, kind = message.kind(), "a broker message to a controller-only node"),
            },
            Incoming::EnsureOffsetsTopic => self.ensure_offsets_topic(),
            Incoming::AutoCreateTopic(topic) => {
                if !self.image().topics.contains_key(topic.as_str()) && self.is_controller() {
                    self.auto_create_topic(&topic);
                }
            }
            Incoming::InconsistentClusterId(_) => unreachable!("admit takes these"),
        }
        self.pump();
    }

    /// The broker, on a node that runs one. Only brokers take broker requests: `handle` sends a
    /// controller-only node's few requests elsewhere first, so this holds wherever it is used.
    fn broker(&self) -> &BrokerNode<FileStorageFactory> {
        self.broker.as_ref().expect("broker requests reach broker nodes only")
    }

    fn broker_mut(&mut self) -> &mut BrokerNode<FileStorageFactory> {
        self.broker.as_mut().expect("broker requests reach broker nodes only")
    }

    /// The cluster's metadata as this node knows it: its broker's image, or on a
    /// controller-only node the newest committed one.
    fn image(&self) -> &protocol::MetadataImage {
        static EMPTY: std::sync::OnceLock<protocol::MetadataImage> = std::sync::OnceLock::new();
        match (&self.broker, &self.controller) {
            (Some(broker), _) => broker.image(),
            (None, Some(controller)) => {
                controller.committed_image().unwrap_or_else(|| EMPTY.get_or_init(Default::default))
            }
            (None, None) => unreachable!("a controller-only node is a voter, so it hosts a controller (Roles::check)"),
        }
    }

    /// The active controller this node's broker heard from, or its quorum's leader.
    fn known_active_controller(&self) -> Option<i32> {
        match &self.broker {
            Some(broker) => broker.active_controller(),
            None => self.controller.as_ref().and_then(|controller| controller.quorum().leader()),
        }
    }

    /// Whether this node hosts the active controller.
    #[must_use]
    pub fn is_controller(&self) -> bool {
        self.controller.as_ref().is_some_and(|controller| controller.active().is_some())
    }

    /// Host and Kafka port a node advertises.
    fn endpoint_of(&self, id: i32) -> (StrBytes, i32) {
        endpoint(&self.nodes, &self.advertised, id)
    }

    fn observe(&mut self, event: &Event) {
        if let Event::Quorum {
            event: rill_core::raft::QuorumEvent::VoterSetMismatch { odd_one_out: true, .. }, ..
        } = event
        {
            // A half-working cluster is worse than none: refuse to go on, saying why.
            tracing::error!("{event}; stopping");
            eprintln!("error: {event}");
            std::process::exit(1);
        }
        if let Event::Quorum { event: rill_core::raft::QuorumEvent::VoterSetMismatch { .. }, .. } = event {
            tracing::warn!("{event}");
            return;
        }
        if let Event::IsrChanged { old_isr, new_isr, .. } = event {
            let counter =
                if new_isr.len() < old_isr.len() { &self.metrics.isr_shrinks } else { &self.metrics.isr_expands };
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if !matches!(event, Event::HighWatermarkAdvanced { .. } | Event::Appended { .. }) {
            tracing::info!("{event}");
        }
    }

    // ----- requests -----

    /// Sends `messages` to the broker state machine as the parts of one Kafka request whose
    /// response `finish` builds.
    fn gather(&mut self, conn: u32, messages: Vec<Message>, finish: Finish) -> Reply {
        let Some(started) = self.gatherer.start(messages.len(), finish) else {
            tracing::warn!("too many requests waiting; closing the connection");
            return Reply::Nothing;
        };
        let now = self.now_ms();
        for (correlation_id, message) in started.correlation_ids.into_iter().zip(messages) {
            self.broker_mut().handle_message(now, NodeId::Client(conn), correlation_id, message);
        }
        Reply::Later(started.response)
    }

    fn gather_group(&mut self, conn: u32, request: GroupRequest, finish: Finish) -> Reply {
        self.gather(conn, vec![Message::Group(request)], finish)
    }

    fn produce(&mut self, conn: u32, request: kafka_protocol::messages::ProduceRequest) -> Reply {
        let plan = match produce::plan(request) {
            Ok(plan) => plan,
            Err((error, request)) => {
                return Reply::Now(Box::new(ResponseKind::Produce(produce::refused(&request, error))));
            }
        };
        self.metrics.bytes_in.fetch_add(plan.bytes_in, Ordering::Relaxed);
        let acks = plan.acks;
        let (messages, layout) = plan.into_parts();
        if acks == Acks::None {
            // No response: the parts are sent, nobody waits for them.
            let now = self.now_ms();
            for message in messages {
                let correlation_id = self.gatherer.next_correlation_id();
                self.broker_mut().handle_message(now, NodeId::Client(conn), correlation_id, message);
            }
            return Reply::Nothing;
        }
        if messages.is_empty() {
            return Reply::Now(Box::new(ResponseKind::Produce(produce::response(&layout, Vec::new()))));
        }
        self.gather(conn, messages, Box::new(move |answers| ResponseKind::Produce(produce::response(&layout, answers))))
    }

    fn find_coordinator(
        &mut self,
        conn: u32,
        request: &kafka_protocol::messages::FindCoordinatorRequest,
        version: i16,
    ) -> Reply {
        let (keys, consumer_group) = groups::find_coordinator_keys(request, version);
        if !consumer_group {
            let response = groups::find_coordinator_unsupported(&keys, request.key_type, version);
            return Reply::Now(Box::new(ResponseKind::FindCoordinator(response)));
        }
        let (me, nodes, advertised) = (self.config.node_id, self.nodes.clone(), self.advertised.clone());
        let messages: Vec<Message> = keys
            .iter()
            .map(|group_id| Message::FindCoordinator(protocol::FindCoordinator { group_id: group_id.clone() }))
            .collect();
        let respond = move |answers: Vec<Option<Message>>| {
            ResponseKind::FindCoordinator(groups::find_coordinator_response(&keys, answers, version, |id| {
                if id == me {
                    (str_bytes(&advertised.0), advertised.1)
                } else {
                    endpoint(&nodes, &advertised, id)
                }
            }))
        };
        if messages.is_empty() {
            return Reply::Now(Box::new(respond(Vec::new())));
        }
        self.ensure_offsets_topic();
        self.gather(conn, messages, Box::new(move |answers| respond(answers.into_iter().map(Some).collect())))
    }

    fn metadata(
        &mut self,
        request: &kafka_protocol::messages::MetadataRequest,
        version: i16,
    ) -> kafka_protocol::messages::MetadataResponse {
        let wanted = admin::metadata_topics(request);
        if let Some(wanted) = &wanted {
            if admin::metadata_may_create(request, version)
                && self.restore.is_empty()
                && self.config.auto_create_topics_enable
            {
                for topic in wanted {
                    if !self.image().topics.contains_key(topic.as_str()) {
                        self.auto_create_topic(topic);
                    }
                }
            }
        }
        let image = self.image().clone();
        let (cluster, _) = self.cluster_view();
        admin::metadata_response(&image, wanted, &cluster, version)
    }

    fn list_offsets(
        &self,
        request: &kafka_protocol::messages::ListOffsetsRequest,
        version: i16,
    ) -> kafka_protocol::messages::ListOffsetsResponse {
        let broker = self.broker();
        let at = |tp: &protocol::TopicPartition| match (broker.replica(tp), broker.log(tp)) {
            (Some(view), Some(log)) if view.is_leader => admin::OffsetsAt::Leader {
                log_start_offset: log.log_start_offset(),
                high_watermark: log.high_watermark(),
                leader_epoch: view.leader_epoch,
            },
            (Some(_), _) => admin::OffsetsAt::Follower,
            _ => admin::OffsetsAt::Unknown,
        };
        let by_time = |tp: &protocol::TopicPartition, timestamp: i64| {
            broker.log(tp).map_or(-1, |log| {
                log.batches_from(log.log_start_offset(), ReadLimit::HighWatermark)
                    .iter()
                    .find(|batch| batch.max_timestamp_ms() >= timestamp)
                    .map_or(-1, RecordBatch::base_offset)
            })
        };
        admin::list_offsets_response(request, version, at, by_time)
    }
}

/// Host and Kafka port node `id` advertises: from the cluster's node list, or this broker's own.
fn endpoint(nodes: &[ClusterNode], advertised: &(String, i32), id: i32) -> (StrBytes, i32) {
    match nodes.iter().find(|n| n.id == id) {
        Some(node) => (str_bytes(&node.host), i32::from(node.kafka_port)),
        None => (str_bytes(&advertised.0), advertised.1),
    }
}
