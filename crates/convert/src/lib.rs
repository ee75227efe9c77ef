//! conflux-convert (in progress).
