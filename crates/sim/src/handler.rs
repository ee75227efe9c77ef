//! What a site or gateway handler is and what it sees of its request.

use crate::content::Actor;
use crate::http::{ApiErr, ApiResult, Face, Req};
use crate::state::{State, Urls};

/// A v1 or v2 operation (or the download servlet): runs after the pipeline in `api` admitted the
/// request.
pub(crate) type Handler = fn(&mut Ctx, &mut State) -> ApiResult;

/// A handler's view of the request.
pub(crate) struct Ctx<'a> {
    pub req: &'a Req,
    /// The path's `{name}` segments.
    pub params: Vec<(String, String)>,
    /// Who calls, with the scope check that may wait for the handler's lookups.
    pub actor: Actor,
    pub urls: &'a Urls,
}

impl Ctx<'_> {
    pub fn p(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub fn user(&self) -> Option<&str> {
        self.actor.user()
    }

    /// See [`Actor::checkpoint`].
    pub fn checkpoint(&mut self) -> Result<(), ApiErr> {
        self.actor.checkpoint()
    }

    /// The base the caller used: `{site}` or `{gateway}/ex/confluence/{cloudId}`.
    pub fn face_base(&self) -> String {
        match self.req.face {
            Face::Gateway => format!("{}{}", self.urls.gateway, self.req.prefix),
            _ => self.urls.site.clone(),
        }
    }

    pub fn site(&self) -> &str {
        &self.urls.site
    }
}
