//! OneTrip desktop shell. It only wires: windows, the menu, and IPC commands that are one-line
//! wrappers over `onetrip-core` operations (generated from the core's operation registry).
//!
//! Flags: `--window counter|display|kiosk|admin` (default counter), `--fullscreen`,
//! `--db PATH` (else `ONETRIP_DB`, else the platform data directory).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod args;
mod desk;
mod jobs;
mod log;
mod printing;
mod windows;

fn main() {
    desk::run();
}
