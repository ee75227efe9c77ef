//! What a simulator is started with: the site (a [`Fixture`]), a seed, where to listen, and the
//! switches that choose between today's Cloud quirks and the documented behaviour.

use std::net::{IpAddr, Ipv4Addr};

use serde::{Deserialize, Serialize};

use crate::fixture::Fixture;

/// Everything [`crate::spawn`] needs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The simulated site.
    pub fixture: Fixture,
    /// Seeds the cloudId (when the fixture has none), the demo credentials and every random fault.
    pub seed: u64,
    /// Address all four listeners bind to (default loopback).
    pub host: IpAddr,
    /// Ports; 0 picks a free one.
    pub ports: Ports,
    /// Base URLs to report instead of the bound ones (for a simulator behind a proxy).
    pub public_urls: PublicUrls,
    /// Redirect URIs registered for the demo OAuth client.
    pub demo_redirect_uris: Vec<String>,
    pub behaviour: Behaviour,
    pub faults: Faults,
    pub rate_limit: RateLimit,
}

/// One port per face, so a client can never confuse the site with the gateway.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ports {
    pub site: u16,
    pub gateway: u16,
    pub identity: u16,
    pub admin: u16,
}

/// Reported base URLs; `None` reports the bound address.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicUrls {
    pub site: Option<String>,
    pub gateway: Option<String>,
    pub identity: Option<String>,
    pub admin: Option<String>,
}

impl SimConfig {
    /// A simulator of `fixture` with every default: loopback, ephemeral ports, today's Cloud.
    pub fn new(fixture: Fixture, seed: u64) -> Self {
        SimConfig {
            fixture,
            seed,
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            ports: Ports::default(),
            public_urls: PublicUrls::default(),
            demo_redirect_uris: vec![
                "http://127.0.0.1:8976/callback".to_string(),
                "http://localhost:8976/callback".to_string(),
            ],
            behaviour: Behaviour::default(),
            faults: Faults::default(),
            rate_limit: RateLimit::default(),
        }
    }

    /// The demo site ([`crate::demo::demo_fixture`]) with every default.
    pub fn demo(seed: u64) -> Self {
        SimConfig::new(crate::demo::demo_fixture(seed), seed)
    }

    pub fn with_behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }

    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    pub fn with_rate_limit(mut self, rate_limit: RateLimit) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    pub fn with_ports(mut self, ports: Ports) -> Self {
        self.ports = ports;
        self
    }

    pub fn with_host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    pub fn with_public_urls(mut self, urls: PublicUrls) -> Self {
        self.public_urls = urls;
        self
    }

    pub fn with_redirect_uris(mut self, uris: Vec<String>) -> Self {
        self.demo_redirect_uris = uris;
        self
    }
}

/// Switches. Each `true` default is what Confluence Cloud does today (often only observed, see
/// FACTS.md); switching one off gives the documented or simpler behaviour, so a client can be
/// tested in both worlds. `GET/PUT {admin}/behaviour` reads and changes them at run time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// Classic API tokens also work through the gateway (FACTS 3, unconfirmed).
    pub classic_on_gateway: bool,
    /// Scope check before existence/permission/body checks (a missing scope on a missing page
    /// is a 401, not a 404).
    pub scope_check_first: bool,
    /// Deprecated v1 operations answer 410 Gone through the gateway (FACTS 22a).
    pub v1_gone_on_gateway: bool,
    /// An expired OAuth access token gets 404 on v2 and 403 on v1 through the gateway (FACTS
    /// 22b); off: 401.
    pub expired_oauth_quirk: bool,
    /// `/wiki/download/attachments/...` refuses scoped and OAuth tokens through the gateway with
    /// the scope-mismatch 401 (seed 002); off: it opens with `read:attachment:confluence`.
    pub download_servlet_refuses_scoped: bool,
    /// v2 `PUT /pages/{id}` with a stale version answers 409 (unconfirmed); off: 400.
    pub v2_version_conflict_409: bool,
    /// Scoped API tokens get the scope-mismatch 401 on every v1 endpoint through the gateway,
    /// whatever scopes they hold (seed 002, FACTS 47; UNCONFIRMED, so off by default).
    pub v1_refuses_scoped_tokens: bool,
    /// The token endpoint requires PKCE (`code_challenge` at /authorize).
    pub require_pkce: bool,
    /// Longest request target (path and query) the site and gateway accept, bytes; longer
    /// ones get 414 URI Too Long, as a front end would. Cloud documents no limit (a long CQL
    /// query meets it first); 0: no limit.
    pub max_url_length: usize,
    /// Confluence rewrites storage XHTML when it saves a page (attribute order, self-closing
    /// tags, whitespace): on, the simulator stores a rewritten form too, so that a body read
    /// back differs from the one sent; off: stored verbatim.
    pub rewrite_storage: bool,
    /// Content analytics (`/analytics/content/{id}/views|viewers`) answer 403 "not available
    /// on this plan", as a site on a plan without analytics would (UNCONFIRMED: which plans
    /// have them, and the exact answer, are not documented; off: every site has them).
    pub analytics_requires_paid_plan: bool,
    /// How many reads of a long-running task (`GET /longtask/{id}`) report it still running
    /// before it reports itself finished (a page-hierarchy copy's work is done at once); 0:
    /// finished from the first read.
    pub long_task_reads_before_done: u32,
    /// Lifetime of OAuth access tokens, seconds (Cloud: 3600).
    pub access_token_ttl_secs: u64,
    /// Lifetime of authorization codes, seconds.
    pub code_ttl_secs: u64,
    /// How long an already rotated refresh token may be reused, seconds (Cloud: 600).
    pub refresh_reuse_leeway_secs: u64,
    /// A refresh token unused this long expires, seconds (Cloud: 90 days).
    pub refresh_inactivity_secs: u64,
    /// A grant's refresh tokens stop working this long after consent, seconds (Cloud: 365 days).
    pub refresh_absolute_secs: u64,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            classic_on_gateway: true,
            scope_check_first: true,
            v1_gone_on_gateway: true,
            expired_oauth_quirk: true,
            download_servlet_refuses_scoped: true,
            v2_version_conflict_409: true,
            v1_refuses_scoped_tokens: false,
            require_pkce: false,
            max_url_length: 0,
            rewrite_storage: false,
            long_task_reads_before_done: 1,
            analytics_requires_paid_plan: false,
            access_token_ttl_secs: 3600,
            code_ttl_secs: 600,
            refresh_reuse_leeway_secs: 600,
            refresh_inactivity_secs: 90 * 24 * 3600,
            refresh_absolute_secs: 365 * 24 * 3600,
        }
    }
}

