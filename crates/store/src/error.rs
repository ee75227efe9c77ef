//! The store's one error type. Messages name what failed and never carry a token, a key or
//! a database password.

/// The crate's result type.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong in the connection store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be opened or reached.
    #[error("could not open the connection store at {location}: {message}")]
    Open { location: String, message: String },

    /// Bringing the schema up to date failed.
    #[error("could not migrate the connection store: {0}")]
    Migrate(String),

    /// A query failed.
    #[error("connection store query failed: {0}")]
    Database(String),

    /// The encryption key is malformed.
    #[error("invalid store encryption key: {0}")]
    InvalidKey(String),

    /// The database was written with another encryption key.
    #[error(
        "the store encryption key does not match the key this database was created with; \
         supply the original key (a new key cannot read tokens stored under the old one)"
    )]
    WrongKey,

    /// A stored value failed authentication: tampered with, or moved between rows.
    #[error("stored {what} could not be decrypted (tampered with, or written with another key)")]
    Decrypt { what: &'static str },

    /// A stored value could not be read back.
    #[error("stored {what} is malformed: {detail}")]
    Corrupt { what: &'static str, detail: String },

    /// A value handed to the store is not acceptable.
    #[error("invalid {what}: {detail}")]
    Invalid { what: &'static str, detail: String },
}

impl StoreError {
    /// Whether the same call can succeed later unchanged (a busy or unreachable database).
    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Open { .. } | StoreError::Database(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // sqlx errors name the failing statement or server message, never bound values.
        StoreError::Database(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        StoreError::Migrate(e.to_string())
    }
}
