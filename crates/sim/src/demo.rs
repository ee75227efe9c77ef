//! The demo site: a realistic, seeded fixture for trying Conflux without a Confluence account.
//!
//! [`demo_fixture`] builds a company wiki of a few hundred pages over five spaces, with the
//! storage-format constructs a connector meets in practice (macros, task lists, mentions, page
//! links, images, inline-comment markers, long pages), comments, attachments, labels, history,
//! a folder or two and a database. Everything is derived from the seed and from constants, never
//! from the clock, so a seed names one site for good. All text is written for this project.

use std::collections::{BTreeMap, HashSet};

use base64::Engine as _;
use chrono::{DateTime, SecondsFormat};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::fixture::{
    AttachmentSpec, CommentSpec, DatabaseSpec, Fixture, FolderSpec, GroupSpec, OutsideAccountSpec,
    PageSpec, PermissionSpec, SiteSpec, SpaceSpec, UserSpec, VersionSpec,
};

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

const DAY: i64 = 86_400;
const WINDOW_START: i64 = DEMO_EPOCH_SECS - 730 * DAY;

/// Builds the demo site; the same seed always gives the same site, byte for byte.
pub fn demo_fixture(seed: u64) -> Fixture {
    Gen::new(seed).build()
}

// ---------------------------------------------------------------------------------------------
// Vocabulary (written for this project).

const SERVICES: &[&str] = &[
    "billing-api",
    "search-indexer",
    "auth-gateway",
    "notification-service",
    "ledger",
    "media-pipeline",
    "edge-proxy",
    "job-scheduler",
    "feature-flags",
    "reporting-etl",
    "user-profile",
    "webhooks",
];

const TEAMS: &[&str] = &["Platform", "Payments", "Search", "Mobile", "Infra", "Data"];

const DESIGN_FEATURES: &[&str] = &[
    "Rate limiting",
    "Idempotent retries",
    "Tenant isolation",
    "Audit logging",
    "Bulk export",
    "Cursor pagination",
    "Online schema migrations",
    "Cache invalidation",
    "Blue-green deploys",
    "Request tracing",
    "Secret rotation",
    "Multi-region failover",
    "Event sourcing",
    "Soft deletes",
    "Backpressure",
    "Webhook signing",
    "Read replicas",
    "Quota accounting",
];

const ADR_DECISIONS: &[&str] = &[
    "Use PostgreSQL for the ledger store",
    "Adopt OpenTelemetry for tracing",
    "Run services on Kubernetes",
    "Prefer gRPC between internal services",
    "Keep REST with JSON for the public API",
    "Store secrets in a vault, not in env files",
    "Use feature flags for every risky rollout",
    "Publish domain events to a log",
    "Version the public API in the path",
    "Adopt trunk-based development",
    "Write new services in Rust",
    "Use cursor pagination everywhere",
    "Deploy with progressive canaries",
    "Retire the monolith's session store",
    "Use UUIDv7 for new identifiers",
    "Centralise rate limiting at the edge",
    "Treat infrastructure as code",
    "Require design review for new datastores",
    "Standardise on structured JSON logs",
    "Keep one repository per service",
    "Encrypt backups with per-tenant keys",
    "Move cron jobs to the job scheduler",
    "Expose health checks on a separate port",
    "Use contract tests between teams",
    "Limit synchronous fan-out to three calls",
    "Adopt semantic versioning for SDKs",
    "Cap request bodies at 10 MB",
    "Use a single time zone (UTC) in storage",
];

const RUNBOOK_TASKS: &[&str] = &[
    "Restart {svc}",
    "Scale {svc} horizontally",
    "Roll back a {svc} deploy",
    "Drain {svc} traffic from a region",
    "Rotate {svc} credentials",
    "Recover {svc} from a full disk",
    "Investigate {svc} latency alerts",
    "Replay failed {svc} jobs",
];

const HOWTOS: &[&str] = &[
    "How to set up a local dev environment",
    "How to request production access",
    "How to add a feature flag",
    "How to write a database migration",
    "How to profile a slow endpoint",
    "How to cut a release branch",
    "How to add a new service to CI",
    "How to debug a failing deploy",
    "How to read the service dashboards",
    "How to rotate your SSH keys",
    "How to run the integration tests",
    "How to file a good bug report",
    "How to use the staging environment",
    "How to review a pull request",
    "How to page the on-call engineer",
    "How to add a metric",
];

const ONBOARDING: &[&str] = &[
    "Onboarding: Your first day",
    "Onboarding: Your first week",
    "Onboarding: Codebase tour",
    "Onboarding: Tooling and access",
    "Onboarding: Who's who",
    "Onboarding: Glossary",
];

const SYMPTOMS: &[&str] = &[
    "elevated 5xx errors",
    "latency spike",
    "partial outage",
    "stale search results",
    "delayed notifications",
    "failed deploys",
    "expired certificate",
    "queue backlog",
    "database failover",
    "memory leak",
];

const OPS_RUNBOOKS: &[&str] = &[
    "Runbook: Rotate TLS certificates",
    "Runbook: Fail over the primary database",
    "Runbook: Restore a backup",
    "Runbook: Add a Kubernetes node pool",
    "Runbook: Clear a stuck deploy lock",
    "Runbook: Block an abusive client",
    "Runbook: Expand a disk volume",
    "Runbook: Renew the CDN configuration",
    "Runbook: Rebuild the search cluster",
    "Runbook: Purge a poisoned cache",
    "Runbook: Recover from DNS misconfiguration",
    "Runbook: Rotate the signing keys",
];

const PRODUCT_FEATURES: &[&str] = &[
    "Dark mode",
    "Saved searches",
    "Bulk invite",
    "Usage-based billing",
    "Audit log export",
    "SSO for small teams",
    "Mobile offline mode",
    "Custom fields",
    "Chat notifications",
    "Two-factor recovery codes",
    "Workspace templates",
    "Public status page",
    "In-app onboarding tour",
    "Granular sharing links",
    "CSV import",
    "Scheduled reports",
];

const COMPANIES: &[&str] = &[
    "Northwind Labs",
    "Bluefin Logistics",
    "Cedar & Pine Co.",
    "Quartz Analytics",
    "Harbor Health",
    "Juniper Retail",
    "Orbit Education",
    "Alder Finance",
    "Lumen <Studios>",
    "Kestrel Energy",
];

const POLICIES: &[&str] = &[
    "Annual leave policy",
    "Expense policy",
    "Remote work policy",
    "Travel policy",
    "Equipment policy",
    "Code of conduct",
    "Parental leave",
    "Learning budget",
    "Sick leave",
    "Working hours and overtime",
    "Security awareness",
    "Data protection for employees",
];

const LABEL_VOCAB: &[&str] = &[
    "runbook",
    "adr",
    "meeting-notes",
    "release",
    "how-to",
    "onboarding",
    "incident",
    "design",
    "retro",
    "architecture",
    "postmortem",
    "policy",
    "security",
    "oncall",
    "faq",
    "template",
    "api",
    "kubernetes",
    "database",
    "roadmap",
    "customer-research",
    "hiring",
    "handbook",
];

const SENTENCES: &[&str] = &[
    "The {svc} service owns this flow end to end, so changes here need a review from the {team} team.",
    "We measured a p99 latency of <strong>{ms} ms</strong> under the synthetic load profile.",
    "Set <code>{flag}</code> to <code>true</code> before running the migration, otherwise the job exits early.",
    "Most of the complexity sits in the retry path, not in the happy path.",
    "This is a <em>living document</em>: edit it when the behaviour changes rather than adding a new page.",
    "If the dashboard shows a gap, check the collector before assuming the service is down.",
    "The current limit is {rps} requests per second per tenant, enforced at the edge.",
    "We agreed to keep the old endpoint for one more release and to remove it afterwards.",
    "Anything marked as <strong>blocking</strong> must be resolved before the change freeze.",
    "Alerts for {svc} go to the {team} rotation during working hours and to the primary on-call otherwise.",
    "Rolling back is safe as long as the schema change has not been applied.",
    "The nightly export writes to <code>s3://conflux-demo-{env}/exports/</code> and keeps 30 days of history.",
    "Nobody should need to read the source to operate this; if you did, please improve this page.",
    "The {team} team reviewed the proposal and asked for a clearer rollback story.",
    "Error budgets are tracked per quarter; we spent about {pct} percent of this one.",
    "Use the staging environment first, and only then the canary in {env}.",
    "The queue depth is the best early signal: it rises minutes before the error rate does.",
    "Keep secrets out of tickets, chat and this wiki; link to the vault entry instead.",
    "<em>Note:</em> the numbers below come from the {env} cluster, not from a laptop.",
    "Every change to {svc} ships behind a flag until it has run clean for a week.",
    "Timeouts are set to {ms} ms on the client and slightly higher on the server.",
    "We prefer boring technology here, and we write down why when we do not.",
    "Ownership moves with the service: when {svc} changes hands, this page moves too.",
    "The old cron job still runs on Sundays; it is harmless but noisy.",
    "Measure before and after: a change without a number is a guess.",
    "Customers mostly noticed the slower search, not the failed webhooks.",
    "The {team} team will pair with whoever picks this up for the first week.",
    "Capacity planning assumes {growth} percent growth in active tenants per quarter.",
    "Logs are kept for 14 days in {env}; ask the {team} team if you need older ones.",
    "We retired the manual checklist once the pipeline enforced the same rules.",
    "Write the rollback steps first; they are the ones you will read at 3 a.m.",
    "The migration is reversible until the cleanup step, which drops the old column.",
    "Reads are cheap and cacheable; writes go through the primary and are audited.",
    "Please keep meeting notes short and put decisions at the top.",
    "This decision can be revisited when the traffic pattern changes.",
    "Dashboards for {svc} live in the <strong>{team}</strong> folder.",
    "On-call engineers may take any step on this page without asking first.",
    "A short summary beats a long transcript; link the recording if there is one.",
    "For anything customer-facing, loop in support before the rollout starts.",
    "The benchmark ran for {min} minutes with a warm cache.",
];

const FLAGS: &[&str] = &[
    "ENABLE_FAST_PATH",
    "LEDGER_DUAL_WRITE",
    "SEARCH_V2_READS",
    "STRICT_TENANT_CHECKS",
    "ASYNC_WEBHOOKS",
    "EDGE_RATE_LIMITS",
];

const ENVS: &[&str] = &["staging", "production", "eu-west", "us-east"];

const PEOPLE: &[(&str, &str, &str)] = &[
    // (display name, e-mail local part, home group)
    ("Priya Raman", "priya.raman", "engineering"),
    ("Marcus Osei", "marcus.osei", "operations"),
    ("Lena Vogt", "lena.vogt", "product"),
    ("Tomás Ibarra", "tomas.ibarra", "engineering"),
    ("Grace Whitfield", "grace.whitfield", "hr-admins"),
    ("Yusuf Arslan", "yusuf.arslan", "operations"),
    ("Hana Sato", "hana.sato", "engineering"),
    ("Oliver Brandt", "oliver.brandt", "product"),
    ("Amara Nwosu", "amara.nwosu", "operations"),
    ("Felix Lindqvist", "felix.lindqvist", "engineering"),
    ("Zoë Marchetti", "zoe.marchetti", "product"),
    ("Ingrid Halvorsen", "ingrid.halvorsen", "hr-admins"),
];

const GROUPS: &[&str] = &[
    "confluence-users",
    "engineering",
    "operations",
    "product",
    "hr-admins",
    "site-admins",
];

// ---------------------------------------------------------------------------------------------
// The plan: spaces and a page tree, then bodies rendered against the whole plan.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
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

struct Space {
    key: String,
    name: String,
    id: String,
    /// Account ids that may write (page and attachment authors).
    writers: Vec<String>,
    /// Account ids that may comment.
    commenters: Vec<String>,
    home: Option<String>,
    description: String,
    space_type: &'static str,
    permissions: Vec<PermissionSpec>,
}

struct Node {
    id: String,
    space: usize,
    title: String,
    parent: Option<String>,
    kind: Kind,
    /// What the page is about: a service, feature, team or company.
    subject: String,
    author: String,
    created: i64,
    status: &'static str,
}

struct Person {
    id: String,
    name: String,
    email: String,
    groups: Vec<String>,
    guest: bool,
    admin: bool,
}

struct Gen {
    rng: ChaCha8Rng,
    next_content: u64,
    next_attachment: u64,
    people: Vec<Person>,
    demo: String,
    guest: String,
    admin: String,
    spaces: Vec<Space>,
    nodes: Vec<Node>,
    titles: Vec<HashSet<String>>,
    folders: Vec<FolderSpec>,
    databases: Vec<DatabaseSpec>,
    comments: Vec<CommentSpec>,
    attachments: Vec<AttachmentSpec>,
}

const ENG: usize = 0;
const OPS: usize = 1;
const PRD: usize = 2;
const HR: usize = 3;
const PERSONAL: usize = 4;

