//! Streams (docs/stream.md) on a handle: the format knows a KEK only as a deriver and an id, so the
//! handle picks it — the active KEK to encrypt, the one the header names to decrypt. These are
//! the constructors the C and JNI adapters and `Crypt::encrypting_writer` use.

use super::Crypt;
use crate::error::Result;
use crate::format::stream::{self, StreamDecryptor, StreamEncryptor, StreamReader, StreamWriter};

impl Crypt {
    /// An `io::Write` that encrypts into `inner` as a stream v1 (docs/stream.md) bound to `context`,
    /// with segments of `segment_size` plaintext bytes (4096..=16 MiB; 65536 is the default).
    /// Call `finish()` at the end.
    pub fn encrypting_writer<W: std::io::Write>(
        &self,
        inner: W,
        context: &[u8],
        segment_size: usize,
    ) -> Result<StreamWriter<W>> {
        StreamWriter::new(self, inner, context, segment_size)
    }

    /// An `io::Read` that decrypts the stream v1 read from `inner`, bound to `context`.
    pub fn decrypting_reader<R: std::io::Read>(
        &self,
        inner: R,
        context: &[u8],
    ) -> Result<StreamReader<R>> {
        StreamReader::new(self, inner, context)
    }
}

impl StreamEncryptor {
    /// Starts a stream under the handle's active KEK with a fresh salt and nonce prefix.
    pub fn new(crypt: &Crypt, context: &[u8], segment_size: usize) -> Result<StreamEncryptor> {
        let kek = crypt.active_kek();
        StreamEncryptor::with_kek(&kek.deriver, kek.id, context, segment_size)
    }

    /// Like [`StreamEncryptor::new`] with a given salt and nonce prefix (known-answer tests
    /// only: real streams draw both fresh). Only with the `test-vectors` feature, which the
    /// crate's own tests enable; never part of a shipped build.
    #[cfg(feature = "test-vectors")]
    pub fn with_salt(
        crypt: &Crypt,
        context: &[u8],
        segment_size: usize,
        salt: &[u8; 32],
        prefix: &[u8; 7],
    ) -> StreamEncryptor {
        let kek = crypt.active_kek();
        StreamEncryptor::with_kek_and_salt(
            &kek.deriver,
            kek.id,
            context,
            segment_size,
            salt,
            prefix,
        )
    }
}

impl StreamDecryptor {
    /// Starts decrypting a stream whose first 52 bytes are `header`, with the KEK it names.
    pub fn new(crypt: &Crypt, header: &[u8], context: &[u8]) -> Result<StreamDecryptor> {
        crate::limits::check_context(context.len())?;
        let h = stream::parse_header(header)?;
        let kek = crypt.kek(h.kek_id)?;
        StreamDecryptor::with_kek(&kek.deriver, kek.id, header, context)
    }
}

impl<W: std::io::Write> StreamWriter<W> {
    /// Starts a stream with segment size `segment_size` (docs/stream.md: 4096..=16 MiB) and writes
    /// its header.
    pub fn new(
        crypt: &Crypt,
        inner: W,
        context: &[u8],
        segment_size: usize,
    ) -> Result<StreamWriter<W>> {
        StreamWriter::with_encryptor(inner, StreamEncryptor::new(crypt, context, segment_size)?)
    }
}

impl<R: std::io::Read> StreamReader<R> {
    /// Reads the header from `inner` and prepares to decrypt under `context`.
    pub fn new(crypt: &Crypt, mut inner: R, context: &[u8]) -> Result<StreamReader<R>> {
        let (header, got) = stream::read_header(&mut inner)?;
        let dec = StreamDecryptor::new(crypt, &header[..got], context)?;
        Ok(StreamReader::with_decryptor(inner, dec))
    }
}
