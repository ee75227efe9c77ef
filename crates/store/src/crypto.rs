//! Encryption at rest: XChaCha20-Poly1305 with a 256-bit key the store never writes down.
//!
//! Each value is sealed with a fresh random 192-bit nonce and with associated data naming the
//! table, column and row it belongs to, so a ciphertext copied into another row (another
//! user's connection, say) fails to open instead of silently handing over a token.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};

use crate::error::{Result, StoreError};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// The 32-byte key that seals tokens and client secrets. `Debug` never shows it.
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptionKey(***)")
    }
}

impl EncryptionKey {
    /// A fresh random key.
    pub fn generate() -> EncryptionKey {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = [0u8; 32];
        bytes.copy_from_slice(&key);
        EncryptionKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> EncryptionKey {
        EncryptionKey(bytes)
    }

    /// Parses a key written as 64 hex digits or as base64 (standard or URL-safe, padded or
    /// not) of exactly 32 bytes, the forms `openssl rand -hex 32` / `-base64 32` print.
    pub fn parse(text: &str) -> Result<EncryptionKey> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<std::result::Result<Vec<u8>, _>>()
                .map_err(|_| StoreError::InvalidKey("not valid hex".into()))?
        } else {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::STANDARD_NO_PAD,
                base64::engine::general_purpose::URL_SAFE,
                base64::engine::general_purpose::URL_SAFE_NO_PAD,
            ];
            engines
                .iter()
                .find_map(|e| e.decode(text).ok())
                .ok_or_else(|| {
                    StoreError::InvalidKey(
                        "expected 64 hex digits or base64 of 32 bytes (e.g. `openssl rand -hex 32`)"
                            .into(),
                    )
                })?
        };
        let array: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            StoreError::InvalidKey(format!("the key is {} bytes long; it must be 32", b.len()))
        })?;
        if array.iter().all(|b| *b == array[0]) {
            return Err(StoreError::InvalidKey(
                "the key is one byte repeated 32 times, which is no secret: generate one with \
                 `openssl rand -hex 32`"
                    .into(),
            ));
        }
        Ok(EncryptionKey(array))
    }

    /// A separate 32-byte key for `purpose` (e.g. signing cookies), derived one way so that
    /// what it protects can never be used to recover this key: SHA-256 over a domain tag, the
    /// purpose and the key.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        use sha2::Digest as _;
        let mut h = sha2::Sha256::new();
        h.update(b"conflux-store derive v1\0");
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(self.0);
        h.finalize().into()
    }

    /// The key in the hex form [`EncryptionKey::parse`] reads.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads the key file at `path`, or creates it with a fresh key (owner-only permissions)
    /// when it does not exist. Keeping the key in its own file means a copy of the database
    /// alone reveals no token.
    ///
    /// A key file that the group or others may read is refused: whoever can read it can read
    /// every token in the database.
    pub fn load_or_create(path: &Path) -> Result<EncryptionKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                check_private(path)?;
                EncryptionKey::parse(&text).map_err(|e| match e {
                    StoreError::InvalidKey(m) => {
                        StoreError::InvalidKey(format!("key file {}: {m}", path.display()))
                    }
                    other => other,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = EncryptionKey::generate();
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(|e| key_file_error(path, &e))?;
                }
                write_private(path, format!("{}\n", key.to_hex()).as_bytes())
                    .map_err(|e| key_file_error(path, &e))?;
                Ok(key)
            }
            Err(e) => Err(key_file_error(path, &e)),
        }
    }
}

/// Refuses a key file the group or others can read (Unix permissions).
#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| key_file_error(path, &e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(StoreError::InvalidKey(format!(
            "key file {} can be read by others (mode {:o}): make it private with \
             `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

