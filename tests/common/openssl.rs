//! Keys made by the `openssl` command, independently of this crate.

use std::path::Path;
use std::process::Command;

/// A key pair made by `openssl genpkey`: the PEM public and private (PKCS#8) halves.
pub struct PemPair {
    pub public: Vec<u8>,
    pub private: Vec<u8>,
}

/// Runs `openssl args` in `dir`; returns its stdout (the test fails when it fails).
pub fn openssl(args: &[&str], dir: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is needed for this test: apt-get install openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A new key pair of `algorithm` (genpkey's options, e.g. `["-algorithm", "EC", ...]`), made in
/// `dir` (as `key.pem` and `pub.pem`).
pub fn genpkey(dir: &Path, algorithm: &[&str]) -> PemPair {
    let mut args = vec!["genpkey", "-out", "key.pem"];
    args.extend_from_slice(algorithm);
    openssl(&args, dir);
    openssl(
        &["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"],
        dir,
    );
    PemPair {
        public: std::fs::read(dir.join("pub.pem")).unwrap(),
        private: std::fs::read(dir.join("key.pem")).unwrap(),
    }
}

/// A new RSA key pair of `bits` bits (e.g. a recovery key: 3072 or 4096).
pub fn rsa_pair(bits: u32) -> PemPair {
    let dir = tempfile::tempdir().unwrap();
    genpkey(
        dir.path(),
        &[
            "-algorithm",
            "RSA",
            "-pkeyopt",
            &format!("rsa_keygen_bits:{bits}"),
        ],
    )
}
