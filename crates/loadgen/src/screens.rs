//! The screens a hall has open while it works, as the UI runs them (`ui/src/lib/live.svelte.ts`,
//! `ui/src/lib/features/queue/live.svelte.ts`):
//! - a **counter** (the clerk's console) listens to hall events and re-reads `queue.counter` on
//!   those that can change it, at most once per [`RELOAD_GAP`] (a burst becomes one read);
//! - a **display** or **kiosk** paints queue events from what they carry (the call, the counts,
//!   the window's current ticket) without a read, and re-reads `queue.board` (coalesced the
//!   same way) only for relevant events that carry no paint.
//!
//! Measured per screen kind: the **event-to-screen lag**, from the write that caused an event
//! (the event's time, stamped by the server when the operation ran) to the moment the screen's
//! data reflects it: the paint itself, or the end of the read that followed the event. The
//! reads themselves are timed with every other operation (`queue.counter`, `queue.board`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::Client;

/// The UI's `RELOAD_GAP_MS`.
pub const RELOAD_GAP: Duration = Duration::from_millis(200);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Counter,
    Display,
    Kiosk,
}

impl Kind {
    fn label(self, painted: bool) -> &'static str {
        match (self, painted) {
            (Kind::Counter, _) => "counter (read)",
            (Kind::Display, true) => "display (painted)",
            (Kind::Display, false) => "display (read)",
            (Kind::Kiosk, true) => "kiosk (painted)",
            (Kind::Kiosk, false) => "kiosk (read)",
        }
    }
}

/// Event-to-screen lags in ms, per screen kind and how the screen caught up.
#[derive(Default)]
pub struct Lags(pub BTreeMap<&'static str, Vec<f64>>);

fn now_ms() -> f64 {
    jiff::Timestamp::now().as_nanosecond() as f64 / 1e6
}

fn at_ms(event: &Value) -> Option<f64> {
    let at: jiff::Timestamp = event["at"].as_str()?.parse().ok()?;
    Some(at.as_nanosecond() as f64 / 1e6)
}

/// The UI's `queueRelevant`: events that can change what the queue screens show.
fn relevant(event: &Value) -> bool {
    match event["topic"].as_str().unwrap_or("") {
        "report" | "catalog" => false,
        "case" => event["op"].as_str().unwrap_or("").starts_with("handover."),
        _ => true,
    }
}

/// One screen, until `stop` turns true. `query` is `token=…` (staff) or `device=…` (a device).
/// `old`: as the UI did before screens coalesced and painted — a read on every hall event
/// (here one at a time; the old UI started them all at once), for the "before" figures.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    c: Client,
    kind: Kind,
    old: bool,
    header: String,
    query: String,
    lags: Arc<std::sync::Mutex<Lags>>,
    mut stop: watch::Receiver<bool>,
) {
    let url = format!("{}/api/events?{query}", c.base.replacen("http", "ws", 1));
    let (ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap_or_else(|e| panic!("events for a {kind:?}: {e}"));
    let (_, mut rx) = ws.split();
    let (op, req) = match kind {
        Kind::Counter => ("queue.counter", json!({})),
        Kind::Display | Kind::Kiosk => ("queue.board", json!({})),
    };
    // What the screen shows first.
    c.op(&header, op, req.clone()).await;
    let mut pending: Vec<f64> = Vec::new();
    let mut last_start = Instant::now() - RELOAD_GAP;
    loop {
        let due = (!pending.is_empty()).then_some(last_start + RELOAD_GAP);
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                last_start = Instant::now();
                c.op(&header, op, req.clone()).await;
                let done = now_ms();
                let mut l = lags.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let v = l.0.entry(kind.label(false)).or_default();
                v.extend(pending.drain(..).map(|at| (done - at).max(0.0)));
            }
            msg = rx.next() => {
                let text = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(_)) => continue,
                    None | Some(Err(_)) => return,
                };
                let Ok(m) = serde_json::from_str::<Value>(text.as_str()) else { continue };
                match m["kind"].as_str() {
                    Some("event") if old => {
                        let at = at_ms(&m["event"]).unwrap_or_else(now_ms);
                        c.op(&header, op, req.clone()).await;
                        let lag = (now_ms() - at).max(0.0);
                        lags.lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .0
                            .entry(kind.label(false))
                            .or_default()
                            .push(lag);
                    }
                    Some("event") => {
                        let e = &m["event"];
                        if !relevant(e) {
                            continue;
                        }
                        let at = at_ms(e).unwrap_or_else(now_ms);
                        let painted = kind != Kind::Counter
                            && e["topic"] == "queue"
                            && e.get("paint").is_some_and(|p| !p.is_null());
                        if painted {
                            let lag = (now_ms() - at).max(0.0);
                            lags.lock()
                                .unwrap_or_else(std::sync::PoisonError::into_inner)
                                .0
                                .entry(kind.label(true))
                                .or_default()
                                .push(lag);
                        } else {
                            pending.push(at);
                        }
                    }
                    Some("resync") => pending.push(now_ms()),
                    _ => {}
                }
            }
        }
    }
}