impl Gen {
    fn new(seed: u64) -> Gen {
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
            databases: Vec::new(),
            comments: Vec::new(),
            attachments: Vec::new(),
        }
    }

    fn build(mut self) -> Fixture {
        self.make_people();
        self.make_spaces();
        self.plan_eng();
        self.plan_ops();
        self.plan_prd();
        self.plan_hr();
        self.plan_personal();
        self.set_statuses();
        let pages = self.render_pages();
        let users = self
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
            .map(|g| GroupSpec {
                id: self.uuid(),
                name: (*g).to_string(),
            })
            .collect();
        let spaces = self
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
        Fixture {
            site: SiteSpec {
                name: DEMO_SITE_NAME.to_string(),
                cloud_id: None,
            },
            users,
            groups,
            spaces,
            pages,
            folders: self.folders,
            comments: self.comments,
            attachments: self.attachments,
            databases: self.databases,
            outside_accounts: vec![OutsideAccountSpec {
                account_id: OUTSIDER_ACCOUNT_ID.to_string(),
                email: OUTSIDER_EMAIL.to_string(),
                display_name: OUTSIDER_NAME.to_string(),
            }],
            ..Fixture::default()
        }
    }

    // -- small helpers ---------------------------------------------------------------------

    fn content_id(&mut self) -> String {
        self.next_content += self.rng.random_range(1..40u64);
        self.next_content.to_string()
    }

    fn attachment_id(&mut self) -> String {
        self.next_attachment += self.rng.random_range(1..40u64);
        format!("att{}", self.next_attachment)
    }

    fn uuid(&mut self) -> String {
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

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.random_range(0..items.len())]
    }

    fn pick_str(&mut self, items: &[String]) -> String {
        items[self.rng.random_range(0..items.len())].clone()
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p)
    }

    /// A time after `after`, at most `span` later, never past the epoch.
    fn later(&mut self, after: i64, span: i64) -> i64 {
        let t = after + self.rng.random_range(3_600..span.max(3_601));
        t.min(DEMO_EPOCH_SECS - 3_600)
    }

    fn persons_in(&self, group: &str) -> Vec<String> {
        self.people
            .iter()
            .filter(|p| p.groups.iter().any(|g| g == group))
            .map(|p| p.id.clone())
            .collect()
    }

    // -- people and spaces -----------------------------------------------------------------

    fn account_id(&mut self) -> String {
        if self.chance(0.25) {
            let b: [u8; 12] = self.rng.random();
            b.iter().map(|x| format!("{x:02x}")).collect()
        } else {
            format!("712020:{}", self.uuid())
        }
    }

    fn make_people(&mut self) {
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
        let mut pool: Vec<usize> = (0..PEOPLE.len()).collect();
        pool.shuffle(&mut self.rng);
        let mut chosen = Vec::new();
        for group in ["engineering", "operations", "product", "hr-admins"] {
            if let Some(pos) = pool.iter().position(|&i| PEOPLE[i].2 == group) {
                chosen.push(pool.remove(pos));
            }
        }
        let extra = self.rng.random_range(2..=4usize);
        chosen.extend(pool.into_iter().take(extra));
        chosen.sort_unstable();
        for i in chosen {
            let (name, local, group) = PEOPLE[i];
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
            name: "Gabe Keller (contractor)".into(),
            email: "gabe.keller@partner.example".into(),
            groups: Vec::new(),
            guest: true,
            admin: false,
        });
        self.guest = guest;
        let admin = self.account_id();
        self.people.push(Person {
            id: admin.clone(),
            name: "Sam Admin".into(),
            email: "admin@conflux.example".into(),
            groups: vec!["confluence-users".into(), "site-admins".into()],
            guest: false,
            admin: true,
        });
        self.admin = admin;
    }

    fn make_spaces(&mut self) {
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
        let specs: Vec<SpaceDef> = vec![
            (
                "ENG",
                "Engineering".into(),
                "Designs, decisions, runbooks and meeting notes of the engineering teams.",
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
                "Operations".into(),
                "Incidents, on-call and infrastructure runbooks. Readable without an account.",
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
                "Product".into(),
                "Roadmap, requirements, customer research and release notes.",
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
                "People".into(),
                "Policies, benefits, hiring and onboarding for everyone at the company.",
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
                "Personal notes.",
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

    // -- the page tree ---------------------------------------------------------------------

    /// Adds a page to the plan; the title is made unique within the space.
    fn add(
        &mut self,
        space: usize,
        parent: Option<&str>,
        kind: Kind,
        title: &str,
        subject: &str,
        created: i64,
    ) -> String {
        let mut t = title.to_string();
        let mut n = 2;
        while self.titles[space].contains(&t) {
            t = format!("{title} ({n})");
            n += 1;
        }
        self.titles[space].insert(t.clone());
        let id = self.content_id();
        let author = self.pick_str(&self.spaces[space].writers.clone());
        self.nodes.push(Node {
            id: id.clone(),
            space,
            title: t,
            parent: parent.map(str::to_string),
            kind,
            subject: subject.to_string(),
            author,
            created,
            status: "current",
        });
        id
    }

    fn add_home(&mut self, space: usize) -> (String, i64) {
        let created = WINDOW_START + self.rng.random_range(0..5 * DAY);
        let title = if space == PERSONAL {
            "Overview".to_string()
        } else {
            format!("{} Home", self.spaces[space].name)
        };
        let id = self.add(space, None, Kind::Home, &title, "", created);
        self.spaces[space].home = Some(id.clone());
        (id, created)
    }

    fn add_index(&mut self, space: usize, parent: &str, title: &str, after: i64) -> (String, i64) {
        let created = self.later(after, 20 * DAY);
        (
            self.add(space, Some(parent), Kind::Index, title, "", created),
            created,
        )
    }

    fn years(&self) -> Vec<(i32, i64, i64)> {
        // (year, first second inside the window, last second inside the window)
        [
            (2024, 1_704_067_200i64),
            (2025, 1_735_689_600),
            (2026, 1_767_225_600),
        ]
        .iter()
        .map(|&(y, start)| {
            (
                y,
                start.max(WINDOW_START),
                (start + 365 * DAY - 1).min(DEMO_EPOCH_SECS - DAY),
            )
        })
        .filter(|&(_, a, b)| b > a + 7 * DAY)
        .collect()
    }

    fn plan_eng(&mut self) {
        let s = ENG;
        let (home, t0) = self.add_home(s);
        let (arch, t1) = self.add_index(s, &home, "Architecture", t0);
        let mut combos: Vec<(usize, usize)> = (0..DESIGN_FEATURES.len())
            .flat_map(|f| (0..SERVICES.len()).map(move |v| (f, v)))
            .collect();
        combos.shuffle(&mut self.rng);
        let designs = self.rng.random_range(13..=18usize);
        let mut used_features = HashSet::new();
        for (f, v) in combos.into_iter() {
            if used_features.len() == designs {
                break;
            }
            if !used_features.insert(f) {
                continue;
            }
            let title = format!("Design: {} in {}", DESIGN_FEATURES[f], SERVICES[v]);
            let created = self.later(t1, 600 * DAY);
            let id = self.add(s, Some(&arch), Kind::Design, &title, SERVICES[v], created);
            if self.chance(0.35) {
                let c = self.later(created, 20 * DAY);
                let review = format!("Review notes: {} in {}", DESIGN_FEATURES[f], SERVICES[v]);
                let rid = self.add(s, Some(&id), Kind::Review, &review, SERVICES[v], c);
                if self.chance(0.3) {
                    let c2 = self.later(c, 10 * DAY);
                    let t = format!("Open questions: {}", DESIGN_FEATURES[f]);
                    self.add(s, Some(&rid), Kind::FollowUp, &t, SERVICES[v], c2);
                }
            }
        }
        let (adrs, t2) = self.add_index(s, &arch, "Architecture Decision Records", t1);
        let n_adr = self.rng.random_range(16..=24usize);
        let mut t = t2;
        for (i, decision) in ADR_DECISIONS.iter().take(n_adr).enumerate() {
            t = self.later(t, 30 * DAY);
            let subject = self.pick(SERVICES);
            self.add(
                s,
                Some(&adrs),
                Kind::Adr,
                &format!("ADR-{:03}: {decision}", i + 1),
                subject,
                t,
            );
        }

        let (runbooks, t3) = self.add_index(s, &home, "Runbooks", t0);
        let mut services: Vec<&str> = SERVICES.to_vec();
        services.shuffle(&mut self.rng);
        let n_services = self.rng.random_range(5..=7usize);
        for svc in services.into_iter().take(n_services) {
            let (idx, ti) = self.add_index(s, &runbooks, &format!("{svc} runbooks"), t3);
            let mut tasks = RUNBOOK_TASKS.to_vec();
            tasks.shuffle(&mut self.rng);
            let n = self.rng.random_range(3..=5usize);
            for task in tasks.into_iter().take(n) {
                let title = format!("Runbook: {}", task.replace("{svc}", svc));
                let c = self.later(ti, 500 * DAY);
                let id = self.add(s, Some(&idx), Kind::Runbook, &title, svc, c);
                if self.chance(0.12) {
                    let c2 = self.later(c, 60 * DAY);
                    let t = format!("{} (legacy steps)", task.replace("{svc}", svc));
                    self.add(s, Some(&id), Kind::Runbook, &t, svc, c2);
                }
            }
        }

        let (meetings, _) = self.add_index(s, &home, "Meeting notes", t0);
        for (year, a, b) in self.years() {
            let yid = self.add(
                s,
                Some(&meetings),
                Kind::Index,
                &format!("{year} meetings"),
                "",
                a,
            );
            let span_days = (b - a) / DAY;
            let n = ((span_days / 30) as usize + 2).min(14);
            for _ in 0..n {
                let day = a + self.rng.random_range(0..(b - a).max(1));
                let team = self.pick(TEAMS);
                let what = self.pick(&["sync", "planning", "architecture review", "weekly"]);
                let title = format!("{} {team} {what}", date_of(day));
                let id = self.add(s, Some(&yid), Kind::Meeting, &title, team, day);
                if self.chance(0.15) {
                    let c = self.later(day, 7 * DAY);
                    let t = format!("Follow-up: {team} {what} {}", date_of(day));
                    self.add(s, Some(&id), Kind::FollowUp, &t, team, c);
                }
            }
        }

        let (releases, t4) = self.add_index(s, &home, "Release notes", t0);
        let n = self.rng.random_range(10..=14u32);
        let mut t = t4;
        let mut minor = self.rng.random_range(0..4u32);
        for i in 0..n {
            t = self.later(t, 50 * DAY);
            if i % 3 == 0 {
                minor += 1;
            }
            let title = format!("Release 3.{minor}.{}", i % 3);
            let svc = self.pick(SERVICES);
            self.add(s, Some(&releases), Kind::Release, &title, svc, t);
        }

        let (howtos, t5) = self.add_index(s, &home, "How-to guides", t0);
        let mut list = HOWTOS.to_vec();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(10..=14usize);
        for title in list.into_iter().take(n) {
            let c = self.later(t5, 600 * DAY);
            let svc = self.pick(SERVICES);
            self.add(s, Some(&howtos), Kind::HowTo, title, svc, c);
        }

        let (onb, t6) = self.add_index(s, &home, "Onboarding", t0);
        for title in ONBOARDING {
            let c = self.later(t6, 90 * DAY);
            self.add(s, Some(&onb), Kind::Onboarding, title, "Platform", c);
        }

        let (retros, t7) = self.add_index(s, &home, "Retrospectives", t0);
        let n = self.rng.random_range(6..=9u32);
        let mut sprint = self.rng.random_range(20..40u32);
        let mut t = t7;
        for _ in 0..n {
            t = self.later(t, 70 * DAY);
            sprint += self.rng.random_range(1..4u32);
            let team = self.pick(TEAMS);
            self.add(
                s,
                Some(&retros),
                Kind::Retro,
                &format!("Retro: {team} sprint {sprint}"),
                team,
                t,
            );
        }

        let c = self.later(t0, 200 * DAY);
        self.add(
            s,
            Some(&home),
            Kind::Handbook,
            "Engineering handbook",
            "Platform",
            c,
        );
        let c = self.later(t0, 300 * DAY);
        self.add(
            s,
            Some(&arch),
            Kind::Handbook,
            "API style guide",
            "Platform",
            c,
        );

        // A folder at the space root holding the page templates.
        let folder = self.content_id();
        let author = self.pick_str(&self.spaces[s].writers.clone());
        self.folders.push(FolderSpec {
            id: folder.clone(),
            space: self.spaces[s].key.clone(),
            title: "Templates".into(),
            parent_id: None,
            author,
        });
        for title in [
            "Template: Design doc",
            "Template: ADR",
            "Template: Runbook",
            "Template: Retro",
        ] {
            let c = self.later(t0, 60 * DAY);
            self.add(s, Some(&folder), Kind::Template, title, "Platform", c);
        }
    }

    fn plan_ops(&mut self) {
        let s = OPS;
        let (home, t0) = self.add_home(s);
        let (incidents, _) = self.add_index(s, &home, "Incident reports", t0);
        let mut inc = self.rng.random_range(100..300u32);
        for (year, a, b) in self.years() {
            let yid = self.add(
                s,
                Some(&incidents),
                Kind::Index,
                &format!("{year} incidents"),
                "",
                a,
            );
            let span_days = (b - a) / DAY;
            let n = ((span_days / 22) as usize + 1).min(18);
            let mut days: Vec<i64> = (0..n)
                .map(|_| a + self.rng.random_range(0..(b - a).max(1)))
                .collect();
            days.sort_unstable();
            for day in days {
                inc += self.rng.random_range(1..6u32);
                let svc = self.pick(SERVICES);
                let symptom = self.pick(SYMPTOMS);
                let title = format!("INC-{inc}: {svc} {symptom}");
                let id = self.add(s, Some(&yid), Kind::Incident, &title, svc, day);
                if self.chance(0.2) {
                    let c = self.later(day, 14 * DAY);
                    let t = format!("INC-{inc} postmortem actions");
                    self.add(s, Some(&id), Kind::FollowUp, &t, svc, c);
                }
            }
        }
        let (oncall, t1) = self.add_index(s, &home, "On-call", t0);
        let c = self.later(t1, 100 * DAY);
        self.add(
            s,
            Some(&oncall),
            Kind::Handbook,
            "On-call handbook",
            "Infra",
            c,
        );
        for title in [
            "Escalation policy",
            "Rotation schedule",
            "Paging etiquette",
            "Handover checklist",
        ] {
            let c = self.later(t1, 300 * DAY);
            self.add(s, Some(&oncall), Kind::Policy, title, "Infra", c);
        }
        let (runbooks, t2) = self.add_index(s, &home, "Runbooks", t0);
        let mut list = OPS_RUNBOOKS.to_vec();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(9..=12usize);
        for title in list.into_iter().take(n) {
            let c = self.later(t2, 600 * DAY);
            let svc = self.pick(SERVICES);
            self.add(s, Some(&runbooks), Kind::Runbook, title, svc, c);
        }
        let (maint, t3) = self.add_index(s, &home, "Maintenance windows", t0);
        let n = self.rng.random_range(5..=8usize);
        let mut t = t3;
        for _ in 0..n {
            t = self.later(t, 90 * DAY);
            let svc = self.pick(SERVICES);
            let title = format!("{} maintenance: {svc}", date_of(t));
            self.add(s, Some(&maint), Kind::Meeting, &title, "Infra", t);
        }
        let (howtos, t4) = self.add_index(s, &home, "How-to guides", t0);
        for title in [
            "How to read an alert",
            "How to open an incident",
            "How to write a postmortem",
            "How to request a maintenance window",
            "How to check the backup status",
        ] {
            let c = self.later(t4, 400 * DAY);
            let svc = self.pick(SERVICES);
            self.add(s, Some(&howtos), Kind::HowTo, title, svc, c);
        }
        // A folder of retired pages under the home page.
        let folder = self.content_id();
        let author = self.pick_str(&self.spaces[s].writers.clone());
        self.folders.push(FolderSpec {
            id: folder.clone(),
            space: self.spaces[s].key.clone(),
            title: "Archive".into(),
            parent_id: Some(home.clone()),
            author,
        });
        for title in [
            "Old paging tool setup",
            "Datacenter migration plan (2023)",
            "Legacy VPN instructions",
            "Runbook: Restart the old message broker",
        ] {
            let c = self.later(t0, 60 * DAY);
            self.add(s, Some(&folder), Kind::Runbook, title, "edge-proxy", c);
        }
    }

    fn plan_prd(&mut self) {
        let s = PRD;
        let (home, t0) = self.add_home(s);
        let (roadmap, t1) = self.add_index(s, &home, "Roadmap", t0);
        for (year, a, _) in self.years() {
            for q in 1..=4 {
                let start = a + (q - 1) * 91 * DAY;
                if start < DEMO_EPOCH_SECS - 30 * DAY {
                    let title = format!("{year} Q{q} roadmap");
                    self.add(s, Some(&roadmap), Kind::Roadmap, &title, "", start.max(t1));
                }
            }
        }
        let (reqs, t2) = self.add_index(s, &home, "Product requirements", t0);
        let mut list = PRODUCT_FEATURES.to_vec();
        list.shuffle(&mut self.rng);
        let n = self.rng.random_range(11..=15usize);
        for feature in list.into_iter().take(n) {
            let c = self.later(t2, 650 * DAY);
            let id = self.add(
                s,
                Some(&reqs),
                Kind::Prd,
                &format!("PRD: {feature}"),
                feature,
                c,
            );
            if self.chance(0.3) {
                let c2 = self.later(c, 30 * DAY);
                let t = format!("{feature}: launch checklist");
                self.add(s, Some(&id), Kind::FollowUp, &t, feature, c2);
            }
        }
        let (research, t3) = self.add_index(s, &home, "Customer research", t0);
        let (interviews, t4) = self.add_index(s, &research, "Customer interviews", t3);
        let n = self.rng.random_range(10..=16usize);
        for _ in 0..n {
            let c = self.later(t4, 680 * DAY);
            let company = self.pick(COMPANIES);
            let title = format!("Interview: {company} ({})", date_of(c));
            self.add(s, Some(&interviews), Kind::Interview, &title, company, c);
        }
        for title in [
            "Persona: Team admin",
            "Persona: Occasional contributor",
            "Survey results 2025",
        ] {
            let c = self.later(t3, 500 * DAY);
            self.add(s, Some(&research), Kind::Faq, title, "", c);
        }
        let (releases, t5) = self.add_index(s, &home, "Public release notes", t0);
        let n = self.rng.random_range(8..=12u32);
        let mut t = t5;
        for _ in 0..n {
            t = self.later(t, 60 * DAY);
            let title = format!("What's new in {}", month_of(t));
            let svc = self.pick(SERVICES);
            self.add(s, Some(&releases), Kind::Release, &title, svc, t);
        }
        let c = self.later(t0, 100 * DAY);
        self.add(s, Some(&home), Kind::Faq, "Product FAQ", "", c);
        let author = self.pick_str(&self.spaces[s].writers.clone());
        let db = self.content_id();
        self.databases.push(DatabaseSpec {
            id: db,
            space: self.spaces[s].key.clone(),
            title: "Feature tracker".into(),
            parent_id: Some(home),
            author,
        });
    }

    fn plan_hr(&mut self) {
        let s = HR;
        let (home, t0) = self.add_home(s);
        let (policies, t1) = self.add_index(s, &home, "Policies", t0);
        for title in POLICIES {
            let c = self.later(t1, 400 * DAY);
            self.add(s, Some(&policies), Kind::Policy, title, "", c);
        }
        let (onb, t2) = self.add_index(s, &home, "Onboarding", t0);
        for title in [
            "New starter checklist",
            "Your first week",
            "Benefits overview",
            "Tools and accounts",
            "Buddy programme",
        ] {
            let c = self.later(t2, 200 * DAY);
            self.add(s, Some(&onb), Kind::Onboarding, title, "People", c);
        }
        let (hiring, t3) = self.add_index(s, &home, "Hiring", t0);
        for title in [
            "Interview process",
            "Engineering interview rubric",
            "Product interview rubric",
            "Writing a job description",
            "Offer approval steps",
            "Referral programme",
        ] {
            let c = self.later(t3, 300 * DAY);
            self.add(s, Some(&hiring), Kind::Policy, title, "People", c);
        }
        let c = self.later(t0, 50 * DAY);
        self.add(
            s,
            Some(&home),
            Kind::Handbook,
            "Employee handbook",
            "People",
            c,
        );
        let c = self.later(t0, 80 * DAY);
        self.add(s, Some(&home), Kind::Faq, "People FAQ", "", c);
        let c = self.later(t0, 80 * DAY);
        self.add(s, Some(&home), Kind::Policy, "Public holidays 2025", "", c);
    }

    fn plan_personal(&mut self) {
        let s = PERSONAL;
        let (home, t0) = self.add_home(s);
        for title in [
            "Reading list",
            "Ideas",
            "Scratchpad",
            "Notes on the search rewrite",
            "Weekly goals",
            "Conference notes",
            "Snippets",
        ] {
            let c = self.later(t0, 600 * DAY);
            self.add(s, Some(&home), Kind::Personal, title, "", c);
        }
        let (ones, t1) = self.add_index(s, &home, "1:1 notes", t0);
        let n = self.rng.random_range(4..=7usize);
        let mut t = t1;
        for _ in 0..n {
            t = self.later(t, 90 * DAY);
            self.add(
                s,
                Some(&ones),
                Kind::Meeting,
                &format!("{} 1:1", date_of(t)),
                "Platform",
                t,
            );
        }
    }

    /// Marks a few leaf pages as drafts and a few as archived.
    fn set_statuses(&mut self) {
        let parents: HashSet<String> = self.nodes.iter().filter_map(|n| n.parent.clone()).collect();
        let leaves: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| {
                !parents.contains(&self.nodes[i].id)
                    && !matches!(
                        self.nodes[i].kind,
                        Kind::Home | Kind::Index | Kind::Handbook
                    )
            })
            .collect();
        let mut chosen = leaves;
        chosen.shuffle(&mut self.rng);
        let drafts = self.rng.random_range(3..=5usize);
        let archived = self.rng.random_range(3..=5usize);
        for (n, &i) in chosen.iter().take(drafts + archived).enumerate() {
            self.nodes[i].status = if n < drafts { "draft" } else { "archived" };
        }
        // Everything in the OPS archive folder is archived.
        let archive: Vec<String> = self
            .folders
            .iter()
            .filter(|f| f.title == "Archive")
            .map(|f| f.id.clone())
            .collect();
        for node in &mut self.nodes {
            if node.parent.as_ref().is_some_and(|p| archive.contains(p)) {
                node.status = "archived";
            }
        }
    }

    // -- bodies ----------------------------------------------------------------------------

    fn render_pages(&mut self) -> Vec<PageSpec> {
        // Link targets: current pages, by space.
        let mut targets: Vec<Vec<String>> = vec![Vec::new(); self.spaces.len()];
        for n in &self.nodes {
            if n.status == "current" {
                targets[n.space].push(n.title.clone());
            }
        }
        let by_id: BTreeMap<String, usize> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id.clone(), i))
            .collect();
        // Pages that get extra material.
        let count = self.nodes.len();
        let mut order: Vec<usize> = (0..count).collect();
        order.shuffle(&mut self.rng);
        let with_history: HashSet<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                let n = &self.nodes[i];
                n.status == "current"
                    && n.kind != Kind::Home
                    && n.created < DEMO_EPOCH_SECS - 120 * DAY
            })
            .take(self.rng.random_range(8..=12))
            .collect();
        let with_inline: HashSet<usize> = order
            .iter()
            .rev()
            .copied()
            .filter(|&i| self.nodes[i].status == "current" && self.nodes[i].space != PERSONAL)
            .take(self.rng.random_range(14..=20))
            .collect();

        let mut pages = Vec::with_capacity(count);
        for i in 0..count {
            let markers = if with_inline.contains(&i) {
                self.rng.random_range(1..=3)
            } else {
                0
            };
            let parent_title = self.nodes[i]
                .parent
                .as_ref()
                .and_then(|p| by_id.get(p))
                .map(|&j| self.nodes[j].title.clone());
            let children: Vec<String> = self
                .nodes
                .iter()
                .filter(|n| n.parent.as_deref() == Some(&self.nodes[i].id) && n.status == "current")
                .map(|n| n.title.clone())
                .collect();
            let mut body = Body::new(markers);
            let ctx = PageCtx {
                node: i,
                parent_title,
                children,
                targets: &targets,
            };
            self.render(&mut body, &ctx);
            body.finish_markers(self);
            let node = &self.nodes[i];
            let (id, space_key, title, author, created, status, kind) = (
                node.id.clone(),
                self.spaces[node.space].key.clone(),
                node.title.clone(),
                node.author.clone(),
                node.created,
                node.status,
                node.kind,
            );
            // Attachments the body refers to.
            for (filename, file) in std::mem::take(&mut body.files) {
                let att_author = self.pick_str(&self.spaces[self.nodes[i].space].writers.clone());
                let (media_type, text, base64) = match file {
                    File::Text(media, text) => (media, Some(text), None),
                    File::Png(bytes) => (
                        "image/png",
                        None,
                        Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
                    ),
                };
                let att_id = self.attachment_id();
                let comment = if self.chance(0.5) {
                    "Uploaded for this page".into()
                } else {
                    String::new()
                };
                let at = self.later(created, 5 * DAY);
                self.attachments.push(AttachmentSpec {
                    id: att_id,
                    page_id: id.clone(),
                    title: filename,
                    media_type: media_type.to_string(),
                    comment,
                    text,
                    base64,
                    author: att_author,
                    created_at: Some(timestamp(at)),
                });
            }
            let history = if with_history.contains(&i) {
                self.history(&body, &title, &author, created, self.nodes[i].space)
            } else {
                Vec::new()
            };
            // The page was created with its first version; the simulator dates the current
            // version a minute after the last earlier one.
            let current_at = history
                .last()
                .and_then(|v| v.created_at.as_deref())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map_or(created, |t| t.timestamp() + 60);
            let labels = self.labels(kind, i);
            if status == "current" {
                self.footer_comments(i, &id, current_at);
                self.inline_comments(i, &id, &body.markers, current_at);
            }
            pages.push(PageSpec {
                id,
                space: space_key,
                title,
                parent_id: self.nodes[i].parent.clone(),
                author,
                body: body.out,
                status: status.to_string(),
                labels,
                created_at: Some(timestamp(created)),
                history,
            });
        }
        pages
    }

    fn history(
        &mut self,
        body: &Body,
        title: &str,
        author: &str,
        created: i64,
        space: usize,
    ) -> Vec<VersionSpec> {
        let n = self.rng.random_range(2..=5usize);
        let cuts = &body.sections;
        let mut out = Vec::new();
        let mut t = created;
        let messages = [
            "First draft",
            "Added the rollback section",
            "Fixed typos",
            "Updated after review",
            "Clarified the prerequisites",
            "New numbers from the load test",
            "",
        ];
        for v in 0..n {
            // Earlier versions hold a growing prefix of the sections.
            let cut = if cuts.is_empty() {
                body.out.len()
            } else {
                cuts[(v * cuts.len() / n).min(cuts.len() - 1)]
            };
            let prefix = body.out.get(..cut).unwrap_or_default();
            let text = if prefix.is_empty() {
                "<p>Work in progress.</p>".to_string()
            } else {
                prefix.to_string()
            };
            let vtitle = if v == 0 && self.chance(0.5) {
                format!("{title} (draft)")
            } else {
                title.to_string()
            };
            let message = if v == 0 {
                "First draft"
            } else {
                self.pick(&messages)
            };
            let who = if self.chance(0.6) {
                author.to_string()
            } else {
                self.pick_str(&self.spaces[space].writers.clone())
            };
            out.push(VersionSpec {
                title: vtitle,
                body: text,
                message: message.to_string(),
                author: Some(who),
                created_at: Some(timestamp(t)),
            });
            t = self.later(t, 10 * DAY);
        }
        out
    }

    fn labels(&mut self, kind: Kind, i: usize) -> Vec<String> {
        let mut labels: Vec<&str> = match kind {
            Kind::Runbook => vec!["runbook", "oncall"],
            Kind::Adr => vec!["adr", "architecture"],
            Kind::Design => vec!["design", "architecture"],
            Kind::Review | Kind::FollowUp => vec![],
            Kind::Meeting => vec!["meeting-notes"],
            Kind::Release => vec!["release"],
            Kind::HowTo => vec!["how-to"],
            Kind::Onboarding => vec!["onboarding"],
            Kind::Retro => vec!["retro"],
            Kind::Incident => vec!["incident", "postmortem"],
            Kind::Policy => vec!["policy"],
            Kind::Handbook => vec!["handbook"],
            Kind::Prd => vec!["roadmap"],
            Kind::Interview => vec!["customer-research"],
            Kind::Roadmap => vec!["roadmap"],
            Kind::Template => vec!["template"],
            Kind::Faq => vec!["faq"],
            Kind::Home | Kind::Index | Kind::Personal => vec![],
        };
        if self.chance(0.25) {
            labels.push(self.pick(LABEL_VOCAB));
        }
        if self.nodes[i].space == PERSONAL || self.chance(0.12) {
            labels.clear();
        }
        labels.sort_unstable();
        labels.dedup();
        labels.into_iter().map(str::to_string).collect()
    }

    fn footer_comments(&mut self, i: usize, page_id: &str, after: i64) {
        if !self.chance(0.22) {
            return;
        }
        let space = self.nodes[i].space;
        let commenters = self.spaces[space].commenters.clone();
        let top = self.rng.random_range(1..=3);
        for _ in 0..top {
            let id = self.content_id();
            let at = self.later(after, 60 * DAY);
            let author = self.pick_str(&commenters);
            let body = self.comment_body(space);
            self.comments.push(CommentSpec {
                id: id.clone(),
                page_id: page_id.to_string(),
                kind: "footer".into(),
                parent_comment_id: None,
                author,
                body,
                inline_marker_ref: None,
                inline_original_selection: None,
                resolution_status: None,
                created_at: Some(timestamp(at)),
            });
            let replies = self.rng.random_range(0..=2);
            let mut t = at;
            for _ in 0..replies {
                t = self.later(t, 3 * DAY);
                let rid = self.content_id();
                let author = self.pick_str(&commenters);
                let body = self.reply_body();
                self.comments.push(CommentSpec {
                    id: rid,
                    page_id: page_id.to_string(),
                    kind: "footer".into(),
                    parent_comment_id: Some(id.clone()),
                    author,
                    body,
                    inline_marker_ref: None,
                    inline_original_selection: None,
                    resolution_status: None,
                    created_at: Some(timestamp(t)),
                });
            }
        }
    }

    fn inline_comments(
        &mut self,
        i: usize,
        page_id: &str,
        markers: &[(String, String)],
        after: i64,
    ) {
        let space = self.nodes[i].space;
        let commenters = self.spaces[space].commenters.clone();
        for (mref, selection) in markers {
            let id = self.content_id();
            let at = self.later(after, 30 * DAY);
            let author = self.pick_str(&commenters);
            let status = self.pick(&["open", "open", "resolved", "reopened"]);
            let remark = self.pick(&[
                "Is this still true after the last migration?",
                "Can we link the dashboard here?",
                "This number looks too optimistic to me.",
                "Worth a short example.",
                "Who owns this step?",
                "Let's say which environment this applies to.",
            ]);
            self.comments.push(CommentSpec {
                id,
                page_id: page_id.to_string(),
                kind: "inline".into(),
                parent_comment_id: None,
                author,
                body: format!("<p>{remark}</p>"),
                inline_marker_ref: Some(mref.clone()),
                inline_original_selection: Some(selection.clone()),
                resolution_status: Some(status.to_string()),
                created_at: Some(timestamp(at)),
            });
        }
    }

    fn comment_body(&mut self, space: usize) -> String {
        let opener = self.pick(&[
            "Thanks for writing this up.",
            "Nice, this answers most of my questions.",
            "I tried these steps in staging and they worked.",
            "One concern before we roll this out:",
            "Small suggestion:",
            "Could we add the expected output of each command?",
        ]);
        let mut s = format!("<p>{opener}");
        if self.chance(0.4) {
            let who = self.pick_str(&self.spaces[space].writers.clone());
            s.push_str(&format!(" {} what do you think?", mention(&who)));
        } else if self.chance(0.3) {
            s.push_str(" The limit might be lower in <code>eu-west</code>.");
        }
        s.push_str("</p>");
        if self.chance(0.2) {
            s.push_str("<ul><li><p>Check the alert thresholds</p></li><li><p>Update the diagram</p></li></ul>");
        }
        s
    }

    fn reply_body(&mut self) -> String {
        let text = self.pick(&[
            "Good point, updated.",
            "Agreed, I'll open a ticket.",
            "Done <ac:emoticon ac:name=\"tick\" ac:emoji-shortname=\":check_mark:\" ac:emoji-id=\"2705\" ac:emoji-fallback=\"\u{2705}\"/>",
            "Not yet, it depends on the migration.",
            "I'd rather keep it as is for now.",
        ]);
        format!("<p>{text}</p>")
    }

    // -- templates -------------------------------------------------------------------------

    fn vars(&mut self, i: usize) -> Vars {
        let subject = self.nodes[i].subject.clone();
        let svc = if SERVICES.contains(&subject.as_str()) {
            subject.clone()
        } else {
            self.pick(SERVICES).to_string()
        };
        let team = if TEAMS.contains(&subject.as_str()) {
            subject.clone()
        } else {
            self.pick(TEAMS).to_string()
        };
        Vars {
            svc,
            team,
            flag: self.pick(FLAGS).to_string(),
            env: self.pick(ENVS).to_string(),
            subject,
        }
    }

    fn sentence(&mut self, v: &Vars) -> String {
        let s = self.pick(SENTENCES);
        self.fill(s, v)
    }

    fn fill(&mut self, s: &str, v: &Vars) -> String {
        let ms = (self.rng.random_range(4..90u32) * 10).to_string();
        let rps = (self.rng.random_range(1..40u32) * 50).to_string();
        let pct = self.rng.random_range(5..95u32).to_string();
        let growth = self.rng.random_range(2..15u32).to_string();
        let min = self.rng.random_range(5..90u32).to_string();
        s.replace("{svc}", &v.svc)
            .replace("{team}", &v.team)
            .replace("{flag}", &v.flag)
            .replace("{env}", &v.env)
            .replace("{ms}", &ms)
            .replace("{rps}", &rps)
            .replace("{pct}", &pct)
            .replace("{growth}", &growth)
            .replace("{min}", &min)
    }

    /// A paragraph of two to four sentences; one of them may carry an inline-comment marker.
    fn para(&mut self, b: &mut Body, v: &Vars) {
        let n = self.rng.random_range(2..=4);
        let mut picks: Vec<usize> = (0..SENTENCES.len()).collect();
        picks.shuffle(&mut self.rng);
        let mut parts = Vec::new();
        for &k in picks.iter().take(n) {
            let s = self.fill(SENTENCES[k], v);
            parts.push(s);
        }
        if b.wants_marker()
            && self.chance(0.5)
            && let Some(k) = parts
                .iter()
                .position(|s| !s.contains('<') && !s.contains('&'))
        {
            let r = self.uuid();
            let text = parts[k].clone();
            parts[k] = format!(
                "<ac:inline-comment-marker ac:ref=\"{r}\">{text}</ac:inline-comment-marker>"
            );
            b.markers.push((r, text));
        }
        b.push(&format!("<p>{}</p>", parts.join(" ")));
    }

    fn link_to(&mut self, ctx: &PageCtx, cross: bool) -> String {
        let own = self.nodes[ctx.node].space;
        let space = if cross {
            self.rng.random_range(0..PERSONAL)
        } else {
            own
        };
        let own_title = &self.nodes[ctx.node].title;
        let list: Vec<&String> = ctx.targets[space]
            .iter()
            .filter(|t| space != own || *t != own_title)
            .collect();
        if list.is_empty() {
            return String::new();
        }
        let title = list[self.rng.random_range(0..list.len())].clone();
        let key = self.spaces[space].key.clone();
        let key = if space == own && self.chance(0.3) {
            None
        } else {
            Some(key.as_str())
        };
        let text = if self.chance(0.25) {
            Some(title.to_lowercase())
        } else {
            None
        };
        page_link(&title, key, text.as_deref())
    }

    fn render(&mut self, b: &mut Body, ctx: &PageCtx) {
        let i = ctx.node;
        let v = self.vars(i);
        let kind = self.nodes[i].kind;
        match kind {
            Kind::Home => self.home(b, ctx, &v),
            Kind::Index => self.index(b, ctx, &v),
            Kind::Design | Kind::Prd => self.design(b, ctx, &v),
            Kind::Review | Kind::FollowUp => self.follow_up(b, ctx, &v),
            Kind::Adr => self.adr(b, ctx, &v),
            Kind::Runbook => self.runbook(b, ctx, &v),
            Kind::Meeting | Kind::Interview => self.meeting(b, ctx, &v),
            Kind::Release => self.release(b, ctx, &v),
            Kind::HowTo | Kind::Template => self.howto(b, ctx, &v),
            Kind::Onboarding => self.onboarding(b, ctx, &v),
            Kind::Retro => self.retro(b, ctx, &v),
            Kind::Incident => self.incident(b, ctx, &v),
            Kind::Policy | Kind::Faq => self.policy(b, ctx, &v),
            Kind::Handbook => self.handbook(b, ctx, &v),
            Kind::Roadmap => self.roadmap(b, ctx, &v),
            Kind::Personal => self.personal(b, ctx, &v),
        }
    }

    fn home(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let space = self.nodes[ctx.node].space;
        let name = self.spaces[space].name.clone();
        b.section();
        b.push(&format!("<h1>Welcome to {}</h1>", esc(&name)));
        b.push(&macro_rich(
            &self.uuid(),
            "info",
            &[("title", "About this space")],
            &format!("<p>{}</p>", esc(&self.spaces[space].description)),
        ));
        self.para(b, v);
        b.push(&format!("<ac:structured-macro ac:name=\"toc\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"maxLevel\">2</ac:parameter></ac:structured-macro>", self.uuid()));
        b.section();
        b.push("<h2>Start here</h2>");
        let items: Vec<String> = ctx
            .children
            .iter()
            .map(|t| format!("<li><p>{}</p></li>", page_link(t, None, None)))
            .collect();
        if !items.is_empty() {
            b.push(&format!("<ul>{}</ul>", items.concat()));
        }
        b.push(&format!("<ac:structured-macro ac:name=\"children\" ac:schema-version=\"2\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"all\">true</ac:parameter></ac:structured-macro>", self.uuid()));
        b.section();
        b.push("<h2>Who to ask</h2>");
        let writers = self.spaces[space].writers.clone();
        let mut rows = Vec::new();
        for w in writers.iter().take(4) {
            let topic = self.pick(&[
                "Access and permissions",
                "Page structure",
                "Anything else",
                "Reviews",
            ]);
            rows.push(vec![mention(w), esc(topic)]);
        }
        b.push(&table(&["Person", "Ask about"], &rows));
        b.section();
        b.push("<h2>Recently useful</h2>");
        self.para(b, v);
        b.push(&format!(
            "<ac:structured-macro ac:name=\"recently-updated\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"max\">10</ac:parameter></ac:structured-macro>",
            self.uuid()
        ));
        if space == PERSONAL {
            b.push(&format!(
                "<p>Mostly notes to self {} Nothing here is authoritative.</p>",
                emoticon("smile")
            ));
        }
        b.push(&format!("<ac:image ac:align=\"center\" ac:width=\"480\"><ri:url ri:value=\"https://images.example.com/banners/{}.png\"/></ac:image>", esc(&self.spaces[space].key.to_lowercase().replace('~', ""))));
    }

    fn index(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&format!(
            "<p>This page collects everything under <strong>{}</strong>.</p>",
            esc(&self.nodes[ctx.node].title)
        ));
        self.para(b, v);
        if ctx.children.is_empty() {
            b.push("<p><em>Nothing here yet.</em></p>");
        } else {
            let items: Vec<String> = ctx
                .children
                .iter()
                .map(|t| format!("<li>{}</li>", page_link(t, None, None)))
                .collect();
            b.push(&format!("<ul>{}</ul>", items.concat()));
        }
        b.push(&format!(
            "<ac:structured-macro ac:name=\"children\" ac:schema-version=\"2\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"sort\">title</ac:parameter></ac:structured-macro>",
            self.uuid()
        ));
        if let Some(parent) = &ctx.parent_title {
            b.push(&format!(
                "<p>Back to {}.</p>",
                page_link(parent, None, None)
            ));
        }
    }

    fn status_lozenge(&mut self) -> String {
        let (colour, title) = self.pick(&[
            ("Green", "APPROVED"),
            ("Yellow", "IN REVIEW"),
            ("Grey", "DRAFT"),
            ("Blue", "IN PROGRESS"),
            ("Red", "REJECTED"),
            ("Purple", "SUPERSEDED"),
        ]);
        format!(
            "<ac:structured-macro ac:name=\"status\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"colour\">{colour}</ac:parameter><ac:parameter ac:name=\"title\">{title}</ac:parameter></ac:structured-macro>",
            self.uuid()
        )
    }

    fn properties_table(&mut self, ctx: &PageCtx) -> String {
        let author = self.nodes[ctx.node].author.clone();
        let others: Vec<String> = self.spaces[self.nodes[ctx.node].space]
            .writers
            .iter()
            .filter(|w| **w != author)
            .cloned()
            .collect();
        let reviewer = if others.is_empty() {
            author.clone()
        } else {
            self.pick_str(&others)
        };
        let status = self.status_lozenge();
        let date = date_of(self.nodes[ctx.node].created);
        table(
            &["Field", "Value"],
            &[
                vec!["Owner".into(), mention(&author)],
                vec!["Reviewer".into(), mention(&reviewer)],
                vec!["Status".into(), status],
                vec![
                    "Last reviewed".into(),
                    format!("<time datetime=\"{date}\"/>"),
                ],
            ],
        )
    }

    fn code_sample(&mut self, v: &Vars) -> String {
        let svc = &v.svc;
        let (lang, code) = match self.rng.random_range(0..7) {
            0 => (
                "bash",
                format!(
                    "kubectl -n {svc} get pods -l app={svc}\nkubectl -n {svc} rollout restart deployment/{svc}\nkubectl -n {svc} rollout status deployment/{svc} --timeout=5m"
                ),
            ),
            1 => (
                "sql",
                format!(
                    "-- rows waiting for the {svc} backfill\nSELECT tenant_id, count(*) AS pending\nFROM outbox\nWHERE processed_at IS NULL\n  AND created_at < now() - interval '15 minutes'\nGROUP BY tenant_id\nORDER BY pending DESC\nLIMIT 20;"
                ),
            ),
            2 => (
                "yaml",
                format!(
                    "service: {svc}\nreplicas: 3\nresources:\n  requests:\n    cpu: 250m\n    memory: 512Mi\nflags:\n  {}: true\n",
                    v.flag
                ),
            ),
            3 => (
                "json",
                format!(
                    "{{\n  \"service\": \"{svc}\",\n  \"limits\": {{ \"rps\": 200, \"burst\": 50 }},\n  \"owners\": [\"{}\"]\n}}",
                    v.team.to_lowercase()
                ),
            ),
            4 => (
                "rust",
                format!(
                    "/// Retries a call to {svc} with capped exponential backoff.\nasync fn with_retry<T, F, Fut>(mut call: F) -> Result<T, Error>\nwhere\n    F: FnMut() -> Fut,\n    Fut: Future<Output = Result<T, Error>>,\n{{\n    let mut delay = Duration::from_millis(100);\n    for _ in 0..5 {{\n        match call().await {{\n            Err(e) if e.is_retryable() => sleep(delay).await,\n            other => return other,\n        }}\n        delay = (delay * 2).min(Duration::from_secs(5));\n    }}\n    call().await\n}}"
                ),
            ),
            5 => (
                "python",
                format!(
                    "import requests\n\n# Compare error rates of {svc} before and after the deploy.\nfor window in (\"1h\", \"24h\"):\n    r = requests.get(f\"https://metrics.example.com/api/{svc}/errors?window={{window}}\")\n    print(window, r.json()[\"rate\"] < 0.01 and \"ok\" or \"check\")"
                ),
            ),
            _ => (
                "text",
                format!(
                    "2025-03-14T10:02:11Z WARN  {svc}: upstream timeout after 3000 ms (attempt 2/5)\n2025-03-14T10:02:14Z ERROR {svc}: giving up on request <id> & marking job failed"
                ),
            ),
        };
        code_macro(&self.uuid(), lang, &code)
    }

    fn admonition(&mut self, v: &Vars) -> String {
        let name = self.pick(&["info", "note", "warning", "tip"]);
        let title = match name {
            "warning" => "Before you start",
            "note" => "Heads up",
            "tip" => "Tip",
            _ => "Good to know",
        };
        let s = self.sentence(v);
        macro_rich(
            &self.uuid(),
            name,
            &[("title", title)],
            &format!("<p>{s}</p>"),
        )
    }

    fn tasks(&mut self, b: &mut Body, items: &[&str], ctx: &PageCtx) {
        let space = self.nodes[ctx.node].space;
        let writers = self.spaces[space].writers.clone();
        let mut out = String::from("<ac:task-list>");
        for item in items {
            b.task_id += 1;
            let status = if self.chance(0.5) {
                "complete"
            } else {
                "incomplete"
            };
            let mut body = esc(item);
            if self.chance(0.5) {
                let who = self.pick_str(&writers);
                body.push(' ');
                body.push_str(&mention(&who));
            }
            if self.chance(0.3) {
                let due = date_of(self.later(self.nodes[ctx.node].created, 30 * DAY));
                body.push_str(&format!(" <time datetime=\"{due}\"/>"));
            }
            out.push_str(&format!(
                "<ac:task><ac:task-id>{}</ac:task-id><ac:task-uuid>{}</ac:task-uuid><ac:task-status>{status}</ac:task-status><ac:task-body>{body}</ac:task-body></ac:task>",
                b.task_id,
                self.uuid()
            ));
        }
        out.push_str("</ac:task-list>");
        b.push(&out);
    }

    fn image(&mut self, b: &mut Body, name: &str, alt: &str) {
        let filename = format!("{}.png", slug(name));
        let png = tiny_png(&mut self.rng);
        b.files.push((filename.clone(), File::Png(png)));
        b.push(&format!(
            "<p><ac:image ac:alt=\"{}\" ac:width=\"600\"><ri:attachment ri:filename=\"{}\"/></ac:image></p>",
            esc(alt),
            esc(&filename)
        ));
    }

    fn design(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        let props = self.properties_table(ctx);
        b.push(&props);
        b.push(&format!(
            "<ac:structured-macro ac:name=\"toc\" ac:schema-version=\"1\" ac:macro-id=\"{}\"/>",
            self.uuid()
        ));
        b.section();
        b.push("<h2>Background</h2>");
        self.para(b, v);
        self.para(b, v);
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&format!("<p>See also {l}.</p>"));
        }
        b.section();
        b.push("<h2>Goals</h2>");
        b.push(&format!(
            "<ul><li><p>Must have</p><ul><li><p>No data loss during the rollout of {}</p></li><li><p>Latency within <strong>10%</strong> of today</p></li></ul></li><li><p>Nice to have</p><ul><li><p>A dashboard for the {} team</p></li></ul></li></ul>",
            esc(&v.subject),
            esc(&v.team)
        ));
        b.push("<h3>Non-goals</h3>");
        b.push("<ol><li><p>Changing the public API</p></li><li><p>Migrating historical data</p></li></ol>");
        b.section();
        b.push("<h2>Proposal</h2>");
        self.para(b, v);
        let code = self.code_sample(v);
        b.push(&code);
        if self.chance(0.6) {
            self.image(b, &format!("{} overview", v.subject), "Component overview");
        }
        self.para(b, v);
        b.push("<h3>Alternatives considered</h3>");
        let rows = vec![
            vec![
                "Do nothing".into(),
                "No effort".into(),
                "The problem grows with traffic".into(),
            ],
            vec![
                "Buy a managed service".into(),
                "Fast to adopt".into(),
                "Cost and lock-in".into(),
            ],
            vec![
                "<strong>This proposal</strong>".into(),
                "Fits our stack".into(),
                "Two sprints of work".into(),
            ],
        ];
        b.push(&table(&["Option", "Pros", "Cons"], &rows));
        b.section();
        b.push("<h2>Rollout</h2>");
        let adm = self.admonition(v);
        b.push(&adm);
        self.para(b, v);
        if self.chance(0.5) {
            let csv = "week,tenants,error_rate\n1,5,0.002\n2,50,0.003\n3,500,0.002\n4,all,0.001\n"
                .to_string();
            b.files
                .push(("rollout-plan.csv".into(), File::Text("text/csv", csv)));
            b.push(&format!(
                "<p>The week-by-week plan is in {}.</p>",
                attachment_link("rollout-plan.csv")
            ));
        }
        b.section();
        b.push("<h2>Open questions</h2>");
        self.tasks(
            b,
            &[
                "Confirm the capacity numbers",
                "Agree on the alert thresholds",
                "Write the runbook",
            ],
            ctx,
        );
        b.push(&macro_rich(
            &self.uuid(),
            "expand",
            &[("title", "Raw benchmark output")],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
    }

    fn follow_up(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        if let Some(parent) = &ctx.parent_title {
            b.push(&format!(
                "<p>Follow-up to {}.</p>",
                page_link(parent, None, None)
            ));
        }
        b.push("<h2>Summary</h2>");
        self.para(b, v);
        b.push("<h2>Actions</h2>");
        self.tasks(
            b,
            &[
                "Update the design doc",
                "Share the outcome with the team",
                "Schedule the next check-in",
            ],
            ctx,
        );
    }

    fn adr(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        let status = self.status_lozenge();
        b.push(&format!("<p><strong>Status:</strong> {status}</p>"));
        let author = self.nodes[ctx.node].author.clone();
        b.push(&format!(
            "<p><strong>Deciders:</strong> {}</p>",
            mention(&author)
        ));
        b.section();
        b.push("<h2>Context</h2>");
        self.para(b, v);
        b.section();
        b.push("<h2>Decision</h2>");
        self.para(b, v);
        b.section();
        b.push("<h2>Consequences</h2>");
        b.push("<ul><li><p><strong>Positive:</strong> one way of doing it</p></li><li><p><strong>Negative:</strong> migration work for older services</p><ul><li><p>tracked in the platform backlog</p></li></ul></li></ul>");
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&format!("<p>Related: {l}</p>"));
        }
        b.push(&jira_issue(
            &self.uuid(),
            &format!("ENG-{}", self.rng.random_range(100..3000)),
        ));
    }

    fn runbook(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&macro_rich(
            &self.uuid(),
            "warning",
            &[("title", "Production impact")],
            &format!("<p>These steps touch <strong>{}</strong> in production. Announce in the incident channel first.</p>", esc(&v.svc)),
        ));
        b.push("<h2>When to use this</h2>");
        self.para(b, v);
        b.section();
        b.push("<h2>Steps</h2>");
        b.push(&format!(
            "<ol><li><p>Check the dashboard for <code>{}</code>.</p></li><li><p>Confirm you are on the right cluster:</p><ol><li><p><code>kubectl config current-context</code></p></li><li><p>compare with the table below</p></li></ol></li><li><p>Run the commands.</p></li><li><p>Watch the error rate for 10 minutes.</p></li></ol>",
            esc(&v.svc)
        ));
        let code = self.code_sample(v);
        b.push(&code);
        b.push(&table(
            &["Environment", "Cluster", "Region"],
            &[
                vec![
                    "staging".into(),
                    "<code>stg-1</code>".into(),
                    "eu-west".into(),
                ],
                vec![
                    "production".into(),
                    "<code>prd-1</code>".into(),
                    "eu-west".into(),
                ],
                vec![
                    "production".into(),
                    "<code>prd-2</code>".into(),
                    "us-east".into(),
                ],
            ],
        ));
        b.section();
        b.push("<h2>Rollback</h2>");
        self.para(b, v);
        b.section();
        b.push("<h2>Checks</h2>");
        self.tasks(
            b,
            &[
                "Error rate back to normal",
                "No alerts firing",
                "Incident channel updated",
            ],
            ctx,
        );
        if self.chance(0.4) {
            let script = format!(
                "#!/bin/sh\nset -eu\n# Restart {0} one pod at a time.\nkubectl -n {0} rollout restart deployment/{0}\n",
                v.svc
            );
            b.files.push((
                format!("restart-{}.sh", v.svc),
                File::Text("text/x-sh", script),
            ));
            b.push(&format!(
                "<p>Script: {}</p>",
                attachment_link(&format!("restart-{}.sh", v.svc))
            ));
        }
        let l = self.link_to(ctx, true);
        if !l.is_empty() {
            b.push(&format!("<p>Escalate as described in {l}.</p>"));
        }
    }

    fn meeting(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let node = &self.nodes[ctx.node];
        let date = date_of(node.created);
        let space = node.space;
        b.section();
        b.push(&format!("<h2>Date</h2><p><time datetime=\"{date}\"/></p>"));
        b.push("<h2>Participants</h2>");
        let commenters = self.spaces[space].commenters.clone();
        let mut who: Vec<String> = Vec::new();
        for _ in 0..self.rng.random_range(2..=4) {
            let p = self.pick_str(&commenters);
            if !who.contains(&p) {
                who.push(p);
            }
        }
        let items: Vec<String> = who
            .iter()
            .map(|p| format!("<li><p>{}</p></li>", mention(p)))
            .collect();
        b.push(&format!("<ul>{}</ul>", items.concat()));
        b.section();
        b.push("<h2>Agenda</h2>");
        let rows: Vec<Vec<String>> = (0..self.rng.random_range(2..=4))
            .map(|k| {
                vec![
                    format!("{} min", 5 + 5 * k),
                    esc(&self.sentence(v).replace(['<', '>'], "")),
                    mention(&who[k % who.len()]),
                ]
            })
            .collect();
        b.push(&table(&["Time", "Item", "Who"], &rows));
        b.section();
        b.push("<h2>Discussion</h2>");
        self.para(b, v);
        if self.chance(0.3) {
            b.push(&format!(
                "<p>Decision: go ahead {}</p>",
                emoticon("thumbs-up")
            ));
        }
        b.section();
        b.push("<h2>Action items</h2>");
        self.tasks(
            b,
            &[
                "Send the summary",
                "Update the roadmap",
                "Book the follow-up",
            ],
            ctx,
        );
    }

    fn release(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let title = self.nodes[ctx.node].title.clone();
        b.section();
        b.push(&format!("<h1>{}</h1>", esc(&title)));
        b.push("<h2>Highlights</h2>");
        b.push(&format!(
            "<ul><li><p>Faster pages in <strong>{}</strong></p></li><li><p>New setting: <code>{}</code></p></li><li><p>Fewer timeouts under load</p></li></ul>",
            esc(&v.svc),
            esc(&v.flag)
        ));
        if self.chance(0.4) {
            self.image(
                b,
                &format!("{title} screenshot"),
                "What the new screen looks like",
            );
        }
        b.section();
        b.push("<h2>Changes</h2>");
        let rows: Vec<Vec<String>> = (0..self.rng.random_range(3..=6))
            .map(|_| {
                let key = format!("ENG-{}", self.rng.random_range(100..3000));
                let kind = self.pick(&["Bug", "Story", "Task"]);
                vec![
                    esc(&key),
                    kind.into(),
                    esc(&self.sentence(v).replace(['<', '>'], "")),
                ]
            })
            .collect();
        b.push(&table(&["Key", "Type", "Summary"], &rows));
        b.push(&format!(
            "<ac:structured-macro ac:name=\"jira\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"server\">System Jira</ac:parameter><ac:parameter ac:name=\"columns\">key,summary,type,status</ac:parameter><ac:parameter ac:name=\"maximumIssues\">20</ac:parameter><ac:parameter ac:name=\"jqlQuery\">fixVersion = \"{}\" ORDER BY priority DESC</ac:parameter><ac:parameter ac:name=\"serverId\">{}</ac:parameter></ac:structured-macro>",
            self.uuid(),
            esc(&title),
            self.uuid()
        ));
        b.section();
        b.push("<h2>Known issues</h2>");
        b.push(&macro_rich(
            &self.uuid(),
            "note",
            &[],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
    }

    fn howto(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&macro_rich(
            &self.uuid(),
            "tip",
            &[("title", "Short version")],
            &format!("<p>{}</p>", self.sentence(v)),
        ));
        b.push("<h2>Prerequisites</h2>");
        b.push("<ul><li><p>Access to the <em>staging</em> cluster</p></li><li><p>The CLI installed (<code>brew install example-cli</code>)</p></li></ul>");
        b.section();
        b.push("<h2>Steps</h2>");
        for k in 1..=self.rng.random_range(3..=5) {
            b.push(&format!("<h3>Step {k}</h3>"));
            self.para(b, v);
            if k == 2 {
                let code = self.code_sample(v);
                b.push(&code);
            }
        }
        if self.chance(0.3) {
            b.push(&format!(
                "<p><ac:image ac:width=\"400\"><ri:url ri:value=\"https://docs.example.com/img/{}.png\"/></ac:image></p>",
                slug(&v.svc)
            ));
        }
        b.section();
        b.push("<h2>Troubleshooting</h2>");
        b.push(&macro_rich(
            &self.uuid(),
            "expand",
            &[("title", "It still does not work")],
            &format!("<p>{}</p><p>Ask in {} or read <a href=\"https://docs.example.com/{}\">the vendor docs</a>.</p>", self.sentence(v), esc("#help-platform"), slug(&v.svc)),
        ));
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&format!("<p>Related: {l}</p>"));
        }
    }

    fn onboarding(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&format!(
            "<p>Welcome aboard {} This page walks you through what matters first.</p>",
            emoticon("smile")
        ));
        b.push("<h2>Checklist</h2>");
        self.tasks(
            b,
            &[
                "Get your laptop",
                "Set up two-factor authentication",
                "Join the team channel",
                "Meet your buddy",
                "Ship a small change",
            ],
            ctx,
        );
        b.section();
        b.push("<h2>Reading</h2>");
        let mut links = Vec::new();
        for _ in 0..3 {
            let cross = self.chance(0.3);
            let l = self.link_to(ctx, cross);
            if !l.is_empty() {
                links.push(format!("<li><p>{l}</p></li>"));
            }
        }
        if !links.is_empty() {
            b.push(&format!("<ul>{}</ul>", links.concat()));
        }
        self.para(b, v);
        b.push(&macro_rich(
            &self.uuid(),
            "panel",
            &[("title", "Your buddy"), ("bgColor", "#DEEBFF")],
            &format!(
                "<p>Your buddy is {} for the first month.</p>",
                mention(&self.nodes[ctx.node].author.clone())
            ),
        ));
    }

    fn retro(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&format!(
            "<h2>What went well {}</h2>",
            emoticon("thumbs-up")
        ));
        b.push(&format!(
            "<ul><li><p>{}</p></li><li><p>{}</p></li></ul>",
            self.sentence(v),
            self.sentence(v)
        ));
        b.section();
        b.push(&format!(
            "<h2>What did not go well {}</h2>",
            emoticon("thumbs-down")
        ));
        self.para(b, v);
        b.section();
        b.push("<h2>Actions</h2>");
        self.tasks(
            b,
            &[
                "Shorten the review queue",
                "Fix the flaky test",
                "Pair on the deploy script",
            ],
            ctx,
        );
        let status = self.status_lozenge();
        b.push(&format!("<p>Sprint goal: {status}</p>"));
    }

    fn incident(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let created = self.nodes[ctx.node].created;
        b.section();
        b.push(&macro_rich(
            &self.uuid(),
            "panel",
            &[("title", "Summary"), ("bgColor", "#FFEBE6"), ("borderStyle", "solid")],
            &format!(
                "<p><strong>Severity:</strong> SEV-{}</p><p><strong>Duration:</strong> {} minutes</p><p><strong>Impact:</strong> {}</p>",
                self.rng.random_range(1..=3),
                self.rng.random_range(5..240),
                esc(&self.sentence(v).replace(['<', '>'], ""))
            ),
        ));
        b.push("<p><ac:link ac:anchor=\"timeline\"><ac:plain-text-link-body><![CDATA[Jump to the timeline]]></ac:plain-text-link-body></ac:link></p>");
        b.section();
        b.push("<h2>What happened</h2>");
        self.para(b, v);
        self.para(b, v);
        b.section();
        b.push("<h2>Timeline</h2>");
        b.push("<ac:structured-macro ac:name=\"anchor\" ac:schema-version=\"1\"><ac:parameter ac:name=\"\">timeline</ac:parameter></ac:structured-macro>");
        let mut t = created;
        let mut rows = Vec::new();
        for what in [
            "Alert fired",
            "On-call acknowledged",
            "Cause identified",
            "Mitigation deployed",
            "Resolved",
        ] {
            t += self.rng.random_range(60..1800);
            rows.push(vec![time_of(t), what.into()]);
        }
        b.push(&table(&["Time (UTC)", "Event"], &rows));
        if self.chance(0.5) {
            let log = format!(
                "{} alert {} {}\n{} ack by on-call\n{} resolved\n",
                time_of(created),
                v.svc,
                "5xx>2%",
                time_of(created + 300),
                time_of(t)
            );
            b.files
                .push(("timeline.txt".into(), File::Text("text/plain", log)));
            b.push(&format!(
                "<p>Raw log: {}</p>",
                attachment_link("timeline.txt")
            ));
        }
        b.section();
        b.push("<h2>Root cause</h2>");
        self.para(b, v);
        b.push("<h4>Contributing factors</h4>");
        b.push(
            "<ul><li><p>Alert threshold too high</p></li><li><p>Missing runbook step</p></li></ul>",
        );
        b.section();
        b.push("<h2>Follow-ups</h2>");
        self.tasks(
            b,
            &[
                "Lower the alert threshold",
                "Add the missing runbook step",
                "Share the postmortem",
            ],
            ctx,
        );
        b.push(&jira_issue(
            &self.uuid(),
            &format!("OPS-{}", self.rng.random_range(10..900)),
        ));
    }

    fn policy(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let title = self.nodes[ctx.node].title.clone();
        b.section();
        b.push(&format!("<p>This page describes our <strong>{}</strong>. It applies to everyone unless your contract says otherwise.</p>", esc(&title.to_lowercase())));
        b.push(&format!("<ac:structured-macro ac:name=\"toc\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"minLevel\">2</ac:parameter></ac:structured-macro>", self.uuid()));
        for heading in ["Scope", "The rules", "Exceptions", "Questions"] {
            b.section();
            b.push(&format!("<h2>{heading}</h2>"));
            self.para(b, v);
            if heading == "The rules" {
                b.push(&table(
                    &["Case", "What to do", "Approval"],
                    &[
                        vec![
                            "Standard".into(),
                            "Follow the steps below".into(),
                            "None".into(),
                        ],
                        vec![
                            "Above the limit".into(),
                            "Ask your manager first".into(),
                            "Manager".into(),
                        ],
                        vec![
                            "Anything unusual".into(),
                            "Write to the People team".into(),
                            "People team".into(),
                        ],
                    ],
                ));
            }
        }
        if title.contains("FAQ") || title.contains("Persona") || title.contains("Survey") {
            for _ in 0..self.rng.random_range(3..=6) {
                let q = self.sentence(v).replace(['<', '>'], "");
                b.push(&format!("<h3>{}?</h3>", esc(q.trim_end_matches('.'))));
                self.para(b, v);
            }
        }
        if self.chance(0.3) {
            let text = format!(
                "Form for the {}\n\nName:\nDate:\nAmount:\nReason:\n",
                title.to_lowercase()
            );
            b.files
                .push(("form.txt".into(), File::Text("text/plain", text)));
            b.push(&format!(
                "<p>Fill in {} and send it to the People team.</p>",
                attachment_link("form.txt")
            ));
        }
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&format!("<p>See also {l}.</p>"));
        }
        b.push(&format!(
            "<p>Owner: {}</p>",
            mention(&self.nodes[ctx.node].author.clone())
        ));
    }

    fn roadmap(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        b.push(&format!(
            "<p>Themes for {}.</p>",
            esc(&self.nodes[ctx.node].title)
        ));
        let mut rows = Vec::new();
        for _ in 0..self.rng.random_range(4..=6) {
            let feature = self.pick(PRODUCT_FEATURES);
            let status = self.status_lozenge();
            rows.push(vec![esc(feature), status, esc(self.pick(TEAMS))]);
        }
        b.push(&table(&["Theme", "Status", "Team"], &rows));
        self.para(b, v);
        let l = self.link_to(ctx, false);
        if !l.is_empty() {
            b.push(&format!("<p>Details: {l}</p>"));
        }
    }

    fn personal(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        b.section();
        self.para(b, v);
        b.push(&format!(
            "<ul><li><p><a href=\"https://blog.example.org/posts/{}\">A post worth reading</a></p></li><li><p>{}</p></li></ul>",
            self.rng.random_range(100..999),
            self.link_to(ctx, true)
        ));
        let code = self.code_sample(v);
        b.push(&code);
        self.tasks(
            b,
            &[
                "Read the ADRs",
                "Try the new CLI",
                "Write up the search notes",
            ],
            ctx,
        );
    }

    /// A long page of many sections (30 to 60 KB) for large-page tests.
    fn handbook(&mut self, b: &mut Body, ctx: &PageCtx, v: &Vars) {
        let target = self.rng.random_range(32_000..54_000usize);
        b.section();
        b.push(&format!("<h1>{}</h1>", esc(&self.nodes[ctx.node].title)));
        b.push(&format!("<ac:structured-macro ac:name=\"toc\" ac:schema-version=\"1\" ac:macro-id=\"{}\"><ac:parameter ac:name=\"maxLevel\">3</ac:parameter></ac:structured-macro>", self.uuid()));
        let topics = [
            "Principles",
            "Working hours",
            "Communication",
            "Code review",
            "Testing",
            "Deployments",
            "Observability",
            "Security",
            "Documentation",
            "On-call",
            "Incidents",
            "Decisions",
            "Dependencies",
            "Performance",
            "Accessibility",
            "Data handling",
            "Meetings",
            "Tooling",
            "Learning",
            "Feedback",
        ];
        let mut k = 0usize;
        while b.out.len() < target {
            let topic = topics[k % topics.len()];
            let round = k / topics.len();
            k += 1;
            b.section();
            if round == 0 {
                b.push(&format!("<h2>{k}. {topic}</h2>"));
            } else {
                b.push(&format!("<h2>{k}. {topic}, part {}</h2>", round + 1));
            }
            self.para(b, v);
            b.push(&format!("<h3>{k}.1 In practice</h3>"));
            self.para(b, v);
            match k % 5 {
                0 => {
                    let code = self.code_sample(v);
                    b.push(&code);
                }
                1 => {
                    let adm = self.admonition(v);
                    b.push(&adm);
                }
                2 => b.push(&table(
                    &["Do", "Don't"],
                    &[
                        vec![
                            esc(&self.sentence(v).replace(['<', '>'], "")),
                            esc(&self.sentence(v).replace(['<', '>'], "")),
                        ],
                        vec!["Write it down".into(), "Rely on memory".into()],
                    ],
                )),
                3 => {
                    b.push(&format!("<h4>{k}.1.1 Checklist</h4>"));
                    self.tasks(b, &["Read this section", "Discuss it with your team"], ctx);
                }
                _ => {
                    let l = self.link_to(ctx, true);
                    b.push(&format!(
                        "<ul><li><p>{}</p><ul><li><p>{l}</p></li></ul></li></ul>",
                        self.sentence(v)
                    ));
                }
            }
        }
    }
}

