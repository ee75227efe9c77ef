//! The pages: the person's view (`/`, Atlassian sign-in, keys, authorized clients), the
//! consent of an MCP client's authorization, and the maintainer's view (`/admin`).

// Guards return the page to send instead; it is built once per refused request.
#![allow(clippy::result_large_err)]

mod admin;
mod consent;
mod user;

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use conflux_authz::ClientAddress;
use conflux_catalog::ScopeSet;
use conflux_store::{AppSettings, AuthMode, Subject, WebSession};
use conflux_types::Secret;

use crate::html::{esc, layout, page};
use crate::limits::SignInThrottle;
use crate::provider::Deployment;
use crate::session::{
    ADMIN_COOKIE, PERSON_COOKIE, SESSION_COOKIE, Signer, cookies, new_session_id, valid_session_id,
};

/// How long a person stays signed in.
const PERSON_SESSION: std::time::Duration = std::time::Duration::from_secs(12 * 3600);
/// How long the maintainer stays signed in.
const MAINTAINER_SESSION: std::time::Duration = std::time::Duration::from_secs(4 * 3600);

pub(crate) struct State {
    pub(crate) deployment: Arc<Deployment>,
    pub(crate) signer: Signer,
    pub(crate) public_url: String,
    pub(crate) admin_token: Option<Secret>,
    /// What the enabled tools need, read and write (read only in a read-only deployment).
    pub(crate) needed: ScopeSet,
    /// What the enabled tools' read actions need.
    pub(crate) needed_read: ScopeSet,
    pub(crate) central_client_id: Option<String>,
    pub(crate) throttle: SignInThrottle,
    /// The server lets anyone call `/mcp` (the demo).
    pub(crate) open: bool,
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

    fn cookie_path(&self, p: &str) -> String {
        let path = self.path(p);
        if path.is_empty() { "/".into() } else { path }
    }

    /// What the enabled tools need of the granted scopes: the read actions' only, when the
    /// maintainer chose a read-only scope set on purpose.
    fn intended(&self, settings: &AppSettings) -> ScopeSet {
        let read_only_choice = settings.scopes.as_deref().is_some_and(|s| {
            let set = ScopeSet::parse_lenient(s).0;
            !set.is_empty() && set.names().iter().all(|n| n.starts_with("read:"))
        });
        if read_only_choice {
            self.needed_read
        } else {
            self.needed
        }
    }
}

type Shared = AxumState<Arc<State>>;

pub(crate) fn router(state: Arc<State>) -> axum::Router {
    axum::Router::new()
        .route("/", get(user::view))
        .route("/signin", post(user::sign_in))
        .route("/signout", post(user::sign_out))
        .route("/callback", get(user::callback))
        .route("/disconnect", post(user::disconnect))
        .route("/keys", post(user::create_key))
        .route("/keys/revoke", post(user::revoke_key))
        .route("/clients/revoke", post(user::revoke_client))
        .route("/oauth/authorize", get(consent::authorize))
        .route("/oauth/consent", get(consent::view).post(consent::answer))
        .route(
            "/admin/consent",
            get(consent::admin_view).post(consent::admin_answer),
        )
        .route("/admin", get(admin::view))
        .route("/admin/login", post(admin::login))
        .route("/admin/logout", post(admin::logout))
        .route("/admin/settings", post(admin::settings))
        .route("/admin/agents", post(admin::agents))
        .route("/admin/keys", post(admin::create_key))
        .route("/admin/keys/revoke", post(admin::revoke_key))
        .with_state(state)
}

/// A signed-in session: the cookie's id and the row it names.
#[derive(Clone, Debug)]
struct SignedIn {
    id: Secret,
    session: WebSession,
}

impl SignedIn {
    fn account(&self) -> Option<&str> {
        self.session.subject.account_id()
    }

    fn name(&self) -> &str {
        self.session
            .display_name
            .as_deref()
            .or(self.account())
            .unwrap_or("the maintainer")
    }
}

/// The browser behind a request: its anonymous session (new when it sent none), and who is
/// signed in on it, as the store says.
struct Browser {
    session: String,
    new: bool,
    person: Option<SignedIn>,
    maintainer: Option<SignedIn>,
    address: ClientAddress,
    jar: std::collections::HashMap<String, String>,
}

impl Browser {
    async fn of(state: &State, headers: &HeaderMap, address: Option<&ClientAddress>) -> Browser {
        let jar = cookies(headers);
        let existing = jar
            .get(SESSION_COOKIE)
            .filter(|s| valid_session_id(s))
            .cloned();
        let new = existing.is_none();
        let session = existing.unwrap_or_else(new_session_id);
        let person = signed_in(state, jar.get(PERSON_COOKIE), |s| {
            matches!(s.subject, Subject::Account(_))
        })
        .await;
        let maintainer = match &state.admin_token {
            Some(token) => {
                let binding = token_binding(token);
                signed_in(state, jar.get(ADMIN_COOKIE), |s| {
                    s.subject == Subject::Maintainer && s.binding.as_deref() == Some(&binding)
                })
                .await
            }
            None => None,
        };
        Browser {
            session,
            new,
            person,
            maintainer,
            address: address.cloned().unwrap_or_else(ClientAddress::unknown),
            jar,
        }
    }

