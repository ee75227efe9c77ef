use conflux_catalog::Operation;
use serde_json::{Value, json};

use crate::Client;
use crate::api::Owner;
use crate::error::{ClientError, Result};
use crate::models::ContentProperty;
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

impl Owner {
    /// The operation for pages or for blog posts, with the owner's path parameter.
    fn property_call(
        &self,
        page_op: Operation,
        blog_op: Operation,
        property_id: Option<&str>,
    ) -> Result<Call> {
        let (op, param) = match self {
            Owner::Page(_) => (page_op, "page-id"),
            Owner::BlogPost(_) => (blog_op, "blogpost-id"),
        };
        let id = self.id();
        match property_id {
            Some(p) => Call::new(op, &[(param, id), ("property-id", p)]),
            None => Call::new(op, &[(param, id)]),
        }
    }
}

/// `client.properties()`: content properties of pages and blog posts (v2), and of any content
/// through v1 where the route still serves it (the site URL; the gateway retired v1 properties).
pub struct Properties<'a> {
    pub(crate) client: &'a Client,
}

impl Properties<'_> {
    /// The owner's properties, optionally only the one with `key`.
    pub async fn list(
        &self,
        owner: &Owner,
        key: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<ContentProperty>> {
        let call = owner
            .property_call(
                Operation::GetPageContentProperties,
                Operation::GetBlogpostContentProperties,
                None,
            )?
            .query_opt("key", key);
        self.client.list(call, page).await
    }

    /// The property with `key`, if the owner has one.
    pub async fn get_by_key(&self, owner: &Owner, key: &str) -> Result<Option<ContentProperty>> {
        let found = self.list(owner, Some(key), &PageRequest::limit(1)).await?;
        Ok(found.results.into_iter().find(|p| p.key == key))
    }

    pub async fn get(&self, owner: &Owner, property_id: &str) -> Result<ContentProperty> {
        let call = owner.property_call(
            Operation::GetPageContentPropertiesById,
            Operation::GetBlogpostContentPropertiesById,
            Some(property_id),
        )?;
        self.client.json(call).await
    }

    /// A new property; a key the owner already has is refused (update it instead).
    pub async fn create(&self, owner: &Owner, key: &str, value: Value) -> Result<ContentProperty> {
        if key.trim().is_empty() {
            return Err(ClientError::InvalidInput("a property needs a key".into()));
        }
        let call = owner
            .property_call(
                Operation::CreatePageProperty,
                Operation::CreateBlogpostProperty,
                None,
            )?
            .json(json!({ "key": key, "value": value }));
        self.client.json(call).await
    }

    /// A new value: `version` must be the property's current version + 1; a stale one gets
    /// [`ClientError::VersionConflict`] (or a bad request where Cloud answers 400).
    pub async fn update(
        &self,
        owner: &Owner,
        property_id: &str,
        key: &str,
        value: Value,
        version: u64,
    ) -> Result<ContentProperty> {
        if version < 2 {
            return Err(ClientError::InvalidInput(
                "`version` must be the property's current version + 1 (so at least 2)".into(),
            ));
        }
        let call = owner
            .property_call(
                Operation::UpdatePagePropertyById,
                Operation::UpdateBlogpostPropertyById,
                Some(property_id),
            )?
            .json(json!({ "key": key, "value": value, "version": { "number": version } }));
        self.client.json(call).await
    }

    pub async fn delete(&self, owner: &Owner, property_id: &str) -> Result<()> {
        let call = owner.property_call(
            Operation::DeletePagePropertyById,
            Operation::DeleteBlogpostPropertyById,
            Some(property_id),
        )?;
        self.client.send(&call).await.map(|_| ())
    }

    /// v1: the properties of any content (comments and folders too). Deprecated: through the
    /// gateway this is [`ClientError::Gone`]; use [`Properties::list`] there.
    pub async fn list_v1(
        &self,
        content_id: &str,
        page: &PageRequest,
    ) -> Result<Page<ContentProperty>> {
        let call = Call::new(Operation::GetContentProperties, &[("id", content_id)])?;
        self.client.list(call, page).await
    }

    /// v1: one property of any content by key (`None`: it has none). Deprecated like
    /// [`Properties::list_v1`].
    pub async fn get_v1(&self, content_id: &str, key: &str) -> Result<Option<ContentProperty>> {
        let call = Call::new(
            Operation::GetContentProperty,
            &[("id", content_id), ("key", key)],
        )?;
        match self.client.json(call).await {
            Ok(p) => Ok(Some(p)),
            Err(ClientError::NotFound { .. }) => {
                // Missing content and a missing key both answer 404; tell them apart.
                self.list_v1(content_id, &PageRequest::limit(1)).await?;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}
