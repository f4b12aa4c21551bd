//! docs/legacy.md: legacy AES-128-CBC values made by a real third-party producer (the `openssl enc`
//! command) migrate to envelope v1 and decrypt to the original; bad values fail with one
//! error whatever is wrong with them.

mod common;
use common::new_crypt;
use lkr_crypt::secret::Key128;
use lkr_crypt::{ErrorKind, MigrateOptions, Migrated};
use std::io::Write;
use std::process::{Command, Stdio};

/// `IV ‖ openssl enc -aes-128-cbc -K key -iv iv` of `plaintext`.
fn openssl_legacy(key: &[u8; 16], iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args([
            "enc",
            "-aes-128-cbc",
            "-nosalt",
            "-K",
            &hex::encode(key),
            "-iv",
            &hex::encode(iv),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the openssl command is needed for this test: apt-get install openssl");
    child.stdin.take().unwrap().write_all(plaintext).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let mut v = iv.to_vec();
    v.extend_from_slice(&out.stdout);
    v
}

fn random<const N: usize>() -> [u8; N] {
    let mut a = [0u8; N];
    lkr_crypt::rng::fill(&mut a);
    a
}

#[test]
fn openssl_values_migrate_and_decrypt_to_the_original() {
    let crypt = new_crypt();
    let key = random::<16>();
    let legacy_key = Key128::new(key);
    for (i, pt) in [
        &b""[..],
        b"a",
        b"exactly sixteen!",
        b"p4ssw0rd with spaces and \xc3\xa9",
        &[0x5a; 1000],
    ]
    .iter()
    .enumerate()
    {
        let legacy = openssl_legacy(&key, &random(), pt);
        let ctx = format!("CONNECTION.PASSWORD:{i}");
        let mut out = vec![0u8; lkr_crypt::Crypt::migrated_max_len(legacy.len())];
        let m = crypt
            .migrate_into(
                &legacy,
                ctx.as_bytes(),
                Some(&legacy_key),
                MigrateOptions::default(),
                &mut out,
            )
            .unwrap();
        let Migrated::FromLegacy(n) = m else {
            panic!("expected a migration from legacy")
        };
        assert_eq!(n, pt.len() + 69);
        assert_eq!(crypt.decrypt(&out[..n], ctx.as_bytes()).unwrap(), *pt);
        // Migrating the result again leaves it unchanged.
        let mut again = vec![0u8; n + 53];
        let m2 = crypt
            .migrate_into(
                &out[..n],
                ctx.as_bytes(),
                Some(&legacy_key),
                MigrateOptions::default(),
                &mut again,
            )
            .unwrap();
        assert_eq!(m2, Migrated::AlreadyV1(n));
        assert_eq!(&again[..n], &out[..n]);
    }
}

#[test]
fn the_environment_legacy_key_is_used_by_migrate() {
    let key = random::<16>();
    let crypt = new_crypt().with_legacy_key(Some(Key128::new(key)));
    let legacy = openssl_legacy(&key, &random(), b"from env");
    let env = crypt.migrate(&legacy, b"T.C:1").unwrap();
    assert_eq!(crypt.decrypt(&env, b"T.C:1").unwrap(), b"from env");
    let e = new_crypt().migrate(&legacy, b"T.C:1").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Legacy);
    assert!(e.message().contains("LKR_LEGACY_KEY_ENV"), "{e}");
}

#[test]
fn bad_length_and_bad_padding_give_the_same_error() {
    let key = random::<16>();
    let crypt = new_crypt().with_legacy_key(Some(Key128::new(key)));
    let plaintext = b"some value";
    let good = openssl_legacy(&key, &random(), plaintext);
    assert!(crypt.migrate(&good, b"").is_ok());
    // Deterministic bad padding: in CBC, XOR-ing a byte of the block before the final one (here
    // the IV) XORs the same byte of the final plaintext block, which ends in `pad` bytes of
    // value `pad`. (Flipping a byte of the final block itself gives a random block, whose
    // padding is valid about once in 256 runs.)
    let pad = (16 - plaintext.len() % 16) as u8;
    let with_last_plaintext_byte = |xor: u8, back: usize| {
        let mut v = good.clone();
        let i = v.len() - 16 - back;
        v[i] ^= xor;
        v
    };
    let cases: Vec<Vec<u8>> = vec![
        vec![],
        good[..16].to_vec(),                   // IV only
        good[..good.len() - 1].to_vec(),       // not a multiple of 16
        with_last_plaintext_byte(pad, 1),      // padding byte 0
        with_last_plaintext_byte(pad ^ 17, 1), // padding byte 17 > block size
        with_last_plaintext_byte(1, 2),        // the padding bytes differ
    ];
    let mut messages = std::collections::HashSet::new();
    for c in cases {
        let e = crypt.migrate(&c, b"").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Legacy);
        messages.insert(e.message().to_string());
    }
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages
        .iter()
        .next()
        .unwrap()
        .contains("Legacy value could not be decrypted"));
}

