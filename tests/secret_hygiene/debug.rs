//! The key types' `Debug` output is redacted.

use crate::checker::{Checker, CMK, LEGACY};
use crate::unwrap_keks;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::{kdf, Crypt};

#[test]
fn debug_of_key_types_is_redacted() {
    let k = Key256::new(CMK);
    let l = Key128::new(LEGACY);
    let m = MasterKey::Local(k.clone());
    let c = Crypt::create(m.clone()).unwrap();
    let keks = c.keystore().unlock(&m).unwrap();
    let mut chk = Checker::new(&[("CMK", &CMK), ("legacy key", &LEGACY)]);
    for kek in unwrap_keks(&c.keystore_json(), &CMK) {
        chk.add_secret("KEK", &kek);
    }
    chk.add_secret("KEK-wrapping key", kdf::kek_wrap_key(&k).expose());
    for (what, text) in [
        ("Key256", format!("{k:?}")),
        ("Key128", format!("{l:?}")),
        ("MasterKey", format!("{m:?}")),
        ("Kek", format!("{:?}", keks[0])),
        ("KekDeriver", format!("{:?}", kdf::KekDeriver::new(1, &k))),
        ("Crypt", format!("{c:?}")),
        ("Crypt {:#?}", format!("{c:#?}")),
        ("Keystore", format!("{:?}", c.keystore())),
        (
            "with legacy key",
            format!("{:?}", c.with_legacy_key(Some(l.clone()))),
        ),
    ] {
        chk.check(what, &text);
    }
    assert_eq!(format!("{k:?}"), "[REDACTED]");
    assert_eq!(format!("{l:?}"), "[REDACTED]");
    assert!(format!("{m:?}").contains("REDACTED"));
    assert!(format!("{:?}", keks[0]).contains("REDACTED"));
}
