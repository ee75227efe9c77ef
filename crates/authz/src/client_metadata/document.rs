//! The client metadata fields this server reads (RFC 7591 §2), and the checks they must pass
//! before a person is asked to consent to the client.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::{Host, Url};

use super::error::excerpt;

/// Longest `client_name`, `software_id`, `software_version` accepted, in characters. They are shown
/// on the consent page, where a long name could push the real one out of sight.
pub const MAX_TEXT_CHARS: usize = 200;
/// Longest `scope` accepted, in characters.
pub const MAX_SCOPE_CHARS: usize = 1000;
/// Longest URI (`redirect_uris` entries, `client_uri`, `logo_uri`) accepted, in characters.
pub const MAX_URI_CHARS: usize = 2048;
/// Most `redirect_uris` entries accepted.
pub const MAX_REDIRECT_URIS: usize = 32;

/// The metadata of a public OAuth client: a Client ID Metadata Document, or the body of an
/// RFC 7591 registration request (which has the same fields and no `client_id` yet).
///
/// Build it from untrusted JSON with [`ClientMetadata::from_json`], which checks types, fills the
/// defaults and calls [`ClientMetadata::validate`]. The serde derives are for storing a value that
/// has passed those checks; deserializing skips them.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ClientMetadata {
    /// The client's identifier: for a CIMD client, the URL the document was fetched from. Empty in
    /// a registration request until the server assigns one.
    #[serde(default)]
    pub client_id: String,
    /// The name shown on the consent page (untrusted text: escape it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_name: Option<String>,
    /// The client's home page (an https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    /// The client's logo (an https URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_uri: Option<String>,
    /// Where authorization responses may be sent; an authorization request must name one of
    /// these exactly.
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// `authorization_code`, optionally with `refresh_token`.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// Always `["code"]`.
    #[serde(default = "default_response_types")]
    pub response_types: Vec<String>,
    /// Always `"none"`: public clients, which prove themselves with PKCE.
    #[serde(default = "default_auth_method")]
    pub token_endpoint_auth_method: String,
    /// The scopes the client may ask for, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An identifier of the client software, the same across its installations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_id: Option<String>,
    /// The version of the client software.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".to_owned()]
}

fn default_response_types() -> Vec<String> {
    vec!["code".to_owned()]
}

fn default_auth_method() -> String {
    "none".to_owned()
}

/// A client metadata field that is not acceptable, with what to change.
///
/// [`error_code`](Self::error_code) gives the RFC 7591 §3.2.2 error code for a registration
/// endpoint's answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {problem}")]
pub struct InvalidClientMetadata {
    field: String,
    problem: String,
}

impl InvalidClientMetadata {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The field at fault, e.g. `redirect_uris[1]`, or `(document)` for the whole document.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// `invalid_redirect_uri` when a redirect URI is at fault, else `invalid_client_metadata`
    /// (RFC 7591 §3.2.2).
    pub fn error_code(&self) -> &'static str {
        if self.field.starts_with("redirect_uris") {
            "invalid_redirect_uri"
        } else {
            "invalid_client_metadata"
        }
    }
}

/// Fields that hold a client secret; a public document (or a public client) cannot have one.
const SECRET_FIELDS: &[&str] = &["client_secret", "client_secret_expires_at"];

impl ClientMetadata {
    /// Parses untrusted JSON (a CIMD document or an RFC 7591 registration request) and checks it.
    ///
    /// Fields this server does not use (`contacts`, `jwks_uri`, ...) are ignored; fields it uses
    /// must have the right JSON type.
    pub fn from_json(json: &[u8]) -> Result<Self, InvalidClientMetadata> {
        Self::from_object(parse_object(json)?)
    }

