use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Declares a string-backed id newtype. Confluence ids are strings in JSON even where the path
/// parameter is an int64, so they stay strings here and are never parsed as numbers.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
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
    /// A blog post id (digits; blog posts share the content id space with pages).
    BlogPostId
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
string_id!(
    /// Any content that can hold pages: a page, folder, database or whiteboard (a parent).
    ContentId
);

/// A space as people name it: by its numeric id (v2) or its key (v1, CQL, URLs). Digits are
/// an id, anything else a key; both are checked before they go anywhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SpaceRef {
    Id(SpaceId),
    Key(SpaceKey),
}

impl SpaceRef {
    pub fn parse(s: &str) -> Result<SpaceRef, IdError> {
        let s = s.trim();
        IdKind::SpaceIdOrKey.check(s)?;
        Ok(if digits(s) {
            SpaceRef::Id(SpaceId(s.to_string()))
        } else {
            SpaceRef::Key(SpaceKey(s.to_string()))
        })
    }

    /// The id or the key, as given.
    pub fn as_str(&self) -> &str {
        match self {
            SpaceRef::Id(id) => id.as_str(),
            SpaceRef::Key(key) => key.as_str(),
        }
    }
}

impl fmt::Display for SpaceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SpaceRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        SpaceRef::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl Serialize for SpaceRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(feature = "schemars")]
impl schemars::JsonSchema for SpaceRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SpaceRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "string" })
    }
}

/// What an id argument names, so that it is checked before it goes into a request path: an id
/// such as `..` or `1/../2` must never reach Confluence as a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Pages, comments, databases, folders, numeric space ids: digits (int64 in the spec).
    Numeric,
    /// An attachment: digits, or digits after `att` as v2 writes it.
    Attachment,
    /// A space key: letters and digits (`DEV`), or `~` and an account id for a personal space.
    SpaceKey,
    /// A space given by its numeric id or its key.
    SpaceIdOrKey,
}

/// Why an id argument was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not {what}")]
pub struct IdError {
    pub value: String,
    pub what: &'static str,
}

const MAX_ID_LEN: usize = 255;

fn digits(s: &str) -> bool {
    !s.is_empty() && s.len() <= 19 && s.bytes().all(|b| b.is_ascii_digit())
}

fn space_key(s: &str) -> bool {
    if s.is_empty() || s.len() > MAX_ID_LEN {
        return false;
    }
    match s.strip_prefix('~') {
        Some(account) => {
            !account.is_empty()
                && account
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_'))
        }
        None => s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
    }
}

impl IdKind {
    /// Checks `value` against the kind; the error names what was expected.
    pub fn check(self, value: &str) -> Result<(), IdError> {
        let (ok, what) = match self {
            IdKind::Numeric => (digits(value), "an id (digits only)"),
            IdKind::Attachment => (
                digits(value.strip_prefix("att").unwrap_or(value)),
                "an attachment id (digits, or `att` and digits)",
            ),
            IdKind::SpaceKey => (
                space_key(value),
                "a space key (letters and digits, or `~` and an account id)",
            ),
            IdKind::SpaceIdOrKey => (
                digits(value) || space_key(value),
                "a space id (digits) or key (letters and digits)",
            ),
        };
        if ok {
            Ok(())
        } else {
            Err(IdError {
                value: value.chars().take(80).collect(),
                what,
            })
        }
    }
}

impl PageId {
    /// A page id from user input: digits only.
    pub fn parse(s: &str) -> Result<PageId, IdError> {
        IdKind::Numeric.check(s.trim())?;
        Ok(PageId(s.trim().to_string()))
    }
}

impl SpaceKey {
    /// A space key from user input.
    pub fn parse(s: &str) -> Result<SpaceKey, IdError> {
        IdKind::SpaceKey.check(s.trim())?;
        Ok(SpaceKey(s.trim().to_string()))
    }
}

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
    fn ids_are_checked_per_kind() {
        assert!(PageId::parse("123").is_ok());
        for bad in ["..", "", "1/2", "12a", "../1", "%2e%2e", "1 2"] {
            assert!(PageId::parse(bad).is_err(), "{bad}");
            assert!(
                IdKind::SpaceIdOrKey.check(bad).is_err() || bad == "12a",
                "{bad}"
            );
        }
        assert!(IdKind::Attachment.check("att42").is_ok());
        assert!(IdKind::Attachment.check("42").is_ok());
        assert!(IdKind::Attachment.check("att").is_err());
        assert!(SpaceKey::parse("DEV").is_ok());
        assert!(SpaceKey::parse("~557058:f1b2-aa").is_ok());
        assert!(SpaceKey::parse("..").is_err());
        assert!(SpaceKey::parse("A/B").is_err());
        assert!(IdKind::SpaceIdOrKey.check("98304").is_ok());
    }

    /// Digits name a space by id, anything else by key; neither takes a path.
    #[test]
    fn space_refs_tell_ids_from_keys() {
        assert_eq!(
            SpaceRef::parse("98304").unwrap(),
            SpaceRef::Id(SpaceId::new("98304"))
        );
        assert_eq!(
            SpaceRef::parse(" ENG ").unwrap(),
            SpaceRef::Key(SpaceKey::new("ENG"))
        );
        for bad in ["", "..", "ENG/1", "a b"] {
            assert!(SpaceRef::parse(bad).is_err(), "{bad}");
        }
        let parsed: SpaceRef = serde_json::from_str("\"~557058:f1b2-aa\"").unwrap();
        assert_eq!(parsed.as_str(), "~557058:f1b2-aa");
        assert!(serde_json::from_str::<SpaceRef>("\"../x\"").is_err());
    }

    #[test]
    fn ids_serialise_as_strings() {
        assert_eq!(serde_json::to_string(&PageId::new("42")).unwrap(), "\"42\"");
    }
}
