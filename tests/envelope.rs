//! docs/envelope.md: record envelope v1 — round trips, tampering, truncation, context, keys.

mod common;
use common::{bytes, new_crypt};
use lkr_crypt::format::envelope::{HEADER_LEN, OVERHEAD};
use lkr_crypt::{Crypt, ErrorKind};

const CTX: &[u8] = b"CONNECTION.PASSWORD:42";

#[test]
fn round_trips_at_every_interesting_size() {
    let c = new_crypt();
    for n in [0usize, 1, 15, 16, 17, 4096, 1 << 20] {
        let pt = bytes(n, n as u8);
        let env = c.encrypt(&pt, CTX).unwrap();
        assert_eq!(env.len(), n + OVERHEAD);
        assert_eq!(&env[..5], b"LKR\x01\x01");
        assert_eq!(&env[5..9], &c.active_kek_id().to_be_bytes());
        assert_eq!(c.decrypt(&env, CTX).unwrap(), pt, "size {n}");
        // Empty context too.
        let env = c.encrypt(&pt, b"").unwrap();
        assert_eq!(c.decrypt(&env, b"").unwrap(), pt);
    }
}

#[test]
fn salts_and_nonces_are_fresh_for_every_record() {
    let c = new_crypt();
    let a = c.encrypt(b"same", CTX).unwrap();
    let b = c.encrypt(b"same", CTX).unwrap();
    assert_ne!(a[9..41], b[9..41], "salt repeated");
    assert_ne!(a[41..53], b[41..53], "nonce repeated");
    assert_ne!(a, b);
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let c = new_crypt();
    for n in [0usize, 1, 100] {
        let env = c.encrypt(&bytes(n, 7), CTX).unwrap();
        common::assert_bit_flips_refused(&c, &env, CTX);
    }
}

