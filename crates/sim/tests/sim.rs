//! The simulator over real sockets: each credential on each face, scope checks, today's Cloud
//! quirks (and the world with each switched off), permissions, pagination, faults, search, OAuth.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use conflux_sim::fixture::*;
use conflux_sim::{Behaviour, SimConfig, SimInfo};
use reqwest::StatusCode;
use serde_json::{Value, json};

// ---------- the test site ----------

fn user(id: &str, email: &str, groups: &[&str]) -> UserSpec {
    UserSpec {
        account_id: id.into(),
        email: email.into(),
        display_name: id.into(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
        guest: false,
        site_admin: false,
    }
}

fn perm(p: &str, ops: &[&str]) -> PermissionSpec {
    PermissionSpec {
        principal: p.into(),
        operations: ops.iter().map(|o| o.to_string()).collect(),
    }
}

fn space(id: &str, key: &str, home: Option<&str>, perms: Vec<PermissionSpec>) -> SpaceSpec {
    SpaceSpec {
        id: id.into(),
        key: key.into(),
        name: format!("{key} space"),
        description: String::new(),
        space_type: "global".into(),
        homepage: home.map(String::from),
        permissions: perms,
    }
}

fn page(id: &str, space: &str, title: &str, parent: Option<&str>, body: &str) -> PageSpec {
    PageSpec {
        id: id.into(),
        space: space.into(),
        title: title.into(),
        parent_id: parent.map(String::from),
        author: "u-ada".into(),
        body: body.into(),
        status: "current".into(),
        labels: vec![],
        created_at: None,
        history: vec![],
    }
}

const ALL: &[&str] = &["read", "write", "delete", "comment", "attach", "admin"];
const BULK: usize = 300;

fn fixture() -> Fixture {
    let mut pages = vec![
        page("1001", "ENG", "Engineering home", None, "<p>Welcome</p>"),
        page(
            "1002",
            "ENG",
            "Release notes",
            Some("1001"),
            "<p>The release train leaves on Friday.</p>",
        ),
        page("1003", "ENG", "Deep page", Some("1002"), "<p>deep</p>"),
        page(
            "1004",
            "ENG",
            "Secret plan",
            Some("1001"),
            "<p>release the kraken</p>",
        ),
        page("2001", "OPS", "Ops home", None, "<p>ops</p>"),
    ];
    pages[1].labels = vec!["release".into()];
    for i in 0..BULK {
        pages.push(page(
            &(10_000 + i).to_string(),
            "BULK",
            &format!("Bulk {i:03}"),
            None,
            "<p>bulk</p>",
        ));
    }
    Fixture {
        site: SiteSpec {
            name: "acme".into(),
            cloud_id: None,
        },
        users: vec![
            user("u-ada", "ada@example.com", &[]),
            user("u-bob", "bob@example.com", &[]),
            user("u-eve", "eve@example.com", &[]),
            user("u-cat", "cat@example.com", &["ops-team"]),
        ],
        groups: vec![GroupSpec {
            id: "g1".into(),
            name: "ops-team".into(),
        }],
        spaces: vec![
            space(
                "100",
                "ENG",
                Some("1001"),
                vec![perm("user:u-ada", ALL), perm("user:u-bob", &["read"])],
            ),
            space(
                "200",
                "OPS",
                Some("2001"),
                vec![perm("user:u-ada", ALL), perm("group:ops-team", &["read"])],
            ),
            space("500", "BULK", None, vec![perm("user:u-ada", ALL)]),
        ],
        pages,
        folders: vec![FolderSpec {
            id: "1100".into(),
            space: "ENG".into(),
            title: "Folder".into(),
            parent_id: None,
            author: "u-ada".into(),
        }],
        databases: vec![DatabaseSpec {
            id: "1200".into(),
            space: "ENG".into(),
            title: "Db".into(),
            parent_id: None,
            author: "u-ada".into(),
        }],
        comments: vec![
            CommentSpec {
                id: "5001".into(),
                page_id: "1002".into(),
                kind: "footer".into(),
                parent_comment_id: None,
                author: "u-ada".into(),
                body: "<p>first</p>".into(),
                inline_marker_ref: None,
                inline_original_selection: None,
                resolution_status: None,
                created_at: None,
            },
            CommentSpec {
                id: "5003".into(),
                page_id: "1002".into(),
                kind: "inline".into(),
                parent_comment_id: None,
                author: "u-ada".into(),
                body: "<p>fix</p>".into(),
                inline_marker_ref: Some("m1".into()),
                inline_original_selection: Some("train".into()),
                resolution_status: Some("resolved".into()),
                created_at: None,
            },
        ],
        attachments: vec![AttachmentSpec {
            id: "att6001".into(),
            page_id: "1002".into(),
            title: "notes file.txt".into(),
            media_type: "text/plain".into(),
            comment: String::new(),
            text: Some("hello attachment".into()),
            base64: None,
            author: "u-ada".into(),
            created_at: None,
        }],
        restrictions: vec![RestrictionSpec {
            content_id: "1004".into(),
            read: vec!["user:u-ada".into()],
            update: vec![],
        }],
        outside_accounts: vec![OutsideAccountSpec {
            account_id: "u-olive".into(),
            email: "olive@elsewhere.example".into(),
            display_name: "Olive Outsider".into(),
        }],
        ..Fixture::default()
    }
}

// ---------- harness ----------

struct T {
    kit: conflux_testkit::Sim,
    /// Follows no redirect, so a test sees each answer.
    http: reqwest::Client,
}

impl std::ops::Deref for T {
    type Target = conflux_testkit::Sim;

    fn deref(&self) -> &conflux_testkit::Sim {
        &self.kit
    }
}

#[derive(Clone)]
enum Cred {
    None,
    Basic(String, String),
    Bearer(String),
}

/// Every test logs (at trace level) into one buffer, so `logs_never_carry_secrets` can read it.
static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();

fn logs() -> &'static Captured {
    LOGS.get_or_init(|| {
        let buf = Captured::default();
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _ = tracing::subscriber::set_global_default(subscriber);
        buf
    })
}

async fn start_with(config: SimConfig) -> T {
    logs();
    let kit = conflux_testkit::Sim::start(config).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    T { kit, http }
}

async fn start() -> T {
    start_with(SimConfig::new(fixture(), 42)).await
}

impl T {
    fn gw(&self) -> String {
        self.handle.gateway_base()
    }
    fn site(&self) -> String {
        self.info.site_url.clone()
    }
    fn classic(&self) -> Cred {
        Cred::Basic(
            self.info.classic_token.email.clone(),
            self.info.classic_token.token.clone(),
        )
    }
    fn scoped_full(&self) -> Cred {
        Cred::Basic(
            self.info.scoped_tokens.full.email.clone(),
            self.info.scoped_tokens.full.token.clone(),
        )
    }
    fn scoped_read(&self) -> Cred {
        Cred::Basic(
            self.info.scoped_tokens.read_only.email.clone(),
            self.info.scoped_tokens.read_only.token.clone(),
        )
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        cred: &Cred,
        body: Option<Value>,
    ) -> (StatusCode, reqwest::header::HeaderMap, String) {
        let mut rb = self.http.request(method, url);
        rb = match cred {
            Cred::None => rb,
            Cred::Basic(e, t) => rb.basic_auth(e, Some(t)),
            Cred::Bearer(t) => rb.bearer_auth(t),
        };
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let (s, h) = (r.status(), r.headers().clone());
        (s, h, r.text().await.unwrap())
    }

    async fn get(&self, url: &str, cred: &Cred) -> (StatusCode, Value) {
        let (s, _, b) = self.send(reqwest::Method::GET, url, cred, None).await;
        (s, serde_json::from_str(&b).unwrap_or(Value::String(b)))
    }

    async fn advance(&self, seconds: i64) {
        self.admin(
            reqwest::Method::POST,
            "/clock/advance",
            json!({"seconds": seconds}),
        )
        .await;
    }
}

fn assert_scope_mismatch(status: StatusCode, headers: &reqwest::header::HeaderMap, body: &str) {
    assert_eq!(status, 401, "{body}");
    let v: Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        v,
        json!({"code": 401, "message": "Unauthorized; scope does not match"})
    );
    assert_eq!(
        headers.get("x-failure-category").unwrap(),
        "FAILURE_CLIENT_SCOPE_CHECK"
    );
    assert!(headers.get("www-authenticate").is_none());
}

// ---------- credentials and faces ----------

#[tokio::test]
async fn each_credential_on_each_face() {
    let t = start().await;
    let v2 = "/wiki/api/v2/spaces";
    let oauth = t.token(json!({"kind": "oauth", "email": "ada@example.com", "scopes": ["read:space:confluence"]})).await;
    let cases = [
        ("classic on site", t.site(), t.classic(), 200),
        ("classic on gateway", t.gw(), t.classic(), 200),
        ("scoped on site", t.site(), t.scoped_full(), 401),
        ("scoped on gateway", t.gw(), t.scoped_full(), 200),
        ("oauth on site", t.site(), Cred::Bearer(oauth.clone()), 401),
        ("oauth on gateway", t.gw(), Cred::Bearer(oauth.clone()), 200),
        (
            "unknown basic on site",
            t.site(),
            Cred::Basic("ada@example.com".into(), "nope".into()),
            401,
        ),
        (
            "unknown bearer on gateway",
            t.gw(),
            Cred::Bearer("nope".into()),
            401,
        ),
        (
            "token with the wrong email",
            t.site(),
            Cred::Basic("bob@example.com".into(), t.info.classic_token.token.clone()),
            401,
        ),
        ("nothing on gateway", t.gw(), Cred::None, 401),
    ];
    for (name, base, cred, want) in cases {
        let (s, body) = t.get(&format!("{base}{v2}"), &cred).await;
        assert_eq!(s.as_u16(), want, "{name}: {body}");
    }
    // A disabled user's tokens stop working.
    let bob = t
        .token(json!({"kind": "classic", "email": "bob@example.com"}))
        .await;
    let bob = Cred::Basic("bob@example.com".into(), bob);
    assert_eq!(t.get(&format!("{}{v2}", t.site()), &bob).await.0, 200);
    t.admin(
        reqwest::Method::POST,
        "/users",
        json!({"account_id": "u-bob", "email": "bob@example.com", "disabled": true}),
    )
    .await;
    assert_eq!(t.get(&format!("{}{v2}", t.site()), &bob).await.0, 401);
    // Switched off: classic tokens no longer pass the gateway.
    t.behaviour(json!({"classic_on_gateway": false})).await;
    assert_eq!(t.get(&format!("{}{v2}", t.gw()), &t.classic()).await.0, 401);
    assert_eq!(
        t.get(&format!("{}{v2}", t.site()), &t.classic()).await.0,
        200
    );
}

