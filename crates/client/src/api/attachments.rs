use bytes::Bytes;
use conflux_catalog::Operation;
use conflux_types::PageId;

use crate::Client;
use crate::api::Owner;
use crate::api::pages::outcome_unknown;
use crate::error::{ClientError, Result};
use crate::models::{Attachment, ListEnvelope, V1Content};
use crate::paging::{Page, PageRequest, stream_pages};
use crate::retry::Backoff;
use crate::transport::{Body, Call};

/// A file to attach.
#[derive(Clone, Debug)]
pub struct NewAttachment {
    pub file_name: String,
    pub media_type: String,
    pub bytes: Bytes,
    pub comment: Option<String>,
}

/// Downloaded bytes with what Confluence said about them.
#[derive(Clone, Debug)]
pub struct Download {
    pub bytes: Bytes,
    pub media_type: Option<String>,
}

/// `client.attachments()` of pages and blog posts: list and read with v2, upload and download
/// with v1 (v2 has neither).
pub struct Attachments<'a> {
    pub(crate) client: &'a Client,
}

impl Attachments<'_> {
    pub async fn for_page(&self, page_id: PageId, page: &PageRequest) -> Result<Page<Attachment>> {
        self.of(&Owner::Page(page_id), page).await
    }

    /// The attachments of a page or blog post (v2 has a path for each).
    pub async fn of(&self, owner: &Owner, page: &PageRequest) -> Result<Page<Attachment>> {
        let call = owner.call(
            Operation::GetPageAttachments,
            Operation::GetBlogpostAttachments,
        )?;
        self.client.list(call, page).await
    }

    /// Every attachment of a page or blog post, following cursors (250 a request).
    pub async fn all_of(&self, owner: &Owner) -> Result<Vec<Attachment>> {
        use futures::TryStreamExt as _;
        stream_pages(PageRequest::limit(250), |req| async move {
            self.of(owner, &req).await
        })
        .try_collect()
        .await
    }

    /// Moves an attachment to the trash, or (`purge`) deletes a trashed one for good.
    pub async fn delete(&self, id: &str, purge: bool) -> Result<()> {
        let call = Call::new(Operation::DeleteAttachment, &[("id", id)])?
            .query_opt("purge", purge.then_some("true"));
        self.client.send(&call).await.map(|_| ())
    }

    pub async fn get(&self, id: &str) -> Result<Attachment> {
        self.client
            .json(Call::new(Operation::GetAttachmentById, &[("id", id)])?)
            .await
    }

    /// The file's bytes through v1 `.../child/attachment/{id}/download`, the one download
    /// endpoint with a published scope (`read:attachment:confluence`): the `/download/attachments`
    /// servlet refuses scoped and OAuth tokens on the gateway.
    pub async fn download(
        &self,
        owner: impl Into<Owner>,
        attachment_id: &str,
        max_bytes: Option<u64>,
    ) -> Result<Download> {
        let owner = owner.into();
        let call = Call::new(
            Operation::DownloadAttatchment,
            &[("id", owner.id()), ("attachmentId", attachment_id)],
        )?;
        let resp = self.client.send(&call).await?;
        if let Some(max) = max_bytes
            && resp.bytes.len() as u64 > max
        {
            return Err(ClientError::InvalidInput(format!(
                "the attachment is {} bytes, over the {max}-byte cap; raise the cap or use its download link",
                resp.bytes.len()
            )));
        }
        let media_type = resp
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(String::from);
        Ok(Download {
            bytes: resp.bytes,
            media_type,
        })
    }

    /// Uploads a file to a page or blog post (v1, multipart) and returns the new attachment's id.
    pub async fn upload(&self, owner: impl Into<Owner>, file: NewAttachment) -> Result<String> {
        let owner = owner.into();
        let (name, size) = (file.file_name.clone(), file.bytes.len() as u64);
        let call = file_call(Operation::CreateAttachment, &[("id", owner.id())], file)?;
        let mut backoff = Backoff::new(&self.client.config().retry);
        let mut sent = false;
        loop {
            backoff.attempt();
            let error = match self
                .client
                .json::<ListEnvelope<V1Content>>(call.clone())
                .await
            {
                Ok(env) => {
                    return env.results.into_iter().next().map(|c| c.id).ok_or_else(|| {
                        ClientError::Decode {
                            status: 200,
                            excerpt: "the upload answer listed no attachment".into(),
                        }
                    });
                }
                Err(e) => e,
            };
            let repeated_exists = sent
                && matches!(&error, ClientError::BadRequest { message, .. }
                    if message.to_ascii_lowercase().contains("same file name"));
            if !(outcome_unknown(&error) || repeated_exists) {
                return Err(error);
            }
            sent = true;
            // Lost answer or 5xx: the attachment is there when the page holds a file of that
            // name and size.
            match self.of(&owner, &PageRequest::limit(250)).await {
                Ok(listed) => {
                    if let Some(a) = listed
                        .results
                        .into_iter()
                        .find(|a| a.title == name && a.file_size == size)
                    {
                        return Ok(a.id);
                    }
                    if repeated_exists {
                        return Err(error);
                    }
                }
                Err(_) => return Err(error),
            }
            match backoff.next_wait(None) {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(error),
            }
        }
    }

    /// Uploads a file as a new attachment, or, when the page already has a file of that
    /// name, as that attachment's next version (v1 `PUT`). Answers the attachment with its
    /// version. Repeating it after a lost answer makes one more version, never a second file.
    pub async fn upload_or_update(
        &self,
        owner: impl Into<Owner>,
        file: NewAttachment,
    ) -> Result<V1Content> {
        let owner = owner.into();
        let call = file_call(
            Operation::CreateOrUpdateAttachments,
            &[("id", owner.id())],
            file,
        )?;
        let env: ListEnvelope<V1Content> = self.client.json(call).await?;
        env.results
            .into_iter()
            .next()
            .ok_or_else(|| ClientError::Decode {
                status: 200,
                excerpt: "the upload answer listed no attachment".into(),
            })
    }

    /// New bytes (and file name, media type, comment) for attachment `attachment_id` of
    /// `page_id`: its next version.
    pub async fn update_data(
        &self,
        owner: impl Into<Owner>,
        attachment_id: &str,
        file: NewAttachment,
    ) -> Result<V1Content> {
        let owner = owner.into();
        let call = file_call(
            Operation::UpdateAttachmentData,
            &[("id", owner.id()), ("attachmentId", attachment_id)],
            file,
        )?;
        self.client.json(call).await
    }
}

/// A multipart call carrying one file, its name checked.
fn file_call(op: Operation, params: &[(&str, &str)], file: NewAttachment) -> Result<Call> {
    if file.file_name.trim().is_empty() || file.file_name.contains('/') {
        return Err(ClientError::InvalidInput(
            "the file name must be non-empty and contain no `/`".into(),
        ));
    }
    let mut call = Call::new(op, params)?;
    call.body = Body::File {
        file_name: file.file_name,
        media_type: file.media_type,
        bytes: file.bytes,
        comment: file.comment,
    };
    Ok(call)
}
