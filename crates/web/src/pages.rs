//! The user view (`/`), the OAuth callback, and the maintainer view (`/admin`).

// Guards return the page to send instead; it is built once per refused request.
#![allow(clippy::result_large_err)]

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxumState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use conflux_catalog::ScopeSet;
use conflux_oauth::{Callback, Completion, OAuthError};
use conflux_store::{AgentId, AppSettings, AuthMode, ConnectionKey, Site, UserId};
use conflux_types::{CloudId, Secret};

use crate::html::{csrf_field, esc, layout, page};
use crate::provider::Deployment;
use crate::session::{
    ADMIN_COOKIE, SESSION_COOKIE, Signer, USER_COOKIE, cookies, new_session_id, token_matches,
    valid_session_id,
};

/// Scopes an override may name besides Confluence's own.
const EXTRA_SCOPES: [&str; 3] = ["offline_access", "read:me", "read:account"];

pub(crate) struct State {
    pub(crate) deployment: Arc<Deployment>,
    pub(crate) signer: Signer,
    pub(crate) public_url: String,
    pub(crate) admin_token: Option<Secret>,
    pub(crate) tools: Vec<String>,
    /// What the enabled tools need.
    pub(crate) needed: ScopeSet,
    pub(crate) central_client_id: Option<String>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Web")
            .field("public_url", &self.public_url)
            .field("deployment", &self.deployment)
            .field("admin_view", &self.admin_token.is_some())
            .finish_non_exhaustive()
    }
}

impl State {
    /// The path prefix of the public URL (empty at the root), for links and form actions.
    fn prefix(&self) -> &str {
        let after_scheme = self
            .public_url
            .split_once("://")
            .map_or("", |(_, rest)| rest);
        after_scheme.find('/').map_or("", |i| &after_scheme[i..])
    }

    fn path(&self, p: &str) -> String {
        format!("{}{p}", self.prefix())
    }
}

type Shared = AxumState<Arc<State>>;

pub(crate) fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new()
        .route("/", get(user_view))
        .route("/user", post(set_user))
        .route("/user/forget", post(forget_user))
        .route("/connect", post(connect))
        .route("/disconnect", post(disconnect))
        .route("/callback", get(callback))
        .route("/choose-site", post(choose_site))
        .route("/admin", get(admin_view))
        .route("/admin/login", post(admin_login))
        .route("/admin/logout", post(admin_logout))
        .route("/admin/settings", post(admin_settings))
        .route("/admin/agents", post(admin_agents))
        .with_state(state)
}

/// The browser behind a request: its session (new when it sent none), the user it named and
/// whether the maintainer is logged in.
struct Browser {
    session: String,
    new: bool,
    user: Option<String>,
    admin: bool,
}

impl Browser {
    fn of(state: &State, headers: &HeaderMap) -> Browser {
        let jar = cookies(headers);
        let existing = jar
            .get(SESSION_COOKIE)
            .filter(|s| valid_session_id(s))
            .cloned();
        let new = existing.is_none();
        let session = existing.unwrap_or_else(new_session_id);
        let user = jar
            .get(USER_COOKIE)
            .and_then(|v| state.signer.user_from_cookie(&session, v));
        let admin = match (&state.admin_token, jar.get(ADMIN_COOKIE)) {
            (Some(token), Some(v)) => state.signer.check_admin(&session, token.expose(), v),
            _ => false,
        };
        Browser {
            session,
            new,
            user,
            admin,
        }
    }

    fn csrf(&self, state: &State) -> String {
        state.signer.csrf(&self.session)
    }

    fn secret(&self) -> Secret {
        Secret::new(self.session.clone())
    }