fn key_file_error(path: &Path, e: &std::io::Error) -> StoreError {
    StoreError::InvalidKey(format!("key file {}: {e}", path.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// Seals and opens values with row-bound associated data.
#[derive(Clone)]
pub(crate) struct Cipher {
    aead: XChaCha20Poly1305,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(XChaCha20-Poly1305)")
    }
}

impl Cipher {
    pub(crate) fn new(key: &EncryptionKey) -> Cipher {
        Cipher {
            aead: XChaCha20Poly1305::new(Key::from_slice(&key.0)),
        }
    }

    /// `version || nonce || ciphertext+tag`.
    pub(crate) fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| StoreError::Invalid {
                what: "value to encrypt",
                detail: "too long".into(),
            })?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    pub(crate) fn open(&self, blob: &[u8], aad: &[u8], what: &'static str) -> Result<Vec<u8>> {
        let (version, rest) = blob.split_first().ok_or(StoreError::Decrypt { what })?;
        if *version != VERSION || rest.len() < NONCE_LEN {
            return Err(StoreError::Decrypt { what });
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(XNonce::from_slice(nonce), Payload { msg: sealed, aad })
            .map_err(|_| StoreError::Decrypt { what })
    }

    pub(crate) fn seal_str(&self, plaintext: &str, aad: &[u8]) -> Result<Vec<u8>> {
        self.seal(plaintext.as_bytes(), aad)
    }

    pub(crate) fn open_string(
        &self,
        blob: &[u8],
        aad: &[u8],
        what: &'static str,
    ) -> Result<String> {
        String::from_utf8(self.open(blob, aad, what)?).map_err(|_| StoreError::Decrypt { what })
    }
}

/// Associated data binding a value to its place: `table/column` plus the row's key parts.
pub(crate) fn aad(place: &str, parts: &[&str]) -> Vec<u8> {
    let mut out = format!("conflux-store/v1/{place}").into_bytes();
    for p in parts {
        out.push(0);
        out.extend_from_slice(p.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose_and_key() {
        let k = EncryptionKey::from_bytes([7; 32]);
        assert_eq!(k.derive("cookies"), k.derive("cookies"));
        assert_ne!(k.derive("cookies"), k.derive("csrf"));
        assert_ne!(
            k.derive("cookies"),
            EncryptionKey::from_bytes([8; 32]).derive("cookies")
        );
        assert_ne!(k.derive("cookies"), [7; 32]);
    }

    #[test]
    fn round_trip_and_row_binding() {
        let c = Cipher::new(&EncryptionKey::generate());
        let a = aad("connections/access", &["t", "alice"]);
        let blob = c.seal_str("tok-123", &a).unwrap();
        assert!(!blob.windows(7).any(|w| w == b"tok-123"));
        assert_eq!(c.open_string(&blob, &a, "x").unwrap(), "tok-123");
        // Moved to bob's row: refused.
        let b = aad("connections/access", &["t", "bob"]);
        assert!(matches!(
            c.open(&blob, &b, "x"),
            Err(StoreError::Decrypt { .. })
        ));
        // Part boundaries matter: ("ab","c") differs from ("a","bc").
        assert_ne!(aad("p", &["ab", "c"]), aad("p", &["a", "bc"]));
    }

    #[test]
    fn nonces_differ_and_tampering_is_detected() {
        let c = Cipher::new(&EncryptionKey::generate());
        let x = c.seal(b"same", b"ad").unwrap();
        let y = c.seal(b"same", b"ad").unwrap();
        assert_ne!(x, y);
        let mut t = x.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(c.open(&t, b"ad", "x").is_err());
        assert!(c.open(&[], b"ad", "x").is_err());
        assert!(c.open(&[1, 2, 3], b"ad", "x").is_err());
    }

    #[test]
    fn wrong_key_cannot_open() {
        let blob = Cipher::new(&EncryptionKey::generate())
            .seal(b"v", b"")
            .unwrap();
        let other = Cipher::new(&EncryptionKey::generate());
        assert!(other.open(&blob, b"", "x").is_err());
    }

    #[test]
    fn key_parsing() {
        let k = EncryptionKey::generate();
        assert_eq!(EncryptionKey::parse(&k.to_hex()).unwrap().0, k.0);
        let b64 = base64::engine::general_purpose::STANDARD.encode(k.0);
        assert_eq!(EncryptionKey::parse(&format!(" {b64}\n")).unwrap().0, k.0);
        let err = EncryptionKey::parse("c2hvcnQ=").unwrap_err().to_string();
        assert!(err.contains("5 bytes"), "{err}");
        assert!(EncryptionKey::parse("not a key!").is_err());
        assert_eq!(format!("{k:?}"), "EncryptionKey(***)");
    }

    /// Issue 10: an all-zero (or any one-byte) key was accepted without a word.
    #[test]
    fn a_key_of_one_repeated_byte_is_refused() {
        for text in [
            "00".repeat(32),
            "ab".repeat(32),
            "AAAA".repeat(11)[..43].to_string(),
        ] {
            let err = EncryptionKey::parse(&text).unwrap_err().to_string();
            assert!(err.contains("repeated"), "{text}: {err}");
        }
    }

    /// Issue 10: a key file readable by everyone was accepted without a word.
    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        EncryptionKey::load_or_create(&path).unwrap();
        for mode in [0o644, 0o640, 0o604] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let err = EncryptionKey::load_or_create(&path)
                .unwrap_err()
                .to_string();
            assert!(err.contains("chmod 600"), "{mode:o}: {err}");
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(EncryptionKey::load_or_create(&path).is_ok());
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        let a = EncryptionKey::load_or_create(&path).unwrap();
        let b = EncryptionKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
