//! The end-to-end flows, one binary (one link of the test crate instead of eight): each module
//! drives the real built window (and, for hall mode, real browsers) through one flow. Every test
//! is `#[ignore]`d so that a plain `cargo test` needs no display; `make e2e` runs them one at a
//! time under Xvfb.

mod cases;
mod checklist;
mod desktop;
mod hall;
mod handover;
mod lived_in;
mod queue;
mod reports;
mod staff;
