use conflux_catalog::Operation;

use crate::Client;
use crate::error::{ClientError, Result};
use crate::models::{Space, SpacePermission};
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

/// `client.spaces()`: v2 spaces.
pub struct Spaces<'a> {
    pub(crate) client: &'a Client,
}

impl Spaces<'_> {
    /// Spaces the account can see, optionally only those with the given keys.
    pub async fn list(&self, keys: &[String], page: &PageRequest) -> Result<Page<Space>> {
        let mut call = Call::new(Operation::GetSpacesV2, &[])?;
        if !keys.is_empty() {
            call = call.query("keys", keys.join(","));
        }
        self.client.list(call, page).await
    }

    pub async fn get(&self, id: &str) -> Result<Space> {
        self.client
            .json(Call::new(Operation::GetSpaceById, &[("id", id)])?)
            .await
    }

    /// Who may do what in the space (v2 permission assignments).
    pub async fn permissions(&self, id: &str, page: &PageRequest) -> Result<Page<SpacePermission>> {
        let call = Call::new(Operation::GetSpacePermissionsAssignments, &[("id", id)])?;
        self.client.list(call, page).await
    }

    /// A space by key (`DEV`) or, when it is all digits, by id.
    pub async fn get_by_key_or_id(&self, key_or_id: &str) -> Result<Space> {
        if !key_or_id.is_empty() && key_or_id.chars().all(|c| c.is_ascii_digit()) {
            return self.get(key_or_id).await;
        }
        let page = self
            .list(&[key_or_id.to_string()], &PageRequest::limit(1))
            .await?;
        page.results
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::NotFound {
                operation: Operation::GetSpacesV2,
                message: format!("no space with key `{key_or_id}` is visible to this account"),
            })
    }
}