#[test]
fn truncation_and_extension_are_rejected() {
    let c = new_crypt();
    let env = c.encrypt(&bytes(100, 1), CTX).unwrap();
    for len in 0..env.len() {
        let e = c.decrypt(&env[..len], CTX).expect_err("truncated");
        assert!(
            matches!(e.kind(), ErrorKind::NotAuthentic),
            "len {len}: {e}"
        );
    }
    let mut longer = env.clone();
    longer.push(0);
    assert_eq!(
        c.decrypt(&longer, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
    let mut longer = env.clone();
    longer.extend_from_slice(&env[env.len() - 16..]);
    assert_eq!(
        c.decrypt(&longer, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
}

#[test]
fn authentication_failures_say_so_and_nothing_more() {
    let c = new_crypt();
    let env = c.encrypt(b"secret", CTX).unwrap();
    let e = c.decrypt(&env, b"CONNECTION.PASSWORD:43").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert!(e.message().contains("could not be authenticated"), "{e}");
    let mut t = env.clone();
    t[60] ^= 1;
    assert_eq!(c.decrypt(&t, CTX).unwrap_err().message(), e.message());
}

#[test]
fn another_keystore_cannot_decrypt() {
    let a = new_crypt();
    let b = new_crypt();
    let env = a.encrypt(b"x", CTX).unwrap();
    assert_eq!(
        b.decrypt(&env, CTX).unwrap_err().kind(),
        ErrorKind::NotAuthentic
    );
}

#[test]
fn unknown_kek_id_is_named() {
    let c = new_crypt();
    let mut env = c.encrypt(b"x", CTX).unwrap();
    env[5..9].copy_from_slice(&77u32.to_be_bytes());
    let e = c.decrypt(&env, CTX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnknownKek);
    assert!(e.message().contains("KEK 77"), "{e}");
}

#[test]
fn unsupported_version_is_named() {
    let c = new_crypt();
    let mut env = c.encrypt(b"x", CTX).unwrap();
    env[3] = 2;
    let e = c.decrypt(&env, CTX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UnsupportedFormat);
    assert!(e.message().contains("version 2"), "{e}");
}

#[test]
fn buffers_are_checked() {
    let c = new_crypt();
    let mut small = [0u8; 68];
    let e = c.encrypt_into(b"", CTX, &mut small).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
    assert_eq!(e.needed(), Some(69));
    let env = c.encrypt(b"abc", CTX).unwrap();
    let mut out = [0u8; 2];
    assert_eq!(
        c.decrypt_into(&env, CTX, &mut out).unwrap_err().needed(),
        Some(3)
    );
    let mut out = [0u8; 10];
    assert_eq!(c.decrypt_into(&env, CTX, &mut out).unwrap(), 3);
    assert_eq!(&out[..3], b"abc");
}

#[test]
fn a_handle_is_shared_by_many_threads() {
    let c = std::sync::Arc::new(new_crypt());
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let c = c.clone();
            std::thread::spawn(move || {
                for i in 0..2000 {
                    let pt = bytes(i % 300, t);
                    let ctx = format!("T.C:{t}:{i}");
                    let env = c.encrypt(&pt, ctx.as_bytes()).unwrap();
                    assert_eq!(c.decrypt(&env, ctx.as_bytes()).unwrap(), pt);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn header_is_what_spec_says() {
    let c = new_crypt();
    let env = c.encrypt(b"", b"").unwrap();
    assert_eq!(env.len(), HEADER_LEN + 16);
    assert_eq!(Crypt::migrated_max_len(10), 63);
}

#[test]
fn text_forms_are_standard_base64() {
    use base64::Engine;
    let c = new_crypt();
    let text = c.encrypt_text(b"s3cret", CTX).unwrap();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .unwrap();
    assert_eq!(&raw[..4], b"LKR\x01");
    assert_eq!(c.decrypt(&raw, CTX).unwrap(), b"s3cret");
    assert_eq!(
        c.decrypt_text(&format!(" {text}\n"), CTX).unwrap(),
        b"s3cret"
    );
    let e = c.decrypt_text("not base64!", CTX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert!(e.message().contains("not valid base64"), "{e}");
    // Migrating the text form of a v1 value returns it unchanged.
    assert_eq!(c.migrate_text(&text, CTX).unwrap(), text);
}

/// The in-place forms (what the JNI byte[] paths use): the same envelopes as the copying ones,
/// and the same refusals; a failed open leaves the buffer zeroed.
#[test]
fn in_place_forms_agree_with_the_copying_ones() {
    let c = new_crypt();
    for n in [0usize, 1, 15, 16, 17, 4096, 16_384 + 3] {
        let pt = bytes(n, n as u8 ^ 0x5a);
        // encrypt_in_place: the plaintext at [53..len-16].
        let mut buf = vec![0u8; n + OVERHEAD];
        buf[HEADER_LEN..HEADER_LEN + n].copy_from_slice(&pt);
        assert_eq!(c.encrypt_in_place(&mut buf, CTX).unwrap(), n + OVERHEAD);
        assert_eq!(&buf[..5], b"LKR\x01\x01");
        assert_eq!(c.decrypt(&buf, CTX).unwrap(), pt, "size {n}");
        // decrypt_in_place of an envelope from encrypt.
        let env = c.encrypt(&pt, CTX).unwrap();
        let mut out = env[HEADER_LEN..env.len() - 16].to_vec();
        assert_eq!(c.decrypt_in_place(&env, CTX, &mut out).unwrap(), n);
        assert_eq!(out, pt, "size {n}");
        // Wrong context, a changed ciphertext copy, a changed tag: refused, buffer zeroed.
        let copy = || env[HEADER_LEN..env.len() - 16].to_vec();
        let mut out = copy();
        let e = c.decrypt_in_place(&env, b"other", &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotAuthentic);
        assert!(out.iter().all(|&b| b == 0));
        if n > 0 {
            let mut out = copy();
            out[n / 2] ^= 1;
            let e = c.decrypt_in_place(&env, CTX, &mut out).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotAuthentic);
            assert!(out.iter().all(|&b| b == 0));
        }
        let mut bad_tag = env.clone();
        *bad_tag.last_mut().unwrap() ^= 0x80;
        let mut out = copy();
        let e = c.decrypt_in_place(&bad_tag, CTX, &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotAuthentic);
        // A buffer of the wrong length is an argument error, not a guess.
        let mut longer = vec![0u8; n + 1];
        let e = c.decrypt_in_place(&env, CTX, &mut longer).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
    }
    let mut short = vec![0u8; OVERHEAD - 1];
    assert_eq!(
        c.encrypt_in_place(&mut short, CTX).unwrap_err().kind(),
        ErrorKind::InvalidArgument
    );
    let mut out = Vec::new();
    assert_eq!(
        c.decrypt_in_place(&[0u8; 10], CTX, &mut out)
            .unwrap_err()
            .kind(),
        ErrorKind::NotAuthentic
    );
}

/// `decrypt_within` (the JNI caller-owned path when the output is the input's ciphertext
/// position): the plaintext replaces the ciphertext inside the envelope's own buffer; a failure
/// leaves no plaintext there.
#[test]
fn decrypt_within_opens_in_the_envelopes_own_buffer() {
    let c = new_crypt();
    for n in [0usize, 1, 16, 17, 4096, 65_536 + 5] {
        let pt = bytes(n, n as u8 ^ 0x33);
        let env = c.encrypt(&pt, CTX).unwrap();
        let mut buf = env.clone();
        assert_eq!(c.decrypt_within(&mut buf, CTX).unwrap(), n);
        assert_eq!(&buf[HEADER_LEN..HEADER_LEN + n], &pt[..], "size {n}");
        assert_eq!(&buf[..HEADER_LEN], &env[..HEADER_LEN], "header untouched");
        // Wrong context, a flipped tag bit: refused, the ciphertext's bytes zeroed.
        for (ctx, flip) in [(&b"other"[..], None), (CTX, Some(env.len() - 1))] {
            let mut buf = env.clone();
            if let Some(i) = flip {
                buf[i] ^= 0x80;
            }
            let e = c.decrypt_within(&mut buf, ctx).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::NotAuthentic);
            assert!(buf[HEADER_LEN..HEADER_LEN + n].iter().all(|&b| b == 0));
        }
    }
    let e = c.decrypt_within(&mut [0u8; 10], CTX).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
}
