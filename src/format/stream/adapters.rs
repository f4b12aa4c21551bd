//! The `io::Write` / `io::Read` adapters of stream v1 ([`StreamWriter`], [`StreamReader`]) on
//! top of the push-style [`StreamEncryptor`] / [`StreamDecryptor`] of the parent module.

use super::{StreamDecryptor, StreamEncryptor, HEADER_LEN};
use crate::aead::TAG_LEN;
use crate::error::{Error, ErrorKind, Result};
use std::io::{self, Read, Write};

fn to_io(e: Error) -> io::Error {
    let kind = match e.kind() {
        ErrorKind::InvalidArgument => io::ErrorKind::InvalidInput,
        _ => io::ErrorKind::InvalidData,
    };
    io::Error::new(kind, e)
}

/// Encrypts everything written to it into `inner` as a stream v1. Call
/// [`finish`](StreamWriter::finish) at the end: a stream that is not finished lacks its last
/// segment and will not decrypt.
pub struct StreamWriter<W: Write> {
    inner: W,
    enc: StreamEncryptor,
    out: Vec<u8>,
}

/// Input is processed in chunks of this many segments (bounds the output buffer).
const CHUNK_SEGMENTS: usize = 4;

impl<W: Write> StreamWriter<W> {
    /// Writes the header of the stream `enc` starts to `inner`; what is written to the
    /// writer then goes through `enc`.
    pub fn with_encryptor(mut inner: W, enc: StreamEncryptor) -> Result<StreamWriter<W>> {
        let segment_size = enc.segment_size();
        inner
            .write_all(enc.header())
            .map_err(|e| Error::new(ErrorKind::Io, format!("Cannot write the stream: {e}")))?;
        Ok(StreamWriter {
            inner,
            out: vec![0u8; (CHUNK_SEGMENTS + 1) * (segment_size + TAG_LEN)],
            enc,
        })
    }

    /// Seals the last segment, flushes, and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        let n = self.enc.finish(&mut self.out).map_err(to_io)?;
        self.inner.write_all(&self.out[..n])?;
        self.inner.flush()?;
        let StreamWriter { inner, .. } = self;
        Ok(inner)
    }
}

impl<W: Write> Write for StreamWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let chunk = CHUNK_SEGMENTS * self.enc.segment_size();
        for part in buf.chunks(chunk) {
            let n = self.enc.update(part, &mut self.out).map_err(to_io)?;
            self.inner.write_all(&self.out[..n])?;
        }
        Ok(buf.len())
    }

    /// Flushes the inner writer; buffered plaintext (less than one segment) stays buffered.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Decrypts a stream v1 read from `inner`. Returns plaintext only from segments that
/// authenticated; a damaged, truncated or extended stream gives an `InvalidData` error whose
/// inner error is an [`Error`].
pub struct StreamReader<R: Read> {
    inner: R,
    dec: StreamDecryptor,
    input: Vec<u8>,
    plain: Vec<u8>,
    start: usize,
    end: usize,
    done: bool,
    /// The first decryption failure, returned again by every later read.
    failed: Option<Error>,
}

/// The most a [`StreamReader`] reads from its source at once. Its buffers grow beyond this
/// only as a segment's bytes arrive (a header may claim segments of up to 16 MiB before
/// anything is authenticated).
const READ_CHUNK: usize = 256 << 10;

/// Reads a stream's header from `inner`: up to [`HEADER_LEN`] bytes, fewer when the input ends
/// first. Returns the buffer and how many bytes it holds (for [`StreamDecryptor`]).
pub fn read_header<R: Read>(inner: &mut R) -> Result<([u8; HEADER_LEN], usize)> {
    let mut header = [0u8; HEADER_LEN];
    let mut got = 0;
    while got < HEADER_LEN {
        match inner.read(&mut header[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("Cannot read the stream: {e}"),
                ))
            }
        }
    }
    Ok((header, got))
}

impl<R: Read> StreamReader<R> {
    /// Decrypts the rest of `inner` (after the header, see [`read_header`]) with `dec`.
    pub fn with_decryptor(inner: R, dec: StreamDecryptor) -> StreamReader<R> {
        let s = dec.segment_size();
        StreamReader {
            inner,
            input: vec![0u8; (s + TAG_LEN + 1).min(READ_CHUNK)],
            plain: Vec::new(),
            dec,
            start: 0,
            end: 0,
            done: false,
            failed: None,
        }
    }
}

impl<R: Read> Read for StreamReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.start < self.end {
                let n = buf.len().min(self.end - self.start);
                buf[..n].copy_from_slice(&self.plain[self.start..self.start + n]);
                self.start += n;
                return Ok(n);
            }
            if let Some(e) = &self.failed {
                return Err(to_io(e.clone()));
            }
            if self.done || buf.is_empty() {
                return Ok(0);
            }
            let got = match self.inner.read(&mut self.input) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            zeroize::Zeroize::zeroize(&mut self.plain[..self.end]);
            (self.start, self.end) = (0, 0);
            match self.open(got) {
                Ok(n) => self.end = n,
                Err(e) => {
                    self.failed = Some(e.clone());
                    return Err(to_io(e));
                }
            }
        }
    }
}

impl<R: Read> StreamReader<R> {
    /// Decrypts the `got` bytes just read (0: the end) into `plain`, grown (wiped first) to
    /// what they complete.
    fn open(&mut self, got: usize) -> Result<usize> {
        let need = if got == 0 {
            self.dec.finish_len()
        } else {
            self.dec.update_max_len(got)
        };
        if self.plain.len() < need {
            crate::secret::resize_wiping(&mut self.plain, need)?;
        }
        if got == 0 {
            let n = self.dec.finish(&mut self.plain)?;
            self.done = true;
            Ok(n)
        } else {
            self.dec.update(&self.input[..got], &mut self.plain)
        }
    }
}

impl<R: Read> Drop for StreamReader<R> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.plain);
    }
}
