//! The maintainer's view, behind the admin token: sign-in (throttled; a server-side session
//! that expires and ends at sign-out), the auth mode, the app, the scopes, the tenant's site,
//! the shared credential, the clients and agents allowed to call, agent keys, connections.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use conflux_authz::ClientAddress;
use conflux_catalog::ScopeSet;
use conflux_store::{AgentId, AppSettings, AuthMode, Subject};
use conflux_types::{CloudId, Secret, SiteUrl};

use super::user::key_page;
use super::{
    Browser, Form, Shared, State, end_session, message_page, posted, scope_list, see_other,
    start_session, visible, when,
};
use crate::html::{csrf_field, esc, layout, page};
use crate::provider::Deployment;
use crate::session::{ADMIN_COOKIE, token_matches};

/// Scopes an override may name besides Confluence's own.
const EXTRA_SCOPES: [&str; 3] = ["offline_access", "read:me", "read:account"];

pub(crate) async fn view(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let saved = q.as_deref().is_some_and(|q| q.contains("done=saved"));
    let next = q.as_deref().is_some_and(|q| q.contains("next=consent"));
    let r = admin_page(
        &state,
        &b,
        if saved { Some(Ok("Saved.")) } else { None },
        next,
    )
    .await;
    b.finish(&state, r)
}

async fn admin_page(
    state: &State,
    b: &Browser,
    note: Option<Result<&str, &str>>,
    next_consent: bool,
) -> Response {
    let csrf = csrf_field(&b.csrf(state));
    if state.admin_token.is_none() {
        return page(
            StatusCode::NOT_FOUND,
            layout(
                "Maintainer view",
                "<p>The maintainer view is disabled: start the server with an admin token \
                 (<code>CONFLUX_ADMIN_TOKEN</code>, at least 32 characters) to enable it.</p>",
            ),
        );
    }
    if b.maintainer.is_none() {
        let status = match note {
            Some(Err(_)) => StatusCode::UNAUTHORIZED,
            _ => StatusCode::OK,
        };
        let note = match note {
            Some(Err(e)) => format!("<p class=\"err\" id=\"note\">{}</p>", esc(e)),
            _ => String::new(),
        };
        let next = if next_consent {
            "<input type=\"hidden\" name=\"next\" value=\"consent\">\
             <p>An MCP client is waiting for the maintainer's approval: sign in to answer it.</p>"
        } else {
            ""
        };
        return page(
            status,
            layout(
                "Maintainer sign-in",
                &format!(
                    "{note}<form method=\"post\" action=\"{action}\">{csrf}{next}\
                     <label>Admin token <input type=\"password\" name=\"token\" required autocomplete=\"current-password\"></label>\
                     <button type=\"submit\" id=\"login\">Sign in</button></form>",
                    action = esc(&state.path("/admin/login")),
                ),
            ),
        );
    }
    let d = &state.deployment;
    let settings = match d.settings().await {
        Ok(s) => s,
        Err(e) => {
            return message_page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Store failure",
                &e.to_string(),
                "/admin",
            );
        }
    };
    let status = if matches!(note, Some(Err(_))) {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let note = match note {
        Some(Ok(m)) => format!("<p class=\"ok\" id=\"note\">{}</p>", esc(m)),
        Some(Err(e)) => format!("<p class=\"err\" id=\"note\">{}</p>", esc(e)),
        None => String::new(),
    };
    let body = format!(
        "{note}{settings}{agents}{keys}{connections}\
         <form method=\"post\" action=\"{logout}\">{csrf}<button type=\"submit\" id=\"logout\">Sign out</button></form>",
        settings = settings_section(state, &settings, &csrf),
        agents = agents_section(state, d, &settings, &csrf).await,
        keys = keys_section(state, d, &csrf).await,
        connections = connections_section(state, d, &settings).await,
        logout = esc(&state.path("/admin/logout")),
    );
    page(status, layout("Maintainer view", &body))
}