    fn csrf(&self, state: &State) -> String {
        state.signer.csrf(&self.session)
    }

    fn secret(&self) -> Secret {
        Secret::new(self.session.clone())
    }

    fn cookie(&self, name: &str) -> Option<&str> {
        self.jar.get(name).map(String::as_str)
    }

    /// Sets the session cookie on `r` when the browser had none.
    fn finish(&self, state: &State, mut r: Response) -> Response {
        if self.new
            && let Some(v) = state.signer.set_cookie(
                SESSION_COOKIE,
                &self.session,
                "Lax",
                &state.cookie_path("/"),
                None,
            )
        {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
        r
    }
}

/// The session a sign-in cookie names, when the store has it, unexpired, for this tenant, and
/// `fits` it.
async fn signed_in(
    state: &State,
    cookie: Option<&String>,
    fits: impl Fn(&WebSession) -> bool,
) -> Option<SignedIn> {
    let value = cookie.filter(|v| valid_session_id(v))?;
    let id = Secret::new(value.clone());
    match state
        .deployment
        .store
        .web_session(&id, SystemTime::now())
        .await
    {
        Ok(Some(s)) if s.tenant == state.deployment.tenant && fits(&s) => {
            Some(SignedIn { id, session: s })
        }
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "session lookup failed");
            None
        }
    }
}

/// What a maintainer session is bound to: the admin token in force (changing it signs every
/// maintainer out).
fn token_binding(token: &Secret) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(token.expose().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Starts a server-side session for `subject` and returns the cookie that carries it.
async fn start_session(
    state: &State,
    subject: Subject,
    display_name: Option<String>,
) -> Result<(String, HeaderValue), Response> {
    let id = new_session_id();
    let (cookie, ttl, binding) = match &subject {
        Subject::Account(_) => (PERSON_COOKIE, PERSON_SESSION, None),
        Subject::Maintainer => (
            ADMIN_COOKIE,
            MAINTAINER_SESSION,
            state.admin_token.as_ref().map(token_binding),
        ),
    };
    let now = SystemTime::now();
    let row = WebSession {
        tenant: state.deployment.tenant.clone(),
        subject,
        display_name,
        binding,
        created_at: now,
        expires_at: now + ttl,
    };
    if let Err(e) = state
        .deployment
        .store
        .create_web_session(&Secret::new(id.clone()), &row)
        .await
    {
        return Err(message_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            "Sign-in failed",
            &format!("The session could not be stored: {e}. Try again shortly."),
            "/",
        ));
    }
    let path = if cookie == ADMIN_COOKIE {
        state.cookie_path("/admin")
    } else {
        state.cookie_path("/")
    };
    let header = state
        .signer
        .set_cookie(cookie, &id, "Lax", &path, Some(ttl.as_secs()))
        .ok_or_else(|| {
            message_page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Sign-in failed",
                "The session cookie could not be set.",
                "/",
            )
        })?;
    Ok((id, header))
}

/// Ends a server-side session: the row goes, so the cookie stops working on every replica.
async fn end_session(state: &State, signed: &SignedIn) {
    if let Err(e) = state.deployment.store.delete_web_session(&signed.id).await {
        tracing::warn!(error = %e, "could not delete a session at sign-out");
    }
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
                "<p class=\"err\" id=\"message\">{}</p><p><a href=\"{}\">Back</a></p>",
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

/// Every form post: the browser behind it and its fields, once its session and CSRF token
/// check out; otherwise the page that refuses it.
async fn posted(
    state: &State,
    address: Option<axum::extract::Extension<ClientAddress>>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Browser, Form), Response> {
    let b = Browser::of(state, headers, address.as_deref()).await;
    let form = Form::parse(body);
    check_post(state, &b, &form)?;
    Ok((b, form))
}

/// Whether the tenant's people sign in with Atlassian (the OAuth modes).
fn per_person(mode: AuthMode) -> bool {
    matches!(mode, AuthMode::OAuthCentral | AuthMode::OAuth)
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

/// Text from a client or another untrusted source, made visible: anything but printable ASCII
/// is shown as its code point, so look-alike names (a U+2010 hyphen, a Cyrillic letter) cannot
/// pass for the real thing. Escape the result for HTML as usual.
fn visible(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_graphic() || c == ' ' {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:04X}}}", c as u32));
        }
    }
    out
}

fn when(t: Option<SystemTime>) -> String {
    match t {
        None => "never".into(),
        Some(t) => {
            let secs = SystemTime::now()
                .duration_since(t)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            match secs {
                0..60 => "just now".into(),
                60..3600 => format!("{} min ago", secs / 60),
                3600..86400 => format!("{} h ago", secs / 3600),
                _ => format!("{} days ago", secs / 86400),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_are_made_visible() {
        assert_eq!(visible("claude-desktop"), "claude-desktop");
        assert_eq!(visible("claude\u{2010}desktop"), "claude\\u{2010}desktop");
        assert_eq!(visible("\u{0441}laude"), "\\u{0441}laude");
        assert_eq!(visible("a\nb"), "a\\u{000A}b");
    }
}
