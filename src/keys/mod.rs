//! Keys that live outside the function and change without a redeploy: secret
//! versions in Secrets Manager and the issuer's JWKS. This module reads them
//! (`secrets`, `web`) and decides *when* to read again ([`Cached`] of a
//! [`KeySource`]); `auth`'s sources say what a key is for.
//! The rules are in docs/CONTRACT.md, "Keys and secrets rotate".

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::error::{Cause, chain};

mod secrets;
pub(crate) mod web;

pub(crate) use secrets::read_secret_versions;
pub(crate) use web::{JwksUrl, WebClient};

/// Every Secrets Manager action this module calls, as IAM names them: the
/// template grants exactly these, on the token secrets only (checked by
/// `tests/api/template.rs`). `kms:Decrypt` joins them only with a customer key.
#[cfg(test)]
pub(crate) const IAM_ACTIONS: &[&str] = &["secretsmanager:GetSecretValue"];

/// Known secret versions are re-read on the first request after this.
pub(crate) const SECRET_TTL: Duration = Duration::from_secs(5 * 60);
/// A key miss (unknown `kid`, or a signature no known version verifies)
/// triggers at most one fetch per this interval.
pub(crate) const MISS_REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Keys never obtained (source down since start-up): one retry per this.
pub(crate) const UNOBTAINED_RETRY_INTERVAL: Duration = Duration::from_secs(5);
/// After a failed scheduled refresh, the next one waits this long, so an
/// outage costs one slow request per interval, not every request.
pub(crate) const FAILED_REFRESH_RETRY: Duration = Duration::from_secs(30);
/// The last good keys serve at most this long while refreshes fail.
pub(crate) const MAX_STALE: Duration = Duration::from_secs(24 * 60 * 60);

/// JWKS fetch limits.
pub(crate) const JWKS_TIMEOUT: Duration = Duration::from_secs(2);
pub(crate) const JWKS_MAX_BYTES: usize = 64 * 1024;
/// `Cache-Control: max-age` of a JWKS is clamped to this range.
pub(crate) const JWKS_MIN_TTL: Duration = Duration::from_secs(60);
pub(crate) const JWKS_MAX_TTL: Duration = Duration::from_secs(60 * 60);
pub(crate) const JWKS_DEFAULT_TTL: Duration = Duration::from_secs(10 * 60);

/// The one clock of key caches and remembered tokens: monotonic time for
/// intervals, wall-clock seconds for expiries, both of which tests can move
/// forward; production reads the system clocks with no offset.
#[derive(Debug, Clone, Default)]
pub(crate) struct Clock {
    offset_ms: Option<Arc<AtomicU64>>,
}

impl Clock {
    pub(crate) fn system() -> Self {
        Self::default()
    }

    /// A clock that [`Clock::advance`] moves (tests).
    #[cfg(test)]
    pub(crate) fn manual() -> Self {
        Self {
            offset_ms: Some(Arc::new(AtomicU64::new(0))),
        }
    }

    fn offset(&self) -> Duration {
        let ms = self
            .offset_ms
            .as_ref()
            .map_or(0, |o| o.load(Ordering::Relaxed));
        Duration::from_millis(ms)
    }

    pub(crate) fn now(&self) -> Instant {
        Instant::now() + self.offset()
    }

    /// Seconds since the Unix epoch, as a token's `exp` counts them, moved by
    /// the same offset.
    pub(crate) fn unix_secs(&self) -> i64 {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        (wall + self.offset()).as_secs() as i64
    }

    #[cfg(test)]
    pub(crate) fn advance(&self, by: Duration) {
        if let Some(o) = &self.offset_ms {
            o.fetch_add(by.as_millis() as u64, Ordering::Relaxed);
        }
    }
}

/// A fetched value and how long it stays fresh.
pub(crate) struct Fetched<T> {
    pub value: T,
    pub ttl: Duration,
}

