//! AWS KMS as the CMK (docs/keys.md, docs/keystore.md): the only place where the AWS SDK and tokio appear.
//!
//! KMS is called only when a keystore is created (`GenerateDataKey`), opened (`Decrypt`, one
//! call per KEK) or rekeyed into KMS (`Encrypt`) — never per record. The SDK's futures run on
//! one small tokio runtime of this library, created at the first KMS call (and again in a
//! `fork()`ed child, whose copy has no threads). The calling thread only waits on a channel, so
//! callers from C threads, JNI threads and from inside another tokio runtime all work.
//!
//! Configuration follows the AWS SDK's standard chain: `AWS_REGION`, credentials (environment,
//! profile, web identity, ECS, instance role), `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_KMS`,
//! `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`. The SDK's default timeouts let a server that accepts
//! and never answers hang a call forever, so this module always sets them:
//! [`ENV_AWS_TIMEOUT_MS`] bounds each KMS call, retries included (default
//! [`DEFAULT_TIMEOUT_MS`]); each attempt gets half of it; connecting at most 1 s. Without
//! `AWS_MAX_ATTEMPTS`/`AWS_RETRY_MODE`, retries are the standard mode with
//! [`DEFAULT_MAX_ATTEMPTS`] attempts and a short backoff.
//!
//! The variables this module reads itself (`LKR_AWS_TIMEOUT_MS`, `AWS_MAX_ATTEMPTS`,
//! `AWS_RETRY_MODE`, `AWS_ENDPOINT_URL_KMS`) come through a [`Lookup`] like every key source's
//! (the `*_with` functions), read on the calling thread; the plain functions use the process
//! environment. The SDK's own chain reads the environment itself.

use super::{AwsKmsKey, Lookup, ENV_AWS_CMK, ENV_AWS_CMK_EC};
use crate::error::{Error, ErrorKind, Result, MISMATCH};
use crate::secret::Key256;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_kms::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_kms::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_kms::error::{BoxError, ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::DataKeySpec;
use aws_sdk_kms::Client;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use zeroize::Zeroize;

/// Variable bounding each KMS call, retries included, in milliseconds.
pub const ENV_AWS_TIMEOUT_MS: &str = "LKR_AWS_TIMEOUT_MS";
/// Default of [`ENV_AWS_TIMEOUT_MS`].
pub const DEFAULT_TIMEOUT_MS: u64 = 4000;
/// Attempts per KMS call unless `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` is set.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Encryption context entry holding the context string (docs/keystore.md).
pub const EC_CONTEXT: &str = "lkr-context";
/// Encryption context entry holding the KEK id in decimal (docs/keystore.md).
pub const EC_KEK_ID: &str = "lkr-kek-id";

const MIN_TIMEOUT_MS: u64 = 100;
const MAX_CONNECT_MS: u64 = 1000;
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// HTTP requests sent to KMS by this process (every attempt counts).
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// The number of HTTP requests this process has sent to KMS so far, retries included (for
/// tests and diagnostics).
pub fn requests_sent() -> u64 {
    REQUESTS.load(Ordering::Relaxed)
}

#[derive(Debug)]
struct CountRequests;

impl Intercept for CountRequests {
    fn name(&self) -> &'static str {
        "lkr-crypt request counter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> std::result::Result<(), BoxError> {
        REQUESTS.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// The runtime

/// The library's runtime and the process it was made in (a `fork()`ed child gets a new one:
/// the parent's worker thread does not exist there). Runtimes are leaked on purpose: one per
/// process, and dropping one in a child could wait for threads that are gone.
static RUNTIME: Mutex<Option<(u32, &'static tokio::runtime::Runtime)>> = Mutex::new(None);

fn runtime() -> Result<&'static tokio::runtime::Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, rt)) = *slot {
        if p == pid {
            return Ok(rt);
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("lkr-crypt-kms")
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Kms,
                format!("Cannot start the runtime for AWS KMS calls: {e}"),
            )
        })?;
    let rt: &'static tokio::runtime::Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    Ok(rt)
}

