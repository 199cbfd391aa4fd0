//! Live-update events. Every committed write operation produces exactly one [`HallEvent`]; the
//! shell publishes it (Tauri event, later WebSocket) *after* the commit, so a window never sees a
//! change that was rolled back. Events carry the source window so a window can tell its own
//! writes from others' (Yaak's pattern), and a topic so each screen reloads only what it shows.
//! A capability may add what a screen needs to paint the change without reading (`paint`): the
//! public display shows a call from its event alone, so a hall's displays add no reads per call.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Hall,
    Category,
    Window,
    Staff,
    /// A sign-in, sign-out or window release: window occupancy changed.
    Session,
    /// Tickets, calls, window pauses, ratings and follow-ups: the queue changed.
    Queue,
    /// The working-day calendar or the deadline settings changed (every open case was
    /// recomputed).
    Calendar,
    /// The service-item catalog changed.
    Catalog,
    /// A case was accepted or logged an event, or its warning level changed.
    Case,
    /// A report was filed, or the report settings changed.
    Report,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HallEvent {
    pub topic: Topic,
    /// The operation that committed the change, e.g. `window.create`.
    pub op: String,
    /// The id of the record that changed, when there is one.
    pub subject_id: Option<String>,
    /// The window label or host that made the change.
    pub source: Option<String>,
    pub at: Timestamp,
    /// What a live screen needs to paint the change at once, without a read: its shape is the
    /// capability's (the queue's is `QueuePaint`: the call to announce, the counts that moved,
    /// the window's current ticket). Absent when the screen must re-read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(type = "unknown", optional)]
    pub paint: Option<serde_json::Value>,
}

/// The Tauri / WebSocket event name all windows subscribe to.
pub const EVENT_NAME: &str = "onetrip://hall-event";

/// Something that happened in the domain, inside a write transaction: "the calendar changed",
/// "a takeover became active". A capability emits it ([`crate::kernel::op::Cx::emit`]) instead of
/// calling a capability above it; the reactions registered for it in the top layer
/// ([`crate::app::reactions`]) run at once, in the same transaction. Each capability defines its
/// own events next to the operations that emit them.
pub trait DomainEvent: std::any::Any + std::fmt::Debug + Send {
    /// A stable name, `capability.happened` (the reactions table is keyed by it).
    fn name(&self) -> &'static str;
}
