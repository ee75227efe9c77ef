//! conflux-sim (in progress).
pub mod fixture;
