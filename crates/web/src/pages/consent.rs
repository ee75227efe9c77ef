//! An MCP client's authorization: `/oauth/authorize` checks the request and remembers it in
//! this browser; the person signs in with Atlassian (and connects) if they have not, then sees
//! the consent page: the client as untrusted data (its name, where it sends the browser, its
//! metadata URL) and the access asked. In the token modes the maintainer approves instead, on
//! `/admin/consent`.

use axum::body::Bytes;
use axum::extract::{Extension, RawQuery};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use conflux_authz::{AuthorizeError, ClientAddress, PendingView};
use conflux_store::{ConnectionKey, UserId};
use conflux_types::Secret;

use super::user::RETURN_TO_CONSENT;
use super::{
    Browser, Form, Shared, SignedIn, State, message_page, per_person, posted, see_other, visible,
};
use crate::html::{csrf_field, esc, layout, page};
use crate::session::REQUEST_COOKIE;

/// How long this browser remembers the request it is answering.
const REQUEST_COOKIE_AGE: u64 = 600;

/// `GET /oauth/authorize`: the client's request. A client or redirect URI that cannot be
/// trusted gets a page and never a redirect; other errors go back to the client.
pub(crate) async fn authorize(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let r = match state
        .deployment
        .authz
        .request(q.as_deref().unwrap_or(""), &b.address)
        .await
    {
        Ok(pending) => {
            let mut r = see_other(&state.path("/oauth/consent"));
            if let Some(v) = state.signer.set_cookie(
                REQUEST_COOKIE,
                pending.id.expose(),
                "Lax",
                &state.cookie_path("/"),
                Some(REQUEST_COOKIE_AGE),
            ) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
            r
        }
        Err(AuthorizeError::Redirect(url)) => see_other(&url),
        Err(AuthorizeError::Show(message)) => message_page(
            &state,
            StatusCode::BAD_REQUEST,
            "Authorization refused",
            &message,
            "/",
        ),
        Err(AuthorizeError::Busy(message)) => message_page(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            "Too many sign-ins waiting",
            &message,
            "/",
        ),
        Err(e) => message_page(
            &state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Authorization failed",
            &e.to_string(),
            "/",
        ),
    };
    b.finish(&state, r)
}

/// The request this browser is answering, or the page that says there is none.
async fn request_of(state: &State, b: &Browser) -> Result<(Secret, PendingView), Response> {
    let gone = || {
        message_page(
            state,
            StatusCode::BAD_REQUEST,
            "No authorization in progress",
            "This browser is not answering an authorization request, or it expired: start \
             again from your MCP client.",
            "/",
        )
    };
    let Some(id) = b.cookie(REQUEST_COOKIE).filter(|v| !v.is_empty()) else {
        return Err(gone());
    };
    let id = Secret::new(id.to_string());
    match state.deployment.authz.pending(&id).await {
        Ok(Some(view)) => Ok((id, view)),
        Ok(None) => Err(gone()),
        Err(e) => Err(message_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Authorization failed",
            &e.to_string(),
            "/",
        )),
    }
}

/// The consent page for `who`, posting to `action`.
fn consent_page(
    state: &State,
    b: &Browser,
    view: &PendingView,
    who: &str,
    action: &str,
) -> Response {
    let client = &view.client;
    let name = client
        .name
        .as_deref()
        .map(|n| format!("<b id=\"client-name\">{}</b>", esc(&visible(n))))
        .unwrap_or_else(|| "<b id=\"client-name\">(it gives no name)</b>".into());
    let origin = match &client.metadata_url {
        Some(url) => format!(
            "It identifies itself by the metadata document at <code id=\"client-metadata\">{}</code>.",
            esc(&visible(url))
        ),
        None => format!(
            "It registered itself with this server as <code id=\"client-id\">{}</code>.",
            esc(&visible(&client.id))
        ),
    };
    let redirect_host = url::Url::parse(&view.redirect_uri)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_else(|| view.redirect_uri.clone());
    page(
        StatusCode::OK,
        layout(
            "Authorize an MCP client",
            &format!(
                "<p>An MCP client that calls itself {name} asks to use Confluence through Conflux \
                 as <b>{who}</b>. The name and details below come from the client itself and \
                 are not verified: allow it only if you started this from a client you trust.</p>\
                 <table><tr><th>Identity</th><td>{origin}</td></tr>\
                 <tr><th>Answer goes to</th><td><code id=\"redirect-host\">{host}</code></td></tr>\
                 <tr><th>Access asked</th><td id=\"access\">{access}</td></tr></table>\
                 <form method=\"post\" action=\"{action}\">{csrf}\
                 <button type=\"submit\" name=\"decision\" value=\"approve\" id=\"approve\">Allow</button>\
                 <button type=\"submit\" name=\"decision\" value=\"deny\" id=\"deny\">Deny</button></form>",
                who = esc(who),
                host = esc(&visible(&redirect_host)),
                access = esc(view.access.describe()),
                action = esc(&state.path(action)),
                csrf = csrf_field(&b.csrf(state)),
            ),
        ),
    )
}

