//! conflux-cql (in progress).
