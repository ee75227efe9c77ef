//! Conflux as the OAuth 2.1 authorization server of its own MCP endpoint, as the MCP
//! specification (2026-07-28) asks: Protected Resource Metadata (RFC 9728), Authorization Server
//! Metadata (RFC 8414), clients identified by Client ID Metadata Documents or registered
//! dynamically (RFC 7591), authorization codes with PKCE S256, tokens bound to the MCP resource
//! (RFC 8707), rotating refresh tokens whose reuse revokes the family, revocation (RFC 7009).
//!
//! Who the person is (their Atlassian sign-in) and what they consent to is the configuration
//! page's business (`conflux-web`); this crate holds the protocol and the state, which lives in
//! the connection store so that replicas share it. Tokens are stored only as hashes.
