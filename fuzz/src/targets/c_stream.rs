use crate::{c_handle, chunks, sizes, Input};
use lkr_crypt::ffi::*;
use std::ptr;

/// Segment sizes: the bounds and their neighbours, and the default (0). 16 MiB itself is left
/// to tests/properties.rs: every stream of it allocates and wipes 16 MiB, which would slow the
/// fuzzer down a hundredfold.
const SEGMENTS: [usize; 12] = [
    0,
    1,
    4095,
    4096,
    4097,
    5000,
    8192,
    65536,
    131072,
    (16 << 20) + 1,
    usize::MAX,
    1 << 40,
];

fn ptr_of(v: &[u8]) -> *const u8 {
    if v.is_empty() {
        ptr::null()
    } else {
        v.as_ptr()
    }
}

fn mut_of(v: &mut [u8]) -> *mut u8 {
    if v.is_empty() {
        ptr::null_mut()
    } else {
        v.as_mut_ptr()
    }
}

fn msg() -> usize {
    // SAFETY: NULL with cap 0 is allowed.
    unsafe { lkr_last_error(ptr::null_mut(), 0) }
}

/// Calls an update/finish-like function, first one byte short when `tight`.
fn with_cap(
    need: usize,
    tight: bool,
    mut f: impl FnMut(*mut u8, usize, &mut usize) -> i32,
) -> (i32, Vec<u8>) {
    if tight && need > 0 {
        let mut small = vec![0u8; need - 1];
        let mut n = 0usize;
        let rc = f(mut_of(&mut small), small.len(), &mut n);
        match rc {
            LKR_ERR_BUFFER_TOO_SMALL => {
                assert!(n > small.len() && n <= need, "needed {n}, max {need}")
            }
            LKR_OK => {
                assert!(n <= small.len());
                small.truncate(n);
                return (rc, small);
            }
            _ => {
                assert!((0..=10).contains(&rc), "status {rc}");
                assert!(msg() > 0);
                return (rc, Vec::new());
            }
        }
    }
    let mut out = vec![0u8; need];
    let mut n = usize::MAX;
    let rc = f(mut_of(&mut out), out.len(), &mut n);
    assert!((0..=10).contains(&rc), "status {rc}");
    if rc == LKR_OK {
        assert!(n <= need);
        out.truncate(n);
    } else {
        assert_ne!(
            rc, LKR_ERR_BUFFER_TOO_SMALL,
            "the advertised maximum was too small"
        );
        assert!(msg() > 0);
    }
    (rc, out)
}

/// Decrypts `stream` through the C API; `Err(status)` on failure.
fn decrypt(
    stream: &[u8],
    ctx: &[u8],
    sz: &[u16],
    tight: bool,
    header_len: Option<usize>,
) -> Result<Vec<u8>, i32> {
    let hl = header_len
        .unwrap_or(LKR_STREAM_HEADER_LEN)
        .min(stream.len());
    let header = stream[..hl].to_vec();
    let mut dec: *mut LkrStreamDecryptor = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let rc = unsafe {
        lkr_stream_decrypt_init(
            c_handle(),
            ptr_of(&header),
            header.len(),
            ptr_of(ctx),
            ctx.len(),
            &mut dec,
        )
    };
    assert!((0..=10).contains(&rc));
    if rc != LKR_OK {
        assert!(dec.is_null());
        assert!(msg() > 0);
        return Err(rc);
    }
    let mut plain = Vec::new();
    let body = &stream[hl..];
    let result = (|| {
        for part in chunks(body, sz, 3 * 4096) {
            let part = part.to_vec();
            // SAFETY: `dec` is live.
            let need = unsafe { lkr_stream_decrypt_update_max_len(dec, part.len()) };
            let (rc, out) = with_cap(need, tight, |o, cap, n| unsafe {
                lkr_stream_decrypt_update(dec, ptr_of(&part), part.len(), o, cap, n)
            });
            if rc != LKR_OK {
                return Err(rc);
            }
            plain.extend_from_slice(&out);
        }
        // The last segment holds at most S bytes; S + 16 always suffices, finish_len is exact.
        // What is pending: the body less the whole segments already opened.
        let s = u32::from_be_bytes(header[9..13].try_into().expect("4")) as usize;
        let pending = body.len() - plain.len() / s * (s + 16);
        let need = pending.saturating_sub(16);
        let (rc, out) = with_cap(need, tight, |o, cap, n| unsafe {
            lkr_stream_decrypt_finish(dec, o, cap, n)
        });
        if rc != LKR_OK {
            return Err(rc);
        }
        plain.extend_from_slice(&out);
        let mut n = 0usize;
        // SAFETY: `dec` is live; a second finish is refused.
        let again = unsafe { lkr_stream_decrypt_finish(dec, ptr::null_mut(), 0, &mut n) };
        assert_ne!(again, LKR_OK);
        Ok(())
    })();
    // SAFETY: `dec` is live and not used afterwards.
    unsafe { lkr_stream_decryptor_free(dec) };
    result.map(|()| plain)
}

