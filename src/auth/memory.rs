//! Token pairs this instance verified, so a user deciding several
//! interventions in a row pays for the signature checks once.
//!
//! An entry is a verified pair, the caller it proved, the earlier `exp` of
//! the two, and the version of each key source that verified it. It is used
//! only before that `exp` and while every one of those sources still holds
//! the same version and is not due for a refresh: a source that is not asked
//! cannot be forgotten, because the versions come from the verification
//! itself ([`KeyVersion`]), and [`Source`] is matched exhaustively. Only
//! successes are kept; a failure is checked every time. Presented tokens are
//! compared in constant time.

use std::collections::VecDeque;
use std::sync::Mutex;

use crate::domain::Caller;

/// How many verified token pairs a warm instance remembers.
pub(crate) const VERIFIED_TOKENS: usize = 16;

/// A key source that can verify a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// `ACCESS_TOKEN_JWKS`: fixed for the process.
    Pinned,
    /// `ACCESS_TOKEN_JWKS_URL`.
    Issuer,
    /// `ACCESS_TOKEN_SECRET` / `_ID`.
    AccessSecret,
    /// `SESSION_TOKEN_SECRET` / `_ID`.
    Session,
}

/// The source that verified a token and the version it held then (`None`:
/// due for a refresh, so nothing verified with it is remembered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyVersion {
    pub source: Source,
    pub version: Option<u64>,
}

impl KeyVersion {
    pub(crate) fn new(source: Source, version: Option<u64>) -> Self {
        Self { source, version }
    }
}

struct Entry {
    access: Box<[u8]>,
    session: Box<[u8]>,
    caller: Caller,
    exp: i64,
    versions: [(Source, u64); 2],
}

#[derive(Default)]
pub(crate) struct VerifiedTokens {
    entries: Mutex<VecDeque<Entry>>,
}

/// Equal in time that depends only on the lengths, not on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl VerifiedTokens {
    /// The caller a remembered pair proved; `now` is the authenticator's
    /// clock in Unix seconds, `current` tells the version each source holds
    /// now.
    pub(crate) fn lookup(
        &self,
        access: &str,
        session: &str,
        now: i64,
        current: impl Fn(Source) -> Option<u64>,
    ) -> Option<Caller> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|e| {
            e.exp > now
                && e.versions
                    .iter()
                    .all(|(source, version)| current(*source) == Some(*version))
        });
        let mut found = None;
        for e in entries.iter() {
            // Every entry is compared: no early exit tells which one matched.
            let hit = same(&e.access, access.as_bytes()) & same(&e.session, session.as_bytes());
            if hit && found.is_none() {
                found = Some(e.caller.clone());
            }
        }
        found
    }

    /// Remembers a verified pair, unless a source was due for a refresh.
    pub(crate) fn insert(
        &self,
        access: &str,
        session: &str,
        caller: Caller,
        exp: i64,
        versions: [KeyVersion; 2],
    ) {
        let [Some(a), Some(s)] = versions.map(|v| v.version) else {
            return;
        };
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() == VERIFIED_TOKENS {
            entries.pop_front();
        }
        entries.push_back(Entry {
            access: access.as_bytes().into(),
            session: session.as_bytes().into(),
            caller,
            exp,
            versions: [(versions[0].source, a), (versions[1].source, s)],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            user_id: 7,
            session_id: "s".into(),
            organization_ids: vec![1],
            scopes: vec![],
        }
    }

    /// A time on the authenticator's clock, in Unix seconds.
    const NOW: i64 = 1_800_000_000;

    fn at(source: Source, v: u64) -> KeyVersion {
        KeyVersion::new(source, Some(v))
    }

    #[test]
    fn a_pair_is_remembered_only_as_itself_before_exp_and_under_its_keys() {
        let cache = VerifiedTokens::default();
        let versions = [at(Source::Issuer, 3), at(Source::Session, 0)];
        let same_keys = |s: Source| Some(if s == Source::Issuer { 3 } else { 0 });
        let later = NOW + 600;
        cache.insert("a", "s", caller(), later, versions);
        assert_eq!(cache.lookup("a", "s", NOW, same_keys), Some(caller()));
        assert_eq!(
            cache.lookup("a", "s2", NOW, same_keys),
            None,
            "another session token"
        );
        assert_eq!(
            cache.lookup("a2", "s", NOW, same_keys),
            None,
            "another access token"
        );
        assert_eq!(
            cache.lookup("as", "", NOW, same_keys),
            None,
            "the same bytes split elsewhere"
        );
        assert_eq!(
            cache.lookup("a", "s", NOW, |_| None),
            None,
            "keys due for a refresh"
        );
        assert_eq!(
            cache.lookup("a", "s", NOW, same_keys),
            None,
            "dropped for good"
        );
        cache.insert("a", "s", caller(), later, versions);
        assert_eq!(cache.lookup("a", "s", later - 1, same_keys), Some(caller()));
        assert_eq!(cache.lookup("a", "s", later, same_keys), None, "at exp");
        for n in 0..=VERIFIED_TOKENS {
            cache.insert(&format!("a{n}"), "s", caller(), later, versions);
        }
        assert_eq!(
            cache.lookup("a0", "s", NOW, same_keys),
            None,
            "the oldest is evicted"
        );
        assert!(
            cache
                .lookup(&format!("a{VERIFIED_TOKENS}"), "s", NOW, same_keys)
                .is_some()
        );
    }

    #[test]
    fn a_due_source_is_never_remembered() {
        let cache = VerifiedTokens::default();
        let due = KeyVersion::new(Source::AccessSecret, None);
        cache.insert("a", "s", caller(), NOW + 600, [due, at(Source::Session, 1)]);
        assert_eq!(cache.lookup("a", "s", NOW, |_| Some(1)), None);
    }

    #[test]
    fn each_source_that_verified_a_pair_can_invalidate_it() {
        for (access_source, bumped) in [
            (Source::Pinned, Source::Pinned),
            (Source::Issuer, Source::Issuer),
            (Source::AccessSecret, Source::AccessSecret),
            (Source::Issuer, Source::Session),
        ] {
            let cache = VerifiedTokens::default();
            let versions = [at(access_source, 1), at(Source::Session, 1)];
            cache.insert("a", "s", caller(), NOW + 600, versions);
            let moved = |s: Source| Some(if s == bumped { 2 } else { 1 });
            assert_eq!(
                cache.lookup("a", "s", NOW, moved),
                None,
                "{bumped:?} changed"
            );
        }
    }
}
