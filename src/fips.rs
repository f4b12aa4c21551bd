//! Which cryptographic module runs (docs/fips.md). The FIPS build (cargo feature `fips`) takes
//! every primitive from AWS-LC's FIPS 140-3 validated module; [`mode`] says whether that module
//! runs in FIPS mode, and every open or create checks it first.
//!
//! AWS-LC runs its power-on self-tests (the module's integrity check and its known-answer
//! tests) when the library is loaded, and each algorithm's remaining self-tests before its first
//! use; a failure there aborts the process with AWS-LC's message on stderr, so no handle is ever
//! made on a failed module. The check at open refuses, with an error saying so, a FIPS build
//! whose module reports that it is not in FIPS mode.

use crate::error::{Error, ErrorKind, Result};

/// True only in the FIPS build, when AWS-LC's module runs in FIPS mode (its self-tests passed).
/// Always false in the other builds.
pub fn mode() -> bool {
    #[cfg(feature = "fips")]
    {
        aws_lc_rs::try_fips_mode().is_ok()
    }
    #[cfg(not(feature = "fips"))]
    {
        false
    }
}

/// In the FIPS build: fails unless the module runs in FIPS mode. Nothing to check elsewhere.
pub(crate) fn check() -> Result<()> {
    #[cfg(feature = "fips")]
    {
        refuse_unless_fips(aws_lc_rs::try_fips_mode())
    }
    #[cfg(not(feature = "fips"))]
    {
        Ok(())
    }
}

/// The error for a FIPS build whose module is not in FIPS mode (`why`: AWS-LC's reason).
#[cfg_attr(not(feature = "fips"), allow(dead_code))]
fn refuse_unless_fips(status: std::result::Result<(), &'static str>) -> Result<()> {
    status.map_err(|why| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "This is the FIPS build of lkr-crypt, but AWS-LC's cryptographic module is not in FIPS mode ({why}): its self-tests failed or the library was not built from the validated module. Nothing was opened; rebuild with `cargo build --release --no-default-features --features fips` and report it if it persists"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_is_the_build_s() {
        assert_eq!(mode(), cfg!(feature = "fips"));
        assert!(check().is_ok());
    }

    #[test]
    fn a_module_not_in_fips_mode_is_refused_with_a_clear_error() {
        let e = refuse_unless_fips(Err("FIPS mode not enabled")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Internal);
        assert!(e
            .to_string()
            .contains("not in FIPS mode (FIPS mode not enabled)"));
        assert!(e.to_string().contains("--features fips"));
        assert!(refuse_unless_fips(Ok(())).is_ok());
    }
}