fn round_trip(plain: &[u8], ctx: &[u8], segment: usize, sz: &[u16], tight: bool, header_cap: u8) {
    let mut header = vec![0u8; [52usize, 51, 0, 60][header_cap as usize % 4]];
    let mut header_len = 0usize;
    let mut enc: *mut LkrStreamEncryptor = ptr::null_mut();
    // SAFETY: valid pointers and lengths.
    let rc = unsafe {
        lkr_stream_encrypt_init(
            c_handle(),
            ptr_of(ctx),
            ctx.len(),
            segment,
            mut_of(&mut header),
            header.len(),
            &mut header_len,
            &mut enc,
        )
    };
    let valid_segment = segment == 0 || (4096..=16 << 20).contains(&segment);
    if !valid_segment {
        assert_eq!(rc, LKR_ERR_INVALID_ARGUMENT, "segment size {segment}");
        assert!(enc.is_null());
        return;
    }
    if header.len() < 52 {
        assert_eq!(rc, LKR_ERR_BUFFER_TOO_SMALL);
        assert_eq!(header_len, 52);
        assert!(enc.is_null());
        return;
    }
    assert_eq!(rc, LKR_OK);
    assert_eq!(header_len, 52);
    let mut stream = header[..52].to_vec();
    for part in chunks(plain, sz, 3 * 4096) {
        let part = part.to_vec();
        // SAFETY: `enc` is live.
        let need = unsafe { lkr_stream_encrypt_update_max_len(enc, part.len()) };
        let (rc, out) = with_cap(need, tight, |o, cap, n| unsafe {
            lkr_stream_encrypt_update(enc, ptr_of(&part), part.len(), o, cap, n)
        });
        assert_eq!(rc, LKR_OK);
        stream.extend_from_slice(&out);
    }
    let s = if segment == 0 {
        LKR_STREAM_DEFAULT_SEGMENT
    } else {
        segment
    };
    // The last segment: the plaintext not yet sealed, and its tag.
    let sealed_plain = (stream.len() - 52) / (s + 16) * s;
    let need = plain.len() - sealed_plain + 16;
    let (rc, out) = with_cap(need, tight, |o, cap, n| unsafe {
        lkr_stream_encrypt_finish(enc, o, cap, n)
    });
    assert_eq!(rc, LKR_OK);
    stream.extend_from_slice(&out);
    let mut n = 0usize;
    // SAFETY: `enc` is live; update and finish after finish are refused.
    unsafe {
        assert_ne!(
            lkr_stream_encrypt_finish(enc, ptr::null_mut(), 0, &mut n),
            LKR_OK
        );
        assert_ne!(
            lkr_stream_encrypt_update(enc, ptr::null(), 0, ptr::null_mut(), 0, &mut n),
            LKR_OK
        );
        lkr_stream_encryptor_free(enc);
    }
    assert_eq!(
        stream.len(),
        52 + plain.len() + 16 * plain.len().div_ceil(s).max(1)
    );
    let back = decrypt(&stream, ctx, sz, tight, None).expect("a fresh stream decrypts");
    assert_eq!(back, plain);
    if !stream.is_empty() {
        // Cut off the last byte: refused, whatever the chunking.
        assert!(decrypt(&stream[..stream.len() - 1], ctx, sz, false, None).is_err());
    }
}

/// The stream functions of the C ABI (docs/stream.md, docs/native-interfaces.md): `lkr_stream_encrypt_*` with arbitrary
/// segment sizes, plaintexts, chunkings and output capacities, decrypted back through
/// `lkr_stream_decrypt_*`; and `lkr_stream_decrypt_*` on arbitrary bytes. Exact-size heap
/// buffers throughout (AddressSanitizer).
///
/// Input: `mode: u8 ‖ ctx_len: u8 ‖ ctx ‖ n: u8 ‖ n × u16 chunk sizes ‖ data`. `mode` bit 0:
/// round trip (data = plaintext; bits 1-4 pick the segment size) or decrypt (data = stream);
/// bit 5: first try every call one byte short; bits 6-7: the header capacity/length.
pub fn c_stream(data: &[u8]) {
    let mut input = Input(data);
    let mode = input.u8();
    let ctx = input.short().to_vec();
    let n = (input.u8() % 8) as usize;
    let sz = sizes(&mut input, n);
    let rest = input.rest();
    let tight = mode & 0x20 != 0;
    if mode & 1 == 1 {
        let segment = SEGMENTS[((mode >> 1) & 0x0f) as usize % SEGMENTS.len()];
        round_trip(rest, &ctx, segment, &sz, tight, mode >> 6);
    } else {
        let header_len = match mode >> 6 {
            0 => None,
            1 => Some(51),
            2 => Some(0),
            _ => Some(60),
        };
        let _ = decrypt(rest, &ctx, &sz, tight, header_len);
    }
    // Freeing NULL does nothing.
    unsafe {
        lkr_stream_encryptor_free(ptr::null_mut());
        lkr_stream_decryptor_free(ptr::null_mut());
    }
}
