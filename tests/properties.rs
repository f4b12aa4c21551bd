//! Property tests (proptest): round trips of envelopes (docs/envelope.md) and streams (docs/stream.md) for any
//! plaintext, context, segment size and chunking; and "any change is rejected": every single
//! byte change, insertion, deletion or truncation of an envelope or a stream fails to
//! decrypt, and a damaged stream releases nothing that is not authentic.
//!
//! Cases per property: 48 by default (this file runs in a few seconds in debug builds); set
//! `PROPTEST_CASES` for a longer run.

mod common;

use lkr_crypt::format::stream::{MAX_SEGMENT, MIN_SEGMENT};
use lkr_crypt::Crypt;
use proptest::prelude::*;
use std::io::{Read, Write};
use std::sync::OnceLock;

fn crypt() -> &'static Crypt {
    static C: OnceLock<Crypt> = OnceLock::new();
    C.get_or_init(common::new_crypt)
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One edit of a byte string.
#[derive(Clone, Debug)]
enum Change {
    /// XOR the byte at (index mod len) with a non-zero mask.
    Flip(usize, u8),
    /// Insert a byte before (index mod (len + 1)).
    Insert(usize, u8),
    /// Delete the byte at (index mod len).
    Delete(usize),
    /// Keep only the first (index mod len) bytes.
    Truncate(usize),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(i, m)| Change::Flip(i, m)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Change::Insert(i, b)),
        any::<usize>().prop_map(Change::Delete),
        any::<usize>().prop_map(Change::Truncate),
    ]
}

fn apply(data: &[u8], c: &Change) -> Vec<u8> {
    let mut v = data.to_vec();
    let n = v.len();
    match *c {
        Change::Flip(i, m) => v[i % n] ^= m,
        Change::Insert(i, b) => v.insert(i % (n + 1), b),
        Change::Delete(i) => {
            v.remove(i % n);
        }
        Change::Truncate(i) => v.truncate(i % n),
    }
    v
}

/// A segment size within docs/stream.md's bounds: mostly small ones (so that streams span several
/// segments), sometimes the bounds themselves.
fn segment_size() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => MIN_SEGMENT..=3 * MIN_SEGMENT,
        1 => Just(MIN_SEGMENT),
        1 => Just(MAX_SEGMENT),
    ]
}

/// A stream case: segment size, plaintext (0 to ~3 segments, at most 40 000 bytes), write
/// chunk sizes, read-side chunk sizes, context.
fn stream_case() -> impl Strategy<Value = (usize, Vec<u8>, Vec<usize>, Vec<usize>, Vec<u8>)> {
    segment_size().prop_flat_map(|s| {
        let max = (3 * s + 17).min(40_000);
        (
            Just(s),
            proptest::collection::vec(any::<u8>(), 0..max),
            proptest::collection::vec(1..2 * s, 1..6),
            proptest::collection::vec(1usize..(s + 100), 1..6),
            proptest::collection::vec(any::<u8>(), 0..40),
        )
    })
}

fn seal_stream(s: usize, pt: &[u8], writes: &[usize], ctx: &[u8]) -> Vec<u8> {
    let mut w = crypt().encrypting_writer(Vec::new(), ctx, s).unwrap();
    let mut rest = pt;
    let mut i = 0;
    while !rest.is_empty() {
        let n = writes[i % writes.len()].min(rest.len());
        w.write_all(&rest[..n]).unwrap();
        rest = &rest[n..];
        i += 1;
    }
    w.finish().unwrap()
}

/// Reads `inner` in the given chunk sizes.
struct Chunked<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    i: usize,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.sizes[self.i % self.sizes.len()]
            .min(buf.len())
            .min(self.data.len());
        self.i += 1;
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Decrypts with the given inner-read and outer-read chunkings. Returns what was released
/// and whether the stream ended cleanly.
fn open_stream(sealed: &[u8], ctx: &[u8], sizes: &[usize]) -> (Vec<u8>, bool) {
    let inner = Chunked {
        data: sealed,
        sizes,
        i: 0,
    };
    let Ok(mut r) = crypt().decrypting_reader(inner, ctx) else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut i = 1;
    loop {
        let mut buf = vec![0u8; sizes[i % sizes.len()]];
        i += 1;
        match r.read(&mut buf) {
            Ok(0) => return (out, true),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return (out, false),
        }
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn envelope_round_trip(
        pt in proptest::collection::vec(any::<u8>(), 0..4096),
        ctx in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let c = crypt();
        let env = c.encrypt(&pt, &ctx).unwrap();
        prop_assert_eq!(env.len(), pt.len() + 69);
        prop_assert_eq!(&c.decrypt(&env, &ctx).unwrap(), &pt);
        let text = c.encrypt_text(&pt, &ctx).unwrap();
        prop_assert_eq!(&c.decrypt_text(&text, &ctx).unwrap(), &pt);
        prop_assert_eq!(&c.migrate(&env, &ctx).unwrap(), &env);
    }

    #[test]
    fn any_change_to_an_envelope_is_rejected(
        pt in proptest::collection::vec(any::<u8>(), 0..512),
        ctx in proptest::collection::vec(any::<u8>(), 0..32),
        change in change(),
        other_ctx in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let c = crypt();
        let env = c.encrypt(&pt, &ctx).unwrap();
        let bad = apply(&env, &change);
        prop_assert!(c.decrypt(&bad, &ctx).is_err(), "{:?} accepted", change);
        prop_assert!(!c.is_authentic(&bad, &ctx));
        if other_ctx != ctx {
            prop_assert!(c.decrypt(&env, &other_ctx).is_err());
        }
    }

    #[test]
    fn stream_round_trip((s, pt, writes, reads, ctx) in stream_case()) {
        let sealed = seal_stream(s, &pt, &writes, &ctx);
        let segments = pt.len().div_ceil(s).max(1);
        prop_assert_eq!(sealed.len(), 52 + pt.len() + 16 * segments);
        let (out, ok) = open_stream(&sealed, &ctx, &reads);
        prop_assert!(ok);
        prop_assert_eq!(out, pt);
    }

    #[test]
    fn any_change_to_a_stream_is_rejected(
        (s, pt, writes, reads, ctx) in stream_case(),
        change in change(),
    ) {
        let sealed = seal_stream(s, &pt, &writes, &ctx);
        let bad = apply(&sealed, &change);
        let (out, ok) = open_stream(&bad, &ctx, &reads);
        prop_assert!(!ok, "{:?} accepted", change);
        // Nothing that is not authentic was released: only whole segments of the original.
        prop_assert!(out.len() <= pt.len() && out[..] == pt[..out.len()]);
        prop_assert_eq!(out.len() % s, 0);
    }
}
