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
        "255e23a5430799270a79bcaa9c80fb16f3b937479f2223ae5a99a52b39abecdc",
    ),
    (
        1,
        "f446e260283b0db40b7a02d7a92508ea1aab1a00375d98110240e618cc3daea0",
    ),
    (
        7,
        "95cf5ee5d9fdd943ba7ea9a2d0a835e65592af3843c8778998ad497a2af3cdb7",
    ),
    (
        42,
        "82f43ebe3e3b7b38fbe879dcc7b82030e2cb7cc6c2323c32b6ab901524a6fd20",
    ),
    (
        20_260_115,
        "42ba065cad44490d15619b3f3116c9dacfb19b9d450fe4b0eebf977413a89ccb",
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