    /// Reads and checks the fields of a parsed JSON object.
    pub(crate) fn from_object(object: Map<String, Value>) -> Result<Self, InvalidClientMetadata> {
        for field in SECRET_FIELDS {
            if object.contains_key(*field) {
                return Err(InvalidClientMetadata::new(
                    *field,
                    "must not be present: this server has public clients only, and a client \
                     metadata document is public, so it cannot carry a secret",
                ));
            }
        }
        let metadata = Self {
            client_id: string(&object, "client_id")?.unwrap_or_default(),
            client_name: string(&object, "client_name")?,
            client_uri: string(&object, "client_uri")?,
            logo_uri: string(&object, "logo_uri")?,
            redirect_uris: strings(&object, "redirect_uris")?.unwrap_or_default(),
            grant_types: strings(&object, "grant_types")?.unwrap_or_else(default_grant_types),
            response_types: strings(&object, "response_types")?
                .unwrap_or_else(default_response_types),
            token_endpoint_auth_method: string(&object, "token_endpoint_auth_method")?
                .unwrap_or_else(default_auth_method),
            scope: string(&object, "scope")?,
            software_id: string(&object, "software_id")?,
            software_version: string(&object, "software_version")?,
        };
        metadata.validate()?;
        Ok(metadata)
    }

    /// Checks the fields' values: redirect URIs (https, http on loopback, or a private-use
    /// scheme), public-client authentication only, the grant and response types this server
    /// supports, and text that is short and free of control characters.
    ///
    /// Registration requests (RFC 7591) share these rules. `client_id` is not checked here: the
    /// fetcher compares it with the URL, and a registration server assigns it.
    pub fn validate(&self) -> Result<(), InvalidClientMetadata> {
        if self.redirect_uris.is_empty() {
            return Err(InvalidClientMetadata::new(
                "redirect_uris",
                "is missing or empty; list at least one redirect URI",
            ));
        }
        if self.redirect_uris.len() > MAX_REDIRECT_URIS {
            return Err(InvalidClientMetadata::new(
                "redirect_uris",
                format!(
                    "has {} entries, more than the {MAX_REDIRECT_URIS} allowed",
                    self.redirect_uris.len()
                ),
            ));
        }
        for (i, uri) in self.redirect_uris.iter().enumerate() {
            check_redirect_uri(uri).map_err(|problem| {
                InvalidClientMetadata::new(format!("redirect_uris[{i}]"), problem)
            })?;
        }

        if self.token_endpoint_auth_method != "none" {
            return Err(InvalidClientMetadata::new(
                "token_endpoint_auth_method",
                format!(
                    "is {}; this server supports public clients only, which prove themselves \
                     with PKCE and no secret, so it must be \"none\" or absent",
                    excerpt(&self.token_endpoint_auth_method)
                ),
            ));
        }

        if self.grant_types.is_empty() {
            return Err(InvalidClientMetadata::new(
                "grant_types",
                "is empty; use [\"authorization_code\"] or [\"authorization_code\", \
                 \"refresh_token\"], or leave it out",
            ));
        }
        if let Some(other) = self
            .grant_types
            .iter()
            .find(|g| !["authorization_code", "refresh_token"].contains(&g.as_str()))
        {
            return Err(InvalidClientMetadata::new(
                "grant_types",
                format!(
                    "contains {}; only \"authorization_code\" and \"refresh_token\" are supported",
                    excerpt(other)
                ),
            ));
        }
        if !self.grant_types.iter().any(|g| g == "authorization_code") {
            return Err(InvalidClientMetadata::new(
                "grant_types",
                "lacks \"authorization_code\", the only way to obtain tokens here",
            ));
        }

        if self.response_types.is_empty() {
            return Err(InvalidClientMetadata::new(
                "response_types",
                "is empty; use [\"code\"] or leave it out",
            ));
        }
        if let Some(other) = self.response_types.iter().find(|r| *r != "code") {
            return Err(InvalidClientMetadata::new(
                "response_types",
                format!("contains {}; only \"code\" is supported", excerpt(other)),
            ));
        }

        if let Some(name) = &self.client_name {
            check_text("client_name", name, MAX_TEXT_CHARS)?;
            if name.trim().is_empty() {
                return Err(InvalidClientMetadata::new(
                    "client_name",
                    "is blank; give the name people should see, or leave it out",
                ));
            }
        }
        for (field, value) in [
            ("software_id", &self.software_id),
            ("software_version", &self.software_version),
        ] {
            if let Some(value) = value {
                check_text(field, value, MAX_TEXT_CHARS)?;
            }
        }
        if let Some(scope) = &self.scope {
            check_text("scope", scope, MAX_SCOPE_CHARS)?;
        }
        for (field, value) in [
            ("client_uri", &self.client_uri),
            ("logo_uri", &self.logo_uri),
        ] {
            if let Some(value) = value {
                check_text(field, value, MAX_URI_CHARS)?;
                check_web_uri(value)
                    .map_err(|problem| InvalidClientMetadata::new(field, problem))?;
            }
        }
        Ok(())
    }
}

