use crate::{crypt, crypt_without_legacy, Input};
use lkr_crypt::ErrorKind;

/// The stored text forms (standard base64): `decrypt_text`, `migrate_text`, `encrypt_text`
/// on arbitrary text. Input: `flags: u8 ‖ ctx_len: u8 ‖ ctx ‖ text` (text: UTF-8, invalid
/// sequences replaced).
pub fn text_paths(data: &[u8]) {
    let mut input = Input(data);
    let flags = input.u8();
    let ctx = input.short().to_vec();
    let text = String::from_utf8_lossy(input.rest()).into_owned();
    let c = if flags & 1 == 1 {
        crypt_without_legacy()
    } else {
        crypt()
    };

    let d = c.decrypt_text(&text, &ctx);
    let m = c.migrate_text(&text, &ctx);
    match &d {
        Ok(_) => assert_eq!(
            m.as_deref().expect("authentic, so migrate copies it"),
            text.trim()
        ),
        Err(e) => assert!(matches!(
            e.kind(),
            ErrorKind::NotAuthentic | ErrorKind::UnknownKek | ErrorKind::UnsupportedFormat
        )),
    }
    match &m {
        Ok(t) => {
            let p = c.decrypt_text(t, &ctx).expect("a migrated value decrypts");
            if let Ok(dp) = &d {
                assert_eq!(&p, dp);
            }
        }
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::Legacy | ErrorKind::NotAuthentic | ErrorKind::UnknownKek
            ),
            "{e:?}"
        ),
    }
    if flags & 2 == 2 {
        let t = c.encrypt_text(text.as_bytes(), &ctx).expect("encrypt_text");
        assert_eq!(
            c.decrypt_text(&t, &ctx).expect("round trip"),
            text.as_bytes()
        );
    }
}
