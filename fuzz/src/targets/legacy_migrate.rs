use crate::{crypt, crypt_without_legacy, legacy_key, Input};
use lkr_crypt::format::legacy;
use lkr_crypt::{Crypt, ErrorKind, MigrateOptions, Migrated};

/// Legacy AES-128-CBC values (docs/legacy.md) and `migrate`: arbitrary bytes under an arbitrary
/// context. Input: `flags: u8 ‖ ctx_len: u8 ‖ ctx ‖ value`. `flags` bit 0: require UTF-8;
/// bit 1: pass the legacy key explicitly; bit 2: use a handle without a legacy key; bit 3:
/// `MigrateOptions::strict_v1`; bits 4-7: the output size around `migrated_max_len` (-8..=+7).
pub fn legacy_migrate(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.u8();
    let ctx = input.short().to_vec();
    let value = input.rest().to_vec();
    let require_utf8 = flags & 1 == 1;
    let explicit_key = flags & 2 == 2;
    let c = if flags & 4 == 4 {
        crypt_without_legacy()
    } else {
        crypt()
    };
    let key = legacy_key();
    let key_available = explicit_key || c.has_legacy_key();

    let plain = legacy::decrypt(&key, &value, require_utf8);
    if let Err(e) = &plain {
        assert_eq!(e.kind(), ErrorKind::Legacy);
        assert_eq!(e.message(), legacy::UNDECRYPTABLE);
    }
    let authentic = c.is_authentic(&value, &ctx);

    let max = Crypt::migrated_max_len(value.len());
    let delta = (flags >> 4) as isize - 8;
    let cap = (max as isize + delta).max(0) as usize;
    let mut out = vec![0u8; cap];
    // Not `reencrypt` (to the active KEK): the fixed keystore has one KEK.
    let strict_v1 = flags & 8 == 8;
    let options = MigrateOptions {
        require_utf8,
        reencrypt: false,
        strict_v1,
    };
    let r = c.migrate_into(
        &value,
        &ctx,
        explicit_key.then_some(&key),
        options,
        &mut out,
    );
    match r {
        Ok(Migrated::AlreadyV1(n)) => {
            assert!(authentic);
            assert_eq!(&out[..n], &value[..]);
        }
        Ok(Migrated::FromLegacy(n)) => {
            assert!(!authentic && key_available);
            assert!(n <= max);
            let p = plain
                .as_ref()
                .expect("migrated from legacy, so it decrypted");
            assert_eq!(n, p.len() + 69);
            assert_eq!(
                &c.decrypt(&out[..n], &ctx).expect("the new envelope opens")[..],
                &p[..]
            );
        }
        Ok(Migrated::Rotated(_)) => panic!("rotated without MigrateOptions::reencrypt"),
        Err(e) => match e.kind() {
            ErrorKind::BufferTooSmall => {
                let needed = e.needed().expect("needed");
                assert!(needed > cap && needed <= max);
            }
            ErrorKind::Legacy => assert!(!authentic && (plain.is_err() || !key_available)),
            // Shaped like an envelope v1 (magic, version, algorithm, and the fixed keystore's
            // KEK 1) but not authentic: never tried as legacy under `strict_v1`.
            ErrorKind::NotAuthentic => assert!(
                strict_v1
                    && !authentic
                    && value.len() >= 69
                    && value[..5] == [b'L', b'K', b'R', 1, 1]
                    && value[5..9] == 1u32.to_be_bytes()
            ),
            // Magic, version, algorithm and a KEK the keystore does not hold: an envelope of
            // another keystore, never tried as legacy.
            ErrorKind::UnknownKek => assert!(
                !authentic
                    && value.len() >= 9
                    && value[..5] == [b'L', b'K', b'R', 1, 1]
                    && value[5..9] != 1u32.to_be_bytes()
            ),
            _ => panic!("unexpected error {e:?}"),
        },
    }

    // The allocating form with the handle's key agrees.
    if !require_utf8 && !explicit_key {
        match c.migrate(&value, &ctx) {
            Ok(v) => {
                if authentic {
                    assert_eq!(v, value);
                } else {
                    let p = plain.as_ref().expect("migrated, so it decrypted");
                    assert_eq!(&c.decrypt(&v, &ctx).expect("opens")[..], &p[..]);
                }
            }
            Err(e) => assert!(
                matches!(e.kind(), ErrorKind::Legacy | ErrorKind::UnknownKek),
                "{e:?}"
            ),
        }
    }
}