/// Parses bytes as a JSON object, without quoting the input back.
pub(crate) fn parse_object(json: &[u8]) -> Result<Map<String, Value>, InvalidClientMetadata> {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(other) => Err(InvalidClientMetadata::new(
            "(document)",
            format!("is a JSON {}, not an object", json_type(&other)),
        )),
        Err(error) => Err(InvalidClientMetadata::new(
            "(document)",
            format!(
                "is not valid JSON ({} at line {}, column {})",
                json_error_kind(&error),
                error.line(),
                error.column()
            ),
        )),
    }
}

/// serde_json's category, which unlike its message never quotes the input.
fn json_error_kind(error: &serde_json::Error) -> &'static str {
    match error.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "unexpected data",
        serde_json::error::Category::Eof => "unexpected end",
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An optional string field; `null` counts as absent (RFC 7591 clients send it for unset fields).
fn string(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<String>, InvalidClientMetadata> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(InvalidClientMetadata::new(
            field,
            format!("must be a string, not a JSON {}", json_type(other)),
        )),
    }
}

/// An optional array-of-strings field.
fn strings(
    object: &Map<String, Value>,
    field: &str,
) -> Result<Option<Vec<String>>, InvalidClientMetadata> {
    match object.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(InvalidClientMetadata::new(
                    format!("{field}[{i}]"),
                    format!("must be a string, not a JSON {}", json_type(other)),
                )),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(InvalidClientMetadata::new(
            field,
            format!(
                "must be an array of strings, not a JSON {}",
                json_type(other)
            ),
        )),
    }
}

/// Bounded length, and no control or invisible formatting characters: these strings are shown
/// to people deciding whether to trust the client, and bidi overrides or zero-width characters
/// would let a name pass for another.
fn check_text(field: &str, value: &str, max_chars: usize) -> Result<(), InvalidClientMetadata> {
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(InvalidClientMetadata::new(
            field,
            format!("is {chars} characters long, more than the {max_chars} allowed"),
        ));
    }
    if let Some((position, c)) = value.chars().enumerate().find(|(_, c)| is_hidden(*c)) {
        return Err(InvalidClientMetadata::new(
            field,
            format!(
                "contains the control character U+{:04X} at position {position}; only visible \
                 text is accepted",
                u32::from(c)
            ),
        ));
    }
    Ok(())
}

/// Control characters, and the formatting characters that change how text around them reads:
/// zero-width ones, bidirectional embeddings, overrides and isolates, and the byte-order mark.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A redirect URI as RFC 8252 and OAuth 2.1 allow for public clients.
fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.chars().count() > MAX_URI_CHARS {
        return Err(format!(
            "is longer than the {MAX_URI_CHARS} characters allowed"
        ));
    }
    if uri.chars().any(is_hidden) {
        return Err("contains a control character".to_owned());
    }
    let url = Url::parse(uri)
        .map_err(|error| format!("{} is not an absolute URL ({error})", excerpt(uri)))?;
    if url.fragment().is_some() {
        return Err(format!(
            "{} has a fragment (#...); redirect URIs must not (RFC 6749 §3.1.2)",
            excerpt(uri)
        ));
    }
    match url.scheme() {
        "https" => {
            if url.host().is_none() {
                return Err(format!("{} has no host", excerpt(uri)));
            }
        }
        "http" => {
            let loopback = match url.host() {
                Some(Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
                Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
                Some(Host::Domain(name)) => name == "localhost",
                None => false,
            };
            if !loopback {
                return Err(format!(
                    "{} uses http on a host other than loopback; use https, or http only on \
                     127.0.0.1, [::1] or localhost for a native app (RFC 8252 §7.3)",
                    excerpt(uri)
                ));
            }
        }
        scheme => {
            // RFC 8252 §7.1: private-use schemes are reverse domain names the app controls.
            // Requiring a dot also keeps out javascript:, data:, file: and the like.
            let reverse_domain =
                scheme.contains('.') && scheme.split('.').all(|label| !label.is_empty());
            if !reverse_domain {
                return Err(format!(
                    "{} has the scheme {}; use https, http on loopback, or a private-use scheme \
                     that is a reverse domain name such as com.example.app:/callback (RFC 8252 §7.1)",
                    excerpt(uri),
                    excerpt(scheme)
                ));
            }
        }
    }
    Ok(())
}

