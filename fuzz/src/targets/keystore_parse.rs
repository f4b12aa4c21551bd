use crate::{master, other_master};
use lkr_crypt::keystore::Keystore;
use lkr_crypt::{Crypt, ErrorKind};

/// Keystore v1 documents (docs/keystore.md): `Keystore::parse` of arbitrary bytes, the JSON round
/// trip, and unlocking with the fixed CMK (and another one). Input: the document.
pub fn keystore_parse(data: &[u8]) {
    let ks = match Keystore::parse(data) {
        Ok(ks) => ks,
        Err(e) => {
            assert_eq!(e.kind(), ErrorKind::Keystore, "{e:?}");
            return;
        }
    };
    let json = ks.to_json();
    let again = Keystore::parse(json.as_bytes()).expect("a parsed keystore re-parses");
    assert_eq!(again, ks);
    match ks.unlock(&master()) {
        Ok(keks) => {
            assert_eq!(keks.len(), ks.keks.len());
            let c = Crypt::open_bytes(data, master()).expect("unlocked, so it opens");
            assert_eq!(c.active_kek_id(), ks.active_kek);
            let env = c.encrypt(b"fuzz", b"ctx").expect("encrypt");
            assert_eq!(c.decrypt(&env, b"ctx").expect("decrypt"), b"fuzz");
        }
        Err(e) => assert!(
            matches!(
                e.kind(),
                ErrorKind::Keystore | ErrorKind::MasterKey | ErrorKind::Kms
            ),
            "{e:?}"
        ),
    }
    if let Err(e) = ks.unlock(&other_master()) {
        assert!(matches!(
            e.kind(),
            ErrorKind::Keystore | ErrorKind::MasterKey | ErrorKind::Kms
        ));
    }
}
