//! The network side: a Kafka listener (length-prefixed frames decoded and encoded with the
//! `kafka-protocol` crate), the timer that drives the core's timeouts, and the `/metrics`
//! HTTP endpoint. Everything runs on one thread (a current-thread runtime), like the core's
//! single-threaded state machines; each connection is served one request at a time, in
//! order, as Kafka does.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable};
use rill_core::config::BrokerConfig;
use rill_core::error::ErrorCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::driver::{Driver, Reply};
use crate::metrics::Metrics;

/// The APIs and versions Rill serves (checked against real clients; see the tests).
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 9),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 7),
    (ApiKey::Metadata, 0, 12),
    (ApiKey::OffsetCommit, 2, 8),
    (ApiKey::OffsetFetch, 1, 8),
    (ApiKey::FindCoordinator, 0, 4),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::ApiVersions, 0, 3),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::DescribeConfigs, 1, 4),
    (ApiKey::DescribeTopicPartitions, 0, 0),
    (ApiKey::DescribeQuorum, 0, 2),
    (ApiKey::CreatePartitions, 0, 3),
    (ApiKey::DescribeCluster, 0, 2),
    (ApiKey::DescribeLogDirs, 1, 4),
    (ApiKey::IncrementalAlterConfigs, 0, 1),
    (ApiKey::ElectLeaders, 0, 2),
    (ApiKey::OffsetDelete, 0, 0),
    (ApiKey::OffsetForLeaderEpoch, 2, 4),
    (ApiKey::DescribeProducers, 0, 0),
    (ApiKey::AlterConfigs, 0, 2),
    (ApiKey::ConsumerGroupHeartbeat, 0, 1),
    (ApiKey::ConsumerGroupDescribe, 0, 1),
    (ApiKey::DeleteRecords, 0, 2),
    (ApiKey::AlterPartitionReassignments, 0, 1),
    (ApiKey::ListPartitionReassignments, 0, 0),
    (ApiKey::AddRaftVoter, 0, 0),
    (ApiKey::RemoveRaftVoter, 0, 0),
];

/// What a controller-only node (`process.roles=controller`) serves on its listener: Kafka's
/// controllers answer these for `--bootstrap-controller` clients (KIP-919); broker APIs are
/// neither advertised nor admitted.
pub const CONTROLLER_APIS: &[ApiKey] = &[
    ApiKey::ApiVersions,
    ApiKey::DescribeQuorum,
    ApiKey::DescribeCluster,
    ApiKey::AddRaftVoter,
    ApiKey::RemoveRaftVoter,
];

/// Produce's lowest version in the ApiVersions answer (Kafka's
/// `ApiKeys.PRODUCE_API_VERSIONS_RESPONSE_MIN_VERSION`).
const PRODUCE_ADVERTISED_MIN_VERSION: i16 = 0;

fn supported(api_key: ApiKey) -> Option<(i16, i16)> {
    SUPPORTED.iter().find(|(key, _, _)| *key == api_key).map(|(_, min, max)| {
        let crate_range = api_key.valid_versions();
        ((*min).max(crate_range.min), (*max).min(crate_range.max))
    })
}

/// The APIs this node serves: all of them on a broker, [`CONTROLLER_APIS`] on a
/// controller-only node.
fn served(controller_only: bool) -> impl Iterator<Item = ApiKey> {
    SUPPORTED
        .iter()
        .map(|(api_key, _, _)| *api_key)
        .filter(move |key| !controller_only || CONTROLLER_APIS.contains(key))
}

