use conflux_catalog::Operation;
use serde_json::{Value, json};

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::{ContentRestriction, ListEnvelope, PermissionCheck};
use crate::transport::Call;

/// What a restriction limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RestrictionOperation {
    /// Who may view the content.
    Read,
    /// Who may edit it.
    Update,
}

impl RestrictionOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionOperation::Read => "read",
            RestrictionOperation::Update => "update",
        }
    }
}

/// One operation's restriction as it should be: only these users and groups. Both empty: no
/// restriction for that operation.
#[derive(Clone, Debug)]
pub struct RestrictionUpdate {
    pub operation: RestrictionOperation,
    pub account_ids: Vec<String>,
    pub group_ids: Vec<String>,
}

/// Whom [`Restrictions::check`] asks about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionSubject {
    /// An account id, or `anonymous`.
    User(String),
    /// A group id.
    Group(String),
}

/// The operations [`Restrictions::check`] can ask about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContentOperation {
    Read,
    Update,
    Delete,
}

impl ContentOperation {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentOperation::Read => "read",
            ContentOperation::Update => "update",
            ContentOperation::Delete => "delete",
        }
    }
}

/// `client.restrictions()`: content restrictions and permission checks (v1; v2 has neither).
pub struct Restrictions<'a> {
    pub(crate) client: &'a Client,
}

impl Restrictions<'_> {
    /// The content's read and update restrictions, with the users and groups they admit.
    pub async fn get(&self, content_id: &str) -> Result<Vec<ContentRestriction>> {
        let call = Call::new(Operation::GetRestrictions, &[("id", content_id)])?
            .query("expand", "restrictions.user,restrictions.group");
        let env: ListEnvelope<ContentRestriction> = self.client.json(call).await?;
        Ok(env.results)
    }

    /// Replaces the content's restrictions with `updates` (an operation left out loses its
    /// restriction). Answers the restrictions afterwards.
    pub async fn set(
        &self,
        content_id: &str,
        updates: &[RestrictionUpdate],
    ) -> Result<Vec<ContentRestriction>> {
        let body: Vec<Value> = updates
            .iter()
            .map(|u| {
                let mut restrictions = json!({});
                if !u.account_ids.is_empty() {
                    restrictions["user"] = u
                        .account_ids
                        .iter()
                        .map(|a| json!({"type": "known", "accountId": a}))
                        .collect();
                }
                if !u.group_ids.is_empty() {
                    restrictions["group"] = u
                        .group_ids
                        .iter()
                        .map(|g| json!({"type": "group", "id": g}))
                        .collect();
                }
                json!({"operation": u.operation.as_str(), "restrictions": restrictions})
            })
            .collect();
        let call = Call::new(Operation::UpdateRestrictions, &[("id", content_id)])?
            .query("expand", "restrictions.user,restrictions.group")
            .json(Value::Array(body));
        let env: ListEnvelope<ContentRestriction> = self.client.json(call).await?;
        Ok(env.results)
    }

    /// Whether `subject` may do `operation` on the content (space permissions and
    /// restrictions); `errors` say why not.
    pub async fn check(
        &self,
        content_id: &str,
        subject: &PermissionSubject,
        operation: ContentOperation,
    ) -> Result<PermissionCheck> {
        let (kind, identifier) = match subject {
            PermissionSubject::User(id) => ("user", id),
            PermissionSubject::Group(id) => ("group", id),
        };
        if identifier.trim().is_empty() {
            return Err(ClientError::InvalidInput(
                "name the user or group to check".into(),
            ));
        }
        let call =
            Call::new(Operation::CheckContentPermission, &[("id", content_id)])?.json(json!({
                "subject": {"type": kind, "identifier": identifier},
                "operation": operation.as_str(),
            }));
        self.client.json(call).await
    }
}