/// Runs `fut` on the library's runtime and waits for it on the calling thread, which may be
/// any thread (C, JNI, or a worker of another tokio runtime: nothing is nested). `limit`
/// bounds the wait, a backstop behind the SDK's own timeouts.
fn run<T, F>(limit: Duration, fut: F) -> Result<T>
where
    T: Send + 'static,
    F: Future<Output = Result<T>> + Send + 'static,
{
    let rt = runtime()?;
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    rt.spawn(async move {
        let out = match tokio::time::timeout(limit, fut).await {
            Ok(r) => r,
            Err(_) => Err(Error::new(
                ErrorKind::Kms,
                format!(
                    "AWS KMS did not answer within {} ms: check that KMS (or AWS_ENDPOINT_URL) is reachable; {ENV_AWS_TIMEOUT_MS} sets the limit per call",
                    limit.as_millis()
                ),
            )),
        };
        let _ = tx.send(out);
    });
    rx.recv().unwrap_or_else(|_| {
        Err(Error::new(
            ErrorKind::Internal,
            "An AWS KMS call failed unexpectedly (its task stopped): a bug, please report it",
        ))
    })
}

// ---------------------------------------------------------------------------------------------
// Configuration

/// What this module reads from the variables (through a [`Lookup`], on the calling thread),
/// beside what the AWS SDK reads itself.
#[derive(Clone, Debug)]
struct Settings {
    limits: Limits,
    /// `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` is set: the SDK's retry configuration applies.
    retry_env: bool,
    /// `AWS_ENDPOINT_URL_KMS`, for messages.
    endpoint_kms: Option<String>,
}

impl Settings {
    fn read(lookup: Lookup<'_>) -> Result<Settings> {
        let limits = Limits::read(lookup)?;
        let retry_env = ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]
            .iter()
            .any(|n| lookup(n).is_some_and(|v| !v.is_empty()));
        let endpoint_kms = lookup("AWS_ENDPOINT_URL_KMS").filter(|v| !v.is_empty());
        Ok(Settings {
            limits,
            retry_env,
            endpoint_kms,
        })
    }
}

/// The per-call limits.
#[derive(Clone, Copy, Debug)]
struct Limits {
    operation: Duration,
}

impl Limits {
    fn read(lookup: Lookup<'_>) -> Result<Limits> {
        let ms = match lookup(ENV_AWS_TIMEOUT_MS).filter(|v| !v.trim().is_empty()) {
            None => DEFAULT_TIMEOUT_MS,
            Some(v) => match v.trim().parse::<u64>() {
                Ok(ms) if (MIN_TIMEOUT_MS..=3_600_000).contains(&ms) => ms,
                _ => {
                    return Err(Error::master_key(format!(
                        "{ENV_AWS_TIMEOUT_MS} must be a whole number of milliseconds between {MIN_TIMEOUT_MS} and 3600000, but is \"{v}\""
                    )))
                }
            },
        };
        Ok(Limits {
            operation: Duration::from_millis(ms),
        })
    }

    fn timeout_config(self) -> TimeoutConfig {
        let attempt = self.operation / 2;
        TimeoutConfig::builder()
            .connect_timeout(attempt.min(Duration::from_millis(MAX_CONNECT_MS)))
            .read_timeout(attempt)
            .operation_attempt_timeout(attempt)
            .operation_timeout(self.operation)
            .build()
    }

    /// The backstop for a unit of work making `calls` sequential KMS calls (plus loading the
    /// configuration and credentials).
    fn backstop(self, calls: u32) -> Duration {
        self.operation * (calls + 1) + Duration::from_secs(1)
    }
}

/// The SDK's HTTPS client: rustls on aws-lc-rs, or in the FIPS build (cargo feature `fips`)
/// on AWS-LC's FIPS module (rustls's FIPS provider: FIPS-approved cipher suites only).
fn https_client() -> aws_sdk_kms::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    #[cfg(feature = "fips")]
    let mode = CryptoMode::AwsLcFips;
    #[cfg(not(feature = "fips"))]
    let mode = CryptoMode::AwsLc;
    aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(mode))
        .build_https()
}

/// A KMS client for one open, create or rekey, with what error messages need.
struct Kms {
    client: Client,
    region: String,
    endpoint: Option<String>,
    limits: Limits,
}

