use crate::{crypt, Input};
use lkr_crypt::ErrorKind;

/// Envelope v1 decryption (docs/envelope.md) of arbitrary bytes under an arbitrary context, over the
/// fixed keystore. Input: `mode: u8 ‖ ctx_len: u8 ‖ ctx ‖ envelope`; the low 4 bits of `mode`
/// move `decrypt_into`'s output size around the exact size (-8..=+7); `decrypt_in_place` is
/// checked against `decrypt` too.
pub fn envelope_decrypt(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.u8();
    let ctx = input.short().to_vec();
    let env = input.rest().to_vec();
    let c = crypt();

    let whole = c.decrypt(&env, &ctx);
    let authentic = c.is_authentic(&env, &ctx);
    assert_eq!(
        whole.is_ok(),
        authentic,
        "decrypt and is_authentic disagree"
    );
    let expected = env.len().saturating_sub(69);
    match &whole {
        Ok(pt) => assert_eq!(pt.len(), expected),
        Err(e) => {
            assert!(
                matches!(
                    e.kind(),
                    ErrorKind::NotAuthentic | ErrorKind::UnknownKek | ErrorKind::UnsupportedFormat
                ),
                "unexpected error kind: {e:?}"
            );
            assert!(!e.message().is_empty());
        }
    }

    let delta = (mode & 0x0f) as isize - 8;
    let cap = (expected as isize + delta).max(0) as usize;
    let mut out = vec![0u8; cap];
    match c.decrypt_into(&env, &ctx, &mut out) {
        Ok(n) => {
            assert!(cap >= expected);
            assert_eq!(n, expected);
            assert_eq!(&out[..n], &whole.as_ref().expect("decrypt agreed")[..]);
        }
        Err(e) => {
            // Nothing that did not authenticate is released.
            assert!(
                out.iter().all(|&b| b == 0),
                "unauthenticated bytes in the output"
            );
            if e.kind() == ErrorKind::BufferTooSmall {
                assert!(cap < expected);
                assert_eq!(e.needed(), Some(expected));
            } else {
                assert_eq!(Some(e.kind()), whole.as_ref().err().map(|w| w.kind()));
            }
        }
    }

    // The in-place form (the JNI byte[] path): a copy of the ciphertext opens to the same
    // plaintext, and every failure is the same failure with the buffer left zeroed.
    let mut buf = if env.len() >= 69 {
        env[53..env.len() - 16].to_vec()
    } else {
        Vec::new()
    };
    match c.decrypt_in_place(&env, &ctx, &mut buf) {
        Ok(n) => {
            assert_eq!(n, expected);
            assert_eq!(&buf[..], &whole.as_ref().expect("decrypt agreed")[..]);
        }
        Err(e) => {
            assert!(
                buf.iter().all(|&b| b == 0),
                "unauthenticated bytes in place"
            );
            assert_eq!(Some(e.kind()), whole.as_ref().err().map(|w| w.kind()));
        }
    }
}
