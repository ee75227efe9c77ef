//! Settings, from (in rising precedence) a TOML file, `CONFLUENCE_*` variables (the names
//! Confluence MCP servers already use), `CONFLUX_*` variables (Conflux's own), and flags.
//! Only the binary reads configuration; libraries get typed values.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use conflux_catalog::ScopeSet;
use conflux_client::{ClientConfig, CredentialConfig, Endpoints, TokenKindHint};
use conflux_types::{BaseUrl, CloudId, Secret, SiteUrl};
use serde::Deserialize;

/// One layer of settings; every field optional so layers merge field by field.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Site URL, e.g. `https://example.atlassian.net`.
    pub url: Option<String>,
    pub username: Option<String>,
    pub api_token: Option<Secret>,
    pub cloud_id: Option<String>,
    pub access_token: Option<Secret>,
    /// `classic`, `scoped` or `detect`.
    pub token_kind: Option<String>,
    /// Scopes a scoped token holds (space- or comma-separated), when known.
    pub scopes: Option<String>,
    pub gateway_url: Option<String>,
    pub identity_url: Option<String>,
    /// `text` or `json`.
    pub output: Option<String>,
    /// Seconds within which transient failures (429, 5xx, lost connections) are retried
    /// (default 60).
    #[serde(default, deserialize_with = "string_or_number")]
    pub retry_deadline_secs: Option<String>,
    /// Longest request URL sent, bytes (default 8192; 0: no limit of Conflux's own).
    #[serde(default, deserialize_with = "string_or_number")]
    pub max_url_length: Option<String>,
}

/// A TOML number or string, kept as the string a variable would give.
fn string_or_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum V {
        S(String),
        I(i64),
        F(f64),
    }
    Ok(Option::<V>::deserialize(d)?.map(|v| match v {
        V::S(s) => s,
        V::I(i) => i.to_string(),
        V::F(f) => f.to_string(),
    }))
}

impl Layer {
    /// `self` over `lower`: a field set here wins.
    pub fn over(self, lower: Layer) -> Layer {
        Layer {
            url: self.url.or(lower.url),
            username: self.username.or(lower.username),
            api_token: self.api_token.or(lower.api_token),
            cloud_id: self.cloud_id.or(lower.cloud_id),
            access_token: self.access_token.or(lower.access_token),
            token_kind: self.token_kind.or(lower.token_kind),
            scopes: self.scopes.or(lower.scopes),
            gateway_url: self.gateway_url.or(lower.gateway_url),
            identity_url: self.identity_url.or(lower.identity_url),
            output: self.output.or(lower.output),
            retry_deadline_secs: self.retry_deadline_secs.or(lower.retry_deadline_secs),
            max_url_length: self.max_url_length.or(lower.max_url_length),
        }
    }

    /// The `CONFLUENCE_*` layer.
    pub fn from_confluence_env(env: &HashMap<String, String>) -> Layer {
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        Layer {
            url: get("CONFLUENCE_URL"),
            username: get("CONFLUENCE_USERNAME").or_else(|| get("CONFLUENCE_EMAIL")),
            api_token: get("CONFLUENCE_API_TOKEN").map(Secret::new),
            cloud_id: get("CONFLUENCE_CLOUD_ID"),
            access_token: get("CONFLUENCE_ACCESS_TOKEN").map(Secret::new),
            ..Layer::default()
        }
    }

    /// The `CONFLUX_*` layer.
    pub fn from_conflux_env(env: &HashMap<String, String>) -> Layer {
        let get = |k: &str| env.get(k).filter(|v| !v.trim().is_empty()).cloned();
        Layer {
            token_kind: get("CONFLUX_TOKEN_KIND"),
            scopes: get("CONFLUX_SCOPES"),
            gateway_url: get("CONFLUX_GATEWAY_URL"),
            identity_url: get("CONFLUX_IDENTITY_URL"),
            output: get("CONFLUX_OUTPUT"),
            retry_deadline_secs: get("CONFLUX_RETRY_DEADLINE"),
            max_url_length: get("CONFLUX_MAX_URL_LENGTH"),
            ..Layer::default()
        }
    }

