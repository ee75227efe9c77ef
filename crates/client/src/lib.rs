//! conflux-client (in progress).
