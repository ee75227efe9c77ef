//! The person's view: sign in with Atlassian (which connects Confluence in the OAuth modes),
//! the connection, the MCP clients they authorized, their personal access keys, sign-out.
//! Nobody types an id anywhere: who the person is comes from Atlassian.

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use conflux_authz::ClientAddress;
use conflux_oauth::{Callback, OAuthError};
use conflux_store::{AuthMode, ConnectionKey, Subject, UserId};

use super::{
    Browser, Shared, State, end_session, message_page, per_person, posted, scope_list, see_other,
    start_session, visible, when,
};
use crate::html::{csrf_field, esc, layout, page};
use crate::session::PERSON_COOKIE;

/// What a sign-in continues with once done.
pub(super) const RETURN_TO_CONSENT: &str = "consent";

pub(crate) async fn view(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let done = q.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "done")
            .map(|(_, v)| v.into_owned())
    });
    let flash = match done.as_deref() {
        Some("signed-in") => "<p class=\"ok\" id=\"flash\">Signed in.</p>",
        Some("signed-out") => "<p class=\"ok\" id=\"flash\">Signed out.</p>",
        Some("disconnected") => "<p class=\"ok\" id=\"flash\">Disconnected.</p>",
        Some("revoked") => "<p class=\"ok\" id=\"flash\">Revoked.</p>",
        _ => "",
    };
    let body = match body(&state, &b).await {
        Ok(body) => format!("{flash}{body}"),
        Err(r) => return b.finish(&state, r),
    };
    b.finish(
        &state,
        page(StatusCode::OK, layout("Confluence connection", &body)),
    )
}

