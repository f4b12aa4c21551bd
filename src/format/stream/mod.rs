//! Stream format v1 (docs/stream.md), for backups, cached and delivered files:
//! header `"LKS" ‖ 0x01 ‖ 0x01 ‖ be32(kek_id) ‖ be32(S) ‖ salt(32) ‖ nonce prefix(7)`, then
//! segments `ciphertext ‖ tag(16)`, each holding S plaintext bytes but the last (0..=S).
//! Segment i's nonce is `prefix ‖ be32(i) ‖ last`; additional data = header ‖ context.
//!
//! Three layers, one implementation:
//! * [`StreamEncryptor`] / [`StreamDecryptor`]: push-style state machines writing into
//!   caller buffers (used by the C and JNI adapters). The decryptor holds back the newest
//!   `S + 16` bytes, because only the end of the input tells which segment is the last, and
//!   releases no plaintext before its segment authenticates.
//! * [`StreamWriter`] (`io::Write`) and [`StreamReader`] (`io::Read`) on top of them.
//!
//! Like the envelope, this format knows a KEK only as its [`KekDeriver`] and id
//! ([`StreamEncryptor::with_kek`], [`StreamDecryptor::with_kek`]); the engine's handle adds the
//! constructors that pick the KEK (`StreamEncryptor::new(&crypt, …)`, `StreamDecryptor::new`,
//! `StreamWriter::new`, `StreamReader::new`, in `src/engine/`).
//!
//! Memory is O(S) whatever the stream's length.

use super::with_aad;

