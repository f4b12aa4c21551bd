use crate::{chunks, crypt, sizes, Input};
use lkr_crypt::format::stream::{StreamDecryptor, HEADER_LEN};
use lkr_crypt::ErrorKind;
use std::io::Read;

/// A reader that hands out its data in the given chunk sizes.
struct Chunked<'a> {
    parts: Vec<&'a [u8]>,
    i: usize,
    off: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.i < self.parts.len() && self.off == self.parts[self.i].len() {
            self.i += 1;
            self.off = 0;
        }
        if self.i == self.parts.len() {
            return Ok(0);
        }
        let part = &self.parts[self.i][self.off..];
        let n = part.len().min(buf.len());
        buf[..n].copy_from_slice(&part[..n]);
        self.off += n;
        Ok(n)
    }
}

fn push(stream: &[u8], ctx: &[u8], sizes: &[u16], tight: bool) -> Result<Vec<u8>, ErrorKind> {
    let c = crypt();
    let header = &stream[..stream.len().min(HEADER_LEN)];
    let mut dec = StreamDecryptor::new(c, header, ctx).map_err(|e| e.kind())?;
    let mut plain = Vec::new();
    let body = stream.get(HEADER_LEN..).unwrap_or(&[]);
    for part in chunks(body, sizes, 3 * 4096) {
        let need = dec.update_max_len(part.len());
        if tight && need > 0 {
            let mut small = vec![0u8; need - 1];
            match dec.update(part, &mut small) {
                Ok(n) => {
                    plain.extend_from_slice(&small[..n]);
                    continue;
                }
                Err(e) if e.kind() == ErrorKind::BufferTooSmall => {
                    assert_eq!(e.needed(), Some(need));
                }
                Err(e) => return Err(e.kind()),
            }
        }
        let mut out = vec![0u8; need];
        let n = dec.update(part, &mut out).map_err(|e| e.kind())?;
        assert!(n <= need && n % dec.segment_size() == 0);
        plain.extend_from_slice(&out[..n]);
    }
    let mut out = vec![0u8; dec.finish_len()];
    let n = dec.finish(&mut out).map_err(|e| e.kind())?;
    assert!(n <= dec.segment_size());
    plain.extend_from_slice(&out[..n]);
    assert!(dec.finish(&mut out).is_err(), "finish twice");
    Ok(plain)
}

fn read(stream: &[u8], ctx: &[u8], sizes: &[u16]) -> Result<Vec<u8>, ()> {
    let c = crypt();
    let reader = Chunked {
        parts: chunks(stream, sizes, 3 * 4096),
        i: 0,
        off: 0,
    };
    let mut r = c.decrypting_reader(reader, ctx).map_err(|_| ())?;
    let mut plain = Vec::new();
    let mut i = 0;
    loop {
        let n = match sizes.get(i % sizes.len().max(1)) {
            Some(&n) if i < 48 => n as usize % 9000 + 1,
            _ => 65536,
        };
        i += 1;
        let mut buf = vec![0u8; n];
        match r.read(&mut buf) {
            Ok(0) => return Ok(plain),
            Ok(k) => plain.extend_from_slice(&buf[..k]),
            Err(_) => return Err(()),
        }
    }
}

/// Stream v1 decryption (docs/stream.md) of arbitrary bytes, through the push API
/// (`StreamDecryptor`) and through `StreamReader`, with arbitrary chunking; both must agree.
/// Input: `ctx_len: u8 ‖ ctx ‖ n: u8 ‖ n × u16 chunk sizes ‖ mode: u8 ‖ stream`.
pub fn stream_decrypt(data: &[u8]) {
    let mut input = Input(data);
    let ctx = input.short().to_vec();
    let n = (input.u8() % 8) as usize;
    let sz = sizes(&mut input, n);
    let mode = input.u8();
    let stream = input.rest().to_vec();

    let pushed = push(&stream, &ctx, &sz, mode & 1 == 1);
    // The reader allocates 3 x S up front: skip it for large (damaged) segment sizes, which
    // would only slow the fuzzer down (no seed stream has them).
    let s = stream
        .get(9..13)
        .map_or(0, |b| u32::from_be_bytes(b.try_into().unwrap()));
    if s <= 1 << 18 {
        let read = read(&stream, &ctx, &sz);
        match (&pushed, &read) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "push API and reader disagree"),
            (Err(_), Err(())) => {}
            _ => panic!("push API and reader disagree: {pushed:?} vs {read:?}"),
        }
    }
    if let Ok(p) = &pushed {
        // Every segment adds 16 bytes; a stream of k full segments has k+1 segments.
        let body = stream.len() - HEADER_LEN;
        assert!(body >= 16 && p.len() <= body - 16);
    }
}