    /// Sets the session cookie on `r` when the browser had none.
    fn finish(&self, state: &State, mut r: Response) -> Response {
        if self.new
            && let Some(v) = state.signer.set_cookie(
                SESSION_COOKIE,
                &self.session,
                "Lax",
                &cookie_path(state),
                None,
            )
        {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }
}

fn cookie_path(state: &State) -> String {
    let p = state.prefix();
    if p.is_empty() { "/".into() } else { p.into() }
}

fn see_other(location: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// A page with a message and a link back.
fn message_page(
    state: &State,
    status: StatusCode,
    title: &str,
    text: &str,
    back: &str,
) -> Response {
    page(
        status,
        layout(
            title,
            &format!(
                "<p class=\"err\">{}</p><p><a href=\"{}\">Back</a></p>",
                esc(text),
                esc(&state.path(back))
            ),
        ),
    )
}

/// The fields of a url-encoded form, in order (repeated names kept).
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &Bytes) -> Form {
        Form(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A trimmed, non-empty field.
    fn text(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    }

    fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Every POST: the browser's session must exist and the form must carry its CSRF token.
fn check_post(state: &State, b: &Browser, form: &Form) -> Result<(), Response> {
    let ok = !b.new
        && form
            .get("csrf")
            .is_some_and(|t| state.signer.check_csrf(&b.session, t));
    if ok {
        return Ok(());
    }
    tracing::warn!("form refused: missing or wrong CSRF token");
    Err(message_page(
        state,
        StatusCode::FORBIDDEN,
        "Request refused",
        "This form was not sent from this page in this browser session (the CSRF token is \
         missing or wrong), so nothing was changed. Reload the page and try again.",
        "/",
    ))
}

// ---------------------------------------------------------------- user view

async fn user_view(
    AxumState(state): Shared,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers);
    let flash = match q.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v.into_owned())
    }) {
        Some(d) if d == "connected" => "<p class=\"ok\">Connected.</p>",
        Some(d) if d == "disconnected" => "<p class=\"ok\">Disconnected.</p>",
        _ => "",
    };
    let csrf = csrf_field(&b.csrf(&state));
    let body = match &b.user {
        None => format!(
            "{flash}<p>Name the user you connect for: the id your agents send as \
             <code>X-Conflux-User-Id</code> (or <code>_meta.user_id</code>).</p>\
             <form method=\"post\" action=\"{action}\">{csrf}\
             <label>User id <input type=\"text\" name=\"user_id\" required autocomplete=\"username\"></label>\
             <button type=\"submit\">Continue</button></form>",
            action = esc(&state.path("/user")),
        ),
        Some(user) => {
            let status = user_status(&state, user, &csrf).await;
            format!(
                "{flash}<p>User <b id=\"user\">{u}</b> \
                 <form class=\"inline\" method=\"post\" action=\"{forget}\">{csrf}\
                 <button type=\"submit\">Switch user</button></form></p>{status}",
                u = esc(user),
                forget = esc(&state.path("/user/forget")),
            )
        }
    };
    b.finish(
        &state,
        page(StatusCode::OK, layout("Confluence connection", &body)),
    )
}

/// The connection part of the user view.
async fn user_status(state: &State, user: &str, csrf: &str) -> String {
    let d = &state.deployment;
    let settings = match d.settings().await {
        Ok(s) => s,
        Err(e) => {
            return format!(
                "<p class=\"err\">The connection store failed: {}</p>",
                esc(&e.to_string())
            );
        }
    };
    match settings.auth_mode {
        AuthMode::ApiToken | AuthMode::AccessToken => {
            return format!(
                "<p id=\"status\">This connector signs in to Confluence with a shared {} set by its \
                 maintainer: there is nothing to connect.</p>",
                if settings.auth_mode == AuthMode::ApiToken {
                    "API token"
                } else {
                    "access token"
                }
            );
        }
        AuthMode::OAuthCentral | AuthMode::OAuth => {}
    }
    let key = match UserId::new(user) {
        Ok(u) => ConnectionKey::new(d.tenant.clone(), u),
        Err(e) => return format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    };
    let connect = esc(&state.path("/connect"));
    let disconnect = esc(&state.path("/disconnect"));
    match d.flow.status(&key).await {
        Ok(Some(c)) => {
            let granted = c.scopes();
            let missing = state.needed.difference(granted);
            let coverage = if missing.is_empty() {
                "<p id=\"coverage\" class=\"ok\">The granted scopes cover every enabled tool.</p>"
                    .to_string()
            } else {
                format!(
                    "<p id=\"coverage\" class=\"warn\">The enabled tools also need: {}. Ask the \
                     maintainer to add them to the app, then Reconnect.</p>",
                    scope_list(&missing.names())
                )
            };
            let scopes: Vec<&str> = c.scope.split_whitespace().collect();
            format!(
                "<p id=\"status\" class=\"ok\">Connected to <b id=\"site\">{name}</b> \
                 (<a href=\"{url}\" rel=\"noreferrer\">{url}</a>).</p>\
                 <table><tr><th>Site id (cloudId)</th><td><code>{cloud}</code></td></tr>\
                 <tr><th>App</th><td>{app}</td></tr>\
                 <tr><th>Token refresh</th><td>{refresh}</td></tr>\
                 <tr><th>Granted scopes</th><td id=\"scopes\">{scopes}</td></tr></table>{coverage}\
                 <form class=\"inline\" method=\"post\" action=\"{connect}\">{csrf}<button type=\"submit\">Reconnect</button></form>\
                 <form class=\"inline\" method=\"post\" action=\"{disconnect}\">{csrf}<button type=\"submit\" id=\"disconnect\">Disconnect</button></form>",
                name = esc(&c.site.name),
                url = esc(&c.site.url),
                cloud = esc(&c.site.cloud_id.to_string()),
                app = match c.app {
                    conflux_store::AppKind::Central => "the platform's app",
                    conflux_store::AppKind::Tenant => "this workspace's own app",
                },
                refresh = if c.has_refresh_token {
                    "automatic (offline access granted)"
                } else {
                    "none: reconnect when the access token expires"
                },
                scopes = scope_list(&scopes),
            )
        }
        Ok(None) => {
            let ready = match d.flow.app_for(&d.tenant).await {
                Ok(_) => String::new(),
                Err(e) => format!("<p class=\"warn\">{}</p>", esc(&e.to_string())),
            };
            format!(
                "<p id=\"status\">Not connected to Confluence.</p>{ready}\
                 <form method=\"post\" action=\"{connect}\">{csrf}<button type=\"submit\" id=\"connect\">Connect</button></form>\
                 <p class=\"note\">Connect opens Atlassian's consent page; the scopes asked for \
                 are those the enabled tools need.</p>"
            )
        }
        Err(e) => format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    }
}

