//! conflux-sync against the simulator over loopback, in one test binary: its tests run in
//! parallel and it links once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod corpus;
mod export;
mod publish;
mod rate_limit;