mod adapters;
use crate::aead::{Aes256Gcm, TAG_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::kdf::KekDeriver;
pub use adapters::{read_header, StreamReader, StreamWriter};

/// Magic bytes.
pub const MAGIC: &[u8; 3] = b"LKS";
/// Format version.
pub const VERSION: u8 = 1;
/// Algorithm: AES-256-GCM with a per-stream data key (docs/derivations.md).
pub const ALG_AES256GCM: u8 = 1;
/// Header length.
pub const HEADER_LEN: usize = 52;
/// Smallest segment size.
pub const MIN_SEGMENT: usize = 4096;
/// Largest segment size (16 MiB).
pub const MAX_SEGMENT: usize = 16 << 20;
/// Default segment size.
pub const DEFAULT_SEGMENT: usize = 65536;

/// `segment_size`, or [`DEFAULT_SEGMENT`] when it is 0 (callers that leave the choice to the
/// library).
pub fn segment_size_or_default(segment_size: usize) -> usize {
    if segment_size == 0 {
        DEFAULT_SEGMENT
    } else {
        segment_size
    }
}

/// What both directions of a stream do with the bytes pushed through them, for callers that
/// drive either the same way (the C and JNI adapters).
pub trait PushStream {
    /// Processes `input`; returns the bytes written to `out` (see each type's `update`).
    fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize>;
    /// Ends the stream; returns the bytes written to `out` (see each type's `finish`).
    fn finish(&mut self, out: &mut [u8]) -> Result<usize>;
    /// The most bytes [`PushStream::update`] of `input_len` more bytes may write.
    fn update_max_len(&self, input_len: usize) -> usize;
    /// The bytes [`PushStream::finish`] writes.
    fn finish_len(&self) -> usize;
}

macro_rules! push_stream {
    ($t:ty) => {
        impl PushStream for $t {
            fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize> {
                <$t>::update(self, input, out)
            }
            fn finish(&mut self, out: &mut [u8]) -> Result<usize> {
                <$t>::finish(self, out)
            }
            fn update_max_len(&self, input_len: usize) -> usize {
                <$t>::update_max_len(self, input_len)
            }
            fn finish_len(&self) -> usize {
                <$t>::finish_len(self)
            }
        }
    };
}
push_stream!(StreamEncryptor);
push_stream!(StreamDecryptor);

fn check_segment_size(s: usize) -> Result<()> {
    if !(MIN_SEGMENT..=MAX_SEGMENT).contains(&s) {
        return Err(Error::invalid(format!(
            "Segment size {s} is out of range: it must be between {MIN_SEGMENT} and {MAX_SEGMENT} bytes"
        )));
    }
    Ok(())
}

fn too_long() -> Error {
    Error::invalid(
        "The stream is too long: a stream holds at most 2^32 segments; use a larger segment size",
    )
}

/// Segment sealing and opening with one stream key: the nonce and additional data rules.
struct Segments {
    aead: Aes256Gcm,
    header: [u8; HEADER_LEN],
    context: Vec<u8>,
    next: u64,
    size: usize,
}

impl Segments {
    fn nonce(&self, last: bool) -> [u8; 12] {
        let mut n = [0u8; 12];
        n[..7].copy_from_slice(&self.header[45..52]);
        n[7..11].copy_from_slice(&(self.next as u32).to_be_bytes());
        n[11] = last as u8;
        n
    }

    fn seal(&mut self, plaintext: &[u8], last: bool, out: &mut [u8]) -> Result<()> {
        if self.next > u32::MAX as u64 {
            return Err(too_long());
        }
        let nonce = self.nonce(last);
        let (aead, header) = (&self.aead, &self.header);
        with_aad(header, &self.context, |aad| {
            aead.seal_into(&nonce, aad, plaintext, out)
        });
        self.next += 1;
        Ok(())
    }

    fn open(&mut self, sealed: &[u8], last: bool, out: &mut [u8]) -> Result<()> {
        if self.next > u32::MAX as u64 {
            return Err(Error::not_authentic());
        }
        let nonce = self.nonce(last);
        let (aead, header) = (&self.aead, &self.header);
        with_aad(header, &self.context, |aad| {
            aead.open_into(&nonce, aad, sealed, out)
        })
        .map_err(|_| Error::not_authentic())?;
        self.next += 1;
        Ok(())
    }
}

/// Push-style stream encryption into caller buffers.
pub struct StreamEncryptor {
    seg: Segments,
    buf: Vec<u8>,
    finished: bool,
}

impl StreamEncryptor {
    /// Starts a stream under KEK `kek_id` (its `deriver`) with a fresh salt and nonce prefix.
    pub fn with_kek(
        deriver: &KekDeriver,
        kek_id: u32,
        context: &[u8],
        segment_size: usize,
    ) -> Result<StreamEncryptor> {
        check_segment_size(segment_size)?;
        crate::limits::check_context(context.len())?;
        // One draw for both (in the FIPS build, one DRBG call at most).
        let mut salt_prefix = [0u8; 39];
        crate::rng::fill(&mut salt_prefix);
        let salt: [u8; 32] = salt_prefix[..32].try_into().expect("32 bytes");
        let prefix: [u8; 7] = salt_prefix[32..].try_into().expect("7 bytes");
        Ok(Self::with_kek_and_salt(
            deriver,
            kek_id,
            context,
            segment_size,
            &salt,
            &prefix,
        ))
    }

    /// Like [`StreamEncryptor::with_kek`] with a given salt and nonce prefix: real streams draw
    /// both fresh; known-answer tests reach it through `with_salt` (feature `test-vectors`).
    pub(crate) fn with_kek_and_salt(
        deriver: &KekDeriver,
        kek_id: u32,
        context: &[u8],
        segment_size: usize,
        salt: &[u8; 32],
        prefix: &[u8; 7],
    ) -> StreamEncryptor {
        let mut header = [0u8; HEADER_LEN];
        header[..3].copy_from_slice(MAGIC);
        header[3] = VERSION;
        header[4] = ALG_AES256GCM;
        header[5..9].copy_from_slice(&kek_id.to_be_bytes());
        header[9..13].copy_from_slice(&(segment_size as u32).to_be_bytes());
        header[13..45].copy_from_slice(salt);
        header[45..52].copy_from_slice(prefix);
        StreamEncryptor {
            seg: Segments {
                aead: Aes256Gcm::new(&deriver.stream_key(salt)),
                header,
                context: context.to_vec(),
                next: 0,
                size: segment_size,
            },
            buf: Vec::with_capacity(segment_size),
            finished: false,
        }
    }

    /// The 52 header bytes: write them before the first output of [`update`](Self::update).
    pub fn header(&self) -> &[u8; HEADER_LEN] {
        &self.seg.header
    }

    /// The segment size S.
    pub fn segment_size(&self) -> usize {
        self.seg.size
    }

    /// An output size always enough for `update` with `input_len` more bytes.
    pub fn update_max_len(&self, input_len: usize) -> usize {
        (self.buf.len().saturating_add(input_len) / self.seg.size)
            .saturating_mul(self.seg.size + TAG_LEN)
    }

    /// The output size [`finish`](Self::finish) needs.
    pub fn finish_len(&self) -> usize {
        self.buf.len() + TAG_LEN
    }

    /// Encrypts `input`, writing every completed segment to `out` (at least
    /// [`update_max_len`](Self::update_max_len) bytes); returns the bytes written. Up to S
    /// bytes stay buffered until more input or [`finish`](Self::finish).
    pub fn update(&mut self, mut input: &[u8], out: &mut [u8]) -> Result<usize> {
        if self.finished {
            return Err(Error::invalid("The stream is already finished"));
        }
        let need = self.update_max_len(input.len());
        if out.len() < need {
            return Err(Error::buffer_too_small(need, out.len()));
        }
        let s = self.seg.size;
        let mut written = 0;
        loop {
            if self.buf.is_empty() && input.len() > s {
                // Seal straight from the caller's input: no copy.
                self.seg
                    .seal(&input[..s], false, &mut out[written..written + s + TAG_LEN])?;
                written += s + TAG_LEN;
                input = &input[s..];
            } else if self.buf.len() == s && !input.is_empty() {
                self.seg
                    .seal(&self.buf, false, &mut out[written..written + s + TAG_LEN])?;
                zeroize::Zeroize::zeroize(&mut self.buf);
                self.buf.clear();
                written += s + TAG_LEN;
            } else {
                let take = input.len().min(s - self.buf.len());
                self.buf.extend_from_slice(&input[..take]);
                input = &input[take..];
                if input.is_empty() {
                    return Ok(written);
                }
            }
        }
    }

    /// Seals the buffered bytes as the last segment into `out` (at least
    /// [`finish_len`](Self::finish_len) bytes); returns the bytes written.
    pub fn finish(&mut self, out: &mut [u8]) -> Result<usize> {
        if self.finished {
            return Err(Error::invalid("The stream is already finished"));
        }
        let n = self.finish_len();
        if out.len() < n {
            return Err(Error::buffer_too_small(n, out.len()));
        }
        self.seg.seal(&self.buf, true, &mut out[..n])?;
        zeroize::Zeroize::zeroize(&mut self.buf);
        self.finished = true;
        Ok(n)
    }
}

impl Drop for StreamEncryptor {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.buf);
    }
}