#[test]
fn a_wrong_key_is_caught_by_the_utf8_check_of_text_columns() {
    let key = random::<16>();
    let crypt = new_crypt();
    let text = MigrateOptions {
        require_utf8: true,
        ..Default::default()
    };
    // Under many wrong keys, one value sometimes shows valid padding (~1 in 256) but the
    // garbage plaintext is then (almost) never valid UTF-8 of this length.
    let legacy = openssl_legacy(&key, &random(), b"a text value of some length");
    let mut padding_ok = 0;
    for _ in 0..4000 {
        let wrong = Key128::new(random());
        let mut out = vec![0u8; legacy.len() + 53];
        if crypt
            .migrate_into(
                &legacy,
                b"",
                Some(&wrong),
                MigrateOptions::default(),
                &mut out,
            )
            .is_ok()
        {
            padding_ok += 1;
        }
        let e = crypt.migrate_into(&legacy, b"", Some(&wrong), text, &mut out);
        assert!(e.is_err(), "a wrong key passed the UTF-8 check");
    }
    assert!(
        padding_ok > 0,
        "expected some wrong-key values to pass the padding check alone"
    );
}

#[test]
fn migrate_never_hands_out_plaintext_on_failure() {
    let key = random::<16>();
    let crypt = new_crypt();
    let legacy = openssl_legacy(&key, &random(), b"\xff\xfe not utf8");
    let mut out = vec![0u8; legacy.len() + 53];
    let text = MigrateOptions {
        require_utf8: true,
        ..Default::default()
    };
    assert!(crypt
        .migrate_into(&legacy, b"", Some(&Key128::new(key)), text, &mut out)
        .is_err());
    assert!(
        out.iter().all(|&b| b == 0),
        "output buffer was written on failure"
    );
    assert!(crypt
        .migrate_into(
            &legacy,
            b"",
            Some(&Key128::new(key)),
            MigrateOptions::default(),
            &mut out
        )
        .is_ok());
}

