//! The kernel: what every capability stands on, and nothing of any capability.
//!
//! - [`error`]: the closed set of error codes every transport carries.
//! - [`clock`]: time at the boundary (an injected clock; civil dates in Asia/Shanghai).
//! - [`ids`]: UUID v7 record ids, hashes.
//! - [`validate`]: the checks every request field goes through.
//! - [`store`]: the database (SQLite or PostgreSQL), its transactions and migrations.
//! - [`audit`]: the append-only, hash-chained audit log.
//! - [`event`]: live events for screens, and domain events for reactions.
//! - [`op`]: the operation contract, access control and the runner.
//!
//! Contract: nothing here names a capability (`crate::hall`, `crate::cases`, …); the
//! architecture test (`tests/core/architecture.rs`) fails the build if it does. What the
//! kernel needs from above — who a credential is, what reacts to a domain event — is plugged
//! in by the top layer ([`crate::app`]) when the store is opened.

pub mod audit;
pub mod backup;
pub mod clock;
pub mod error;
pub mod event;
pub mod ids;
pub mod numbers;
pub mod op;
pub mod outbox;
pub mod store;
pub mod validate;