impl Kms {
    /// `region`: the key's own region ([`AwsKmsKey::region`]); `None` leaves it to the SDK's chain.
    async fn connect(settings: Settings, region: Option<String>) -> Result<Kms> {
        let limits = settings.limits;
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .timeout_config(limits.timeout_config())
            .http_client(https_client());
        if let Some(r) = region {
            loader = loader.region(aws_config::Region::new(r));
        }
        if !settings.retry_env {
            loader = loader.retry_config(
                RetryConfig::standard()
                    .with_max_attempts(DEFAULT_MAX_ATTEMPTS)
                    .with_initial_backoff(INITIAL_BACKOFF),
            );
        }
        let sdk: SdkConfig = loader.load().await;
        let region = match sdk.region() {
            Some(r) => r.to_string(),
            None => {
                return Err(Error::master_key(format!(
                    "AWS_REGION is not set: {ENV_AWS_CMK} needs the AWS region of the KMS key (e.g. AWS_REGION=us-east-1)"
                )))
            }
        };
        // For messages only: the SDK resolves the endpoint itself (the service-specific
        // variable first, then the global one).
        let endpoint = settings
            .endpoint_kms
            .or_else(|| sdk.endpoint_url().map(str::to_string));
        let conf = aws_sdk_kms::config::Builder::from(&sdk)
            .interceptor(CountRequests)
            .build();
        Ok(Kms {
            client: Client::from_conf(conf),
            region,
            endpoint,
            limits,
        })
    }

    /// Where KMS was looked for, for messages.
    fn place(&self) -> String {
        match &self.endpoint {
            Some(e) => format!("region {}, endpoint {e}", self.region),
            None => format!("region {}", self.region),
        }
    }
}

fn encryption_context(context: &str, id: u32) -> [(String, String); 2] {
    [
        (EC_CONTEXT.to_string(), context.to_string()),
        (EC_KEK_ID.to_string(), id.to_string()),
    ]
}

/// Moves a plaintext KEK out of the SDK's blob into a zeroizing key, zeroizing the blob.
fn take_key(blob: Option<Blob>, what: &str, key: &AwsKmsKey) -> Result<Key256> {
    let mut bytes = blob.map(Blob::into_inner).unwrap_or_default();
    let k = Key256::from_slice(&bytes);
    let len = bytes.len();
    bytes.zeroize();
    k.ok_or_else(|| {
        Error::new(
            ErrorKind::Kms,
            format!(
                "AWS KMS answered {what} for key {} with {len} plaintext bytes instead of 32",
                key.key_id
            ),
        )
    })
}

/// What was being done, for error messages.
#[derive(Clone, Copy)]
enum Op {
    Generate(u32),
    Decrypt(u32),
    Encrypt(u32),
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Generate(_) => "GenerateDataKey",
            Op::Decrypt(_) => "Decrypt",
            Op::Encrypt(_) => "Encrypt",
        }
    }

    fn kek(self) -> u32 {
        match self {
            Op::Generate(id) | Op::Decrypt(id) | Op::Encrypt(id) => id,
        }
    }
}

