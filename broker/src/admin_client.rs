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
    /// Connects to `address`: `host:port`, or a comma-separated list of them as Kafka's
    /// `--bootstrap-server` takes (the first that accepts).
    pub fn connect(address: &str) -> Result<AdminClient, String> {
        let mut errors = Vec::new();
        for one in address.split(',').map(str::trim).filter(|one| !one.is_empty()) {
            match TcpStream::connect(one) {
                Ok(stream) => {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                    return Ok(AdminClient { stream, next_correlation_id: 1 });
                }
                Err(error) => errors.push(format!("{one}: {error}")),
            }
        }
        if errors.is_empty() {
            return Err(format!("no broker address in {address:?} (expected host:port[,host:port...])"));
        }
        Err(format!("cannot connect to {}", errors.join("; ")))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bootstrap_list_connects_to_the_first_broker_that_accepts() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let open = listener.local_addr().expect("address");
        let closed = {
            let gone = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            gone.local_addr().expect("address")
        };
        assert!(AdminClient::connect(&format!("{closed}, {open}")).is_ok());
        let Err(error) = AdminClient::connect(&closed.to_string()) else { panic!("nothing listens") };
        assert!(error.starts_with(&format!("cannot connect to {closed}: ")), "{error}");
        let Err(error) = AdminClient::connect(" , ") else { panic!("no address") };
        assert!(error.contains("no broker address"), "{error}");
    }
}