fn settings_section(state: &State, settings: &AppSettings, csrf: &str) -> String {
    let set = |present: bool| if present { "set" } else { "not set" };
    let modes: String = AuthMode::ALL
        .iter()
        .map(|m| {
            let what = match m {
                AuthMode::OAuthCentral => "each person signs in with Atlassian through the platform's OAuth app",
                AuthMode::OAuth => "each person signs in with Atlassian through this workspace's own OAuth app (client id and secret below)",
                AuthMode::ApiToken => "one Atlassian account's API token for everyone",
                AuthMode::AccessToken => "one caller-managed access token for everyone",
            };
            format!(
                "<label><input type=\"radio\" name=\"auth_mode\" value=\"{v}\"{c}> <code>{v}</code>: {what}</label>",
                v = m.as_str(),
                c = if *m == settings.auth_mode { " checked" } else { "" },
            )
        })
        .collect();
    let central = match &state.central_client_id {
        Some(id) => format!(
            "The platform's app (from the server's settings): client id <code>{}</code>.",
            esc(id)
        ),
        None => "No platform app is provisioned in the server's settings: use <code>oauth</code> \
                 with this workspace's own app."
            .into(),
    };
    format!(
        "<h2>Callback URL</h2><p>Register exactly this URL with the OAuth app in Atlassian's \
         developer console: <code id=\"callback\">{callback}</code></p>\
         <h2>Sign-in</h2>\
         <form method=\"post\" action=\"{action}\">{csrf}\
         <fieldset><legend>Auth mode</legend>{modes}<p class=\"note\">{central}</p></fieldset>\
         <fieldset><legend>The Confluence site</legend>\
         <label>Site URL <input type=\"text\" name=\"site_url\" value=\"{site_url}\" placeholder=\"https://your-site.atlassian.net\"></label>\
         <label>cloudId (blank: read from the site) <input type=\"text\" name=\"cloud_id\" value=\"{cloud_id}\"></label>\
         <p class=\"note\">In the OAuth modes only people whose Atlassian sign-in covers this site \
         may sign in.</p></fieldset>\
         <fieldset><legend>This workspace's OAuth app (<code>oauth</code>)</legend>\
         <label>Client id <input type=\"text\" name=\"client_id\" value=\"{client_id}\"></label>\
         <label>Client secret (<span id=\"secret-state\">{secret_state}</span>; leave blank to keep) \
         <input type=\"password\" name=\"client_secret\" autocomplete=\"off\"></label>\
         <label><input type=\"checkbox\" name=\"clear_client_secret\"> forget the stored secret</label>\
         <label>Scopes to request (blank: what the enabled tools need) \
         <textarea name=\"scopes\" rows=\"3\">{scopes}</textarea></label>\
         <p class=\"note\">The enabled tools need: {default_scopes}. Sign-in also asks for \
         <code>{sign_in}</code> when the scopes chosen do not cover reading who signed in.</p></fieldset>\
         <fieldset><legend>Shared credential (<code>apiToken</code>, <code>accessToken</code>)</legend>\
         <label>Account email (<code>apiToken</code>) <input type=\"text\" name=\"api_email\" value=\"{api_email}\"></label>\
         <label>API or access token (<span id=\"token-state\">{token_state}</span>; leave blank to keep) \
         <input type=\"password\" name=\"api_token\" autocomplete=\"off\"></label>\
         <label><input type=\"checkbox\" name=\"clear_api_token\"> forget the stored token</label>\
         <p class=\"note\">When none is set here, the server's own settings (CONFLUENCE_*) are used.</p></fieldset>\
         <button type=\"submit\" id=\"save-settings\">Save</button></form>",
        callback = esc(&format!("{}/callback", state.public_url)),
        action = esc(&state.path("/admin/settings")),
        site_url = esc(settings.site_url.as_deref().unwrap_or("")),
        cloud_id = esc(&settings.cloud_id.map(|c| c.to_string()).unwrap_or_default()),
        client_id = esc(settings.client_id.as_deref().unwrap_or("")),
        secret_state = set(settings
            .client_secret
            .as_ref()
            .is_some_and(|s| !s.is_empty())),
        scopes = esc(settings.scopes.as_deref().unwrap_or("")),
        default_scopes = scope_list(&state.needed.names()),
        sign_in = conflux_oauth::SIGN_IN_SCOPE,
        api_email = esc(settings.api_email.as_deref().unwrap_or("")),
        token_state = set(settings.api_token.as_ref().is_some_and(|s| !s.is_empty())),
    )
}

/// One row of the agents table: an id the allowlist may hold, and what is known of it.
#[derive(Default)]
struct AgentRow {
    allowed: bool,
    label: Option<String>,
    refused: Option<std::time::SystemTime>,
    known_client: bool,
}

