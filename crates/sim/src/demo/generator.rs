//! The generator's state and its first steps: the seeded random source, the people, and the
//! spaces with their permissions. The page tree is planned in `tree`, the bodies written in
//! `bodies`, the pages assembled in `pages`.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::fixed::{
    ADMIN_EMAIL, ADMIN_NAME, DEMO_EPOCH_SECS, DEMO_USER_EMAIL, DEMO_USER_NAME, GUEST_EMAIL,
    GUEST_NAME,
};
use super::text::{lines, words};
use crate::fixture::{AttachmentSpec, CommentSpec, DatabaseSpec, FolderSpec, PermissionSpec};

/// The site's groups. The generator grants by these names, so they are code, not text.
pub(super) const GROUPS: &[&str] = &[
    "confluence-users",
    "engineering",
    "operations",
    "product",
    "hr-admins",
    "site-admins",
];

/// What a planned page is, which decides its body and labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Home,
    Index,
    Design,
    Review,
    Adr,
    Runbook,
    Meeting,
    FollowUp,
    Release,
    HowTo,
    Onboarding,
    Retro,
    Incident,
    Policy,
    Handbook,
    Prd,
    Interview,
    Roadmap,
    Personal,
    Template,
    Faq,
}

/// key (empty for the personal space), name, description, type, writers, commenters, grants.
type SpaceDef = (
    &'static str,
    String,
    &'static str,
    &'static str,
    Vec<String>,
    Vec<String>,
    Vec<PermissionSpec>,
);

pub(super) struct Space {
    pub(super) key: String,
    pub(super) name: String,
    pub(super) id: String,
    /// Account ids that may write (page and attachment authors).
    pub(super) writers: Vec<String>,
    /// Account ids that may comment.
    pub(super) commenters: Vec<String>,
    pub(super) home: Option<String>,
    pub(super) description: String,
    pub(super) space_type: &'static str,
    pub(super) permissions: Vec<PermissionSpec>,
}

pub(super) struct Node {
    pub(super) id: String,
    pub(super) space: usize,
    pub(super) title: String,
    pub(super) parent: Option<String>,
    pub(super) kind: Kind,
    /// What the page is about: a service, feature, team or company.
    pub(super) subject: String,
    pub(super) author: String,
    pub(super) created: i64,
    pub(super) status: &'static str,
}

pub(super) struct Person {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) email: String,
    pub(super) groups: Vec<String>,
    pub(super) guest: bool,
    pub(super) admin: bool,
}

pub(super) struct Gen {
    pub(super) rng: ChaCha8Rng,
    pub(super) next_content: u64,
    pub(super) next_attachment: u64,
    pub(super) people: Vec<Person>,
    pub(super) demo: String,
    pub(super) guest: String,
    pub(super) admin: String,
    pub(super) spaces: Vec<Space>,
    pub(super) nodes: Vec<Node>,
    pub(super) titles: Vec<HashSet<String>>,
    pub(super) folders: Vec<FolderSpec>,
    /// The folder of retired pages (OPS), once planned: everything in it is archived.
    pub(super) archive: Option<String>,
    pub(super) databases: Vec<DatabaseSpec>,
    pub(super) comments: Vec<CommentSpec>,
    pub(super) attachments: Vec<AttachmentSpec>,
}

pub(super) const ENG: usize = 0;
pub(super) const OPS: usize = 1;
pub(super) const PRD: usize = 2;
pub(super) const HR: usize = 3;
pub(super) const PERSONAL: usize = 4;

impl Gen {
    pub(super) fn new(seed: u64) -> Gen {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let next_content = 1_000_000 + rng.random_range(0..9_000_000u64);
        let next_attachment = 1_000_000 + rng.random_range(0..9_000_000u64);
        Gen {
            rng,
            next_content,
            next_attachment,
            people: Vec::new(),
            demo: String::new(),
            guest: String::new(),
            admin: String::new(),
            spaces: Vec::new(),
            nodes: Vec::new(),
            titles: Vec::new(),
            folders: Vec::new(),
            archive: None,
            databases: Vec::new(),
            comments: Vec::new(),
            attachments: Vec::new(),
        }
    }

    // -- small helpers ---------------------------------------------------------------------

    pub(super) fn content_id(&mut self) -> String {
        self.next_content += self.rng.random_range(1..40u64);
        self.next_content.to_string()
    }

    pub(super) fn attachment_id(&mut self) -> String {
        self.next_attachment += self.rng.random_range(1..40u64);
        format!("att{}", self.next_attachment)
    }

