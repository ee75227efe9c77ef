//! The audit report against the demo site: golden Markdown, and what a read-only scoped token
//! can and cannot read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use conflux_client::{Client, ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_sim::SimInfo;
use conflux_testkit::Sim;
use conflux_types::{BaseUrl, Secret, SiteUrl};

async fn client(info: &SimInfo, email: &str, token: &str) -> Client {
    let config = ClientConfig {
        endpoints: Endpoints {
            gateway: BaseUrl::parse(&info.gateway_url).unwrap(),
            identity: BaseUrl::parse(&info.identity_url).unwrap(),
        },
        ..ClientConfig::default()
    };
    Client::connect(
        CredentialConfig::ApiToken {
            email: email.into(),
            token: Secret::new(token.into()),
            site: Some(SiteUrl::parse(&info.site_url).unwrap()),
            cloud_id: None,
            kind: TokenKindHint::Detect,
            scopes: None,
        },
        config,
    )
    .await
    .unwrap()
}

fn redact(info: &SimInfo, s: &str) -> String {
    s.replace(&info.site_url, "{site}")
        .replace(&info.gateway_url, "{gateway}")
        .replace(&info.cloud_id, "{cloudId}")
}

#[tokio::test]
async fn audit_of_the_demo_site() {
    let sim = Sim::demo(5).await;
    let info = &sim.info;
    let classic = client(info, &info.classic_token.email, &info.classic_token.token).await;
    let report = conflux_audit::audit(&classic).await;
    assert!(report.gaps.is_empty(), "{:#?}", report.gaps);
    let ops = report.spaces.iter().find(|s| s.key == "OPS").unwrap();
    assert!(
        ops.anonymous_read,
        "OPS is open to anonymous readers in the demo site"
    );
    assert!(!ops.guests.is_empty(), "OPS has a guest");
    assert!(
        report
            .spaces
            .iter()
            .filter(|s| s.key != "OPS")
            .all(|s| !s.anonymous_read)
    );
    let hr = report.spaces.iter().find(|s| s.key == "HR").unwrap();
    assert!(hr.administrators.iter().any(|a| a == "group hr-admins"));
    assert!(
        report
            .groups
            .iter()
            .any(|g| g.name == "engineering" && !g.members.is_empty())
    );
    assert_eq!(report.not_covered.len(), 5);
    insta::assert_snapshot!(
        "demo_site_markdown",
        redact(info, &conflux_audit::render_markdown(&report))
    );
    let json = serde_json::to_value(&report).unwrap();
    assert!(json["spaces"].as_array().unwrap().len() >= 4);
    assert!(
        json["not_covered"][0]["item"]
            .as_str()
            .unwrap()
            .starts_with("Site permissions")
    );

    // Through the gateway with read scopes but no group scope: groups are a gap with the fix,
    // the rest of the report still runs.
    let token = sim
        .token(
            serde_json::json!({"kind": "scoped", "email": info.classic_token.email,
            "scopes": ["read:space:confluence", "read:content-details:confluence"]}),
        )
        .await;
    let scoped = client(info, &info.classic_token.email, &token).await;
    let report = conflux_audit::audit(&scoped).await;
    assert!(!report.spaces.is_empty());
    let groups_gap = report
        .gaps
        .iter()
        .find(|g| g.section == "groups")
        .expect("groups are a gap");
    assert!(
        groups_gap.error.contains("read:group:confluence"),
        "{}",
        groups_gap.error
    );
}