/// `client_uri` and `logo_uri` become links and images on the consent page, so only https.
fn check_web_uri(uri: &str) -> Result<(), String> {
    let url = Url::parse(uri)
        .map_err(|error| format!("{} is not an absolute URL ({error})", excerpt(uri)))?;
    if url.scheme() != "https" || url.host().is_none() {
        return Err(format!("{} is not an https URL", excerpt(uri)));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{} has a user name or password", excerpt(uri)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: Value) -> Result<ClientMetadata, InvalidClientMetadata> {
        ClientMetadata::from_json(value.to_string().as_bytes())
    }

    fn minimal() -> Value {
        json!({
            "client_id": "https://app.example/client.json",
            "redirect_uris": ["https://app.example/callback"],
        })
    }

    fn with(field: &str, value: Value) -> Value {
        let mut doc = minimal();
        doc[field] = value;
        doc
    }

    #[track_caller]
    fn refused(doc: Value, field: &str, says: &str) {
        let error = parse(doc).expect_err("should be refused");
        assert_eq!(error.field(), field, "{error}");
        assert!(error.to_string().contains(says), "{error}");
    }

    #[test]
    fn a_minimal_document_gets_the_defaults() {
        let metadata = parse(minimal()).expect("valid");
        assert_eq!(metadata.grant_types, ["authorization_code"]);
        assert_eq!(metadata.response_types, ["code"]);
        assert_eq!(metadata.token_endpoint_auth_method, "none");
        assert_eq!(metadata.client_name, None);
    }

    #[test]
    fn a_full_document_is_read_and_unknown_fields_ignored() {
        let doc = json!({
            "client_id": "https://app.example/client.json",
            "client_name": "Example App",
            "client_uri": "https://app.example/",
            "logo_uri": "https://app.example/logo.png",
            "redirect_uris": [
                "https://app.example/callback",
                "http://127.0.0.1:33418/callback",
                "http://[::1]/callback",
                "http://localhost:8080/cb",
                "com.example.app:/oauth2redirect",
            ],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
            "scope": "read write",
            "software_id": "4NRB1-0XZABZI9E6-5SM3R",
            "software_version": "2.1",
            "contacts": ["dev@app.example"],
            "jwks_uri": null,
        });
        let metadata = parse(doc).expect("valid");
        assert_eq!(metadata.client_name.as_deref(), Some("Example App"));
        assert_eq!(metadata.redirect_uris.len(), 5);
        assert_eq!(metadata.scope.as_deref(), Some("read write"));
        // What is stored comes back the same.
        let stored = serde_json::to_string(&metadata).expect("serializes");
        let loaded: ClientMetadata = serde_json::from_str(&stored).expect("deserializes");
        assert_eq!(loaded, metadata);
    }

    #[test]
    fn redirect_uris_must_be_safe_for_a_public_client() {
        refused(
            json!({"client_id": "x"}),
            "redirect_uris",
            "missing or empty",
        );
        refused(
            with("redirect_uris", json!([])),
            "redirect_uris",
            "missing or empty",
        );
        refused(
            with("redirect_uris", json!("https://a.example/cb")),
            "redirect_uris",
            "array",
        );
        refused(
            with("redirect_uris", json!([7])),
            "redirect_uris[0]",
            "must be a string",
        );
        for (uri, says) in [
            (
                "http://app.example/callback",
                "http on a host other than loopback",
            ),
            (
                "http://127.0.0.2/callback",
                "http on a host other than loopback",
            ),
            (
                "http://10.0.0.1/callback",
                "http on a host other than loopback",
            ),
            ("https://app.example/callback#x", "fragment"),
            ("/callback", "not an absolute URL"),
            ("myapp://callback", "reverse domain name"),
            ("javascript:alert(1)", "reverse domain name"),
            ("data:text/html,hi", "reverse domain name"),
            ("file:///etc/passwd", "reverse domain name"),
            ("https://app.example/cb\u{0}", "control character"),
        ] {
            let doc = with("redirect_uris", json!(["https://ok.example/cb", uri]));
            refused(doc, "redirect_uris[1]", says);
        }
        let error =
            parse(with("redirect_uris", json!(["http://evil.example/cb"]))).expect_err("refused");
        assert_eq!(error.error_code(), "invalid_redirect_uri");
    }

    #[test]
    fn only_public_clients() {
        for method in [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ] {
            refused(
                with("token_endpoint_auth_method", json!(method)),
                "token_endpoint_auth_method",
                "public clients only",
            );
        }
        refused(
            with("client_secret", json!("s3cret")),
            "client_secret",
            "must not be present",
        );
        refused(
            with("client_secret_expires_at", json!(0)),
            "client_secret_expires_at",
            "must not",
        );
        let error = parse(with("client_secret", json!("s3cret"))).expect_err("refused");
        assert!(!error.to_string().contains("s3cret"), "{error}");
        assert_eq!(error.error_code(), "invalid_client_metadata");
    }

    #[test]
    fn grant_and_response_types_are_limited() {
        refused(
            with("grant_types", json!(["client_credentials"])),
            "grant_types",
            "client_credentials",
        );
        refused(
            with("grant_types", json!(["implicit", "authorization_code"])),
            "grant_types",
            "implicit",
        );
        refused(
            with("grant_types", json!(["refresh_token"])),
            "grant_types",
            "lacks",
        );
        refused(with("grant_types", json!([])), "grant_types", "empty");
        refused(
            with("response_types", json!(["token"])),
            "response_types",
            "only \"code\"",
        );
        refused(
            with("response_types", json!(["code", "id_token"])),
            "response_types",
            "id_token",
        );
    }

    #[test]
    fn text_is_short_and_visible() {
        refused(
            with("client_name", json!("x".repeat(201))),
            "client_name",
            "201 characters",
        );
        refused(
            with("client_name", json!("Good\u{7}App")),
            "client_name",
            "U+0007",
        );
        refused(
            with("client_name", json!("Good\nApp")),
            "client_name",
            "U+000A",
        );
        refused(
            with("client_name", json!("Bank\u{202e}ppA")),
            "client_name",
            "U+202E",
        );
        refused(
            with("client_name", json!("Pay\u{200b}Pal")),
            "client_name",
            "U+200B",
        );
        refused(with("client_name", json!("   ")), "client_name", "blank");
        refused(
            with("client_name", json!(42)),
            "client_name",
            "must be a string",
        );
        refused(
            with("software_version", json!("1\u{1b}[31m")),
            "software_version",
            "U+001B",
        );
        refused(
            with("scope", json!("a ".repeat(600))),
            "scope",
            "more than the 1000",
        );
        refused(
            with("client_uri", json!("javascript:alert(1)")),
            "client_uri",
            "not an https URL",
        );
        refused(
            with("logo_uri", json!("http://app.example/logo.png")),
            "logo_uri",
            "not an https URL",
        );
        // Names in any script are fine.
        parse(with("client_name", json!("Éxample アプリ"))).expect("valid");
    }

    #[test]
    fn not_an_object_and_broken_json_are_described_without_quoting() {
        let error = ClientMetadata::from_json(b"[1, 2]").expect_err("refused");
        assert_eq!(
            error.to_string(),
            "`(document)` is a JSON array, not an object"
        );
        let error =
            ClientMetadata::from_json(b"{\"client_name\": \"<script>secret").expect_err("refused");
        assert!(error.to_string().contains("not valid JSON"), "{error}");
        assert!(!error.to_string().contains("script"), "{error}");
    }
}