/// `migrate_into_region` (Java's caller-owned `migrate`): the bound is the contract — one byte
/// less is refused before anything is written — a failed migration leaves the region zeroed,
/// and a value already v1 under its context is copied through unchanged.
#[test]
fn migrate_into_region_needs_the_bound_and_zeroes_on_failure() {
    let key = random::<16>();
    let legacy_key = Some(Key128::new(key));
    let crypt = new_crypt();
    let legacy = openssl_legacy(&key, &random(), b"a legacy password");
    let need = lkr_crypt::Crypt::migrated_max_len(legacy.len());
    let region = |value: &[u8], key: Option<&Key128>, out: &mut [u8]| {
        crypt.migrate_into_region(value, b"T.C:1", key, out)
    };

    let mut short = vec![0xa5u8; need - 1];
    let e = region(&legacy, legacy_key.as_ref(), &mut short).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
    assert!(e.message().contains(&need.to_string()), "{e}");
    assert!(short.iter().all(|&b| b == 0xa5), "written before refusing");

    let mut out = vec![0xa5u8; need];
    let m = region(&legacy, legacy_key.as_ref(), &mut out).unwrap();
    let Migrated::FromLegacy(n) = m else {
        panic!("expected a migration from legacy, got {m:?}")
    };
    let envelope = out[..n].to_vec();
    assert_eq!(
        crypt.decrypt(&envelope, b"T.C:1").unwrap(),
        b"a legacy password"
    );

    // Already v1 under the context: copied through unchanged (no legacy key needed).
    let mut again = vec![0xa5u8; lkr_crypt::Crypt::migrated_max_len(n)];
    assert_eq!(
        region(&envelope, None, &mut again),
        Ok(Migrated::AlreadyV1(n))
    );
    assert_eq!(&again[..n], &envelope[..]);

    // Failures decided before and after the CBC decryption leave the whole region zeroed: a
    // cut value, and one whose padding does not check under a wrong key (chosen so: a wrong
    // key alone would pass the padding check once in 256).
    let wrong = Some(Key128::new(random()));
    let bad_padding = std::iter::repeat_with(|| openssl_legacy(&key, &random(), b"x"))
        .find(|v| {
            let mut scratch = vec![0u8; v.len() + 53];
            crypt
                .migrate_into(
                    v,
                    b"",
                    wrong.as_ref(),
                    MigrateOptions::default(),
                    &mut scratch,
                )
                .is_err()
        })
        .unwrap();
    let cut = &legacy[..legacy.len() - 1];
    for (value, k) in [(cut, &legacy_key), (&bad_padding[..], &wrong)] {
        let mut out = vec![0xa5u8; need];
        let e = region(value, k.as_ref(), &mut out).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Legacy);
        assert!(out.iter().all(|&b| b == 0), "a failed migration left bytes");
    }
}

#[test]
fn one_migrator_for_a_batch_gives_the_per_value_results() {
    let crypt = new_crypt();
    let key = random::<16>();
    let legacy_key = Key128::new(key);
    let wrong = Key128::new(random());
    // Sizes up and down (the migrator's plaintext buffer grows and is reused), bad values and v1
    // values in between, with both keys.
    let mut values = Vec::new();
    for (i, size) in [0usize, 300, 1, 15, 16, 17, 2000, 5, 64]
        .into_iter()
        .enumerate()
    {
        let pt: Vec<u8> = (0..size).map(|k| b'a' + ((k + i) % 26) as u8).collect();
        let ctx = format!("T.C:{i}").into_bytes();
        let legacy = openssl_legacy(&key, &random(), &pt);
        values.push((legacy.clone(), ctx.clone()));
        values.push((crypt.encrypt(&pt, &ctx).unwrap(), ctx.clone()));
        values.push((vec![7u8; size % 70], ctx.clone()));
        values.push((
            openssl_legacy(&key, &random(), &[0xff, 0xfe, i as u8]),
            ctx.clone(),
        ));
        values.push((legacy, b"another context".to_vec()));
    }
    for k in [&legacy_key, &wrong] {
        for require_utf8 in [false, true] {
            let options = MigrateOptions {
                require_utf8,
                ..Default::default()
            };
            let mut migrator = crypt.migrator(Some(k), options);
            for (i, (v, ctx)) in values.iter().enumerate() {
                let mut batch = vec![0u8; lkr_crypt::Crypt::migrated_max_len(v.len())];
                let mut single = batch.clone();
                let b = migrator.migrate_into(v, ctx, &mut batch);
                let s = crypt.migrate_into(v, ctx, Some(k), options, &mut single);
                match (b, s) {
                    (Ok(Migrated::AlreadyV1(n)), Ok(Migrated::AlreadyV1(m))) => {
                        assert_eq!(n, m, "item {i}");
                        assert_eq!(&batch[..n], &v[..], "item {i}");
                    }
                    (Ok(Migrated::FromLegacy(n)), Ok(Migrated::FromLegacy(m))) => {
                        assert_eq!(n, m, "item {i}");
                        assert_eq!(
                            crypt.decrypt(&batch[..n], ctx).unwrap(),
                            crypt.decrypt(&single[..m], ctx).unwrap(),
                            "item {i}"
                        );
                    }
                    (Err(b), Err(s)) => {
                        assert_eq!(b.kind(), ErrorKind::Legacy, "item {i}");
                        assert_eq!((b.kind(), b.message()), (s.kind(), s.message()), "item {i}");
                    }
                    (b, s) => panic!("item {i}: the migrator gave {b:?}, migrate_into {s:?}"),
                }
            }
        }
    }
    // Without any legacy key, legacy values fail and v1 values still pass.
    let mut migrator = crypt.migrator(None, MigrateOptions::default());
    let mut out = vec![0u8; 4096];
    let e = migrator
        .migrate_into(&values[0].0, &values[0].1, &mut out)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Legacy);
    assert!(matches!(
        migrator.migrate_into(&values[1].0, &values[1].1, &mut out),
        Ok(Migrated::AlreadyV1(_))
    ));
}

