use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a string-backed id newtype. Confluence ids are strings in JSON even where the path
/// parameter is an int64, so they stay strings here and are never parsed as numbers.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }
    };
}

string_id!(
    /// A page id (digits in Cloud, kept as a string).
    PageId
);
string_id!(
    /// A space's numeric id, as v2 uses it.
    SpaceId
);
string_id!(
    /// A space key such as `DEV`, as v1, CQL and URLs use it.
    SpaceKey
);
string_id!(
    /// An attachment id (`att123` in v2).
    AttachmentId
);
string_id!(
    /// A footer or inline comment id.
    CommentId
);
string_id!(
    /// A database id.
    DatabaseId
);
string_id!(
    /// A folder id.
    FolderId
);

/// The id of a Confluence Cloud site as the API gateway names it: a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CloudId(uuid::Uuid);

impl CloudId {
    pub fn new(id: uuid::Uuid) -> Self {
        CloudId(id)
    }
}

impl FromStr for CloudId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s.trim()).map(CloudId)
    }
}

impl fmt::Display for CloudId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_id_parses_uuid_and_rejects_junk() {
        let id: CloudId = " 3f1c2b8a-2f54-4b3e-9a47-4c4ad3c0e3d1 ".parse().unwrap();
        assert_eq!(id.to_string(), "3f1c2b8a-2f54-4b3e-9a47-4c4ad3c0e3d1");
        assert!("mysite".parse::<CloudId>().is_err());
    }

    #[test]
    fn ids_serialise_as_strings() {
        assert_eq!(serde_json::to_string(&PageId::new("42")).unwrap(), "\"42\"");
    }
}
