//! Several `rill` processes as one cluster: the nodes (`rill.cluster.nodes`), and the internal
//! channel that carries the core's messages between them — broker registration, heartbeats,
//! metadata, AlterPartition (controller plane) and follower Fetch (data plane).
//!
//! A frame is `[u32 header length][JSON header][u32 payload length][payload]`: the header is
//! the message (serde), the payload holds record batches in Kafka's wire format (follower
//! fetch responses), so data is never JSON-encoded. Each node dials every peer once and keeps
//! the connection for sending; a lost connection drops its messages, which the core treats
//! like a network loss (timeouts, retries).

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use rill_core::config::TopicConfig;
use rill_core::error::ErrorCode;
use rill_core::protocol::{
    BrokerMetadata, EpochEndOffset, Message, MetadataImage, NodeId, PartitionState, TopicMetadata, TopicPartition,
};
use rill_core::record::RecordBatch;
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Largest internal frame (a fetch response with its batches).
pub const FRAME_BYTES_MAX: usize = 256 << 20;

/// One node of the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterNode {
    /// `node.id`.
    pub id: i32,
    /// Host clients and peers use.
    pub host: String,
    /// Kafka listener port.
    pub kafka_port: u16,
    /// Internal (inter-broker) port.
    pub internal_port: u16,
}

/// Parses `rill.cluster.nodes`: `id@host:kafka_port:internal_port`, comma-separated.
pub fn parse_nodes(text: &str) -> Result<Vec<ClusterNode>, String> {
    let mut nodes = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let bad = || format!("rill.cluster.nodes: {entry:?} is not id@host:kafka_port:internal_port");
        let (id, rest) = entry.split_once('@').ok_or_else(bad)?;
        let mut parts = rest.rsplitn(3, ':');
        let internal_port = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let kafka_port = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
        let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?.to_owned();
        let id = id.parse().map_err(|_| bad())?;
        if nodes.iter().any(|n: &ClusterNode| n.id == id) {
            return Err(format!("rill.cluster.nodes: node {id} is listed twice"));
        }
        nodes.push(ClusterNode { id, host, kafka_port, internal_port });
    }
    Ok(nodes)
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireState {
    replicas: Vec<i32>,
    isr: Vec<i32>,
    leader: Option<i32>,
    leader_epoch: i32,
    partition_epoch: i32,
}

impl From<&PartitionState> for WireState {
    fn from(state: &PartitionState) -> WireState {
        WireState {
            replicas: state.replicas.clone(),
            isr: state.isr.clone(),
            leader: state.leader,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
        }
    }
}