/// An error and its sources, by their `Display` (never `Debug`), each once.
fn causes(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Turns an SDK error into an operator-level message (never credentials: the SDK's errors
/// name providers and codes, not secrets).
fn kms_error<E, R>(kms: &Kms, key: &AwsKmsKey, op: Op, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    let name = op.name();
    let id = &key.key_id;
    let place = kms.place();
    let limit_ms = kms.limits.operation.as_millis();
    let kms_err = |m: String| Error::new(ErrorKind::Kms, m);
    match &err {
        SdkError::TimeoutError(_) => kms_err(format!(
            "AWS KMS did not answer {name} within {limit_ms} ms ({place}): check that KMS is reachable and up; {ENV_AWS_TIMEOUT_MS} sets the limit per call"
        )),
        SdkError::DispatchFailure(d) if d.is_timeout() => kms_err(format!(
            "AWS KMS did not answer {name} in time ({place}, limit {limit_ms} ms per call): check that KMS is reachable and up; {ENV_AWS_TIMEOUT_MS} sets the limit. Cause: {}",
            causes(&err)
        )),
        SdkError::DispatchFailure(d) if d.is_io() => kms_err(format!(
            "AWS KMS is unreachable ({place}): {name} could not be sent. Check the network, AWS_REGION and AWS_ENDPOINT_URL. Cause: {}",
            causes(&err)
        )),
        SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => kms_err(format!(
            "AWS KMS could not be called ({name}, {place}): are AWS credentials configured (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or an instance or task role)? Cause: {}",
            causes(&err)
        )),
        SdkError::ResponseError(_) => kms_err(format!(
            "AWS KMS's answer to {name} could not be read ({place}): is AWS_ENDPOINT_URL a KMS endpoint? Cause: {}",
            causes(&err)
        )),
        SdkError::ServiceError(s) => {
            let e = s.err();
            let code = e.code().unwrap_or("unknown error");
            let said = match e.message() {
                Some(m) if !m.is_empty() => format!("{code}: {m}"),
                _ => code.to_string(),
            };
            let kek = op.kek();
            let ec = &key.context;
            match code {
                "NotFoundException" => kms_err(format!(
                    "The AWS KMS key {ENV_AWS_CMK}={id} was not found ({place}): check the alias or key id, the account and AWS_REGION (KMS said: {said})"
                )),
                "AccessDeniedException" => kms_err(format!(
                    "Access to the AWS KMS key {id} was denied for {name} ({place}): the key policy or IAM policy of these credentials must allow kms:GenerateDataKey and kms:Decrypt on it (KMS said: {said})"
                )),
                "InvalidCiphertextException" if matches!(op, Op::Decrypt(_)) => Error::master_key(format!(
                    "{MISMATCH}: AWS KMS refused to unwrap KEK {kek} with key {id} and encryption context \"{ec}\" (InvalidCiphertextException): {ENV_AWS_CMK_EC} (or {ENV_AWS_CMK}) differs from the one the keystore was created with, or the keystore was changed"
                )),
                "IncorrectKeyException" => Error::master_key(format!(
                    "{MISMATCH}: KEK {kek} was not wrapped by the AWS KMS key {ENV_AWS_CMK}={id} (IncorrectKeyException): set {ENV_AWS_CMK} to the key the keystore was created with"
                )),
                "DisabledException" | "KMSInvalidStateException" | "KeyUnavailableException" => kms_err(format!(
                    "The AWS KMS key {id} cannot be used now ({place}): it is disabled, pending deletion or unavailable (KMS said: {said})"
                )),
                "UnrecognizedClientException" | "InvalidSignatureException" | "ExpiredTokenException"
                | "InvalidClientTokenId" | "IncompleteSignature" | "MissingAuthenticationToken" => kms_err(format!(
                    "AWS rejected the credentials used for KMS ({code}, {place}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_PROFILE or the instance role, and AWS_REGION"
                )),
                _ => kms_err(format!(
                    "AWS KMS failed {name} with key {id} ({place}): {said}"
                )),
            }
        }
        _ => kms_err(format!(
            "AWS KMS failed {name} with key {id} ({place}): {}",
            causes(&err)
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// The operations

/// Creates a KEK with KMS `GenerateDataKey(AES_256)` under `key`, bound to the docs/keystore.md
/// encryption context for KEK `id`. Returns the KEK and its wrapped form (the
/// `CiphertextBlob`). One KMS call. The variables come from the process environment.
pub fn generate_kek(key: &AwsKmsKey, id: u32) -> Result<(Key256, Vec<u8>)> {
    generate_kek_with(&super::process_env, key, id)
}

/// [`generate_kek`] with the variables (`LKR_AWS_TIMEOUT_MS`, ...) read through `lookup`.
pub fn generate_kek_with(
    lookup: Lookup<'_>,
    key: &AwsKmsKey,
    id: u32,
) -> Result<(Key256, Vec<u8>)> {
    let settings = Settings::read(lookup)?;
    let limits = settings.limits;
    let key = key.clone();
    run(limits.backstop(1), async move {
        let kms = Kms::connect(settings, key.region.clone()).await?;
        let mut req = kms
            .client
            .generate_data_key()
            .key_id(&key.key_id)
            .key_spec(DataKeySpec::Aes256);
        for (k, v) in encryption_context(&key.context, id) {
            req = req.encryption_context(k, v);
        }
        let mut out = req
            .send()
            .await
            .map_err(|e| kms_error(&kms, &key, Op::Generate(id), e))?;
        let kek = take_key(out.plaintext.take(), "GenerateDataKey", &key)?;
        let wrapped = out
            .ciphertext_blob
            .take()
            .map(Blob::into_inner)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Kms,
                    format!(
                        "AWS KMS answered GenerateDataKey for key {} without a CiphertextBlob",
                        key.key_id
                    ),
                )
            })?;
        Ok((kek, wrapped))
    })
}

/// The most KMS `Decrypt` calls one open makes at once: a keystore with many KEKs must not
/// burst past the account's KMS request quota (throttling would fail the open).
pub const MAX_CONCURRENT_DECRYPTS: usize = 8;

/// Unwraps KEKs with KMS `Decrypt` under `key` (its key id is passed, so KMS refuses a blob of
/// another key) and the docs/keystore.md encryption context of each KEK id. One KMS call per KEK,
/// made concurrently, at most [`MAX_CONCURRENT_DECRYPTS`] at a time. Returns the KEKs in the
/// order given. The variables come from the process environment.
pub fn decrypt_keks(key: &AwsKmsKey, wrapped: Vec<(u32, Vec<u8>)>) -> Result<Vec<Key256>> {
    decrypt_keks_with(&super::process_env, key, wrapped)
}

/// [`decrypt_keks`] with the variables (`LKR_AWS_TIMEOUT_MS`, ...) read through `lookup`.
pub fn decrypt_keks_with(
    lookup: Lookup<'_>,
    key: &AwsKmsKey,
    wrapped: Vec<(u32, Vec<u8>)>,
) -> Result<Vec<Key256>> {
    let settings = Settings::read(lookup)?;
    let limits = settings.limits;
    let key = key.clone();
    let rounds = wrapped.len().div_ceil(MAX_CONCURRENT_DECRYPTS).max(1);
    run(
        limits.backstop(u32::try_from(rounds).unwrap_or(u32::MAX)),
        async move {
            let kms = std::sync::Arc::new(Kms::connect(settings, key.region.clone()).await?);
            let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_DECRYPTS));
            let tasks: Vec<_> = wrapped
                .into_iter()
                .map(|(id, blob)| {
                    let (kms, key, slots) = (kms.clone(), key.clone(), slots.clone());
                    tokio::spawn(async move {
                        let _slot = slots.acquire_owned().await.map_err(|_| {
                            Error::new(
                                ErrorKind::Internal,
                                "The KMS request limiter was closed: a bug, please report it",
                            )
                        })?;
                        let mut req = kms
                            .client
                            .decrypt()
                            .key_id(&key.key_id)
                            .ciphertext_blob(Blob::new(blob));
                        for (k, v) in encryption_context(&key.context, id) {
                            req = req.encryption_context(k, v);
                        }
                        let mut out = req
                            .send()
                            .await
                            .map_err(|e| kms_error(&kms, &key, Op::Decrypt(id), e))?;
                        take_key(out.plaintext.take(), "Decrypt", &key)
                    })
                })
                .collect();
            let mut keks = Vec::with_capacity(tasks.len());
            for t in tasks {
                keks.push(t.await.map_err(|_| {
                Error::new(
                    ErrorKind::Internal,
                    "An AWS KMS Decrypt call failed unexpectedly (its task stopped): a bug, please report it",
                )
            })??);
            }
            Ok(keks)
        },
    )
}

/// Wraps an existing KEK (e.g. when rekeying a keystore from a local CMK to KMS) with KMS
/// `Encrypt` under `key` and the docs/keystore.md encryption context of KEK `id`; `Decrypt` unwraps it
/// like a `GenerateDataKey` blob. One KMS call. (The SDK's copy of the request body is not
/// zeroized.) The variables come from the process environment.
pub fn encrypt_kek(key: &AwsKmsKey, id: u32, kek: &Key256) -> Result<Vec<u8>> {
    encrypt_kek_with(&super::process_env, key, id, kek)
}

/// [`encrypt_kek`] with the variables (`LKR_AWS_TIMEOUT_MS`, ...) read through `lookup`.
pub fn encrypt_kek_with(
    lookup: Lookup<'_>,
    key: &AwsKmsKey,
    id: u32,
    kek: &Key256,
) -> Result<Vec<u8>> {
    let settings = Settings::read(lookup)?;
    let limits = settings.limits;
    let key = key.clone();
    let plaintext = Blob::new(kek.expose().to_vec());
    run(limits.backstop(1), async move {
        let kms = Kms::connect(settings, key.region.clone()).await?;
        let mut req = kms
            .client
            .encrypt()
            .key_id(&key.key_id)
            .plaintext(plaintext);
        for (k, v) in encryption_context(&key.context, id) {
            req = req.encryption_context(k, v);
        }
        let out = req
            .send()
            .await
            .map_err(|e| kms_error(&kms, &key, Op::Encrypt(id), e))?;
        out.ciphertext_blob
            .map(Blob::into_inner)
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Kms,
                    format!(
                        "AWS KMS answered Encrypt for key {} without a CiphertextBlob",
                        key.key_id
                    ),
                )
            })
    })
}
