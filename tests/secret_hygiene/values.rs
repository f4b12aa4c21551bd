//! Values: records (tampered, truncated, wrong context, other keystore, small buffers), legacy
//! values (docs/legacy.md) and streams (docs/stream.md).

use crate::checker::{b64, CMK, CTX, LEGACY};
use lkr_crypt::format::stream::StreamDecryptor;
use lkr_crypt::secret::Key128;
use lkr_crypt::{Crypt, MigrateOptions};

#[test]
fn no_record_error_shows_a_key() {
    let crate::Known { c, c2, mut chk, .. } = crate::known();
    let cmk_b64 = b64(&CMK);
    // Records: tampered, truncated, wrong context, other keystore, unknown KEK, version.
    let env = c.encrypt(b"hunter2", CTX).unwrap();
    for i in 0..env.len() {
        let mut t = env.clone();
        t[i] ^= 0x40;
        chk.err("tampered envelope", c.decrypt(&t, CTX));
    }
    for n in [0, 3, 4, 52, 53, 68, env.len() - 1] {
        chk.err("truncated envelope", c.decrypt(&env[..n], CTX));
    }
    chk.err("wrong context", c.decrypt(&env, b"CONNECTION.PASSWORD:43"));
    chk.err("other keystore", c2.decrypt(&env, CTX));
    chk.err(
        "text: not base64",
        c.decrypt_text(&format!("{cmk_b64}!"), CTX),
    );
    chk.err("text: wrong context", c.decrypt_text(&b64(&env), b"x"));
    chk.err(
        "encrypt_into: small buffer",
        c.encrypt_into(b"x", CTX, &mut [0u8; 10]),
    );
    chk.err(
        "decrypt_into: small buffer",
        c.decrypt_into(&env, CTX, &mut [0u8; 2]),
    );
    chk.err("retire the active KEK", c.retire_kek(c.active_kek_id()));
    chk.err("retire an unknown KEK", c.retire_kek(77));
    chk.done(273);
}

#[test]
fn no_legacy_value_error_shows_a_key() {
    let crate::Known {
        master, c, mut chk, ..
    } = crate::known();
    let env = c.encrypt(b"hunter2", CTX).unwrap();
    let wrong_legacy = Key128::new([0x11; 16]);
    for value in [
        vec![0u8; 31],
        vec![0u8; 32],
        [&LEGACY[..], &LEGACY[..], &LEGACY[..]].concat(),
        env.clone(),
    ] {
        chk.err("legacy value", c.migrate(&value, b"other"));
        chk.err(
            "legacy value, wrong key",
            c.migrate_into(
                &value,
                b"other",
                Some(&wrong_legacy),
                MigrateOptions {
                    require_utf8: true,
                    ..Default::default()
                },
                &mut vec![0u8; value.len() + 53],
            ),
        );
        chk.err(
            "legacy value, no key",
            Crypt::create(master.clone()).unwrap().migrate(&value, CTX),
        );
        chk.err("migrate_text", c.migrate_text(&b64(&value), b"other"));
    }
    chk.done(48);
}

#[test]
fn no_stream_error_shows_a_key() {
    let crate::Known { c, c2, mut chk, .. } = crate::known();
    // Streams.
    let mut w = c.encrypting_writer(Vec::new(), CTX, 4096).unwrap();
    std::io::Write::write_all(&mut w, &[7u8; 10000]).unwrap();
    let sealed = w.finish().unwrap();
    chk.err(
        "stream: segment size",
        c.encrypting_writer(Vec::new(), CTX, 5).map(|_| ()),
    );
    for i in [0, 3, 4, 5, 9, 12, 20, 50, 60, 5000, sealed.len() - 1] {
        let mut t = sealed.clone();
        t[i] ^= 1;
        let mut d = match StreamDecryptor::new(&c, &t[..52], CTX) {
            Ok(d) => d,
            Err(e) => {
                chk.err("stream header", Err::<(), _>(e));
                continue;
            }
        };
        let mut out = vec![0u8; d.update_max_len(t.len())];
        let r = d.update(&t[52..], &mut out).and_then(|_| {
            let mut o = vec![0u8; d.finish_len()];
            d.finish(&mut o)
        });
        chk.err("stream body", r);
        let mut r = c
            .decrypting_reader(&t[..], CTX)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let e = std::io::Read::read_to_end(&mut r, &mut Vec::new()).unwrap_err();
        chk.check("stream reader io::Error", &format!("{e} / {e:?}"));
    }
    chk.err(
        "stream: other keystore",
        c2.decrypting_reader(&sealed[..], CTX).map(|_| ()),
    );
    chk.done(45);
}