/// Parsed stream header fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamHeader {
    /// The KEK that encrypted the stream.
    pub kek_id: u32,
    /// The segment size S.
    pub segment_size: usize,
}

/// Checks a stream header without a key: magic, version, algorithm, segment size.
pub fn parse_header(header: &[u8]) -> Result<StreamHeader> {
    if header.len() >= 4 && &header[..3] == MAGIC && header[3] != VERSION {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            format!("Unsupported stream version {} (this lkr-crypt reads version {VERSION}): upgrade lkr-crypt", header[3]),
        ));
    }
    if header.len() < HEADER_LEN || &header[..3] != MAGIC {
        return Err(Error::new(
            ErrorKind::NotAuthentic,
            "This is not an lkr-crypt stream (no LKS header), or it is truncated",
        ));
    }
    if header[4] != ALG_AES256GCM {
        return Err(Error::new(
            ErrorKind::UnsupportedFormat,
            format!(
                "Unsupported stream algorithm {}: upgrade lkr-crypt",
                header[4]
            ),
        ));
    }
    let kek_id = u32::from_be_bytes(header[5..9].try_into().expect("4"));
    let segment_size = u32::from_be_bytes(header[9..13].try_into().expect("4")) as usize;
    if !(MIN_SEGMENT..=MAX_SEGMENT).contains(&segment_size) {
        return Err(Error::not_authentic());
    }
    Ok(StreamHeader {
        kek_id,
        segment_size,
    })
}

/// Push-style stream decryption into caller buffers.
pub struct StreamDecryptor {
    seg: Segments,
    /// The first authentication failure: every later call returns it again, so that a caller
    /// that retries never sees a clean end of a damaged stream.
    failed: Option<Error>,
    /// Sealed bytes not yet opened: at most S + 16 + 1.
    pending: Vec<u8>,
    finished: bool,
}

