//! docs/stream.md: stream v1 — round trips around segment boundaries, every kind of damage rejected.

mod common;
use common::{bytes, new_crypt};
use lkr_crypt::format::stream::{StreamDecryptor, StreamEncryptor, HEADER_LEN};
use lkr_crypt::{Crypt, ErrorKind};
use std::io::{Read, Write};

const S: usize = 4096;
const CTX: &[u8] = b"backup:2026-11-28";

fn encrypt(c: &Crypt, pt: &[u8], write_chunk: usize) -> Vec<u8> {
    let mut w = c.encrypting_writer(Vec::new(), CTX, S).unwrap();
    for part in pt.chunks(write_chunk.max(1)) {
        w.write_all(part).unwrap();
    }
    w.finish().unwrap()
}

fn decrypt(c: &Crypt, sealed: &[u8], ctx: &[u8]) -> Result<Vec<u8>, lkr_crypt::Error> {
    let mut r = c.decrypting_reader(sealed, ctx)?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(|e| {
        e.get_ref()
            .and_then(|i| i.downcast_ref::<lkr_crypt::Error>())
            .cloned()
            .unwrap_or_else(|| panic!("not an lkr error: {e}"))
    })?;
    Ok(out)
}

fn segments(n: usize) -> usize {
    n / S + 1 - usize::from(n.is_multiple_of(S) && n > 0) // full segments, and the last (0..=S)
}

#[test]
fn round_trips_around_segment_boundaries() {
    let c = new_crypt();
    for n in [0, 1, S - 1, S, S + 1, 3 * S, 3 * S + 7] {
        let pt = bytes(n, 3);
        for chunk in [1usize, 7, S, 3 * S + 1, 1 << 20] {
            if chunk == 1 && n > S + 1 {
                continue;
            }
            let sealed = encrypt(&c, &pt, chunk);
            assert_eq!(&sealed[..5], b"LKS\x01\x01");
            assert_eq!(&sealed[9..13], &(S as u32).to_be_bytes());
            assert_eq!(sealed.len(), HEADER_LEN + n + 16 * segments(n), "size {n}");
            assert_eq!(
                decrypt(&c, &sealed, CTX).unwrap(),
                pt,
                "size {n}, chunk {chunk}"
            );
        }
    }
}

#[test]
fn random_sizes_and_random_read_sizes() {
    let c = new_crypt();
    let mut seed = [0u8; 8];
    lkr_crypt::rng::fill(&mut seed);
    let mut x = u64::from_le_bytes(seed) | 1;
    let mut next = |m: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % m as u64) as usize
    };
    for _ in 0..30 {
        let n = next(10 * S);
        let pt = bytes(n, n as u8);
        let sealed = encrypt(&c, &pt, 1 + next(2 * S));
        let mut r = c.decrypting_reader(&sealed[..], CTX).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0u8; 1 + next(3 * S)];
        loop {
            let k = r.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            out.extend_from_slice(&buf[..k]);
        }
        assert_eq!(out, pt, "size {n} (seed {seed:?})");
    }
}

#[test]
fn push_api_matches_the_io_adapters() {
    let c = new_crypt();
    let pt = bytes(5 * S + 123, 9);
    let mut enc = StreamEncryptor::new(&c, CTX, S).unwrap();
    let mut sealed = enc.header().to_vec();
    for part in pt.chunks(1000) {
        let mut out = vec![0u8; enc.update_max_len(part.len())];
        let n = enc.update(part, &mut out).unwrap();
        sealed.extend_from_slice(&out[..n]);
    }
    let mut out = vec![0u8; enc.finish_len()];
    let n = enc.finish(&mut out).unwrap();
    sealed.extend_from_slice(&out[..n]);
    assert_eq!(decrypt(&c, &sealed, CTX).unwrap(), pt);

    let mut dec = StreamDecryptor::new(&c, &sealed[..HEADER_LEN], CTX).unwrap();
    let mut plain = Vec::new();
    for part in sealed[HEADER_LEN..].chunks(333) {
        let mut out = vec![0u8; dec.update_max_len(part.len())];
        let n = dec.update(part, &mut out).unwrap();
        plain.extend_from_slice(&out[..n]);
    }
    let mut out = vec![0u8; dec.finish_len()];
    let n = dec.finish(&mut out).unwrap();
    plain.extend_from_slice(&out[..n]);
    assert_eq!(plain, pt);
    // Too-small buffers are refused with the size needed.
    let mut enc = StreamEncryptor::new(&c, CTX, S).unwrap();
    let e = enc.update(&[0u8; 2 * S], &mut [0u8; 10]).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(2 * (S + 16)));
}

#[test]
fn truncation_anywhere_is_rejected() {
    let c = new_crypt();
    let pt = bytes(3 * S + 100, 1);
    let sealed = encrypt(&c, &pt, S);
    let seg = S + 16;
    let mut cuts: Vec<usize> = (0..=3).map(|i| HEADER_LEN + i * seg).collect(); // boundaries
    cuts.extend([
        0,
        10,
        HEADER_LEN - 1,
        HEADER_LEN + 1,
        HEADER_LEN + seg / 2,
        sealed.len() - 1,
        sealed.len() - 17,
    ]);
    for cut in cuts {
        assert!(
            decrypt(&c, &sealed[..cut], CTX).is_err(),
            "cut at {cut} accepted"
        );
    }
    // A stream whose length is an exact multiple of S, cut after its next-to-last segment.
    let sealed = encrypt(&c, &bytes(2 * S, 2), S);
    assert!(decrypt(&c, &sealed[..HEADER_LEN + seg], CTX).is_err());
}