async fn agents_section(
    state: &State,
    d: &Deployment,
    settings: &AppSettings,
    csrf: &str,
) -> String {
    let mut rows: BTreeMap<String, AgentRow> = BTreeMap::new();
    for a in d.store.allowed_agents(&d.tenant).await.unwrap_or_default() {
        let row = rows.entry(a.agent.as_str().to_string()).or_default();
        row.allowed = true;
        row.label = row.label.take().or(a.label);
    }
    for c in d.authz.clients().await.unwrap_or_default() {
        let row = rows.entry(c.id.clone()).or_default();
        row.known_client = true;
        row.label = Some(c.label());
    }
    for r in d.store.refusals(&d.tenant).await.unwrap_or_default() {
        let row = rows.entry(r.agent_id.clone()).or_default();
        row.refused = Some(r.last_at);
        if row.label.is_none() {
            row.label = r.label;
        }
    }
    let mut agent_rows = String::new();
    for (id, row) in &rows {
        agent_rows.push_str(&format!(
            "<tr class=\"agent\"><td><input type=\"checkbox\" name=\"agent\" value=\"{value}\"{checked}></td>\
             <td><code>{id}</code><br><span class=\"note\">{label}</span></td><td>{refused}</td></tr>",
            value = esc(id),
            checked = if row.allowed { " checked" } else { "" },
            id = esc(&visible(id)),
            label = esc(&visible(row.label.as_deref().unwrap_or(if row.known_client {
                "(no name given)"
            } else {
                ""
            }))),
            refused = row
                .refused
                .map(|t| format!("refused {}", when(Some(t))))
                .unwrap_or_default(),
        ));
    }
    if agent_rows.is_empty() {
        agent_rows
            .push_str("<tr><td colspan=\"3\" class=\"note\">No client has asked yet.</td></tr>");
    }
    format!(
        "<h2>Clients and agents</h2>\
         <p class=\"note\">Every MCP client that authenticated (by OAuth or an access key) is \
         listed; tick those allowed to call. Names come from the clients themselves and are not \
         verified: characters outside plain ASCII are shown as code points.</p>\
         <form method=\"post\" action=\"{action}\">{csrf}\
         <label><input type=\"checkbox\" name=\"allow_all\"{allow_all}> allow every authenticated client, listed or not</label>\
         <table id=\"agents\"><tr><th>Allowed</th><th>Client or agent</th><th></th></tr>{agent_rows}</table>\
         <label>Add an agent id a platform names (platform mode) <input type=\"text\" name=\"new_agent\"></label>\
         <label>Label (optional) <input type=\"text\" name=\"new_label\"></label>\
         <button type=\"submit\" id=\"save-agents\">Save agents</button></form>",
        action = esc(&state.path("/admin/agents")),
        allow_all = if settings.allow_all_agents {
            " checked"
        } else {
            ""
        },
    )
}

async fn keys_section(state: &State, d: &Deployment, csrf: &str) -> String {
    let keys = d
        .authz
        .keys_of(&Subject::Maintainer)
        .await
        .unwrap_or_default();
    let rows: String = keys
        .iter()
        .map(|k| {
            format!(
                "<tr><td>{name}</td><td><code>key:{id}</code></td><td>{access}</td><td>{used}</td>\
                 <td><form class=\"inline\" method=\"post\" action=\"{revoke}\">{csrf}\
                 <input type=\"hidden\" name=\"key\" value=\"{id}\"><button type=\"submit\">Revoke</button></form></td></tr>",
                name = esc(&k.name),
                id = esc(&k.id),
                access = if k.read_only { "read-only" } else { "read and write" },
                used = when(k.last_used_at),
                revoke = esc(&state.path("/admin/keys/revoke")),
            )
        })
        .collect();
    format!(
        "<h2>Agent keys</h2><p class=\"note\">Keys for agents that cannot do OAuth, acting with \
         this connector's shared credential (the token modes). Each is allowed as it is made.</p>\
         <table id=\"agent-keys\"><tr><th>Name</th><th>Agent id</th><th>Access</th><th>Last used</th><th></th></tr>{rows}</table>\
         <form method=\"post\" action=\"{create}\">{csrf}\
         <label>Name <input type=\"text\" name=\"name\" required maxlength=\"80\"></label>\
         <label><input type=\"checkbox\" name=\"read_only\"> read-only</label>\
         <button type=\"submit\" id=\"create-agent-key\">Create agent key</button></form>",
        create = esc(&state.path("/admin/keys")),
    )
}