async fn body(state: &State, b: &Browser) -> Result<String, Response> {
    let d = &state.deployment;
    let settings = d.settings().await.map_err(|e| {
        message_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Store failure",
            &format!("The connection store failed: {e}"),
            "/",
        )
    })?;
    let csrf = csrf_field(&b.csrf(state));
    if state.open {
        return Ok(
            "<p id=\"status\" class=\"warn\">This is a demo server: it lets anyone on this \
             machine call its tools, with the demo site's shared credential.</p>"
                .into(),
        );
    }
    if !per_person(settings.auth_mode) {
        return Ok(format!(
            "<p id=\"status\">This connector signs in to Confluence with a shared {what} set by \
             its maintainer{site}: there is nothing to connect here. MCP clients are approved, \
             and agent keys issued, by the maintainer on <a href=\"{admin}\">the maintainer \
             view</a>.</p>",
            what = if settings.auth_mode == AuthMode::ApiToken {
                "API token"
            } else {
                "access token"
            },
            site = settings
                .site_url
                .as_deref()
                .map(|s| format!(" for <b>{}</b>", esc(s)))
                .unwrap_or_default(),
            admin = esc(&state.path("/admin")),
        ));
    }
    let Some(person) = &b.person else {
        let ready = match d.flow.app_for(&d.tenant).await {
            Ok(_) if settings.cloud_id.is_none() => format!(
                "<p class=\"warn\">{}</p>",
                esc(
                    "This workspace's Confluence site is not set yet: the maintainer sets it \
                     on the maintainer view (/admin) before anyone can sign in."
                )
            ),
            Ok(_) => String::new(),
            Err(e) => format!("<p class=\"warn\">{}</p>", esc(&e.to_string())),
        };
        return Ok(format!(
            "<p id=\"status\">Sign in with your Atlassian account to connect Confluence for \
             your agents. Atlassian tells Conflux who you are; only members of this workspace's \
             site can sign in.</p>{ready}\
             <form method=\"post\" action=\"{action}\">{csrf}\
             <button type=\"submit\" id=\"signin\">Sign in with Atlassian</button></form>",
            action = esc(&state.path("/signin")),
        ));
    };
    let account = person.account().unwrap_or_default();
    let user = UserId::new(account).map_err(|e| {
        message_page(
            state,
            StatusCode::BAD_REQUEST,
            "Not signed in",
            &e.to_string(),
            "/",
        )
    })?;
    let key = ConnectionKey::new(d.tenant.clone(), user);
    let connection = match d.flow.status(&key).await {
        Ok(Some(c)) => {
            let intended = state.intended(&settings);
            let missing = intended.difference(c.scopes());
            let coverage = if missing.is_empty() {
                "<p id=\"coverage\" class=\"ok\">The granted scopes cover every enabled tool.</p>"
                    .to_string()
            } else {
                format!(
                    "<p id=\"coverage\" class=\"warn\">The enabled tools also need: {}. Ask the \
                     maintainer to add them to the app, then sign in again.</p>",
                    scope_list(&missing.names())
                )
            };
            let scopes: Vec<&str> = c.scope.split_whitespace().collect();
            format!(
                "<p id=\"status\" class=\"ok\">Connected to <b id=\"site\">{name}</b> \
                 (<a href=\"{url}\" rel=\"noreferrer\">{url}</a>).</p>\
                 <table><tr><th>Site id (cloudId)</th><td><code>{cloud}</code></td></tr>\
                 <tr><th>Token refresh</th><td>{refresh}</td></tr>\
                 <tr><th>Granted scopes</th><td id=\"scopes\">{scopes}</td></tr></table>{coverage}\
                 <form class=\"inline\" method=\"post\" action=\"{signin}\">{csrf}<button type=\"submit\">Reconnect</button></form>\
                 <form class=\"inline\" method=\"post\" action=\"{disconnect}\">{csrf}<button type=\"submit\" id=\"disconnect\">Disconnect</button></form>",
                name = esc(&c.site.name),
                url = esc(&c.site.url),
                cloud = esc(&c.site.cloud_id.to_string()),
                refresh = if c.has_refresh_token {
                    "automatic (offline access granted)"
                } else {
                    "none: sign in again when the access token expires"
                },
                scopes = scope_list(&scopes),
                signin = esc(&state.path("/signin")),
                disconnect = esc(&state.path("/disconnect")),
            )
        }
        Ok(None) => format!(
            "<p id=\"status\">Not connected to Confluence.</p>\
             <form method=\"post\" action=\"{signin}\">{csrf}<button type=\"submit\" id=\"connect\">Connect</button></form>",
            signin = esc(&state.path("/signin")),
        ),
        Err(e) => format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    };
    let subject = Subject::Account(account.to_string());
    let clients = match d.authz.grants_of(&subject).await {
        Ok(grants) if grants.is_empty() => {
            "<p class=\"note\" id=\"no-clients\">No MCP client is authorized yet.</p>".to_string()
        }
        Ok(grants) => {
            let rows: String = grants
                .iter()
                .map(|(g, c)| {
                    format!(
                        "<tr class=\"client\"><td>{name}<br><span class=\"note\">{id}</span></td>\
                         <td>{access}</td><td>{used}</td><td>\
                         <form class=\"inline\" method=\"post\" action=\"{revoke}\">{csrf}\
                         <input type=\"hidden\" name=\"grant\" value=\"{grant}\">\
                         <button type=\"submit\">Revoke</button></form></td></tr>",
                        name = esc(&visible(c.name.as_deref().unwrap_or("(no name given)"))),
                        id = esc(&visible(&c.id)),
                        access = esc(&g.scope),
                        used = when(g.last_used_at),
                        revoke = esc(&state.path("/clients/revoke")),
                        grant = esc(&g.id),
                    )
                })
                .collect();
            format!(
                "<table id=\"clients\"><tr><th>Client (as it names itself)</th><th>Access</th>\
                 <th>Last used</th><th></th></tr>{rows}</table>"
            )
        }
        Err(e) => format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    };
    let keys = match d.authz.keys_of(&subject).await {
        Ok(keys) if keys.is_empty() => "<p class=\"note\">No access key yet.</p>".to_string(),
        Ok(keys) => {
            let rows: String = keys
                .iter()
                .map(|k| {
                    format!(
                        "<tr class=\"key\"><td>{name}</td><td><code>{id}</code></td><td>{access}</td>\
                         <td>{used}</td><td><form class=\"inline\" method=\"post\" action=\"{revoke}\">{csrf}\
                         <input type=\"hidden\" name=\"key\" value=\"{id}\">\
                         <button type=\"submit\">Revoke</button></form></td></tr>",
                        name = esc(&k.name),
                        id = esc(&k.id),
                        access = if k.read_only { "read-only" } else { "read and write" },
                        used = when(k.last_used_at),
                        revoke = esc(&state.path("/keys/revoke")),
                    )
                })
                .collect();
            format!(
                "<table id=\"keys\"><tr><th>Name</th><th>Id</th><th>Access</th><th>Last used</th>\
                 <th></th></tr>{rows}</table>"
            )
        }
        Err(e) => format!("<p class=\"err\">{}</p>", esc(&e.to_string())),
    };
    Ok(format!(
        "<p>Signed in as <b id=\"person\">{name}</b> <span class=\"note\">(Atlassian account \
         <code id=\"account\">{account}</code>)</span> \
         <form class=\"inline\" method=\"post\" action=\"{signout}\">{csrf}\
         <button type=\"submit\" id=\"signout\">Sign out</button></form></p>{connection}\
         <h2>MCP clients you authorized</h2>{clients}\
         <h2>Personal access keys</h2><p class=\"note\">For MCP clients that cannot sign in \
         with OAuth: send the key as <code>Authorization: Bearer …</code>. It acts as you, is \
         shown once, and the maintainer must allow it like any client.</p>{keys}\
         <form method=\"post\" action=\"{create}\">{csrf}\
         <label>Name <input type=\"text\" name=\"name\" required maxlength=\"80\"></label>\
         <label><input type=\"checkbox\" name=\"read_only\" checked> read-only</label>\
         <button type=\"submit\" id=\"create-key\">Create key</button></form>",
        name = esc(person.name()),
        account = esc(account),
        signout = esc(&state.path("/signout")),
        create = esc(&state.path("/keys")),
    ))
}