fn api_versions(error: ErrorCode, controller_only: bool) -> ApiVersionsResponse {
    let mut response = ApiVersionsResponse::default();
    response.error_code = error.code();
    for api_key in served(controller_only) {
        let (min, max) = supported(api_key).expect("listed");
        let mut version = kafka_protocol::messages::api_versions_response::ApiVersion::default();
        version.api_key = api_key as i16;
        // Kafka 4.x advertises Produce from v0 though it serves v3+ only (KIP-896 removed
        // v0-2): librdkafka sends gzip, snappy and lz4 batches only to a broker whose Produce
        // range includes v0, and sends them uncompressed otherwise (KAFKA-18659). Requests
        // below v3 are still refused like any unsupported version.
        version.min_version = if api_key == ApiKey::Produce { PRODUCE_ADVERTISED_MIN_VERSION } else { min };
        version.max_version = max;
        response.api_keys.push(version);
    }
    response
}

/// Broker settings the network side needs.
#[derive(Clone, Debug)]
pub struct Listen {
    /// Kafka listener address.
    pub kafka: SocketAddr,
    /// HTTP address for `/metrics` and the dashboard, if any.
    pub http: Option<SocketAddr>,
    /// Static files (the dashboard) to serve on the HTTP address.
    pub www: Option<std::path::PathBuf>,
    /// `socket.request.max.bytes`.
    pub request_max_bytes: usize,
    /// `process.roles`.
    pub roles: crate::broker_config::Roles,
}

/// Runs the broker until Ctrl-C. Binds first, so errors (port in use) come back at once.
pub async fn run(
    config: BrokerConfig,
    static_configs: std::collections::BTreeMap<String, String>,
    listen: Listen,
    advertised: (String, i32),
) -> Result<(), String> {
    let listener =
        TcpListener::bind(listen.kafka).await.map_err(|e| format!("cannot listen on {}: {e}", listen.kafka))?;
    let http_listener = match listen.http {
        Some(address) => {
            Some(TcpListener::bind(address).await.map_err(|e| format!("cannot listen on {address}: {e}"))?)
        }
        None => None,
    };
    let nodes = crate::cluster::parse_nodes(&config.cluster_nodes)?;
    let me = config.node_id;
    let internal_listener = match nodes.iter().find(|n| n.id == me) {
        Some(node) => {
            let address = format!("{}:{}", node.host, node.internal_port);
            Some(bind(&address).await.map_err(|e| format!("cannot listen on {address} (internal): {e}"))?)
        }
        None if nodes.is_empty() => None,
        None => return Err(format!("node.id {me} is not in rill.cluster.nodes")),
    };
    let mut peers = std::collections::BTreeMap::new();
    let mut writers = Vec::new();
    for node in nodes.iter().filter(|n| n.id != me) {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        peers.insert(node.id, sender);
        writers.push((format!("{}:{}", node.host, node.internal_port), receiver));
    }
    let mut node = Driver::new(config, listen.roles, (advertised.0.clone(), advertised.1), nodes, peers)?;
    node.static_configs = static_configs;
    let metrics = node.metrics.clone();
    let node = Rc::new(RefCell::new(node));
    let wake = Rc::new(Notify::new());
    let started =
        if listen.roles.broker { "rill broker started" } else { "rill controller started (process.roles=controller)" };
    tracing::info!(listener = %listen.kafka, advertised = %format!("{}:{}", advertised.0, advertised.1), "{started}");
    let local = tokio::task::LocalSet::new();
    local
        .run_until(async move {
            tokio::task::spawn_local(timer(node.clone(), wake.clone()));
            for (address, receiver) in writers {
                tokio::task::spawn_local(crate::cluster::peer_writer(address, receiver));
            }
            if let Some(listener) = internal_listener {
                tokio::task::spawn_local(serve_internal(listener, node.clone(), wake.clone()));
            }
            if let Some(listener) = http_listener {
                tokio::task::spawn_local(serve_http(listener, metrics.clone(), listen.www.clone()));
            }
            let mut next_conn = 1u32;
            let shutdown = shutdown_signal();
            tokio::pin!(shutdown);
            loop {
                tokio::select! {
                    accepted = listener.accept() => match accepted {
                        Ok((stream, peer)) => {
                            let conn = next_conn;
                            next_conn = next_conn.wrapping_add(1).max(1);
                            let _ = stream.set_nodelay(true);
                            tokio::task::spawn_local(connection(stream, peer, conn, node.clone(), wake.clone(), metrics.clone(), (listen.request_max_bytes, !listen.roles.broker)));
                        }
                        Err(error) => tracing::warn!(%error, "accept failed"),
                    },
                    signal = &mut shutdown => {
                        tracing::info!(%signal, "shutting down");
                        return Ok(());
                    }
                }
            }
        })
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (`kill`, service managers), naming the signal.
pub async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = tokio::signal::ctrl_c() => "SIGINT",
            _ = terminate.recv() => "SIGTERM",
        },
        Err(error) => {
            tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C still stops the broker");
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// Binds a listener, retrying for a few seconds while the address is in use (a restarted
/// broker whose old sockets, or another process's short-lived connection, still hold it).
async fn bind(address: &str) -> std::io::Result<TcpListener> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match TcpListener::bind(address).await {
            Err(error) if error.kind() == std::io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                tracing::warn!(address, "address in use; retrying");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            result => return result,
        }
    }
}

