//! Message gateways: how a message in the outbox reaches an applicant's phone.
//!
//! Contract:
//! - [`HallGateway`] is the one [`Sink`] both hosts (the desktop in embedded mode, the hall
//!   server) give the delivery job. On every message it follows the hall's current setting
//!   ([`Gateway`]): `log` writes the message to the log (phone masked) and counts it as sent;
//!   `http` POSTs it to the configured URL.
//! - The HTTP request is JSON: the phone and the text under the field names the hall set (most
//!   Chinese SMS platforms and WeChat template-message relays take such a body), plus `kind`,
//!   `idempotency_key` and `created_at`. Headers: `Idempotency-Key` (the same on every attempt
//!   of one message, so the gateway drops duplicates after a retry or a crash),
//!   `X-OneTrip-Timestamp` (Unix seconds) and `X-OneTrip-Signature`:
//!   `sha256=` + hex HMAC-SHA256(secret, timestamp + "." + body) (RFC 2104), which the
//!   gateway checks before it sends anything, and rejects when the timestamp is stale.
//! - Any 2xx answer is delivered; anything else, or no answer within [`TIMEOUT`], is a failure
//!   the outbox retries with back-off. The phone never appears in an error or a log line.

use std::time::Duration;

use onetrip_core::outbox::{Gateway, GatewayKind, LogSink, Message, Sink};
use sha2::{Digest, Sha256};

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// HMAC-SHA256 (RFC 2104) of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(message);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

/// The `X-OneTrip-Signature` value of `body` sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), &signed))
    )
}

/// The JSON body the HTTP gateway receives for `m`.
pub fn body_of(gateway: &Gateway, m: &Message) -> serde_json::Value {
    let mut o = serde_json::Map::new();
    o.insert(gateway.phone_field.clone(), m.recipient.clone().into());
    o.insert(gateway.text_field.clone(), m.body.clone().into());
    o.insert("kind".into(), m.kind.clone().into());
    o.insert("idempotency_key".into(), m.dedupe.clone().into());
    o.insert("created_at".into(), m.created_at.to_string().into());
    serde_json::Value::Object(o)
}

/// The sink both hosts use (see the module docs).
#[derive(Debug, Default)]
pub struct HallGateway {
    /// Made on the first HTTP delivery, on the jobs thread: a blocking client runs its own
    /// runtime, which must be neither made nor dropped inside the server's async one.
    client: std::sync::OnceLock<reqwest::blocking::Client>,
}

impl HallGateway {
    pub fn new() -> HallGateway {
        HallGateway::default()
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, String> {
        if let Some(c) = self.client.get() {
            return Ok(c);
        }
        let c = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| format!("无法创建 HTTP 客户端：{e}"))?;
        Ok(self.client.get_or_init(|| c))
    }
}

impl Sink for HallGateway {
    fn deliver(&self, gateway: &Gateway, m: &Message) -> Result<(), String> {
        match gateway.kind {
            GatewayKind::Log => LogSink.deliver(gateway, m),
            GatewayKind::Http => {
                let body = serde_json::to_vec(&body_of(gateway, m)).map_err(|e| e.to_string())?;
                let ts = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as i64)
                    .unwrap_or(0);
                let answer = self
                    .client()?
                    .post(&gateway.url)
                    .header("content-type", "application/json")
                    .header("idempotency-key", &m.dedupe)
                    .header("x-onetrip-timestamp", ts.to_string())
                    .header("x-onetrip-signature", signature(&gateway.secret, ts, &body))
                    .body(body)
                    .send()
                    // The error names the URL, never the phone.
                    .map_err(|e| format!("网关无法连接：{}", e.without_url()))?;
                let status = answer.status();
                if status.is_success() {
                    tracing::info!(
                        kind = %m.kind,
                        recipient = %onetrip_core::validate::mask_phone(&m.recipient),
                        key = %m.dedupe,
                        "message delivered to the gateway"
                    );
                    Ok(())
                } else {
                    let text: String = answer
                        .text()
                        .unwrap_or_default()
                        .chars()
                        .take(200)
                        .collect();
                    Err(format!("网关返回 {}：{text}", status.as_u16()))
                }
            }
        }
    }
}

/// The other side of the HTTP gateway, for tests that stand up a fake SMS platform on
/// 127.0.0.1: one request read off a connection, and whether it is signed with a secret.
pub mod fake {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpStream;

    /// One POST as the platform received it (header names lower-cased).
    #[derive(Debug, Clone)]
    pub struct Request {
        pub headers: BTreeMap<String, String>,
        pub body: Vec<u8>,
    }

    impl Request {
        /// Read one request off `stream`; `None` when the peer closed first.
        pub fn read(stream: &TcpStream) -> Option<Request> {
            let mut reader = BufReader::new(stream.try_clone().ok()?);
            let mut line = String::new();
            if reader.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let mut headers = BTreeMap::new();
            loop {
                line.clear();
                reader.read_line(&mut line).ok()?;
                let l = line.trim_end();
                if l.is_empty() {
                    break;
                }
                if let Some((k, v)) = l.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
                }
            }
            let len: usize = headers.get("content-length")?.parse().ok()?;
            let mut body = vec![0; len];
            reader.read_exact(&mut body).ok()?;
            Some(Request { headers, body })
        }

        /// The `Idempotency-Key` header.
        pub fn key(&self) -> &str {
            self.headers
                .get("idempotency-key")
                .map_or("", String::as_str)
        }

        /// The `X-OneTrip-Timestamp` header, Unix seconds.
        pub fn timestamp(&self) -> i64 {
            self.headers
                .get("x-onetrip-timestamp")
                .and_then(|t| t.parse().ok())
                .unwrap_or(0)
        }

        /// Whether `X-OneTrip-Signature` is this body's under `secret`.
        pub fn signed_by(&self, secret: &str) -> bool {
            self.headers.get("x-onetrip-signature")
                == Some(&super::signature(secret, self.timestamp(), &self.body))
        }

        /// The JSON body.
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
        }
    }

    /// Answer with `status` (e.g. `200 OK`) and a short body.
    pub fn answer(mut stream: &TcpStream, status: &str) {
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4231 test cases 1, 2 and 6 (a key longer than the block).
    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex::encode(hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