fn scope_list(names: &[&str]) -> String {
    if names.is_empty() {
        return "none".into();
    }
    names
        .iter()
        .map(|n| format!("<code>{}</code>", esc(n)))
        .collect::<Vec<_>>()
        .join(" ")
}

async fn set_user(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let user = match form.text("user_id").map(UserId::new) {
        Some(Ok(u)) => u,
        Some(Err(e)) => {
            return message_page(
                &state,
                StatusCode::BAD_REQUEST,
                "Not a user id",
                &e.to_string(),
                "/",
            );
        }
        None => {
            return message_page(
                &state,
                StatusCode::BAD_REQUEST,
                "Not a user id",
                "Enter a user id.",
                "/",
            );
        }
    };
    let mut r = see_other(&state.path("/"));
    let value = state.signer.user_cookie(&b.session, user.as_str());
    if let Some(v) = state
        .signer
        .set_cookie(USER_COOKIE, &value, "Lax", &cookie_path(&state), None)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn forget_user(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let mut r = see_other(&state.path("/"));
    if let Some(v) = state
        .signer
        .clear_cookie(USER_COOKIE, "Lax", &cookie_path(&state))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// The user's connection key, or the page that says to name a user first.
fn user_key(state: &State, b: &Browser) -> Result<ConnectionKey, Response> {
    let user = b.user.as_deref().ok_or_else(|| {
        message_page(
            state,
            StatusCode::BAD_REQUEST,
            "No user",
            "Name the user first.",
            "/",
        )
    })?;
    let user = UserId::new(user).map_err(|e| {
        message_page(
            state,
            StatusCode::BAD_REQUEST,
            "No user",
            &e.to_string(),
            "/",
        )
    })?;
    Ok(ConnectionKey::new(state.deployment.tenant.clone(), user))
}

async fn connect(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let key = match user_key(&state, &b) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match state.deployment.flow.begin(&key, &b.secret()).await {
        Ok(start) => see_other(&start.url),
        Err(e) => message_page(
            &state,
            StatusCode::CONFLICT,
            "Cannot connect",
            &e.to_string(),
            "/",
        ),
    }
}

async fn disconnect(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let key = match user_key(&state, &b) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match state.deployment.flow.disconnect(&key).await {
        Ok(_) => see_other(&state.path("/?done=disconnected")),
        Err(e) => message_page(
            &state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Disconnect failed",
            &e.to_string(),
            "/",
        ),
    }
}

/// Where the identity service sends the browser back with `code` and `state` (or `error`).
async fn callback(AxumState(state): Shared, headers: HeaderMap, RawQuery(q): RawQuery) -> Response {
    let b = Browser::of(&state, &headers);
    let callback = Callback::from_query(q.as_deref().unwrap_or(""));
    // A browser without a session cookie gets a fresh session, which matches no sign-in: the
    // callback is refused, and its state is used up all the same.
    let r = match state.deployment.flow.complete(&b.secret(), &callback).await {
        Ok(Completion::Connected(_)) => see_other(&state.path("/?done=connected")),
        Ok(Completion::ChooseSite { grant, sites }) => choose_site_page(&state, &b, &grant, &sites),
        Ok(_) => see_other(&state.path("/")),
        Err(e) => {
            tracing::info!(error = %e, "sign-in refused");
            message_page(
                &state,
                callback_status(&e),
                "Sign-in refused",
                &e.to_string(),
                "/",
            )
        }
    };
    b.finish(&state, r)
}

fn callback_status(e: &OAuthError) -> StatusCode {
    if e.is_retryable() {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::BAD_REQUEST
    }
}

fn choose_site_page(state: &State, b: &Browser, grant: &Secret, sites: &[Site]) -> Response {
    let options: String = sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<label><input type=\"radio\" name=\"cloud_id\" value=\"{id}\"{checked}> \
                 <b>{name}</b> ({url})</label>",
                id = esc(&s.cloud_id.to_string()),
                checked = if i == 0 { " checked" } else { "" },
                name = esc(&s.name),
                url = esc(&s.url),
            )
        })
        .collect();
    page(
        StatusCode::OK,
        layout(
            "Choose a site",
            &format!(
                "<p>This sign-in covers several Confluence sites. Choose the one to use.</p>\
                 <form method=\"post\" action=\"{action}\">{csrf}\
                 <input type=\"hidden\" name=\"grant\" value=\"{grant}\">{options}\
                 <button type=\"submit\">Use this site</button></form>",
                action = esc(&state.path("/choose-site")),
                csrf = csrf_field(&b.csrf(state)),
                grant = esc(grant.expose()),
            ),
        ),
    )
}