async fn serve_internal(listener: TcpListener, node: Rc<RefCell<Driver>>, wake: Rc<Notify>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let (node, wake) = (node.clone(), wake.clone());
        tokio::task::spawn_local(crate::cluster::read_peer(stream, move |incoming| {
            node.borrow_mut().handle_incoming(incoming);
            wake.notify_one();
        }));
    }
}

async fn timer(node: Rc<RefCell<Driver>>, wake: Rc<Notify>) {
    loop {
        let (deadline_ms, now_ms) = {
            let node = node.borrow();
            (node.next_deadline_ms(), node.now_ms())
        };
        let wait = Duration::from_millis(deadline_ms.saturating_sub(now_ms).clamp(1, 1_000));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = wake.notified() => {}
        }
        node.borrow_mut().tick();
    }
}

/// Why a connection was closed.
fn close(peer: SocketAddr, metrics: &Metrics, why: &str) {
    metrics.bad_requests.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    tracing::warn!(%peer, "closing connection: {why}");
}

fn api_name(api_key: ApiKey) -> &'static str {
    match api_key {
        ApiKey::Produce => "Produce",
        ApiKey::Fetch => "Fetch",
        ApiKey::ListOffsets => "ListOffsets",
        ApiKey::Metadata => "Metadata",
        ApiKey::OffsetCommit => "OffsetCommit",
        ApiKey::OffsetFetch => "OffsetFetch",
        ApiKey::FindCoordinator => "FindCoordinator",
        ApiKey::JoinGroup => "JoinGroup",
        ApiKey::Heartbeat => "Heartbeat",
        ApiKey::ConsumerGroupHeartbeat => "ConsumerGroupHeartbeat",
        ApiKey::ConsumerGroupDescribe => "ConsumerGroupDescribe",
        ApiKey::DeleteRecords => "DeleteRecords",
        ApiKey::LeaveGroup => "LeaveGroup",
        ApiKey::SyncGroup => "SyncGroup",
        ApiKey::DescribeGroups => "DescribeGroups",
        ApiKey::ListGroups => "ListGroups",
        ApiKey::ApiVersions => "ApiVersions",
        ApiKey::CreateTopics => "CreateTopics",
        ApiKey::DeleteTopics => "DeleteTopics",
        ApiKey::InitProducerId => "InitProducerId",
        ApiKey::DeleteGroups => "DeleteGroups",
        ApiKey::DescribeConfigs => "DescribeConfigs",
        ApiKey::DescribeTopicPartitions => "DescribeTopicPartitions",
        ApiKey::DescribeQuorum => "DescribeQuorum",
        ApiKey::CreatePartitions => "CreatePartitions",
        ApiKey::DescribeCluster => "DescribeCluster",
        ApiKey::DescribeLogDirs => "DescribeLogDirs",
        ApiKey::IncrementalAlterConfigs => "IncrementalAlterConfigs",
        ApiKey::ElectLeaders => "ElectLeaders",
        ApiKey::OffsetDelete => "OffsetDelete",
        ApiKey::OffsetForLeaderEpoch => "OffsetForLeaderEpoch",
        ApiKey::DescribeProducers => "DescribeProducers",
        ApiKey::AlterConfigs => "AlterConfigs",
        ApiKey::AlterPartitionReassignments => "AlterPartitionReassignments",
        ApiKey::ListPartitionReassignments => "ListPartitionReassignments",
        ApiKey::AddRaftVoter => "AddRaftVoter",
        ApiKey::RemoveRaftVoter => "RemoveRaftVoter",
        _ => "other",
    }
}

