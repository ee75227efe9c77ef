//! The JSON endpoints: metadata, token, registration, revocation; CORS for browser clients.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Extension, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tower_http::cors::{Any, CorsLayer};

use crate::error::OAuthFailure;
use crate::{AuthServer, ClientAddress};

/// Bodies of these endpoints are small forms or JSON documents.
const BODY_LIMIT: usize = 64 * 1024;

pub(crate) fn router(server: AuthServer) -> axum::Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("mcp-protocol-version"),
        ])
        .max_age(std::time::Duration::from_secs(3600));
    let mut r = axum::Router::new();
    for path in server.resource_metadata_paths() {
        r = r.route(&path, get(resource_metadata));
    }
    for path in server.server_metadata_paths() {
        r = r.route(&path, get(server_metadata));
    }
    r.route("/oauth/token", post(token))
        .route("/oauth/register", post(register))
        .route("/oauth/revoke", post(revoke))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(cors)
        .with_state(server)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut r = (status, axum::Json(body.clone())).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    r
}

fn failure(f: OAuthFailure) -> Response {
    let mut r = json_response(
        f.status,
        &json!({ "error": f.error, "error_description": f.description }),
    );
    if let Some(secs) = f.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn resource_metadata(State(s): State<AuthServer>) -> Response {
    let mut r = json_response(StatusCode::OK, &s.protected_resource_metadata());
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

async fn server_metadata(State(s): State<AuthServer>) -> Response {
    let mut r = json_response(StatusCode::OK, &s.authorization_server_metadata());
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=300"),
    );
    r
}

async fn token(State(s): State<AuthServer>, headers: HeaderMap, body: Bytes) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > 6 && v[..6].eq_ignore_ascii_case("basic "));
    match s.token(&body, basic).await {
        Ok(v) => json_response(StatusCode::OK, &v),
        Err(f) => failure(f),
    }
}

async fn register(
    State(s): State<AuthServer>,
    address: Option<Extension<ClientAddress>>,
    body: Bytes,
) -> Response {
    let from = address.map_or_else(ClientAddress::unknown, |Extension(a)| a);
    match s.register(&body, &from).await {
        Ok(v) => json_response(StatusCode::CREATED, &v),
        Err(f) => failure(f),
    }
}

async fn revoke(State(s): State<AuthServer>, body: Bytes) -> Response {
    match s.revoke(&body).await {
        Ok(()) => json_response(StatusCode::OK, &json!({})),
        Err(f) => failure(f),
    }
}