/// The packed batch gives, item by item and in order, what `migrate_into` gives, with the
/// results back to back.
#[test]
fn a_packed_batch_gives_the_per_value_results_in_order() {
    use lkr_crypt::{PackedItems, PackedOutcome};
    let crypt = new_crypt();
    let key = random::<16>();
    let legacy_key = Key128::new(key);
    // Undecryptable by construction: "x" ends in 15 padding bytes 0x0f; XOR-ing the IV's last
    // byte with 0x0f makes the final plaintext byte 0, never valid padding. (A random 32-byte
    // value would decrypt with valid padding about once in 255 runs.)
    let bad_padding = {
        let mut v = openssl_legacy(&key, &random(), b"x");
        v[15] ^= 0x0f;
        v
    };
    for n in [0usize, 1, 127, 128, 129, 301] {
        let mut items = Vec::new();
        for i in 0..n {
            let pt: Vec<u8> = (0..(i * 7) % 300).map(|k| b'a' + (k % 26) as u8).collect();
            let ctx = format!("T.C:{i}").into_bytes();
            let v = match i % 4 {
                0 | 1 => openssl_legacy(&key, &random(), &pt),
                2 => crypt.encrypt(&pt, &ctx).unwrap(),
                _ => bad_padding.clone(),
            };
            items.push((v, ctx, pt));
        }
        let (mut values, mut value_ends, mut contexts, mut context_ends) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (v, c, _) in &items {
            values.extend_from_slice(v);
            value_ends.push(values.len());
            contexts.extend_from_slice(c);
            context_ends.push(contexts.len());
        }
        let need: usize = items
            .iter()
            .map(|(v, _, _)| lkr_crypt::Crypt::migrated_max_len(v.len()))
            .sum();
        let mut out = vec![0u8; need];
        let mut ends = vec![0usize; n];
        let mut outcomes = Vec::new();
        let packed = PackedItems {
            values: &values,
            value_ends: &value_ends,
            contexts: &contexts,
            context_ends: &context_ends,
        };
        crypt
            .migrate_packed(
                packed,
                Some(&legacy_key),
                MigrateOptions::default(),
                &mut out,
                &mut ends,
                &mut outcomes,
            )
            .unwrap();
        assert_eq!(outcomes.len(), n);
        let mut start = 0;
        for (i, ((v, ctx, pt), outcome)) in items.iter().zip(&outcomes).enumerate() {
            let result = &out[start..ends[i]];
            match (i % 4, outcome) {
                (0 | 1, PackedOutcome::Written(Migrated::FromLegacy(len))) => {
                    assert_eq!(*len, result.len(), "item {i} of {n}");
                    assert_eq!(&crypt.decrypt(result, ctx).unwrap(), pt, "item {i} of {n}");
                }
                (2, PackedOutcome::Written(Migrated::AlreadyV1(_))) => {
                    assert_eq!(result, &v[..], "item {i} of {n}")
                }
                (3, PackedOutcome::Undecryptable(m)) => {
                    assert!(result.is_empty(), "item {i} of {n}");
                    assert!(!m.is_empty());
                }
                (_, o) => panic!("item {i} of {n}: {o:?}"),
            }
            start = ends[i];
        }
        // Too small an output is refused before anything is done.
        if need > 0 {
            let e = crypt
                .migrate_packed(
                    packed,
                    Some(&legacy_key),
                    MigrateOptions::default(),
                    &mut out[..need - 1],
                    &mut ends,
                    &mut outcomes,
                )
                .unwrap_err();
            assert_eq!(e.kind(), ErrorKind::BufferTooSmall);
        }
    }
    // Without any legacy key configured, a legacy value fails the whole batch.
    let v = openssl_legacy(&key, &random(), b"x");
    let mut out = vec![0u8; 200];
    let e = crypt
        .migrate_packed(
            PackedItems {
                values: &v,
                value_ends: &[v.len()],
                contexts: b"",
                context_ends: &[0],
            },
            None,
            MigrateOptions::default(),
            &mut out,
            &mut [0],
            &mut Vec::new(),
        )
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Legacy);
}