/// Why a source could not be read: what failed, in the source's words, and
/// the failure below it (an SDK or transport error) when there is one.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    /// The setting is wrong (no such secret, access denied): at start-up
    /// this stops the function.
    #[error("{what}{}", below(.cause))]
    Config {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
    /// The source could not be reached or answered nonsense: try later.
    #[error("{what}{}", below(.cause))]
    Unavailable {
        what: String,
        #[source]
        cause: Option<Cause>,
    },
}

fn below(cause: &Option<Cause>) -> String {
    cause
        .as_deref()
        .map_or_else(String::new, |c| format!(": {}", chain(c)))
}

impl FetchError {
    pub(crate) fn config(what: impl Into<String>, cause: Option<Cause>) -> Self {
        FetchError::Config {
            what: what.into(),
            cause,
        }
    }

    pub(crate) fn unavailable(what: impl Into<String>, cause: Option<Cause>) -> Self {
        FetchError::Unavailable {
            what: what.into(),
            cause,
        }
    }

    /// The same kind of failure, as `what` (the source naming itself) says
    /// it, caused by this one.
    pub(crate) fn within(self, what: impl Into<String>) -> Self {
        match self {
            FetchError::Config { .. } => Self::config(what, Some(Box::new(self))),
            FetchError::Unavailable { .. } => Self::unavailable(what, Some(Box::new(self))),
        }
    }
}

struct State<T> {
    value: Option<Arc<T>>,
    obtained_at: Instant,
    refresh_at: Instant,
    last_miss_fetch: Option<Instant>,
    last_retry: Option<Instant>,
}

/// Where keys come from: a source knows how to fetch itself; [`Cached`]
/// decides when.
pub(crate) trait KeySource {
    type Keys;
    /// The setting it comes from, for log lines and start-up errors.
    fn name(&self) -> &'static str;
    fn fetch(&self) -> impl Future<Output = Result<Fetched<Self::Keys>, FetchError>>;
}

/// The last good keys of a remote source, the source itself, and the
/// schedule of its fetches. The lock is never held across a fetch: a fetch
/// is claimed (its time recorded) first, so concurrent misses cause one.
pub(crate) struct Cached<S: KeySource> {
    source: S,
    clock: Clock,
    state: Mutex<State<S::Keys>>,
    /// Successful fetches so far.
    fetches: AtomicU64,
}

impl<S: KeySource> Cached<S> {
    /// Its first fetch, made now (start-up): empty when the source is down,
    /// holding the keys otherwise. A configuration error stops start-up.
    pub(crate) async fn start(source: S, clock: Clock) -> Result<Self, String> {
        let first = match source.fetch().await {
            Ok(f) => Some(f),
            Err(e @ FetchError::Config { .. }) => return Err(e.to_string()),
            Err(e @ FetchError::Unavailable { .. }) => {
                tracing::warn!(source = source.name(), error = %e, "keys not fetched at start-up; requests needing them answer 503 until they are");
                None
            }
        };
        Ok(Self::new(source, clock, first))
    }