#[tokio::test]
async fn tenant_info_wrong_cloud_id_and_unknown_paths() {
    let t = start().await;
    let (s, v) = t
        .get(&format!("{}/_edge/tenant_info", t.site()), &Cred::None)
        .await;
    assert_eq!(
        (s.as_u16(), v["cloudId"].as_str()),
        (200, Some(t.info.cloud_id.as_str()))
    );
    let wrong = format!(
        "{}/ex/confluence/00000000-0000-0000-0000-000000000000/wiki/api/v2/spaces",
        t.info.gateway_url
    );
    assert_eq!(t.get(&wrong, &t.classic()).await.0, 404);
    let (s, v) = t
        .get(
            &format!("{}/wiki/api/v2/nothing-here", t.site()),
            &t.classic(),
        )
        .await;
    assert_eq!(s, 404);
    assert!(
        v.to_string().contains("GET /wiki/api/v2/nothing-here"),
        "{v}"
    );
}

// ---------- scopes ----------

#[tokio::test]
async fn scope_mismatch_is_exact_and_comes_before_existence() {
    let t = start().await;
    let tok = t.token(json!({"kind": "scoped", "email": "ada@example.com", "scopes": ["read:space:confluence"]})).await;
    let cred = Cred::Basic("ada@example.com".into(), tok);
    let (s, h, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/pages/1002", t.gw()),
            &cred,
            None,
        )
        .await;
    assert_scope_mismatch(s, &h, &b);
    // Missing scope on a page that does not exist: still the scope 401.
    let (s, h, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/pages/999999", t.gw()),
            &cred,
            None,
        )
        .await;
    assert_scope_mismatch(s, &h, &b);
    // The classic family also satisfies a v1 operation: search:confluence opens search.
    let classic_scoped = t
        .token(
            json!({"kind": "scoped", "email": "ada@example.com", "scopes": ["search:confluence"]}),
        )
        .await;
    let (s, _) = t
        .get(
            &format!("{}/wiki/rest/api/search?cql=type%3Dpage", t.gw()),
            &Cred::Basic("ada@example.com".into(), classic_scoped),
        )
        .await;
    assert_eq!(s, 200);
    // Switched off: existence first.
    t.behaviour(json!({"scope_check_first": false})).await;
    assert_eq!(
        t.get(&format!("{}/wiki/api/v2/pages/999999", t.gw()), &cred)
            .await
            .0,
        404
    );
    let (s, h, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/pages/1002", t.gw()),
            &cred,
            None,
        )
        .await;
    assert_scope_mismatch(s, &h, &b);
}

/// seed 000: database sub-endpoints answer the scope 401 to every scoped or OAuth token.
#[tokio::test]
async fn seed_000_database_rows_refused_for_every_scope() {
    let t = start().await;
    let all: Vec<String> = t.info.scoped_tokens.full.scopes.clone();
    let oauth = t
        .token(json!({"kind": "oauth", "email": "ada@example.com", "scopes": all}))
        .await;
    for cred in [t.scoped_full(), Cred::Bearer(oauth)] {
        let (s, _) = t
            .get(&format!("{}/wiki/api/v2/databases/1200", t.gw()), &cred)
            .await;
        assert_eq!(s, 200);
        for sub in ["entries", "content", "children", "export"] {
            let (s, h, b) = t
                .send(
                    reqwest::Method::GET,
                    &format!("{}/wiki/api/v2/databases/1200/{sub}", t.gw()),
                    &cred,
                    None,
                )
                .await;
            assert_scope_mismatch(s, &h, &b);
        }
    }
    let (s, _) = t
        .get(
            &format!("{}/wiki/api/v2/databases/1200/entries", t.site()),
            &t.classic(),
        )
        .await;
    assert_eq!(s, 404);
}

// ---------- today's Cloud ----------

#[tokio::test]
async fn deprecated_v1_is_gone_on_the_gateway_only() {
    let t = start().await;
    let (s, v) = t
        .get(
            &format!("{}/wiki/rest/api/content/1002", t.gw()),
            &t.classic(),
        )
        .await;
    assert_eq!(s, 410);
    assert_eq!(
        v["message"],
        "com.atlassian.confluence.api.service.exceptions.GoneException: This deprecated endpoint has been removed."
    );
    assert_eq!(v["reason"], "Gone");
    assert_eq!(
        t.get(
            &format!("{}/wiki/rest/api/content/1002", t.gw()),
            &t.scoped_full()
        )
        .await
        .0,
        410
    );
    // Still answering: v1 search and descendants through the gateway, v1 content on the site.
    assert_eq!(
        t.get(
            &format!("{}/wiki/rest/api/search?cql=type%3Dpage", t.gw()),
            &t.scoped_full()
        )
        .await
        .0,
        200
    );
    assert_eq!(
        t.get(
            &format!("{}/wiki/rest/api/content/1001/descendant/page", t.gw()),
            &t.scoped_full()
        )
        .await
        .0,
        200
    );
    let (s, v) = t
        .get(
            &format!(
                "{}/wiki/rest/api/content/1002?expand=body.storage",
                t.site()
            ),
            &t.classic(),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        v["body"]["storage"]["value"]
            .as_str()
            .unwrap()
            .contains("release train")
    );
    t.behaviour(json!({"v1_gone_on_gateway": false})).await;
    assert_eq!(
        t.get(
            &format!("{}/wiki/rest/api/content/1002", t.gw()),
            &t.classic()
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn expired_oauth_token_gets_404_on_v2_and_403_on_v1() {
    let t = start().await;
    let all = t.info.scoped_tokens.full.scopes.clone();
    let tok = t
        .token(
            json!({"kind": "oauth", "email": "ada@example.com", "scopes": all, "expires_in": 60}),
        )
        .await;
    let cred = Cred::Bearer(tok);
    let v2 = format!("{}/wiki/api/v2/pages/1002", t.gw());
    let v1 = format!("{}/wiki/rest/api/search?cql=type%3Dpage", t.gw());
    assert_eq!(t.get(&v2, &cred).await.0, 200);
    t.advance(120).await;
    assert_eq!(t.get(&v2, &cred).await.0, 404);
    assert_eq!(t.get(&v1, &cred).await.0, 403);
    t.behaviour(json!({"expired_oauth_quirk": false})).await;
    assert_eq!(t.get(&v2, &cred).await.0, 401);
    assert_eq!(t.get(&v1, &cred).await.0, 401);
}

/// seed 002: the download servlet refuses token users on the gateway; the v1 operation works.
#[tokio::test]
async fn seed_002_attachment_download_via_gateway() {
    let t = start().await;
    let servlet = "/wiki/download/attachments/1002/notes%20file.txt";
    let (s, _, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}{servlet}", t.site()),
            &t.classic(),
            None,
        )
        .await;
    assert_eq!((s.as_u16(), b.as_str()), (200, "hello attachment"));
    let oauth = t.token(json!({"kind": "oauth", "email": "ada@example.com", "scopes": ["read:attachment:confluence"]})).await;
    for cred in [t.scoped_full(), Cred::Bearer(oauth.clone())] {
        let (s, h, b) = t
            .send(
                reqwest::Method::GET,
                &format!("{}{servlet}", t.gw()),
                &cred,
                None,
            )
            .await;
        assert_scope_mismatch(s, &h, &b);
    }
    // The v1 operation redirects to bytes the same credential can fetch.
    for cred in [t.scoped_read(), Cred::Bearer(oauth.clone())] {
        let op = format!(
            "{}/wiki/rest/api/content/1002/child/attachment/att6001/download",
            t.gw()
        );
        let (s, h, _) = t.send(reqwest::Method::GET, &op, &cred, None).await;
        assert_eq!(s, 302);
        let loc = h.get("location").unwrap().to_str().unwrap().to_string();
        assert!(loc.starts_with(&t.gw()), "{loc}");
        let (s, _, b) = t.send(reqwest::Method::GET, &loc, &cred, None).await;
        assert_eq!((s.as_u16(), b.as_str()), (200, "hello attachment"));
        // Without credentials the binary URL refuses.
        assert_eq!(
            t.send(reqwest::Method::GET, &loc, &Cred::None, None)
                .await
                .0,
            401
        );
    }
    // The classic scope opens the operation too; an unrelated scope does not.
    let classic_scope = t.token(json!({"kind": "scoped", "email": "ada@example.com", "scopes": ["readonly:content.attachment:confluence"]})).await;
    let op = format!(
        "{}/wiki/rest/api/content/1002/child/attachment/att6001/download",
        t.gw()
    );
    assert_eq!(
        t.send(
            reqwest::Method::GET,
            &op,
            &Cred::Basic("ada@example.com".into(), classic_scope),
            None
        )
        .await
        .0,
        302
    );
    let other = t.token(json!({"kind": "scoped", "email": "ada@example.com", "scopes": ["read:page:confluence"]})).await;
    assert_eq!(
        t.send(
            reqwest::Method::GET,
            &op,
            &Cred::Basic("ada@example.com".into(), other),
            None
        )
        .await
        .0,
        401
    );
    t.behaviour(json!({"download_servlet_refuses_scoped": false}))
        .await;
    let (s, _, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}{servlet}", t.gw()),
            &t.scoped_read(),
            None,
        )
        .await;
    assert_eq!((s.as_u16(), b.as_str()), (200, "hello attachment"));
}

// ---------- permissions and writes ----------

#[tokio::test]
async fn permissions_give_404_and_403_like_cloud() {
    let t = start().await;
    let bob = Cred::Basic(
        "bob@example.com".into(),
        t.token(json!({"kind": "classic", "email": "bob@example.com"}))
            .await,
    );
    let eve = Cred::Basic(
        "eve@example.com".into(),
        t.token(json!({"kind": "classic", "email": "eve@example.com"}))
            .await,
    );
    let site = t.site();
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/pages/1002"), &bob)
            .await
            .0,
        200
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/pages/2001"), &bob)
            .await
            .0,
        404
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/pages/1004"), &bob)
            .await
            .0,
        404
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/rest/api/content/1004"), &bob)
            .await
            .0,
        403
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/rest/api/content/2001"), &bob)
            .await
            .0,
        404
    );
    let put = json!({"id": "1002", "status": "current", "title": "Release notes", "body": {"representation": "storage", "value": "<p>x</p>"}, "version": {"number": 2}});
    assert_eq!(
        t.send(
            reqwest::Method::PUT,
            &format!("{site}/wiki/api/v2/pages/1002"),
            &bob,
            Some(put)
        )
        .await
        .0,
        403
    );
    let (s, v) = t.get(&format!("{site}/wiki/api/v2/spaces"), &eve).await;
    assert_eq!(
        (s.as_u16(), v["results"].as_array().unwrap().len()),
        (200, 0)
    );
    // Group permission and an admin grant.
    let cat = Cred::Basic(
        "cat@example.com".into(),
        t.token(json!({"kind": "classic", "email": "cat@example.com"}))
            .await,
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/pages/2001"), &cat)
            .await
            .0,
        200
    );
    t.admin(
        reqwest::Method::POST,
        "/spaces/ENG/permissions",
        json!({"principal": "user:u-eve", "operations": ["read"]}),
    )
    .await;
    let (_, v) = t.get(&format!("{site}/wiki/api/v2/spaces"), &eve).await;
    assert_eq!(v["results"][0]["key"], "ENG");
    // v2 errors have Cloud's shape.
    let (_, v) = t.get(&format!("{site}/wiki/api/v2/pages/2001"), &bob).await;
    assert_eq!(v["errors"][0]["status"], 404);
    assert_eq!(v["errors"][0]["code"], "NOT_FOUND");
    let (_, v) = t
        .get(&format!("{site}/wiki/rest/api/content/2001"), &bob)
        .await;
    assert_eq!(
        (v["statusCode"].as_u64(), v["reason"].as_str()),
        (Some(404), Some("Not Found"))
    );
}