/// Starts an Atlassian sign-in (which connects Confluence), capped per address and in all.
pub(crate) async fn sign_in(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    start_sign_in(&state, &b, form.text("return_to")).await
}

pub(super) async fn start_sign_in(
    state: &State,
    b: &Browser,
    return_to: Option<String>,
) -> Response {
    let d = &state.deployment;
    let config = d.authz.config();
    match d
        .store
        .pending_counts(
            conflux_store::Pending::SignIn,
            &b.address.0,
            std::time::SystemTime::now(),
        )
        .await
    {
        Ok(c) if c.from_origin >= config.pending_per_address || c.total >= config.pending_total => {
            tracing::warn!(
                from_address = c.from_origin,
                total = c.total,
                "sign-in refused: too many pending"
            );
            return message_page(
                state,
                StatusCode::TOO_MANY_REQUESTS,
                "Too many sign-ins waiting",
                "Too many sign-ins were started and not finished. Finish or abandon them, and \
                 try again in a few minutes.",
                "/",
            );
        }
        Ok(_) => {}
        Err(e) => {
            return message_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                "Cannot sign in",
                &e.to_string(),
                "/",
            );
        }
    }
    let return_to = return_to.filter(|r| r == RETURN_TO_CONSENT);
    match d
        .flow
        .begin(&d.tenant, &b.secret(), &b.address.0, return_to)
        .await
    {
        Ok(start) => see_other(&start.url),
        Err(e) => message_page(
            state,
            StatusCode::CONFLICT,
            "Cannot sign in",
            &e.to_string(),
            "/",
        ),
    }
}

/// Where Atlassian sends the browser back: the person is signed in (a fresh session, bound to
/// the account Atlassian named) and connected.
pub(crate) async fn callback(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let callback = Callback::from_query(q.as_deref().unwrap_or(""));
    // A browser without a session cookie gets a fresh session, which matches no sign-in: the
    // callback is refused, and its state is used up all the same.
    let r = match state.deployment.flow.complete(&b.secret(), &callback).await {
        Ok(signed) => {
            match start_session(
                &state,
                Subject::Account(signed.account_id.clone()),
                Some(signed.display_name.clone()),
            )
            .await
            {
                Ok((_, cookie)) => {
                    if let Some(old) = &b.person {
                        end_session(&state, old).await;
                    }
                    let next = if signed.return_to.as_deref() == Some(RETURN_TO_CONSENT) {
                        state.path("/oauth/consent")
                    } else {
                        state.path("/?done=signed-in")
                    };
                    let mut r = see_other(&next);
                    r.headers_mut().append(header::SET_COOKIE, cookie);
                    r
                }
                Err(r) => r,
            }
        }
        Err(e) => {
            tracing::info!(error = %e, "sign-in refused");
            let status = match &e {
                OAuthError::NotAMember => StatusCode::FORBIDDEN,
                e if e.is_retryable() => StatusCode::BAD_GATEWAY,
                _ => StatusCode::BAD_REQUEST,
            };
            message_page(&state, status, "Sign-in refused", &e.to_string(), "/")
        }
    };
    b.finish(&state, r)
}

