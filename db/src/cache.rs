//! A small in-process map whose entries expire, for the few lookups every request repeats.
//! Entries are only ever a shortcut: whoever caches must also say what invalidates them.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::{Duration, Instant};

pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    entries: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, max_entries: usize) -> Self {
        Self {
            ttl,
            max_entries,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The value, if cached less than the time-to-live ago.
    pub fn get(&self, key: &K) -> Option<V> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(value, _)| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= self.max_entries {
            // Full: drop what has expired, and if that is not enough, everything. Rebuilding
            // costs one lookup per key; a bound on memory is worth more than a perfect policy.
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= self.max_entries {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub fn forget(&self, key: &K) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.remove(key);
    }

    pub fn clear(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.clear();
    }

    /// Forgets every entry `matches` picks.
    pub fn forget_where(&self, mut matches: impl FnMut(&K, &V) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        entries.retain(|key, (value, _)| !matches(key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_are_forgotten_and_stay_bounded() {
        let cache = TtlCache::new(Duration::from_millis(50), 2);
        cache.insert("a", 1);
        assert_eq!(cache.get(&"a"), Some(1));
        cache.forget_where(|key, _| *key == "a");
        assert_eq!(cache.get(&"a"), None);

        cache.insert("b", 2);
        cache.insert("c", 3);
        cache.insert("d", 4);
        assert!(
            cache.get(&"d").is_some(),
            "the newest entry survives a full map"
        );
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&"d"), None, "expired");

        let off = TtlCache::new(Duration::ZERO, 10);
        off.insert("x", 1);
        assert_eq!(off.get(&"x"), None, "a zero time-to-live caches nothing");
    }
}