async fn connections_section(state: &State, d: &Deployment, settings: &AppSettings) -> String {
    let connections = d
        .store
        .list_connections(&d.tenant)
        .await
        .unwrap_or_default();
    let intended = state.intended(settings);
    let rows: String = connections
        .iter()
        .map(|c| {
            let missing = intended.difference(c.scopes());
            format!(
                "<tr><td>{name}<br><span class=\"note\"><code>{account}</code></span></td><td>{site}</td><td>{scopes}</td></tr>",
                name = esc(c.display_name.as_deref().unwrap_or("(no name)")),
                account = esc(c.key.user.as_str()),
                site = esc(&c.site.name),
                scopes = if missing.is_empty() {
                    "cover every enabled tool".to_string()
                } else {
                    format!("missing {}", scope_list(&missing.names()))
                },
            )
        })
        .collect();
    format!(
        "<h2>Connections</h2><table id=\"connections\"><tr><th>Person</th><th>Site</th><th>Scopes</th></tr>{rows}</table>"
    )
}

/// Whether the maintainer is signed in; otherwise the response to send.
fn require_admin(state: &State, b: &Browser) -> Result<(), Response> {
    if state.admin_token.is_some() && b.maintainer.is_some() {
        Ok(())
    } else {
        Err(message_page(
            state,
            StatusCode::UNAUTHORIZED,
            "Maintainer sign-in required",
            "Sign in with the admin token first.",
            "/admin",
        ))
    }
}

/// Maintainer sign-in: throttled per address and globally, then a fresh server-side session.
pub(crate) async fn login(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(expected) = &state.admin_token else {
        return admin_page(&state, &b, None, false).await;
    };
    if let Some(wait) = state.throttle.wait(&b.address.0) {
        tracing::warn!("maintainer sign-in refused: throttled");
        let mut r = message_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            &format!(
                "Too many wrong admin tokens lately. Wait {} s before trying again.",
                wait.as_secs().max(1)
            ),
            "/admin",
        );
        if let Ok(v) = header::HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return r;
    }
    let given = form.get("token").unwrap_or("");
    if !token_matches(given, expected.expose()) {
        state.throttle.failed(&b.address.0);
        tracing::warn!("maintainer sign-in refused: wrong admin token");
        return admin_page(
            &state,
            &b,
            Some(Err("That admin token is not the right one.")),
            form.get("next") == Some("consent"),
        )
        .await;
    }
    state.throttle.succeeded(&b.address.0);
    let (_, cookie) = match start_session(&state, Subject::Maintainer, None).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(old) = &b.maintainer {
        end_session(&state, old).await;
    }
    let next = if form.get("next") == Some("consent") {
        state.path("/admin/consent")
    } else {
        state.path("/admin")
    };
    let mut r = see_other(&next);
    r.headers_mut().append(header::SET_COOKIE, cookie);
    r
}

