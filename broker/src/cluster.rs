//! Several `rill` processes as one cluster: the nodes (`rill.cluster.nodes`), and the internal
//! channel that carries the core's messages between them — broker registration, heartbeats,
//! metadata, AlterPartition (controller plane) and follower Fetch (data plane).
//!
//! A frame is `[u32 header length][JSON header][u32 payload length][payload]`: the header is
//! the core's own `Message` in its serde form (no mirror of its fields here: a new field is a
//! one-place change in `rill_core::protocol`), the payload holds record batches in Kafka's wire
//! format (follower fetch responses), so data is never JSON-encoded. Each node dials every peer once and keeps
//! the connection for sending; a lost connection drops its messages, which the core treats
//! like a network loss (timeouts, retries).

use bytes::Bytes;
use rill_core::protocol::{Message, MetadataImage, NodeId};
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

/// The controller's metadata as JSON (its persisted snapshot: the image's serde form).
#[must_use]
pub fn image_to_json(image: &MetadataImage) -> Vec<u8> {
    serde_json::to_vec_pretty(image).unwrap_or_default()
}

/// Reads a snapshot written by [`image_to_json`].
pub fn image_from_json(bytes: &[u8]) -> Result<MetadataImage, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// What a frame carries: one of the core's messages (its own serde form), or a request to the
/// controller host to create `__consumer_offsets`.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Body {
    Message(Message),
    /// A broker that cannot create topics asks the controller host for `__consumer_offsets`.
    EnsureOffsetsTopic,
    /// A broker that is not the active controller asks it to auto-create a topic (Kafka's
    /// brokers forward this to the controller, KIP-590).
    AutoCreateTopic(String),
    /// Kafka's `INCONSISTENT_CLUSTER_ID`: the receiver belongs to this other cluster and
    /// dropped the sender's frame.
    InconsistentClusterId(String),
}

/// Who sent a frame, to which state machine it goes, and its correlation id.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Header {
    from: NodeId,
    /// The sender's cluster id, once it knows it (every KRaft request carries `ClusterId`).
    #[serde(default)]
    cluster_id: Option<String>,
    to_controller: bool,
    correlation_id: u64,
    body: Body,
}

/// A message between nodes, ready to send.
#[derive(Debug)]
pub struct Frame {
    header: Vec<u8>,
    payload: Vec<u8>,
}

/// A frame as it arrived: the sending node, the cluster id it believes it belongs to, and
/// what it carries.
#[derive(Debug)]
pub struct Received {
    /// The sending node's id.
    pub node: i32,
    /// The sender's cluster id (`None` until it has learnt it).
    pub cluster_id: Option<String>,
    /// What it carries.
    pub incoming: Incoming,
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
        /// The request's correlation id.
        correlation_id: u64,
        /// The message.
        message: Message,
    },
    /// Create `__consumer_offsets` if missing.
    EnsureOffsetsTopic,
    /// Auto-create this topic if missing (`auto.create.topics.enable`).
    AutoCreateTopic(String),
    /// The peer is in this other cluster and dropped what this node sent.
    InconsistentClusterId(String),
}

/// Encodes a core message for the wire; `None` for client traffic, which never crosses nodes.
/// A fetch response's record batches go in the payload in Kafka's wire format.
#[must_use]
pub fn encode(
    from: NodeId,
    cluster_id: Option<&str>,
    to_controller: bool,
    correlation_id: u64,
    message: &Message,
) -> Option<Frame> {
    let mut payload = Vec::new();
    if let Message::FetchResponse(response) = message {
        // Each partition's batches, behind their length in bytes.
        for partition in &response.partitions {
            let start = payload.len();
            payload.extend_from_slice(&[0; 4]);
            for batch in &partition.batches {
                batch.write_wire(&mut payload);
            }
            let length = u32::try_from(payload.len() - start - 4).unwrap_or(u32::MAX);
            payload[start..start + 4].copy_from_slice(&length.to_be_bytes());
        }
    }
    let header = Header {
        from,
        cluster_id: cluster_id.map(str::to_owned),
        to_controller,
        correlation_id,
        body: Body::Message(message.clone()),
    };
    frame(&header, payload)
}

/// The frame asking the active controller to auto-create `topic`.
#[must_use]
pub fn auto_create_topic(from_broker: i32, cluster_id: Option<&str>, topic: &str) -> Frame {
    small_frame(from_broker, cluster_id, Body::AutoCreateTopic(topic.to_owned()))
}

/// The frame asking the controller host to create `__consumer_offsets`.
#[must_use]
pub fn ensure_offsets_topic(from_broker: i32, cluster_id: Option<&str>) -> Frame {
    small_frame(from_broker, cluster_id, Body::EnsureOffsetsTopic)
}

/// The answer to a frame from another cluster: this node's cluster id.
#[must_use]
pub fn inconsistent_cluster_id(from: i32, ours: &str) -> Frame {
    small_frame(from, Some(ours), Body::InconsistentClusterId(ours.to_owned()))
}

fn small_frame(from_broker: i32, cluster_id: Option<&str>, body: Body) -> Frame {
    let header = Header {
        from: NodeId::Broker(from_broker),
        cluster_id: cluster_id.map(str::to_owned),
        to_controller: true,
        correlation_id: 0,
        body,
    };
    frame(&header, Vec::new()).expect("a small frame encodes")
}

fn frame(header: &Header, payload: Vec<u8>) -> Option<Frame> {
    if matches!(header.from, NodeId::Client(_)) {
        return None;
    }
    let header = serde_json::to_vec(header).ok()?;
    Some(Frame { header, payload })
}

/// Decodes a received frame.
pub fn decode(header: &[u8], payload: Bytes) -> Result<Received, String> {
    let header: Header = serde_json::from_slice(header).map_err(|e| format!("bad internal frame: {e}"))?;
    let node = match header.from {
        NodeId::Broker(id) | NodeId::Controller(id) => id,
        NodeId::Client(_) => return Err("an internal frame from a client".to_owned()),
    };
    let received = |incoming| Received { node, cluster_id: header.cluster_id.clone(), incoming };
    let mut message = match header.body {
        Body::EnsureOffsetsTopic => return Ok(received(Incoming::EnsureOffsetsTopic)),
        Body::AutoCreateTopic(ref topic) => return Ok(received(Incoming::AutoCreateTopic(topic.clone()))),
        Body::InconsistentClusterId(ref theirs) => {
            return Ok(received(Incoming::InconsistentClusterId(theirs.clone())))
        }
        Body::Message(ref message) => message.clone(),
    };
    if let Message::FetchResponse(response) = &mut message {
        let mut rest = payload;
        for partition in &mut response.partitions {
            if rest.len() < 4 {
                return Err("a fetch response's batches are missing".to_owned());
            }
            let length = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            if rest.len() < 4 + length {
                return Err("a fetch response's batches are cut short".to_owned());
            }
            let batches = rest.slice(4..4 + length);
            rest = rest.slice(4 + length..);
            partition.batches =
                RecordBatch::read_wire_all(&batches).map_err(|e| format!("bad batches from a peer: {e}"))?;
        }
    }
    Ok(received(Incoming::Message {
        from: header.from,
        to_controller: header.to_controller,
        correlation_id: header.correlation_id,
        message,
    }))
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
pub async fn read_peer(mut stream: TcpStream, mut deliver: impl FnMut(Received)) {
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