/// Injected failures. Nothing here is random unless a `*_rate` is above zero, and then the
/// draw comes from the seeded generator.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Added to every matching request, milliseconds.
    pub latency_ms: u64,
    /// Probability (0..=1) that a matching request gets `error_status`.
    pub error_rate: f64,
    /// Status for `error_rate` (default 503 when 0).
    pub error_status: u16,
    /// Probability (0..=1) that a matching request's connection is closed without an answer.
    pub drop_rate: f64,
    /// Only requests whose API path starts with this (e.g. `/wiki/api/v2/pages`) are touched.
    pub path_prefix: Option<String>,
    /// Only requests with this method are touched.
    pub method: Option<String>,
    /// Only this face (`site`, `gateway`, `identity`) is touched.
    pub face: Option<String>,
    /// The next `count` matching requests fail this way, then the plan is used up.
    pub fail_next: Option<FailNext>,
    /// Writes that are applied and then lose their answer (not subject to the filters above).
    pub after_apply: Option<AfterApply>,
}

/// "Applied, then the answer was lost": a matching write (site or gateway) runs and changes
/// the site; then, drawn from the seeded generator, its connection is closed without an answer
/// (`drop_rate`) or it answers `status` instead of its success (`error_rate`). What a proxy
/// that drops answers, or a 5xx after the commit, does to a client.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AfterApply {
    /// Methods touched (default POST and PUT).
    pub methods: Vec<String>,
    /// Probability (0..=1) that the answer of an applied write is dropped.
    pub drop_rate: f64,
    /// Probability (0..=1) that an applied write answers `status` instead.
    pub error_rate: f64,
    /// Status for `error_rate` (default 503).
    pub status: u16,
    /// Only writes whose API path starts with this.
    pub path_prefix: Option<String>,
}

impl Default for AfterApply {
    fn default() -> Self {
        AfterApply {
            methods: vec!["POST".into(), "PUT".into()],
            drop_rate: 0.0,
            error_rate: 0.0,
            status: 503,
            path_prefix: None,
        }
    }
}

/// "The next N requests fail with status S" (or are dropped), for deterministic tests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FailNext {
    pub count: u32,
    #[serde(default = "default_fail_status")]
    pub status: u16,
    /// Close the connection instead of answering.
    #[serde(default)]
    pub drop: bool,
    /// `Retry-After` seconds to send with the failure, if any.
    #[serde(default)]
    pub retry_after: Option<u64>,
}

fn default_fail_status() -> u16 {
    503
}

/// A per-credential request budget on the site and gateway (burst limiting as Cloud does for API
/// tokens). Windows run on the simulated clock, so `POST {admin}/clock/advance` ends one.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    /// Requests allowed per window and credential; 0 disables the limit.
    pub limit: u32,
    /// Window length, seconds (0 counts as 1).
    pub window_secs: u64,
    /// `RateLimit-Reason` value sent with a 429.
    pub reason: Option<String>,
}