/// `GET /oauth/consent`: sign in first (and connect), then the consent page.
pub(crate) async fn view(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let (_, view) = match request_of(&state, &b).await {
        Ok(v) => v,
        Err(r) => return b.finish(&state, r),
    };
    let d = &state.deployment;
    let settings = match d.settings().await {
        Ok(s) => s,
        Err(e) => {
            return message_page(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                "Store failure",
                &e.to_string(),
                "/",
            );
        }
    };
    if !per_person(settings.auth_mode) {
        // No person connects in the token modes: the maintainer approves.
        return see_other(&state.path("/admin/consent"));
    }
    let csrf = csrf_field(&b.csrf(&state));
    let sign_in = |intro: &str, button: &str| {
        page(
            StatusCode::OK,
            layout(
                "Sign in to authorize",
                &format!(
                    "<p>{intro}</p><form method=\"post\" action=\"{action}\">{csrf}\
                     <input type=\"hidden\" name=\"return_to\" value=\"{RETURN_TO_CONSENT}\">\
                     <button type=\"submit\" id=\"signin\">{button}</button></form>",
                    intro = esc(intro),
                    action = esc(&state.path("/signin")),
                ),
            ),
        )
    };
    let Some(person) = &b.person else {
        let name = view.client.name.as_deref().unwrap_or("An MCP client");
        return b.finish(
            &state,
            sign_in(
                &format!(
                    "{} asks to use Confluence through Conflux. Sign in with your Atlassian \
                     account first, so that it acts as you.",
                    visible(name)
                ),
                "Sign in with Atlassian",
            ),
        );
    };
    let connected = match person.account().and_then(|a| UserId::new(a).ok()) {
        Some(u) => d
            .flow
            .status(&ConnectionKey::new(d.tenant.clone(), u))
            .await
            .ok()
            .flatten()
            .is_some(),
        None => false,
    };
    if !connected {
        return b.finish(
            &state,
            sign_in(
                "You have no Confluence connection here: connect first, then answer.",
                "Connect",
            ),
        );
    }
    b.finish(
        &state,
        consent_page(&state, &b, &view, person.name(), "/oauth/consent"),
    )
}

/// Approves or denies for `subject`, then sends the browser back to the client.
async fn decide(state: &State, id: &Secret, form: &Form, signed: &SignedIn) -> Response {
    let authz = &state.deployment.authz;
    let outcome = if form.get("decision") == Some("approve") {
        authz
            .approve(
                id,
                signed.session.subject.clone(),
                Some(signed.name().to_string()),
            )
            .await
    } else {
        authz.deny(id).await
    };
    let mut r = match outcome {
        Ok(Some(url)) => see_other(&url),
        Ok(None) => message_page(
            state,
            StatusCode::BAD_REQUEST,
            "No authorization in progress",
            "This authorization was already answered or expired: start again from your MCP \
             client.",
            "/",
        ),
        Err(e) => message_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Authorization failed",
            &e.to_string(),
            "/",
        ),
    };
    if let Some(v) = state
        .signer
        .clear_cookie(REQUEST_COOKIE, "Lax", &state.cookie_path("/"))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    r
}

/// `POST /oauth/consent`: the signed-in person's answer.
pub(crate) async fn answer(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (id, _) = match request_of(&state, &b).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(person) = &b.person else {
        return message_page(
            &state,
            StatusCode::UNAUTHORIZED,
            "Not signed in",
            "Sign in with Atlassian first.",
            "/oauth/consent",
        );
    };
    match state.deployment.settings().await {
        Ok(s) if per_person(s.auth_mode) => {}
        _ => {
            return message_page(
                &state,
                StatusCode::FORBIDDEN,
                "Maintainer approval needed",
                "In this workspace the maintainer approves MCP clients.",
                "/admin/consent",
            );
        }
    }
    decide(&state, &id, &form, person).await
}

/// `GET /admin/consent`: the maintainer's approval in the token modes.
pub(crate) async fn admin_view(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
) -> Response {
    let b = Browser::of(&state, &headers, address.as_deref()).await;
    let (_, view) = match request_of(&state, &b).await {
        Ok(v) => v,
        Err(r) => return b.finish(&state, r),
    };
    let r = match &b.maintainer {
        None => see_other(&state.path("/admin?next=consent")),
        Some(_) => consent_page(
            &state,
            &b,
            &view,
            "this connector's shared Confluence credential (maintainer approval)",
            "/admin/consent",
        ),
    };
    b.finish(&state, r)
}

/// `POST /admin/consent`: the maintainer's answer.
pub(crate) async fn admin_answer(
    axum::extract::State(state): Shared,
    address: Option<Extension<ClientAddress>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (b, form) = match posted(&state, address, &headers, &body).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let (id, _) = match request_of(&state, &b).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(maintainer) = &b.maintainer else {
        return message_page(
            &state,
            StatusCode::UNAUTHORIZED,
            "Maintainer sign-in required",
            "Sign in with the admin token first.",
            "/admin",
        );
    };
    decide(&state, &id, &form, maintainer).await
}
