//! One error type for the whole crate: a stable [`ErrorKind`] (its numeric code crosses the
//! C and JNI boundaries) and a message written for an operator. Messages never contain key
//! material or plaintext.

use std::fmt;

/// What went wrong, as a stable numeric code. The C header exports these as `LKR_ERR_*`;
/// the Java binding maps them to exception classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorKind {
    /// A null pointer, a bad length, overlapping buffers or another caller mistake.
    InvalidArgument = 1,
    /// The output buffer is too small; the message says how large it must be.
    BufferTooSmall = 2,
    /// The value could not be authenticated (tampered, truncated, wrong context or key).
    NotAuthentic = 3,
    /// The envelope names a KEK id that the keystore does not hold.
    UnknownKek = 4,
    /// Unknown magic, format version or algorithm.
    UnsupportedFormat = 5,
    /// The Customer Master Key configuration is wrong (docs/keys.md).
    MasterKey = 6,
    /// The keystore is missing, malformed, or does not match the CMK.
    Keystore = 7,
    /// A legacy AES-128-CBC value did not decrypt, or the legacy key is missing or invalid.
    Legacy = 8,
    /// A file or stream operation failed.
    Io = 9,
    /// AWS KMS could not be used.
    Kms = 10,
    /// An internal failure (a caught panic): a bug, please report it.
    Internal = 11,
}

impl ErrorKind {
    /// The stable numeric code (0 is success and never an error).
    pub fn code(self) -> i32 {
        self as i32
    }

    /// A short stable name, e.g. `NOT_AUTHENTIC` (what `lkr_status_name` returns).
    pub fn name(self) -> &'static str {
        self.c_name().to_str().expect("ASCII")
    }

    /// [`ErrorKind::name`] as a C string.
    pub fn c_name(self) -> &'static std::ffi::CStr {
        match self {
            ErrorKind::InvalidArgument => c"INVALID_ARGUMENT",
            ErrorKind::BufferTooSmall => c"BUFFER_TOO_SMALL",
            ErrorKind::NotAuthentic => c"NOT_AUTHENTIC",
            ErrorKind::UnknownKek => c"UNKNOWN_KEK",
            ErrorKind::UnsupportedFormat => c"UNSUPPORTED_FORMAT",
            ErrorKind::MasterKey => c"MASTER_KEY",
            ErrorKind::Keystore => c"KEYSTORE",
            ErrorKind::Legacy => c"LEGACY",
            ErrorKind::Io => c"IO",
            ErrorKind::Kms => c"KMS",
            ErrorKind::Internal => c"INTERNAL",
        }
    }

    /// The kind with this code, if any.
    pub fn from_code(code: i32) -> Option<ErrorKind> {
        use ErrorKind::*;
        [
            InvalidArgument,
            BufferTooSmall,
            NotAuthentic,
            UnknownKek,
            UnsupportedFormat,
            MasterKey,
            Keystore,
            Legacy,
            Io,
            Kms,
            Internal,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// An error: a kind and an operator-facing message.
#[derive(Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    needed: Option<usize>,
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The message of every authentication failure (docs/envelope.md: says the value could not be
/// authenticated and never which byte was wrong).
pub const NOT_AUTHENTIC_MSG: &str = "The value could not be authenticated: it was changed, \
truncated, or belongs to another context or keystore";

/// The contract text for a CMK that does not open the keystore (docs/keys.md); every such message
/// starts with it, whichever key source found the mismatch.
pub const MISMATCH: &str = "Master Key does not match the keystore";

impl Error {
    /// A new error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            needed: None,
        }
    }

    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The operator-facing message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`ErrorKind::BufferTooSmall`]: the output size that is needed.
    pub fn needed(&self) -> Option<usize> {
        self.needed
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn not_authentic() -> Error {
        Error::new(ErrorKind::NotAuthentic, NOT_AUTHENTIC_MSG)
    }

    pub(crate) fn master_key(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::MasterKey, message)
    }

    pub(crate) fn keystore(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Keystore, message)
    }

    pub(crate) fn io(what: &str, path: &std::path::Path, err: &std::io::Error) -> Error {
        Error::new(ErrorKind::Io, format!("{what} {}: {err}", path.display()))
    }

    pub(crate) fn buffer_too_small(needed: usize, got: usize) -> Error {
        Error {
            kind: ErrorKind::BufferTooSmall,
            message: format!("Output buffer too small: {needed} bytes needed, {got} given"),
            needed: Some(needed),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({}: {})", self.kind.name(), self.message)
    }
}

impl std::error::Error for Error {}