/// docs/legacy.md tries a v1-shaped value that is not authentic under the context as a legacy value,
/// and AES-CBC "decrypts" about one envelope in 4096 (length a multiple of 16, then valid
/// padding) into garbage. `strict_v1` (what `migrate_encryption` uses) refuses such a value
/// when the keystore holds its KEK; a legacy value and a v1-shaped value of an unknown KEK are
/// unaffected.
#[test]
fn strict_v1_never_turns_an_envelope_under_another_context_into_garbage() {
    let key = random::<16>();
    let crypt = new_crypt().with_legacy_key(Some(Key128::new(key)));
    let strict = MigrateOptions {
        strict_v1: true,
        ..Default::default()
    };
    let migrate = |v: &[u8], ctx: &[u8], options| {
        let mut out = vec![0u8; lkr_crypt::Crypt::migrated_max_len(v.len())];
        crypt
            .migrate_into(v, ctx, None, options, &mut out)
            .map(|m| out[..m.written()].to_vec())
    };
    // An envelope of 11 + 69 = 80 bytes whose CBC "decryption" under the legacy key has valid
    // padding: expected after ~256 tries.
    let (env, garbage) = (0..100_000)
        .find_map(|_| {
            let env = crypt.encrypt(b"hunter2-abc", b"T.C:1").unwrap();
            migrate(&env, b"T.C:2", MigrateOptions::default())
                .ok()
                .map(|g| (env, g))
        })
        .expect("one envelope in ~256 has valid CBC padding");
    // The default (docs/legacy.md): garbage migrated from legacy, not the original plaintext.
    assert_ne!(crypt.decrypt(&garbage, b"T.C:2").unwrap(), b"hunter2-abc");
    // strict_v1: refused, naming the KEK, never the value.
    let e = migrate(&env, b"T.C:2", strict).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthentic);
    assert!(e.message().contains("KEK 1"), "{}", e.message());
    // Under its own context it is still left alone; a legacy value still migrates.
    assert_eq!(migrate(&env, b"T.C:1", strict).unwrap(), env);
    let legacy = openssl_legacy(&key, &random(), b"old secret");
    let v1 = migrate(&legacy, b"T.C:3", strict).unwrap();
    assert_eq!(crypt.decrypt(&v1, b"T.C:3").unwrap(), b"old secret");
    // A v1-shaped value of a KEK this keystore does not hold is tried as legacy (docs/legacy.md).
    let mut unknown = env.clone();
    unknown[5..9].copy_from_slice(&99u32.to_be_bytes());
    assert_eq!(
        migrate(&unknown, b"T.C:2", strict)
            .map_err(|e| e.kind())
            .err(),
        migrate(&unknown, b"T.C:2", MigrateOptions::default())
            .map_err(|e| e.kind())
            .err()
    );
}
