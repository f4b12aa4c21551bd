//! The main job until the operator jar exists: with a freshly generated CMK, create a
//! keystore, encrypt and decrypt a value bound to its context, and migrate a legacy
//! AES-128-CBC value produced by the real `openssl enc` command.
//!
//! `cargo run --example demo`

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lkr_crypt::keys::MasterKey;
use lkr_crypt::secret::{Key128, Key256};
use lkr_crypt::{Crypt, OpenMode};
use std::io::Write;
use std::process::{Command, Stdio};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("lkr-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let keystore = dir.join("keystore.json");

    let cmk = MasterKey::Local(Key256::random());
    let crypt = Crypt::open_file(&keystore, cmk.clone(), OpenMode::CreateIfMissing)?;
    println!(
        "keystore created at {} (active KEK {})",
        keystore.display(),
        crypt.active_kek_id()
    );

    let ctx = b"CONNECTION.PASSWORD:42";
    let env = crypt.encrypt(b"s3cret-db-password", ctx)?;
    println!("encrypted: {}", B64.encode(&env));
    println!(
        "decrypted: {}",
        String::from_utf8(crypt.decrypt(&env, ctx)?)?
    );
    match crypt.decrypt(&env, b"CONNECTION.PASSWORD:43") {
        Err(e) => println!("other context refused: {e}"),
        Ok(_) => return Err("a value decrypted under another context".into()),
    }

    // A legacy value, as the old application stored it: IV ‖ AES-128-CBC, made by openssl.
    let mut key = [0u8; 16];
    let mut iv = [0u8; 16];
    lkr_crypt::rng::fill(&mut key);
    lkr_crypt::rng::fill(&mut iv);
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
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or("no stdin")?
        .write_all(b"legacy-password")?;
    let mut legacy = iv.to_vec();
    legacy.extend(child.wait_with_output()?.stdout);
    println!("legacy (openssl enc -aes-128-cbc): {}", B64.encode(&legacy));

    let reopened = Crypt::open_file(&keystore, cmk, OpenMode::MustExist)?
        .with_legacy_key(Some(Key128::new(key)));
    let migrated = reopened.migrate(&legacy, ctx)?;
    println!(
        "migrated to AES-256-GCM envelope v1: {}",
        B64.encode(&migrated)
    );
    println!(
        "read back: {}",
        String::from_utf8(reopened.decrypt(&migrated, ctx)?)?
    );
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
