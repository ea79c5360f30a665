//! A value read by every request and replaced whole at a reload (SIGHUP): the callback's
//! customs tables and Cainiao key, the console's token. A clone is a handle on the same
//! value, so `sync` keeps one while the server reads through another.
//!
//! A reader takes the value as it is when it starts and keeps it to the end (an upload
//! under way finishes with the tables it began with). A lock poisoned by a panicking
//! thread still holds a whole value (it is only ever replaced whole), so it is read on.

use std::sync::{Arc, RwLock};

pub struct Swap<T>(Arc<RwLock<Arc<T>>>);

impl<T> Clone for Swap<T> {
    fn clone(&self) -> Self {
        Swap(self.0.clone())
    }
}

impl<T> Swap<T> {
    pub fn new(value: T) -> Swap<T> {
        Swap(Arc::new(RwLock::new(Arc::new(value))))
    }

    /// The value now.
    pub fn load(&self) -> Arc<T> {
        match self.0.read() {
            Ok(v) => v.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// `value` for every reader from now on.
    pub fn store(&self, value: T) {
        let value = Arc::new(value);
        match self.0.write() {
            Ok(mut v) => *v = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Swap<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clone_sees_what_is_stored_and_a_reader_keeps_what_it_took() {
        let a = Swap::new(1);
        let b = a.clone();
        let taken = a.load();
        b.store(2);
        assert_eq!((*taken, *a.load()), (1, 2));
    }
}
