//! Figures computed from many rows, kept in memory at one value of a version counter that triggers move in the
//! same transaction as every change to those rows: current exactly while the counter stays (never time-based).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// Computed values per key, all at one counter value.
pub struct Kept<K, V> {
    inner: Mutex<(i64, HashMap<K, Arc<V>>)>,
}

impl<K, V> Default for Kept<K, V> {
    fn default() -> Self {
        Kept { inner: Mutex::new((i64::MIN, HashMap::new())) }
    }
}

/// How many keys one counter value keeps: the handful of views users switch between.
const KEPT: usize = 16;

impl<K: Hash + Eq, V> Kept<K, V> {
    /// The value for `key` at counter value `version`, computed when not kept. The caller reads `version` before
    /// the data `compute` reads: data changed meanwhile is then kept under the older number and computed again
    /// next time, never the other way round.
    pub async fn get<F, Fut, E>(&self, version: i64, key: K, compute: F) -> Result<Arc<V>, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        {
            let kept = self.inner.lock().expect("kept figures lock");
            if kept.0 == version {
                if let Some(v) = kept.1.get(&key) {
                    return Ok(v.clone());
                }
            }
        }
        let value = Arc::new(compute().await?);
        let mut kept = self.inner.lock().expect("kept figures lock");
        if kept.0 != version {
            *kept = (version, HashMap::new());
        }
        if kept.1.len() >= KEPT {
            kept.1.clear();
        }
        kept.1.insert(key, value.clone());
        Ok(value)
    }
}