async fn connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    conn: u32,
    node: Rc<RefCell<Driver>>,
    wake: Rc<Notify>,
    metrics: Arc<Metrics>,
    limits: (usize, bool),
) {
    metrics.connections.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let _ = serve_connection(&mut stream, peer, conn, &node, &wake, &metrics, limits).await;
    metrics.connections.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
}

async fn serve_connection(
    stream: &mut TcpStream,
    peer: SocketAddr,
    conn: u32,
    node: &Rc<RefCell<Driver>>,
    wake: &Rc<Notify>,
    metrics: &Metrics,
    (request_max_bytes, controller_only): (usize, bool),
) -> std::io::Result<()> {
    loop {
        let mut length = [0u8; 4];
        if stream.read_exact(&mut length).await.is_err() {
            return Ok(());
        }
        let length = i32::from_be_bytes(length);
        let Some(size) = usize::try_from(length).ok().filter(|size| *size >= 8 && *size <= request_max_bytes) else {
            close(peer, metrics, &format!("frame of {length} bytes (socket.request.max.bytes is {request_max_bytes})"));
            return Ok(());
        };
        let mut frame = BytesMut::zeroed(size);
        stream.read_exact(&mut frame).await?;
        let started = Instant::now();
        let mut frame = frame.freeze();
        let api = frame.slice(0..2).get_i16();
        let version = frame.slice(2..4).get_i16();
        let correlation_id = frame.slice(4..8).get_i32();
        let Ok(api_key) = ApiKey::try_from(api) else {
            close(peer, metrics, &format!("unknown API key {api}"));
            return Ok(());
        };
        if controller_only && !CONTROLLER_APIS.contains(&api_key) {
            close(
                peer,
                metrics,
                &format!(
                    "{} is a broker API, and this node is controller-only (process.roles=controller): send it to a broker",
                    api_name(api_key)
                ),
            );
            return Ok(());
        }
        let range = supported(api_key);
        if api_key == ApiKey::ApiVersions && range.is_some_and(|(min, max)| version < min || version > max) {
            // KIP-511: answer an unknown ApiVersions version in v0 format, so the client can
            // retry with one we know.
            let response = ResponseKind::ApiVersions(api_versions(ErrorCode::UnsupportedVersion, controller_only));
            write_response(stream, correlation_id, api_key, 0, &response).await?;
            continue;
        }
        let Some((min, max)) = range.filter(|(min, max)| (*min..=*max).contains(&version)) else {
            close(peer, metrics, &format!("{} v{version} is not supported", api_name(api_key)));
            return Ok(());
        };
        let _ = (min, max);
        let header_version = api_key.request_header_version(version);
        let header = match RequestHeader::decode(&mut frame, header_version) {
            Ok(header) => header,
            Err(error) => {
                close(peer, metrics, &format!("malformed request header: {error}"));
                return Ok(());
            }
        };
        let request = match RequestKind::decode(api_key, &mut frame, version) {
            Ok(request) => request,
            Err(error) => {
                close(peer, metrics, &format!("malformed {} v{version} request: {error}", api_name(api_key)));
                return Ok(());
            }
        };
        let reply = if let RequestKind::ApiVersions(_) = request {
            Reply::Now(Box::new(ResponseKind::ApiVersions(api_versions(ErrorCode::None, controller_only))))
        } else {
            let mut driver = node.borrow_mut();
            if matches!(request, RequestKind::ConsumerGroupHeartbeat(_)) {
                // Who the member is, for ConsumerGroupDescribe (Kafka's host form: "/address").
                let client_id = header.client_id.as_deref().unwrap_or_default();
                driver.client = (client_id.to_owned(), format!("/{}", peer.ip()));
            }
            let reply = driver.handle(conn, version, request);
            drop(driver);
            wake.notify_one();
            reply
        };
        let response = match reply {
            Reply::Now(response) => Some(*response),
            Reply::Later(receiver) => receiver.await.ok(),
            Reply::Nothing => None,
        };
        if let Some(response) = response {
            write_response(stream, header.correlation_id, api_key, version, &response).await?;
        }
        metrics.observe_request(api_name(api_key), started.elapsed().as_secs_f64());
    }
}

