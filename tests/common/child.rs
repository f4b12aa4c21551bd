//! The child processes some suites run with another environment: test targets of their own,
//! declared in Cargo.toml with `harness = false` (`kms_child`, `limits_child`,
//! `secret_hygiene_child`, `fips_child`), whose `main` does nothing unless the parent's variable is set and
//! prints [`CHILD_DONE`] last when it did its work.

use std::path::PathBuf;
use std::process::Command;

/// The last line of a child that did its work.
pub const CHILD_DONE: &str = "LKR-CHILD-DONE";

/// The binary of the test target `name`: cargo puts it beside the running test's
/// (`target/<profile>/deps/<name>-<hash>`); the newest when several builds are there. Build it
/// with the test: `cargo test --test <test> --test <name>` (a whole `cargo test` does).
pub fn child_exe(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap();
    let dir = me.parent().unwrap();
    let prefix = format!("{name}-");
    let newest = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let file = e.file_name();
            let file = file.to_string_lossy();
            file.strip_prefix(&prefix)
                .is_some_and(|hash| !hash.is_empty() && hash.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .max();
    match newest {
        Some((_, path)) => path,
        None => {
            let file = me.file_name().unwrap().to_string_lossy();
            let test = file.rsplit_once('-').map_or(&*file, |(t, _)| t);
            panic!(
                "no {name} test binary beside {}: build it with this test (cargo test --test {test} --test {name})",
                me.display()
            )
        }
    }
}

/// Runs a child (a [`child_exe`] with its environment set); returns its stdout, checked to end
/// with [`CHILD_DONE`] after a successful exit. `what` names the run in a failure.
pub fn child_stdout(cmd: &mut Command, what: &str) -> String {
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && stdout.lines().last() == Some(CHILD_DONE),
        "the child ({what}) failed or did not finish: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}
