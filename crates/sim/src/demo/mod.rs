//! The demo site: a realistic, seeded fixture for trying Conflux without a Confluence account.
//!
//! [`demo_fixture`] builds a company wiki of a few hundred pages over five spaces, with the
//! storage-format constructs a connector meets in practice (macros, task lists, mentions, page
//! links, images, inline-comment markers, long pages), comments, attachments, labels, history,
//! a folder or two and a database. Everything is derived from the seed and from constants, never
//! from the clock, so a seed names one site for good (`tests/demo.rs` pins a few).
//!
//! The words are data: `crates/sim/data/demo/` holds every name, title, sentence and page
//! fragment ([`text`]); the Rust here decides what goes where. In the order the site is made:
//! [`generator`] (people and spaces), [`tree`] (the page tree), [`pages`] (each page, its files,
//! history and comments) with [`bodies`] and [`prose`] (what a body says) over [`markup`]
//! (storage-format pieces). All text is written for this project.

mod bodies;
mod extras;
mod fixed;
mod generator;
mod markup;
mod pages;
mod prose;
#[cfg(test)]
mod tests;
mod text;
mod tree;

pub use fixed::{
    DEMO_EPOCH_SECS, DEMO_SITE_NAME, DEMO_USER_EMAIL, DEMO_USER_NAME, OUTSIDER_ACCOUNT_ID,
    OUTSIDER_EMAIL, OUTSIDER_NAME,
};

use crate::fixture::{Fixture, GroupSpec, OutsideAccountSpec, SiteSpec, SpaceSpec, UserSpec};
use generator::{GROUPS, Gen};

/// Builds the demo site; the same seed always gives the same site, byte for byte.
pub fn demo_fixture(seed: u64) -> Fixture {
    build(Gen::new(seed))
}

fn build(mut g: Gen) -> Fixture {
    g.make_people();
    g.make_spaces();
    g.plan_eng();
    g.plan_ops();
    g.plan_prd();
    g.plan_hr();
    g.plan_personal();
    g.set_statuses();
    let pages = g.render_pages();
    let users = g
        .people
        .iter()
        .map(|p| UserSpec {
            account_id: p.id.clone(),
            email: p.email.clone(),
            display_name: p.name.clone(),
            groups: p.groups.clone(),
            guest: p.guest,
            site_admin: p.admin,
        })
        .collect();
    let groups = GROUPS
        .iter()
        .map(|name| GroupSpec {
            id: g.uuid(),
            name: (*name).to_string(),
        })
        .collect();
    let spaces = g
        .spaces
        .iter()
        .map(|s| SpaceSpec {
            id: s.id.clone(),
            key: s.key.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            space_type: s.space_type.to_string(),
            homepage: s.home.clone(),
            permissions: s.permissions.clone(),
        })
        .collect();
    let demo_user = g.demo.clone();
    let mut fx = Fixture {
        site: SiteSpec {
            name: DEMO_SITE_NAME.to_string(),
            cloud_id: None,
        },
        users,
        groups,
        spaces,
        pages,
        folders: g.folders,
        comments: g.comments,
        attachments: g.attachments,
        databases: g.databases,
        outside_accounts: vec![OutsideAccountSpec {
            account_id: OUTSIDER_ACCOUNT_ID.to_string(),
            email: OUTSIDER_EMAIL.to_string(),
            display_name: OUTSIDER_NAME.to_string(),
        }],
        ..Fixture::default()
    };
    extras::add(&mut fx, &demo_user);
    fx
}