#[tokio::test]
async fn version_conflicts_answer_409() {
    let t = start().await;
    let url = format!("{}/wiki/api/v2/pages/1002", t.site());
    let body = |n: u32| json!({"id": "1002", "status": "current", "title": "Release notes", "body": {"representation": "storage", "value": format!("<p>v{n}</p>")}, "version": {"number": n, "message": "edit"}});
    let (s, _, b) = t
        .send(reqwest::Method::PUT, &url, &t.classic(), Some(body(1)))
        .await;
    assert_eq!(s, 409);
    assert!(b.contains("Current version is: 1"), "{b}");
    let (s, _, b) = t
        .send(reqwest::Method::PUT, &url, &t.classic(), Some(body(2)))
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        serde_json::from_str::<Value>(&b).unwrap()["version"]["number"],
        2
    );
    // v1 PUT content: same rule.
    let v1 = format!("{}/wiki/rest/api/content/1002", t.site());
    let v1body = |n: u32| json!({"type": "page", "title": "Release notes", "version": {"number": n}, "body": {"storage": {"value": "<p>v1</p>", "representation": "storage"}}});
    assert_eq!(
        t.send(reqwest::Method::PUT, &v1, &t.classic(), Some(v1body(2)))
            .await
            .0,
        409
    );
    assert_eq!(
        t.send(reqwest::Method::PUT, &v1, &t.classic(), Some(v1body(3)))
            .await
            .0,
        200
    );
    let (_, v) = t.get(&format!("{url}/versions"), &t.classic()).await;
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    let (_, v) = t.get(&format!("{url}/versions/2"), &t.classic()).await;
    assert_eq!(v["page"]["body"]["storage"]["value"], "<p>v2</p>");
    // A missing field is named.
    let (s, _, b) = t.send(reqwest::Method::PUT, &url, &t.classic(), Some(json!({"id": "1002", "status": "current", "title": "x", "body": {"representation": "storage", "value": ""}}))).await;
    assert_eq!(s, 400);
    assert!(b.contains("version"), "{b}");
    t.behaviour(json!({"v2_version_conflict_409": false})).await;
    assert_eq!(
        t.send(reqwest::Method::PUT, &url, &t.classic(), Some(body(1)))
            .await
            .0,
        400
    );
}