async fn write_response(
    stream: &mut TcpStream,
    correlation_id: i32,
    api_key: ApiKey,
    version: i16,
    response: &ResponseKind,
) -> std::io::Result<()> {
    // The length prefix is written first and patched, so the (possibly megabytes of) records
    // are copied into the frame once.
    let mut frame = BytesMut::new();
    frame.put_i32(0);
    let mut header = ResponseHeader::default();
    header.correlation_id = correlation_id;
    let encoded = header
        .encode(&mut frame, api_key.response_header_version(version))
        .and_then(|()| response.encode(&mut frame, version));
    if let Err(error) = encoded {
        tracing::error!(%error, "could not encode a response");
        return Err(std::io::Error::other(error.to_string()));
    }
    let length = i32::try_from(frame.len() - 4).unwrap_or(i32::MAX);
    frame[0..4].copy_from_slice(&length.to_be_bytes());
    stream.write_all(&frame).await
}

fn content_type(path: &std::path::Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

/// The HTTP side: `/metrics` (Prometheus) and, with `www`, the dashboard's static files.
async fn serve_http(listener: TcpListener, metrics: Arc<Metrics>, www: Option<std::path::PathBuf>) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let metrics = metrics.clone();
        let www = www.clone();
        tokio::task::spawn_local(async move {
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).await.unwrap_or(0);
            let text = String::from_utf8_lossy(&request[..n]);
            let path = text.strip_prefix("GET ").and_then(|rest| rest.split_whitespace().next()).unwrap_or("");
            let path = path.split(['?', '#']).next().unwrap_or("");
            let (status, kind, body): (&str, &str, Vec<u8>) = if path == "/metrics" {
                ("200 OK", "text/plain; version=0.0.4", metrics.render().into_bytes())
            } else if let (Some(root), false) = (&www, path.contains("..")) {
                let relative = path.trim_start_matches('/');
                let file = root.join(if relative.is_empty() { "index.html" } else { relative });
                match tokio::fs::read(&file).await {
                    Ok(body) => ("200 OK", content_type(&file), body),
                    Err(_) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
                }
            } else {
                ("404 Not Found", "text/plain", b"try /metrics\n".to_vec())
            };
            let header = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes()).await;
            let _ = stream.write_all(&body).await;
        });
    }
}

/// Frames and decodes nothing: here for the fuzz test's sake, the raw bytes a request is.
#[must_use]
pub fn frame(body: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(4 + body.len());
    frame.put_i32(i32::try_from(body.len()).unwrap_or(i32::MAX));
    frame.extend_from_slice(body);
    frame.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_controller_only_node_advertises_the_controller_apis_only() {
        let keys = |controller_only| -> Vec<i16> {
            api_versions(ErrorCode::None, controller_only).api_keys.iter().map(|v| v.api_key).collect()
        };
        let controller: Vec<i16> = CONTROLLER_APIS.iter().map(|key| *key as i16).collect();
        assert_eq!(keys(true).len(), controller.len());
        assert!(keys(true).iter().all(|key| controller.contains(key)));
        assert_eq!(keys(false).len(), SUPPORTED.len(), "a broker advertises everything it serves");
    }
}