#[test]
fn reordering_splicing_and_appending_are_rejected() {
    let c = new_crypt();
    let seg = S + 16;
    let a = encrypt(&c, &bytes(3 * S + 5, 1), S);
    let b = encrypt(&c, &bytes(3 * S + 5, 1), S);
    // Swap segments 0 and 1.
    let mut r = a.clone();
    r[HEADER_LEN..HEADER_LEN + seg].copy_from_slice(&a[HEADER_LEN + seg..HEADER_LEN + 2 * seg]);
    r[HEADER_LEN + seg..HEADER_LEN + 2 * seg].copy_from_slice(&a[HEADER_LEN..HEADER_LEN + seg]);
    assert_eq!(
        decrypt(&c, &r, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    // Header and first segment of a, the rest of b.
    let mut spliced = a[..HEADER_LEN + seg].to_vec();
    spliced.extend_from_slice(&b[HEADER_LEN + seg..]);
    assert!(decrypt(&c, &spliced, CTX).is_err());
    // Appended bytes, appended segment.
    for extra in [&b"x"[..], &a[HEADER_LEN..HEADER_LEN + seg]] {
        let mut longer = a.clone();
        longer.extend_from_slice(extra);
        assert!(decrypt(&c, &longer, CTX).is_err());
    }
    // Two whole streams back to back.
    let mut twice = a.clone();
    twice.extend_from_slice(&a);
    assert!(decrypt(&c, &twice, CTX).is_err());
}

#[test]
fn every_header_bit_flip_is_rejected() {
    let c = new_crypt();
    let sealed = encrypt(&c, &bytes(S + 3, 4), S);
    for bit in 0..HEADER_LEN * 8 {
        let mut t = sealed.clone();
        t[bit / 8] ^= 1 << (bit % 8);
        assert!(decrypt(&c, &t, CTX).is_err(), "header bit {bit} accepted");
    }
    // And a flip in each segment's body or tag.
    for pos in [
        HEADER_LEN,
        HEADER_LEN + S + 15,
        HEADER_LEN + S + 16,
        sealed.len() - 1,
    ] {
        let mut t = sealed.clone();
        t[pos] ^= 0x80;
        assert_eq!(
            decrypt(&c, &t, CTX).unwrap_err().kind(),
            ErrorKind::NotAuthentic
        );
    }
}

#[test]
fn context_kek_and_segment_size_are_checked() {
    let c = new_crypt();
    let sealed = encrypt(&c, b"backup bytes", S);
    assert_eq!(
        decrypt(&c, &sealed, b"other").unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    assert_eq!(
        decrypt(&new_crypt(), &sealed, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    let mut t = sealed.clone();
    t[5..9].copy_from_slice(&9u32.to_be_bytes());
    let e = decrypt(&c, &t, CTX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKek);
    assert!(e.message().contains("KEK 9"), "{e}");
    for bad in [0usize, 4095, (16 << 20) + 1] {
        let e = c
            .encrypting_writer(Vec::new(), CTX, bad)
            .err()
            .expect("bad segment size accepted");
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
}

#[test]
fn nothing_released_before_its_segment_authenticates() {
    let c = new_crypt();
    let pt = bytes(2 * S + 10, 5);
    let mut sealed = encrypt(&c, &pt, S);
    let last = sealed.len() - 1;
    sealed[last] ^= 1; // damage the last segment's tag
    let mut r = c.decrypting_reader(&sealed[..], CTX).unwrap();
    let mut out = Vec::new();
    assert!(r.read_to_end(&mut out).is_err());
    assert_eq!(
        out.len(),
        2 * S,
        "only the authentic full segments were released"
    );
    assert_eq!(out, pt[..2 * S]);
}

/// Reads `r` to its end or first error, then reads three more times.
fn read_then_retry(mut r: impl Read) -> (std::io::Result<usize>, Vec<std::io::Result<usize>>) {
    let mut sink = Vec::new();
    let first = r.read_to_end(&mut sink);
    let mut buf = [0u8; 64];
    let retries = (0..3).map(|_| r.read(&mut buf)).collect();
    (first, retries)
}

#[test]
fn after_a_failure_every_later_read_fails() {
    let c = new_crypt();
    let sealed = encrypt(&c, &bytes(3 * S + 100, 9), 1000);
    let mut tampered = sealed.clone();
    tampered[HEADER_LEN + S + 16 + 5] ^= 1; // in segment 1
    let truncated = &sealed[..HEADER_LEN + 2 * (S + 16)]; // at a segment boundary
    for (what, input) in [("tampered", &tampered[..]), ("truncated", truncated)] {
        let (first, retries) = read_then_retry(c.decrypting_reader(input, CTX).unwrap());
        let e = first.expect_err(what);
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData, "{what}: {e}");
        for r in retries {
            let again = r.expect_err("a read after a failure must fail again, never end cleanly");
            assert_eq!(again.kind(), e.kind(), "{what}");
            assert_eq!(again.to_string(), e.to_string(), "{what}");
        }
    }
    // The push API too: after a failed update or finish, every later call fails.
    let mut d = StreamDecryptor::new(&c, &tampered[..HEADER_LEN], CTX).unwrap();
    let mut out = vec![0u8; 4 * S];
    let body = &tampered[HEADER_LEN..];
    let e = d.update(body, &mut out).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert_eq!(
        d.update(&[], &mut out).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    assert_eq!(
        d.finish(&mut out).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    let mut d = StreamDecryptor::new(&c, &truncated[..HEADER_LEN], CTX).unwrap();
    let n = d.update(&truncated[HEADER_LEN..], &mut out).unwrap();
    assert_eq!(n, S);
    assert_eq!(
        d.finish(&mut out).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    assert_eq!(
        d.finish(&mut out).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
}