/// The person, or the page that asks them to sign in first.
fn person_of<'a>(state: &State, b: &'a Browser) -> Result<&'a super::SignedIn, Response> {
    b.person.as_ref().ok_or_else(|| {
        message_page(
            state,
            StatusCode::UNAUTHORIZED,
            "Not signed in",
            "Sign in with Atlassian first.",
            "/",
        )
    })
}

pub(crate) async fn sign_out(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, _) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if let Some(p) = &b.person {
        end_session(&state, p).await;
    }
    let mut r = see_other(&state.path("/?done=signed-out"));
    if let Some(v) = state
        .signer
        .clear_cookie(PERSON_COOKIE, "Lax", &state.cookie_path("/"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

pub(crate) async fn disconnect(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, _) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let person = match person_of(&state, &b) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let d = &state.deployment;
    let Some(key) = person
        .account()
        .and_then(|a| UserId::new(a).ok())
        .map(|u| ConnectionKey::new(d.tenant.clone(), u))
    else {
        return message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "Not signed in",
            "No account.",
            "/",
        );
    };
    match d.flow.disconnect(&key).await {
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
    let person = match person_of(&state, &b) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(account) = person.account() else {
        return message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "Not signed in",
            "No account.",
            "/",
        );
    };
    let name = form.text("name").unwrap_or_default();
    match state
        .deployment
        .authz
        .create_key(
            Subject::Account(account.to_string()),
            Some(person.name().to_string()),
            &name,
            form.checked("read_only"),
        )
        .await
    {
        Ok((key, secret)) => key_page(&state, &key.name, &key.id, secret.expose(), "/"),
        Err(e) => message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "No key made",
            &e.to_string(),
            "/",
        ),
    }
}

/// The one page that ever shows a key.
pub(super) fn key_page(state: &State, name: &str, id: &str, key: &str, back: &str) -> Response {
    page(
        StatusCode::OK,
        layout(
            "Access key created",
            &format!(
                "<p>Key <b>{name}</b> (<code>{id}</code>) was created. Copy it now: it is shown \
                 this once and stored only as a hash.</p>\
                 <p><code id=\"new-key\">{key}</code></p>\
                 <p>Send it as <code>Authorization: Bearer …</code> to <code>{mcp}</code>. Until \
                 the maintainer allows it (it is listed among the agents refused lately after \
                 its first call), calls are refused.</p><p><a href=\"{back}\">Back</a></p>",
                name = esc(name),
                id = esc(id),
                key = esc(key),
                mcp = esc(&format!("{}/mcp", state.public_url)),
                back = esc(&state.path(back)),
            ),
        ),
    )
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
    let person = match person_of(&state, &b) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let subject = person.session.subject.clone();
    let id = form.text("key").unwrap_or_default();
    match state.deployment.authz.revoke_key(&subject, &id).await {
        Ok(_) => see_other(&state.path("/?done=revoked")),
        Err(e) => message_page(
            &state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not revoked",
            &e.to_string(),
            "/",
        ),
    }
}

/// Revokes an MCP client the person authorized: its tokens stop working within seconds.
pub(crate) async fn revoke_client(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let person = match person_of(&state, &b) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let subject = person.session.subject.clone();
    let grant = form.text("grant").unwrap_or_default();
    match state
        .deployment
        .authz
        .revoke_grant_of(&subject, &grant)
        .await
    {
        Ok(_) => see_other(&state.path("/?done=revoked")),
        Err(e) => message_page(
            &state,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Not revoked",
            &e.to_string(),
            "/",
        ),
    }
}