/// What the v1 API of the site answers to clients that still use it (mcp-atlassian in Cloud
/// mode, atlassian-python-api): the history's `lastUpdated`, a page at a version, comments
/// and replies created through `POST /content`, attachments deleted through `DELETE /content`.
#[tokio::test]
async fn v1_history_versions_comments_and_attachment_delete() {
    let t = start().await;
    let site = t.site();
    let c = t.classic();
    let content = format!("{site}/wiki/rest/api/content");
    let update = json!({"type": "page", "title": "Release notes, take two", "version": {"number": 2},
        "body": {"storage": {"value": "<p>second</p>", "representation": "storage"}}});
    let (s, _, b) = t
        .send(
            reqwest::Method::PUT,
            &format!("{content}/1002"),
            &c,
            Some(update),
        )
        .await;
    assert_eq!(s, 200, "{b}");

    let (s, h) = t.get(&format!("{content}/1002/history"), &c).await;
    assert_eq!(s, 200, "{h}");
    assert_eq!(h["lastUpdated"]["number"], 2, "{h}");
    assert_eq!(h["latest"], true);
    assert!(h.get("previousVersion").is_none(), "expandable only: {h}");
    let (_, h) = t
        .get(
            &format!("{content}/1002/history?expand=previousVersion,contributors"),
            &c,
        )
        .await;
    assert_eq!(h["previousVersion"]["number"], 1, "{h}");
    assert_eq!(
        h["contributors"]["publishers"]["userAccountIds"][0],
        "u-ada"
    );

    let at = |v: &str| {
        format!("{content}/1002?status=historical&version={v}&expand=body.storage,history")
    };
    let (s, v1) = t.get(&at("1"), &c).await;
    assert_eq!(s, 200, "{v1}");
    assert_eq!(v1["title"], "Release notes");
    assert_eq!(v1["version"]["number"], 1);
    assert_eq!(v1["status"], "historical");
    assert_eq!(v1["history"]["latest"], false);
    assert_eq!(
        v1["body"]["storage"]["value"],
        "<p>The release train leaves on Friday.</p>"
    );
    let (_, v2) = t.get(&at("2"), &c).await;
    assert_eq!(v2["title"], "Release notes, take two");
    assert_eq!(v2["status"], "current");
    assert_eq!(t.get(&at("3"), &c).await.0, 404);
    assert_eq!(t.get(&at("zero"), &c).await.0, 400);

    // A comment needs its container; a reply names its parent in `ancestors`.
    let comment = |container: Value, ancestors: Value| {
        json!({"type": "comment", "container": container,
        "ancestors": ancestors, "body": {"storage": {"value": "<p>noted</p>", "representation": "storage"}}})
    };
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &content,
            &c,
            Some(comment(Value::Null, json!([]))),
        )
        .await;
    assert_eq!(s, 400, "{b}");
    assert!(b.contains("container"), "{b}");
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &content,
            &c,
            Some(comment(json!({"id": "1002", "type": "page"}), json!([]))),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let top: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(top["type"], "comment");
    assert_eq!(top["container"]["id"], "1002");
    assert_eq!(top["extensions"]["location"], "footer");
    let top_id = top["id"].as_str().unwrap().to_string();
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &content,
            &c,
            Some(comment(
                json!({"id": "1002", "type": "page"}),
                json!([{"id": top_id}]),
            )),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let reply: Value = serde_json::from_str(&b).unwrap();
    let reply_id = reply["id"].as_str().unwrap().to_string();
    let (_, r) = t
        .get(
            &format!("{content}/{reply_id}?expand=container,ancestors"),
            &c,
        )
        .await;
    assert_eq!(r["container"]["id"], "1002", "{r}");
    assert_eq!(r["container"]["type"], "page");
    assert_eq!(r["ancestors"][0]["id"], top_id.as_str(), "{r}");
    // child/comment lists root-level comments only; `location` filters them.
    let (_, kids) = t
        .get(&format!("{content}/1002/child/comment?depth=all"), &c)
        .await;
    let ids: Vec<&str> = kids["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["id"].as_str())
        .collect();
    assert!(
        ids.contains(&top_id.as_str()) && !ids.contains(&reply_id.as_str()),
        "{kids}"
    );
    let (_, inline) = t
        .get(&format!("{content}/1002/child/comment?location=inline"), &c)
        .await;
    let inline = inline["results"].as_array().unwrap().clone();
    assert!(!inline.is_empty());
    assert!(
        inline
            .iter()
            .all(|k| k["extensions"]["location"] == "inline"),
        "{inline:?}"
    );
    // A parent that is no comment of the container is refused.
    let (s, _, _) = t
        .send(
            reqwest::Method::POST,
            &content,
            &c,
            Some(comment(
                json!({"id": "1001", "type": "page"}),
                json!([{"id": top_id}]),
            )),
        )
        .await;
    assert_eq!(s, 400);
    // v2 sees the thread.
    let (_, fc) = t
        .get(
            &format!("{site}/wiki/api/v2/footer-comments/{top_id}/children"),
            &c,
        )
        .await;
    assert_eq!(fc["results"][0]["id"], reply_id.as_str(), "{fc}");
    // A comment is deleted for good, its replies with it.
    assert_eq!(
        t.send(
            reqwest::Method::DELETE,
            &format!("{content}/{top_id}"),
            &c,
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(t.get(&format!("{content}/{reply_id}"), &c).await.0, 404);

    // An attachment: trashed, then purged with status=trashed.
    let (_, atts) = t
        .get(&format!("{content}/1002?expand=children.attachment"), &c)
        .await;
    let att = atts["children"]["attachment"]["results"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let del = |q: &str| format!("{content}/{att}{q}");
    assert_eq!(
        t.send(reqwest::Method::DELETE, &del("?status=trashed"), &c, None)
            .await
            .0,
        400
    );
    assert_eq!(
        t.send(reqwest::Method::DELETE, &del(""), &c, None).await.0,
        204
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/attachments/{att}"), &c)
            .await
            .0,
        404
    );
    assert_eq!(
        t.send(reqwest::Method::DELETE, &del(""), &c, None).await.0,
        404
    );
    assert_eq!(
        t.send(reqwest::Method::DELETE, &del("?status=trashed"), &c, None)
            .await
            .0,
        204
    );
}

#[tokio::test]
async fn create_comment_label_attach_trash_and_purge() {
    let t = start().await;
    let site = t.site();
    let c = t.classic();
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/pages"),
            &c,
            Some(json!({"title": "x"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(b.contains("spaceId"), "{b}");
    let (s, _, b) = t.send(reqwest::Method::POST, &format!("{site}/wiki/api/v2/pages"), &c, Some(json!({"spaceId": "100", "title": "New page", "parentId": "1002", "body": {"representation": "storage", "value": "<p>fresh</p>"}}))).await;
    assert_eq!(s, 200, "{b}");
    let page: Value = serde_json::from_str(&b).unwrap();
    let id = page["id"].as_str().unwrap().to_string();
    assert!(id.parse::<u64>().is_ok());
    assert_eq!(page["parentId"], "1002");
    // Same title again: refused.
    assert_eq!(
        t.send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/pages"),
            &c,
            Some(json!({"spaceId": "100", "title": "New page"}))
        )
        .await
        .0,
        400
    );
    // Bad JSON: 400.
    let r = t
        .http
        .post(format!("{site}/wiki/api/v2/pages"))
        .basic_auth(
            &t.info.classic_token.email,
            Some(&t.info.classic_token.token),
        )
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Hierarchy.
    let (_, v) = t
        .get(&format!("{site}/wiki/api/v2/pages/{id}/ancestors"), &c)
        .await;
    let anc: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(anc, vec!["1001", "1002"]);
    let (_, v) = t
        .get(
            &format!("{site}/wiki/api/v2/pages/1001/descendants?depth=1"),
            &c,
        )
        .await;
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["depth"] == 1)
    );
    let (_, v) = t
        .get(&format!("{site}/wiki/api/v2/pages/1001/descendants"), &c)
        .await;
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["id"] == id.as_str() && d["depth"] == 2)
    );
    let (_, v) = t
        .get(
            &format!("{site}/wiki/rest/api/content/1001/descendant/page"),
            &c,
        )
        .await;
    assert_eq!(v["size"], 4);
    // Footer comment and reply.
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/footer-comments"),
            &c,
            Some(
                json!({"pageId": id, "body": {"representation": "storage", "value": "<p>hi</p>"}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    let cid = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, _) = t.send(reqwest::Method::POST, &format!("{site}/wiki/api/v2/footer-comments"), &c, Some(json!({"parentCommentId": cid, "body": {"representation": "storage", "value": "<p>re</p>"}}))).await;
    assert_eq!(s, 201);
    let (_, v) = t
        .get(
            &format!("{site}/wiki/api/v2/footer-comments/{cid}/children"),
            &c,
        )
        .await;
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    let (_, v) = t
        .get(
            &format!("{site}/wiki/api/v2/pages/1002/inline-comments?resolution-status=resolved"),
            &c,
        )
        .await;
    assert_eq!(
        v["results"][0]["properties"]["inlineOriginalSelection"],
        "train"
    );
    // Labels through v1.
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/rest/api/content/{id}/label"),
            &c,
            Some(json!([{"prefix": "global", "name": "fresh"}])),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, v) = t
        .get(&format!("{site}/wiki/api/v2/pages/{id}/labels"), &c)
        .await;
    assert_eq!(v["results"][0]["name"], "fresh");
    assert_eq!(
        t.send(
            reqwest::Method::DELETE,
            &format!("{site}/wiki/rest/api/content/{id}/label/fresh"),
            &c,
            None
        )
        .await
        .0,
        204
    );
    // Attachment upload needs the XSRF header.
    let url = format!("{site}/wiki/rest/api/content/{id}/child/attachment");
    let form = || {
        reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"data!".to_vec())
                .file_name("d.bin")
                .mime_str("application/octet-stream")
                .unwrap(),
        )
    };
    let auth = (
        &t.info.classic_token.email,
        Some(&t.info.classic_token.token),
    );
    let r = t
        .http
        .post(&url)
        .basic_auth(auth.0, auth.1)
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = t
        .http
        .post(&url)
        .basic_auth(auth.0, auth.1)
        .header("X-Atlassian-Token", "no-check")
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = t
        .get(&format!("{site}/wiki/api/v2/pages/{id}/attachments"), &c)
        .await;
    let att = &v["results"][0];
    assert_eq!(att["fileSize"], 5);
    let link = att["downloadLink"].as_str().unwrap();
    assert!(
        link.starts_with(&format!(
            "/download/attachments/{id}/d.bin?version=1&modificationDate="
        )) && link.ends_with("&api=v2"),
        "{link}"
    );
    let (s, _, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{site}/wiki{link}"),
            &c,
            None,
        )
        .await;
    assert_eq!((s.as_u16(), b.as_str()), (200, "data!"));
    // Folders and databases.
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/folders"),
            &c,
            Some(json!({"spaceId": "100", "title": "F2", "parentId": "1100"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (_, v) = t
        .get(
            &format!("{site}/wiki/api/v2/folders/1100/direct-children"),
            &c,
        )
        .await;
    assert_eq!(v["results"][0]["type"], "folder");
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/databases"),
            &c,
            Some(json!({"spaceId": "100", "title": "D2"})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let did = serde_json::from_str::<Value>(&b).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        t.send(
            reqwest::Method::DELETE,
            &format!("{site}/wiki/api/v2/databases/{did}"),
            &c,
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        t.get(&format!("{site}/wiki/api/v2/databases/{did}"), &c)
            .await
            .0,
        404
    );
    // Trash, then purge.
    let page_url = format!("{site}/wiki/api/v2/pages/{id}");
    assert_eq!(
        t.send(
            reqwest::Method::DELETE,
            &format!("{page_url}?purge=true"),
            &c,
            None
        )
        .await
        .0,
        400
    );
    assert_eq!(
        t.send(reqwest::Method::DELETE, &page_url, &c, None).await.0,
        204
    );
    assert_eq!(t.get(&page_url, &c).await.0, 404);
    assert_eq!(
        t.get(&format!("{page_url}?status=trashed"), &c).await.0,
        200
    );
    assert_eq!(
        t.send(
            reqwest::Method::DELETE,
            &format!("{page_url}?purge=true"),
            &c,
            None
        )
        .await
        .0,
        204
    );
    assert_eq!(
        t.get(&format!("{page_url}?status=trashed"), &c).await.0,
        404
    );
}

#[tokio::test]
async fn body_formats() {
    let t = start().await;
    let url = format!("{}/wiki/api/v2/pages/1002", t.site());
    let (_, v) = t
        .get(&format!("{url}?body-format=storage"), &t.classic())
        .await;
    assert_eq!(
        v["body"]["storage"]["value"],
        "<p>The release train leaves on Friday.</p>"
    );
    let (_, v) = t
        .get(&format!("{url}?body-format=atlas_doc_format"), &t.classic())
        .await;
    let adf: Value =
        serde_json::from_str(v["body"]["atlas_doc_format"]["value"].as_str().unwrap()).unwrap();
    assert_eq!(adf["type"], "doc");
    let (_, v) = t
        .get(&format!("{url}?body-format=view"), &t.classic())
        .await;
    assert!(
        v["body"]["view"]["value"]
            .as_str()
            .unwrap()
            .contains("release train")
    );
    assert_eq!(
        t.get(&format!("{url}?body-format=markdown"), &t.classic())
            .await
            .0,
        400
    );
}

// ---------- pagination ----------

#[tokio::test]
async fn v2_pagination_past_250_by_links_and_header() {
    let t = start().await;
    let c = t.classic();
    let (s, v) = t
        .get(
            &format!("{}/wiki/api/v2/pages?space-id=500&limit=1000", t.site()),
            &c,
        )
        .await;
    assert_eq!(
        (s.as_u16(), v["results"].as_array().unwrap().len()),
        (200, 250)
    );
    assert_eq!(
        t.get(&format!("{}/wiki/api/v2/pages?limit=0", t.site()), &c)
            .await
            .0,
        400
    );
    // Follow _links.next (relative to the site; through the gateway, the caller's own base).
    for base in [t.site(), t.gw()] {
        let mut url = format!("{base}/wiki/api/v2/pages?space-id=500&limit=120");
        let mut ids = Vec::new();
        loop {
            let (s, v) = t.get(&url, &c).await;
            assert_eq!(s, 200);
            ids.extend(
                v["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["id"].as_str().unwrap().to_string()),
            );
            match v["_links"]["next"].as_str() {
                Some(n) => {
                    assert!(
                        n.starts_with("/wiki/api/v2/pages?")
                            && n.contains("space-id=500")
                            && n.contains("cursor="),
                        "{n}"
                    );
                    url = format!("{base}{n}");
                }
                None => break,
            }
        }
        ids.dedup();
        assert_eq!(ids.len(), BULK);
    }
    // The Link header.
    let mut url = format!("{}/wiki/api/v2/spaces/500/pages?limit=250", t.site());
    let mut count = 0;
    loop {
        let (s, h, b) = t.send(reqwest::Method::GET, &url, &c, None).await;
        assert_eq!(s, 200);
        count += serde_json::from_str::<Value>(&b).unwrap()["results"]
            .as_array()
            .unwrap()
            .len();
        let Some(link) = h.get("link") else { break };
        let link = link.to_str().unwrap();
        let target = link.trim_start_matches('<').split('>').next().unwrap();
        assert!(link.ends_with("; rel=\"next\""));
        url = format!("{}{target}", t.site());
    }
    assert_eq!(count, BULK);
    assert_eq!(
        t.get(&format!("{}/wiki/api/v2/pages?cursor=bogus", t.site()), &c)
            .await
            .0,
        400
    );
}

#[tokio::test]
async fn v1_start_limit_pagination() {
    let t = start().await;
    let mut url = format!("{}/wiki/rest/api/content?spaceKey=BULK&limit=100", t.site());
    let mut total = 0;
    loop {
        let (s, v) = t.get(&url, &t.classic()).await;
        assert_eq!(s, 200);
        assert_eq!(
            v["size"].as_u64().unwrap() as usize,
            v["results"].as_array().unwrap().len()
        );
        total += v["results"].as_array().unwrap().len();
        match v["_links"]["next"].as_str() {
            Some(n) => {
                url = format!(
                    "{}{}{n}",
                    t.site(),
                    v["_links"]["context"].as_str().unwrap()
                )
            }
            None => break,
        }
    }
    assert_eq!(total, BULK);
}

// ---------- rate limits and faults ----------

#[tokio::test]
async fn rate_limit_429_then_success_after_the_window() {
    let t = start().await;
    t.admin(
        reqwest::Method::PUT,
        "/rate-limit",
        json!({"limit": 5, "window_secs": 60}),
    )
    .await;
    let url = format!("{}/wiki/api/v2/spaces", t.site());
    for i in 0..5 {
        let (s, h, _) = t.send(reqwest::Method::GET, &url, &t.classic(), None).await;
        assert_eq!(s, 200);
        assert_eq!(
            h.get("x-ratelimit-remaining").unwrap(),
            &(4 - i).to_string()
        );
        assert_eq!(h.get("x-ratelimit-nearlimit").is_some(), 4 - i < 1);
    }
    let (s, h, _) = t.send(reqwest::Method::GET, &url, &t.classic(), None).await;
    assert_eq!(s, 429);
    let retry: u64 = h
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(h.get("x-ratelimit-limit").unwrap(), "5");
    assert_eq!(h.get("x-ratelimit-remaining").unwrap(), "0");
    assert_eq!(h.get("x-ratelimit-nearlimit").unwrap(), "true");
    assert!(h.get("ratelimit-reason").is_some());
    let reset = h.get("x-ratelimit-reset").unwrap().to_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(reset).is_ok(),
        "{reset}"
    );
    // Another credential has its own budget.
    assert_eq!(
        t.send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/spaces", t.gw()),
            &t.scoped_full(),
            None
        )
        .await
        .0,
        200
    );
    t.advance(61).await;
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        200
    );
    let stats = t.admin(reqwest::Method::GET, "/stats", json!({})).await;
    assert_eq!(stats["rate_limited"], 1);
}

#[tokio::test]
async fn injected_failures_are_deterministic() {
    let t = start().await;
    let url = format!("{}/wiki/api/v2/spaces", t.site());
    t.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 2, "status": 503, "retry_after": 1}}),
    )
    .await;
    for _ in 0..2 {
        let (s, h, _) = t.send(reqwest::Method::GET, &url, &t.classic(), None).await;
        assert_eq!(s, 503);
        assert_eq!(h.get("retry-after").unwrap(), "1");
    }
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        200
    );
    // Only a path prefix and method.
    t.admin(reqwest::Method::PUT, "/faults", json!({"path_prefix": "/wiki/api/v2/pages", "method": "GET", "fail_next": {"count": 1, "status": 500}})).await;
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        200
    );
    assert_eq!(
        t.send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/pages/1002", t.site()),
            &t.classic(),
            None
        )
        .await
        .0,
        500
    );
    // Dropped connection.
    t.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"path_prefix": null, "method": null, "fail_next": {"count": 1, "drop": true}}),
    )
    .await;
    let r = t
        .http
        .get(&url)
        .basic_auth(
            &t.info.classic_token.email,
            Some(&t.info.classic_token.token),
        )
        .send()
        .await;
    assert!(r.is_err(), "{r:?}");
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        200
    );
    // A rate of 1 fails everything; 0 nothing.
    t.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"error_rate": 1.0, "error_status": 502}),
    )
    .await;
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        502
    );
    t.admin(reqwest::Method::PUT, "/faults", json!({"error_rate": 0.0}))
        .await;
    assert_eq!(
        t.send(reqwest::Method::GET, &url, &t.classic(), None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn random_faults_follow_the_seed() {
    async fn pattern() -> Vec<u16> {
        let t = start_with(
            SimConfig::new(fixture(), 7).with_faults(conflux_sim::Faults {
                error_rate: 0.5,
                ..Default::default()
            }),
        )
        .await;
        let mut out = Vec::new();
        for _ in 0..16 {
            out.push(
                t.send(
                    reqwest::Method::GET,
                    &format!("{}/wiki/api/v2/spaces", t.site()),
                    &t.classic(),
                    None,
                )
                .await
                .0
                .as_u16(),
            );
        }
        out
    }
    let (a, b) = (pattern().await, pattern().await);
    assert_eq!(a, b);
    assert!(a.contains(&503) && a.contains(&200), "{a:?}");
}

/// `GET /stats` `recent_requests`: each answered API request, when it arrived on the simulated
/// clock, its status and the `Retry-After` it was given; the oldest fall off after 100.
#[tokio::test]
async fn stats_record_each_request_with_its_arrival_and_retry_after() {
    let t = start().await;
    let url = format!("{}/wiki/api/v2/spaces", t.site());
    let now = |v: Value| v["now_ms"].as_i64().unwrap();
    t.admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    t.admin(
        reqwest::Method::PUT,
        "/faults",
        json!({"fail_next": {"count": 1, "status": 429, "retry_after": 7}}),
    )
    .await;
    let before = now(t.admin(reqwest::Method::GET, "/clock", json!({})).await);
    let (s, _, _) = t.send(reqwest::Method::GET, &url, &t.classic(), None).await;
    assert_eq!(s, 429);
    t.advance(100).await;
    let gateway = format!("{}/wiki/api/v2/spaces", t.gw());
    let (s, _, _) = t
        .send(reqwest::Method::GET, &gateway, &t.scoped_full(), None)
        .await;
    assert_eq!(s, 200);
    let after = now(t.admin(reqwest::Method::GET, "/clock", json!({})).await);

    let stats = t.admin(reqwest::Method::GET, "/stats", json!({})).await;
    let log = stats["recent_requests"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{stats}");
    let (first, second) = (&log[0], &log[1]);
    assert_eq!(
        (
            &first["method"],
            &first["path"],
            &first["status"],
            &first["retry_after"]
        ),
        (
            &json!("GET"),
            &json!("/wiki/api/v2/spaces"),
            &json!(429),
            &json!(7)
        )
    );
    let gateway_path = format!("/ex/confluence/{}/wiki/api/v2/spaces", t.info.cloud_id);
    assert_eq!(
        (&second["path"], &second["status"], &second["retry_after"]),
        (&json!(gateway_path), &json!(200), &Value::Null)
    );
    // Arrival times are on the simulated clock: the advance shows between the two.
    let (a, b) = (
        first["at_ms"].as_i64().unwrap(),
        second["at_ms"].as_i64().unwrap(),
    );
    assert!(
        before <= a && a + 100_000 <= b && b <= after,
        "{before} {a} {b} {after}"
    );

    // Only the last 100 are kept, oldest first; admin calls are not API requests.
    for _ in 0..99 {
        t.send(reqwest::Method::GET, &url, &t.classic(), None).await;
    }
    let stats = t.admin(reqwest::Method::GET, "/stats", json!({})).await;
    let log = stats["recent_requests"].as_array().unwrap();
    assert_eq!(log.len(), 100);
    assert_eq!(stats["requests"], 101);
    assert_eq!(log[0]["path"], json!(gateway_path), "the first fell off");
    assert_eq!(log[1]["path"], json!("/wiki/api/v2/spaces"));
    let reset = t
        .admin(reqwest::Method::POST, "/stats/reset", json!({}))
        .await;
    assert_eq!(reset["recent_requests"], json!([]));
}

// ---------- search ----------

#[tokio::test]
async fn cql_search_with_excerpts_permissions_and_errors() {
    let t = start().await;
    let site = t.site();
    let q = |cql: &str, extra: &str| {
        format!(
            "{site}/wiki/rest/api/search?cql={}{extra}",
            percent_encode(cql)
        )
    };
    let (s, v) = t
        .get(&q("text ~ \"release\" and type = page", ""), &t.classic())
        .await;
    assert_eq!(s, 200, "{v}");
    let ids: Vec<&str> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content"]["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"1002") && ids.contains(&"1004"), "{ids:?}");
    let hit = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["content"]["id"] == "1002")
        .unwrap();
    assert!(
        hit["excerpt"]
            .as_str()
            .unwrap()
            .contains("@@@hl@@@release@@@endhl@@@"),
        "{hit}"
    );
    assert_eq!(hit["content"]["space"]["key"], "ENG");
    assert!(
        hit["lastModified"].is_string()
            && hit["url"].is_string()
            && hit["resultGlobalContainer"]["title"].is_string()
    );
    assert_eq!(v["cqlQuery"], "text ~ \"release\" and type = page");
    // Bob cannot see the restricted page.
    let bob = Cred::Basic(
        "bob@example.com".into(),
        t.token(json!({"kind": "classic", "email": "bob@example.com"}))
            .await,
    );
    let (_, v) = t.get(&q("text ~ \"release\"", ""), &bob).await;
    assert!(
        v["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["content"]["id"] != "1004"),
        "{v}"
    );
    // Excerpt modes.
    let (_, v) = t
        .get(&q("label = release", "&excerpt=none"), &t.classic())
        .await;
    assert!(v["results"][0].get("excerpt").is_none());
    let (_, v) = t
        .get(&q("title ~ \"release\"", "&excerpt=indexed"), &t.classic())
        .await;
    assert!(
        !v["results"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("@@@hl@@@")
    );
    // Malformed: 400 saying where.
    let (s, v) = t.get(&q("type = page and (", ""), &t.classic()).await;
    assert_eq!(s, 400);
    assert_eq!(v["statusCode"], 400);
    assert!(
        v["message"].as_str().unwrap().contains("at line 1, column"),
        "{v}"
    );
    // start/limit and cursor pagination with totalSize.
    let (_, v) = t
        .get(
            &q("space = BULK and type = page", "&limit=100"),
            &t.classic(),
        )
        .await;
    assert_eq!(
        (v["totalSize"].as_u64(), v["size"].as_u64()),
        (Some(300), Some(100))
    );
    let mut next = v["_links"]["next"].as_str().map(String::from);
    let mut seen = 100;
    while let Some(n) = next {
        assert!(n.contains("cursor="), "{n}");
        let (_, v) = t.get(&format!("{site}/wiki{n}"), &t.classic()).await;
        seen += v["results"].as_array().unwrap().len();
        next = v["_links"]["next"].as_str().map(String::from);
    }
    assert_eq!(seen, 300);
    let (_, v) = t
        .get(
            &format!(
                "{site}/wiki/rest/api/search?cql={}&limit=10&start=295",
                percent_encode("space = BULK")
            ),
            &t.classic(),
        )
        .await;
    assert_eq!(v["size"], 5);
    // content/search returns content objects; ORDER BY is honoured.
    let (_, v) = t
        .get(
            &format!(
                "{site}/wiki/rest/api/content/search?cql={}",
                percent_encode("space = BULK order by title desc")
            ),
            &t.classic(),
        )
        .await;
    assert_eq!(v["results"][0]["title"], "Bulk 299");
}

fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------- OAuth ----------

fn pkce() -> (String, String) {
    use sha2::Digest as _;
    let verifier = "a-verifier-that-is-long-enough-for-pkce-0123456789".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// Opens the consent page (`extra`: more query pairs, e.g. `login_hint`); returns the consent
/// id, the account it preselected (`x-sim-account-id`) and the page.
async fn consent_page(t: &T, scope: &str, extra: &[(&str, &str)]) -> (String, String, String) {
    let c = &t.info.oauth_client;
    let mut q = vec![
        ("audience", "api.atlassian.com"),
        ("client_id", c.client_id.as_str()),
        ("scope", scope),
        ("redirect_uri", c.redirect_uris[0].as_str()),
        ("state", "xyz"),
        ("response_type", "code"),
        ("prompt", "consent"),
    ];
    q.extend_from_slice(extra);
    let r = t
        .http
        .get(format!("{}/authorize", t.info.identity_url))
        .query(&q)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let header = |name: &str| r.headers()[name].to_str().unwrap().to_string();
    let (consent, account) = (header("x-sim-consent-id"), header("x-sim-account-id"));
    let html = r.text().await.unwrap();
    assert!(html.contains(&consent) && html.contains("Accept"));
    (consent, account, html)
}

/// Posts the consent form: `consent`, `decision`, and `account` when given (id or e-mail).
async fn decide(t: &T, consent: &str, decision: &str, account: Option<&str>) -> reqwest::Response {
    let mut form = vec![("consent", consent), ("decision", decision)];
    form.extend(account.map(|a| ("account", a)));
    t.http
        .post(format!("{}/authorize/decision", t.info.identity_url))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// The code of an accepted decision (a 302 back to the app with the state).
fn code_of(t: &T, r: &reqwest::Response) -> String {
    assert_eq!(r.status(), 302);
    let loc = url::Url::parse(r.headers().get("location").unwrap().to_str().unwrap()).unwrap();
    assert!(
        loc.as_str()
            .starts_with(&t.info.oauth_client.redirect_uris[0])
    );
    let q: std::collections::HashMap<_, _> = loc.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    q["code"].clone()
}

async fn authorize(t: &T, scope: &str, challenge: Option<&str>) -> String {
    let extra = match challenge {
        Some(ch) => vec![("code_challenge", ch), ("code_challenge_method", "S256")],
        None => vec![],
    };
    let (consent, _, _) = consent_page(t, scope, &extra).await;
    code_of(t, &decide(t, &consent, "accept", None).await)
}

async fn token_call(t: &T, body: Value) -> (StatusCode, Value) {
    let r = t
        .http
        .post(format!("{}/oauth/token", t.info.identity_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test]
async fn oauth_code_flow_with_pkce_and_rotation() {
    let t = start().await;
    let c = t.info.oauth_client.clone();
    let (verifier, challenge) = pkce();
    let code = authorize(
        &t,
        "read:page:confluence read:space:confluence offline_access",
        Some(&challenge),
    )
    .await;
    let exchange = |code: &str, verifier: &str| json!({"grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": code, "redirect_uri": c.redirect_uris[0], "code_verifier": verifier});
    let (s, _) = token_call(&t, exchange(&code, "wrong-verifier")).await;
    assert_eq!(s, 403);
    // A failed verifier does not burn... a code once presented is used: start again.
    let code = authorize(
        &t,
        "read:page:confluence read:space:confluence offline_access",
        Some(&challenge),
    )
    .await;
    let (s, tok) = token_call(&t, exchange(&code, &verifier)).await;
    assert_eq!(s, 200, "{tok}");
    assert_eq!(tok["token_type"], "Bearer");
    assert_eq!(tok["expires_in"], 3600);
    assert!(
        tok["scope"]
            .as_str()
            .unwrap()
            .contains("read:page:confluence")
    );
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh1 = tok["refresh_token"].as_str().unwrap().to_string();
    // Codes are single use.
    assert_eq!(token_call(&t, exchange(&code, &verifier)).await.0, 403);
    // The token works on the gateway, within its scopes.
    assert_eq!(
        t.get(
            &format!("{}/wiki/api/v2/pages/1002", t.gw()),
            &Cred::Bearer(access.clone())
        )
        .await
        .0,
        200
    );
    let (s, h, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}/wiki/api/v2/pages/1002/footer-comments", t.gw()),
            &Cred::Bearer(access.clone()),
            None,
        )
        .await;
    assert_scope_mismatch(s, &h, &b);
    let (s, v) = t
        .get(
            &format!("{}/oauth/token/accessible-resources", t.info.gateway_url),
            &Cred::Bearer(access.clone()),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v[0]["id"], t.info.cloud_id.as_str());
    assert_eq!(v[0]["url"], t.site().as_str());
    // Wrong secret: refused, and the refresh token is not used up.
    let refresh = |rt: &str, secret: &str| json!({"grant_type": "refresh_token", "client_id": c.client_id, "client_secret": secret, "refresh_token": rt});
    let (s, v) = token_call(&t, refresh(&refresh1, "wrong")).await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = token_call(&t, refresh(&refresh1, &c.client_secret)).await;
    assert_eq!(s, 200, "{v}");
    let refresh2 = v["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh1);
    // Reuse of the rotated token inside the leeway: still answered, with the current refresh token.
    let (s, v) = token_call(&t, refresh(&refresh1, &c.client_secret)).await;
    assert_eq!(
        (s.as_u16(), v["refresh_token"].as_str()),
        (200, Some(refresh2.as_str()))
    );
    let (s, v) = token_call(&t, refresh(&refresh2, &c.client_secret)).await;
    assert_eq!(s, 200);
    let refresh3 = v["refresh_token"].as_str().unwrap().to_string();
    let access3 = v["access_token"].as_str().unwrap().to_string();
    // Reuse outside the leeway revokes the whole grant.
    t.advance(601).await;
    let (s, v) = token_call(&t, refresh(&refresh1, &c.client_secret)).await;
    assert_eq!(
        (s.as_u16(), v["error"].as_str()),
        (403, Some("invalid_grant"))
    );
    assert_eq!(v["error_description"], "Unknown or invalid refresh token.");
    assert_eq!(
        token_call(&t, refresh(&refresh3, &c.client_secret)).await.0,
        403
    );
    assert_eq!(
        t.get(
            &format!("{}/wiki/api/v2/spaces", t.gw()),
            &Cred::Bearer(access3)
        )
        .await
        .0,
        401
    );
    let stats = t.admin(reqwest::Method::GET, "/stats", json!({})).await;
    assert_eq!(stats["refreshes"], 3);
    assert!(stats["token_requests"].as_u64().unwrap() >= 7);
}

#[tokio::test]
async fn oauth_refusals_and_expiry() {
    let t = start().await;
    let c = t.info.oauth_client.clone();
    // Unregistered redirect_uri or unknown client: an error page, never a redirect.
    for (client, redirect) in [
        (c.client_id.as_str(), "http://evil.example/cb"),
        ("nobody", c.redirect_uris[0].as_str()),
    ] {
        let r = t
            .http
            .get(format!("{}/authorize", t.info.identity_url))
            .query(&[
                ("audience", "api.atlassian.com"),
                ("client_id", client),
                ("scope", "read:page:confluence"),
                ("redirect_uri", redirect),
                ("state", "s"),
                ("response_type", "code"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.headers().get("location").is_none());
    }
    // Without offline_access: no refresh token. Access tokens expire on the simulated clock.
    let code = authorize(&t, "read:space:confluence", None).await;
    let (s, tok) = token_call(&t, json!({"grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": code, "redirect_uri": c.redirect_uris[0]})).await;
    assert_eq!(s, 200);
    assert!(tok.get("refresh_token").is_none());
    let access = Cred::Bearer(tok["access_token"].as_str().unwrap().to_string());
    assert_eq!(
        t.get(&format!("{}/wiki/api/v2/spaces", t.gw()), &access)
            .await
            .0,
        200
    );
    t.advance(3601).await;
    assert_eq!(
        t.get(&format!("{}/wiki/api/v2/spaces", t.gw()), &access)
            .await
            .0,
        404
    );
    // require_pkce refuses an authorize request without a challenge (redirecting with an error).
    t.behaviour(json!({"require_pkce": true})).await;
    let r = t
        .http
        .get(format!("{}/authorize", t.info.identity_url))
        .query(&[
            ("audience", "api.atlassian.com"),
            ("client_id", c.client_id.as_str()),
            ("scope", "read:page:confluence"),
            ("redirect_uri", c.redirect_uris[0].as_str()),
            ("state", "s"),
            ("response_type", "code"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert!(
        r.headers()
            .get("location")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("error=invalid_request")
    );
    // Form-encoded token requests work too; admin revocation of a refresh token kills the grant.
    let minted = t.admin(reqwest::Method::POST, "/tokens", json!({"kind": "oauth", "email": "ada@example.com", "scopes": ["read:space:confluence"]})).await;
    let rt = minted["refresh_token"].as_str().unwrap();
    let r = t
        .http
        .post(format!("{}/oauth/token", t.info.identity_url))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.client_secret.as_str()),
            ("refresh_token", rt),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rt2 = r.json::<Value>().await.unwrap()["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    t.admin(
        reqwest::Method::POST,
        "/tokens/revoke",
        json!({"token": rt2}),
    )
    .await;
    let (s, _) = token_call(&t, json!({"grant_type": "refresh_token", "client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": rt2})).await;
    assert_eq!(s, 403);
}

// ---------- accounts: who signs in ----------

/// Signs in on the consent page as `account` (id or e-mail; None: whoever the page
/// preselected) and exchanges the code; returns the token answer.
async fn sign_in(t: &T, scope: &str, hint: &[(&str, &str)], account: Option<&str>) -> Value {
    let (consent, _, _) = consent_page(t, scope, hint).await;
    let code = code_of(t, &decide(t, &consent, "accept", account).await);
    let c = &t.info.oauth_client;
    let (s, tok) = token_call(t, json!({"grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": code, "redirect_uri": c.redirect_uris[0]})).await;
    assert_eq!(s, 200, "{tok}");
    tok
}

fn bearer(tok: &Value) -> Cred {
    Cred::Bearer(tok["access_token"].as_str().unwrap().to_string())
}

impl T {
    async fn user_current(&self, cred: &Cred) -> (StatusCode, Value) {
        self.get(&format!("{}/wiki/rest/api/user/current", self.gw()), cred)
            .await
    }

    async fn accessible_resources(&self, cred: &Cred) -> (StatusCode, Value) {
        let url = format!("{}/oauth/token/accessible-resources", self.info.gateway_url);
        self.get(&url, cred).await
    }

    async fn refresh(&self, tok: &Value) -> (StatusCode, Value) {
        let c = &self.info.oauth_client;
        token_call(self, json!({"grant_type": "refresh_token", "client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": tok["refresh_token"]})).await
    }
}

#[tokio::test]
async fn consent_page_signs_in_the_account_picked() {
    let t = start().await;
    // The accounts: the demo user, the second member (reads one of Ada's spaces, as many as
    // anyone), the other users, then the outside account.
    let listed: Vec<(&str, bool)> = t
        .info
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.member))
        .collect();
    assert_eq!(
        listed,
        [
            ("u-ada", true),
            ("u-bob", true),
            ("u-eve", true),
            ("u-cat", true),
            ("u-olive", false)
        ]
    );
    assert_eq!(t.info.demo_account().unwrap().email, "ada@example.com");
    assert_eq!(t.info.second_member().unwrap().account_id, "u-bob");
    assert_eq!(t.info.outsider().unwrap().display_name, "Olive Outsider");

    // The page lists them all, the demo user preselected; picking Bob signs Bob in.
    let scope = "read:confluence-user offline_access";
    let (consent, preselected, html) = consent_page(&t, scope, &[]).await;
    assert_eq!(preselected, "u-ada");
    assert!(
        html.contains(r#"<select id="account" name="account">"#),
        "{html}"
    );
    assert!(html.contains(r#"<option value="u-ada" selected>u-ada (ada@example.com)</option>"#));
    assert!(
        html.contains(
            r#"<option value="u-olive">Olive Outsider (olive@elsewhere.example)</option>"#
        )
    );
    let code = code_of(&t, &decide(&t, &consent, "accept", Some("u-bob")).await);
    let c = &t.info.oauth_client;
    let (s, bob) = token_call(&t, json!({"grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": code, "redirect_uri": c.redirect_uris[0]})).await;
    assert_eq!(s, 200, "{bob}");
    let (s, me) = t.user_current(&bearer(&bob)).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(
        (&me["accountId"], &me["email"], &me["accountType"]),
        (
            &json!("u-bob"),
            &json!("bob@example.com"),
            &json!("atlassian")
        )
    );
    assert_eq!(
        (&me["displayName"], &me["publicName"]),
        (&json!("u-bob"), &json!("u-bob"))
    );
    let (s, sites) = t.accessible_resources(&bearer(&bob)).await;
    assert_eq!(s, 200);
    assert_eq!(sites.as_array().unwrap().len(), 1);
    assert_eq!(
        (&sites[0]["id"], &sites[0]["url"]),
        (&json!(t.info.cloud_id), &json!(t.site()))
    );

    // Accept without a choice is still the demo user.
    let ada = sign_in(&t, scope, &[], None).await;
    assert_eq!(t.user_current(&bearer(&ada)).await.1["accountId"], "u-ada");

    // login_hint (an e-mail in any case, or an account id) preselects; unknown hints are ignored.
    for (hint, expected) in [
        ("CAT@example.com", "u-cat"),
        ("u-olive", "u-olive"),
        ("nobody@example.com", "u-ada"),
    ] {
        let (_, preselected, html) = consent_page(&t, scope, &[("login_hint", hint)]).await;
        assert_eq!(preselected, expected, "{hint}");
        assert!(html.contains(&format!(r#"<option value="{expected}" selected>"#)));
    }
    let cat = sign_in(&t, scope, &[("login_hint", "cat@example.com")], None).await;
    assert_eq!(t.user_current(&bearer(&cat)).await.1["accountId"], "u-cat");

    // user/current needs read:confluence-user (classic) or read:content-details:confluence.
    let page_only = sign_in(&t, "read:page:confluence", &[], Some("u-bob")).await;
    let (s, h, b) = t
        .send(
            reqwest::Method::GET,
            &format!("{}/wiki/rest/api/user/current", t.gw()),
            &bearer(&page_only),
            None,
        )
        .await;
    assert_scope_mismatch(s, &h, &b);
    let granular = sign_in(
        &t,
        "read:content-details:confluence",
        &[],
        Some("bob@example.com"),
    )
    .await;
    assert_eq!(
        t.user_current(&bearer(&granular)).await.1["accountId"],
        "u-bob"
    );

    // An unknown account is refused with the error page: no redirect, no code, and the consent
    // request is used up.
    let (consent, _, _) = consent_page(&t, scope, &[]).await;
    let r = decide(&t, &consent, "accept", Some("u-nobody")).await;
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    assert!(r.text().await.unwrap().contains("id=\"error\""));
    assert_eq!(
        decide(&t, &consent, "accept", Some("u-bob")).await.status(),
        400
    );
}

#[tokio::test]
async fn outside_account_consents_but_reaches_no_site() {
    let t = start().await;
    let olive = sign_in(
        &t,
        "read:confluence-user read:space:confluence offline_access",
        &[],
        Some("olive@elsewhere.example"),
    )
    .await;
    // Her grant lists no site (Cloud: an account with no Confluence site).
    assert_eq!(
        t.accessible_resources(&bearer(&olive)).await,
        (StatusCode::OK, json!([]))
    );
    // The site refuses her whatever the API, v1 or v2, and whatever the credential.
    let refused =
        json!({"statusCode": 403, "message": "Current user not permitted to use Confluence"});
    assert_eq!(
        t.user_current(&bearer(&olive)).await,
        (StatusCode::FORBIDDEN, refused.clone())
    );
    let spaces = format!("{}/wiki/api/v2/spaces", t.gw());
    assert_eq!(
        t.get(&spaces, &bearer(&olive)).await,
        (StatusCode::FORBIDDEN, refused.clone())
    );
    let classic = t
        .token(json!({"kind": "classic", "email": "olive@elsewhere.example"}))
        .await;
    let basic = Cred::Basic("olive@elsewhere.example".into(), classic);
    let site_spaces = format!("{}/wiki/api/v2/spaces", t.site());
    assert_eq!(
        t.get(&site_spaces, &basic).await,
        (StatusCode::FORBIDDEN, refused)
    );
    // Her grant itself is sound: the refresh token rotates.
    let (s, v) = t.refresh(&olive).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn admin_revokes_an_accounts_grants_and_disables_it() {
    let t = start().await;
    let scope = "read:space:confluence offline_access";
    let bob1 = sign_in(&t, scope, &[], Some("u-bob")).await;
    let bob2 = sign_in(&t, scope, &[], Some("u-bob")).await;
    let ada = sign_in(&t, scope, &[], None).await;
    let spaces = format!("{}/wiki/api/v2/spaces", t.gw());
    // This person left: every grant of Bob's goes, Ada's stay.
    let v = t
        .admin(
            reqwest::Method::POST,
            "/accounts/u-bob/revoke-grants",
            json!({}),
        )
        .await;
    assert_eq!(v, json!({"account_id": "u-bob", "revoked_grants": 2}));
    for tok in [&bob1, &bob2] {
        assert_eq!(t.get(&spaces, &bearer(tok)).await.0, 401);
        assert_eq!(t.refresh(tok).await.0, 403);
    }
    assert_eq!(t.get(&spaces, &bearer(&ada)).await.0, 200);
    // Revoking is not deactivating: Bob can consent again.
    let bob3 = sign_in(&t, scope, &[], Some("u-bob")).await;
    assert_eq!(t.get(&spaces, &bearer(&bob3)).await.0, 200);

    // Deactivated (by e-mail here): his credentials stop, the page no longer offers him, a
    // decision naming him is refused, his refresh token is refused.
    let v = t
        .admin(
            reqwest::Method::POST,
            "/accounts/bob@example.com/disable",
            json!({}),
        )
        .await;
    assert_eq!((&v["disabled"], &v["member"]), (&json!(true), &json!(true)));
    assert_eq!(t.get(&spaces, &bearer(&bob3)).await.0, 401);
    assert_eq!(t.accessible_resources(&bearer(&bob3)).await.0, 401);
    assert_eq!(t.refresh(&bob3).await.0, 403);
    assert!(!t.handle.accounts().iter().any(|a| a.account_id == "u-bob"));
    let (consent, _, html) = consent_page(&t, scope, &[("login_hint", "u-bob")]).await;
    assert!(!html.contains("u-bob"));
    assert_eq!(
        decide(&t, &consent, "accept", Some("u-bob")).await.status(),
        400
    );
    // Reactivated, his unrevoked grant works again.
    t.admin(reqwest::Method::POST, "/accounts/u-bob/enable", json!({}))
        .await;
    assert_eq!(t.get(&spaces, &bearer(&bob3)).await.0, 200);
    let r = t
        .http
        .post(format!("{}/accounts/u-nobody/disable", t.info.admin_url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // Outside accounts can be added at run time, and join the site through POST /users.
    let v = t
        .admin(
            reqwest::Method::POST,
            "/accounts",
            json!({"email": "nia@elsewhere.example", "display_name": "Nia New"}),
        )
        .await;
    assert_eq!(v["member"], false);
    let id = v["account_id"].as_str().unwrap().to_string();
    let last = t.handle.accounts().pop().unwrap();
    assert_eq!(
        (last.account_id.as_str(), last.member),
        (id.as_str(), false)
    );
    t.admin(
        reqwest::Method::POST,
        "/users",
        json!({"email": "nia@elsewhere.example", "display_name": "Nia New"}),
    )
    .await;
    let nia = t
        .handle
        .accounts()
        .into_iter()
        .find(|a| a.account_id == id)
        .unwrap();
    assert!(nia.member);
}

// ---------- demo and info ----------

#[tokio::test]
async fn demo_site_info_contract() {
    let t = start_with(SimConfig::demo(1)).await;
    let v = serde_json::to_value(&t.info).unwrap();
    let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "accounts",
            "admin_url",
            "classic_token",
            "cloud_id",
            "gateway_url",
            "identity_url",
            "oauth_client",
            "scoped_tokens",
            "site_url"
        ]
    );
    for k in ["full", "read_only"] {
        let tok = &v["scoped_tokens"][k];
        assert!(tok["email"].is_string() && tok["token"].is_string() && tok["scopes"].is_array());
    }
    assert!(
        v["oauth_client"]["redirect_uris"].is_array()
            && v["oauth_client"]["client_secret"].is_string()
    );
    for tok in [
        &t.info.classic_token.token,
        &t.info.scoped_tokens.full.token,
        &t.info.scoped_tokens.read_only.token,
    ] {
        assert!(!tok.starts_with("ATATT"));
    }
    let full = &t.info.scoped_tokens.full.scopes;
    assert!(
        full.iter()
            .all(|s| s.starts_with("read:") || s.starts_with("write:") || s.starts_with("delete:"))
    );
    assert!(
        full.contains(&"write:page:confluence".to_string())
            && full.contains(&"delete:page:confluence".to_string())
    );
    assert!(
        t.info
            .scoped_tokens
            .read_only
            .scopes
            .iter()
            .all(|s| s.starts_with("read:"))
    );
    assert!(
        !full.iter().any(|s| s.contains("confluence-")),
        "classic scopes are not granular"
    );
    // The demo user reads every demo space, on both faces.
    let (s, v) = t
        .get(
            &format!("{}/wiki/api/v2/spaces?limit=250", t.site()),
            &t.classic(),
        )
        .await;
    assert_eq!(s, 200);
    let n = v["results"].as_array().unwrap().len();
    assert!(n >= 1);
    let (_, v2) = t
        .get(
            &format!("{}/wiki/api/v2/spaces?limit=250", t.gw()),
            &t.scoped_read(),
        )
        .await;
    assert_eq!(v2["results"].as_array().unwrap().len(), n);
    // The sign-in accounts: the demo user, a second member who reads every space the demo user
    // reads but her personal one, and the outsider last.
    let demo = t.info.demo_account().unwrap();
    assert_eq!(
        (&t.info.accounts[0], demo.email.as_str(), demo.member),
        (demo, conflux_sim::demo::DEMO_USER_EMAIL, true)
    );
    let second = t.info.second_member().unwrap();
    assert_eq!(&t.info.accounts[1], second);
    assert!(second.member && second.account_id != demo.account_id);
    let outsider = t.info.outsider().unwrap();
    assert_eq!(t.info.accounts.last(), Some(outsider));
    assert_eq!(
        (outsider.email.as_str(), outsider.display_name.as_str()),
        (
            conflux_sim::demo::OUTSIDER_EMAIL,
            conflux_sim::demo::OUTSIDER_NAME
        )
    );
    let keys_of = |v: &Value, global_only: bool| -> Vec<String> {
        let mut keys: Vec<String> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| !global_only || s["type"] == "global")
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect();
        keys.sort();
        keys
    };
    let token = t
        .token(json!({"kind": "classic", "email": second.email}))
        .await;
    let (_, theirs) = t
        .get(
            &format!("{}/wiki/api/v2/spaces?limit=250", t.site()),
            &Cred::Basic(second.email.clone(), token),
        )
        .await;
    assert_eq!(keys_of(&theirs, true), keys_of(&v, true));
    assert!(keys_of(&v, true).len() >= 3);
    let json = serde_json::to_string(&t.info).unwrap();
    assert_eq!(serde_json::from_str::<SimInfo>(&json).unwrap(), t.info);
    // Same seed, same credentials.
    let again = start_with(SimConfig::demo(1)).await;
    assert_eq!(again.info.classic_token.token, t.info.classic_token.token);
    assert_eq!(again.info.cloud_id, t.info.cloud_id);
    assert!(!format!("{:?}", t.info).contains(&t.info.classic_token.token));
    t.kit.handle.shutdown().await;
}

/// Dropping the handle closes every listener: a new connection to any face is refused.
#[tokio::test]
async fn stops_on_drop() {
    let t = start().await;
    let url = format!("{}/_edge/tenant_info", t.site());
    assert_eq!(t.http.get(&url).send().await.unwrap().status(), 200);
    let faces: Vec<std::net::SocketAddr> = [
        &t.info.site_url,
        &t.info.gateway_url,
        &t.info.identity_url,
        &t.info.admin_url,
    ]
    .iter()
    .map(|u| {
        reqwest::Url::parse(u)
            .unwrap()
            .socket_addrs(|| None)
            .unwrap()[0]
    })
    .collect();
    for addr in &faces {
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_ok(),
            "{addr} listens"
        );
    }
    drop(t);
    // The listeners close on the simulator's tasks, soon after the drop: wait for that.
    for addr in faces {
        wait_until(&format!("{addr} refuses connections"), || async move {
            tokio::net::TcpStream::connect(addr).await.is_err()
        })
        .await;
    }
}

/// Polls `condition` every 20 ms until it holds; fails naming `what` after 10 seconds.
async fn wait_until<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after 10 s waiting until {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[test]
fn default_behaviour_is_todays_cloud() {
    let b = Behaviour::default();
    assert!(
        b.classic_on_gateway
            && b.scope_check_first
            && b.v1_gone_on_gateway
            && b.expired_oauth_quirk
    );
    assert!(b.download_servlet_refuses_scoped && b.v2_version_conflict_409 && !b.require_pkce);
    assert_eq!(
        (b.access_token_ttl_secs, b.refresh_reuse_leeway_secs),
        (3600, 600)
    );
}

// ---------- logging ----------

#[derive(Clone, Default)]
struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every request is logged at debug level (trace for auth); no credential ever appears.
#[tokio::test]
async fn logs_never_carry_secrets() {
    let buf = logs();
    let t = start().await;
    let c = t.info.oauth_client.clone();
    let (verifier, challenge) = pkce();
    let code = authorize(&t, "read:page:confluence offline_access", Some(&challenge)).await;
    let (_, tok) = token_call(&t, json!({"grant_type": "authorization_code", "client_id": c.client_id, "client_secret": c.client_secret, "code": code, "redirect_uri": c.redirect_uris[0], "code_verifier": verifier})).await;
    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    t.get(
        &format!("{}/wiki/api/v2/pages/1002", t.gw()),
        &Cred::Bearer(access.clone()),
    )
    .await;
    t.get(
        &format!("{}/wiki/api/v2/pages/1002", t.gw()),
        &Cred::Bearer("wrong-token".into()),
    )
    .await;
    t.get(&format!("{}/wiki/api/v2/spaces", t.site()), &t.classic())
        .await;
    t.get(&format!("{}/wiki/api/v2/spaces", t.gw()), &t.scoped_full())
        .await;
    token_call(&t, json!({"grant_type": "refresh_token", "client_id": c.client_id, "client_secret": c.client_secret, "refresh_token": refresh})).await;
    let logs = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    assert!(
        logs.contains("request") && logs.contains("/wiki/api/v2/spaces"),
        "{logs}"
    );
    for secret in [
        &access,
        &refresh,
        &code,
        &c.client_secret,
        &t.info.classic_token.token,
        &t.info.scoped_tokens.full.token,
        &verifier,
    ] {
        assert!(!logs.contains(secret.as_str()), "a secret reached the logs");
    }
    assert!(!logs.to_lowercase().contains("authorization: "));
}

#[tokio::test]
async fn comments_are_edited_by_their_author_and_resolved_by_commenters() {
    let t = start().await;
    let site = t.site();
    let ada = t.classic();
    t.admin(
        reqwest::Method::POST,
        "/spaces/ENG/permissions",
        json!({"principal": "user:u-bob", "operations": ["read", "comment"]}),
    )
    .await;
    let bob = Cred::Basic(
        "bob@example.com".into(),
        t.token(json!({"kind": "classic", "email": "bob@example.com"}))
            .await,
    );
    let post = |path: &str, cred: &Cred, body: Value| {
        let url = format!("{site}/wiki/api/v2/{path}");
        let cred = cred.clone();
        let t = &t;
        async move {
            let (s, _, b) = t.send(reqwest::Method::POST, &url, &cred, Some(body)).await;
            (
                s,
                serde_json::from_str::<Value>(&b).unwrap_or(Value::String(b)),
            )
        }
    };
    let put = |path: String, cred: &Cred, body: Value| {
        let url = format!("{site}/wiki/api/v2/{path}");
        let cred = cred.clone();
        let t = &t;
        async move {
            t.send(reqwest::Method::PUT, &url, &cred, Some(body))
                .await
                .0
        }
    };
    let storage = |s: &str| json!({"representation": "storage", "value": s});
    let (s, footer) = post(
        "footer-comments",
        &ada,
        json!({"pageId": "1002", "body": storage("<p>Mine.</p>")}),
    )
    .await;
    assert_eq!(s, 201, "{footer}");
    let fid = footer["id"].as_str().unwrap();
    let edit = json!({"version": {"number": 2}, "body": storage("<p>Bob was here.</p>")});
    assert_eq!(
        put(format!("footer-comments/{fid}"), &bob, edit.clone()).await,
        403
    );
    assert_eq!(put(format!("footer-comments/{fid}"), &ada, edit).await, 200);
    let (s, inline) = post(
        "inline-comments",
        &ada,
        json!({"pageId": "1002", "body": storage("<p>Friday?</p>"),
               "inlineCommentProperties": {"textSelection": "Friday"}}),
    )
    .await;
    assert_eq!(s, 201, "{inline}");
    let iid = inline["id"].as_str().unwrap();
    let resolve =
        json!({"version": {"number": 2}, "body": storage("<p>Friday?</p>"), "resolved": true});
    assert_eq!(
        put(format!("inline-comments/{iid}"), &bob, resolve).await,
        200
    );
    let (_, got) = t
        .get(&format!("{site}/wiki/api/v2/inline-comments/{iid}"), &ada)
        .await;
    assert_eq!(got["resolutionStatus"], "resolved");
    // A reply highlights nothing; a top-level comment must.
    let (s, _) = post(
        "inline-comments",
        &ada,
        json!({"pageId": "1002", "body": storage("<p>?</p>")}),
    )
    .await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn users_bulk_takes_one_to_250_ids_and_answers_them_all() {
    let t = start().await;
    let url = format!("{}/wiki/api/v2/users-bulk", t.site());
    let c = t.classic();
    let ids = |n: usize| -> Vec<String> {
        let mut v: Vec<String> = (0..n).map(|i| format!("nobody-{i}")).collect();
        for (i, u) in ["u-ada", "u-bob", "u-cat"].iter().enumerate() {
            if let Some(slot) = v.get_mut(i * 100) {
                *slot = u.to_string();
            }
        }
        v
    };
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &url,
            &c,
            Some(json!({"accountIds": ids(250)})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let v: Value = serde_json::from_str(&b).unwrap();
    assert_eq!(v["results"].as_array().unwrap().len(), 3);
    assert!(v["_links"].get("next").is_none());
    for n in [0, 251] {
        let (s, _, _) = t
            .send(
                reqwest::Method::POST,
                &url,
                &c,
                Some(json!({"accountIds": ids(n)})),
            )
            .await;
        assert_eq!(s, 400, "{n} ids");
    }
}

#[tokio::test]
async fn blog_posts_reach_v1_and_cql_and_long_tasks_finish_when_the_switch_says() {
    let t = start_with(SimConfig::new(fixture(), 42).with_behaviour(Behaviour {
        long_task_reads_before_done: 0,
        ..Behaviour::default()
    }))
    .await;
    let (site, c) = (t.site(), t.classic());
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/api/v2/blogposts"),
            &c,
            Some(json!({"spaceId": "100", "title": "Weekly notes",
                "body": {"representation": "storage", "value": "<p>zebra crossing</p>"}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let blog: Value = serde_json::from_str(&b).unwrap();
    let id = blog["id"].as_str().unwrap();
    assert!(blog.get("parentId").is_none() && blog.get("position").is_none());
    let (s, listed) = t
        .get(
            &format!("{site}/wiki/rest/api/content?type=blogpost&spaceKey=ENG"),
            &c,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(listed["results"][0]["id"], id);
    assert_eq!(listed["results"][0]["type"], "blogpost");
    let (_, found) = t
        .get(
            &format!("{site}/wiki/rest/api/search?cql=type%3Dblogpost%20and%20text~zebra"),
            &c,
        )
        .await;
    assert_eq!(found["totalSize"], 1, "{found}");
    // The same id is no page.
    let (s, _) = t.get(&format!("{site}/wiki/api/v2/pages/{id}"), &c).await;
    assert_eq!(s, 404);
    // A hierarchy copy's task is finished at its first read with the switch at 0.
    let (s, _, b) = t
        .send(
            reqwest::Method::POST,
            &format!("{site}/wiki/rest/api/content/1002/pagehierarchy/copy"),
            &c,
            Some(json!({"destinationPageId": "2001"})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let task: Value = serde_json::from_str(&b).unwrap();
    let (_, status) = t
        .get(
            &format!(
                "{site}/wiki/rest/api/longtask/{}",
                task["id"].as_str().unwrap()
            ),
            &c,
        )
        .await;
    assert_eq!(status["finished"], true, "{status}");
    let copied = status["additionalDetails"]["destinationId"]
        .as_str()
        .unwrap();
    let (_, page) = t
        .get(&format!("{site}/wiki/api/v2/pages/{copied}"), &c)
        .await;
    assert_eq!(
        (page["spaceId"].as_str(), page["title"].as_str()),
        (Some("200"), Some("Release notes"))
    );
}