/// Sign-out ends the session on the server: the cookie stops working everywhere.
pub(crate) async fn logout(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, _) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(m) = &b.maintainer {
        end_session(&state, m).await;
    }
    let mut r = see_other(&state.path("/admin"));
    if let Some(v) = state
        .signer
        .clear_cookie(ADMIN_COOKIE, "Lax", &state.cookie_path("/admin"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Applies the settings form to `s`, or says what is wrong. The cloudId is resolved
/// separately (it may need the network).
fn apply_settings(form: &Form, s: &mut AppSettings) -> Result<(), String> {
    if let Some(mode) = form.text("auth_mode") {
        s.auth_mode = AuthMode::parse(&mode).map_err(|e| e.to_string())?;
    }
    s.client_id = form.text("client_id");
    if form.checked("clear_client_secret") {
        s.client_secret = None;
    } else if let Some(secret) = form.text("client_secret") {
        s.client_secret = Some(Secret::new(secret));
    }
    s.scopes = match form.text("scopes") {
        None => None,
        Some(text) => {
            let (_, unknown) = ScopeSet::parse_lenient(&text);
            let bad: Vec<String> = unknown
                .into_iter()
                .filter(|u| !EXTRA_SCOPES.contains(&u.as_str()))
                .collect();
            if !bad.is_empty() {
                return Err(format!(
                    "These scopes are not Confluence scopes Atlassian defines: {}",
                    bad.join(", ")
                ));
            }
            Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
        }
    };
    let site_changed = form.text("site_url") != s.site_url;
    s.site_url = match form.text("site_url") {
        None => None,
        Some(u) => {
            SiteUrl::parse(&u).map_err(|e| format!("The site URL is not valid: {e}"))?;
            Some(u)
        }
    };
    s.cloud_id = match form.text("cloud_id") {
        Some(c) => Some(
            c.parse::<CloudId>()
                .map_err(|_| "The cloudId is not a UUID.".to_string())?,
        ),
        // A new site's cloudId is read from it; an unchanged site keeps the known one.
        None if site_changed => None,
        None => s.cloud_id,
    };
    if s.site_url.is_none() {
        s.cloud_id = form.text("cloud_id").and_then(|c| c.parse().ok());
    }
    s.api_email = form.text("api_email");
    if form.checked("clear_api_token") {
        s.api_token = None;
    } else if let Some(t) = form.text("api_token") {
        s.api_token = Some(Secret::new(t));
    }
    if s.auth_mode == AuthMode::OAuth
        && (s.client_id.is_none() || s.client_secret.as_ref().is_none_or(|x| x.is_empty()))
    {
        return Err("The oauth mode needs this workspace's client id and secret.".into());
    }
    Ok(())
}

pub(crate) async fn settings(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    let d = &state.deployment;
    let mut settings = match d.settings().await {
        Ok(s) => s,
        Err(e) => return admin_page(&state, &b, Some(Err(&e.to_string())), false).await,
    };
    if let Err(e) = apply_settings(&form, &mut settings) {
        return admin_page(&state, &b, Some(Err(&e)), false).await;
    }
    if settings.cloud_id.is_none()
        && let Some(site) = settings
            .site_url
            .as_deref()
            .and_then(|u| SiteUrl::parse(u).ok())
    {
        match conflux_client::site_cloud_id(&site, &d.client).await {
            Ok(id) => settings.cloud_id = Some(id),
            Err(e) => {
                let message = format!(
                    "The site's cloudId could not be read from {site}/_edge/tenant_info ({e}); \
                     enter it by hand."
                );
                return admin_page(&state, &b, Some(Err(&message)), false).await;
            }
        }
    }
    match d.save_settings(&settings).await {
        Ok(()) => {
            tracing::info!(mode = settings.auth_mode.as_str(), "settings saved");
            see_other(&state.path("/admin?done=saved"))
        }
        Err(e) => admin_page(&state, &b, Some(Err(&e.to_string())), false).await,
    }
}

pub(crate) async fn agents(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    match save_agents(&state.deployment, &form).await {
        Ok(()) => see_other(&state.path("/admin?done=saved")),
        Err(e) => admin_page(&state, &b, Some(Err(&e)), false).await,
    }
}

async fn save_agents(d: &Deployment, form: &Form) -> Result<(), String> {
    let text = |e: conflux_store::StoreError| e.to_string();
    let mut ticked: std::collections::BTreeSet<String> = form
        .all("agent")
        .into_iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    let new_label = form.text("new_label");
    let new_agent = form.text("new_agent");
    let mut to_add: Vec<(AgentId, Option<String>)> = Vec::new();
    if let Some(a) = &new_agent {
        let id = AgentId::new(a.clone()).map_err(|e| e.to_string())?;
        to_add.push((id, new_label));
        ticked.remove(a);
    }
    let listed = d.store.allowed_agents(&d.tenant).await.map_err(text)?;
    for a in &listed {
        if !ticked.contains(a.agent.as_str()) && new_agent.as_deref() != Some(a.agent.as_str()) {
            d.store
                .disallow_agent(&d.tenant, &a.agent)
                .await
                .map_err(text)?;
        }
    }
    for t in &ticked {
        if !listed.iter().any(|a| a.agent.as_str() == t) {
            let id = AgentId::new(t.clone()).map_err(|e| e.to_string())?;
            to_add.push((id, None));
        }
    }
    for (id, label) in to_add {
        d.store
            .allow_agent(&d.tenant, &id, label.as_deref())
            .await
            .map_err(text)?;
        d.store
            .forget_refusal(&d.tenant, id.as_str())
            .await
            .map_err(text)?;
    }
    let allow_all = form.checked("allow_all");
    let mut settings = d.settings().await.map_err(text)?;
    if settings.allow_all_agents != allow_all || settings.updated_at.is_none() {
        settings.allow_all_agents = allow_all;
        d.save_settings(&settings).await.map_err(text)?;
    }
    tracing::info!(allow_all, "allowlist saved");
    Ok(())
}

/// An agent key: acts with the shared credential, allowed as it is made.
pub(crate) async fn create_key(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    let d = &state.deployment;
    let name = form.text("name").unwrap_or_default();
    let (key, secret) = match d
        .authz
        .create_key(Subject::Maintainer, None, &name, form.checked("read_only"))
        .await
    {
        Ok(v) => v,
        Err(e) => return admin_page(&state, &b, Some(Err(&e.to_string())), false).await,
    };
    let agent = format!("key:{}", key.id);
    let allowed = match AgentId::new(agent) {
        Ok(id) => d.store.allow_agent(&d.tenant, &id, Some(&key.name)).await,
        Err(e) => Err(e),
    };
    if let Err(e) = allowed {
        return admin_page(&state, &b, Some(Err(&e.to_string())), false).await;
    }
    key_page(&state, &key.name, &key.id, secret.expose(), "/admin")
}

pub(crate) async fn revoke_key(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    let d = &state.deployment;
    let id = form.text("key").unwrap_or_default();
    match d.authz.revoke_key(&Subject::Maintainer, &id).await {
        Ok(_) => {
            if let Ok(agent) = AgentId::new(format!("key:{id}")) {
                let _ = d.store.disallow_agent(&d.tenant, &agent).await;
            }
            see_other(&state.path("/admin?done=saved"))
        }
        Err(e) => admin_page(&state, &b, Some(Err(&e.to_string())), false).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Form {
        Form(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn settings_keep_secrets_unless_replaced_or_cleared() {
        let mut s = AppSettings {
            client_secret: Some(Secret::new("old".into())),
            ..AppSettings::default()
        };
        apply_settings(
            &form(&[
                ("auth_mode", "oauth"),
                ("client_id", "cid"),
                ("client_secret", ""),
            ]),
            &mut s,
        )
        .unwrap();
        assert_eq!(s.client_secret.as_ref().unwrap().expose(), "old");
        assert_eq!(s.auth_mode, AuthMode::OAuth);
        apply_settings(
            &form(&[
                ("auth_mode", "oauth"),
                ("client_id", "cid"),
                ("client_secret", "new"),
            ]),
            &mut s,
        )
        .unwrap();
        assert_eq!(s.client_secret.as_ref().unwrap().expose(), "new");
        let e = apply_settings(
            &form(&[
                ("auth_mode", "oauth"),
                ("client_id", "cid"),
                ("clear_client_secret", "on"),
            ]),
            &mut s,
        )
        .unwrap_err();
        assert!(e.contains("client id and secret"), "{e}");
    }

    #[test]
    fn settings_refuse_unknown_scopes_modes_sites_and_cloud_ids() {
        let mut s = AppSettings::default();
        let e = apply_settings(
            &form(&[("scopes", "read:page:confluence read:jira-work")]),
            &mut s,
        )
        .unwrap_err();
        assert!(e.contains("read:jira-work"), "{e}");
        apply_settings(
            &form(&[("scopes", " read:page:confluence\noffline_access ")]),
            &mut s,
        )
        .unwrap();
        assert_eq!(
            s.scopes.as_deref(),
            Some("read:page:confluence offline_access")
        );
        assert!(apply_settings(&form(&[("auth_mode", "basic")]), &mut s).is_err());
        assert!(apply_settings(&form(&[("site_url", "not a url")]), &mut s).is_err());
        assert!(apply_settings(&form(&[("cloud_id", "not-a-uuid")]), &mut s).is_err());
    }

    #[test]
    fn a_new_site_forgets_the_old_cloud_id() {
        let id = "9f2c1c4e-1b8a-4c71-9b3e-5d1d2f0e7a11";
        let mut s = AppSettings::default();
        apply_settings(
            &form(&[("site_url", "https://a.atlassian.net"), ("cloud_id", id)]),
            &mut s,
        )
        .unwrap();
        assert_eq!(s.cloud_id.map(|c| c.to_string()).as_deref(), Some(id));
        apply_settings(&form(&[("site_url", "https://a.atlassian.net")]), &mut s).unwrap();
        assert!(s.cloud_id.is_some(), "same site keeps its cloudId");
        apply_settings(&form(&[("site_url", "https://b.atlassian.net")]), &mut s).unwrap();
        assert!(s.cloud_id.is_none(), "a new site is read again");
    }
}
