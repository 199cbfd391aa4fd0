//! The hall server over real HTTP on loopback: contract (every response checked against the
//! OpenAPI document), auth (401/403), concurrency guarantees with 50 clients, live events.
//! One test binary (see DEVELOPMENT.md: add a module, not a file).

mod auth;
mod common;
mod concurrency;
mod contract;
mod live;
mod outbox;
mod rating;
