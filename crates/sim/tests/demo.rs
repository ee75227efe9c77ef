//! The demo site is a function of its seed: these digests pin the whole fixture (every user,
//! space, page body, comment and attachment) for a few seeds, so that a change to the generator
//! or to the text it draws from cannot alter a seed's site unnoticed.
//!
//! A change that means to alter the demo site updates the digests here, in the same commit.
#![allow(clippy::unwrap_used)]

use sha2::Digest as _;

/// SHA-256 of `serde_json::to_string(&demo_fixture(seed))`, hex.
const PINNED: &[(u64, &str)] = &[
    (
        0,
        "fa3428fff1b97a6e752aac45ef8b2d9216ad43ce0e6e1b063da994dd58539da2",
    ),
    (
        1,
        "8036b07383818e32b57ce4db80a1dcfe370c6ff8c35fa778e10dd2ae91c854b0",
    ),
    (
        7,
        "4816c49ac949c50cd1c670c76f1e306c9d0ba8ce9858378d6b13f383b18134df",
    ),
    (
        42,
        "a4d1fc28b6c147e147701d13eaef40b1c8fb84eba8650bac2096bd8e13662457",
    ),
    (
        20_260_115,
        "45183bcc42758270ffb306df03c8939c134b11684bb2f6c2ee1e55c9a39b9c69",
    ),
];

fn digest(seed: u64) -> String {
    let json = serde_json::to_string(&conflux_sim::demo::demo_fixture(seed)).unwrap();
    format!("{:x}", sha2::Sha256::digest(json.as_bytes()))
}

#[test]
fn demo_fixture_is_pinned_per_seed() {
    let changed: Vec<String> = PINNED
        .iter()
        .map(|&(seed, want)| (seed, want, digest(seed)))
        .filter(|(_, want, got)| want != got)
        .map(|(seed, want, got)| format!("seed {seed}: pinned {want}, built {got}"))
        .collect();
    assert!(
        changed.is_empty(),
        "the demo site changed:\n{}",
        changed.join("\n")
    );
}