impl From<WireState> for PartitionState {
    fn from(state: WireState) -> PartitionState {
        PartitionState {
            replicas: state.replicas,
            isr: state.isr,
            leader: state.leader,
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireTopic {
    name: String,
    topic_id: String,
    configs: BTreeMap<String, String>,
    partitions: Vec<WireState>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct WireImage {
    metadata_epoch: i64,
    brokers: Vec<(i32, Option<String>, bool)>,
    topics: Vec<WireTopic>,
}

impl From<&MetadataImage> for WireImage {
    fn from(image: &MetadataImage) -> WireImage {
        WireImage {
            metadata_epoch: image.metadata_epoch,
            brokers: image.brokers.iter().map(|(id, b)| (*id, b.rack.clone(), b.fenced)).collect(),
            topics: image
                .topics
                .iter()
                .map(|(name, topic)| WireTopic {
                    name: name.to_string(),
                    topic_id: format!("{:032x}", topic.topic_id),
                    configs: topic.config.overrides().into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
                    partitions: topic.partitions.iter().map(WireState::from).collect(),
                })
                .collect(),
        }
    }
}

impl WireImage {
    fn into_image(self) -> Result<MetadataImage, String> {
        let mut image = MetadataImage { metadata_epoch: self.metadata_epoch, ..MetadataImage::default() };
        for (id, rack, fenced) in self.brokers {
            image.brokers.insert(id, BrokerMetadata { rack, fenced });
        }
        for topic in self.topics {
            let config = TopicConfig::from_pairs(&topic.configs).map_err(|e| e.to_string())?;
            let topic_id = u128::from_str_radix(&topic.topic_id, 16).map_err(|e| e.to_string())?;
            let partitions = topic.partitions.into_iter().map(PartitionState::from).collect();
            image.topics.insert(Arc::from(topic.name.as_str()), TopicMetadata { topic_id, config, partitions });
        }
        Ok(image)
    }
}

/// The controller's metadata as JSON (its persisted snapshot).
#[must_use]
pub fn image_to_json(image: &MetadataImage) -> Vec<u8> {
    serde_json::to_vec_pretty(&WireImage::from(image)).unwrap_or_default()
}

/// Reads a snapshot written by [`image_to_json`].
pub fn image_from_json(bytes: &[u8]) -> Result<MetadataImage, String> {
    let wire: WireImage = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    wire.into_image()
}

/// The messages nodes exchange (the core's, minus client traffic).
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Wire {
    Register {
        broker_id: i32,
        rack: Option<String>,
    },
    RegisterResponse {
        broker_epoch: i64,
    },
    Heartbeat {
        broker_id: i32,
        broker_epoch: i64,
        metadata_epoch: i64,
    },
    HeartbeatResponse {
        error: i16,
        metadata: Option<WireImage>,
    },
    MetadataUpdate(WireImage),
    AlterPartition {
        broker_id: i32,
        broker_epoch: i64,
        topic: String,
        partition: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        new_isr: Vec<i32>,
    },
    AlterPartitionResponse {
        topic: String,
        partition: i32,
        error: i16,
        state: Option<WireState>,
    },
    Fetch {
        request_id: u64,
        replica_id: Option<i32>,
        topic: String,
        partition: i32,
        fetch_offset: i64,
        last_fetched_epoch: i32,
        current_leader_epoch: i32,
        max_bytes: usize,
        max_wait_ms: u64,
    },
    FetchResponse {
        request_id: u64,
        topic: String,
        partition: i32,
        error: i16,
        high_watermark: i64,
        log_start_offset: i64,
        log_end_offset: i64,
        diverging_epoch: Option<(i32, i64)>,
    },
    /// A broker that cannot create topics asks the controller host for `__consumer_offsets`.
    EnsureOffsetsTopic,
}

/// Who sent a frame and to which state machine it goes.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    from_broker: i32,
    from_controller: bool,
    to_controller: bool,
    message: Wire,
}

/// A message between nodes, ready to send.
#[derive(Debug)]
pub struct Frame {
    header: Vec<u8>,
    payload: Vec<u8>,
}

/// What arrived: the source, whether it is for the controller, and the core message (or a
/// request to create `__consumer_offsets`).
#[derive(Debug)]
pub enum Incoming {
    /// A core message.
    Message {
        /// Sender.
        from: NodeId,
        /// For the controller (else for the broker).
        to_controller: bool,
        /// The message.
        message: Message,
    },
    /// Create `__consumer_offsets` if missing.
    EnsureOffsetsTopic,
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

fn code(error: i16) -> ErrorCode {
    ErrorCode::from_code(error).unwrap_or(ErrorCode::UnknownServerError)
}

/// Encodes a core message for the wire; `None` for messages that never cross nodes.
#[must_use]
pub fn encode(from: NodeId, to_controller: bool, message: &Message) -> Option<Frame> {
    let mut payload = Vec::new();
    let wire = match message {
        Message::RegisterBroker { broker_id, rack } => Wire::Register { broker_id: *broker_id, rack: rack.clone() },
        Message::RegisterBrokerResponse { broker_epoch } => Wire::RegisterResponse { broker_epoch: *broker_epoch },
        Message::BrokerHeartbeat { broker_id, broker_epoch, metadata_epoch } => {
            Wire::Heartbeat { broker_id: *broker_id, broker_epoch: *broker_epoch, metadata_epoch: *metadata_epoch }
        }
        Message::BrokerHeartbeatResponse { error, metadata } => {
            Wire::HeartbeatResponse { error: error.code(), metadata: metadata.as_deref().map(WireImage::from) }
        }
        Message::MetadataUpdate(image) => Wire::MetadataUpdate(WireImage::from(image.as_ref())),
        Message::AlterPartition { broker_id, broker_epoch, tp, leader_epoch, partition_epoch, new_isr } => {
            Wire::AlterPartition {
                broker_id: *broker_id,
                broker_epoch: *broker_epoch,
                topic: tp.topic.to_string(),
                partition: tp.partition,
                leader_epoch: *leader_epoch,
                partition_epoch: *partition_epoch,
                new_isr: new_isr.clone(),
            }
        }
        Message::AlterPartitionResponse { tp, error, state } => Wire::AlterPartitionResponse {
            topic: tp.topic.to_string(),
            partition: tp.partition,
            error: error.code(),
            state: state.as_ref().map(WireState::from),
        },
        Message::Fetch {
            request_id,
            replica_id,
            tp,
            fetch_offset,
            last_fetched_epoch,
            current_leader_epoch,
            max_bytes,
            max_wait_ms,
        } => Wire::Fetch {
            request_id: *request_id,
            replica_id: *replica_id,
            topic: tp.topic.to_string(),
            partition: tp.partition,
            fetch_offset: *fetch_offset,
            last_fetched_epoch: *last_fetched_epoch,
            current_leader_epoch: *current_leader_epoch,
            max_bytes: *max_bytes,
            max_wait_ms: *max_wait_ms,
        },
        Message::FetchResponse {
            request_id,
            tp,
            error,
            high_watermark,
            log_start_offset,
            log_end_offset,
            diverging_epoch,
            batches,
        } => {
            for batch in batches {
                batch.write_wire(&mut payload);
            }
            Wire::FetchResponse {
                request_id: *request_id,
                topic: tp.topic.to_string(),
                partition: tp.partition,
                error: error.code(),
                high_watermark: *high_watermark,
                log_start_offset: *log_start_offset,
                log_end_offset: *log_end_offset,
                diverging_epoch: diverging_epoch.map(|e| (e.epoch, e.end_offset)),
            }
        }
        _ => return None,
    };
    frame(from, to_controller, wire, payload)
}

/// The frame asking the controller host to create `__consumer_offsets`.
#[must_use]
pub fn ensure_offsets_topic(from_broker: i32) -> Frame {
    frame(NodeId::Broker(from_broker), true, Wire::EnsureOffsetsTopic, Vec::new()).expect("small")
}

fn frame(from: NodeId, to_controller: bool, message: Wire, payload: Vec<u8>) -> Option<Frame> {
    let (from_broker, from_controller) = match from {
        NodeId::Broker(id) => (id, false),
        NodeId::Controller => (-1, true),
        NodeId::Client(_) => return None,
    };
    let header = serde_json::to_vec(&Header { from_broker, from_controller, to_controller, message }).ok()?;
    Some(Frame { header, payload })
}

/// Decodes a received frame.
pub fn decode(header: &[u8], payload: Bytes) -> Result<Incoming, String> {
    let header: Header = serde_json::from_slice(header).map_err(|e| format!("bad internal frame: {e}"))?;
    let from = if header.from_controller { NodeId::Controller } else { NodeId::Broker(header.from_broker) };
    let message = match header.message {
        Wire::EnsureOffsetsTopic => return Ok(Incoming::EnsureOffsetsTopic),
        Wire::Register { broker_id, rack } => Message::RegisterBroker { broker_id, rack },
        Wire::RegisterResponse { broker_epoch } => Message::RegisterBrokerResponse { broker_epoch },
        Wire::Heartbeat { broker_id, broker_epoch, metadata_epoch } => {
            Message::BrokerHeartbeat { broker_id, broker_epoch, metadata_epoch }
        }
        Wire::HeartbeatResponse { error, metadata } => Message::BrokerHeartbeatResponse {
            error: code(error),
            metadata: metadata.map(WireImage::into_image).transpose()?.map(Arc::new),
        },
        Wire::MetadataUpdate(image) => Message::MetadataUpdate(Arc::new(image.into_image()?)),
        Wire::AlterPartition { broker_id, broker_epoch, topic, partition, leader_epoch, partition_epoch, new_isr } => {
            Message::AlterPartition {
                broker_id,
                broker_epoch,
                tp: tp(&topic, partition),
                leader_epoch,
                partition_epoch,
                new_isr,
            }
        }
        Wire::AlterPartitionResponse { topic, partition, error, state } => Message::AlterPartitionResponse {
            tp: tp(&topic, partition),
            error: code(error),
            state: state.map(PartitionState::from),
        },
        Wire::Fetch {
            request_id,
            replica_id,
            topic,
            partition,
            fetch_offset,
            last_fetched_epoch,
            current_leader_epoch,
            max_bytes,
            max_wait_ms,
        } => Message::Fetch {
            request_id,
            replica_id,
            tp: tp(&topic, partition),
            fetch_offset,
            last_fetched_epoch,
            current_leader_epoch,
            max_bytes,
            max_wait_ms,
        },
        Wire::FetchResponse {
            request_id,
            topic,
            partition,
            error,
            high_watermark,
            log_start_offset,
            log_end_offset,
            diverging_epoch,
        } => Message::FetchResponse {
            request_id,
            tp: tp(&topic, partition),
            error: code(error),
            high_watermark,
            log_start_offset,
            log_end_offset,
            diverging_epoch: diverging_epoch.map(|(epoch, end_offset)| EpochEndOffset { epoch, end_offset }),
            batches: RecordBatch::read_wire_all(&payload).map_err(|e| format!("bad batches from a peer: {e}"))?,
        },
    };
    Ok(Incoming::Message { from, to_controller: header.to_controller, message })
}

/// Keeps a connection to one peer and writes frames to it, reconnecting as needed; frames
/// sent while it is unreachable are dropped (the core retries).
pub async fn peer_writer(address: String, mut frames: mpsc::UnboundedReceiver<Frame>) {
    let mut stream: Option<TcpStream> = None;
    while let Some(frame) = frames.recv().await {
        if stream.is_none() {
            match TcpStream::connect(&address).await {
                Ok(connected) => {
                    let _ = connected.set_nodelay(true);
                    stream = Some(connected);
                }
                Err(error) => {
                    tracing::debug!(%address, %error, "peer unreachable; dropping a message");
                    continue;
                }
            }
        }
        let connection = stream.as_mut().expect("connected above");
        let mut bytes = Vec::with_capacity(8 + frame.header.len() + frame.payload.len());
        bytes.extend_from_slice(&u32::try_from(frame.header.len()).unwrap_or(u32::MAX).to_be_bytes());
        bytes.extend_from_slice(&frame.header);
        bytes.extend_from_slice(&u32::try_from(frame.payload.len()).unwrap_or(u32::MAX).to_be_bytes());
        bytes.extend_from_slice(&frame.payload);
        if let Err(error) = connection.write_all(&bytes).await {
            tracing::debug!(%address, %error, "peer connection lost");
            stream = None;
        }
    }
}

/// Reads frames from one inbound peer connection, handing each to `deliver`.
pub async fn read_peer(mut stream: TcpStream, mut deliver: impl FnMut(Incoming)) {
    loop {
        let mut length = [0u8; 4];
        if stream.read_exact(&mut length).await.is_err() {
            return;
        }
        let header_length = u32::from_be_bytes(length) as usize;
        if header_length > FRAME_BYTES_MAX {
            tracing::warn!("internal frame header too large; closing");
            return;
        }
        let mut header = vec![0u8; header_length];
        if stream.read_exact(&mut header).await.is_err() || stream.read_exact(&mut length).await.is_err() {
            return;
        }
        let payload_length = u32::from_be_bytes(length) as usize;
        if payload_length > FRAME_BYTES_MAX {
            tracing::warn!("internal frame payload too large; closing");
            return;
        }
        let mut payload = vec![0u8; payload_length];
        if stream.read_exact(&mut payload).await.is_err() {
            return;
        }
        match decode(&header, Bytes::from(payload)) {
            Ok(incoming) => deliver(incoming),
            Err(error) => {
                tracing::warn!(%error, "closing an internal connection");
                return;
            }
        }
    }
}