    /// Empty, or holding what a first fetch returned.
    fn new(source: S, clock: Clock, first: Option<Fetched<S::Keys>>) -> Self {
        let now = clock.now();
        let (value, refresh_at) = match first {
            Some(f) => (Some(Arc::new(f.value)), now + f.ttl),
            None => (None, now),
        };
        Self {
            source,
            clock,
            fetches: AtomicU64::new(0),
            state: Mutex::new(State {
                value,
                obtained_at: now,
                refresh_at,
                last_miss_fetch: None,
                last_retry: Some(now),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<S::Keys>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Which keys these are: changes with every successful fetch. `None`
    /// while a scheduled refresh is due or no usable keys are held: whatever
    /// was verified with them must be verified again (which refreshes).
    pub(crate) fn generation(&self) -> Option<u64> {
        let now = self.clock.now();
        let s = self.lock();
        let fresh = s.value.is_some()
            && now < s.refresh_at
            && now.saturating_duration_since(s.obtained_at) <= MAX_STALE;
        fresh.then(|| self.fetches.load(Ordering::Relaxed))
    }

    fn usable(&self, now: Instant) -> Option<Arc<S::Keys>> {
        let s = self.lock();
        s.value
            .clone()
            .filter(|_| now.saturating_duration_since(s.obtained_at) <= MAX_STALE)
    }

    /// The value for a request. Refreshes first when it is due; when no
    /// usable value exists (never obtained, or older than [`MAX_STALE`]),
    /// retries at most once per [`UNOBTAINED_RETRY_INTERVAL`]. `None`: the
    /// keys are not available (the caller answers 503, not 401).
    pub(crate) async fn get(&self) -> Option<Arc<S::Keys>> {
        let now = self.clock.now();
        let due = {
            let mut s = self.lock();
            let due = s.value.is_some() && now >= s.refresh_at;
            if due {
                s.refresh_at = now + FAILED_REFRESH_RETRY;
            }
            due
        };
        if due {
            self.fetch_into().await;
            return self.usable(self.clock.now());
        }
        if let Some(v) = self.usable(now) {
            return Some(v);
        }
        let retry = {
            let mut s = self.lock();
            let allowed = s
                .last_retry
                .is_none_or(|t| now.saturating_duration_since(t) >= UNOBTAINED_RETRY_INTERVAL);
            if allowed {
                s.last_retry = Some(now);
            }
            allowed
        };
        if retry {
            self.fetch_into().await;
        }
        self.usable(self.clock.now())
    }

    /// After a key miss: fetches again unless one such fetch happened in the
    /// last [`MISS_REFETCH_INTERVAL`]. The new value when one was fetched.
    pub(crate) async fn refetch_after_miss(&self) -> Option<Arc<S::Keys>> {
        let now = self.clock.now();
        {
            let mut s = self.lock();
            if s.last_miss_fetch
                .is_some_and(|t| now.saturating_duration_since(t) < MISS_REFETCH_INTERVAL)
            {
                return None;
            }
            s.last_miss_fetch = Some(now);
        }
        if self.fetch_into().await {
            self.usable(self.clock.now())
        } else {
            None
        }
    }

    async fn fetch_into(&self) -> bool {
        // Boxed: a fetch (an SDK or HTTPS call) is a large future that the
        // request path would otherwise carry, and copy, while it never runs.
        match Box::pin(self.source.fetch()).await {
            Ok(f) => {
                let now = self.clock.now();
                let mut s = self.lock();
                s.value = Some(Arc::new(f.value));
                s.obtained_at = now;
                s.refresh_at = now + f.ttl;
                self.fetches.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(e) => {
                // The error names the source and the failure, never a value.
                tracing::warn!(source = self.source.name(), error = %e, "key refresh failed; keeping the last good keys");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn block<T>(f: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .block_on(f)
    }

    /// A source that counts its fetches and answers `value` or fails.
    struct Source {
        calls: AtomicUsize,
        value: Mutex<Result<u32, &'static str>>,
    }

    impl Source {
        fn new(value: Result<u32, &'static str>) -> Self {
            Self {
                calls: AtomicUsize::new(0),
                value: Mutex::new(value),
            }
        }
        fn set(&self, v: Result<u32, &'static str>) {
            *self.value.lock().unwrap_or_else(|e| e.into_inner()) = v;
        }
        fn calls(&self) -> usize {
            self.calls.load(Ordering::SeqCst)
        }
    }

    impl KeySource for Arc<Source> {
        type Keys = u32;
        fn name(&self) -> &'static str {
            "T"
        }
        async fn fetch(&self) -> Result<Fetched<u32>, FetchError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let v = *self.value.lock().unwrap_or_else(|e| e.into_inner());
            v.map(|value| Fetched {
                value,
                ttl: SECRET_TTL,
            })
            .map_err(|what| FetchError::unavailable(what, None))
        }
    }

    /// A manual clock, a source answering `answer`, and its cache holding
    /// `held` from start-up (`None`: never obtained).
    fn setup(
        held: Option<u32>,
        answer: Result<u32, &'static str>,
    ) -> (Clock, Arc<Source>, Cached<Arc<Source>>) {
        let clock = Clock::manual();
        let src = Arc::new(Source::new(answer));
        let first = held.map(|value| Fetched {
            value,
            ttl: SECRET_TTL,
        });
        let c = Cached::new(src.clone(), clock.clone(), first);
        (clock, src, c)
    }

    fn down() -> Result<u32, &'static str> {
        Err("down")
    }

    #[test]
    fn a_fetch_error_keeps_its_causes_and_kind() {
        use std::error::Error as _;
        let io = std::io::Error::other("connection reset");
        let e = FetchError::unavailable("unreachable", Some(io.into())).within("JWKS endpoint u");
        assert!(matches!(e, FetchError::Unavailable { .. }));
        assert_eq!(
            e.to_string(),
            "JWKS endpoint u: unreachable: connection reset"
        );
        let inner = e.source().expect("the client's error");
        assert_eq!(inner.to_string(), "unreachable: connection reset");
        assert_eq!(
            inner.source().map(|c| c.to_string()).as_deref(),
            Some("connection reset")
        );
        let denied = FetchError::config("Secrets Manager: AccessDeniedException", None);
        assert!(matches!(denied.within("x"), FetchError::Config { .. }));
    }

    #[test]
    fn a_fresh_value_is_served_without_fetching() {
        let (clock, src, c) = setup(Some(1), Ok(2));
        assert_eq!(block(c.get()).as_deref(), Some(&1));
        clock.advance(SECRET_TTL - Duration::from_secs(1));
        assert_eq!(block(c.get()).as_deref(), Some(&1));
        assert_eq!(src.calls(), 0);
        clock.advance(Duration::from_secs(1));
        assert_eq!(block(c.get()).as_deref(), Some(&2));
        assert_eq!(src.calls(), 1);
    }

    #[test]
    fn a_failed_refresh_keeps_the_last_value_for_at_most_a_day() {
        let (clock, src, c) = setup(Some(1), down());
        clock.advance(SECRET_TTL);
        assert_eq!(block(c.get()).as_deref(), Some(&1));
        assert_eq!(src.calls(), 1);
        // The next scheduled attempt waits, so an outage slows one request
        // per interval, not all of them.
        assert_eq!(block(c.get()).as_deref(), Some(&1));
        assert_eq!(src.calls(), 1);
        clock.advance(FAILED_REFRESH_RETRY);
        assert_eq!(block(c.get()).as_deref(), Some(&1));
        assert_eq!(src.calls(), 2);
        clock.advance(MAX_STALE);
        assert_eq!(block(c.get()), None);
    }

    #[test]
    fn never_obtained_keys_are_retried_at_most_every_five_seconds() {
        let (clock, src, c) = setup(None, down());
        // The start-up attempt counts as the first try.
        assert_eq!(block(c.get()), None);
        assert_eq!(src.calls(), 0);
        clock.advance(UNOBTAINED_RETRY_INTERVAL);
        assert_eq!(block(c.get()), None);
        assert_eq!(block(c.get()), None);
        assert_eq!(src.calls(), 1);
        src.set(Ok(7));
        clock.advance(UNOBTAINED_RETRY_INTERVAL);
        assert_eq!(block(c.get()).as_deref(), Some(&7));
        assert_eq!(src.calls(), 2);
    }

    #[test]
    fn misses_refetch_at_once_then_at_most_every_thirty_seconds() {
        let (clock, src, c) = setup(Some(1), Ok(2));
        assert_eq!(block(c.refetch_after_miss()).as_deref(), Some(&2));
        for _ in 0..10 {
            assert_eq!(block(c.refetch_after_miss()), None);
        }
        assert_eq!(src.calls(), 1);
        clock.advance(MISS_REFETCH_INTERVAL);
        assert_eq!(block(c.refetch_after_miss()).as_deref(), Some(&2));
        assert_eq!(src.calls(), 2);
    }
}