    pub(super) fn uuid(&mut self) -> String {
        let b: [u8; 16] = self.rng.random();
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    pub(super) fn pick_str(&mut self, items: &[String]) -> String {
        items[self.rng.random_range(0..items.len())].clone()
    }

    pub(super) fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A time after `after`, at most `span` later, never past the epoch.
    pub(super) fn later(&mut self, after: i64, span: i64) -> i64 {
        let t = after + self.rng.random_range(3_600..span.max(3_601));
        t.min(DEMO_EPOCH_SECS - 3_600)
    }

    pub(super) fn persons_in(&self, group: &str) -> Vec<String> {
        self.people
            .iter()
            .filter(|p| p.groups.iter().any(|g| g == group))
            .map(|p| p.id.clone())
            .collect()
    }

    // -- people and spaces -----------------------------------------------------------------

    pub(super) fn account_id(&mut self) -> String {
        if self.chance(0.25) {
            let b: [u8; 12] = self.rng.random();
            b.iter().map(|x| format!("{x:02x}")).collect()
        } else {
            format!("712020:{}", self.uuid())
        }
    }

    pub(super) fn make_people(&mut self) {
        let demo = self.account_id();
        self.people.push(Person {
            id: demo.clone(),
            name: DEMO_USER_NAME.to_string(),
            email: DEMO_USER_EMAIL.to_string(),
            groups: vec!["confluence-users".into(), "engineering".into()],
            guest: false,
            admin: false,
        });
        self.demo = demo;
        // One colleague for each home group, then two to four more: six to eight in all.
        let people = &words().people;
        let mut pool: Vec<usize> = (0..people.len()).collect();
        pool.shuffle(&mut self.rng);
        let mut chosen = Vec::new();
        for group in ["engineering", "operations", "product", "hr-admins"] {
            if let Some(pos) = pool.iter().position(|&i| people[i].2 == group) {
                chosen.push(pool.remove(pos));
            }
        }
        let extra = self.rng.random_range(2..=4usize);
        chosen.extend(pool.into_iter().take(extra));
        chosen.sort_unstable();
        for i in chosen {
            let (name, local, group) = people[i];
            let mut groups = vec!["confluence-users".to_string(), group.to_string()];
            if group == "operations" && self.chance(0.5) {
                groups.push("engineering".into());
            }
            let id = self.account_id();
            self.people.push(Person {
                id,
                name: name.into(),
                email: format!("{local}@conflux.example"),
                groups,
                guest: false,
                admin: false,
            });
        }
        let guest = self.account_id();
        self.people.push(Person {
            id: guest.clone(),
            name: GUEST_NAME.into(),
            email: GUEST_EMAIL.into(),
            groups: Vec::new(),
            guest: true,
            admin: false,
        });
        self.guest = guest;
        let admin = self.account_id();
        self.people.push(Person {
            id: admin.clone(),
            name: ADMIN_NAME.into(),
            email: ADMIN_EMAIL.into(),
            groups: vec!["confluence-users".into(), "site-admins".into()],
            guest: false,
            admin: true,
        });
        self.admin = admin;
    }

    pub(super) fn make_spaces(&mut self) {
        fn grant(principal: String, ops: &[&str]) -> PermissionSpec {
            PermissionSpec {
                principal,
                operations: ops.iter().map(|s| s.to_string()).collect(),
            }
        }
        const ALL: &[&str] = &["read", "write", "delete", "comment", "attach", "admin"];
        const EDIT: &[&str] = &["read", "write", "delete", "comment", "attach"];
        let admins = grant("group:site-admins".into(), ALL);
        let mut next_space = 98_304 + self.rng.random_range(0..65_536u64);
        let mut space_id = |rng: &mut ChaCha8Rng| {
            next_space += rng.random_range(1..4096u64);
            next_space.to_string()
        };
        let eng_writers = self.persons_in("engineering");
        let ops_writers = {
            let mut v = self.persons_in("operations");
            v.push(self.demo.clone());
            v
        };
        let prd_writers = self.persons_in("product");
        let hr_writers = self.persons_in("hr-admins");
        let staff = self.persons_in("confluence-users");
        let demo = self.demo.clone();
        let guest = self.guest.clone();
        let demo_key = format!("~{}", demo.replace([':', '-'], ""));
        // `[xyz.space]` of the tree text: the name, then the description (the personal space's
        // name is its owner's).
        let space = |k: &str| lines("tree", &format!("{k}.space"));
        let name = |k: &str| space(k).first().copied().unwrap_or_default().to_string();
        let description = |k: &str| space(k).last().copied().unwrap_or_default();
        let specs: Vec<SpaceDef> = vec![
            (
                "ENG",
                name("eng"),
                description("eng"),
                "global",
                eng_writers,
                staff.clone(),
                vec![
                    grant("group:confluence-users".into(), &["read", "comment"]),
                    grant("group:engineering".into(), EDIT),
                    admins.clone(),
                ],
            ),
            (
                "OPS",
                name("ops"),
                description("ops"),
                "global",
                ops_writers.clone(),
                {
                    let mut v = staff.clone();
                    v.push(guest.clone());
                    v
                },
                vec![
                    grant("anonymous".into(), &["read"]),
                    grant("group:operations".into(), EDIT),
                    grant(
                        format!("user:{demo}"),
                        &["read", "write", "comment", "attach"],
                    ),
                    grant("group:confluence-users".into(), &["read", "comment"]),
                    grant(format!("user:{guest}"), &["read", "comment"]),
                    admins.clone(),
                ],
            ),
            (
                "PRD",
                name("prd"),
                description("prd"),
                "global",
                {
                    let mut v = prd_writers;
                    v.push(demo.clone());
                    v
                },
                staff.clone(),
                vec![
                    grant(
                        "group:confluence-users".into(),
                        &["read", "write", "comment", "attach"],
                    ),
                    grant("group:product".into(), EDIT),
                    admins.clone(),
                ],
            ),
            (
                "HR",
                name("hr"),
                description("hr"),
                "global",
                hr_writers,
                self.persons_in("hr-admins"),
                vec![
                    grant("group:confluence-users".into(), &["read"]),
                    grant("group:hr-admins".into(), ALL),
                    admins.clone(),
                ],
            ),
            (
                "",
                DEMO_USER_NAME.into(),
                description("personal"),
                "personal",
                vec![demo.clone()],
                vec![demo.clone()],
                vec![grant(format!("user:{demo}"), ALL), admins],
            ),
        ];
        for (key, name, description, space_type, writers, commenters, permissions) in specs {
            let key = if key.is_empty() {
                demo_key.clone()
            } else {
                key.to_string()
            };
            let id = space_id(&mut self.rng);
            self.spaces.push(Space {
                key,
                name,
                id,
                writers,
                commenters,
                home: None,
                description: description.to_string(),
                space_type,
                permissions,
            });
            self.titles.push(HashSet::new());
        }
    }
}
