//! The simulator's library errors.

/// Errors of the simulator's library API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    #[error("the fixture is not valid JSON (line {line}, column {column}): {message}")]
    FixtureJson {
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the fixture is inconsistent:\n- {}", problems.join("\n- "))]
    InvalidFixture { problems: Vec<String> },
    #[error("cannot listen on {addr} for the {face} face: {source}")]
    Bind {
        face: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("a public URL override is not a URL: {0}")]
    BadUrl(String),
}

/// `Result` with [`SimError`].
pub type Result<T> = std::result::Result<T, SimError>;
