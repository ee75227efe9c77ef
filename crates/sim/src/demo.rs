//! The demo site: a realistic, seeded fixture for trying Conflux without a Confluence account.

use crate::fixture::{Fixture, SiteSpec, UserSpec};

/// Builds the demo site; the same seed always gives the same site.
pub fn demo_fixture(seed: u64) -> Fixture {
    let _ = seed;
    Fixture {
        site: SiteSpec { name: "demo".to_string(), cloud_id: None },
        users: vec![UserSpec {
            account_id: "557058:demo-user".to_string(),
            email: "demo@conflux.example".to_string(),
            display_name: "Dana Demo".to_string(),
            groups: vec!["confluence-users".to_string()],
            guest: false,
            site_admin: false,
        }],
        ..Fixture::default()
    }
}
