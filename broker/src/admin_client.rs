//! A small blocking Kafka client for the `rill topics` / `rill groups` commands and the tests:
//! one request at a time over a `TcpStream`, encoded and decoded with the `kafka-protocol`
//! crate.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, RequestKind, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

/// A connection to one broker.
pub struct AdminClient {
    stream: TcpStream,
    next_correlation_id: i32,
}

impl AdminClient {
    /// Connects to `address` (`host:port`).
    pub fn connect(address: &str) -> Result<AdminClient, String> {
        let stream = TcpStream::connect(address).map_err(|e| format!("cannot connect to {address}: {e}"))?;
        let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
        Ok(AdminClient { stream, next_correlation_id: 1 })
    }

    /// Sends a request at `version` and waits for its response.
    pub fn call(&mut self, api_key: ApiKey, version: i16, request: &RequestKind) -> Result<ResponseKind, String> {
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id += 1;
        let mut header = RequestHeader::default();
        header.request_api_key = api_key as i16;
        header.request_api_version = version;
        header.correlation_id = correlation_id;
        header.client_id = Some(StrBytes::from_static_str("rill-cli"));
        let mut body = BytesMut::new();
        header.encode(&mut body, api_key.request_header_version(version)).map_err(|e| e.to_string())?;
        request.encode(&mut body, version).map_err(|e| e.to_string())?;
        self.send_raw(&body)?;
        let mut response = self.read_frame()?;
        let header = ResponseHeader::decode(&mut response, api_key.response_header_version(version))
            .map_err(|e| e.to_string())?;
        if header.correlation_id != correlation_id {
            return Err(format!("response for correlation id {} instead of {correlation_id}", header.correlation_id));
        }
        ResponseKind::decode(api_key, &mut response, version).map_err(|e| format!("bad response: {e}"))
    }

    /// Writes a frame (length prefix added) as is.
    pub fn send_raw(&mut self, body: &[u8]) -> Result<(), String> {
        let mut frame = BytesMut::with_capacity(4 + body.len());
        frame.put_i32(i32::try_from(body.len()).map_err(|_| "request too large".to_owned())?);
        frame.extend_from_slice(body);
        self.stream.write_all(&frame).map_err(|e| format!("send: {e}"))
    }

    /// Reads one length-prefixed frame.
    pub fn read_frame(&mut self) -> Result<Bytes, String> {
        let mut length = [0u8; 4];
        self.stream.read_exact(&mut length).map_err(|e| format!("receive: {e}"))?;
        let length = usize::try_from(i32::from_be_bytes(length)).map_err(|_| "negative frame length".to_owned())?;
        let mut frame = vec![0u8; length];
        self.stream.read_exact(&mut frame).map_err(|e| format!("receive: {e}"))?;
        Ok(Bytes::from(frame))
    }
}
