//! Which AES-256-GCM implementation this process uses: the backends compiled in, the CPU's
//! features, and the `LKR_AEAD_BACKEND` override. Chosen once per process.

/// An AES-256-GCM implementation compiled into this build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// aws-lc-rs (cargo feature `aws-lc`, default): the fastest where the CPU has AVX-512
    /// (VAES over 512-bit registers), or no VAES at all. In the FIPS build (feature `fips`) the
    /// only backend, on AWS-LC's FIPS module.
    AwsLc,
    /// ring (cargo feature `ring`, default): its VAES + VPCLMULQDQ + AVX2 code is about 1.8×
    /// aws-lc's on CPUs with VAES but without AVX-512 (e.g. AMD Zen 3), where aws-lc has only
    /// its 128-bit AES-NI code.
    Ring,
    /// RustCrypto `aes-gcm` (cargo feature `rustcrypto`), for targets where aws-lc cannot build.
    RustCrypto,
}

impl Backend {
    /// The backend's name, for diagnostics and benchmarks.
    pub fn name(self) -> &'static str {
        match self {
            Backend::AwsLc => "aws-lc-rs",
            Backend::Ring => "ring",
            Backend::RustCrypto => "rustcrypto",
        }
    }

    /// Every backend compiled into this build.
    pub fn available() -> Vec<Backend> {
        let mut v = Vec::new();
        if cfg!(any(feature = "aws-lc", feature = "fips")) {
            v.push(Backend::AwsLc);
        }
        if cfg!(feature = "ring") {
            v.push(Backend::Ring);
        }
        if cfg!(feature = "rustcrypto") {
            v.push(Backend::RustCrypto);
        }
        v
    }

    fn from_name(name: &str) -> Option<Backend> {
        Backend::available()
            .into_iter()
            .find(|b| b.name() == name.trim() || (name.trim() == "aws-lc" && *b == Backend::AwsLc))
    }
}

/// True when this CPU has VAES + VPCLMULQDQ + AVX2 but not the AVX-512 that aws-lc's wide AES-GCM
/// code needs (there, ring's AVX2 code is the faster one).
fn vaes_without_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("vaes")
            && std::arch::is_x86_feature_detected!("vpclmulqdq")
            && std::arch::is_x86_feature_detected!("avx2")
            && !(std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512vl")
                && std::arch::is_x86_feature_detected!("avx512bw"))
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The backend this process uses, chosen once: `LKR_AEAD_BACKEND` (`aws-lc-rs`, `ring` or
/// `rustcrypto`, when compiled in) if set, else the fastest for this CPU — ring where the CPU
/// has VAES without AVX-512, else aws-lc-rs (else whichever is compiled). All of them pass the
/// same test vectors and produce the same bytes.
pub fn backend() -> Backend {
    static CHOSEN: std::sync::OnceLock<Backend> = std::sync::OnceLock::new();
    *CHOSEN.get_or_init(|| {
        if let Some(b) = std::env::var("LKR_AEAD_BACKEND")
            .ok()
            .and_then(|n| Backend::from_name(&n))
        {
            return b;
        }
        let available = Backend::available();
        if available.contains(&Backend::Ring) && vaes_without_avx512() {
            Backend::Ring
        } else {
            available[0]
        }
    })
}