impl StreamDecryptor {
    /// Starts decrypting a stream whose first 52 bytes are `header`, with KEK `kek_id` (its
    /// `deriver`): the KEK the header names ([`parse_header`]), else an
    /// [`ErrorKind::UnknownKek`] error.
    pub fn with_kek(
        deriver: &KekDeriver,
        kek_id: u32,
        header: &[u8],
        context: &[u8],
    ) -> Result<StreamDecryptor> {
        crate::limits::check_context(context.len())?;
        let h = parse_header(header)?;
        if h.kek_id != kek_id {
            return Err(Error::new(
                ErrorKind::UnknownKek,
                format!(
                    "The stream was encrypted with KEK {}, not with the KEK {kek_id} given",
                    h.kek_id
                ),
            ));
        }
        let header: [u8; HEADER_LEN] = header[..HEADER_LEN].try_into().expect("52");
        let salt: [u8; 32] = header[13..45].try_into().expect("32");
        Ok(StreamDecryptor {
            seg: Segments {
                aead: Aes256Gcm::new(&deriver.stream_key(&salt)),
                header,
                context: context.to_vec(),
                next: 0,
                size: h.segment_size,
            },
            // Grows with the data that arrives: the header's segment size is not authenticated
            // yet, so nothing is allocated on its word alone.
            pending: Vec::new(),
            failed: None,
            finished: false,
        })
    }

    /// The segment size S.
    pub fn segment_size(&self) -> usize {
        self.seg.size
    }

    /// An output size always enough for `update` with `input_len` more bytes.
    pub fn update_max_len(&self, input_len: usize) -> usize {
        (self.pending.len().saturating_add(input_len) / (self.seg.size + TAG_LEN))
            .saturating_mul(self.seg.size)
    }

    /// The output size [`finish`](Self::finish) needs.
    pub fn finish_len(&self) -> usize {
        self.pending.len().saturating_sub(TAG_LEN)
    }

    /// Consumes sealed bytes; writes the plaintext of every segment that is complete and
    /// known not to be the last (it authenticated) to `out`; returns the bytes written.
    pub fn update(&mut self, input: &[u8], out: &mut [u8]) -> Result<usize> {
        self.check_usable()?;
        let need = self.update_max_len(input.len());
        if out.len() < need {
            return Err(Error::buffer_too_small(need, out.len()));
        }
        let r = self.open_segments(input, out);
        self.remember(r)
    }

    /// Refuses a call after the end or after a failure (the same error again).
    fn check_usable(&self) -> Result<()> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Err(Error::invalid("The stream is already finished"));
        }
        Ok(())
    }

    /// Keeps the first failure of `r`: the stream is unusable from then on.
    fn remember<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn open_segments(&mut self, mut input: &[u8], out: &mut [u8]) -> Result<usize> {
        let (s, sealed) = (self.seg.size, self.seg.size + TAG_LEN);
        let mut written = 0;
        loop {
            if self.pending.is_empty() && input.len() > sealed {
                // A whole segment with more input after it: open it in place of the input.
                self.seg
                    .open(&input[..sealed], false, &mut out[written..written + s])?;
                written += s;
                input = &input[sealed..];
            } else {
                let take = input.len().min(sealed + 1 - self.pending.len());
                self.pending.extend_from_slice(&input[..take]);
                input = &input[take..];
                if self.pending.len() == sealed + 1 {
                    self.seg.open(
                        &self.pending[..sealed],
                        false,
                        &mut out[written..written + s],
                    )?;
                    written += s;
                    self.pending.drain(..sealed);
                } else {
                    return Ok(written);
                }
            }
        }
    }

    /// The input ended: opens what is pending as the last segment into `out` (at least
    /// [`finish_len`](Self::finish_len) bytes); returns the bytes written. A stream cut at a
    /// segment boundary or inside a segment fails here.
    pub fn finish(&mut self, out: &mut [u8]) -> Result<usize> {
        self.check_usable()?;
        if self.pending.len() < TAG_LEN {
            return self.remember(Err(Error::not_authentic()));
        }
        let n = self.finish_len();
        if out.len() < n {
            return Err(Error::buffer_too_small(n, out.len()));
        }
        let r = self.seg.open(&self.pending, true, &mut out[..n]);
        self.remember(r)?;
        self.finished = true;
        Ok(n)
    }
}
