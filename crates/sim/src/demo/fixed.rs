//! What the demo site holds whatever the seed: the demo user, the outside account, the site's
//! name and the instant all its dates lead up to.

/// The demo user's e-mail; the simulator issues this user's demo tokens.
pub const DEMO_USER_EMAIL: &str = "demo@conflux.example";
/// The demo user's display name.
pub const DEMO_USER_NAME: &str = "Dana Demo";
/// The demo site's outside account: an Atlassian account that is no user of the site.
pub const OUTSIDER_EMAIL: &str = "outsider@elsewhere.example";
/// The outside account's display name.
pub const OUTSIDER_NAME: &str = "Olive Outsider";
/// The outside account's id: fixed, so it never draws from the seeded generator (the site stays
/// the same for every seed it had before).
pub const OUTSIDER_ACCOUNT_ID: &str = "712020:0e5a7c31-8d42-4f6b-a9c0-5b3e2d1f7a64";
/// The site name (`demo.atlassian.net`).
pub const DEMO_SITE_NAME: &str = "demo";
/// Every date of the demo site lies in the two years before this instant (2026-01-15T09:00Z).
pub const DEMO_EPOCH_SECS: i64 = 1_768_467_600;

/// The guest: a contractor who may read and comment in one space.
pub(super) const GUEST_NAME: &str = "Gabe Keller (contractor)";
pub(super) const GUEST_EMAIL: &str = "gabe.keller@partner.example";
/// The site admin.
pub(super) const ADMIN_NAME: &str = "Sam Admin";
pub(super) const ADMIN_EMAIL: &str = "admin@conflux.example";

pub(super) const DAY: i64 = 86_400;
pub(super) const WINDOW_START: i64 = DEMO_EPOCH_SECS - 730 * DAY;
