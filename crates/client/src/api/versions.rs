use conflux_catalog::Operation;
use conflux_types::PageId;

use crate::Client;
use crate::error::Result;
use crate::models::Version;
use crate::paging::{Page, PageRequest};
use crate::transport::Call;

/// `client.versions()`: page history (v2).
pub struct Versions<'a> {
    pub(crate) client: &'a Client,
}

impl Versions<'_> {
    pub async fn for_page(&self, page_id: PageId, page: &PageRequest) -> Result<Page<Version>> {
        let call = Call::new(Operation::GetPageVersions, &[("id", page_id.as_str())])?;
        self.client.list(call, page).await
    }

    /// Metadata of one version.
    pub async fn get(&self, page_id: PageId, number: u64) -> Result<Version> {
        #[derive(serde::Deserialize)]
        struct Detailed {
            #[serde(default)]
            number: u64,
            #[serde(default)]
            message: String,
            #[serde(default, rename = "minorEdit")]
            minor_edit: bool,
            #[serde(default, rename = "authorId")]
            author_id: Option<String>,
            #[serde(default, rename = "createdAt")]
            created_at: Option<String>,
        }
        let n = number.to_string();
        let call = Call::new(
            Operation::GetPageVersionDetails,
            &[("page-id", page_id.as_str()), ("version-number", &n)],
        )?;
        let d: Detailed = self.client.json(call).await?;
        Ok(Version {
            number: d.number,
            message: d.message,
            minor_edit: d.minor_edit,
            author_id: d.author_id,
            created_at: d.created_at,
        })
    }
}