async fn choose_site(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let (Some(grant), Some(cloud)) = (form.text("grant"), form.text("cloud_id")) else {
        return message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "No site chosen",
            "Choose a site.",
            "/",
        );
    };
    let Ok(cloud) = cloud.parse::<CloudId>() else {
        return message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "No site chosen",
            "That is not a site of this sign-in.",
            "/",
        );
    };
    match state
        .deployment
        .flow
        .choose_site(&b.secret(), &Secret::new(grant), cloud)
        .await
    {
        Ok(_) => see_other(&state.path("/?done=connected")),
        Err(e) => message_page(
            &state,
            callback_status(&e),
            "Sign-in refused",
            &e.to_string(),
            "/",
        ),
    }
}

// ---------------------------------------------------------------- maintainer view

async fn admin_view(
    AxumState(state): Shared,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers);
    let saved = q.as_deref().is_some_and(|q| q.contains("done=saved"));
    let r = admin_page(&state, &b, if saved { Some(Ok("Saved.")) } else { None }).await;
    b.finish(&state, r)
}

async fn admin_page(state: &State, b: &Browser, note: Option<Result<&str, &str>>) -> Response {
    let csrf = csrf_field(&b.csrf(state));
    if state.admin_token.is_none() {
        return page(
            StatusCode::NOT_FOUND,
            layout(
                "Maintainer view",
                "<p>The maintainer view is disabled: start the server with an admin token \
                 (<code>CONFLUX_ADMIN_TOKEN</code>) to enable it.</p>",
            ),
        );
    }
    if !b.admin {
        let status = if note.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        let note = match note {
            Some(Err(e)) => format!("<p class=\"err\">{}</p>", esc(e)),
            _ => String::new(),
        };
        return page(
            status,
            layout(
                "Maintainer sign-in",
                &format!(
                    "{note}<form method=\"post\" action=\"{action}\">{csrf}\
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
    let agents = d.store.allowed_agents(&d.tenant).await.unwrap_or_default();
    let connections = d
        .store
        .list_connections(&d.tenant)
        .await
        .unwrap_or_default();
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
    let set = |present: bool| if present { "set" } else { "not set" };
    let modes: String = AuthMode::ALL
        .iter()
        .map(|m| {
            let what = match m {
                AuthMode::OAuthCentral => "each user connects through the platform's OAuth app",
                AuthMode::OAuth => "each user connects through this workspace's own OAuth app (client id and secret below)",
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
        Some(id) => format!("The platform's app (from the server's settings): client id <code>{}</code>.", esc(id)),
        None => "No platform app is provisioned in the server's settings: use <code>oauth</code> with this workspace's own app.".into(),
    };
    let default_scopes = scope_list(&state.needed.names());
    let mut agent_rows = String::new();
    let listed: BTreeSet<String> = agents
        .iter()
        .map(|a| a.agent.as_str().to_string())
        .collect();
    for a in &agents {
        agent_rows.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"agent\" value=\"{id}\" checked> <code>{id}</code>{label}</label>",
            id = esc(a.agent.as_str()),
            label = a.label.as_deref().map(|l| format!(" ({})", esc(l))).unwrap_or_default(),
        ));
    }
    for seen in d.seen_agents().iter().filter(|s| !listed.contains(*s)) {
        agent_rows.push_str(&format!(
            "<label><input type=\"checkbox\" name=\"agent\" value=\"{id}\"> <code>{id}</code> \
             <span class=\"note\">(refused lately)</span></label>",
            id = esc(seen),
        ));
    }
    if agent_rows.is_empty() {
        agent_rows.push_str("<p class=\"note\">No agent is listed yet.</p>");
    }
    let conn_rows: String = connections
        .iter()
        .map(|c| {
            let missing = state.needed.difference(c.scopes());
            format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(c.key.user.as_str()),
                esc(&c.site.name),
                if missing.is_empty() {
                    "cover every enabled tool".to_string()
                } else {
                    format!("missing {}", scope_list(&missing.names()))
                },
            )
        })
        .collect();
    let body = format!(
        "{note}\
         <h2>Callback URL</h2><p>Register exactly this URL with the OAuth app in Atlassian's \
         developer console: <code id=\"callback\">{callback}</code></p>\
         <h2>Sign-in</h2>\
         <form method=\"post\" action=\"{settings_action}\">{csrf}\
         <fieldset><legend>Auth mode</legend>{modes}<p class=\"note\">{central}</p></fieldset>\
         <fieldset><legend>This workspace's OAuth app (<code>oauth</code>)</legend>\
         <label>Client id <input type=\"text\" name=\"client_id\" value=\"{client_id}\"></label>\
         <label>Client secret (<span id=\"secret-state\">{secret_state}</span>; leave blank to keep) \
         <input type=\"password\" name=\"client_secret\" autocomplete=\"off\"></label>\
         <label><input type=\"checkbox\" name=\"clear_client_secret\"> forget the stored secret</label>\
         <label>Scopes to request (blank: what the enabled tools need) \
         <textarea name=\"scopes\" rows=\"3\">{scopes}</textarea></label>\
         <p class=\"note\">The enabled tools need: {default_scopes}</p></fieldset>\
         <fieldset><legend>Shared credential (<code>apiToken</code>, <code>accessToken</code>)</legend>\
         <label>Site URL <input type=\"text\" name=\"site_url\" value=\"{site_url}\"></label>\
         <label>Account email (<code>apiToken</code>) <input type=\"text\" name=\"api_email\" value=\"{api_email}\"></label>\
         <label>API or access token (<span id=\"token-state\">{token_state}</span>; leave blank to keep) \
         <input type=\"password\" name=\"api_token\" autocomplete=\"off\"></label>\
         <label><input type=\"checkbox\" name=\"clear_api_token\"> forget the stored token</label>\
         <p class=\"note\">When none is set here, the server's own settings (CONFLUENCE_*) are used.</p></fieldset>\
         <button type=\"submit\" id=\"save-settings\">Save</button></form>\
         <h2>Agents</h2>\
         <form method=\"post\" action=\"{agents_action}\">{csrf}\
         <label><input type=\"checkbox\" name=\"allow_all\"{allow_all}> allow every agent, listed or not</label>\
         <fieldset><legend>Allowed agents (untick to remove)</legend>{agent_rows}</fieldset>\
         <label>Add agent id <input type=\"text\" name=\"new_agent\"></label>\
         <label>Label (optional) <input type=\"text\" name=\"new_label\"></label>\
         <button type=\"submit\" id=\"save-agents\">Save agents</button></form>\
         <h2>Connections</h2><table><tr><th>User</th><th>Site</th><th>Scopes</th></tr>{conn_rows}</table>\
         <form method=\"post\" action=\"{logout}\">{csrf}<button type=\"submit\">Sign out</button></form>",
        callback = esc(&format!("{}/callback", state.public_url)),
        settings_action = esc(&state.path("/admin/settings")),
        agents_action = esc(&state.path("/admin/agents")),
        logout = esc(&state.path("/admin/logout")),
        client_id = esc(settings.client_id.as_deref().unwrap_or("")),
        secret_state = set(settings
            .client_secret
            .as_ref()
            .is_some_and(|s| !s.is_empty())),
        scopes = esc(settings.scopes.as_deref().unwrap_or("")),
        site_url = esc(settings.site_url.as_deref().unwrap_or("")),
        api_email = esc(settings.api_email.as_deref().unwrap_or("")),
        token_state = set(settings.api_token.as_ref().is_some_and(|s| !s.is_empty())),
        allow_all = if settings.allow_all_agents {
            " checked"
        } else {
            ""
        },
    );
    page(status, layout("Maintainer view", &body))
}

/// Whether the maintainer is signed in; otherwise the response to send.
fn require_admin(state: &State, b: &Browser) -> Result<(), Response> {
    if state.admin_token.is_some() && b.admin {
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

async fn admin_login(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let Some(expected) = &state.admin_token else {
        return admin_page(&state, &b, None).await;
    };
    let given = form.get("token").unwrap_or("");
    if !token_matches(given, expected.expose()) {
        tracing::warn!("maintainer sign-in refused: wrong admin token");
        return admin_page(
            &state,
            &b,
            Some(Err("That admin token is not the right one.")),
        )
        .await;
    }
    let mut r = see_other(&state.path("/admin"));
    let value = state.signer.admin_cookie(&b.session, expected.expose());
    if let Some(v) =
        state
            .signer
            .set_cookie(ADMIN_COOKIE, &value, "Strict", &state.path("/admin"), None)
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

async fn admin_logout(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    let mut r = see_other(&state.path("/admin"));
    if let Some(v) = state
        .signer
        .clear_cookie(ADMIN_COOKIE, "Strict", &state.path("/admin"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// Applies the settings form to `s`, or says what is wrong.
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
    s.site_url = match form.text("site_url") {
        None => None,
        Some(u) => {
            conflux_types::SiteUrl::parse(&u)
                .map_err(|e| format!("The site URL is not valid: {e}"))?;
            Some(u)
        }
    };
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

async fn admin_settings(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    let d = &state.deployment;
    let mut settings = match d.settings().await {
        Ok(s) => s,
        Err(e) => return admin_page(&state, &b, Some(Err(&e.to_string()))).await,
    };
    if let Err(e) = apply_settings(&form, &mut settings) {
        return admin_page(&state, &b, Some(Err(&e))).await;
    }
    match d.store.save_app_settings(&d.tenant, &settings).await {
        Ok(()) => {
            tracing::info!(mode = settings.auth_mode.as_str(), "settings saved");
            see_other(&state.path("/admin?done=saved"))
        }
        Err(e) => admin_page(&state, &b, Some(Err(&e.to_string()))).await,
    }
}

async fn admin_agents(AxumState(state): Shared, headers: HeaderMap, body: Bytes) -> Response {
    let b = Browser::of(&state, &headers);
    let form = Form::parse(&body);
    if let Err(r) = check_post(&state, &b, &form) {
        return r;
    }
    if let Err(r) = require_admin(&state, &b) {
        return r;
    }
    match save_agents(&state.deployment, &form).await {
        Ok(()) => see_other(&state.path("/admin?done=saved")),
        Err(e) => admin_page(&state, &b, Some(Err(&e))).await,
    }
}

async fn save_agents(d: &Deployment, form: &Form) -> Result<(), String> {
    let text = |e: conflux_store::StoreError| e.to_string();
    let mut ticked: BTreeSet<String> = form
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
        d.forget_seen(id.as_str());
    }
    let allow_all = form.checked("allow_all");
    let mut settings = d.settings().await.map_err(text)?;
    if settings.allow_all_agents != allow_all || settings.updated_at.is_none() {
        settings.allow_all_agents = allow_all;
        d.store
            .save_app_settings(&d.tenant, &settings)
            .await
            .map_err(text)?;
    }
    tracing::info!(allow_all, "allowlist saved");
    Ok(())
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
        apply_settings(
            &form(&[("auth_mode", "apiToken"), ("clear_client_secret", "on")]),
            &mut s,
        )
        .unwrap();
        assert!(s.client_secret.is_none());
    }

    #[test]
    fn settings_refuse_unknown_scopes_modes_and_sites() {
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
    }
}