struct Vars {
    svc: String,
    team: String,
    flag: String,
    env: String,
    subject: String,
}

struct PageCtx<'a> {
    node: usize,
    parent_title: Option<String>,
    children: Vec<String>,
    targets: &'a [Vec<String>],
}

enum File {
    Text(&'static str, String),
    Png(Vec<u8>),
}

/// A storage-format body under construction.
struct Body {
    out: String,
    /// Byte offsets where a top-level section starts: an earlier version may end there.
    sections: Vec<usize>,
    task_id: u32,
    markers_wanted: usize,
    /// (marker ref, highlighted text) of each inline-comment marker placed.
    markers: Vec<(String, String)>,
    files: Vec<(String, File)>,
}

impl Body {
    fn new(markers_wanted: usize) -> Body {
        Body {
            out: String::new(),
            sections: Vec::new(),
            task_id: 0,
            markers_wanted,
            markers: Vec::new(),
            files: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn section(&mut self) {
        if !self.out.is_empty() {
            self.sections.push(self.out.len());
        }
    }

    fn wants_marker(&self) -> bool {
        self.markers.len() < self.markers_wanted
    }

    /// Places the markers the paragraphs did not.
    fn finish_markers(&mut self, g: &mut Gen) {
        while self.wants_marker() {
            let r = g.uuid();
            let text = g.pick(&[
                "This part is still under discussion.",
                "The numbers here need a second look.",
                "We may change this step soon.",
            ]);
            self.push(&format!(
                "<p><ac:inline-comment-marker ac:ref=\"{r}\">{text}</ac:inline-comment-marker></p>"
            ));
            self.markers.push((r, text.to_string()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Storage-format fragments.

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

fn page_link(title: &str, space: Option<&str>, text: Option<&str>) -> String {
    let space = space
        .map(|k| format!(" ri:space-key=\"{}\"", esc(k)))
        .unwrap_or_default();
    let body = text
        .map(|t| format!("<ac:plain-text-link-body><![CDATA[{t}]]></ac:plain-text-link-body>"))
        .unwrap_or_default();
    format!(
        "<ac:link><ri:page ri:content-title=\"{}\"{space}/>{body}</ac:link>",
        esc(title)
    )
}

fn attachment_link(filename: &str) -> String {
    format!(
        "<ac:link><ri:attachment ri:filename=\"{}\"/></ac:link>",
        esc(filename)
    )
}

fn mention(account_id: &str) -> String {
    format!(
        "<ac:link><ri:user ri:account-id=\"{}\"/></ac:link>",
        esc(account_id)
    )
}

fn emoticon(name: &str) -> String {
    let (short, id, fallback) = match name {
        "smile" => (":slight_smile:", "1f642", "\u{1f642}"),
        "thumbs-up" => (":thumbsup:", "1f44d", "\u{1f44d}"),
        "thumbs-down" => (":thumbsdown:", "1f44e", "\u{1f44e}"),
        _ => (":check_mark:", "2705", "\u{2705}"),
    };
    format!(
        "<ac:emoticon ac:name=\"{name}\" ac:emoji-shortname=\"{short}\" ac:emoji-id=\"{id}\" ac:emoji-fallback=\"{fallback}\"/>"
    )
}

fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut s = String::from("<table data-layout=\"default\"><tbody><tr>");
    for h in headers {
        s.push_str(&format!("<th><p><strong>{}</strong></p></th>", esc(h)));
    }
    s.push_str("</tr>");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            s.push_str(&format!("<td><p>{cell}</p></td>"));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

fn code_macro(id: &str, lang: &str, code: &str) -> String {
    // CDATA cannot hold its own terminator; split it the way Confluence does.
    let code = code.replace("]]>", "]]]]><![CDATA[>");
    format!(
        "<ac:structured-macro ac:name=\"code\" ac:schema-version=\"1\" ac:macro-id=\"{id}\"><ac:parameter ac:name=\"language\">{lang}</ac:parameter><ac:parameter ac:name=\"linenumbers\">true</ac:parameter><ac:plain-text-body><![CDATA[{code}]]></ac:plain-text-body></ac:structured-macro>"
    )
}

fn macro_rich(id: &str, name: &str, params: &[(&str, &str)], body: &str) -> String {
    let params: String = params
        .iter()
        .map(|(k, v)| {
            format!(
                "<ac:parameter ac:name=\"{}\">{}</ac:parameter>",
                esc(k),
                esc(v)
            )
        })
        .collect();
    format!(
        "<ac:structured-macro ac:name=\"{name}\" ac:schema-version=\"1\" ac:macro-id=\"{id}\">{params}<ac:rich-text-body>{body}</ac:rich-text-body></ac:structured-macro>"
    )
}

fn jira_issue(id: &str, key: &str) -> String {
    format!(
        "<p><ac:structured-macro ac:name=\"jira\" ac:schema-version=\"1\" ac:macro-id=\"{id}\"><ac:parameter ac:name=\"server\">System Jira</ac:parameter><ac:parameter ac:name=\"key\">{}</ac:parameter></ac:structured-macro></p>",
        esc(key)
    )
}

// ---------------------------------------------------------------------------------------------
// Dates.

fn timestamp(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.to_rfc3339_opts(SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn date_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

fn time_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%H:%M").to_string())
        .unwrap_or_default()
}

fn month_of(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|d| d.format("%B %Y").to_string())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// A tiny PNG, encoded here: 8x8 RGB, one stored (uncompressed) deflate block.

fn tiny_png(rng: &mut ChaCha8Rng) -> Vec<u8> {
    const SIDE: u32 = 8;
    let a: [u8; 3] = rng.random();
    let b: [u8; 3] = rng.random();
    let mut raw = Vec::new();
    for y in 0..SIDE {
        raw.push(0); // filter: none
        for x in 0..SIDE {
            raw.extend_from_slice(if (x + y) % 2 == 0 { &a } else { &b });
        }
    }
    let mut zlib = vec![0x78, 0x01, 0x01];
    let len = raw.len() as u16;
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&SIDE.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    for (kind, data) in [(*b"IHDR", ihdr), (*b"IDAT", zlib), (*b"IEND", Vec::new())] {
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    use super::*;

    const SEEDS: [u64; 4] = [0, 7, 42, 20_260_115];

    /// One element or empty element of a body: its name and attributes.
    struct Element {
        name: String,
        attrs: HashMap<String, String>,
        /// Names of the enclosing elements, outermost first.
        path: Vec<String>,
    }

    /// Parses a storage body as XML (inside a root declaring `ac:` and `ri:`) and lists its
    /// elements; any well-formedness error fails with the page named.
    fn elements(what: &str, body: &str) -> Vec<Element> {
        let doc = format!(
            "<root xmlns:ac=\"http://atlassian.com/content\" xmlns:ri=\"http://atlassian.com/resource/identifier\">{body}</root>"
        );
        let mut reader = Reader::from_str(&doc);
        reader.config_mut().check_end_names = true;
        let mut out = Vec::new();
        let mut path: Vec<String> = Vec::new();
        loop {
            let event = reader.read_event().unwrap_or_else(|e| {
                panic!(
                    "{what}: not well-formed at {}: {e}",
                    reader.buffer_position()
                )
            });
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let empty = matches!(event, Event::Empty(_));
                    let name = e.name().into_inner().to_string();
                    let mut attrs = HashMap::new();
                    for a in e.attributes() {
                        let a = a.unwrap_or_else(|err| panic!("{what}: bad attribute: {err}"));
                        let key = a.key.into_inner().to_string();
                        let value = a
                            .normalized_value(XmlVersion::Implicit1_0)
                            .unwrap_or_else(|err| panic!("{what}: bad attribute value: {err}"));
                        assert!(
                            attrs.insert(key.clone(), value.to_string()).is_none(),
                            "{what}: duplicate {key}"
                        );
                    }
                    out.push(Element {
                        name: name.clone(),
                        attrs,
                        path: path.clone(),
                    });
                    if !empty {
                        path.push(name);
                    }
                }
                Event::End(_) => {
                    path.pop();
                }
                Event::GeneralRef(r) => {
                    let name: &str = r.as_ref();
                    assert!(
                        matches!(name, "amp" | "lt" | "gt" | "quot" | "apos")
                            || name.starts_with('#'),
                        "{what}: entity &{name}; is not defined in XML"
                    );
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert!(path.is_empty(), "{what}: unclosed elements {path:?}");
        out
    }

    /// Text of every inline-comment marker of a body, by ref.
    fn markers(body: &str) -> HashMap<String, String> {
        let mut out = HashMap::new();
        let mut rest = body;
        while let Some(start) = rest.find("<ac:inline-comment-marker ac:ref=\"") {
            let after = &rest[start + 34..];
            let quote = after.find('"').unwrap();
            let r = after[..quote].to_string();
            let text_start = quote + 2;
            let end = after.find("</ac:inline-comment-marker>").unwrap();
            out.insert(r, after[text_start..end].to_string());
            rest = &after[end..];
        }
        out
    }

    #[test]
    fn same_seed_same_site_other_seed_other_site() {
        let a = serde_json::to_string(&demo_fixture(7)).unwrap();
        let b = serde_json::to_string(&demo_fixture(7)).unwrap();
        let c = serde_json::to_string(&demo_fixture(8)).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn fixture_validates_and_survives_a_json_round_trip() {
        for seed in SEEDS {
            let f = demo_fixture(seed);
            f.validate()
                .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
            let json = serde_json::to_string(&f).unwrap();
            let back = Fixture::from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
    }

    #[test]
    fn counts_are_within_the_stated_ranges() {
        for seed in SEEDS {
            let f = demo_fixture(seed);
            let n = f.pages.len();
            assert!((300..=400).contains(&n), "seed {seed}: {n} pages");
            assert_eq!(f.site.name, "demo");
            assert!((4..=5).contains(&f.spaces.len()));
            let colleagues = f
                .users
                .iter()
                .filter(|u| u.email != DEMO_USER_EMAIL && !u.guest && !u.site_admin)
                .count();
            assert!(
                (5..=8).contains(&colleagues),
                "seed {seed}: {colleagues} colleagues"
            );
            assert_eq!(f.users.iter().filter(|u| u.guest).count(), 1);
            assert_eq!(f.users.iter().filter(|u| u.site_admin).count(), 1);
            assert!(f.groups.len() >= 3);
            assert!((1..=2).contains(&f.folders.len()));
            assert!(!f.databases.is_empty());
            let folder_ids: HashSet<&str> = f.folders.iter().map(|x| x.id.as_str()).collect();
            assert!(f.pages.iter().any(|p| {
                p.parent_id
                    .as_deref()
                    .is_some_and(|x| folder_ids.contains(x))
            }));
            let drafts = f.pages.iter().filter(|p| p.status == "draft").count();
            let archived = f.pages.iter().filter(|p| p.status == "archived").count();
            assert!(
                drafts >= 2 && archived >= 2,
                "seed {seed}: {drafts} drafts, {archived} archived"
            );
            let with_history: Vec<&PageSpec> =
                f.pages.iter().filter(|p| !p.history.is_empty()).collect();
            assert!(with_history.len() >= 3);
            assert!(
                with_history
                    .iter()
                    .all(|p| (2..=5).contains(&p.history.len()))
            );
            assert!(
                with_history
                    .iter()
                    .flat_map(|p| &p.history)
                    .any(|v| !v.message.is_empty())
            );
            let labelled = f.pages.iter().filter(|p| !p.labels.is_empty()).count();
            assert!(
                labelled * 2 > n,
                "seed {seed}: only {labelled} pages have labels"
            );
            let long = f.pages.iter().filter(|p| p.body.len() >= 30_000).count();
            assert!(long >= 2, "seed {seed}: {long} long pages");
            assert!(f.pages.iter().all(|p| p.body.len() <= 60_000));
            let footer = f.comments.iter().filter(|c| c.kind == "footer").count();
            let replies = f
                .comments
                .iter()
                .filter(|c| c.parent_comment_id.is_some())
                .count();
            let inline = f.comments.iter().filter(|c| c.kind == "inline").count();
            assert!(
                footer >= 20 && replies >= 5 && inline >= 10,
                "{footer} {replies} {inline}"
            );
            let statuses: HashSet<&str> = f
                .comments
                .iter()
                .filter_map(|c| c.resolution_status.as_deref())
                .collect();
            assert!(statuses.contains("open") && statuses.contains("resolved"));
            for kind in ["image/png", "text/csv", "text/plain"] {
                assert!(
                    f.attachments.iter().any(|a| a.media_type == kind),
                    "seed {seed}: no {kind}"
                );
            }
        }
    }

    #[test]
    fn tree_depth_titles_and_dates() {
        for seed in SEEDS {
            let f = demo_fixture(seed);
            let mut titles = HashSet::new();
            for p in &f.pages {
                assert!(
                    titles.insert((&p.space, &p.title)),
                    "seed {seed}: {} twice in {}",
                    p.title,
                    p.space
                );
            }
            let parents: HashMap<&str, Option<&str>> = f
                .pages
                .iter()
                .map(|p| (p.id.as_str(), p.parent_id.as_deref()))
                .chain(
                    f.folders
                        .iter()
                        .map(|x| (x.id.as_str(), x.parent_id.as_deref())),
                )
                .collect();
            let depth = |start: &str| {
                let (mut id, mut d) = (start.to_string(), 1);
                while let Some(Some(p)) = parents.get(id.as_str()) {
                    id = p.to_string();
                    d += 1;
                }
                d
            };
            let max = f.pages.iter().map(|p| depth(&p.id)).max().unwrap();
            assert!((4..=5).contains(&max), "seed {seed}: depth {max}");
            let lo = timestamp(WINDOW_START);
            let hi = timestamp(DEMO_EPOCH_SECS);
            let dates = f
                .pages
                .iter()
                .filter_map(|p| p.created_at.as_ref())
                .chain(
                    f.pages
                        .iter()
                        .flat_map(|p| p.history.iter().filter_map(|v| v.created_at.as_ref())),
                )
                .chain(f.comments.iter().filter_map(|c| c.created_at.as_ref()))
                .chain(f.attachments.iter().filter_map(|a| a.created_at.as_ref()));
            for d in dates {
                assert!(*d >= lo && *d <= hi, "seed {seed}: {d} outside the window");
            }
            for p in &f.pages {
                let mut last = String::new();
                for v in &p.history {
                    let at = v.created_at.clone().unwrap();
                    assert!(at > last, "page {}: history out of order", p.id);
                    last = at;
                }
                if let Some(first) = p.history.first() {
                    assert_eq!(
                        p.created_at, first.created_at,
                        "page {}: created with v1",
                        p.id
                    );
                }
            }
        }
    }

    #[test]
    fn demo_user_rights() {
        let f = demo_fixture(3);
        let demo = f.users.iter().find(|u| u.email == DEMO_USER_EMAIL).unwrap();
        assert_eq!(demo.display_name, DEMO_USER_NAME);
        let can = |space: &SpaceSpec, op: &str| {
            space.permissions.iter().any(|perm| {
                let who = match perm.principal.split_once(':') {
                    Some(("user", id)) => id == demo.account_id,
                    Some(("group", g)) => demo.groups.iter().any(|x| x == g),
                    _ => perm.principal == "anonymous",
                };
                who && perm.operations.iter().any(|o| o == op)
            })
        };
        assert!(f.spaces.iter().all(|s| can(s, "read")));
        let read_only: Vec<&str> = f
            .spaces
            .iter()
            .filter(|s| !can(s, "write"))
            .map(|s| s.key.as_str())
            .collect();
        assert_eq!(read_only, ["HR"]);
        let anonymous = f
            .spaces
            .iter()
            .filter(|s| s.permissions.iter().any(|p| p.principal == "anonymous"))
            .count();
        assert_eq!(anonymous, 1);
        let guest = f.users.iter().find(|u| u.guest).unwrap();
        let guest_spaces = f
            .spaces
            .iter()
            .filter(|s| {
                s.permissions
                    .iter()
                    .any(|p| p.principal == format!("user:{}", guest.account_id))
            })
            .count();
        assert_eq!(guest_spaces, 1);
        assert!(f.spaces.iter().any(|s| s.space_type == "personal"));
        assert!(f.spaces.iter().all(|s| s.homepage.is_some()));
    }

    #[test]
    fn bodies_are_well_formed_and_references_resolve() {
        for seed in SEEDS {
            let f = demo_fixture(seed);
            let titles: HashSet<(&str, &str)> = f
                .pages
                .iter()
                .map(|p| (p.space.as_str(), p.title.as_str()))
                .collect();
            let files: HashSet<(&str, &str)> = f
                .attachments
                .iter()
                .map(|a| (a.page_id.as_str(), a.title.as_str()))
                .collect();
            let accounts: HashSet<&str> = f.users.iter().map(|u| u.account_id.as_str()).collect();
            let mut seen = HashSet::new();
            for p in &f.pages {
                let what = format!("seed {seed} page {} ({})", p.id, p.title);
                for e in elements(&what, &p.body) {
                    seen.insert(e.name.clone());
                    if let Some(v) = e.attrs.get("ac:name") {
                        seen.insert(format!("{}:{v}", e.name));
                    }
                    let parent = e.path.last().map(String::as_str).unwrap_or("");
                    match e.name.as_str() {
                        "ri:page" => {
                            let title = &e.attrs["ri:content-title"];
                            let space = e.attrs.get("ri:space-key").unwrap_or(&p.space);
                            assert!(
                                titles.contains(&(space.as_str(), title.as_str())),
                                "{what}: link to {space}/{title}"
                            );
                        }
                        "ri:attachment" => {
                            let name = &e.attrs["ri:filename"];
                            assert!(
                                files.contains(&(p.id.as_str(), name.as_str())),
                                "{what}: no attachment {name}"
                            );
                            seen.insert(format!("{parent}>ri:attachment"));
                        }
                        "ri:user" => {
                            assert!(
                                accounts.contains(e.attrs["ri:account-id"].as_str()),
                                "{what}: unknown user"
                            );
                        }
                        "ri:url" => {
                            seen.insert(format!("{parent}>ri:url"));
                        }
                        "ul" | "ol" if e.path.iter().any(|x| x == "li") => {
                            seen.insert("nested list".into());
                        }
                        _ => {}
                    }
                }
                for v in &p.history {
                    elements(&format!("{what} history"), &v.body);
                }
                assert!(!p.body.contains("]]>]]>"));
            }
            for c in &f.comments {
                elements(&format!("seed {seed} comment {}", c.id), &c.body);
                if c.kind == "inline" {
                    let page = f.pages.iter().find(|p| p.id == c.page_id).unwrap();
                    let r = c.inline_marker_ref.as_ref().unwrap();
                    let found = markers(&page.body);
                    assert_eq!(
                        found.get(r),
                        c.inline_original_selection.as_ref(),
                        "comment {}",
                        c.id
                    );
                }
            }
            for needed in [
                "h1",
                "h2",
                "h3",
                "h4",
                "strong",
                "em",
                "code",
                "th",
                "table",
                "a",
                "time",
                "nested list",
                "ac:structured-macro:code",
                "ac:structured-macro:info",
                "ac:structured-macro:note",
                "ac:structured-macro:warning",
                "ac:structured-macro:tip",
                "ac:structured-macro:panel",
                "ac:structured-macro:expand",
                "ac:structured-macro:status",
                "ac:structured-macro:toc",
                "ac:structured-macro:jira",
                "ac:structured-macro:anchor",
                "ac:plain-text-body",
                "ac:rich-text-body",
                "ac:task-list",
                "ac:task-status",
                "ac:task-id",
                "ac:task-body",
                "ac:emoticon",
                "ac:inline-comment-marker",
                "ac:image>ri:attachment",
                "ac:image>ri:url",
                "ac:link>ri:attachment",
                "ri:user",
                "ri:page",
            ] {
                assert!(seen.contains(needed), "seed {seed}: no page uses {needed}");
            }
        }
    }

    #[test]
    fn every_marker_has_its_comment_and_code_has_a_language() {
        let f = demo_fixture(11);
        let refs: HashSet<&str> = f
            .comments
            .iter()
            .filter_map(|c| c.inline_marker_ref.as_deref())
            .collect();
        for p in &f.pages {
            for r in markers(&p.body).keys() {
                assert!(
                    refs.contains(r.as_str()),
                    "page {}: marker {r} without a comment",
                    p.id
                );
            }
            let code = p.body.matches("ac:name=\"code\"").count();
            let lang = p
                .body
                .matches("<ac:parameter ac:name=\"language\">")
                .count();
            assert_eq!(code, lang, "page {}", p.id);
        }
    }

    #[test]
    fn png_is_valid() {
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
        assert_eq!(adler32(b"Wikipedia"), 0x11e6_0398);
        let f = demo_fixture(5);
        let png = f
            .attachments
            .iter()
            .find(|a| a.media_type == "image/png")
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.base64.as_ref().unwrap())
            .unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&bytes[12..16], b"IHDR");
        assert!(bytes.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        // Every chunk's CRC holds.
        let mut at = 8;
        while at < bytes.len() {
            let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            let chunk = &bytes[at + 4..at + 8 + len];
            let crc = u32::from_be_bytes(bytes[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32(chunk), crc);
            at += 12 + len;
        }
        assert_eq!(at, bytes.len());
    }
}
