//! What a started simulator tells its users: URLs, the demo credentials and the accounts a test
//! can sign in as.

use serde::{Deserialize, Serialize};

/// What a started simulator tells its users (the first stdout line of `conflux sim`). The keys
/// are a stable contract.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimInfo {
    pub site_url: String,
    pub gateway_url: String,
    pub identity_url: String,
    pub admin_url: String,
    pub cloud_id: String,
    pub classic_token: BasicCredential,
    pub scoped_tokens: ScopedTokens,
    pub oauth_client: OAuthClientInfo,
    /// The Atlassian accounts a test can sign in as on the consent page, in this order: the
    /// demo user (who holds every credential above), the second member, the site's other
    /// active non-guest users, then the outside accounts (`member: false`).
    #[serde(default)]
    pub accounts: Vec<Account>,
}

impl SimInfo {
    /// The demo user's sign-in account (the one the consent page preselects).
    pub fn demo_account(&self) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(&self.classic_token.email))
    }

    /// Another user of the site, active and not a guest, who can read the demo user's spaces
    /// (as many of them as anyone can).
    pub fn second_member(&self) -> Option<&Account> {
        let demo = self.demo_account().map(|a| a.account_id.as_str());
        self.accounts
            .iter()
            .find(|a| a.member && Some(a.account_id.as_str()) != demo)
    }

    /// The first Atlassian account that is no user of the site.
    pub fn outsider(&self) -> Option<&Account> {
        self.accounts.iter().find(|a| !a.member)
    }
}

/// An Atlassian account the identity service can sign in. `member`: a user of the simulated
/// site; `false`: an outside account, whose grant lists no site and whom the site refuses.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub account_id: String,
    pub email: String,
    pub display_name: String,
    pub member: bool,
}

/// `email` + API token, sent as HTTP Basic.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BasicCredential {
    pub email: String,
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedTokens {
    /// Every granular `read:`/`write:`/`delete:` scope of the table.
    pub full: ScopedToken,
    /// Every granular `read:` scope.
    pub read_only: ScopedToken,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopedToken {
    pub email: String,
    pub token: String,
    pub scopes: Vec<String>,
}

/// The demo OAuth 2.0 (3LO) app.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthClientInfo {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
}

const MASK: &str = "<redacted>";

// Secrets never reach Debug output (and so never reach logs or panics).
impl std::fmt::Debug for BasicCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredential")
            .field("email", &self.email)
            .field("token", &MASK)
            .finish()
    }
}

impl std::fmt::Debug for ScopedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScopedToken")
            .field("email", &self.email)
            .field("token", &MASK)
            .field("scopes", &self.scopes.len())
            .finish()
    }
}

impl std::fmt::Debug for OAuthClientInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClientInfo")
            .field("client_id", &self.client_id)
            .field("client_secret", &MASK)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}
