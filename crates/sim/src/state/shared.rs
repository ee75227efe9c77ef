//! The state behind its lock, with what every face reads beside it: the scope table and the
//! public URLs.

use std::sync::{Mutex, MutexGuard};

use super::State;
use crate::config::SimConfig;
use crate::info::{Account, BasicCredential, OAuthClientInfo, ScopedToken, ScopedTokens, SimInfo};
use crate::scopes::ScopeTable;

/// The reported base URLs (no trailing slash).
#[derive(Clone, Debug)]
pub(crate) struct Urls {
    pub site: String,
    pub gateway: String,
    pub identity: String,
    pub admin: String,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    pub scopes: ScopeTable,
    pub urls: Urls,
}

impl Shared {
    /// The simulator's state as `config` describes it; `urls` as its listeners answer.
    pub fn new(config: &SimConfig, urls: Urls) -> Shared {
        let scopes = ScopeTable::load();
        let state = State::new(config, &scopes);
        Shared {
            state: Mutex::new(state),
            scopes,
            urls,
        }
    }

    /// The state lock. A poisoned lock is still used: every write validates before mutating,
    /// so a panic elsewhere cannot have left half an update behind.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn info(&self) -> SimInfo {
        let st = self.lock();
        let d = &st.demo;
        SimInfo {
            site_url: self.urls.site.clone(),
            gateway_url: self.urls.gateway.clone(),
            identity_url: self.urls.identity.clone(),
            admin_url: self.urls.admin.clone(),
            cloud_id: st.cloud_id.clone(),
            classic_token: BasicCredential {
                email: d.email.clone(),
                token: d.classic.clone(),
            },
            scoped_tokens: ScopedTokens {
                full: ScopedToken {
                    email: d.email.clone(),
                    token: d.scoped_full.clone(),
                    scopes: d.full_scopes.clone(),
                },
                read_only: ScopedToken {
                    email: d.email.clone(),
                    token: d.scoped_read.clone(),
                    scopes: d.read_scopes.clone(),
                },
            },
            oauth_client: OAuthClientInfo {
                client_id: d.client_id.clone(),
                client_secret: d.client_secret.clone(),
                redirect_uris: d.redirect_uris.clone(),
            },
            accounts: st
                .sign_in_accounts()
                .into_iter()
                .map(|(u, member)| Account {
                    account_id: u.account_id.clone(),
                    email: u.email.clone(),
                    display_name: u.display_name.clone(),
                    member,
                })
                .collect(),
        }
    }
}
