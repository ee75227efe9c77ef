//! Value types shared by every Conflux crate: ids, validated URLs and [`Secret`].
//!
//! This crate does no I/O and depends on nothing of ours, so any layer may use it.
//!
//! ```
//! use conflux_types::{Secret, SiteUrl};
//! let site = SiteUrl::parse("https://example.atlassian.net/wiki/").unwrap();
//! assert_eq!(site.as_str(), "https://example.atlassian.net");
//! let token = Secret::new("ATATT-not-a-real-token".to_string());
//! assert_eq!(format!("{token:?}"), "Secret(***)");
//! ```

mod ids;
mod secret;
mod url;

pub use ids::{
    AttachmentId, BlogPostId, CloudId, CommentId, ContentId, DatabaseId, FolderId, IdError, IdKind,
    PageId, SpaceId, SpaceKey, SpaceRef,
};
pub use secret::Secret;
pub use url::{BaseUrl, SiteUrl, UrlError};
