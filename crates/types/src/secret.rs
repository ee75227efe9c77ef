use std::fmt;

/// A credential value (API token, access or refresh token, client secret).
///
/// `Debug` prints a fixed mask, there is no `Display`, and reading the value takes an explicit
/// [`Secret::expose`], so a secret cannot reach a log line or an error message by accident.
/// Serialising is deliberately not implemented; deserialising is, so config files can hold one.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Secret<T = String>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }

    /// The secret itself. Call it only where the value leaves the process on purpose
    /// (an `Authorization` header, a token request body).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl Secret<String> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Self {
        Secret(value)
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Secret<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_masked() {
        let s = Secret::new("ATATT3xFfGF0-very-secret".to_string());
        let printed = format!("{s:?} {s:#?}");
        assert!(!printed.contains("very-secret"), "{printed}");
        assert_eq!(format!("{s:?}"), "Secret(***)");
    }

    #[test]
    fn masked_inside_derived_debug() {
        #[derive(Debug)]
        #[allow(dead_code)]
        struct Config {
            email: String,
            token: Secret,
        }
        let c = Config {
            email: "a@b.c".into(),
            token: Secret::new("hunter2".into()),
        };
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn deserialises_from_plain_string() {
        let s: Secret = serde_json::from_str("\"abc\"").unwrap();
        assert_eq!(s.expose(), "abc");
    }
}