    pub fn from_toml_file(path: &Path) -> anyhow::Result<Layer> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("parsing the config file {}", path.display()))
    }
}

/// The config file: `--config`, else `CONFLUX_CONFIG`, else `$XDG_CONFIG_HOME/conflux/config.toml`
/// (or `~/.config/...`) when it exists.
pub fn config_path(flag: Option<PathBuf>, env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(p) = flag.or_else(|| env.get("CONFLUX_CONFIG").map(PathBuf::from)) {
        return Some(p);
    }
    let base = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| env.get("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    let p = base.join("conflux/config.toml");
    p.exists().then_some(p)
}

/// Output format for people or scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    Text,
    Json,
}

/// Settings resolved into typed values.
#[derive(Debug)]
pub struct Resolved {
    pub credential: CredentialConfig,
    pub client: ClientConfig,
    pub output: Output,
}

impl Layer {
    pub fn output(&self) -> anyhow::Result<Output> {
        match self
            .output
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("text") => Ok(Output::Text),
            Some("json") => Ok(Output::Json),
            Some(other) => bail!("output `{other}` is not known: use `text` or `json`"),
        }
    }

    /// Parses every value once; errors say which setting is wrong and how to fix it.
    pub fn resolve(self) -> anyhow::Result<Resolved> {
        let output = self.output()?;
        let mut endpoints = Endpoints::atlassian();
        if let Some(g) = &self.gateway_url {
            endpoints.gateway = BaseUrl::parse(g).context("CONFLUX_GATEWAY_URL / gateway_url")?;
        }
        if let Some(i) = &self.identity_url {
            endpoints.identity =
                BaseUrl::parse(i).context("CONFLUX_IDENTITY_URL / identity_url")?;
        }
        let mut client = ClientConfig {
            endpoints,
            ..ClientConfig::default()
        };
        if let Some(d) = &self.retry_deadline_secs {
            let secs: f64 = d.trim().parse().ok().filter(|s: &f64| s.is_finite() && *s >= 0.0)
                .ok_or_else(|| anyhow::anyhow!(
                    "CONFLUX_RETRY_DEADLINE / retry_deadline_secs must be a number of seconds, not `{d}`"
                ))?;
            client.retry.deadline = std::time::Duration::from_secs_f64(secs.min(86_400.0));
        }
        if let Some(m) = &self.max_url_length {
            let n: usize = m.trim().parse().map_err(|_| {
                anyhow::anyhow!(
                    "CONFLUX_MAX_URL_LENGTH / max_url_length must be a number of bytes, not `{m}`"
                )
            })?;
            client.max_url_length = (n > 0).then_some(n);
        }
        let site = self
            .url
            .as_deref()
            .map(SiteUrl::parse)
            .transpose()
            .context("CONFLUENCE_URL / url")?;
        let cloud_id = self
            .cloud_id
            .as_deref()
            .map(|c| c.parse::<CloudId>())
            .transpose()
            .map_err(|_| {
                anyhow::anyhow!(
                    "CONFLUENCE_CLOUD_ID must be a UUID (GET {{site}}/_edge/tenant_info shows it)"
                )
            })?;
        let kind = match self
            .token_kind
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("detect") | Some("auto") => TokenKindHint::Detect,
            Some("classic") => TokenKindHint::Classic,
            Some("scoped") => TokenKindHint::Scoped,
            Some(other) => {
                bail!("token kind `{other}` is not known: use classic, scoped or detect")
            }
        };
        let scopes = self.scopes.as_deref().map(|s| {
            let (set, unknown) = ScopeSet::parse_lenient(s);
            for u in unknown {
                tracing::warn!(scope = %u, "CONFLUX_SCOPES names a scope Conflux does not know; ignored");
            }
            set
        });
        let credential = match (self.access_token, self.api_token) {
            (Some(token), _) => CredentialConfig::AccessToken {
                token,
                site,
                cloud_id,
            },
            (None, Some(token)) => {
                let email = self.username.ok_or_else(|| {
                    anyhow::anyhow!("CONFLUENCE_API_TOKEN is set but CONFLUENCE_USERNAME (the account email) is not")
                })?;
                CredentialConfig::ApiToken {
                    email,
                    token,
                    site,
                    cloud_id,
                    kind,
                    scopes,
                }
            }
            (None, None) => bail!(
                "no credential: set CONFLUENCE_URL, CONFLUENCE_USERNAME and CONFLUENCE_API_TOKEN \
                 (or CONFLUENCE_ACCESS_TOKEN), or try `conflux --demo ...` to use the built-in simulator"
            ),
        };
        Ok(Resolved {
            credential,
            client,
            output,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn precedence_is_file_then_confluence_then_conflux_then_flags() {
        let file: Layer = toml::from_str(
            "url = \"https://file.atlassian.net\"\noutput = \"text\"\ngateway_url = \"http://file\"\nusername = \"file@x\"",
        )
        .unwrap();
        let e = env(&[
            ("CONFLUENCE_URL", "https://env.atlassian.net"),
            ("CONFLUX_OUTPUT", "json"),
            ("CONFLUX_GATEWAY_URL", "http://conflux-env"),
        ]);
        let flags = Layer {
            gateway_url: Some("http://flag".into()),
            ..Layer::default()
        };
        let merged = flags
            .over(Layer::from_conflux_env(&e))
            .over(Layer::from_confluence_env(&e))
            .over(file);
        assert_eq!(merged.url.as_deref(), Some("https://env.atlassian.net"));
        assert_eq!(merged.output.as_deref(), Some("json"));
        assert_eq!(merged.gateway_url.as_deref(), Some("http://flag"));
        assert_eq!(merged.username.as_deref(), Some("file@x"));
    }

    #[test]
    fn missing_pieces_get_actionable_errors() {
        let e = Layer::default().resolve().unwrap_err().to_string();
        assert!(e.contains("CONFLUENCE_API_TOKEN"), "{e}");
        let l = Layer {
            api_token: Some(Secret::new("t".into())),
            ..Layer::default()
        };
        let e = l.resolve().unwrap_err().to_string();
        assert!(e.contains("CONFLUENCE_USERNAME"), "{e}");
        let l = Layer {
            output: Some("yaml".into()),
            ..Layer::default()
        };
        assert!(l.resolve().unwrap_err().to_string().contains("text"));
    }

    #[test]
    fn retry_deadline_and_url_limit_from_the_file_or_a_variable() {
        let file: Layer =
            toml::from_str("retry_deadline_secs = 5\nmax_url_length = 0\nusername = \"a@b.c\"\napi_token = \"t\"\nurl = \"https://x.atlassian.net\"").unwrap();
        let r = file.resolve().unwrap();
        assert_eq!(r.client.retry.deadline, std::time::Duration::from_secs(5));
        assert_eq!(r.client.max_url_length, None);
        let env: HashMap<String, String> = [("CONFLUX_RETRY_DEADLINE", "soon")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let bad = Layer::from_conflux_env(&env)
            .over(toml::from_str("username = \"a@b.c\"\napi_token = \"t\"").unwrap());
        assert!(
            bad.resolve()
                .unwrap_err()
                .to_string()
                .contains("CONFLUX_RETRY_DEADLINE")
        );
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        assert!(toml::from_str::<Layer>("site = \"x\"").is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let l = Layer {
            api_token: Some(Secret::new("hunter2-token".into())),
            ..Layer::default()
        };
        assert!(!format!("{l:?}").contains("hunter2"));
    }
}
