//! Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document), the way MCP
//! clients identify themselves (MCP specification 2026-07-28): the client_id is an https URL, and
//! this server fetches the JSON document there to learn the client's name and redirect URIs.
//!
//! Fetching a URL that anyone can name is a server-side request forgery risk, so the fetcher:
//! - takes only https URLs with a host and a path, checked before any network access
//!   ([`is_client_id_url`]);
//! - resolves the host itself and refuses it if ANY address is loopback, private, link-local,
//!   or otherwise not public (unless [`FetchPolicy::allow_private`]), then connects to exactly
//!   the addresses it checked, so a DNS answer that changes between check and connection
//!   (rebinding) cannot slip past; TLS still verifies the certificate for the URL's host name;
//! - follows no redirect, reads at most [`FetchPolicy::max_bytes`] (counted while streaming, not
//!   only from Content-Length), gives up after [`FetchPolicy::timeout`] for the whole fetch, and
//!   takes only a 200 answer with a JSON content type;
//! - checks the document: its `client_id` is the URL, redirect URIs are safe for a public client,
//!   no secret, and text shown on the consent page is short and visible ([`ClientMetadata`]).
//!
//! ```no_run
//! # async fn example() -> Result<(), conflux_authz::client_metadata::ClientMetadataError> {
//! use conflux_authz::client_metadata::{ClientMetadataFetcher, FetchPolicy};
//!
//! let fetcher = ClientMetadataFetcher::new(FetchPolicy::default())?;
//! let client = fetcher.fetch("https://app.example/oauth/client.json").await?;
//! println!("{:?} may be cached for {:?}", client.metadata.client_name, client.cache_for);
//! # Ok(()) }
//! ```

mod address;
mod cache;
mod client_id;
mod document;
mod error;
mod fetch;

pub use cache::{DEFAULT_CACHE_FOR, MAX_CACHE_FOR};
pub use client_id::is_client_id_url;
pub use document::{
    ClientMetadata, InvalidClientMetadata, MAX_REDIRECT_URIS, MAX_SCOPE_CHARS, MAX_TEXT_CHARS,
    MAX_URI_CHARS,
};
pub use error::ClientMetadataError;
pub use fetch::{ClientMetadataFetcher, FetchPolicy, FetchedClient};
