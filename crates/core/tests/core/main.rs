//! The core's integration tests, one binary: each module is a suite on a real SQLite file.
//!
//! One binary instead of one per file because every test binary links the whole core (Typst
//! included): fifteen of them cost CI gigabytes of disk and minutes of linking for nothing.

mod common;

mod applications;
mod architecture;
mod audit;
mod auth;
mod backup;
mod bad_input;
mod bindings;
mod calendar;
mod cases;
mod catalog_transfer;
mod crash;
mod deadlines;
mod fuzz_replay;
mod handover;
mod live_reads;
mod lived_in;
mod messages;
mod posts;
mod privacy;
mod queue;
mod ratings;
mod reactions;
mod reports;
mod roles;
mod store;
